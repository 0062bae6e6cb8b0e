"""The demo's quality (issue 18): a trained run (by default `make demo`'s, runs/demo)
measured as the recipe search measures its cells, plus the class balance the issue asks
of the demo.

    python -m benchmarks.demo [RUN] [--samples 10000] [--seed 1]

Generates `--samples` images with the run's (EMA) generator and measures them against as
many Fashion-MNIST train images (`benchmarks.quality.real_images`, the real-data floor's
sample) on the shipped classifier's features: FID, KID, Inception Score, precision,
recall. Then the shipped classifier labels the generated images: the share of each class
(the demo's floor: every class at least 5%, so no class is dropped). Prints a Markdown
table; exits 1 when a class is under `--min-share`.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

CLASSES = ("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
           "sneaker", "bag", "ankle boot")


def class_shares(images, batch_size=500):
    """The share of `images` the shipped Fashion-MNIST classifier puts in each class."""
    from tfgans.metrics import get_extractor

    extractor = get_extractor("fashion_mnist")
    labels = np.concatenate([
        np.argmax(np.asarray(extractor.logits(images[i:i + batch_size])), axis=-1)
        for i in range(0, len(images), batch_size)])
    return np.bincount(labels, minlength=len(CLASSES)) / len(labels)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", nargs="?", default="runs/demo")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-share", type=float, default=0.05)
    args = parser.parse_args(argv)

    from benchmarks.quality import evaluate, real_images
    from pipelines import run
    from tfgans.metrics import Evaluator

    try:
        config, estimator = run.load_run(args.run)
    except run.RunError as error:
        raise SystemExit(f"benchmarks.demo: {error}") from None
    images = np.asarray(estimator.predict(num_samples=args.samples, seed=args.seed))
    evaluator = Evaluator("fashion_mnist", kid_subset_size=min(1000, args.samples), seed=0)
    evaluator.update_real_from(real_images(args.samples), batch_size=500)
    metrics = evaluate(evaluator, images)
    shares = class_shares(images)
    print(f"{args.run} at step {estimator.step}: {args.samples} samples (seed {args.seed}) "
          f"against {args.samples} train images, shipped classifier")
    print()
    print("| FID | KID | IS | precision | recall | smallest class share |")
    print("|---|---|---|---|---|---|")
    print(f"| {metrics['fid']:.1f} | {metrics['kid']:.4g} | {metrics['inception_score']:.2f} "
          f"| {metrics['precision']:.3f} | {metrics['recall']:.3f} | {shares.min():.3f} |")
    print()
    print("| " + " | ".join(CLASSES) + " |")
    print("|" + "---|" * len(CLASSES))
    print("| " + " | ".join(f"{s:.3f}" for s in shares) + " |")
    low = [CLASSES[i] for i in np.flatnonzero(shares < args.min_share)]
    if low:
        print(f"\nUnder {args.min_share:.0%} of the samples: {', '.join(low)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
