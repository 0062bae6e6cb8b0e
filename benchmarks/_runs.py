"""What the wall-time benchmarks (`benchmarks/zoo.py`, `benchmarks/recipe.py`) share.

A *job* is one config (+ `--set` overrides) trained in a fresh process (`python -m
benchmarks._runs`, so that jobs share no threads, memory or compiled functions) up to
cumulative wall-time marks (e.g. 150, 300, 600 s), and measured at each mark: N images of
the (EMA) generator against N Fashion-MNIST train images (the real side of the real-data
floor, `benchmarks.quality.real_images`, so the floor reads directly against them and a
data-limited run is measured against the full data), on the shipped classifier's features:
FID, KID, Inception Score, precision and recall. After the last mark it writes a sample
grid PNG.

The clock. Each leg is `train.max_seconds` (`tfgans.Estimator.train(max_seconds=...)`):
the first leg is `tfgans train`'s code path (`pipelines.run.train`), the later ones
continue the same estimator in the same process, so tracing and XLA compilation are
counted once, as in one long run. A job's `seconds` is the wall time of its training calls
(input set-up, model building, compiling, training, checkpoints and sample grids
included; evaluation excluded). Each leg's limit is the mark minus the seconds already
spent, counted from the start of its `fit`; a leg ends after the step in progress, so
`seconds` overshoots a mark by the set-up before the first `fit` (seconds; minutes when
TFDS first prepares Fashion-MNIST) and at most one step. The first step holds tracing and
compiling: on a budget shorter than that a job makes one step. The training-time
evaluation (`eval.every`) and the health monitor (`train.health`) are off: they would bill
the recipe for the monitors.

Resuming. Results go to one JSON file, rewritten atomically after each job: an
interrupted benchmark resumes where it stopped, and a finished job is not run again. A job
that did not finish starts over (its run directory is removed first): its budget is the
wall time of one uninterrupted process. A job that failed is recorded with its one-line
error and skipped on later runs unless `--retry-failed`.
"""

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow: keep its start-up quiet

#: Metrics of a measurement, in table order.
METRICS = ("fid", "kid", "inception_score", "precision", "recall")
#: Set for every job: a step budget no wall-time budget reaches (a multiple of any
#: train.steps_per_execution a config uses), no evaluation while training, no monitor.
BASE_OVERRIDES = ("train.steps=1000000000", "eval.every=0", "train.health=false")
#: The largest sample grid PNG a job may leave (docs/zoo/<row>.png is committed).
MAX_GRID_BYTES = 40_000


@dataclasses.dataclass(frozen=True)
class Job:
    """One training process: `config` + `overrides`, named `key` in the results."""

    key: str
    config: str
    overrides: tuple = ()

    def command(self, model_dir, marks, samples, out, grid=None, eval_seed=1):
        """The child process' argv (`python -m benchmarks._runs ...`)."""
        argv = [sys.executable, "-m", "benchmarks._runs", self.config, "--model-dir", model_dir,
                "--marks", ",".join(f"{m:g}" for m in marks), "--samples", str(samples),
                "--out", out, "--eval-seed", str(eval_seed)]
        if grid:
            argv += ["--grid", grid]
        for override in self.overrides:
            argv += ["--set", override]
        return argv


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ------------------------------------------------------------------------- results


class Results:
    """The JSON results file of a benchmark: {"settings": {...}, "records": {key: record}}.

    `settings` (budget, samples, common overrides, ...) must match on resume: records made
    under other settings are not comparable, and mixing them is an error.
    """

    def __init__(self, path, settings):
        self.path = path
        self.settings = dict(settings)
        self.records = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            if not isinstance(data, dict) or not isinstance(data.get("records"), dict):
                raise SystemExit(f"{path} is not a benchmark results file: pass another "
                                 "--results.")
            if data.get("settings") != self.settings:
                raise SystemExit(
                    f"{path} holds results made with other settings ({data.get('settings')}, "
                    f"now {self.settings}): pass the same settings to resume it, or another "
                    "--results.")
            self.records = data["records"]

    def done(self, key, retry_failed=False):
        record = self.records.get(key)
        return record is not None and not (retry_failed and "error" in record)

    def add(self, key, record):
        from tfgans.files import atomic_write

        self.records[key] = record
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        atomic_write(self.path, json.dumps(
            {"settings": self.settings, "records": self.records}, indent=1))


def run_jobs(jobs, results, runner, retry_failed=False):
    """Runs every job of `jobs` that `results` does not hold yet (`runner(job) -> record`),
    adding each record as soon as it is made. Returns the keys run."""
    ran = []
    for i, job in enumerate(jobs):
        if results.done(job.key, retry_failed):
            print(f"[{i + 1}/{len(jobs)}] {job.key}: done already", flush=True)
            continue
        print(f"[{i + 1}/{len(jobs)}] {job.key}: {job.config} {' '.join(job.overrides)}",
              flush=True)
        record = runner(job)
        results.add(job.key, record)
        ran.append(job.key)
        last = (record.get("points") or [{}])[-1]
        print(f"    -> {record.get('error') or summary(last)}", flush=True)
    return ran


def summary(point):
    return ", ".join([f"step {point.get('steps')}", f"{point.get('seconds', 0):.0f} s"] + [
        f"{k} {point[k]:.4g}" for k in METRICS if k in point])


def process_runner(runs_dir, marks, samples, grid_dir=None, eval_seed=1, timeout=None):
    """A `runner` for `run_jobs`: each job in a fresh `python -m benchmarks._runs` process
    (its run directory `runs_dir/<key>` started afresh, its output in `<key>.log`)."""

    def runner(job):
        model_dir = os.path.join(runs_dir, job.key)
        if os.path.exists(model_dir):  # a job that did not finish starts over
            shutil.rmtree(model_dir)
        os.makedirs(os.path.dirname(model_dir), exist_ok=True)
        out = os.path.join(runs_dir, f"{job.key}.json")
        log = os.path.join(runs_dir, f"{job.key}.log")
        grid = os.path.join(grid_dir, f"{job.key}.png") if grid_dir else None
        if os.path.exists(out):
            os.remove(out)
        limit = timeout or 3 * max(marks) + 1800
        start = time.time()
        with open(log, "w", encoding="utf-8") as f:
            try:
                status = subprocess.run(
                    job.command(model_dir, marks, samples, out, grid, eval_seed), stdout=f,
                    stderr=subprocess.STDOUT, timeout=limit, check=False).returncode
            except subprocess.TimeoutExpired:
                status = f"timed out after {limit:.0f} s"
        base = {"config": job.config, "overrides": list(job.overrides),
                "wall_seconds": round(time.time() - start, 1), "load_average": load_average()}
        if status != 0 or not os.path.exists(out):
            return {**base, "error": f"exit {status}: {last_line(log)} (see {log})"}
        with open(out, encoding="utf-8") as f:
            return {**base, **json.load(f)}

    return runner


def last_line(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        return "no output"
    return lines[-1][:300] if lines else "no output"


# ----------------------------------------------------------------------- the child


def _measure(estimator, evaluator, samples, eval_seed):
    from benchmarks.quality import evaluate

    start = time.perf_counter()
    images = estimator.predict(num_samples=samples, seed=eval_seed)
    metrics = evaluate(evaluator, images)
    return metrics, round(time.perf_counter() - start, 1)


def write_grid(model_dir, path, max_bytes=MAX_GRID_BYTES):
    """The run's sample grid (`tfgans generate`'s, seed 0), as many images as fit in
    `max_bytes` among 40, 30, 20, 10. Returns (path, images) or (None, 0)."""
    from pipelines import run

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    for count in (40, 30, 20, 10):
        run.generate(model_dir, count, path, seed=0)
        if os.path.getsize(path) <= max_bytes:
            return path, count
    os.remove(path)
    return None, 0


def train_and_measure(config_path, overrides, model_dir, marks, samples, eval_seed=1,
                      grid=None):
    """Trains `config_path` + `overrides` to each cumulative wall-time mark (seconds) and
    measures it there. Returns the job's record: {"points": [{mark, seconds, steps,
    eval_seconds, fid, ...}], "grid", "grid_images", "stopped": "time" | "steps"}."""
    from pipelines import config as config_lib
    from pipelines import run
    from tfgans.metrics import Evaluator

    from benchmarks.quality import real_images

    marks = sorted(marks)
    config = config_lib.load_config(
        config_path, list(BASE_OVERRIDES) + list(overrides) + [f"train.max_seconds={marks[0]}"])
    evaluator = Evaluator("fashion_mnist", kid_subset_size=min(1000, samples), seed=0)
    evaluator.update_real_from(real_images(samples), batch_size=500)
    points, seconds, estimator = [], 0.0, None
    for mark in marks:
        if estimator is not None and not estimator.stopped_by_time:
            break  # it reached train.steps (a row's own override) before the time limit
        budget = mark - seconds
        if estimator is not None and budget <= 0:  # the last leg overshot this mark too
            points.append({**points[-1], "mark": mark})
            continue
        start = time.perf_counter()
        if estimator is None:
            estimator = run.train(config, model_dir, verbose=0)
        else:
            estimator.train(run.input_fn(config), max_steps=config.train.steps,
                            max_seconds=budget)
        seconds += time.perf_counter() - start
        metrics, eval_seconds = _measure(estimator, evaluator, samples, eval_seed)
        points.append({"mark": mark, "seconds": round(seconds, 1), "steps": estimator.step,
                       "eval_seconds": eval_seconds, **metrics})
        print(f"mark {mark:g} s: {summary(points[-1])}", flush=True)
    record = {"points": points, "stopped": "time" if estimator.stopped_by_time else "steps",
              "num_samples": samples}
    if grid:
        record["grid"], record["grid_images"] = write_grid(model_dir, grid)
    return record


def child_main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks._runs",
        description="One benchmark job: train CONFIG to each wall-time mark, measure there.")
    parser.add_argument("config")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--marks", required=True, help="cumulative seconds, e.g. 150,300,600")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--eval-seed", type=int, default=1)
    parser.add_argument("--grid", help="write the sample grid PNG here")
    parser.add_argument("--out", required=True, help="the job's record (JSON)")
    args = parser.parse_args(argv)
    marks = parse_marks(args.marks)
    record = train_and_measure(args.config, args.overrides, args.model_dir, marks,
                               args.samples, args.eval_seed, args.grid)
    from tfgans.files import atomic_write

    atomic_write(args.out, json.dumps(record, indent=1))


def parse_marks(text):
    try:
        marks = [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        marks = []
    if not marks or any(not m > 0 for m in marks):
        raise SystemExit(f"--marks takes positive seconds separated by commas, e.g. "
                         f"150,300,600. Received: {text}")
    return sorted(marks)


# ------------------------------------------------------------------------- tables


def median_point(records, mark):
    """The median over seeds (records) of each metric, steps and seconds at `mark`, with
    the number of seeds; None when no record has that mark."""
    points = [p for r in records if "error" not in r for p in r.get("points", [])
              if p["mark"] == mark]
    if not points:
        return None
    out = {"seeds": len(points)}
    for key in ("seconds", "steps") + METRICS:
        values = [p[key] for p in points if key in p]
        if values:
            out[key] = statistics.median(values)
    return out


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def markdown(header, rows):
    """A markdown table from a header list and rows of cell strings."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    child_main()
