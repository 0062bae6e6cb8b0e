"""Fault suite, image folders and datasets: a corrupt, truncated, oversized or non-regular
image file is named before training starts (no hang, no failure at the first batch); a
batch or an evaluation larger than the data is refused up front."""

import os
import signal
import struct

import numpy as np
import pytest
import tensorflow as tf
from faultkit import bomb_png, fails, png_bytes, png_chunk, snapshot

from pipelines.data import common
from pipelines.data.common import DataError

TRAIN = ["train", "tiny.yaml", "--model-dir", "run"]


@pytest.fixture
def alarm():
    """Fails a case that hangs (a FIFO read) instead of hanging the suite."""
    def timeout(signum, frame):
        raise TimeoutError("the case hung")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _corrupt_idat():
    data = bytearray(png_bytes(np.random.default_rng(1).integers(0, 256, (8, 8, 1))))
    start = data.index(b"IDAT") + 4
    data[start + 5] ^= 0xFF  # damaged pixel data; the chunk's CRC no longer matches
    return bytes(data)


def _with_idat(change):
    """An 8x8 PNG whose IDAT data is `change(data)`, with a valid CRC: only inflating the
    data finds the damage."""
    png = png_bytes(np.random.default_rng(1).integers(0, 256, (8, 8, 1)))
    start = png.index(b"IDAT") - 4
    length = struct.unpack(">I", png[start : start + 4])[0]
    data = png[start + 8 : start + 8 + length]
    return png[:start] + png_chunk(b"IDAT", change(data)) + png[start + 12 + length :]


def _flip_middle(data):
    data = bytearray(data)
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


def _without_idat():
    png = bomb_png(8, 8)
    start = png.index(b"IDAT") - 4
    end = png.index(b"IEND") - 4
    return png[:start] + png[end:]


def _truncated_jpeg():
    jpeg = tf.io.encode_jpeg(np.full((8, 8, 1), 128, np.uint8)).numpy()
    return jpeg[: len(jpeg) - 40]


BAD_IMAGES = {
    "corrupt_idat": ("bad.png", _corrupt_idat, "bad CRC in a IDAT chunk"),
    "corrupt_zlib_valid_crc": ("bad.png", lambda: _with_idat(_flip_middle),
                               "image data does not inflate"),
    "cut_zlib_valid_crc": ("bad.png", lambda: _with_idat(lambda d: d[: len(d) // 2]),
                           "bytes its header asks for"),
    "truncated_jpeg": ("bad.jpg", _truncated_jpeg, "JPEG is truncated"),
    "decompression_bomb": ("bad.png", lambda: bomb_png(20_000, 20_000), "decompression bomb"),
    "zero_size": ("bad.png", lambda: bomb_png(0, 8), "8x0 pixels (an empty image)"),
    "empty": ("bad.png", lambda: b"", "empty file"),
    "text": ("bad.jpeg", lambda: b"hello", "not a PNG or JPEG"),
    "truncated_png": ("bad.png", lambda: png_bytes(np.zeros((8, 8, 1)))[:-30], "truncated"),
    "no_idat": ("bad.png", lambda: _without_idat(), "no image data"),
}


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
def test_bad_image_is_named_before_training(fresh, capsys, name):
    filename, content, match = BAD_IMAGES[name]
    with open(os.path.join("images", filename), "wb") as f:
        f.write(content())
    line = fails(capsys, TRAIN, match)
    assert f"images/{filename}" in line and not os.path.exists("run/checkpoints")


def test_fifo_named_png_does_not_hang(fresh, capsys, alarm):
    os.mkfifo("images/x.png")
    fails(capsys, TRAIN, "images/x.png: not a regular file")


def test_dangling_symlink_is_named(fresh, capsys):
    os.symlink("nowhere.png", "images/x.png")
    fails(capsys, TRAIN, "images/x.png: No such file or directory")


def test_device_file_named_png_is_named(fresh, capsys, alarm):
    os.symlink("/dev/zero", "images/zero.png")
    fails(capsys, TRAIN, "images/zero.png: not a regular file")


def test_batch_larger_than_the_folder(fresh, capsys):
    fails(capsys, TRAIN + ["--set", "data.batch_size=100000000"], "fewer than batch_size")


def test_batch_larger_than_any_dataset_is_refused_up_front():
    source = tf.data.Dataset.from_tensor_slices(
        (np.zeros([10, 4, 4, 1], np.uint8), np.zeros([10], np.int32)))
    with pytest.raises(DataError, match="holds 10 examples, fewer than batch_size=100000000"):
        common.finish(source, batch_size=100_000_000, labels=False, repeat=True)


def test_evaluate_more_samples_than_images(project28, capsys):
    before = snapshot("run")
    fails(capsys, ["evaluate", "run", "--num-samples", "1000"],
          "more than the 16 images of the run's data")
    assert snapshot("run") == before


def test_periodic_evaluation_larger_than_the_data(project28, capsys):
    fails(capsys, TRAIN + ["--set", "eval.num_samples=40", "--set", "train.steps=15"],
          "eval.num_samples 40 is more than the 16 images")
