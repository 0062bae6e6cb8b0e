"""`train.max_seconds` (a wall-time limit that stops after the step in progress, saves,
says so and resumes exactly), `data.subset_size` (a seeded subset for data-limited runs),
and the bookkeeping of the wall-time benchmarks (`benchmarks/_runs.py`, `zoo.py`,
`recipe.py`: resumable results, medians, tables, every row's config valid) without
training anything there."""

import itertools
import os

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import _runs, default_hour, recipe, zoo
from pipelines import cli, data
from pipelines import config as config_lib
from pipelines.config import ConfigError
from pipelines.data import DataError, build_dataset
from tests.test_cli import fails, project  # noqa: F401  (fixture)
from tests.test_estimator import input_fn, make, state
from tfgans import estimator as estimator_lib

# ------------------------------------------------------------------ train.max_seconds


def test_max_seconds_stops_after_the_step_in_progress_and_resumes_exactly(tmp_path,
                                                                          monkeypatch):
    """A clock that advances 1 s per reading: begin 0, step ends 1, 2, 3 -> a 2.5 s limit
    stops after step 3; the checkpoint and the end-of-training grid are written, and
    resuming to step 6 gives the weights of 6 uninterrupted steps."""
    ticks = itertools.count()
    monkeypatch.setattr(estimator_lib, "_now", lambda: float(next(ticks)))
    whole = make(tmp_path / "whole")
    whole.train(input_fn, max_steps=6, max_seconds=1000)
    assert whole.step == 6 and not whole.stopped_by_time

    split = make(tmp_path / "split")
    split.train(input_fn, max_steps=6, max_seconds=2.5)
    assert (split.step, split.stopped_by_time) == (3, True)
    assert split.latest_checkpoint().endswith("ckpt-3")
    assert os.path.exists(tmp_path / "split" / "samples" / "step_00000003.png")
    resumed = make(tmp_path / "split")
    assert (resumed.step, resumed.input_position) == (3, 3)
    resumed.train(input_fn, max_steps=6, max_seconds=1000)
    assert resumed.step == 6 and not resumed.stopped_by_time
    for a, b in zip(state(whole), state(resumed), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_max_seconds_must_be_a_positive_number(tmp_path):
    estimator = make(tmp_path)
    for bad in [0, -1.0, float("nan"), float("inf"), True, "10"]:
        with pytest.raises(ValueError, match="`max_seconds` must be a positive number"):
            estimator.train(input_fn, max_steps=2, max_seconds=bad)
    assert estimator.step == 0 and not os.path.exists(tmp_path / "checkpoints")


def test_cli_time_limit_and_subset(project, capsys):  # noqa: F811
    """`--set train.max_seconds=...` stops, says so and how to resume; the same command
    resumes; the subset keys are in config.yaml and may not change on resume."""
    argv = ["train", "tiny.yaml", "--model-dir", "run", "--set", "data.subset_size=4",
            "--set", "train.max_seconds=1e-9"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "stopped at step 1 of 4: the time limit, train.max_seconds=1e-09" in out
    assert "Run the same command to resume" in out
    assert os.path.exists("run/checkpoints/ckpt-1.index")
    assert os.path.exists("run/samples/step_00000001.png")
    written = config_lib.load_config("run/config.yaml")
    assert (written.data.subset_size, written.data.subset_seed) == (4, 0)
    assert written.train.max_seconds == 1e-9
    assert cli.main(argv) == 0
    assert "stopped at step 2 of 4" in capsys.readouterr().out
    # The limit may change on resume (train.max_seconds is resumable); the subset not.
    assert cli.main(argv[:-1] + ["train.max_seconds=1000"]) == 0
    assert "is at step 4 of 4." in capsys.readouterr().out
    fails(capsys, ["train", "tiny.yaml", "--model-dir", "run", "--set",
                   "data.subset_size=8", "--set", "train.steps=6"], "data.subset_size: 4 != 8")


# ---------------------------------------------------------------------- data subsets


def test_subset_mask_is_seeded_and_exact():
    mask = data.common.subset_mask(12, 4, seed=3)
    assert mask.dtype == bool and mask.sum() == 4
    np.testing.assert_array_equal(mask, data.common.subset_mask(12, 4, seed=3))
    assert not np.array_equal(mask, data.common.subset_mask(12, 4, seed=4))
    assert data.common.subset_mask(12, 12).all()
    with pytest.raises(DataError, match="subset_size=13 is more than the 12 examples"):
        data.common.subset_mask(12, 13)
    with pytest.raises(DataError, match="`subset_size` must be a positive integer"):
        data.common.subset_mask(12, 0)


def _epoch_labels(dataset):
    return sorted(int(x) for _, labels in dataset for x in labels.numpy())


def test_subset_of_arrays_is_the_masks_examples_whatever_the_training_seed():
    images = np.repeat(np.arange(12, dtype=np.uint8), 16).reshape(12, 4, 4, 1)
    labels = np.arange(12, dtype=np.int32)
    expected = np.flatnonzero(data.common.subset_mask(12, 4, seed=3)).tolist()

    def subset(seed, subset_seed=3):
        return build_dataset("arrays", 2, labels=True, seed=seed, arrays=(images, labels),
                             subset_size=4, subset_seed=subset_seed)

    assert int(subset(0).cardinality()) == 2
    assert _epoch_labels(subset(0)) == expected == _epoch_labels(subset(5))
    other = np.flatnonzero(data.common.subset_mask(12, 4, seed=4)).tolist()
    assert _epoch_labels(subset(0, subset_seed=4)) == other != expected
    # Images travel with their labels: each image's value is its index.
    for batch_images, batch_labels in subset(1):
        pixels = np.round((batch_images.numpy()[:, 0, 0, 0] + 1) * 127.5).astype(int)
        np.testing.assert_array_equal(pixels, batch_labels.numpy())
    with pytest.raises(DataError, match="subset_size=20 is more than the 12 examples"):
        build_dataset("arrays", 2, arrays=images, subset_size=20)
    with pytest.raises(DataError, match="applies to image datasets"):
        build_dataset("edges2fashion", 2, subset_size=4)


def test_subset_of_an_image_folder_ignores_the_training_seed(tmp_path):
    for i in range(8):
        pixels = np.full((4, 4, 1), 20 * i, np.uint8)
        (tmp_path / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    files = data.list_image_folder(str(tmp_path))[0]
    keep = data.common.subset_mask(len(files), 3, seed=2)
    expected = sorted(int(os.path.basename(f)[:-4]) * 20 for f, k in zip(files, keep) if k)

    def values(seed):
        ds = build_dataset("image_folder", 1, path=str(tmp_path), seed=seed, subset_size=3,
                           subset_seed=2)
        return sorted(int(round((float(b.numpy()[0, 0, 0, 0]) + 1) * 127.5)) for b in ds)

    assert values(0) == expected == values(7)


def test_config_checks_of_the_new_keys():
    def load(*overrides):
        return config_lib.config_from_dict({}, list(overrides))

    assert load().data.subset_size is None and load().train.max_seconds is None
    with pytest.raises(ConfigError, match="'train.max_seconds' must be a number > 0.0 or null"):
        load("train.max_seconds=-1")
    with pytest.raises(ConfigError, match="'train.max_seconds' cannot be used with "
                                          "distribute.strategy=multi_worker"):
        load("train.max_seconds=10", "distribute.strategy=multi_worker")
    with pytest.raises(ConfigError, match="'data.subset_seed' is set but data.subset_size"):
        load("data.subset_seed=1")
    with pytest.raises(ConfigError, match="'data.subset_size' .*applies to image datasets"):
        config_lib.config_from_dict({"model": {"name": "pix2pix"}}, ["data.subset_size=10"])
    resolved = config_lib.resolve(load("data.subset_size=10"), (28, 28, 1), None)
    assert resolved.data.subset_seed == 0


# ----------------------------------------------------------- the benchmark harness


def test_results_resume_where_they_stopped_and_never_rerun_a_finished_job(tmp_path):
    path = str(tmp_path / "results.json")
    jobs = [_runs.Job(k, "c.yaml") for k in ("a", "b", "c")]
    calls = []

    def interrupted(job):
        calls.append(job.key)
        if job.key == "b":
            raise KeyboardInterrupt
        return {"points": [{"mark": 1, "seconds": 1.0, "steps": 3, "fid": 9.0}]}

    with pytest.raises(KeyboardInterrupt):
        _runs.run_jobs(jobs, _runs.Results(path, {"s": 1}), interrupted)
    assert list(_runs.Results(path, {"s": 1}).records) == ["a"]

    def failing_c(job):
        calls.append(job.key)
        return {"error": "exit 1: boom"} if job.key == "c" else {"points": []}

    assert _runs.run_jobs(jobs, _runs.Results(path, {"s": 1}), failing_c) == ["b", "c"]
    assert _runs.run_jobs(jobs, _runs.Results(path, {"s": 1}), failing_c) == []
    assert _runs.run_jobs(jobs, _runs.Results(path, {"s": 1}), failing_c,
                          retry_failed=True) == ["c"]
    assert calls == ["a", "b", "b", "c", "c"]
    with pytest.raises(SystemExit, match="other settings"):
        _runs.Results(path, {"s": 2})


def test_median_over_seeds_ignores_failed_runs():
    records = [{"points": [{"mark": 10, "seconds": s, "steps": n, "fid": f, "recall": r}]}
               for s, n, f, r in [(10.5, 30, 50.0, 0.1), (11.0, 20, 70.0, 0.3),
                                  (10.2, 40, 60.0, 0.2)]] + [{"error": "x"}]
    m = _runs.median_point(records, 10)
    assert m == {"seeds": 3, "seconds": 10.5, "steps": 30, "fid": 60.0, "recall": 0.2}
    assert _runs.median_point(records, 20) is None


def test_job_command_runs_the_child_with_the_marks_and_overrides():
    argv = _runs.Job("x", "configs/a.yaml", ("model.width=8",)).command(
        "runs/x", [150.0, 300.0], 500, "runs/x.json", grid="docs/zoo/x.png")
    assert argv[1:4] == ["-m", "benchmarks._runs", "configs/a.yaml"]
    assert argv[argv.index("--marks") + 1] == "150,300"
    assert argv[-2:] == ["--set", "model.width=8"] and "--grid" in argv


def test_every_zoo_row_and_recipe_cell_is_a_valid_config():
    """Each row's config + overrides (+ what every job sets) loads: no unknown key, no
    bad value; missing configs are only those the harness skips with a message."""
    missing = []
    for job in zoo.jobs(list(zoo.ROWS), []) + [recipe.job(c, 0) for c in recipe.CELLS]:
        config = config_lib.load_config(
            job.config, list(_runs.BASE_OVERRIDES) + list(job.overrides)
            + ["train.max_seconds=10"])
        assert config.train.max_seconds == 10
    for name, (path, overrides, groups) in zoo.ROWS.items():
        if not os.path.exists(path):
            missing.append(name)
    assert set(missing) <= {"ssgan"}
    assert set(zoo.select(["1k"])) == {n for n in zoo.ROWS if n.endswith("_1k")}
    assert all("data.subset_size=1000" in zoo.ROWS[n][1] for n in zoo.select(["1k"]))
    assert {"dcgan", "sngan", "sngan_d_none"} <= set(zoo.select(["issue13"]))


def test_default_hour_table_gives_each_mark_in_minutes_and_says_when_it_failed():
    assert config_lib.load_config(default_hour.CONFIG).model.name == "dcgan"
    record = {"num_samples": 500, "points": [
        {"mark": 900, "seconds": 903.1, "steps": 20123, "fid": 30.04, "kid": 90.5,
         "inception_score": 8.0, "precision": 0.7, "recall": 0.55},
        {"mark": 1800, "seconds": 1801.0, "steps": 40456, "fid": 24.96, "kid": 70.0,
         "inception_score": 8.2, "precision": 0.71, "recall": 0.6}]}
    text = default_hour.table(record, [900.0, 1800.0, 3600.0])
    assert "| 15 | 20123 | 30.0 | 90.5 | 8.00 | 0.700 | 0.550 |" in text
    assert "| 30 | 40456 | 25.0 | 70.0 | 8.20 | 0.710 | 0.600 |" in text
    assert "| 60 |" not in text and "500 samples" in text  # a mark not reached has no row
    assert "failed: exit 1: boom" in default_hour.table({"error": "exit 1: boom"}, [900.0])


def test_zoo_table_shows_measured_failed_and_pending_rows(tmp_path):
    results = _runs.Results(str(tmp_path / "r.json"), {
        "seconds": 20.0, "samples": 500, "common": [], "cpu_count": 2})
    results.add("dcgan", {"points": [{"mark": 20, "seconds": 21.4, "steps": 37, "fid": 310.25,
                                      "kid": 0.5, "inception_score": 1.5, "precision": 0.1,
                                      "recall": 0.0}], "num_samples": 500, "grid": "g.png"})
    results.add("sngan", {"error": "exit 1: bad | thing"})
    text = zoo.tables(results, ["dcgan", "sngan", "sagan"], grids_link=".")
    assert "| [dcgan](./dcgan.png) | dcgan | 37 | 21 | 310.2 | 0.5 | 1.50 | 0.100 |" in text
    assert "| sngan | sngan | failed: exit 1: bad / thing |" in text
    assert "| sagan | sagan | pending |" in text
    assert "20 s of training" in text
