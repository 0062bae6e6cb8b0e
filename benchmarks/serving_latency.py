"""Benchmark of serving latency: the exported SavedModel's signatures versus the Keras generator.

    .venv/bin/python benchmarks/serving_latency.py [--batch-sizes 1 64] [--repeats 200]
        [--width 64] [--latent-dim 128]

Builds a DCGAN generator for 28x28x1 images (the default experiment's model), exports it with
`tfgans.export.export_generator`, loads the export with `tf.saved_model.load` and times, on
CPU, at each batch size:

- `keras generator(noise)`: the Keras model called eagerly, the in-process baseline;
- `tf.function(generator)`: the same model traced into a graph in process;
- `GAN.generate(n, seed)`: the library's sampler (noise, generator, NumPy copy);
- `serving_default`: the loaded signature on the same noise (generator, mapped to [0, 1]);
- `generate`: the loaded signature from a seed (noise, generator, and one PNG per image).

Prints a Markdown table of p50 / p99 milliseconds per call, with each row's ratio to the
Keras call at the same batch size. Calls are timed one by one after `--warmup` untimed
calls; the result is materialised (`.numpy()`) inside the timed region.
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CUDA_VISIBLE_DEVICES"] = ""  # CPU latency, as the issue asks
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfgans  # noqa: E402
import tfgans.models  # noqa: E402
from tfgans import export  # noqa: E402
from tfgans.training import sample_noise  # noqa: E402


def latencies(fn, repeats, warmup):
    """Seconds per call of `fn()` (which must return once its result is computed)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return np.array(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=128)
    args = parser.parse_args(argv)

    latent = args.latent_dim
    generator, discriminator = tfgans.models.get("dcgan")((28, 28, 1), latent, width=args.width)
    gan = tfgans.GAN(generator, discriminator, latent_dim=latent)
    with tempfile.TemporaryDirectory() as tmp:
        path = export.export_generator(gan, os.path.join(tmp, "generator"))
        loaded = tf.saved_model.load(path)
    serve, generate = loaded.signatures["serving_default"], loaded.signatures["generate"]
    seed = tf.constant(0, tf.int64)
    traced = tf.function(lambda noise: generator(noise, training=False))

    rows = []
    for batch in args.batch_sizes:
        noise = sample_noise(batch, latent, 0)
        num = tf.constant(batch, tf.int32)
        candidates = [
            ("keras generator(noise)", lambda: generator(noise, training=False).numpy()),
            ("tf.function(generator)", lambda: traced(noise).numpy()),
            ("GAN.generate(n, seed)", lambda: gan.generate(batch, seed=0)),
            ("SavedModel serving_default", lambda: serve(noise=noise)["images"].numpy()),
            (
                "SavedModel generate (+PNG)",
                lambda: [t.numpy() for t in generate(num_samples=num, seed=seed).values()],
            ),
        ]
        baseline = None
        for name, fn in candidates:
            t = latencies(fn, args.repeats, args.warmup) * 1e3
            p50, p99 = np.percentile(t, 50), np.percentile(t, 99)
            if baseline is None:
                baseline = (p50, p99)
            rows.append((name, batch, p50, p99, p50 / baseline[0], p99 / baseline[1]))

    print(
        f"\nDCGAN 28x28x1, latent_dim={latent}, width={args.width}, CPU, TF {tf.__version__}, "
        f"{args.repeats} calls each after {args.warmup} warm-up calls\n"
    )
    print("| call | batch | p50 ms | p99 ms | p50 / Keras | p99 / Keras |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, batch, p50, p99, r50, r99 in rows:
        print(f"| {name} | {batch} | {p50:.2f} | {p99:.2f} | {r50:.2f}x | {r99:.2f}x |")


if __name__ == "__main__":
    main()
