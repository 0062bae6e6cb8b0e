"""Fault suite, signals and kills: SIGTERM saves and exits (143), Ctrl-C saves (130), and a
kill at any write point (a checkpoint, a sample grid, an evaluation, config.yaml, eval.json,
an export) leaves files a rerun completes, with nothing owed left undone."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import pytest
from faultkit import (Killed, checkpoint_steps, data_file, fails, injected, patched,
                      readable, run_cli, snapshot, succeeds)

from pipelines import run as run_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = ["train", "tiny.yaml", "--model-dir", "run"]
TRAIN_MORE = TRAIN + ["--set", "train.steps=20"]


class _At(keras.callbacks.Callback):
    """Calls `action()` once, at the end of global step `step`."""

    def __init__(self, step, action):
        super().__init__()
        self.step, self.action, self.done = step, action, False

    def on_train_batch_end(self, batch, logs=None):
        if not self.done and int(self.model.step.numpy()) == self.step:
            self.done = True
            self.action()


def _sigterm():
    os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_saves_at_the_next_step_and_exits_143(project, capsys, monkeypatch,
                                                      sigterm_guard):
    with patched(run_lib, "eval_callbacks", lambda *args: [_At(17, _sigterm)]):
        fails(capsys, TRAIN_MORE, "stopped by SIGTERM; saved ckpt-17", status=143)
        assert readable("run", 17)
        assert signal.getsignal(signal.SIGTERM) is sigterm_guard  # the handler is put back
    out = succeeds(capsys, TRAIN_MORE)
    assert "Resuming run at step 17" in out and checkpoint_steps("run")[-1] == 20


def test_sigterm_at_a_checkpoint_step_resumes_with_the_owed_grid(project, capsys, monkeypatch,
                                                                 sigterm_guard):
    # SIGTERM during step 20's work: the run stops before writing step 20's grid.
    with patched(run_lib, "eval_callbacks", lambda *args: [_At(19, _sigterm)]):
        fails(capsys, TRAIN + ["--set", "train.steps=25"], "saved ckpt-19", status=143)
    succeeds(capsys, TRAIN + ["--set", "train.steps=25"])
    assert {f"step_{s:08d}.png" for s in (15, 20, 25)} <= set(os.listdir("run/samples"))


def test_ctrl_c_saves_and_exits_130(project, capsys, monkeypatch):
    def interrupt():
        raise KeyboardInterrupt

    with patched(run_lib, "eval_callbacks", lambda *args: [_At(18, interrupt)]):
        fails(capsys, TRAIN_MORE, "interrupted; run the same command to resume", status=130)
        assert checkpoint_steps("run")[-1] == 18 and readable("run", 18)


def test_sigterm_outside_training_keeps_its_default(project, capsys, sigterm_guard):
    succeeds(capsys, ["generate", "run", "--num", "2", "--out", "g.png"])
    assert signal.getsignal(signal.SIGTERM) is sigterm_guard


def test_sigterm_to_a_real_process_saves(fresh):
    """One real process: the CLI is sent SIGTERM once it has written its first checkpoint."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *TRAIN, "--set", "train.steps=100000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not os.path.exists("run/checkpoints/ckpt-5.index"):
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 143, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "stopped by SIGTERM; saved ckpt-" in lines[0], err
    assert checkpoint_steps("run")[-1] >= 5 and readable("run", checkpoint_steps("run")[-1])


def test_kill_inside_a_checkpoint_save_resumes_from_the_previous(project, capsys, monkeypatch):
    with injected("checkpoint", Killed(), match="ckpt-20"):
        with pytest.raises(Killed):
            run_cli(capsys, TRAIN_MORE)
    out = succeeds(capsys, TRAIN_MORE)
    assert "Resuming run at step 15" in out and readable("run", 20)


def test_kill_during_a_sample_grid_is_made_up_on_resume(project, capsys, monkeypatch):
    with injected("sample_grid", Killed(), match="step_00000020"):
        with pytest.raises(Killed):
            run_cli(capsys, TRAIN + ["--set", "train.steps=25"])
        assert readable("run", 20) and not os.path.exists("run/samples/step_00000020.png")
    succeeds(capsys, TRAIN + ["--set", "train.steps=25"])
    assert os.path.exists("run/samples/step_00000020.png")


def test_kill_during_an_evaluation_is_made_up_on_resume(project28, capsys, monkeypatch):
    train = ["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=20"]
    with injected("evaluation", Killed()):
        with pytest.raises(Killed):
            run_cli(capsys, train)
        assert readable("run", 15)
    succeeds(capsys, train)
    steps = [r["step"] for r in json.load(open("run/eval.json")) if r["source"] == "train"]
    assert steps == [5, 10, 15, 20]


def test_kill_while_writing_eval_json_keeps_the_history(project28, capsys, monkeypatch):
    before = open("run/eval.json").read()
    with injected("write", Killed(), match="eval.json"):
        with pytest.raises(Killed):
            run_cli(capsys, ["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=15"])
        assert open("run/eval.json").read() == before
        assert not [n for n in os.listdir("run") if n.endswith(".tmp")]


def test_kill_while_writing_config_yaml_leaves_no_half_file(fresh, capsys, monkeypatch):
    with injected("write", Killed(), match="config.yaml"):
        with pytest.raises(Killed):
            run_cli(capsys, TRAIN)
        assert not os.path.exists("run/config.yaml")
    succeeds(capsys, TRAIN + ["--set", "train.steps=5"])
    assert checkpoint_steps("run") == [5]


def test_kill_during_an_export_leaves_nothing(project, capsys, monkeypatch):
    with injected("export", Killed()):
        with pytest.raises(Killed):
            run_cli(capsys, ["export", "run", "--export-dir", "served"])
        assert not os.path.exists("served")  # created by the export, removed with its temporary
    succeeds(capsys, ["export", "run", "--export-dir", "served"])
    assert os.listdir("served") == ["1"]


def test_kill_at_the_final_save_resumes_to_the_end(project, capsys, monkeypatch):
    with injected("checkpoint", Killed(), match="ckpt-17"):
        with pytest.raises(Killed):
            run_cli(capsys, TRAIN + ["--set", "train.steps=17"])
        before = snapshot("run/checkpoints")
        assert "ckpt-17.index" not in before
    out = succeeds(capsys, TRAIN + ["--set", "train.steps=17"])
    assert "Resuming run at step 15" in out and readable("run", 17)
    assert os.path.getsize(data_file("run", 15)) > 0
