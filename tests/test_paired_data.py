"""Image -> image pipelines: pix2pix A|B files, A/ + B/ folders, CycleGAN's trainA/trainB,
the Fashion-MNIST tasks (shapes, ranges, what each source really is, determinism, resume),
their registration, and the bad inputs (one line naming the file)."""

import os

import numpy as np
import pytest
import tensorflow as tf

from pipelines import data
from pipelines.data import DataError, build_dataset, fashion_tasks, pairs


def write_png(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(tf.io.encode_png(np.asarray(array, np.uint8)).numpy())


def take_numpy(dataset, n):
    return [tuple(t.numpy() for t in batch) for batch in dataset.take(n)]


def to_uint8(x):
    return np.round((x + 1.0) * 127.5).astype(np.int64)


def raises_one_line(match, fn, *args, **kwargs):
    with pytest.raises(DataError, match=match) as e:
        fn(*args, **kwargs)
    assert "\n" not in str(e.value)
    return str(e.value)


def check_spec(dataset, shapes):
    assert tuple(s.shape for s in dataset.element_spec) == tuple(shapes)
    assert all(s.dtype == tf.float32 for s in dataset.element_spec)


# ------------------------------------------------------------------ pix2pix A|B files


def write_ab(path, left, right, height=6, half=4):
    image = np.zeros((height, 2 * half, 3), np.uint8)
    image[:, :half] = left
    image[:, half:] = right
    write_png(path, image)


def test_ab_folder_splits_each_file_into_its_halves(tmp_path):
    # File i: left half grey 10*i, right half (200 - 10*i, 0, 255).
    for i in range(6):
        write_ab(tmp_path / "train" / f"{i}.png", 10 * i, (200 - 10 * i, 0, 255))
    write_ab(tmp_path / "test" / "t.png", 1, 2)
    ds = build_dataset("ab_folder", 2, path=str(tmp_path), seed=3)
    check_spec(ds, [(2, 6, 4, 3)] * 2)
    seen = []
    for source, target in take_numpy(ds, 3):
        source, target = to_uint8(source), to_uint8(target)
        for s, t in zip(source, target):
            i = s[0, 0, 0] // 10
            assert (s == 10 * i).all()  # the whole left half
            assert (t == [200 - 10 * i, 0, 255]).all()  # its own right half
            seen.append(int(i))
    assert sorted(seen) == list(range(6))

    ((source, target),) = take_numpy(
        build_dataset("ab_folder", 1, path=str(tmp_path), split="test", direction="BtoA"), 1
    )
    assert (to_uint8(source) == 2).all() and (to_uint8(target) == 1).all()
    resized = build_dataset("ab_folder", 2, path=str(tmp_path / "train"), image_size=8)
    check_spec(resized, [(2, 8, 8, 3)] * 2)


def test_ab_folder_bad_files_are_named(tmp_path):
    write_ab(tmp_path / "a.png", 0, 255)
    write_png(tmp_path / "odd.png", np.zeros((6, 7, 3)))
    msg = raises_one_line("odd width", build_dataset, "ab_folder", 1, path=str(tmp_path))
    assert str(tmp_path / "odd.png") in msg
    os.remove(tmp_path / "odd.png")
    write_ab(tmp_path / "big.png", 0, 255, height=8)
    msg = raises_one_line("different sizes", build_dataset, "ab_folder", 1, path=str(tmp_path))
    assert str(tmp_path / "big.png") in msg and "image_size" in msg
    raises_one_line("does not exist", build_dataset, "ab_folder", 1, path=str(tmp_path),
                    split="val")
    raises_one_line("direction", build_dataset, "ab_folder", 1, path=str(tmp_path),
                    direction="left")
    raises_one_line("fewer than batch_size", build_dataset, "ab_folder", 3,
                    path=str(tmp_path), image_size=4)


# ------------------------------------------------------------------ A/ + B/ folders


def test_paired_folders_pair_by_name(tmp_path):
    # A: 4x4 greyscale value v, B: 8x8 RGB (v, 255 - v, 7): low- and high-resolution pairs;
    # the extension may differ between partners, and sub-folders pair too.
    names = ["x.png", "y.png", "sub/z.png", "w.png"]
    for v, name in zip((10, 60, 110, 160), names):
        write_png(tmp_path / "A" / name, np.full((4, 4, 1), v))
        b_name = name.replace("w.png", "w.jpg")
        if b_name.endswith(".jpg"):
            os.makedirs(tmp_path / "B", exist_ok=True)
            encoded = tf.io.encode_jpeg(np.full((8, 8, 3), [v, 255 - v, 7], np.uint8), quality=100)
            (tmp_path / "B" / b_name).write_bytes(encoded.numpy())
        else:
            write_png(tmp_path / "B" / b_name, np.full((8, 8, 3), [v, 255 - v, 7]))
    a_files, b_files = data.paired.list_paired_folders(str(tmp_path))
    assert [os.path.relpath(f, tmp_path) for f in a_files] == ["A/sub/z.png", "A/w.png",
                                                                "A/x.png", "A/y.png"]
    assert [os.path.relpath(f, tmp_path) for f in b_files] == ["B/sub/z.png", "B/w.jpg",
                                                                "B/x.png", "B/y.png"]

    ds = build_dataset("paired_folder", 2, path=str(tmp_path), seed=1)
    check_spec(ds, [(2, 4, 4, 1), (2, 8, 8, 3)])
    seen = []
    for source, target in take_numpy(ds, 2):
        for s, t in zip(to_uint8(source), to_uint8(target)):
            v = s[0, 0, 0]
            assert (s == v).all()
            assert np.abs(t - [v, 255 - v, 7]).max() <= 2  # (JPEG rounding)
            seen.append(int(v))
    assert sorted(seen) == [10, 60, 110, 160]

    swapped = build_dataset("paired_folder", 2, path=str(tmp_path), direction="BtoA")
    check_spec(swapped, [(2, 8, 8, 3), (2, 4, 4, 1)])


def test_paired_folders_bad_pairs_are_named(tmp_path):
    for name in ("a", "b"):
        write_png(tmp_path / "A" / f"{name}.png", np.zeros((4, 4, 1)))
        write_png(tmp_path / "B" / f"{name}.png", np.zeros((4, 4, 1)))
    write_png(tmp_path / "A" / "lonely.png", np.zeros((4, 4, 1)))
    msg = raises_one_line("no partner", build_dataset, "paired_folder", 1, path=str(tmp_path))
    assert str(tmp_path / "A" / "lonely.png") in msg and str(tmp_path / "B") in msg
    os.remove(tmp_path / "A" / "lonely.png")
    write_png(tmp_path / "B" / "extra.png", np.zeros((4, 4, 1)))
    msg = raises_one_line("no partner", build_dataset, "paired_folder", 1, path=str(tmp_path))
    assert str(tmp_path / "B" / "extra.png") in msg
    os.remove(tmp_path / "B" / "extra.png")

    write_png(tmp_path / "B" / "b.png", np.zeros((4, 5, 1)))  # b's partner is wider
    msg = raises_one_line("first pair", build_dataset, "paired_folder", 1, path=str(tmp_path))
    assert str(tmp_path / "A" / "b.png") in msg and str(tmp_path / "B" / "b.png") in msg
    assert "4x5" in msg and "image_size" in msg
    check_spec(build_dataset("paired_folder", 2, path=str(tmp_path), image_size=4),
               [(2, 4, 4, 1)] * 2)

    write_png(tmp_path / "B" / "b.jpg", np.zeros((4, 4, 1)))
    msg = raises_one_line("same name", build_dataset, "paired_folder", 1, path=str(tmp_path))
    assert "b.png" in msg and "b.jpg" in msg
    msg = raises_one_line("does not exist", build_dataset, "paired_folder", 1,
                          path=str(tmp_path / "A"))
    assert str(tmp_path / "A" / "A") in msg


# ------------------------------------------------------------------ unpaired folders


def write_unpaired(root, split, sizes):
    for side, count, base in zip("AB", sizes, (0, 100)):
        for i in range(count):
            write_png(root / f"{split}{side}" / f"{i}.png", np.full((4, 4, 1), base + i))


def test_unpaired_folders_use_both_sides_fully_each_epoch(tmp_path):
    write_unpaired(tmp_path, "train", (5, 3))
    write_unpaired(tmp_path, "test", (2, 2))
    ds = build_dataset("unpaired_folder", 2, path=str(tmp_path), seed=4)
    check_spec(ds, [(2, 4, 4, 1)] * 2)
    assert int(ds.cardinality()) == 3  # ceil(max(5, 3) / 2)
    batches = take_numpy(ds, 10)
    assert len(batches) == 3
    a = [int(v) for x, _ in batches for v in to_uint8(x)[:, 0, 0, 0]]
    b = [int(v) for _, y in batches for v in to_uint8(y)[:, 0, 0, 0]]
    assert sorted(a[:5]) == [0, 1, 2, 3, 4]  # every A image once, then the next pass
    assert sorted(b[:3]) == [100, 101, 102]  # every B image, then it cycles
    assert set(b) == {100, 101, 102}
    assert all((to_uint8(x) == to_uint8(x)[:, :1, :1]).all() for x, _ in batches)

    test = take_numpy(build_dataset("unpaired_folder", 2, path=str(tmp_path), split="test"), 5)
    assert len(test) == 1
    assert sorted(to_uint8(test[0][0])[:, 0, 0, 0]) == [0, 1]
    assert sorted(to_uint8(test[0][1])[:, 0, 0, 0]) == [100, 101]

    endless = build_dataset("unpaired_folder", 2, path=str(tmp_path), repeat=True)
    assert endless.cardinality() == tf.data.INFINITE_CARDINALITY


def test_unpaired_sides_are_shuffled_independently_and_reproducibly(tmp_path):
    write_unpaired(tmp_path, "train", (8, 8))

    def order(seed):
        ds = build_dataset("unpaired_folder", 8, path=str(tmp_path), seed=seed)
        ((x, y),) = take_numpy(ds, 1)
        return to_uint8(x)[:, 0, 0, 0].tolist(), (to_uint8(y)[:, 0, 0, 0] - 100).tolist()

    a, b = order(0)
    assert sorted(a) == sorted(b) == list(range(8))
    assert a != b  # each side its own seed stream
    assert order(0) == (a, b)
    assert order(1) != (a, b)


def test_unpaired_folder_errors(tmp_path):
    write_unpaired(tmp_path, "train", (2, 0))
    msg = raises_one_line("does not exist", build_dataset, "unpaired_folder", 1,
                          path=str(tmp_path))
    assert str(tmp_path / "trainB") in msg
    write_png(tmp_path / "trainB" / "0.png", np.zeros((4, 4, 1)))
    write_png(tmp_path / "trainB" / "1.png", np.zeros((5, 4, 1)))
    msg = raises_one_line("different sizes", build_dataset, "unpaired_folder", 1,
                          path=str(tmp_path))
    assert str(tmp_path / "trainB" / "1.png") in msg


# ------------------------------------------------------------------ Fashion-MNIST tasks


TASKS = {
    "edges2fashion": ({}, [(4, 28, 28, 1)] * 2),
    "fashion_x4": ({}, [(4, 7, 7, 1), (4, 28, 28, 1)]),
    "fashion_inpaint": ({"mask": "random"}, [(4, 28, 28, 1)] * 3),
    "sneaker2boot": ({}, [(4, 28, 28, 1)] * 2),
}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_shapes_ranges_and_determinism(name):
    kwargs, shapes = TASKS[name]

    def first(seed, split="train"):
        ds = build_dataset(name, 4, split=split, seed=seed, shuffle_buffer=1000, **kwargs)
        check_spec(ds, shapes)
        return take_numpy(ds, 2)

    a, b, c = first(5), first(5), first(6)
    for batch in a + first(5, "test"):
        assert [x.shape for x in batch] == shapes
        for x in batch:
            assert x.dtype == np.float32 and -1.0 <= x.min() and x.max() <= 1.0
    for p, q in zip(a, b):
        for x, y in zip(p, q):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0][-1], c[0][-1])

    # Inside tf.data (graph mode), as `fit` consumes it: same ranges.
    def low_high(*batch):
        return tf.reduce_min([tf.reduce_min(x) for x in batch]), tf.reduce_max(
            [tf.reduce_max(x) for x in batch])

    ds = build_dataset(name, 4, seed=5, shuffle_buffer=1000, **kwargs)
    for low, high in ds.take(1).map(low_high):
        assert -1.0 <= float(low) <= float(high) <= 1.0


def numpy_sobel_magnitude(unit):
    """|Sobel gradient| of [N, H, W] images in [0, 1], reflect-padded (as tf.image)."""
    padded = np.pad(unit, ((0, 0), (1, 1), (1, 1)), mode="reflect")
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64)
    gy = np.zeros(unit.shape)
    gx = np.zeros(unit.shape)
    h, w = unit.shape[1:]
    for i in range(3):
        for j in range(3):
            window = padded[:, i : i + h, j : j + w]
            gy += ky[i, j] * window
            gx += ky.T[i, j] * window
    return np.sqrt(gy**2 + gx**2)


def test_edges_are_binary_sobel_edges_of_the_garment():
    ds = data.edges2fashion(8, seed=0, shuffle_buffer=100)
    for edges, garments in take_numpy(ds, 2):
        assert set(np.unique(edges)) <= {-1.0, 1.0}
        assert 0.02 < (edges == 1.0).mean() < 0.5
        magnitude = numpy_sobel_magnitude((garments[..., 0] + 1.0) / 2.0)
        expected = np.where(magnitude > fashion_tasks.EDGE_THRESHOLD, 1.0, -1.0)
        near = np.abs(magnitude - fashion_tasks.EDGE_THRESHOLD) < 1e-4  # float rounding
        np.testing.assert_array_equal(edges[..., 0][~near], expected[~near])


def test_fashion_x4_source_is_the_area_downsample_of_the_target():
    for source, target in take_numpy(data.fashion_x4(4, seed=2, shuffle_buffer=100), 2):
        expected = target.reshape(4, 7, 4, 7, 4, 1).mean(axis=(2, 4))
        np.testing.assert_allclose(source, expected, atol=1e-6)
    ds = build_dataset("fashion_x4", 2, image_size=32, shuffle_buffer=10)
    check_spec(ds, [(2, 8, 8, 1), (2, 32, 32, 1)])
    raises_one_line("multiple of 4", build_dataset, "fashion_x4", 2, image_size=30)


def test_inpaint_center_mask_is_the_center_square():
    expected = np.zeros((28, 28, 1), np.float32)
    expected[7:21, 7:21] = 1.0
    ds = build_dataset("fashion_inpaint", 4, mask="center", split="test", shuffle_buffer=10)
    for source, target, mask in take_numpy(ds, 2):
        assert (mask == expected).all()
        np.testing.assert_array_equal(source[mask == 0], target[mask == 0])
        assert (source[mask == 1] == fashion_tasks.INPAINT_FILL).all()


@pytest.mark.parametrize("kind", ["random", "free_form"])
def test_inpaint_random_masks(kind):
    def build(seed):
        return build_dataset("fashion_inpaint", 8, mask=kind, seed=seed, shuffle_buffer=100)

    (source, target, mask), = take_numpy(build(1), 1)
    assert set(np.unique(mask)) == {0.0, 1.0}
    np.testing.assert_array_equal(source[mask == 0], target[mask == 0])
    assert (source[mask == 1] == fashion_tasks.INPAINT_FILL).all()
    areas = mask.sum(axis=(1, 2, 3))
    assert (areas > 0).all() and (areas < 28 * 28 / 2).all()
    assert len({m.tobytes() for m in mask}) == 8  # one mask per example
    if kind == "random":
        for m in mask[..., 0]:
            rows, cols = np.nonzero(m.any(axis=1))[0], np.nonzero(m.any(axis=0))[0]
            box = m[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            assert box.all() and box.sum() == m.sum()  # one filled rectangle
            assert 7 <= box.shape[0] <= 14 and 7 <= box.shape[1] <= 14
    (_, _, again), = take_numpy(build(1), 1)  # a rebuilt pipeline: the same masks
    np.testing.assert_array_equal(mask, again)
    assert not np.array_equal(take_numpy(build(2), 1)[0][2], mask)


def test_inpaint_bad_mask():
    raises_one_line("center, random, free_form", build_dataset, "fashion_inpaint", 2,
                    mask="circle")


def test_sneaker2boot_sides_are_the_right_classes():
    sneaker, boot = data.SNEAKER2BOOT_CLASSES
    assert (sneaker, boot) == (7, 9)
    for split in ("train", "test"):
        images, labels = data.load_fashion_mnist_arrays(split)
        by_class = {c: {x.tobytes() for x in images[labels == c]} for c in (sneaker, boot)}
        ds = build_dataset("sneaker2boot", 8, split=split, seed=3, shuffle_buffer=500)
        assert int(ds.cardinality()) == len(by_class[sneaker]) // 8
        for a, b in take_numpy(ds, 3):
            for x in to_uint8(a).astype(np.uint8)[..., 0]:
                assert x.tobytes() in by_class[sneaker]
            for x in to_uint8(b).astype(np.uint8)[..., 0]:
                assert x.tobytes() in by_class[boot]


def test_rebuilt_pipeline_skipping_consumed_batches_resumes_exactly():
    # How the estimator resumes: rebuild with the same seed, skip what was consumed.
    def build():
        return build_dataset("fashion_inpaint", 4, mask="free_form", seed=7, repeat=True,
                             shuffle_buffer=200, split="test")

    expected = take_numpy(build(), 5)[3:]
    resumed = take_numpy(build().skip(3), 2)
    for p, q in zip(expected, resumed):
        for x, y in zip(p, q):
            np.testing.assert_array_equal(x, y)


def test_random_masks_are_keyed_by_example_and_epoch():
    # 4 examples, 2 epochs: the same example gets the same mask in any order, a new one
    # in the next epoch; skipping recounts epochs exactly.
    images = np.arange(4, dtype=np.uint8).reshape(4, 1, 1, 1) * np.ones((1, 8, 8, 1), np.uint8)
    source = tf.data.Dataset.from_tensor_slices((np.arange(4), images)).map(
        lambda i, x: (i, (x,)))

    def example_fn(index, epoch, image):
        return image, fashion_tasks.random_rectangle_mask(pairs.example_key(9, index, epoch), 8, 8)

    def build(seed):
        return pairs.finish_paired(
            source, num_examples=4, batch_size=2, seed=seed, example_fn=example_fn,
            batch_fn=lambda x, m: (tf.cast(x, tf.float32), m), repeat=True,
        )

    masks = {}
    for epoch, batches in enumerate([take_numpy(build(0), 4)[:2], take_numpy(build(0), 4)[2:]]):
        for x, m in batches:
            for value, mask in zip(x[:, 0, 0, 0], m):
                masks[(epoch, int(value))] = mask
    assert len(masks) == 8
    for (epoch, index), mask in masks.items():
        assert not np.array_equal(mask, masks[(1 - epoch, index)])
    for x, m in take_numpy(build(1), 2):  # another shuffle, the same masks per example
        for value, mask in zip(x[:, 0, 0, 0], m):
            np.testing.assert_array_equal(mask, masks[(0, int(value))])
    for (x, m), (y, n) in zip(take_numpy(build(0).skip(3), 1), take_numpy(build(0), 4)[3:]):
        np.testing.assert_array_equal(m, n)


# ------------------------------------------------------------------ registry and errors


def test_names_and_families():
    expected = {
        "fashion_mnist": "noise_to_image", "image_folder": "noise_to_image",
        "arrays": "noise_to_image", "tfds/cifar10": "noise_to_image",
        "ab_folder": "paired", "paired_folder": "paired", "edges2fashion": "paired",
        "fashion_x4": "paired", "fashion_inpaint": "paired",
        "unpaired_folder": "unpaired", "sneaker2boot": "unpaired",
        "fashion_mnist_captions": "text_to_image", "captioned_folder": "text_to_image",
        "ring_of_gaussians": "points", "grid_of_gaussians": "points",
    }
    for name, family in expected.items():
        data.check_dataset_name(name)
        assert data.dataset_family(name) == family
    assert set(data.dataset_names()) == set(expected) - {"tfds/cifar10"}
    assert [n for n in expected if data.dataset_uses_path(n)] == [
        "image_folder", "ab_folder", "paired_folder", "unpaired_folder", "captioned_folder"]
    raises_one_line("Unknown dataset 'edges2shoes'", data.dataset_family, "edges2shoes")


def test_image_to_image_bad_arguments(tmp_path):
    raises_one_line("without class labels", build_dataset, "edges2fashion", 2, labels=True)
    raises_one_line("without class labels", build_dataset, "unpaired_folder", 2, labels=True,
                    path=str(tmp_path))
    raises_one_line("needs `path`", build_dataset, "paired_folder", 2)
    raises_one_line("only used by", build_dataset, "sneaker2boot", 2, path=str(tmp_path))
    raises_one_line("Valid splits: train, test", build_dataset, "fashion_x4", 2, split="val")
    raises_one_line("batch_size", build_dataset, "edges2fashion", 0)
    msg = raises_one_line("not found", build_dataset, "edges2fashion", 2,
                          source_dir=str(tmp_path))
    assert str(tmp_path) in msg


def test_input_pipelines_read_disjoint_shards(tmp_path):
    # One input pipeline per worker (`distributed_dataset(..., shard_per_input_pipeline=True)`).
    for i in range(8):
        write_ab(tmp_path / "ab" / f"{i}.png", i, 0)
    write_unpaired(tmp_path / "cyc", "train", (6, 4))
    seen_ab, seen_a, seen_b = [], [], []
    for pipeline_id in range(2):
        context = tf.distribute.InputContext(2, pipeline_id, 2)
        ds = build_dataset("ab_folder", 2, path=str(tmp_path / "ab"), input_context=context)
        seen_ab.append({int(v) for s, _ in take_numpy(ds, 10) for v in to_uint8(s)[:, 0, 0, 0]})
        ds = build_dataset("unpaired_folder", 1, path=str(tmp_path / "cyc"), input_context=context)
        batches = take_numpy(ds, 10)
        assert len(batches) == 3  # this shard's 3 A images (and 2 B images, cycled)
        seen_a.append({int(to_uint8(a)[0, 0, 0, 0]) for a, _ in batches})
        seen_b.append({int(to_uint8(b)[0, 0, 0, 0]) for _, b in batches})
    for first, second, everything in [(*seen_ab, range(8)), (*seen_a, range(6)),
                                      (*seen_b, range(100, 104))]:
        assert not first & second and first | second == set(everything)
