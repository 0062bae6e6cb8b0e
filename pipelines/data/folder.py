"""Image folders: PNG / JPEG files, class sub-folders as labels.

Every file is checked before the pipeline is built, so an unreadable, truncated or
corrupt image, a decompression bomb, something that is not a regular file (a FIFO would
hang the run), a folder of mixed sizes, or an empty folder is reported at once, by name,
instead of failing (or being skipped) mid-training. The checks read the files but decode
nothing: PNG chunk structure and CRCs (which catch damaged pixel data), the PNG's
compressed pixel data inflated (to nothing kept: it must inflate, end, hold every row the
header asks for, each row with a known filter type: what libpng checks, so a crafted
stream with valid CRCs fails here too), JPEG markers and the end-of-image marker, and the
pixel count (at most `MAX_PIXELS`) from the header. They are remembered per file (path,
size, modification time), so a pipeline built again does not read the folder again.
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
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples stored per pixel
# Adam7 interlace passes: (x0, y0, dx, dy).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))
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


class _PngPixelData:
    """Inflates a PNG's IDAT data as it is fed, keeping nothing: the zlib stream must be
    valid and end, and hold every filtered row the header asks for (a filter byte of 0-4,
    then the row's pixel bytes). More data than that is ignored, as libpng does.

    Args:
        head: the file's first bytes (signature and IHDR chunk).
    """

    _BLOCK = 1 << 20  # inflate at most this many bytes at a time

    def __init__(self, head):
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        if len(head) < 29 or head[28] not in (0, 1):
            raise ValueError("PNG header is corrupt (unknown interlace method)")
        bits = head[24] * _PNG_SAMPLES[head[25]]
        passes = [(width, height)] if head[28] == 0 else [
            (-(-(width - x0) // dx), -(-(height - y0) // dy)) for x0, y0, dx, dy in _ADAM7
        ]
        # (rows, bytes per row incl. the filter byte) of each pass that has pixels.
        self._rows = [(h, 1 + -(-w * bits // 8)) for w, h in passes if w > 0 and h > 0]
        self.expected = sum(h * n for h, n in self._rows)
        self._inflater = zlib.decompressobj()
        self._out = 0  # bytes inflated so far
        self._pass = 0  # the pass, the row in it, and the offset where that row starts
        self._row = 0
        self._next = 0

    def _take(self, out):
        end = self._out + len(out)
        while self._pass < len(self._rows) and self._next < end:
            kind = out[self._next - self._out]
            if kind > 4:
                raise ValueError(f"PNG is corrupt (unknown row filter type {kind} in its "
                                 "image data)")
            rows, length = self._rows[self._pass]
            self._next += length
            self._row += 1
            if self._row == rows:
                self._pass, self._row = self._pass + 1, 0
        self._out = end

    def feed(self, data):
        try:
            while data and not self._inflater.eof and self._out <= self.expected:
                self._take(self._inflater.decompress(data, self._BLOCK))
                data = self._inflater.unconsumed_tail
        except zlib.error as e:
            raise ValueError(f"PNG is corrupt (its image data does not inflate: {e})") from None

    def finish(self):
        if self._out <= self.expected and not self._inflater.eof:
            try:
                self._take(self._inflater.flush())  # what the inflater still holds
            except zlib.error as e:
                raise ValueError(f"PNG is corrupt (its image data does not inflate: {e})") \
                    from None
        if self._out < self.expected:
            raise ValueError(f"PNG is corrupt or truncated (its image data holds {self._out} "
                             f"of the {self.expected} bytes its header asks for)")
        if self._out <= self.expected and not self._inflater.eof:
            raise ValueError("PNG is corrupt or truncated (its compressed image data is cut "
                             "off before its end)")


def _check_png_chunks(f, head):
    """Walks the chunks of an open PNG file, checking each one's CRC (damaged pixel data
    fails here), that there is image data, that it inflates to the rows the header asks
    for (`_PngPixelData`), and that IEND ends the file."""
    f.seek(len(_PNG_SIGNATURE))
    has_data = False
    pixels = _PngPixelData(head)
    while True:
        header = f.read(8)
        if len(header) < 8:
            raise ValueError("PNG is truncated (a chunk header is cut off)")
        length, kind = struct.unpack(">I4s", header)
        crc = zlib.crc32(kind)
        left = length
        inflate_error = None  # raised after the CRC check: damaged data is named as such
        while left:
            block = f.read(min(left, 1 << 20))
            if not block:
                raise ValueError(f"PNG is truncated (in a {kind.decode('latin-1')} chunk)")
            crc = zlib.crc32(block, crc)
            left -= len(block)
            if kind == b"IDAT" and inflate_error is None:
                try:
                    pixels.feed(block)
                except ValueError as e:
                    inflate_error = e
        stored = f.read(4)
        if len(stored) < 4 or int.from_bytes(stored, "big") != crc:
            raise ValueError(f"PNG is corrupt (bad CRC in a {kind.decode('latin-1')} chunk)")
        if inflate_error is not None:
            raise inflate_error
        has_data |= kind == b"IDAT"
        if kind == b"IEND":
            if not has_data:
                raise ValueError("PNG holds no image data (IDAT)")
            pixels.finish()
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


def _check_shape(shape):
    if not shape[0] or not shape[1]:
        raise ValueError(f"its header says {shape[0]}x{shape[1]} pixels (an empty image)")
    if shape[0] * shape[1] > MAX_PIXELS:
        raise ValueError(
            f"its header says {shape[0]}x{shape[1]} pixels (a decompression bomb? at most "
            f"{MAX_PIXELS} pixels are allowed)"
        )


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
                _check_shape(shape)  # before inflating a bomb
                _check_png_chunks(f, head)
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
        _check_shape(shape)
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
        **pipeline_kwargs: passed to `common.finish` (`subset_size`, `subset_seed`: the
            subset is picked among the listed files, before the seeded shuffle).

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
    subset_size = pipeline_kwargs.pop("subset_size", None)
    subset_seed = pipeline_kwargs.pop("subset_seed", 0)
    if subset_size is not None:  # picked in the folder's listed order, not a shuffled one
        keep = common.subset_mask(len(files), subset_size, subset_seed)
        files = [f for f, k in zip(files, keep) if k]
        ids = None if ids is None else np.asarray(ids)[keep]
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
