"""SRGAN (issue 17): sub-pixel upsampling's ordering, the content loss by hand, the two
phases' losses by hand (the discriminator untouched while pretraining), resume exactness
across the pretrain -> adversarial switch, the bicubic baseline, and one CLI round trip of
configs/srgan_fashion_x4.yaml (train, translate, evaluate, export) whose export is called
from a TensorFlow-only process. The learning criteria (PSNR over bicubic, FID after the
adversarial phase) are measured by benchmarks/image_to_image.py (README, SRGAN)."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from tf_only import check_translator_export

import tfgans
import tfgans.models
from pipelines import cli
from tfgans.metrics import translation
from tfgans.models import SRResNetGenerator, subpixel_upsample
from tfgans.training import SRGAN
from tfgans.training.srgan import content_network

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "srgan_fashion_x4.yaml")


def pairs(num=8, seed=0):
    """28x28 targets uniform in [-0.9, 0.9]; sources their 4x4 block means (7x7)."""
    target = np.random.default_rng(seed).uniform(-0.9, 0.9, (num, 28, 28, 1)).astype("float32")
    return target.reshape(num, 7, 4, 7, 4, 1).mean(axis=(2, 4)), target


def trainer_fn(pretrain_steps=2, loss="relativistic", discriminator=None, content="features",
               optimizer=lambda: keras.optimizers.Adam(1e-3, beta_1=0.9)):
    keras.utils.set_random_seed(0)
    g, d = tfgans.models.get("srgan")((28, 28, 1), None, width=4, residual_blocks=1,
                                      discriminator_width=4, discriminator_levels=1,
                                      dense_units=8)
    trainer = SRGAN(g, d, pretrain_steps=pretrain_steps, content=content, seed=3)
    trainer.compile(optimizer(), discriminator or optimizer(), loss=loss, jit_compile=False)
    return trainer


def dataset():
    return tf.data.Dataset.from_tensor_slices(pairs()).batch(4, drop_remainder=True).repeat()


def state(trainer):
    return [np.asarray(v) for vs in trainer.checkpoint_items().values() for v in vs]


def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


# ------------------------------------------------------------------------- networks


def test_subpixel_upsampling_shape_and_ordering():
    x = np.arange(2 * 3 * 3 * 8, dtype="float32").reshape(2, 3, 3, 8)
    out = np.asarray(subpixel_upsample(x, 2))
    assert out.shape == (2, 6, 6, 2)
    np.testing.assert_array_equal(out, tf.nn.depth_to_space(x, 2).numpy())
    channels = 2
    for b, h, w, i, j, c in np.ndindex(2, 3, 3, 2, 2, channels):  # Shi et al.'s periodic shuffle
        assert out[b, h * 2 + i, w * 2 + j, c] == x[b, h, w, (i * 2 + j) * channels + c]
    g = SRResNetGenerator((28, 28, 3), scale=4, width=4, residual_blocks=1)
    assert g.source_shape == (7, 7, 3) and len(g.upsample) == 2
    assert g(tf.zeros([2, 7, 7, 3])).shape == (2, 28, 28, 3)
    with pytest.raises(ValueError, match="power of 2"):
        SRResNetGenerator((24, 24, 1), scale=3)


# ------------------------------------------------------------------------- the losses


def test_content_loss_by_hand_on_fixed_features():
    assert float(tfgans.losses.content_loss([[1.0, 2.0]], [[0.0, 4.0]])) == 2.5
    # A feature network with a fixed 1x1 kernel: features = relu(2 * x - 0.5).
    inputs = keras.Input((4, 4, 1))
    conv = keras.layers.Conv2D(1, 1, activation="relu", name="feat",
                               kernel_initializer=keras.initializers.Constant(2.0),
                               bias_initializer=keras.initializers.Constant(-0.5))
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(conv(inputs)))
    features = content_network(model, "feat")
    assert features.trainable is False
    a = np.linspace(-1, 1, 32, dtype="float32").reshape(2, 4, 4, 1)
    b = a[::-1].copy()
    fa, fb = np.maximum(2 * a - 0.5, 0), np.maximum(2 * b - 0.5, 0)
    got = tfgans.losses.content_loss(features(a), features(b))
    assert float(got) == pytest.approx(np.mean((fa - fb) ** 2), rel=1e-6)
    with pytest.raises(ValueError, match="no layer 'nope'.*feat, flat"):
        content_network(model, "nope")
    with pytest.raises(ValueError, match="does not exist"):
        content_network("/no/such/model.keras")


def test_pretraining_is_mse_then_perceptual_loss_by_hand():
    """Step 0 (pretraining): g_loss = pixel MSE, D and its optimizer untouched. Step 1:
    g_loss = content (classifier features) + 1e-3 * non-saturating, against D."""
    trainer = trainer_fn(pretrain_steps=1, loss="non_saturating",
                         discriminator=keras.optimizers.SGD(0.0))
    d_before = [np.asarray(v) for v in trainer._discriminator_state()]
    source, target = pairs(num=4)
    fake = trainer.generator(source, training=True).numpy()
    history = trainer.fit(source, target, batch_size=4, epochs=1, verbose=0).history
    assert history["g_loss"][0] == pytest.approx(np.mean((target - fake) ** 2), rel=1e-5)
    assert history["adversarial_phase"][0] == 0.0
    for a, b in zip(d_before, trainer._discriminator_state(), strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))  # weights, BN statistics, optimizer
    assert int(trainer.optimizers["discriminator"].iterations.numpy()) == 0
    # Step 1: adversarial. D's SGD(0) keeps its weights, so its logits can be taken first.
    fake = trainer.generator(source, training=True).numpy()
    logits = trainer.discriminator(fake, training=True).numpy()
    phi = trainer.content_network
    content = np.mean((phi(target).numpy() - phi(fake).numpy()) ** 2)
    history = trainer.fit(source, target, batch_size=4, epochs=1, verbose=0).history
    assert history["adversarial_phase"][0] == 1.0
    assert history["g_loss"][0] == pytest.approx(
        content + 1e-3 * softplus(-logits).mean(), rel=1e-5)
    assert int(trainer.optimizers["discriminator"].iterations.numpy()) == 1


# -------------------------------------------------------------------------- resume


def test_resume_is_exact_across_the_phase_switch(tmp_path):
    """Relativistic (ESRGAN) losses, pretraining for 2 steps: 4 steps at once equal 1 step,
    then a resumed run of 3 that crosses the switch."""

    def estimator(name):
        return tfgans.Estimator(trainer_fn, str(tmp_path / name), checkpoint_every=1,
                                sample_every=100, log_every=100, num_sample_images=8,
                                jit_compile=False, verbose=0)

    whole = estimator("whole")
    whole.train(dataset, max_steps=4)
    estimator("split").train(dataset, max_steps=1)
    resumed = estimator("split")
    assert resumed.step == 1
    resumed.train(dataset, max_steps=4)
    for a, b in zip(state(whole.trainer), state(resumed.trainer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert int(resumed.trainer.optimizers["discriminator"].iterations.numpy()) == 2
    grid, columns = resumed.trainer.sample_grid(8)
    assert columns == 4 and grid.shape == (8, 28, 28, 1)
    source = resumed.trainer.preview()[0][0]
    np.testing.assert_array_equal(grid[0], np.repeat(np.repeat(source, 4, 0), 4, 1))


# ------------------------------------------------------------------------- metrics


def test_bicubic_baseline_of_smaller_sources():
    source, target = pairs(num=2)
    upsampled = translation.bicubic_upsample(source, (28, 28))
    assert upsampled.shape == (2, 28, 28, 1)
    flat = translation.bicubic_upsample(np.full([1, 7, 7, 1], 0.25, "float32"), (28, 28))
    np.testing.assert_allclose(flat, 0.25, atol=1e-6)
    metrics = translation.evaluate_translation(
        lambda s: translation.bicubic_upsample(s, (28, 28)), [(source, target)], num_samples=2)
    assert metrics["bicubic_psnr"] == metrics["psnr"] and "identity_psnr" not in metrics
    mse = np.mean(((np.clip(upsampled, -1, 1) - target) / 2) ** 2, axis=(1, 2, 3))
    assert metrics["psnr"] == pytest.approx(np.mean(10 * np.log10(1 / mse)), rel=1e-4)
    assert "(bicubic " in translation.describe(metrics)


# ------------------------------------------------------- the CLI, export and serving


def test_cli_train_translate_evaluate_export_and_serve(tmp_path, capsys):
    run = str(tmp_path / "run")
    tiny = ["train.steps=2", "train.pretrain_steps=1", "train.checkpoint_every=2",
            "train.sample_every=2", "eval.every=2", "eval.num_samples=8",
            "eval.kid_subset_size=2", "data.batch_size=4", "data.shuffle_buffer=64",
            "model.width=4", "model.residual_blocks=1", "model.discriminator_width=4",
            "model.discriminator_levels=1", "model.dense_units=8", "train.jit_compile=false"]
    argv = ["train", CONFIG, "--model-dir", run]
    for override in tiny:
        argv += ["--set", override]
    assert cli.main(argv) == 0, capsys.readouterr().err
    record = json.load(open(os.path.join(run, "eval.json")))[-1]  # periodic, held-out pairs
    assert record["step"] == 2 and {"psnr", "ssim", "l1", "fid", "bicubic_psnr",
                                    "bicubic_fid"} <= set(record)
    config = open(os.path.join(run, "config.yaml")).read()
    assert "image_size: 28" in config and "content_model: fashion_mnist" in config
    capsys.readouterr()

    # translate: a 7x7 PNG in -> a 28x28 PNG out; a 28x28 input is one line, before any model.
    from pipelines.data import fashion_tasks

    small, _ = next(iter(fashion_tasks.fashion_x4(2, split="test", shuffle=False)))
    pixels = np.round((small.numpy() + 1) * 127.5).astype(np.uint8)
    os.makedirs(tmp_path / "small")
    for i, p in enumerate(pixels):
        (tmp_path / "small" / f"in{i}.png").write_bytes(tf.io.encode_png(p).numpy())
    out = str(tmp_path / "out.png")
    assert cli.main(["translate", run, str(tmp_path / "small" / "in1.png"), "--out", out]) == 0
    translated = tf.io.decode_png(open(out, "rb").read()).numpy()
    assert translated.shape == (28, 28, 1)
    (tmp_path / "big.png").write_bytes(tf.io.encode_png(np.zeros([28, 28, 1], np.uint8)).numpy())
    capsys.readouterr()
    assert cli.main(["translate", run, str(tmp_path / "big.png"), "--out", out]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "but the run translates 7x7 images" in lines[0], lines

    # evaluate: held-out pairs, next to bicubic upsampling.
    assert cli.main(["evaluate", run, "--num-samples", "8"]) == 0
    text = capsys.readouterr().out
    assert "8 held-out pairs (test split)" in text and "bicubic" in text and "PSNR" in text

    # export, then serve from a process with only TensorFlow: both signatures agree, and
    # give what `tfgans translate` wrote (8-bit PNGs: within 1.5 / 255).
    assert cli.main(["export", run, "--export-dir", str(tmp_path / "served"), "--version", "1"]) == 0
    check_translator_export(tmp_path / "served" / "1", tmp_path, pixels / 255.0,
                            [f"small/in{i}.png" for i in range(2)], translated)
