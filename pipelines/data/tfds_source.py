"""TensorFlow Datasets sources: Fashion-MNIST with no network, and any TFDS image dataset.

Fashion-MNIST offline. TFDS' download manager looks for a file in `manual_dir` under the
name its checksum registry gives for the URL (`t10k-images-idx3-ubyte.gz`, ...), hashes
it, and accepts it when size and sha256 match the registered ones; otherwise it downloads
(`DownloadManager._download_or_get_cache`). Debian's files fail that check only because
their gzip headers were normalised at package build time (see `idx.py`); restoring the
header gives the upstream bytes, so `prepare_fashion_mnist` writes the restored files to a
temporary `manual_dir` and lets TFDS verify and prepare them as it does any manual
download: no TFDS internals are patched and the checksums are really checked. Without
local files, TFDS downloads as usual.
"""

import contextlib
import hashlib
import os
import tempfile

import tensorflow as tf
import tensorflow_datasets as tfds

from pipelines.data import common
from pipelines.data.common import DataError
from pipelines.data.idx import FASHION_MNIST_DIR, upstream_fashion_mnist_gzip

try:
    import fcntl
except ImportError:  # Windows: no inter-process lock, TFDS' own atomic writes remain.
    fcntl = None


def default_data_dir():
    """Returns where TFDS datasets live: $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
    return os.environ.get("TFDS_DATA_DIR") or os.path.join(
        os.path.expanduser("~"), "tensorflow_datasets"
    )


@contextlib.contextmanager
def _lock(data_dir, name):
    """Serialises preparation of dataset `name` in `data_dir` across processes."""
    os.makedirs(data_dir, exist_ok=True)
    if fcntl is None:
        yield
        return
    with open(os.path.join(data_dir, f".{name}.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _local_fashion_mnist(builder, source_dir, manual_dir):
    """Writes verified upstream copies of the files in `source_dir` to `manual_dir`.

    Returns False when `source_dir` lacks any of the four files.
    """
    expected = {info.filename: info for info in builder.url_infos.values()}
    paths = {name: os.path.join(source_dir, name) for name in expected}
    if not all(os.path.isfile(p) for p in paths.values()):
        return False
    os.makedirs(manual_dir, exist_ok=True)
    for name, path in paths.items():
        data = upstream_fashion_mnist_gzip(path)
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected[name].checksum:
            raise DataError(
                f"{path} is not the Fashion-MNIST release TFDS expects (sha256 {digest}, "
                f"expected {expected[name].checksum}): reinstall dataset-fashion-mnist or "
                "pass source_dir=None to download it."
            )
        with open(os.path.join(manual_dir, name), "wb") as f:
            f.write(data)
    return True


def prepare_fashion_mnist(data_dir=None, source_dir=FASHION_MNIST_DIR):
    """Prepares TFDS' `fashion_mnist` in `data_dir`, from local files when there are some.

    Preparing takes about 20 s on 2 cores and happens once per `data_dir`; later calls
    return at once. Concurrent callers (test workers, runs) wait for each other.

    Args:
        data_dir: TFDS data dir; None: `default_data_dir()`.
        source_dir: folder with the four original `*-ubyte.gz` files (Debian's
            `dataset-fashion-mnist` puts them in /usr/share/datasets/fashion-mnist). When
            it lacks them, or is None, TFDS downloads them (needs a network).

    Returns:
        The prepared `tfds.core.DatasetBuilder`.
    """
    data_dir = os.path.abspath(os.path.expanduser(data_dir or default_data_dir()))
    builder = tfds.builder("fashion_mnist", data_dir=data_dir)
    if builder.is_prepared():
        return builder
    with _lock(data_dir, "fashion_mnist"):
        builder = tfds.builder("fashion_mnist", data_dir=data_dir)
        if builder.is_prepared():
            return builder
        with tempfile.TemporaryDirectory(prefix=".tfgans-fashion-mnist-", dir=data_dir) as tmp:
            manual_dir = os.path.join(tmp, "manual")
            if source_dir and _local_fashion_mnist(builder, source_dir, manual_dir):
                config = tfds.download.DownloadConfig(
                    manual_dir=manual_dir, extract_dir=os.path.join(tmp, "extracted")
                )
                builder.download_and_prepare(download_config=config)
                return builder
            try:
                builder.download_and_prepare()
            except OSError as e:  # requests' ConnectionError is an OSError
                raise DataError(
                    f"Could not download fashion_mnist ({type(e).__name__}) and {source_dir} "
                    "lacks its files: install Debian's dataset-fashion-mnist "
                    "(apt-get install dataset-fashion-mnist) or connect to the network."
                ) from e
    return builder


def _check_split(builder, split):
    base_names = [s.split("[")[0].strip() for s in split.split("+")]
    valid = sorted(builder.info.splits.keys())
    for name in base_names:
        if name not in valid:
            raise DataError(
                f"Unknown split {name!r} for {builder.name}. Valid splits: {', '.join(valid)}."
            )


def _image_and_label_keys(builder, labels):
    features = builder.info.features
    if builder.info.supervised_keys and isinstance(builder.info.supervised_keys[0], str):
        image_key, label_key = builder.info.supervised_keys[:2]
    else:
        image_key = next(
            (k for k, f in features.items() if isinstance(f, tfds.features.Image)), None
        )
        label_key = next(
            (k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)), None
        )
    if image_key is None or not isinstance(features[image_key], tfds.features.Image):
        raise DataError(f"TFDS dataset {builder.name!r} has no image feature to train on.")
    if labels and (label_key is None or not isinstance(features[label_key], tfds.features.ClassLabel)):
        raise DataError(
            f"labels=True, but TFDS dataset {builder.name!r} has no class label feature: "
            "set labels to false."
        )
    return image_key, label_key


def from_builder(builder, batch_size, split="train", labels=False, seed=0, **pipeline_kwargs):
    """Builds the training pipeline over a prepared TFDS image dataset.

    Args:
        builder: a prepared `tfds.core.DatasetBuilder` with an `Image` feature (and a
            `ClassLabel` one when `labels` is True).
        batch_size, split, labels, seed: as in `build_dataset`.
        **pipeline_kwargs: passed to `common.finish` (shuffle, shuffle_buffer, cache,
            repeat, image_size, input_context).
    """
    common.check_batch_size(batch_size)
    _check_split(builder, split)
    image_key, label_key = _image_and_label_keys(builder, labels)
    shape = builder.info.features[image_key].shape
    if None in shape[:2] and pipeline_kwargs.get("image_size") is None:
        raise DataError(
            f"TFDS dataset {builder.name!r} has images of varying sizes {shape}: "
            "set image_size to resize them."
        )
    # No TFDS auto-cache: `finish` caches the decoded images (caching twice costs memory
    # and makes iterator checkpoints bigger).
    read_config = tfds.ReadConfig(try_autocache=False)
    dataset = builder.as_dataset(split=split, shuffle_files=False, read_config=read_config)

    def pair(example):
        label = tf.cast(example[label_key], tf.int32) if labels else tf.constant(-1, tf.int32)
        return example[image_key], label

    dataset = dataset.map(pair, num_parallel_calls=common.AUTOTUNE)
    return common.finish(
        dataset, batch_size=batch_size, labels=labels, seed=seed, **pipeline_kwargs
    )


def fashion_mnist(
    batch_size,
    split="train",
    labels=False,
    seed=0,
    *,
    data_dir=None,
    source_dir=FASHION_MNIST_DIR,
    **pipeline_kwargs,
):
    """Fashion-MNIST through TFDS: 28x28x1 images, 10 classes, 60,000 train / 10,000 test.

    Works with no network when `source_dir` holds the original files (see
    `prepare_fashion_mnist`).

    Example:
    >>> ds = fashion_mnist(64, labels=True)                           # doctest: +SKIP
    >>> images, labels = next(iter(ds))   # float32 [64, 28, 28, 1] in [-1, 1], int32 [64]
    """
    builder = prepare_fashion_mnist(data_dir, source_dir)
    return from_builder(builder, batch_size, split, labels, seed, **pipeline_kwargs)


def tfds_dataset(
    name, batch_size, split="train", labels=False, seed=0, *, data_dir=None, download=True,
    **pipeline_kwargs,
):
    """Any TFDS image dataset by name ("cifar10", "celeb_a", "mnist:3.0.1", ...).

    Args:
        name: TFDS builder name, optionally with config and version.
        download: prepare the dataset (download it: needs a network) if `data_dir` does
            not hold it yet; with False, a dataset that is not prepared is an error.
        Other args: as in `build_dataset`.
    """
    data_dir = os.path.abspath(os.path.expanduser(data_dir or default_data_dir()))
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise DataError(
            f"{name!r} is not a TensorFlow Datasets dataset: see tfds.list_builders() "
            "for the valid names."
        ) from e
    if not builder.is_prepared():
        if not download:
            raise DataError(
                f"TFDS dataset {name!r} is not prepared in {data_dir}: prepare it there "
                "(tfds build) or allow the download."
            )
        from tfgans.offline import require_network

        # TFDS tries its GCS mirror first; without a network it would retry for minutes
        # and leave partial downloads behind.
        require_network(
            "storage.googleapis.com", f"TFDS dataset {name!r} (not prepared in {data_dir})",
            f"Prepare it on a machine with a network (tfds build {name}) and copy "
            f"{os.path.join(data_dir, builder.name)} to that data_dir (config key "
            "data.data_dir).",
        )
        with _lock(data_dir, builder.name):
            builder.download_and_prepare()
    return from_builder(builder, batch_size, split, labels, seed, **pipeline_kwargs)
