"""Image -> image folders: pix2pix's A|B files, A/ + B/ folders, CycleGAN's trainA/trainB.

Batches: `(source, target)` float32 NHWC in [-1, 1] for paired data, `(a, b)` for
unpaired data, batched with `drop_remainder=True`. Every file is listed and its header
read before the pipeline is built (`folder.read_image_header`), so a missing partner, a
size mismatch, an odd A|B width or an unreadable file is one line naming the file, at once.

Splits: pix2pix's datasets keep `train/`, `val/`, `test/` sub-folders; `split` picks
`path/<split>` when it exists, and "train" falls back to `path` itself (a flat folder).
CycleGAN's keep `trainA/`, `trainB/`, `testA/`, `testB/` side by side.
"""

import os

import numpy as np
import tensorflow as tf

from pipelines.data import common, pairs
from pipelines.data.common import DataError
from pipelines.data.folder import list_image_folder, read_image_header

DIRECTIONS = ("AtoB", "BtoA")


def _split_root(path, split):
    """`path/<split>` if it is a folder; `path` itself for "train"; else an error."""
    if not isinstance(split, str) or not split:
        raise DataError(f"`split` must be a folder name such as 'train'. Received: {split!r}")
    candidate = os.path.join(path, split)
    if os.path.isdir(candidate):
        return candidate
    if split == "train":
        return path
    raise DataError(
        f"Split {split!r} needs the folder {candidate}, which does not exist: add it or use "
        "split='train'."
    )


def _check_channels(channels):
    if channels not in (None, 1, 3):
        raise DataError(f"`channels` must be None, 1 or 3. Received: channels={channels!r}")


def _auto_channels(channels, headers):
    if channels is not None:
        return channels
    return 1 if all(h[2] in (1, 2) for h in headers) else 3


def _check_same_size(folder, files, headers):
    first = headers[0][:2]
    for f, h in zip(files, headers):
        if h[:2] != first:
            raise DataError(
                f"Images in {folder} have different sizes: {files[0]} is {first[0]}x{first[1]}, "
                f"{f} is {h[0]}x{h[1]}: set image_size to resize them."
            )


def _decoder(channels):
    def decode(file):
        return tf.io.decode_image(
            tf.io.read_file(file), channels=channels, dtype=tf.uint8, expand_animations=False
        )

    return decode


def _check_enough(folder, count, batch_size):
    if count < batch_size:
        raise DataError(
            f"{folder} holds {count} image pairs, fewer than batch_size={batch_size}: add "
            "images or lower data.batch_size."
        )


def _check_direction(direction):
    if direction not in DIRECTIONS:
        raise DataError(
            f"`direction` must be 'AtoB' or 'BtoA'. Received: direction={direction!r}"
        )


def paired_ab_folder(
    path,
    batch_size,
    *,
    split="train",
    direction="AtoB",
    seed=0,
    image_size=None,
    channels=None,
    **pipeline_kwargs,
):
    """pix2pix's layout: each file holds A (left half) and B (right half) side by side.

    Args:
        path: the folder of A|B images (or its parent, with `train/`, `val/`, `test/`).
        batch_size: pairs per batch.
        split: picks `path/<split>`; "train" falls back to `path` when there is no
            `train/` sub-folder.
        direction: "AtoB": source = left half, target = right half; "BtoA": the reverse.
        seed: shuffle seed: the same seed gives the same batches.
        image_size: None (every file the same size) or int / (h, w): resize each half.
        channels: 1 or 3; None: 1 when every file is greyscale, else 3.
        **pipeline_kwargs: shuffle, shuffle_buffer, cache, repeat, input_context (see
            `common.finish`).

    Returns:
        A `tf.data.Dataset` of `(source, target)`, float32 [batch, H, W/2, C] in [-1, 1]
        each (or [batch, *image_size, C]).

    Raises:
        DataError: a missing or empty folder, an unreadable file, an odd width, files of
            different sizes without `image_size`, fewer files than `batch_size`; the
            message names the file.

    Example:
    >>> ds = paired_ab_folder("datasets/facades", 1, direction="BtoA")   # doctest: +SKIP
    >>> photos_from_labels = next(iter(ds))   # (labels, photos) [1, 256, 256, 3] each
    """
    common.check_batch_size(batch_size)
    _check_direction(direction)
    _check_channels(channels)
    size = common.normalize_image_size(image_size)
    root = _split_root(path, split)
    files, _, _ = list_image_folder(root)
    headers = [read_image_header(f) for f in files]
    for f, (_, width, _) in zip(files, headers):
        if width % 2:
            raise DataError(
                f"{f} is {width} pixels wide, an odd width: an A|B file holds A and B side by "
                "side, so crop it to an even width or remove it."
            )
    if size is None:
        _check_same_size(root, files, headers)
    _check_enough(root, len(files), batch_size)
    channels = _auto_channels(channels, headers)
    shape = (*(size or (headers[0][0], headers[0][1] // 2)), channels)
    decode = _decoder(channels)

    def load(file):
        image = decode(file)
        half = tf.shape(image)[1] // 2
        a, b = image[:, :half], image[:, half:]
        if size is not None:
            a, b = common.resize(a, size), common.resize(b, size)
        a, b = tf.ensure_shape(a, shape), tf.ensure_shape(b, shape)
        return (a, b) if direction == "AtoB" else (b, a)

    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(files)), np.asarray(files)))
    return pairs.finish_paired(
        dataset, num_examples=len(files), batch_size=batch_size, seed=seed, load_fn=load,
        **pipeline_kwargs,
    )


def _by_stem(folder, files):
    """{relative path without extension: file}; two files with one stem are an error."""
    found = {}
    for f in files:
        stem = os.path.splitext(os.path.relpath(f, folder))[0]
        if stem in found:
            raise DataError(
                f"{found[stem]} and {f} have the same name: A/ and B/ files pair by name "
                "(extension aside), so keep one of them."
            )
        found[stem] = f
    return found


def list_paired_folders(path, split="train"):
    """Lists the pairs of an `A/` + `B/` layout, matched by file name (extension aside).

    Returns:
        (a_files, b_files): lists of paths, pair i = (a_files[i], b_files[i]), sorted by name.

    Raises:
        DataError: a missing or empty A/ or B/, or a file without a partner (named).
    """
    root = _split_root(path, split)
    folders = [os.path.join(root, side) for side in ("A", "B")]
    a, b = (_by_stem(d, list_image_folder(d)[0]) for d in folders)
    for mine, theirs, other in ((a, b, folders[1]), (b, a, folders[0])):
        for stem in sorted(mine):
            if stem not in theirs:
                raise DataError(
                    f"{mine[stem]} has no partner in {other} (no {stem}.png, .jpg or .jpeg "
                    "there): add its partner or remove it."
                )
    stems = sorted(a)
    return [a[s] for s in stems], [b[s] for s in stems]


def paired_folders(
    path,
    batch_size,
    *,
    split="train",
    direction="AtoB",
    seed=0,
    image_size=None,
    channels=None,
    **pipeline_kwargs,
):
    """Two folders, `path/A` and `path/B` (or `path/<split>/A`, ...), paired by file name.

    `A/x.png` goes with `B/x.png` (or `B/x.jpg`: the extension may differ); sub-folders
    pair the same way. Without `image_size`, every pair must have the sizes of the first
    one; A and B may differ from each other (low- and high-resolution pairs).

    Args:
        path: the folder holding `A/` and `B/` (or `<split>/A`, `<split>/B`).
        batch_size, split, direction, seed: as in `paired_ab_folder`.
        image_size: None, or int / (h, w): resize both sides to it.
        channels: 1 or 3 for both sides; None: per side, 1 when all its files are
            greyscale, else 3.
        **pipeline_kwargs: shuffle, shuffle_buffer, cache, repeat, input_context.

    Returns:
        A `tf.data.Dataset` of `(source, target)`, float32 [batch, H, W, C] in [-1, 1].

    Raises:
        DataError: a missing partner, a pair whose sizes differ from the first pair's
            (without `image_size`), an unreadable file, fewer pairs than `batch_size`;
            the message names the files.
    """
    common.check_batch_size(batch_size)
    _check_direction(direction)
    _check_channels(channels)
    size = common.normalize_image_size(image_size)
    a_files, b_files = list_paired_folders(path, split)
    a_headers = [read_image_header(f) for f in a_files]
    b_headers = [read_image_header(f) for f in b_files]
    if size is None:
        first = (a_headers[0][:2], b_headers[0][:2])
        for fa, fb, ha, hb in zip(a_files, b_files, a_headers, b_headers):
            if (ha[:2], hb[:2]) != first:
                raise DataError(
                    f"Pair {fa} / {fb} is {ha[0]}x{ha[1]} / {hb[0]}x{hb[1]}, but the first pair "
                    f"{a_files[0]} / {b_files[0]} is {first[0][0]}x{first[0][1]} / "
                    f"{first[1][0]}x{first[1][1]}: fix the file or set image_size to resize."
                )
    _check_enough(os.path.dirname(a_files[0]), len(a_files), batch_size)
    shapes, decoders = [], []
    for headers in (a_headers, b_headers):
        c = _auto_channels(channels, headers)
        shapes.append((*(size or headers[0][:2]), c))
        decoders.append(_decoder(c))

    def load(files):
        images = []
        for file, decode, shape in zip(files, decoders, shapes):
            image = decode(file)
            if size is not None:
                image = common.resize(image, size)
            images.append(tf.ensure_shape(image, shape))
        return tuple(images) if direction == "AtoB" else tuple(images[::-1])

    names = np.stack([np.asarray(a_files), np.asarray(b_files)], axis=1)
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(names)), names))
    return pairs.finish_paired(
        dataset, num_examples=len(names), batch_size=batch_size, seed=seed,
        load_fn=lambda files: load(tf.unstack(files, 2)), **pipeline_kwargs,
    )


def unpaired_folders(
    path,
    batch_size,
    *,
    split="train",
    seed=0,
    image_size=None,
    channels=None,
    **pipeline_kwargs,
):
    """CycleGAN's layout: `path/trainA`, `path/trainB` (`testA`, `testB` for "test").

    The two sides may hold different numbers of images. Each is shuffled with its own
    seed stream and repeated on its own; one epoch is `ceil(max(|A|, |B|) / batch_size)`
    batches, so every image of both sides is used (`pairs.finish_unpaired`).

    Args:
        path: the folder holding `<split>A/` and `<split>B/`.
        batch_size: images per side per batch.
        split: "train", "test" or any prefix with `<split>A` and `<split>B` folders.
        seed: the same seed gives the same batches; each side gets its own stream of it.
        image_size: None (every image of a side the same size) or int / (h, w).
        channels: 1 or 3 for both sides; None: per side, 1 when all greyscale, else 3.
        **pipeline_kwargs: shuffle, shuffle_buffer, cache, repeat, input_context.

    Returns:
        A `tf.data.Dataset` of `(a, b)`, float32 [batch, H, W, C] in [-1, 1] each.

    Raises:
        DataError: a missing or empty side folder, an unreadable file, mixed sizes within
            a side without `image_size`; the message names the folder or file.
    """
    common.check_batch_size(batch_size)
    _check_channels(channels)
    size = common.normalize_image_size(image_size)
    if not isinstance(split, str) or not split:
        raise DataError(f"`split` must be a name such as 'train'. Received: {split!r}")
    sides, loads, sizes = [], [], []
    for side in ("A", "B"):
        folder = os.path.join(path, f"{split}{side}")
        files, _, _ = list_image_folder(folder)
        headers = [read_image_header(f) for f in files]
        if size is None:
            _check_same_size(folder, files, headers)
        c = _auto_channels(channels, headers)
        shape = (*(size or headers[0][:2]), c)
        decode = _decoder(c)

        def load(file, decode=decode, shape=shape):
            image = decode(file)
            if size is not None:
                image = common.resize(image, size)
            return tf.ensure_shape(image, shape)

        sides.append(tf.data.Dataset.from_tensor_slices(np.asarray(files)))
        loads.append(load)
        sizes.append(len(files))
    return pairs.finish_unpaired(
        sides[0], sides[1], sizes=sizes, load_fns=loads, batch_size=batch_size, seed=seed,
        **pipeline_kwargs,
    )
