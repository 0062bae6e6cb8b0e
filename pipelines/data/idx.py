"""Reads MNIST-style IDX files (Fashion-MNIST's original format), gzipped or not."""

import gzip
import os

import numpy as np

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Returns the array stored in an IDX file (`.gz` is decompressed).

    Raises:
        ValueError: the file is not an IDX file, or is truncated.
    """
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number).")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: header says {shape}, "
            f"{expected} bytes of data, found {len(data) - header}."
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def load_fashion_mnist_arrays(split="train", data_dir=FASHION_MNIST_DIR):
    """Loads Fashion-MNIST from its original IDX files.

    Args:
        split: "train" (60,000 images) or "test" (10,000).
        data_dir: folder holding the four `*-ubyte.gz` files (Debian's
            `dataset-fashion-mnist` installs them in /usr/share/datasets/fashion-mnist).

    Returns:
        (images uint8 [N, 28, 28], labels int32 [N]).
    """
    if split not in _FILES:
        raise ValueError(f"Unknown split {split!r}. Valid splits: train, test.")
    paths = [os.path.join(data_dir, name) for name in _FILES[split]]
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(
                f"Fashion-MNIST file {p} not found: install Debian's dataset-fashion-mnist "
                "(apt-get install dataset-fashion-mnist) or point data_dir at the IDX files."
            )
    images, labels = (read_idx(p) for p in paths)
    return images, labels.astype(np.int32)


# Debian builds `dataset-fashion-mnist` with dh_strip_nondeterminism, which rewrites each
# gzip header: it drops the original file name (the FNAME field) and sets the timestamp to
# the package's build time. The compressed data is untouched, so putting the upstream
# header back (name and the timestamps below, found by matching TFDS' registered sha256)
# gives back the upstream files byte for byte.
_UPSTREAM_GZIP_MTIME = {
    "train-images-idx3-ubyte.gz": 1504176606,  # 2017-08-31 10:50:06 UTC
    "train-labels-idx1-ubyte.gz": 1504176606,
    "t10k-images-idx3-ubyte.gz": 1504176627,  # 2017-08-31 10:50:27 UTC
    "t10k-labels-idx1-ubyte.gz": 1504176627,
}
_GZIP_FNAME = 0x08


def upstream_fashion_mnist_gzip(path):
    """Returns the bytes of the upstream (zalandoresearch) Fashion-MNIST file `path` copies.

    A file that still has its gzip name field is returned unchanged; one whose header was
    normalised (Debian's) gets the upstream header back. The caller checks the result
    against the published sha256.

    Args:
        path: one of the four Fashion-MNIST `*-ubyte.gz` files.

    Raises:
        ValueError: `path` is not one of the four files, or not a gzip file.
    """
    fname = os.path.basename(path)
    if fname not in _UPSTREAM_GZIP_MTIME:
        raise ValueError(
            f"{path} is not a Fashion-MNIST file. Expected one of: {', '.join(_UPSTREAM_GZIP_MTIME)}."
        )
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 18 or data[:3] != b"\x1f\x8b\x08":
        raise ValueError(f"{path} is not a gzip file.")
    flags = data[3]
    if flags & _GZIP_FNAME:
        return data
    if flags != 0:
        raise ValueError(f"{path} has an unexpected gzip header (flags {flags:#04x}).")
    # ID1 ID2 CM | FLG=FNAME | MTIME (little endian) | XFL OS (kept) | FNAME, NUL-terminated.
    stem = fname[: -len(".gz")].encode("ascii")
    header = (
        data[:3]
        + bytes([_GZIP_FNAME])
        + _UPSTREAM_GZIP_MTIME[fname].to_bytes(4, "little")
        + data[8:10]
        + stem
        + b"\x00"
    )
    return header + data[10:]
