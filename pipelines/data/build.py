"""`build_dataset`: every input pipeline behind one function, datasets named as in configs."""

from tfgans.registry import Registry

from pipelines.data import arrays as arrays_lib
from pipelines.data import captions
from pipelines.data import common, fashion_tasks, folder, paired, pairs, points, semi_supervised
from pipelines.data import tfds_source
from pipelines.data.common import DataError

TFDS_PREFIX = "tfds/"

DATASETS = Registry("dataset")

# Dataset families: what a batch holds (DESIGN.md, "Batches by family").
NOISE_TO_IMAGE = "noise_to_image"  # `images` or `(images, labels)`
PAIRED = "paired"  # `(source, target)`, or `(source, target, mask)` for inpainting
UNPAIRED = "unpaired"  # `(a, b)`
TEXT = "text_to_image"  # `(images, text)`
POINTS = "points"  # `points` [batch, 2] (2-D toy data)
_FAMILIES = {"fashion_mnist": NOISE_TO_IMAGE, "image_folder": NOISE_TO_IMAGE,
             "arrays": NOISE_TO_IMAGE}
PATH_DATASETS = ("image_folder", "ab_folder", "paired_folder", "unpaired_folder",
                 "captioned_folder")


def _no_path(name, path):
    if path is not None:
        raise DataError(
            f"`path` is only used by the {', '.join(PATH_DATASETS)} datasets, not by {name!r}."
        )


def _one_split(name, split):
    if split != "train":
        raise DataError(f"Dataset {name!r} has one split, 'train'. Received: split={split!r}")


@DATASETS.register("fashion_mnist")
def _fashion_mnist(batch_size, split, labels, seed, data_dir, path, labeled_per_class=None,
                   **kwargs):
    _no_path("fashion_mnist", path)
    if labeled_per_class is not None:  # data_dir (TFDS' folder) is not used: the IDX files
        return semi_supervised.fashion_mnist_semi_supervised(
            batch_size, split, labels, seed, labeled_per_class=labeled_per_class, **kwargs)
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


def _image_to_image(name, family):
    """Registers an image -> image dataset `name` of `family` (PAIRED or UNPAIRED)."""

    def add(fn):
        DATASETS.register(name, fn)
        _FAMILIES[name] = family
        return fn

    return add


def _path_dataset(name, family, build):
    @_image_to_image(name, family)
    def _build(batch_size, split, labels, seed, data_dir, path, **kwargs):
        pairs.check_no_labels(name, labels)
        if path is None:
            raise DataError(f"The {name} dataset needs `path` (data.path): its folder.")
        return build(path, batch_size, split=split, seed=seed, **kwargs)


_path_dataset("ab_folder", PAIRED, paired.paired_ab_folder)
_path_dataset("paired_folder", PAIRED, paired.paired_folders)
_path_dataset("unpaired_folder", UNPAIRED, paired.unpaired_folders)


def _fashion_task(name, family, build):
    @_image_to_image(name, family)
    def _build(batch_size, split, labels, seed, data_dir, path, **kwargs):
        # data_dir (TFDS' folder) is not used: the tasks read the IDX files (source_dir).
        pairs.check_no_labels(name, labels)
        _no_path(name, path)
        return build(batch_size, split, seed, **kwargs)


_fashion_task("edges2fashion", PAIRED, fashion_tasks.edges2fashion)
_fashion_task("fashion_x4", PAIRED, fashion_tasks.fashion_x4)
_fashion_task("fashion_inpaint", PAIRED, fashion_tasks.fashion_inpaint)
_fashion_task("sneaker2boot", UNPAIRED, fashion_tasks.sneaker2boot)


def _text_dataset(name, build):
    """Registers a text -> image dataset: `(images, text)` batches (`captions`)."""

    def _build(batch_size, split, labels, seed, data_dir, path, **kwargs):
        if labels:
            raise DataError(
                f"Dataset {name!r} yields (images, text) batches, without class labels: set "
                "data.labels to false."
            )
        return build(batch_size, split, seed, path, **kwargs)

    DATASETS.register(name, _build)
    _FAMILIES[name] = TEXT


def _fashion_captions(batch_size, split, seed, path, **kwargs):
    _no_path("fashion_mnist_captions", path)
    return captions.fashion_mnist_captions(batch_size, split, seed, **kwargs)


def _captioned_folder(batch_size, split, seed, path, **kwargs):
    _one_split("captioned_folder", split)
    if path is None:
        raise DataError("The captioned_folder dataset needs `path` (data.path): its folder.")
    return captions.captioned_folder(path, batch_size, seed, **kwargs)


_text_dataset("fashion_mnist_captions", _fashion_captions)
_text_dataset("captioned_folder", _captioned_folder)


def _points(name):
    @DATASETS.register(name)
    def _build(batch_size, split, labels, seed, data_dir, path, **kwargs):
        _no_path(name, path)
        return points.points_dataset(name, batch_size, split, labels, seed, **kwargs)

    _FAMILIES[name] = POINTS


_points("ring_of_gaussians")
_points("grid_of_gaussians")


def dataset_family(name):
    """The family of dataset `name`: what its batches hold, so a preset can be checked.

    Returns:
        "noise_to_image" (`images` or `(images, labels)`; also "tfds/<name>"), "paired"
        (`(source, target)`, plus `mask` for fashion_inpaint), "unpaired" (`(a, b)`) or
        "points" (`points` [batch, 2]: ring_of_gaussians, grid_of_gaussians).

    Raises:
        DataError: an unknown name (see `check_dataset_name`).
    """
    check_dataset_name(name)
    if name.startswith(TFDS_PREFIX):
        return NOISE_TO_IMAGE
    return _FAMILIES[name]


def dataset_uses_path(name):
    """Whether dataset `name` reads a folder given as `path` (data.path)."""
    return name in PATH_DATASETS


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
    labeled_per_class=None,
    subset_size=None,
    subset_seed=0,
    **source_kwargs,
):
    """Builds a training input pipeline by dataset name.

    Args:
        name: "fashion_mnist" (TFDS, offline from Debian's files), "image_folder" (needs
            `path`), "arrays" (needs `arrays=images` or `arrays=(images, labels)`), or
            "tfds/<name>" for any TFDS image dataset (e.g. "tfds/cifar10"). Image -> image
            (see `dataset_family`): "ab_folder", "paired_folder", "unpaired_folder" (need
            `path`; `pipelines.data.paired`), "edges2fashion", "fashion_x4",
            "fashion_inpaint", "sneaker2boot" (`pipelines.data.fashion_tasks`).
        batch_size: images per batch: the GLOBAL batch size when the dataset goes to
            `strategy.experimental_distribute_dataset` (see `distributed_dataset`).
        split: TFDS split ("train", "test", "train[:10%]"); image folders and arrays have
            "train"; image -> image folders and Fashion-MNIST tasks: see their modules.
        labels: yield `(images, labels)` (int32 [batch]) instead of `images`.
        seed: shuffle seed: the same seed gives the same batches.
        data_dir: TFDS data dir (None: $TFDS_DATA_DIR, else ~/tensorflow_datasets).
        path: the folder (`PATH_DATASETS` only).
        image_size: None (native size), int or (h, w): resize images.
        shuffle, shuffle_buffer, cache, repeat, input_context: see `common.finish`.
        labeled_per_class: None, or (fashion_mnist, with labels) semi-supervised batches:
            half from a seeded balanced subset of this many labelled examples per class,
            half unlabelled, label -1 (`pipelines.data.semi_supervised`).
        subset_size, subset_seed: None, or train on a seeded random subset of this many
            examples (`common.take_subset`; image datasets only: `fashion_mnist`,
            `image_folder`, `arrays`, "tfds/<name>").
        **source_kwargs: passed to the source (`arrays`, `source_dir`, `channels`,
            `download`, `direction`, `mask`, `edge_threshold`).

    Returns:
        A `tf.data.Dataset` of float32 NHWC images in [-1, 1] (or `(images, labels)`;
        image -> image datasets: `(source, target[, mask])` or `(a, b)`), batched with
        `drop_remainder=True`, shuffled, cached and prefetched.

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
    if labeled_per_class is not None:
        if name != "fashion_mnist":
            raise DataError(f"`labeled_per_class` (semi-supervised batches) is implemented for "
                            f"fashion_mnist, not {name!r}.")
        pipeline["labeled_per_class"] = labeled_per_class
    if subset_size is not None:
        if dataset_family(name) != NOISE_TO_IMAGE:
            raise DataError(
                f"`subset_size` applies to image datasets (fashion_mnist, image_folder, "
                f"arrays, tfds/<name>), not {name!r}."
            )
        pipeline.update(subset_size=subset_size, subset_seed=subset_seed)
    if name.startswith(TFDS_PREFIX):
        _no_path(name, path)
        return tfds_source.tfds_dataset(
            name[len(TFDS_PREFIX) :], batch_size, split, labels, seed, data_dir=data_dir, **pipeline
        )
    return DATASETS.get(name)(batch_size, split, labels, seed, data_dir, path, **pipeline)
