"""Fixtures of the fault suite: one tiny trained run per session (two: 8x8 without and
28x28 with periodic evaluation), copied into each case's own folder."""

import os
import shutil
import signal

import pytest
from faultkit import TINY, TINY28, make_project

from pipelines import cli


def _train(root, config, size):
    # data.path is absolute (config.yaml stores it resolved), so the copies resume.
    make_project(root, config.replace("path: images", f"path: {root}/images"), size)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert cli.main(["train", "tiny.yaml", "--model-dir", "run"]) == 0
    finally:
        os.chdir(cwd)
    return root


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    return _train(str(tmp_path_factory.mktemp("trained")), TINY, 8)


@pytest.fixture(scope="session")
def trained28(tmp_path_factory):
    return _train(str(tmp_path_factory.mktemp("trained28")), TINY28, 28)


def _copy(source, tmp_path, monkeypatch):
    target = str(tmp_path / "project")
    shutil.copytree(source, target)
    monkeypatch.chdir(target)
    return target


@pytest.fixture
def project(trained, tmp_path, monkeypatch, capsys):
    """A copy of the trained 8x8 project (tiny.yaml, images/, run/ at step 15: ckpt-5, 10,
    15), as the current directory."""
    path = _copy(trained, tmp_path, monkeypatch)
    capsys.readouterr()
    return path


@pytest.fixture
def project28(trained28, tmp_path, monkeypatch, capsys):
    """A copy of the trained 28x28 project (run/ at step 10, eval.json at 5 and 10)."""
    path = _copy(trained28, tmp_path, monkeypatch)
    capsys.readouterr()
    return path


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """An untrained 8x8 project (tiny.yaml, images/) as the current directory."""
    make_project(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return str(tmp_path)


@pytest.fixture
def sigterm_guard():
    """Makes an unhandled SIGTERM fail the test instead of killing the test process."""
    def fail(signum, frame):
        raise AssertionError("SIGTERM reached the test's handler: train did not handle it")

    previous = signal.signal(signal.SIGTERM, fail)
    yield fail
    signal.signal(signal.SIGTERM, previous)
