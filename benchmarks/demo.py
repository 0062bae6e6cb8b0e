"""The demo's quality (issue 18): a trained run (by default `make demo`'s, runs/demo)
measured as the recipe search measures its cells, plus the class balance the issue asks
of the demo.

    python -m benchmarks.demo [RUN] [--samples 10000] [--seed 1]

Generates `--samples` images with the run's (EMA) generator and measures them against as
many Fashion-MNIST train images (`benchmarks.quality.real_images`, the real-data floor's
sample) on the shipped classifier's features: FID, KID, Inception Score, precision,
recall. The same pass of the shipped classifier labels the generated images (the logits
the evaluator keeps: all of them up to its 10,000 rows, a uniform sample beyond): the share
of each class (the demo's floor: every class at least 5%, so no class is dropped). Prints a Markdown
table; exits 1 when a class is under `--min-share`.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def class_shares(logits):
    """The share of each class among the argmaxes of classifier `logits` [N, classes]."""
    return np.bincount(np.argmax(logits, axis=-1), minlength=logits.shape[-1]) / len(logits)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", nargs="?", default="runs/demo")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-share", type=float, default=0.05)
    args = parser.parse_args(argv)

    from benchmarks.quality import evaluate, real_images
    from pipelines import run
    from pipelines.data.fashion_tasks import CLASS_NAMES
    from tfgans.metrics import Evaluator

    try:
        _, estimator = run.load_run(args.run)
    except run.RunError as error:
        raise SystemExit(f"benchmarks.demo: {error}") from None
    images = np.asarray(estimator.predict(num_samples=args.samples, seed=args.seed))
    evaluator = Evaluator("fashion_mnist", kid_subset_size=min(1000, args.samples), seed=0)
    evaluator.update_real_from(real_images(args.samples), batch_size=500)
    metrics = evaluate(evaluator, images)
    shares = class_shares(evaluator.fake.logits)  # the classifier's, kept by the evaluation
    print(f"{args.run} at step {estimator.step}: {args.samples} samples (seed {args.seed}) "
          f"against {args.samples} train images, shipped classifier")
    print()
    print("| FID | KID | IS | precision | recall | smallest class share |")
    print("|---|---|---|---|---|---|")
    print(f"| {metrics['fid']:.1f} | {metrics['kid']:.4g} | {metrics['inception_score']:.2f} "
          f"| {metrics['precision']:.3f} | {metrics['recall']:.3f} | {shares.min():.3f} |")
    print()
    print("| " + " | ".join(CLASS_NAMES) + " |")
    print("|" + "---|" * len(CLASS_NAMES))
    print("| " + " | ".join(f"{s:.3f}" for s in shares) + " |")
    low = [CLASS_NAMES[i] for i in np.flatnonzero(shares < args.min_share)]
    if low:
        print(f"\nUnder {args.min_share:.0%} of the samples: {', '.join(low)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
