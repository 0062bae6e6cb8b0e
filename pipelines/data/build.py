"""`build_dataset`: every input pipeline behind one function, datasets named as in configs."""

from tfgans.registry import Registry

from pipelines.data import arrays as arrays_lib
from pipelines.data import common, folder, tfds_source
from pipelines.data.common import DataError

TFDS_PREFIX = "tfds/"

DATASETS = Registry("dataset")


def _no_path(name, path):
    if path is not None:
        raise DataError(f"`path` is only used by the image_folder dataset, not by {name!r}.")


def _one_split(name, split):
    if split != "train":
        raise DataError(f"Dataset {name!r} has one split, 'train'. Received: split={split!r}")


@DATASETS.register("fashion_mnist")
def _fashion_mnist(batch_size, split, labels, seed, data_dir, path, **kwargs):
    _no_path("fashion_mnist", path)
    return tfds_source.fashion_mnist(
        batch_size, split, labels, seed, data_dir=data_dir, **kwargs
    )


@DATASETS.register("image_folder")
def _image_folder(batch_size, split, labels, seed, data_dir, path, **kwargs):
    _one_split("image_folder", split)
    if path is None:
        raise DataError("The image_folder dataset needs `path` (data.path): the image folder.")
    return folder.image_folder(path, batch_size, labels, seed, **kwargs)


@DATASETS.register("arrays")
def _arrays(batch_size, split, labels, seed, data_dir, path, arrays=None, **kwargs):
    _one_split("arrays", split)
    _no_path("arrays", path)
    if arrays is None:
        raise DataError("The arrays dataset needs `arrays`: images or (images, labels).")
    return arrays_lib.from_arrays(arrays, batch_size, labels, seed, **kwargs)


def dataset_names():
    """The dataset names `build_dataset` knows, besides "tfds/<any TFDS dataset>"."""
    return DATASETS.names()


def check_dataset_name(name):
    """Raises `DataError` (listing the valid names) unless `name` names a dataset."""
    if not isinstance(name, str):
        raise DataError(f"A dataset name must be a string. Received: {name!r}")
    if name.startswith(TFDS_PREFIX) and len(name) > len(TFDS_PREFIX):
        return
    if name not in DATASETS:
        raise DataError(
            f"Unknown dataset {name!r}. Valid datasets: {', '.join(dataset_names())}, or "
            f"'{TFDS_PREFIX}<name>' for any TensorFlow Datasets image dataset "
            f"(e.g. {TFDS_PREFIX}cifar10)."
        )


def build_dataset(
    name,
    batch_size,
    split="train",
    labels=False,
    seed=0,
    *,
    data_dir=None,
    path=None,
    image_size=None,
    shuffle=True,
    shuffle_buffer=10_000,
    cache=True,
    repeat=False,
    input_context=None,
    **source_kwargs,
):
    """Builds a training input pipeline by dataset name.

    Args:
        name: "fashion_mnist" (TFDS, offline from Debian's files), "image_folder" (needs
            `path`), "arrays" (needs `arrays=images` or `arrays=(images, labels)`), or
            "tfds/<name>" for any TFDS image dataset (e.g. "tfds/cifar10").
        batch_size: images per batch: the GLOBAL batch size when the dataset goes to
            `strategy.experimental_distribute_dataset` (see `distributed_dataset`).
        split: TFDS split ("train", "test", "train[:10%]"); folders and arrays have "train".
        labels: yield `(images, labels)` (int32 [batch]) instead of `images`.
        seed: shuffle seed: the same seed gives the same batches.
        data_dir: TFDS data dir (None: $TFDS_DATA_DIR, else ~/tensorflow_datasets).
        path: the image folder (image_folder only).
        image_size: None (native size), int or (h, w): resize images.
        shuffle, shuffle_buffer, cache, repeat, input_context: see `common.finish`.
        **source_kwargs: passed to the source (`arrays`, `source_dir`, `channels`,
            `download`).

    Returns:
        A `tf.data.Dataset` of float32 NHWC images in [-1, 1] (or `(images, labels)`),
        batched with `drop_remainder=True`, shuffled, cached and prefetched.

    Raises:
        DataError: an unknown name (the message lists the valid ones), a non-positive
            batch size, or bad input to the source.

    Example:
    >>> ds = build_dataset("fashion_mnist", 64, labels=True)          # doctest: +SKIP
    """
    check_dataset_name(name)
    common.check_batch_size(batch_size)
    pipeline = dict(
        image_size=image_size,
        shuffle=shuffle,
        shuffle_buffer=shuffle_buffer,
        cache=cache,
        repeat=repeat,
        input_context=input_context,
        **source_kwargs,
    )
    if name.startswith(TFDS_PREFIX):
        _no_path(name, path)
        return tfds_source.tfds_dataset(
            name[len(TFDS_PREFIX) :], batch_size, split, labels, seed, data_dir=data_dir, **pipeline
        )
    return DATASETS.get(name)(batch_size, split, labels, seed, data_dir, path, **pipeline)
