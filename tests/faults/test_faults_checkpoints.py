"""Fault suite, checkpoints and run files: a lost, truncated, corrupt or half-written
checkpoint (or state file) never restarts a run from step 0, never loses a readable
checkpoint, and is named in one line; damaged run files are reported or set aside."""

import json
import os
import shutil

from faultkit import (checkpoint_steps, data_file, fails, readable, snapshot, succeeds)

TRAIN_MORE = ["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=20"]
GENERATE = ["generate", "run", "--num", "4", "--out", "g.png"]


def test_lost_newest_index_resumes_from_the_previous_checkpoint(project, capsys):
    os.remove("run/checkpoints/ckpt-15.index")
    out = succeeds(capsys, TRAIN_MORE, warning="ckpt-15.index is missing")
    assert "Resuming run at step 10" in out and "Epoch 1/" not in out  # not from step 0
    assert checkpoint_steps("run")[-2:] == [15, 20]
    assert all(readable("run", s) for s in checkpoint_steps("run"))


def test_lost_state_file_resumes_and_is_rebuilt(project, capsys):
    os.remove("run/checkpoints/checkpoint")
    out = succeeds(capsys, TRAIN_MORE, warning="rebuilt")
    assert "Resuming run at step 15" in out
    assert "ckpt-20" in open("run/checkpoints/checkpoint").read()
    assert readable("run", 10) and readable("run", 20)


def test_garbage_state_file_is_ignored(project, capsys):
    with open("run/checkpoints/checkpoint", "w") as f:
        f.write("garbage\n")
    succeeds(capsys, GENERATE)  # no TensorFlow parse warnings either
    assert os.path.exists("g.png")


def test_lost_newest_data_file_generates_from_the_previous(project, capsys):
    os.remove(data_file("run", 15))
    succeeds(capsys, GENERATE, warning="ckpt-15.data-* is missing")


def test_truncated_checkpoint_generate_falls_back(project, capsys):
    os.truncate(data_file("run", 15), 3000)
    succeeds(capsys, GENERATE, warning="ckpt-15.data-00000-of-00001 is truncated")


def test_truncated_checkpoint_export_falls_back(project, capsys):
    os.truncate(data_file("run", 15), 3000)
    succeeds(capsys, ["export", "run", "--export-dir", "served"], warning="is truncated")
    assert os.listdir("served") == ["1"]


def test_truncated_checkpoint_train_resumes_from_the_previous(project, capsys):
    os.truncate(data_file("run", 15), 3000)
    out = succeeds(capsys, TRAIN_MORE, warning="is truncated")
    assert "Resuming run at step 10" in out
    assert readable("run", 15) and readable("run", 20)  # the broken one was rewritten


def test_bit_flipped_checkpoint_is_corrupt_not_mismatched(project, capsys):
    path = data_file("run", 15)
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))
    line = succeeds(capsys, GENERATE, warning="is corrupt")
    assert "does not match" not in line


def test_corrupt_index_falls_back(project, capsys):
    with open("run/checkpoints/ckpt-15.index", "wb") as f:
        f.write(os.urandom(200))
    succeeds(capsys, GENERATE, warning="ckpt-15.index is corrupt")


def test_no_readable_checkpoint_is_one_line_naming_the_files(project, capsys):
    for step in (5, 10, 15):
        os.truncate(data_file("run", step), 100)
    before = snapshot("run")
    line = fails(capsys, GENERATE, "No checkpoint in run/checkpoints can be read")
    assert all(f"ckpt-{s}.data-00000-of-00001 is truncated" in line for s in (5, 10, 15))
    assert snapshot("run") == before and not os.path.exists("g.png")


def test_no_readable_checkpoint_train_refuses_and_keeps_the_files(project, capsys):
    for step in (5, 10, 15):
        os.remove(f"run/checkpoints/ckpt-{step}.index")
    before = snapshot("run")
    fails(capsys, TRAIN_MORE, "ckpt-15.index is missing")
    assert snapshot("run") == before


def test_half_written_checkpoint_of_a_kill_is_skipped(project, capsys):
    # What a kill inside a save can leave: the temporary folder and a partial data file.
    os.makedirs("run/checkpoints/ckpt-20_temp")
    with open("run/checkpoints/ckpt-20_temp/part-00000-of-00001.data-00000-of-00001", "wb"):
        pass
    shutil.copy(data_file("run", 15), data_file("run", 20))
    out = succeeds(capsys, TRAIN_MORE, warning="ckpt-20.index is missing")
    assert "Resuming run at step 15" in out and readable("run", 20)


def test_missing_config_yaml_is_named(project, capsys):
    os.remove("run/config.yaml")
    fails(capsys, GENERATE, "holds checkpoints but its config.yaml is missing")


def test_garbage_config_yaml_is_one_line(project, capsys):
    with open("run/config.yaml", "wb") as f:
        f.write(b"\x00\xff: [\n")
    before = snapshot("run")
    fails(capsys, GENERATE, "run/config.yaml")
    assert snapshot("run") == before


def test_leftover_temporary_files_do_not_disturb_a_resume(project, capsys):
    for name in ("run/.config.yaml.abc.tmp", "run/samples/.latest.png.x.tmp"):
        open(name, "w").write("half")
    out = succeeds(capsys, TRAIN_MORE)
    assert "Resuming run at step 15" in out


def test_corrupt_eval_json_is_set_aside_and_training_goes_on(project28, capsys):
    with open("run/eval.json", "w") as f:
        f.write('[{"step": 5, "sour')
    succeeds(capsys, ["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=15"],
             warning="moved to run/eval.json.bad-")
    aside = [n for n in os.listdir("run") if n.startswith("eval.json.bad-")]
    assert len(aside) == 1 and open(f"run/{aside[0]}").read() == '[{"step": 5, "sour'
    assert [r["step"] for r in json.load(open("run/eval.json"))] == [10, 15]  # 10 owed


def test_truncated_checkpoint_evaluate_falls_back(project28, capsys):
    os.truncate(data_file("run", 10), 3000)
    succeeds(capsys, ["evaluate", "run", "--num-samples", "16"], warning="is truncated")
    records = [r for r in json.load(open("run/eval.json")) if r["source"] == "evaluate"]
    assert [r["step"] for r in records] == [5]  # evaluated from ckpt-5
    assert os.path.getsize(data_file("run", 10)) == 3000  # kept as it was, not deleted
