"""Input pipelines: every source's shapes, ranges and labels (eagerly and inside tf.data),
the TFDS offline path, sharding across replicas, and the bad inputs."""

import hashlib
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from pipelines import data
from pipelines.data import DataError, build_dataset, common
from pipelines.data.idx import FASHION_MNIST_DIR, upstream_fashion_mnist_gzip


@pytest.fixture(scope="session")
def tfds_dir(tmp_path_factory):
    """A TFDS data_dir with fashion_mnist prepared from Debian's files, once per test run.

    Under pytest-xdist the folder is shared by the workers (the library's lock makes the
    first one prepare it and the others wait).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    data_dir = str(root / "tfds")
    data.prepare_fashion_mnist(data_dir)
    return data_dir


def check_batches(dataset, shape, labels=False, num_classes=None):
    """Checks a pipeline's batches: static spec, eager values, and values inside tf.data."""
    spec = dataset.element_spec
    image_spec = spec[0] if labels else spec
    assert image_spec.shape == shape and image_spec.dtype == tf.float32
    if labels:
        assert spec[1].shape == shape[:1] and spec[1].dtype == tf.int32

    # Eagerly.
    batch = next(iter(dataset))
    images = (batch[0] if labels else batch).numpy()
    assert images.shape == shape and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    if labels:
        ids = batch[1].numpy()
        assert ids.shape == shape[:1] and ids.dtype == np.int32
        assert ids.min() >= 0 and ids.max() < num_classes

    # Inside tf.data (graph mode), as `fit` consumes it.
    def check(*element):
        x = element[0]
        x.shape.assert_is_compatible_with(shape)
        assert x.dtype == tf.float32
        asserts = [
            tf.debugging.assert_greater_equal(x, -1.0),
            tf.debugging.assert_less_equal(x, 1.0),
        ]
        if labels:
            y = element[1]
            assert y.dtype == tf.int32
            asserts += [
                tf.debugging.assert_greater_equal(y, 0),
                tf.debugging.assert_less(y, num_classes),
            ]
        with tf.control_dependencies(asserts):
            return tf.reduce_min(x), tf.reduce_max(x)

    for low, high in dataset.take(2).map(check):
        assert -1.0 <= float(low) <= float(high) <= 1.0


def take_numpy(dataset, n):
    return [tf.nest.map_structure(lambda t: t.numpy(), b) for b in dataset.take(n)]


def write_image(path, array, fmt="png"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    array = np.asarray(array, np.uint8)
    encoded = tf.io.encode_png(array) if fmt == "png" else tf.io.encode_jpeg(array)
    with open(path, "wb") as f:
        f.write(encoded.numpy())


# The ops every pipeline uses, eagerly and inside tf.data.


def test_to_float_and_resize_agree_eagerly_and_in_tf_data():
    pixels = tf.constant([[[0], [127], [255]]], tf.uint8)  # [1, 3, 1]
    eager = common.to_float(pixels).numpy()
    (graph,) = list(tf.data.Dataset.from_tensors(pixels).map(common.to_float))
    np.testing.assert_array_equal(eager, graph.numpy())
    np.testing.assert_allclose(eager.ravel(), [-1.0, 127 / 127.5 - 1, 1.0])
    assert eager.ravel()[0] == -1.0 and eager.ravel()[2] == 1.0

    image = tf.constant(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    eager = common.resize(image, (2, 3))
    (graph,) = list(tf.data.Dataset.from_tensors(image).map(lambda x: common.resize(x, (2, 3))))
    assert eager.dtype == tf.uint8 and eager.shape == (2, 3, 3)
    np.testing.assert_array_equal(eager.numpy(), graph.numpy())


# Fashion-MNIST through TFDS, offline.


def test_restored_debian_files_match_tfds_checksums():
    builder = tfds.builder("fashion_mnist")
    for info in builder.url_infos.values():
        restored = upstream_fashion_mnist_gzip(os.path.join(FASHION_MNIST_DIR, info.filename))
        assert len(restored) == info.size
        assert hashlib.sha256(restored).hexdigest() == info.checksum


def test_fashion_mnist_offline_has_every_example(tfds_dir):
    for split, total, per_class in [("train", 60_000, 6_000), ("test", 10_000, 1_000)]:
        ds = build_dataset(
            "fashion_mnist", 1000, split=split, labels=True, shuffle=False, cache=False,
            data_dir=tfds_dir,
        )
        counts = np.zeros(10, np.int64)
        class_sums = np.zeros(10)
        for images, ids in ds:
            counts += np.bincount(ids.numpy(), minlength=10)
            pixels = np.round((images.numpy() + 1.0) * 127.5).sum(axis=(1, 2, 3))
            np.add.at(class_sums, ids.numpy(), pixels)
        assert counts.sum() == total
        assert (counts == per_class).all(), counts
        # The same images as the IDX files, class by class (TFDS reorders examples).
        images, ids = data.load_fashion_mnist_arrays(split)
        expected = np.zeros(10)
        np.add.at(expected, ids, images.sum(axis=(1, 2), dtype=np.int64))
        np.testing.assert_array_equal(class_sums, expected)
    assert not [p for p in os.listdir(tfds_dir) if p.startswith(".tfgans-")]  # temp dir gone


def test_fashion_mnist_batches(tfds_dir):
    check_batches(build_dataset("fashion_mnist", 64, data_dir=tfds_dir), (64, 28, 28, 1))
    ds = build_dataset("fashion_mnist", 32, split="test", labels=True, data_dir=tfds_dir)
    check_batches(ds, (32, 28, 28, 1), labels=True, num_classes=10)
    ds = build_dataset("fashion_mnist", 16, labels=True, image_size=32, data_dir=tfds_dir)
    check_batches(ds, (16, 32, 32, 1), labels=True, num_classes=10)


def test_fashion_mnist_is_reproducible(tfds_dir):
    def first(seed):
        ds = build_dataset("fashion_mnist", 16, labels=True, seed=seed, data_dir=tfds_dir)
        return take_numpy(ds, 3)

    a, b, c = first(3), first(3), first(4)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[0][0], c[0][0])


def test_any_tfds_dataset_by_name_from_prepared_data_dir(tfds_dir):
    ds = build_dataset("tfds/fashion_mnist", 8, labels=True, data_dir=tfds_dir, download=False)
    check_batches(ds, (8, 28, 28, 1), labels=True, num_classes=10)


def test_tfds_data_dir_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == str(tmp_path)
    monkeypatch.delenv("TFDS_DATA_DIR")
    assert data.default_data_dir() == os.path.expanduser("~/tensorflow_datasets")


def test_fashion_mnist_without_local_files_uses_the_normal_download(monkeypatch, tmp_path):
    calls = []

    def fake_download_and_prepare(self, **kwargs):
        calls.append(kwargs)
        raise OSError("no network here")

    builder_cls = type(tfds.builder("fashion_mnist"))
    monkeypatch.setattr(builder_cls, "download_and_prepare", fake_download_and_prepare)
    with pytest.raises(DataError, match="dataset-fashion-mnist") as e:
        data.prepare_fashion_mnist(str(tmp_path / "tfds"), source_dir=str(tmp_path / "none"))
    assert calls == [{}]  # a plain TFDS download, no manual_dir
    assert "\n" not in str(e.value)


# Image folders.


def test_image_folder_with_class_subfolders(tmp_path):
    # Class ids follow sorted folder names: "a_dark" -> 0, "b_light" -> 1.
    for i in range(6):
        write_image(tmp_path / "b_light" / f"{i}.png", np.full((8, 6, 1), 255))
        write_image(tmp_path / "a_dark" / "nested" / f"{i}.png", np.zeros((8, 6, 1)))
    (tmp_path / "README.txt").write_text("not an image, ignored")
    ds = build_dataset("image_folder", 4, labels=True, path=str(tmp_path))
    check_batches(ds, (4, 8, 6, 1), labels=True, num_classes=2)
    for images, ids in take_numpy(ds, 3):  # each image goes with its own label
        np.testing.assert_array_equal(images.reshape(4, -1).mean(axis=1), np.where(ids, 1.0, -1.0))
    _, ids, classes = data.list_image_folder(str(tmp_path), labels=True)
    assert classes == ["a_dark", "b_light"] and ids.tolist() == [0] * 6 + [1] * 6


def test_image_folder_jpeg_rgb_without_labels(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(5):
        write_image(tmp_path / f"{i}.jpg", rng.integers(0, 256, (10, 12, 3)), fmt="jpeg")
    ds = build_dataset("image_folder", 2, path=str(tmp_path), seed=1)
    check_batches(ds, (2, 10, 12, 3))
    assert len(list(ds)) == 2  # drop_remainder: 5 images -> 2 batches of 2
    resized = build_dataset("image_folder", 2, path=str(tmp_path), image_size=(4, 4))
    check_batches(resized, (2, 4, 4, 3))


def test_image_folder_is_reproducible(tmp_path):
    for i in range(20):
        write_image(tmp_path / f"{i:02d}.png", np.full((4, 4, 1), i * 10))

    def first(seed):
        return take_numpy(build_dataset("image_folder", 5, path=str(tmp_path), seed=seed), 4)

    for a, b in zip(first(7), first(7)):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first(7), first(8)))


# In-memory arrays.


def test_arrays_uint8_and_float():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 6, 5), dtype=np.uint8)  # [N, H, W] gets a channel
    y = np.arange(50) % 3
    ds = build_dataset("arrays", 10, labels=True, arrays=(x, y), shuffle=False)
    check_batches(ds, (10, 6, 5, 1), labels=True, num_classes=3)
    images, ids = take_numpy(ds, 1)[0]
    np.testing.assert_allclose(images[..., 0], x[:10] / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(ids, y[:10])

    floats = rng.uniform(-1, 1, (40, 4, 4, 3))
    ds = build_dataset("arrays", 8, arrays=floats, shuffle=False)
    check_batches(ds, (8, 4, 4, 3))
    np.testing.assert_allclose(take_numpy(ds, 1)[0], floats[:8].astype(np.float32))
    assert len(list(ds)) == 5


def test_arrays_are_reproducible():
    x = np.arange(64 * 2 * 2, dtype=np.int64).reshape(64, 2, 2).astype(np.uint8)
    a, b = (take_numpy(data.from_arrays(x, 8, seed=5), 8) for _ in range(2))
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


# Sharding under tf.distribute (tests/conftest.py makes 2 logical CPUs).


def _indexed_arrays(n=32):
    """Images whose label is their index, so each replica's examples can be named."""
    return np.zeros((n, 2, 2, 1), np.uint8), np.arange(n)


def _replica_ids(strategy, dist):
    _, ids = next(iter(dist))
    return [r.numpy().tolist() for r in strategy.experimental_local_results(ids)]


def test_two_replicas_receive_disjoint_halves_of_a_global_batch():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2

    def source(batch_size, input_context):
        return build_dataset(
            "arrays", batch_size, labels=True, arrays=_indexed_arrays(), seed=3,
            input_context=input_context,
        )

    (global_batch,) = [ids.numpy().tolist() for _, ids in source(8, None).take(1)]
    first, second = _replica_ids(strategy, data.distributed_dataset(strategy, source, 8))
    assert len(first) == len(second) == 4 and not set(first) & set(second)
    assert first + second == global_batch  # the same global batch as on one device

    ds = source(8, None)  # a dataset batched with the global batch size works as well
    assert _replica_ids(strategy, data.distributed_dataset(strategy, ds)) == [first, second]


def test_distribute_datasets_from_function_shards_per_input_pipeline():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    def source(batch_size, input_context):
        return build_dataset(
            "arrays", batch_size, labels=True, arrays=_indexed_arrays(), shuffle=False,
            input_context=input_context,
        )

    dist = data.distributed_dataset(strategy, source, 8, shard_per_input_pipeline=True)
    first, second = _replica_ids(strategy, dist)
    assert len(first) == len(second) == 4 and not set(first) & set(second)

    # Two input pipelines (two workers) read disjoint halves of the examples.
    seen = []
    for pipeline_id in range(2):
        context = tf.distribute.InputContext(2, pipeline_id, 2)
        ds = source(context.get_per_replica_batch_size(8), context)
        seen.append({i for _, ids in ds for i in ids.numpy().tolist()})
    assert not seen[0] & seen[1] and seen[0] | seen[1] == set(range(32))


def test_global_batch_must_divide_across_replicas():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with pytest.raises(DataError, match="not divisible by the 2 replicas"):
        data.distributed_dataset(strategy, lambda b, c: None, 7)


# Bad inputs: one clear line each.


def raises_one_line(match, fn, *args, **kwargs):
    with pytest.raises(DataError, match=match) as e:
        fn(*args, **kwargs)
    assert "\n" not in str(e.value)
    return str(e.value)


def test_missing_folder(tmp_path):
    missing = str(tmp_path / "nope")
    msg = raises_one_line("does not exist", build_dataset, "image_folder", 4, path=missing)
    assert missing in msg


def test_empty_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    raises_one_line("holds no images", build_dataset, "image_folder", 4, path=str(tmp_path))


def test_mixed_image_sizes(tmp_path):
    write_image(tmp_path / "a.png", np.zeros((8, 8, 1)))
    write_image(tmp_path / "b.png", np.zeros((8, 9, 1)))
    msg = raises_one_line("different sizes", build_dataset, "image_folder", 1, path=str(tmp_path))
    assert "a.png" in msg and "b.png" in msg and "image_size" in msg
    check_batches(build_dataset("image_folder", 2, path=str(tmp_path), image_size=8), (2, 8, 8, 1))


@pytest.mark.parametrize(
    "content",
    [b"", b"this is text, not an image", "truncated_png", b"\xff\xd8\xff\xe0\x00\x10JFIF"],
    ids=["empty", "text", "truncated_png", "truncated_jpeg"],
)
def test_unreadable_image_is_named(tmp_path, content):
    write_image(tmp_path / "good.png", np.zeros((4, 4, 1)))
    if content == "truncated_png":
        content = (tmp_path / "good.png").read_bytes()[:-20]
    (tmp_path / "broken.png").write_bytes(content)
    msg = raises_one_line("Unreadable image", build_dataset, "image_folder", 1, path=str(tmp_path))
    assert str(tmp_path / "broken.png") in msg


def test_labels_requested_but_absent(tmp_path):
    raises_one_line("no labels were given", build_dataset, "arrays", 2, labels=True,
                    arrays=np.zeros((4, 2, 2), np.uint8))
    write_image(tmp_path / "flat" / "a.png", np.zeros((4, 4, 1)))
    raises_one_line("no class sub-folders", build_dataset, "image_folder", 1, labels=True,
                    path=str(tmp_path / "flat"))
    write_image(tmp_path / "mixed" / "cls" / "a.png", np.zeros((4, 4, 1)))
    write_image(tmp_path / "mixed" / "loose.png", np.zeros((4, 4, 1)))
    raises_one_line("not in a class sub-folder", build_dataset, "image_folder", 1, labels=True,
                    path=str(tmp_path / "mixed"))


def test_unknown_dataset_name_lists_the_valid_ones(tmp_path):
    msg = raises_one_line("Unknown dataset 'cifar'", build_dataset, "cifar", 8)
    for name in ("arrays", "fashion_mnist", "image_folder", "tfds/<name>"):
        assert name in msg
    raises_one_line("not a TensorFlow Datasets dataset", build_dataset,
                    "tfds/no_such_dataset_xyz", 8, data_dir=str(tmp_path))


@pytest.mark.parametrize("batch_size", [0, -4, 2.0, True])
def test_non_positive_batch_size(batch_size):
    x = np.zeros((8, 2, 2), np.uint8)
    raises_one_line("batch_size", build_dataset, "arrays", batch_size, arrays=x)
    raises_one_line("batch_size", build_dataset, "fashion_mnist", batch_size)
    raises_one_line("batch_size", data.from_arrays, x, batch_size)


def test_other_bad_arguments(tmp_path):
    x = np.zeros((8, 2, 2), np.uint8)
    raises_one_line("fewer than batch_size", build_dataset, "arrays", 16, arrays=x)
    raises_one_line(r"must be in \[-1, 1\]", build_dataset, "arrays", 2,
                    arrays=np.full((4, 2, 2), 255.0))
    raises_one_line("one per image", build_dataset, "arrays", 2, labels=True,
                    arrays=(x, np.arange(3)))
    raises_one_line("needs `path`", build_dataset, "image_folder", 2)
    raises_one_line("only used by the image_folder", build_dataset, "fashion_mnist", 2,
                    path=str(tmp_path))
    raises_one_line("one split", build_dataset, "arrays", 2, split="test", arrays=x)
    raises_one_line("image_size", build_dataset, "arrays", 2, arrays=x, image_size=0)
    raises_one_line("not prepared", build_dataset, "tfds/mnist", 2, download=False,
                    data_dir=str(tmp_path))


def test_iterator_checkpoint_resumes_exactly(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (40, 3, 3), dtype=np.uint8)

    def build():
        return build_dataset("arrays", 8, labels=True, arrays=(x, np.arange(40)), seed=2,
                             shuffle_buffer=16, repeat=True)

    iterator = iter(build())
    for _ in range(7):  # into the second epoch
        next(iterator)
    path = tf.train.Checkpoint(iterator=iterator).write(str(tmp_path / "ckpt"))
    expected = [next(iterator)[1].numpy() for _ in range(6)]
    restored = iter(build())
    tf.train.Checkpoint(iterator=restored).read(path).assert_consumed()
    np.testing.assert_array_equal([next(restored)[1].numpy() for _ in range(6)], expected)
