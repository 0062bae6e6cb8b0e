"""tfgans.GANEstimator: exact resume, checkpoints, settings checks, predict / evaluate."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import yaml

import tfgans
import tfgans.models
from tfgans.estimator import NoCheckpointError, RunMismatchError

IMAGES = np.random.default_rng(0).uniform(-1, 1, (20, 4, 4, 1)).astype("float32")
LABELS = np.arange(20, dtype=np.int32) % 2


def input_fn(labels=False):
    """5 batches an epoch, reshuffled (deterministically) every epoch."""
    data = (IMAGES, LABELS) if labels else IMAGES
    return tf.data.Dataset.from_tensor_slices(data).shuffle(20, seed=1).batch(4, drop_remainder=True)


def make(model_dir, optimizer="adam", num_classes=None, **kwargs):
    keras.utils.set_random_seed(0)  # the same initial weights for every estimator
    pair = tfgans.models.get("mlp")((4, 4, 1), 4, num_classes, hidden_units=(8,))
    if optimizer == "sgd":
        kwargs.update(
            generator_optimizer_fn=lambda: keras.optimizers.SGD(0.01, momentum=0.9),
            discriminator_optimizer_fn=lambda: keras.optimizers.SGD(0.01, momentum=0.9),
        )
    defaults = dict(latent_dim=4, ema_decay=0.9, checkpoint_every=3, sample_every=100,
                    log_every=100, num_sample_images=4, jit_compile=False, verbose=0)
    return tfgans.GANEstimator(
        lambda: pair[0], lambda: pair[1], model_dir=str(model_dir), num_classes=num_classes,
        **{**defaults, **kwargs},
    )


def state(estimator):
    gan = estimator.gan
    variables = (gan.generator.weights + gan.discriminator.weights + gan.ema_generator.weights
                 + gan.generator_optimizer.variables + gan.discriminator_optimizer.variables)
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_exact_resume(tmp_path, optimizer):
    """2N steps in one go == N steps, a new estimator on the same model_dir, N more. N = 7
    is not a multiple of checkpoint_every and the resume starts mid-epoch, after a
    reshuffle; the state covers G, D, EMA and both optimizers (momentum, Adam moments)."""
    whole = make(tmp_path / "whole", optimizer)
    whole.train(input_fn, max_steps=14)
    make(tmp_path / "split", optimizer).train(input_fn, max_steps=7)
    resumed = make(tmp_path / "split", optimizer)
    assert (resumed.step, resumed.input_position) == (7, 7)
    resumed.train(input_fn, max_steps=14)
    assert resumed.step == 14
    for a, b in zip(state(whole), state(resumed), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    if optimizer == "adam":
        # The test can fail: resuming without skipping the consumed input differs.
        wrong = make(tmp_path / "wrong", optimizer)
        wrong.train(input_fn, max_steps=7)
        wrong._input_position.assign(0)
        wrong.train(input_fn, max_steps=14)
        assert any(not np.allclose(a, b) for a, b in zip(state(whole), state(wrong)))


def test_checkpoints_every_n_keep_k_and_files(tmp_path):
    est = make(tmp_path, keep_checkpoints=2, sample_every=2, log_every=2)
    history = est.train(input_fn, max_steps=7)
    assert isinstance(history, keras.callbacks.History)  # as model.fit returns
    assert len(history.history["g_loss"]) == 3  # epochs of checkpoint_every=3 steps
    names = sorted(f for f in os.listdir(tmp_path / "checkpoints") if f.endswith(".index"))
    assert names == ["ckpt-6.index", "ckpt-7.index"]
    assert est.latest_checkpoint().endswith("ckpt-7")
    assert {"config.yaml", "checkpoints", "logs", "samples"} <= set(os.listdir(tmp_path))
    assert os.path.exists(tmp_path / "samples" / "step_00000006.png")
    # Already there: returns at once; `steps` trains that many more.
    assert est.train(input_fn, max_steps=5).history == {} and est.step == 7
    est.train(input_fn, steps=2)
    assert est.step == 9


def test_different_settings_in_model_dir_is_an_error(tmp_path):
    make(tmp_path).train(input_fn, max_steps=2)
    before = (tmp_path / "config.yaml").read_text()
    with pytest.raises(RunMismatchError, match=r"different config \(.*loss: 'wasserstein' != 'hinge'"):
        make(tmp_path, loss="hinge")
    with pytest.raises(RunMismatchError, match="seed: 0 != 1"):
        make(tmp_path, seed=1)
    assert (tmp_path / "config.yaml").read_text() == before
    fingerprint = yaml.safe_load(before)  # the trainer's effective settings
    assert fingerprint["image_shape"] == [4, 4, 1] and fingerprint["gradient_penalty"] == 10.0


def test_predict_evaluate(tmp_path):
    est = make(tmp_path)
    with pytest.raises(NoCheckpointError, match="holds no checkpoint"):
        est.predict(4)
    est.train(input_fn, max_steps=2)
    images = est.predict(num_samples=5, seed=3)
    assert images.shape == (5, 4, 4, 1) and np.all(np.abs(images) <= 1)
    np.testing.assert_array_equal(images, make(tmp_path).predict(num_samples=5, seed=3))
    results = est.evaluate(input_fn, extractor=None)
    assert set(results) == {"d_loss", "g_loss", "d_real", "d_fake", "step"}
    assert results["step"] == 2
    with pytest.raises(ValueError, match=r"expects images of shape \[batch, 28, 28, 1\]"):
        est.evaluate(input_fn, num_samples=8, kid_subset_size=4)


def test_evaluate_quality_metrics(tmp_path):
    """FID, KID, IS, precision/recall, intra-class FID and class accuracy of a conditional
    28x28 GAN on the committed classifier's features, and the losses."""
    images = np.random.default_rng(1).uniform(-1, 1, (24, 28, 28, 1)).astype("float32")
    labels = np.arange(24, dtype=np.int32) % 2

    def data():
        return tf.data.Dataset.from_tensor_slices((images, labels)).batch(8, drop_remainder=True)

    keras.utils.set_random_seed(0)
    g, d = tfgans.models.get("mlp")((28, 28, 1), 4, 2, hidden_units=(8,))
    est = tfgans.GANEstimator(lambda: g, lambda: d, latent_dim=4, num_classes=2,
                              model_dir=str(tmp_path), jit_compile=False, verbose=0)
    est.train(data, max_steps=1)
    results = est.evaluate(data, num_samples=20, kid_subset_size=10, per_class=True)
    for key in ["fid", "kid", "kid_std", "inception_score", "precision", "recall",
                "intra_fid", "class_accuracy", "class_accuracy/1", "d_loss", "g_loss"]:
        assert np.isfinite(results[key]), key
    assert results["num_real"] == results["num_fake"] == 20 and results["step"] == 1
    assert results["fid"] > 0 and 1 <= results["inception_score"] <= 2
    with pytest.raises(ValueError, match="too few for KID's subset size 10"):
        est.evaluate(data, num_samples=8, kid_subset_size=10)
    with pytest.raises(ValueError, match="ran out after 24"):
        est.evaluate(data, num_samples=30, kid_subset_size=10)


def test_conditional_needs_labels(tmp_path):
    est = make(tmp_path, num_classes=2)
    with pytest.raises(ValueError, match="conditional .* without labels"):
        est.train(input_fn, max_steps=1)
    est.train(lambda: input_fn(labels=True), max_steps=1)
    assert est.predict(2, labels=[1, 0]).shape == (2, 4, 4, 1)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="multiple of `steps_per_execution`"):
        make(tmp_path, checkpoint_every=3, steps_per_execution=2)
    with pytest.raises(ValueError, match="`checkpoint_every` must be a positive integer"):
        make(tmp_path, checkpoint_every=0)
    est = make(tmp_path)
    with pytest.raises(ValueError, match="exactly one of `max_steps` and `steps`"):
        est.train(input_fn)
    with pytest.raises(ValueError, match="`max_steps` must be a positive integer"):
        est.train(input_fn, max_steps=0)
    with pytest.raises(ValueError, match="tf.data.Dataset, NumPy arrays"):
        est.train(lambda: "images.png", max_steps=1)
    with pytest.raises(ValueError, match="single examples .* pass batch_size=N"):
        est.train(IMAGES, max_steps=1)


def test_mirrored_rejects_jit_and_steps_per_execution_and_odd_batches(tmp_path, mirrored):
    with pytest.raises(ValueError, match="jit_compile=True and steps_per_execution > 1 work on one"):
        make(tmp_path, strategy=mirrored, jit_compile=True)
    with pytest.raises(ValueError, match="steps_per_execution=3"):
        make(tmp_path, strategy=mirrored, steps_per_execution=3)
    est = make(tmp_path, strategy=mirrored, jit_compile="auto")
    assert est.jit_compile is False
    odd = lambda: tf.data.Dataset.from_tensor_slices(IMAGES).batch(3, drop_remainder=True)  # noqa: E731
    with pytest.raises(ValueError, match="batch size 3 is not divisible by the 2 replicas"):
        est.train(odd, max_steps=1)


def test_export_saved_model_calls_export(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        tfgans.export, "export_trainer",
        lambda gan, export_dir, version=None, overwrite=False: calls.append(
            (gan, export_dir, version, overwrite)) or os.path.join(export_dir, "1"),
    )
    est = make(tmp_path / "run")
    est.train(input_fn, max_steps=1)
    assert est.export_saved_model(str(tmp_path / "sm"), version=1) == str(tmp_path / "sm" / "1")
    assert calls == [(est.gan, str(tmp_path / "sm"), 1, False)]


def test_the_last_steps_owed_grid_is_written_by_a_rerun(tmp_path):
    """Killed after the last checkpoint and before the last grid: running `train` to the
    same step writes the grid it owed (and changes nothing else)."""
    est = make(tmp_path, sample_every=2)
    est.train(input_fn, max_steps=4)
    grid = tmp_path / "samples" / "step_00000004.png"
    expected = grid.read_bytes()
    grid.unlink()
    again = make(tmp_path, sample_every=2)
    assert again.train(input_fn, max_steps=4).history == {} and again.step == 4
    assert grid.read_bytes() == expected  # the same fixed-noise grid of step 4
