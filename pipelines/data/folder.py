"""Image folders: PNG / JPEG files, class sub-folders as labels.

Every file is checked before the pipeline is built, so an unreadable, truncated or
corrupt image, a decompression bomb, something that is not a regular file (a FIFO would
hang the run), a folder of mixed sizes, or an empty folder is reported at once, by name,
instead of failing (or being skipped) mid-training. The checks read the files but decode
nothing: PNG chunk structure and CRCs (which catch damaged pixel data), JPEG markers and
the end-of-image marker, and the pixel count (at most `MAX_PIXELS`) from the header. They
are remembered per file (path, size, modification time), so a pipeline built again does
not read the folder again.
"""

import os
import stat
import struct
import zlib

import numpy as np
import tensorflow as tf

from pipelines.data import common
from pipelines.data.common import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # colour type -> channels
# JPEG start-of-frame markers (all but DHT C4, JPG C8, DAC CC).
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_HEAD_BYTES = 1 << 16
_JPEG_EOI = b"\xff\xd9"
#: The most pixels (height x width) an image may have: a larger header is a decompression
#: bomb (a small file that decodes to gigabytes), or at least no GAN training image.
MAX_PIXELS = 1 << 26
_checked = {}  # (path, size, mtime_ns) -> (height, width, channels)


def _png_header(head, tail):
    if len(head) < 26 or head[12:16] != b"IHDR":
        raise ValueError("PNG header is truncated")
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[25] not in _PNG_CHANNELS:
        raise ValueError(f"unknown PNG colour type {head[25]}")
    if not tail.endswith(_PNG_IEND):
        raise ValueError("PNG is truncated (no IEND chunk at the end)")
    return height, width, _PNG_CHANNELS[head[25]]


def _check_png_chunks(f):
    """Walks the chunks of an open PNG file, checking each one's CRC (damaged pixel data
    fails here), that there is image data, and that IEND ends the file."""
    f.seek(len(_PNG_SIGNATURE))
    has_data = False
    while True:
        header = f.read(8)
        if len(header) < 8:
            raise ValueError("PNG is truncated (a chunk header is cut off)")
        length, kind = struct.unpack(">I4s", header)
        crc = zlib.crc32(kind)
        left = length
        while left:
            block = f.read(min(left, 1 << 20))
            if not block:
                raise ValueError(f"PNG is truncated (in a {kind.decode('latin-1')} chunk)")
            crc = zlib.crc32(block, crc)
            left -= len(block)
        stored = f.read(4)
        if len(stored) < 4 or int.from_bytes(stored, "big") != crc:
            raise ValueError(f"PNG is corrupt (bad CRC in a {kind.decode('latin-1')} chunk)")
        has_data |= kind == b"IDAT"
        if kind == b"IEND":
            if not has_data:
                raise ValueError("PNG holds no image data (IDAT)")
            return


def _jpeg_header(head):
    i = 2
    while i + 4 <= len(head):
        if head[i] != 0xFF:
            raise ValueError(f"corrupt JPEG marker at byte {i}")
        marker = head[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD7:  # no payload
            i += 2
            continue
        length = int.from_bytes(head[i + 2 : i + 4], "big")
        if marker in _JPEG_SOF:
            if i + 10 > len(head):
                break
            height = int.from_bytes(head[i + 5 : i + 7], "big")
            width = int.from_bytes(head[i + 7 : i + 9], "big")
            return height, width, head[i + 9]
        if marker == 0xDA:  # start of scan before any frame header
            break
        i += 2 + length
    raise ValueError("no JPEG frame header found (truncated or corrupt)")


def read_image_header(path):
    """Returns (height, width, channels) of a PNG or JPEG file, from its header.

    Raises:
        DataError: the file cannot be read, is not a PNG / JPEG, or is truncated; the
            message names the file.
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
            raise ValueError("not a regular file")
        key = (path, info.st_size, info.st_mtime_ns)
        if key in _checked:
            return _checked[key]
        # O_NONBLOCK: a file swapped for a FIFO since the stat does not hang the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            head = f.read(_HEAD_BYTES)
            f.seek(max(0, info.st_size - 4096))
            tail = f.read()
            if head.startswith(_PNG_SIGNATURE):
                shape = _png_header(head, tail)
                _check_png_chunks(f)
            elif head.startswith(b"\xff\xd8"):
                shape = _jpeg_header(head)
                # The end-of-image marker, after the start of the scan when the file is small
                # enough to be all in `head` (marker segments may hold any bytes).
                whole = len(head) == info.st_size
                if (head.rfind(_JPEG_EOI) <= head.find(b"\xff\xda") if whole
                        else _JPEG_EOI not in tail):
                    raise ValueError("JPEG is truncated (no end-of-image marker)")
            else:
                raise ValueError("not a PNG or JPEG file" if head else "empty file")
        if not shape[0] or not shape[1]:
            raise ValueError(f"its header says {shape[0]}x{shape[1]} pixels (an empty image)")
        if shape[0] * shape[1] > MAX_PIXELS:
            raise ValueError(
                f"its header says {shape[0]}x{shape[1]} pixels (a decompression bomb? at most "
                f"{MAX_PIXELS} pixels are allowed)"
            )
        _checked[key] = shape
        return shape
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise DataError(f"Unreadable image {path}: {reason}. Fix or remove the file.") from None


def _image_files(folder):
    """Image files under `folder`, recursively, in sorted order; hidden entries skipped."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            os.path.join(root, f)
            for f in sorted(files)
            if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS)
        )
    return found


def list_image_folder(path, labels=False):
    """Lists the images of a folder and, with `labels`, their class ids.

    Layout: images anywhere under `path`; with labels, each immediate sub-folder of
    `path` is a class (ids in sorted folder-name order) and every image must be in one.
    Only .png / .jpg / .jpeg files count (any case); hidden files and folders are skipped.

    Returns:
        (files, label_ids int32 [N] or None, class_names list or None).

    Raises:
        DataError: the folder is missing or holds no images; labels requested but there
            are no class sub-folders, or images outside them, or an empty class.
    """
    if not os.path.exists(path):
        raise DataError(f"Image folder {path} does not exist: check data.path.")
    if not os.path.isdir(path):
        raise DataError(f"Image folder {path} is not a folder: point data.path at a folder.")
    files = _image_files(path)
    if not files:
        raise DataError(
            f"Image folder {path} holds no images (.png, .jpg, .jpeg): add images or fix "
            "data.path."
        )
    if not labels:
        return files, None, None
    classes = sorted(
        d for d in os.listdir(path) if not d.startswith(".") and os.path.isdir(os.path.join(path, d))
    )
    if not classes:
        raise DataError(
            f"labels=True, but image folder {path} has no class sub-folders to take labels "
            "from: put each class in its own sub-folder or set labels to false."
        )
    loose = [f for f in files if os.path.normpath(os.path.dirname(f)) == os.path.normpath(path)]
    if loose:
        raise DataError(
            f"labels=True, but {len(loose)} image(s) in {path} are not in a class "
            f"sub-folder (e.g. {loose[0]}): move them into one or set labels to false."
        )
    class_files = [_image_files(os.path.join(path, c)) for c in classes]
    for name, found in zip(classes, class_files):
        if not found:
            raise DataError(f"Class folder {os.path.join(path, name)} holds no images.")
    files = [f for found in class_files for f in found]
    ids = np.concatenate(
        [np.full(len(found), i, np.int32) for i, found in enumerate(class_files)]
    )
    return files, ids, classes


def image_folder(
    path,
    batch_size,
    labels=False,
    seed=0,
    *,
    channels=None,
    image_size=None,
    shuffle=True,
    **pipeline_kwargs,
):
    """A folder of PNG / JPEG images as a training pipeline.

    Args:
        path: the folder (layout: see `list_image_folder`).
        batch_size, labels, seed: as in `build_dataset`.
        channels: 1 or 3; None: 1 when every image is greyscale, else 3. Alpha is dropped.
        image_size: None (all images must have the same size) or int / (h, w) to resize.
        **pipeline_kwargs: passed to `common.finish`.

    Raises:
        DataError: see `list_image_folder`, plus unreadable images (named), mixed sizes
            without `image_size`, fewer images than `batch_size`, bad `channels`.
    """
    common.check_batch_size(batch_size)
    size = common.normalize_image_size(image_size)
    if channels not in (None, 1, 3):
        raise DataError(f"`channels` must be None, 1 or 3. Received: channels={channels!r}")
    files, ids, _ = list_image_folder(path, labels)
    headers = [read_image_header(f) for f in files]
    if size is None:
        first = headers[0][:2]
        for f, h in zip(files, headers):
            if h[:2] != first:
                raise DataError(
                    f"Images in {path} have different sizes: {files[0]} is "
                    f"{first[0]}x{first[1]}, {f} is {h[0]}x{h[1]}: set image_size to resize them."
                )
    if len(files) < batch_size:
        raise DataError(
            f"Image folder {path} holds {len(files)} images, fewer than batch_size={batch_size}."
        )
    if channels is None:
        channels = 1 if all(h[2] in (1, 2) for h in headers) else 3
    if ids is None:
        ids = np.full(len(files), -1, np.int32)
    order = np.random.default_rng(seed).permutation(len(files)) if shuffle else np.arange(len(files))
    shape = (*(size or headers[0][:2]), channels)

    def load(file, label):
        image = tf.io.decode_image(
            tf.io.read_file(file), channels=channels, dtype=tf.uint8, expand_animations=False
        )
        if size is not None:
            image = common.resize(image, size)
        return tf.ensure_shape(image, shape), label

    dataset = tf.data.Dataset.from_tensor_slices((np.asarray(files)[order], ids[order]))
    dataset = dataset.map(load, num_parallel_calls=common.AUTOTUNE)
    return common.finish(
        dataset, batch_size=batch_size, labels=labels, seed=seed, shuffle=shuffle, **pipeline_kwargs
    )
