"""Benchmark of tfgans.metrics: feature extraction throughput and metric wall times.

    .venv/bin/python benchmarks/metrics.py [--samples 10000] [--inception-images 16]

Prints a Markdown table: images/s of the committed Fashion-MNIST classifier and of
InceptionV3 (random weights: the speed is the same as with ImageNet weights) at a small
batch, and the wall time of a 10k-vs-10k FID (from features: the running sums plus the
Fréchet distance), KID, precision/recall and of the whole `Evaluator` on real images.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from tfgans import metrics  # noqa: E402


def _timed(fn, repeats=1):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _fid_from_features(a, b, batch_size=500):
    fid = metrics.StreamingFID()
    for i in range(0, len(a), batch_size):
        fid.update_real(a[i : i + batch_size]).update_fake(b[i : i + batch_size])
    return fid.result()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--inception-images", type=int, default=16)
    parser.add_argument("--inception-batch", type=int, default=8)
    args = parser.parse_args(argv)
    n = args.samples
    rows = []

    from pipelines.data.idx import load_fashion_mnist_arrays

    train, _ = load_fashion_mnist_arrays("train")
    test, _ = load_fashion_mnist_arrays("test")
    real = train[:n].astype(np.float32)[..., None] / 127.5 - 1.0
    fake = test[:n].astype(np.float32)[..., None] / 127.5 - 1.0

    classifier = metrics.FashionMNISTClassifier(batch_size=500)
    classifier.features(real[:500])  # warm-up: tracing
    seconds, real_features = _timed(lambda: classifier.features(real))
    rows.append((f"classifier features, {n} images, batch 500", seconds, n / seconds))
    fake_features = classifier.features(fake)

    inception = metrics.InceptionFeatures(weights=None, batch_size=args.inception_batch)
    images = real[: args.inception_images]
    inception.features(images[: args.inception_batch])  # warm-up
    seconds, _ = _timed(lambda: inception.features(images))
    rows.append(
        (f"InceptionV3 features (299x299), {len(images)} images, batch {args.inception_batch}",
         seconds, len(images) / seconds)
    )

    seconds, _ = _timed(lambda: _fid_from_features(real_features, fake_features), 3)
    rows.append((f"FID {n} vs {n}, 128-d features (streaming sums + distance)", seconds, None))
    rng = np.random.default_rng(0)
    big_a = rng.normal(size=(n, 2048)).astype(np.float32)
    big_b = rng.normal(size=(n, 2048)).astype(np.float32)
    seconds, _ = _timed(lambda: _fid_from_features(big_a, big_b))
    rows.append((f"FID {n} vs {n}, 2048-d features (Inception size)", seconds, None))
    seconds, _ = _timed(lambda: metrics.kernel_inception_distance(real_features, fake_features))
    rows.append(("KID, 128-d, 100 subsets of 1000", seconds, None))
    seconds, _ = _timed(lambda: metrics.precision_recall(real_features, fake_features))
    rows.append((f"precision/recall {n} vs {n}, 128-d, k=3", seconds, None))

    def end_to_end():
        evaluator = metrics.Evaluator(classifier)
        return evaluator.update_real(real).update_fake(fake).result()

    seconds, _ = _timed(end_to_end)
    rows.append((f"Evaluator {n} vs {n} images, classifier (all metrics)", seconds, None))

    print(f"\ntfgans.metrics benchmark ({os.cpu_count()} CPU cores)\n")
    print("| what | wall time (s) | images/s |")
    print("|---|---:|---:|")
    for what, seconds, rate in rows:
        print(f"| {what} | {seconds:.2f} | {'' if rate is None else f'{rate:,.0f}'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
