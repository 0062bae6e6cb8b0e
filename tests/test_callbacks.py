"""tfgans.callbacks: grids, atomic PNGs, interval-averaged scalars, TensorBoard event files."""

import json
import os
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import tfgans
import tfgans.models
from tfgans import callbacks


def _events(log_dir):
    acc = event_accumulator.EventAccumulator(log_dir, size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    return {
        tag: [(e.step, tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
        for tag in acc.Tags()["tensors"]
    }


def test_image_grid_layout_and_values():
    images = np.stack([np.full([3, 2, 1], v, np.float32) for v in (-1.0, 0.0, 1.0)])
    grid = callbacks.image_grid(images, columns=2, padding=1, pad_value=7)
    assert grid.shape == (2 * 4 + 1, 2 * 3 + 1, 1) and grid.dtype == np.uint8
    assert grid[1, 1, 0] == 0 and grid[1, 4, 0] == 128 and grid[5, 1, 0] == 255
    assert grid[0, 0, 0] == 7 and grid[5, 4, 0] == 7  # padding, and the empty last cell


def test_grid_layout_one_row_per_class():
    labels, columns = callbacks.grid_layout(64, num_classes=10)
    assert columns == 6 and labels.tolist() == np.repeat(np.arange(10), 6).tolist()
    assert callbacks.grid_layout(64) == (None, 8)


def test_write_png_is_atomic_and_readable(tmp_path):
    path = tmp_path / "out" / "grid.png"
    grid = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    callbacks.write_png(str(path), grid)
    callbacks.write_png(str(path), grid)  # replaces, leaves no temporary file
    assert os.listdir(path.parent) == ["grid.png"]
    np.testing.assert_array_equal(tf.io.decode_png(path.read_bytes()).numpy(), grid)


def test_scalars_are_interval_means_across_epochs(tmp_path):
    """Keras logs running means since the epoch began; the callback logs the mean of the
    steps since its last write, also across an epoch boundary."""
    model = types.SimpleNamespace(
        step=tf.Variable(0, dtype=tf.int64),
        optimizers={"generator": keras.optimizers.Adam(1e-3),
                    "discriminator": keras.optimizers.SGD(0.5)},
    )
    cb = callbacks.GANTensorBoard(str(tmp_path), update_freq=2, config="a: 1")
    cb.set_model(model)
    cb.on_train_begin()
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    for epoch, steps in enumerate([values[:3], values[3:]]):
        cb.on_epoch_begin(epoch)
        for i in range(len(steps)):
            model.step.assign_add(1)
            cb.on_train_batch_end(i, {"d_loss": np.mean(steps[: i + 1])})
    cb.on_train_end()
    events = _events(str(tmp_path))
    assert [(s, float(v)) for s, v in events["d_loss"]] == [(2, 1.5), (4, 3.5), (6, 5.5)]
    assert [float(v) for _, v in events["learning_rate/discriminator"]] == [0.5] * 3
    assert np.isclose(float(events["learning_rate/generator"][0][1]), 1e-3)
    assert [s for s, _ in events["steps_per_second"]] == [2, 4, 6]
    assert "a: 1" in events["config"][0][1].item().decode()


def test_no_writer_until_needed(tmp_path):
    cb = callbacks.GANTensorBoard(str(tmp_path / "logs"), update_freq=100)
    cb.set_model(types.SimpleNamespace(step=tf.Variable(0, dtype=tf.int64), optimizer=None))
    cb.on_train_begin()
    cb.on_train_end()
    assert not (tmp_path / "logs").exists()


@pytest.fixture(scope="module")
def conditional_fit(tmp_path_factory):
    """A short plain `gan.fit` of a tiny conditional GAN with both callbacks."""
    root = tmp_path_factory.mktemp("fit")
    keras.utils.set_random_seed(0)
    g, d = tfgans.models.get("mlp")((4, 4, 1), 4, num_classes=2, hidden_units=(8,))
    gan = tfgans.GAN(g, d, latent_dim=4, num_classes=2)
    gan.compile(n_critic=1)
    x = np.random.default_rng(0).uniform(-1, 1, (16, 4, 4, 1)).astype("float32")
    y = np.arange(16, dtype=np.int32) % 2
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4, drop_remainder=True).repeat()
    grid = callbacks.SampleGrid(
        every=2, log_dir=str(root / "logs" / "samples"), samples_dir=str(root / "samples"),
        num_images=6,
    )
    gan.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0, callbacks=[
        callbacks.GANTensorBoard(str(root / "logs" / "train"), update_freq=2, config={"x": 1}),
        grid,
    ])
    return root, gan, grid


def test_tensorboard_event_files_hold_scalar_image_and_text_tags(conditional_fit):
    root, _, _ = conditional_fit
    scalars = _events(str(root / "logs" / "train"))
    for tag in ["d_loss", "g_loss", "penalty", "d_real", "d_fake", "learning_rate/generator",
                "learning_rate/discriminator", "steps_per_second", "config"]:
        assert tag in scalars, tag
    assert [s for s, _ in scalars["d_loss"]] == [2, 3]  # every 2 steps, and at the end
    acc = event_accumulator.EventAccumulator(str(root / "logs" / "samples"), size_guidance={
        event_accumulator.TENSORS: 0})
    acc.Reload()
    images = acc.Tensors("samples")
    assert [e.step for e in images] == [0, 2, 3]
    png = tf.make_ndarray(images[0].tensor_proto)[2]  # [width, height, png...]
    assert tf.io.decode_png(png).shape == (2 * 6 + 2, 3 * 6 + 2, 1)  # 2 class rows x 3


def test_sample_grid_uses_fixed_noise_and_class_rows(conditional_fit):
    root, gan, grid = conditional_fit
    assert sorted(os.listdir(root / "samples")) == [
        "latest.png", "step_00000000.png", "step_00000002.png", "step_00000003.png"]
    np.testing.assert_array_equal(grid.grid(), grid.grid())
    expected = callbacks.image_grid(gan.generate(6, seed=0, labels=[0, 0, 0, 1, 1, 1]), columns=3)
    np.testing.assert_array_equal(grid.grid(), expected)
    latest = tf.io.decode_png((root / "samples" / "latest.png").read_bytes()).numpy()
    np.testing.assert_array_equal(latest, expected)


# ------------------------------------------------------------------------- evaluation

EVAL_IMAGES = np.random.default_rng(2).uniform(-1, 1, (30, 28, 28, 1)).astype("float32")


def _model_stub(chief=True):
    """What PeriodicEvaluation uses of a trainer: step, evaluation_samples, the strategy."""
    return types.SimpleNamespace(
        step=tf.Variable(0, dtype=tf.int64),
        evaluation_samples=lambda num_samples, seed=0: (EVAL_IMAGES[::-1][:num_samples], None),
        distribute_strategy=types.SimpleNamespace(
            extended=types.SimpleNamespace(should_checkpoint=chief)),
    )


def _run_steps(cb, model, steps):
    cb.set_model(model)
    cb.on_train_begin()
    for step in range(1, steps + 1):
        model.step.assign(step)
        cb.on_train_batch_end(step - 1)
    cb.on_train_end()


def test_periodic_evaluation_writes_history_and_tensorboard(tmp_path):
    history = tmp_path / "eval.json"
    cb = callbacks.PeriodicEvaluation(
        EVAL_IMAGES, every=2, num_samples=20, kid_subset_size=10,
        log_dir=str(tmp_path / "logs"), history_path=str(history),
    )
    _run_steps(cb, _model_stub(), 3)
    records = json.loads(history.read_text())
    assert [(r["step"], r["source"], r["num_samples"]) for r in records] == [
        (2, "train", 20), (3, "train", 20)]
    assert records[0]["extractor"] == "fashion_mnist" and records[0]["fid"] > 0
    assert sorted(os.listdir(tmp_path)) == ["eval.json", "logs"]  # no temporary file left
    scalars = _events(str(tmp_path / "logs"))
    for tag in ["eval/fid", "eval/kid", "eval/inception_score", "eval/precision", "eval/recall"]:
        assert [s for s, _ in scalars[tag]] == [2, 3], tag
    # The same noise every time, and a resumed run's record for a step replaces the old one.
    again = cb.evaluate(3)
    assert again["fid"] == records[1]["fid"]
    assert [r["step"] for r in json.loads(history.read_text())] == [2, 3]


def test_periodic_evaluation_writes_nothing_on_other_workers(tmp_path):
    cb = callbacks.PeriodicEvaluation(
        EVAL_IMAGES, every=1, num_samples=20, kid_subset_size=10,
        log_dir=str(tmp_path / "logs"), history_path=str(tmp_path / "eval.json"),
    )
    _run_steps(cb, _model_stub(chief=False), 2)
    assert os.listdir(tmp_path) == [] and cb.history == []


def test_periodic_evaluation_rejects_too_few_samples():
    with pytest.raises(ValueError, match="smaller than KID's `kid_subset_size=1000`"):
        callbacks.PeriodicEvaluation(EVAL_IMAGES, num_samples=500)


def test_periodic_evaluation_catches_up_the_last_steps_record(tmp_path):
    history = tmp_path / "eval.json"
    cb = callbacks.PeriodicEvaluation(
        EVAL_IMAGES, every=2, num_samples=20, kid_subset_size=10, history_path=str(history))
    model = _model_stub()
    cb.set_model(model)
    model.step.assign(3)
    cb.catch_up()
    cb.catch_up()  # owed once
    assert [(r["step"], r["source"]) for r in json.loads(history.read_text())] == [(3, "train")]
