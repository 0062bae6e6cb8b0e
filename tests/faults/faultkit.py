"""Shared pieces of the fault suite (issue 12): tiny runs trained once and copied per case,
the CLI run in-process, fault injection at the write path, and the checks every case makes
(exit status, one clear stderr line, no traceback, files intact)."""

import contextlib
import hashlib
import os
import struct
import zlib

import numpy as np
import tensorflow as tf

from pipelines import cli
from tfgans import files

#: 8x8 greyscale images, the MLP preset: a checkpoint every 5 steps, trained to 15.
TINY = """\
model: {name: mlp, latent_dim: 4, width: 4}
data: {name: image_folder, path: images, batch_size: 4}
loss: {name: non_saturating}
train: {steps: 15, checkpoint_every: 5, sample_every: 5, log_every: 5, jit_compile: false}
eval: {every: 0}
"""
#: 28x28 images, so the Fashion-MNIST classifier evaluates every 5 steps (16 samples).
TINY28 = """\
model: {name: mlp, latent_dim: 4, width: 4}
data: {name: image_folder, path: images, batch_size: 4}
loss: {name: non_saturating}
train: {steps: 10, checkpoint_every: 5, sample_every: 5, log_every: 5, jit_compile: false}
eval: {every: 5, num_samples: 16, kid_subset_size: 4, extractor: fashion_mnist}
"""

#: A one-line YAML "billion laughs": 9 ** 9 values once its aliases are expanded.
FLOW_BOMB = "[&a [x, x, x, x, x, x, x, x, x]" + "".join(
    f", &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")) + "]"


class Killed(BaseException):
    """Stands for kill -9 at a fault point: nothing catches it, nothing runs after it."""


def png_bytes(pixels):
    return tf.io.encode_png(np.asarray(pixels, np.uint8)).numpy()


def write_pngs(folder, count, size=8, seed=0):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        with open(os.path.join(folder, f"{i:02d}.png"), "wb") as f:
            f.write(png_bytes(rng.integers(0, 256, (size, size, 1))))


def make_project(root, config=TINY, size=8, count=16):
    write_pngs(os.path.join(root, "images"), count, size)
    with open(os.path.join(root, "tiny.yaml"), "w") as f:
        f.write(config)
    return root


def run_cli(capsys, argv):
    """Runs `tfgans argv` in-process: (status, stdout, stderr)."""
    try:
        status = cli.main(argv)
    except SystemExit as e:  # argparse
        status = e.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def fails(capsys, argv, match, status=1):
    """The command exits with `status` and one stderr line, without traceback, that names
    `match`; returns the line."""
    code, out, err = run_cli(capsys, argv)
    lines = err.strip().splitlines()
    assert code == status, (code, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("tfgans "), err
    assert match in lines[0], err
    return lines[0]


def succeeds(capsys, argv, warning=None):
    """The command exits 0; stderr is empty, or exactly one warning line naming `warning`.
    Returns stdout."""
    code, out, err = run_cli(capsys, argv)
    lines = err.strip().splitlines()
    assert code == 0, err
    assert "Traceback" not in err, err
    if warning is None:
        assert not lines, err
    else:
        assert len(lines) == 1 and lines[0].startswith("tfgans: warning: "), err
        assert warning in lines[0], err
    return out


def snapshot(root):
    """{relative path: sha256} of every file under `root`."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def checkpoint_steps(run):
    folder = os.path.join(run, "checkpoints")
    return sorted(int(n[5:-6]) for n in os.listdir(folder) if n.endswith(".index"))


def readable(run, step):
    from tfgans.estimator import missing_files, unreadable

    prefix = os.path.join(run, "checkpoints", f"ckpt-{step}")
    return missing_files(prefix) is None and unreadable(prefix) is None


def data_file(run, step):
    return os.path.join(run, "checkpoints", f"ckpt-{step}.data-00000-of-00001")


@contextlib.contextmanager
def injected(point, error, match=None, after=0):
    """Within the block, `tfgans.files.fault_point(point, path)` raises `error` (when
    `match` is in the path) from its `after`+1-th call on; yields the paths it saw."""
    calls = []
    original = files.fault_point

    def fault(name, path=None):
        if name == point and (match is None or match in str(path)):
            calls.append(path)
            if len(calls) > after:
                raise error
        return original(name, path)

    files.fault_point = fault
    try:
        yield calls
    finally:
        files.fault_point = original


@contextlib.contextmanager
def patched(owner, name, value):
    """Within the block, `owner.name` is `value`."""
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width, height):
    """A valid-looking PNG whose header claims width x height greyscale pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data)
            + png_chunk(b"IEND", b""))
