"""Fault suite, resource bounds: requests that would take hours or gigabytes (a huge
batch, grid or evaluation, a YAML bomb) are refused up front, in seconds, with one line
saying the limit; running out of memory anyway is one line, not a traceback."""

import os
import time

import pytest
from faultkit import FLOW_BOMB, fails, snapshot

from pipelines import run as run_lib


@pytest.fixture
def quick(capsys):
    """Runs a failing command and checks it took under 10 s."""
    def check(argv, match):
        start = time.perf_counter()
        line = fails(capsys, argv, match)
        assert time.perf_counter() - start < 10
        return line

    return check


def test_generate_ten_million_is_refused(project, quick):
    quick(["generate", "run", "--num", "10000000", "--out", "g.png"],
          "A PNG grid holds at most 10000 images")
    assert not os.path.exists("g.png")


def test_evaluate_a_billion_samples_is_refused(project28, quick):
    before = snapshot("run")
    quick(["evaluate", "run", "--num-samples", "1000000000"], "more than 100000 samples")
    assert snapshot("run") == before


def test_periodic_evaluation_of_a_billion_is_refused(project28, quick):
    quick(["train", "tiny.yaml", "--model-dir", "run", "--set", "eval.num_samples=1000000000",
           "--set", "train.steps=15"], "more than 100000 samples")


def test_huge_batch_is_refused_up_front(fresh, quick):
    quick(["train", "tiny.yaml", "--model-dir", "run", "--set", "data.batch_size=100000000"],
          "batch_size=100000000")
    assert not os.path.exists("run")


def test_out_of_memory_is_one_line(project, capsys, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(run_lib, "generate", exhausted)
    fails(capsys, ["generate", "run", "--num", "4", "--out", "g.png"], "out of memory")


def test_recursion_in_a_config_value_is_one_line(fresh, quick):
    quick(["train", "tiny.yaml", "--set", "model.name=" + "[" * 100_000], "nested")


def test_yaml_bomb_in_an_override_is_bounded(fresh, quick):
    quick(["train", "tiny.yaml", "--set", "data.batch_size=" + FLOW_BOMB], "100000 values")


def test_steps_beyond_int64_are_refused(fresh, quick):
    quick(["train", "tiny.yaml", "--set", f"train.steps={2**63}"], "train.steps")


def test_config_of_a_gigabyte_is_refused_unread(fresh, quick):
    with open("big.yaml", "wb") as f:
        f.truncate(1 << 30)  # sparse: nothing is written to disk
    quick(["train", "big.yaml"], "too long for a config")


def test_config_fifo_does_not_hang(fresh, quick):
    os.mkfifo("pipe.yaml")
    quick(["train", "pipe.yaml"], "not a regular file")
