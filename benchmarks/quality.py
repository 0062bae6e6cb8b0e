"""Quality at equal wall time: the default config vs a keras-io style reference DCGAN.

Trains, in one process and in interleaved chunks (so both see the same machine load, and
each is charged only its own training time):

- the old default config (benchmarks/recipe_base.yaml, the default experiment before the
  recipe search, with the old `make demo`'s overrides:
  model.width=16, samples every 250 steps, checkpoints every 500) with `tfgans.Estimator`,
  `--chunk` steps at a time, up to `--demo-steps` (the `make demo` budget), then on to
  `--long-steps` (the longer budget);
- `benchmarks/reference_dcgan.py` (non-saturating loss, no penalty, keras-io's model),
  after each default chunk for as long as the default chunk took, so its training time
  tracks the default's.

At both budgets it evaluates both generators (the EMA generator for tfgans) with 10k samples
against 10k Fashion-MNIST train images (the real side of the real-data floor, so the floor
reads directly against them), on the committed classifier's features, and prints a markdown
table next to the real-data floor. Evaluation time is not charged to either.

    python -m benchmarks.quality --out runs/quality --fresh    # 2 x (training times) + evals

The longer budget ends at `--long-steps` or once the default config has trained
`--long-seconds`, whichever comes first (on a loaded machine the demo budget alone can
exceed it: then there is no longer-budget row).
    python -m benchmarks.quality --demo-steps 200 --long-steps 400 --num-samples 2000  # smoke
"""

import argparse
import json
import os
import shutil
import time

import numpy as np

FLOOR = "saved_models/fashion_mnist_classifier/real_data_floor.json"
DEMO_OVERRIDES = [
    "model.width=16", "train.sample_every=250", "train.checkpoint_every=500",
    "train.log_every=50", "train.jit_compile=true",  # as `make demo`
]
COLUMNS = ["fid", "kid", "inception_score", "precision", "recall"]


def load_average():
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return None


class Default:
    """The default config in a tfgans.Estimator, trained chunk by chunk."""

    def __init__(self, model_dir, steps):
        from pipelines import config as config_lib
        from pipelines import run

        self.config = config_lib.load_config(
            "benchmarks/recipe_base.yaml", DEMO_OVERRIDES + [f"train.steps={steps}"]
        )
        run.check_run_dir(model_dir)
        self.input_fn = run.input_fn(self.config)
        spec = self.input_fn().element_spec
        self.config = config_lib.resolve(self.config, spec.shape[1:], None)
        self.estimator = run.make_estimator(
            self.config, model_dir, run.make_strategy(self.config.distribute), verbose=0)
        self.seconds = 0.0

    @property
    def step(self):
        return self.estimator.step

    def train_to(self, step):
        start = time.perf_counter()
        self.estimator.train(self.input_fn, max_steps=step)
        self.seconds += time.perf_counter() - start

    def generate(self, n):
        return self.estimator.predict(num_samples=n, seed=1)


class Reference:
    """The keras-io style DCGAN, trained step by step with Keras' own train function."""

    def __init__(self, batch_size):
        from benchmarks import reference_dcgan
        from pipelines.data import build_dataset

        self.gan = reference_dcgan.build(seed=0)
        self.iterator = iter(build_dataset("fashion_mnist", batch_size, seed=0, repeat=True))
        self.gan.make_train_function()
        self.train_function = self.gan.train_function
        self.step = 0
        self.seconds = 0.0

    def train_for(self, seconds, check_every=20):
        """Trains until its own training time reaches `seconds` (checked every few steps)."""
        while self.seconds < seconds:
            start = time.perf_counter()
            for _ in range(check_every):
                logs = self.train_function(self.iterator)
            float(logs["d_loss"])  # wait for the steps to finish
            self.step += check_every
            self.seconds += time.perf_counter() - start

    def generate(self, n):
        return self.gan.generate(n, seed=1)


def real_images(num_samples, seed=0):
    """The real side of the real-data floor: `num_samples` train images, in [-1, 1]."""
    from pipelines.data.idx import load_fashion_mnist_arrays

    images, _ = load_fashion_mnist_arrays("train")
    index = np.random.default_rng(seed).choice(len(images), num_samples, replace=False)
    return (images[index].astype(np.float32) / 127.5 - 1.0)[..., np.newaxis]


def evaluate(evaluator, images):
    evaluator.reset_fake()
    evaluator.update_fake_from(images, batch_size=500)
    result = evaluator.result()
    return {k: float(v) for k, v in result.items()}


def table(rows):
    lines = [
        "| run | training wall time | steps | FID | KID (mean ± std) | IS | precision | recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        m = row["metrics"]
        time_text = f"{row['seconds']:.0f} s" if row.get("seconds") is not None else "-"
        lines.append(
            f"| {row['name']} | {time_text} | {row.get('steps', '-')} | {m['fid']:.2f} | "
            f"{m['kid']:.2f} ± {m['kid_std']:.2f} | {m['inception_score']:.2f} | "
            f"{m['precision']:.3f} | {m['recall']:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/quality", help="run directories and results")
    parser.add_argument("--demo-steps", type=int, default=4000, help="the make demo budget")
    parser.add_argument("--long-steps", type=int, default=12000,
                        help="the longer budget (<= --demo-steps: none)")
    parser.add_argument("--long-seconds", type=float, default=1200,
                        help="end the longer budget early once the default trained this long")
    parser.add_argument("--chunk", type=int, default=500, help="default-config steps per turn")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--fresh", action="store_true", help="delete --out first")
    args = parser.parse_args(argv)
    if args.fresh and os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out, exist_ok=True)

    from tfgans.metrics import Evaluator

    default = Default(os.path.join(args.out, "default"), args.long_steps)
    if default.step:
        raise SystemExit(f"{args.out}/default already holds a run: pass --fresh.")
    reference = Reference(default.config.data.batch_size)
    kid_subset = min(1000, args.num_samples)
    evaluator = Evaluator("fashion_mnist", kid_subset_size=kid_subset, seed=0)
    evaluator.update_real_from(real_images(args.num_samples), batch_size=500)

    rows, loads, evaluated = [], [], None
    budgets = [("demo budget", args.demo_steps, float("inf"))]
    if args.long_steps > args.demo_steps:
        budgets.append(("longer budget", args.long_steps, args.long_seconds))
    for label, steps, seconds in budgets:
        while default.step < steps and default.seconds < seconds:
            default.train_to(min(default.step + args.chunk, steps))
            reference.train_for(default.seconds)
            loads.append(load_average())
            print(
                f"default step {default.step:6d} {default.seconds:7.1f} s | reference step "
                f"{reference.step:6d} {reference.seconds:7.1f} s | load {loads[-1]}",
                flush=True,
            )
        if default.step == evaluated:
            print(f"{label}: the default config already trained {default.seconds:.0f} s "
                  f"(--long-seconds {args.long_seconds:.0f}): nothing more to evaluate.")
            continue
        evaluated = default.step
        for name, model in [("default config", default), ("keras-io reference", reference)]:
            start = time.perf_counter()
            metrics = evaluate(evaluator, model.generate(args.num_samples))
            rows.append(dict(name=f"{name}, {label}", steps=model.step, seconds=model.seconds,
                             metrics=metrics, eval_seconds=time.perf_counter() - start))
            print(f"{rows[-1]['name']}: {json.dumps(metrics)}", flush=True)

    with open(FLOOR, encoding="utf-8") as f:
        rows.append(dict(name="real data (floor: test vs train)", metrics=json.load(f)["metrics"]))
    results = dict(rows=rows, load_average=loads, cpu_count=os.cpu_count(),
                   num_samples=args.num_samples)
    with open(os.path.join(args.out, "quality.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    print(table(rows))


if __name__ == "__main__":
    main()
