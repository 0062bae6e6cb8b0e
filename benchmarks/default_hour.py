"""The default config's quality against wall time (issue 18): FID, KID, IS, precision and
recall of `configs/dcgan_fashion_mnist.yaml`, as it is, at cumulative training wall-time
marks (default 5, 10, 15, 30 and 60 minutes) on 2 CPU cores.

One job, run as `benchmarks._runs` describes: a fresh process, legs of `train.max_seconds`
(compile time counted once, evaluation excluded; the training-time evaluation and the
health monitor off), 10,000 samples of the EMA generator against 10,000 Fashion-MNIST train
images on the shipped classifier's features at each mark. It prints a markdown table and
keeps its results in a JSON file (a finished job is not run again), and leaves the run's
sample grid as a PNG.

    python -m benchmarks.default_hour                       # ~65 minutes
    python -m benchmarks.default_hour --marks 20,40 --samples 500 --results /tmp/h.json \\
        --runs /tmp/h_runs --table /tmp/h.md --grid-dir /tmp/h_grids   # smoke (not for docs/)
"""

import argparse
import os

from benchmarks import _runs

CONFIG = "configs/dcgan_fashion_mnist.yaml"
KEY = "default"


def table(record, marks):
    if "error" in record:
        return f"The default config failed: {record['error']}\n"
    header = ["minutes", "steps", "FID", "KID", "IS", "precision", "recall"]
    rows = []
    for mark in marks:
        point = _runs.median_point([record], mark)
        if point is None:
            continue
        rows.append([f"{mark / 60:g}", f"{point['steps']:.0f}"] + [
            _runs.fmt(point.get(key), spec) for key, spec in (
                ("fid", ".1f"), ("kid", ".1f"), ("inception_score", ".2f"),
                ("precision", ".3f"), ("recall", ".3f"))])
    intro = (f"`{CONFIG}` at cumulative training wall time on {os.cpu_count()} CPU cores "
             f"(`python -m benchmarks.default_hour`): {record.get('num_samples')} samples "
             "against as many Fashion-MNIST train images, shipped classifier; real data: "
             "FID 0.81.\n\n")
    return intro + _runs.markdown(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marks", default="300,600,900,1800,3600",
                        help="cumulative training seconds to measure at")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--results", default="docs/recipe/default_hour.json")
    parser.add_argument("--runs", default="runs/default_hour", help="the run directory's parent")
    parser.add_argument("--table", default="docs/recipe/default_hour.md")
    parser.add_argument("--grid-dir", default="docs/recipe",
                        help="the run's sample grid goes here as default.png")
    args = parser.parse_args(argv)
    marks = _runs.parse_marks(args.marks)
    results = _runs.Results(args.results, {
        "config": CONFIG, "marks": marks, "samples": args.samples,
        "cpu_count": os.cpu_count()})
    _runs.run_jobs([_runs.Job(KEY, CONFIG)], results,
                   _runs.process_runner(args.runs, marks, args.samples, grid_dir=args.grid_dir))
    text = table(results.records[KEY], marks)
    from tfgans.files import atomic_write

    os.makedirs(os.path.dirname(os.path.abspath(args.table)), exist_ok=True)
    atomic_write(args.table, text)
    print(text)


if __name__ == "__main__":
    main()
