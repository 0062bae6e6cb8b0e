"""tfgans.files.atomic_write: all or nothing."""

import os

import pytest

from tfgans.files import atomic_write


def test_writes_creates_folders_and_replaces(tmp_path):
    path = tmp_path / "a" / "b" / "x.json"
    assert atomic_write(str(path), "héllo") == str(path)
    assert path.read_text(encoding="utf-8") == "héllo"
    atomic_write(str(path), b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert os.listdir(path.parent) == ["x.json"]


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "x.yaml"
    path.write_text("old")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(str(path), "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["x.yaml"]
