"""Fault suite, file systems: a full disk (ENOSPC), a read-only one (EROFS) or a denied
write (EACCES), injected at the write layer (as root, chmod proves nothing), is one line
naming the file, before long work where it can be checked first, and leaves every file
as it was; run files and exports get the umask's modes, so another user can read them."""

import errno
import os
import stat

import pytest
from faultkit import checkpoint_steps, fails, injected, readable, snapshot, succeeds

TRAIN_MORE = ["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=20"]
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
EROFS = OSError(errno.EROFS, os.strerror(errno.EROFS))
EACCES = OSError(errno.EACCES, os.strerror(errno.EACCES))


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    def set_umask(mask):
        os.umask(mask)

    previous = os.umask(0o022)
    yield set_umask
    os.umask(previous)


def test_disk_full_at_a_checkpoint(project, capsys, monkeypatch):
    with injected("checkpoint", ENOSPC, match="ckpt-20"):
        line = fails(capsys, TRAIN_MORE, "Cannot save the checkpoint run/checkpoints/ckpt-20")
        assert "the disk is full" in line
        assert checkpoint_steps("run") == [5, 10, 15]
        assert not [n for n in os.listdir("run/checkpoints") if n.startswith("ckpt-20")]
        assert readable("run", 15)


def test_disk_full_at_a_sample_grid_keeps_the_checkpoint(project, capsys, monkeypatch):
    with injected("write", ENOSPC, match="step_00000020.png"):
        fails(capsys, TRAIN_MORE, "Cannot write run/samples/step_00000020.png (No space left")
        assert readable("run", 20)
    succeeds(capsys, ["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=25"])
    assert os.path.exists("run/samples/step_00000020.png")  # owed, written on resume


def test_disk_full_at_config_yaml_writes_nothing(fresh, capsys, monkeypatch):
    with injected("write", ENOSPC, match="config.yaml"):
        fails(capsys, ["train", "tiny.yaml", "--model-dir", "run"], "Cannot write")
        assert not os.path.exists("run/config.yaml") and not os.path.exists("run/checkpoints")


def test_read_only_model_dir_fails_before_training(project, capsys, monkeypatch):
    before = snapshot("run")
    with injected("write", EROFS, match="run"):
        line = fails(capsys, TRAIN_MORE, "Cannot write into the model_dir run")
        assert "read-only" in line and snapshot("run") == before


def test_read_only_model_dir_still_generates(project, capsys, monkeypatch):
    before = snapshot("run")
    with injected("write", EROFS, match="run/"):
        succeeds(capsys, ["generate", "run", "--num", "4", "--out", "out/g.png"])
        assert snapshot("run") == before and os.path.exists("out/g.png")


def test_read_only_output_folder_for_generate(project, capsys, monkeypatch):
    with injected("write", EROFS, match="out"):
        fails(capsys, ["generate", "run", "--num", "4", "--out", "out/g.png"],
              "Cannot write into the output folder")


def test_read_only_model_dir_evaluate_fails_first(project28, capsys, monkeypatch):
    with injected("write", EROFS, match="run"):
        before = snapshot("run")
        fails(capsys, ["evaluate", "run", "--num-samples", "16"], "read-only")
        assert snapshot("run") == before


def test_permission_denied_config_yaml(fresh, capsys, monkeypatch):
    with injected("write", EACCES, match="config.yaml"):
        fails(capsys, ["train", "tiny.yaml", "--model-dir", "run"], "permission denied")


def test_disk_full_during_an_export_leaves_the_versions(project, capsys, monkeypatch):
    succeeds(capsys, ["export", "run", "--export-dir", "served"])
    before = snapshot("served")
    with injected("export", ENOSPC):
        fails(capsys, ["export", "run", "--export-dir", "served"], "Cannot export into")
        assert snapshot("served") == before and os.listdir("served") == ["1"]


def test_read_only_export_dir(project, capsys, monkeypatch):
    with injected("write", EROFS, match="served"):
        fails(capsys, ["export", "run", "--export-dir", "served"],
              "Cannot write into the export directory")


def test_run_files_honour_the_umask(fresh, capsys, umask):
    succeeds(capsys, ["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=5"])
    assert _mode("run/config.yaml") == 0o644
    assert _mode("run/samples/latest.png") == 0o644
    assert _mode("run/samples/step_00000005.png") == 0o644
    succeeds(capsys, ["export", "run", "--export-dir", "served"])
    assert _mode("served/1") == 0o755 and _mode("served/1/saved_model.pb") == 0o644
    assert _mode("served/1/variables") == 0o755


def test_a_private_umask_is_honoured_too(fresh, capsys, umask):
    umask(0o077)
    succeeds(capsys, ["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=5"])
    assert _mode("run/config.yaml") == 0o600 and _mode("run/samples/latest.png") == 0o600


def test_a_replaced_file_keeps_its_mode(project, capsys):
    os.chmod("run/config.yaml", 0o640)
    succeeds(capsys, TRAIN_MORE)  # train.steps changes: config.yaml is written again
    assert "steps: 20" in open("run/config.yaml").read() and _mode("run/config.yaml") == 0o640


def test_shared_export_dir_takes_the_next_version(project, capsys):
    os.makedirs("served/.tmp-export-crashed")  # another host's interrupted export
    succeeds(capsys, ["export", "run", "--export-dir", "served"])
    succeeds(capsys, ["export", "run", "--export-dir", "served"])
    assert sorted(n for n in os.listdir("served") if not n.startswith(".")) == ["1", "2"]
