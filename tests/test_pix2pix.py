"""pix2pix (issue 17): the losses by hand, the PatchGAN's receptive field, keyed dropout,
resume exactness with dropout, the image -> image metrics, and one CLI round trip of
configs/pix2pix_edges2fashion.yaml (train, translate, evaluate, export) whose export is
called from a TensorFlow-only process. 1 vs 2 replicas: tests/test_trainer_contract_replicas.py."""

import json
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from tf_only import check_translator_export

import tfgans
import tfgans.models
from pipelines import cli
from pipelines import config as config_lib
from tfgans.metrics import translation
from tfgans.models import PatchGANDiscriminator, UNetGenerator, patchgan_receptive_field
from tfgans.training import Pix2Pix

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "pix2pix_edges2fashion.yaml")
SHAPE = (8, 8, 1)


def pairs(num=16, shape=SHAPE, seed=0):
    """Sources uniform in [-0.9, 0.9]; targets their negatives."""
    source = np.random.default_rng(seed).uniform(-0.9, 0.9, (num, *shape)).astype("float32")
    return source, -source


def trainer_fn(discriminator_lr=1e-3):
    keras.utils.set_random_seed(0)
    generator, discriminator = tfgans.models.get("pix2pix")(
        SHAPE, None, width=4, depth=2, discriminator_width=4, discriminator_layers=1)
    trainer = Pix2Pix(generator, discriminator, seed=5)
    trainer.compile(keras.optimizers.Adam(1e-3, beta_1=0.5),
                    keras.optimizers.SGD(discriminator_lr) if discriminator_lr == 0 else
                    keras.optimizers.Adam(discriminator_lr, beta_1=0.5),
                    jit_compile=False)
    return trainer


def estimator(model_dir, **kwargs):
    return tfgans.Estimator(trainer_fn, str(model_dir), checkpoint_every=2, sample_every=100,
                            log_every=100, num_sample_images=6, jit_compile=False, verbose=0,
                            **kwargs)


def dataset(batch=4):
    return tf.data.Dataset.from_tensor_slices(pairs()).batch(batch, drop_remainder=True)


def state(trainer):
    return [np.asarray(v) for vs in trainer.checkpoint_items().values() for v in vs]


def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


# ------------------------------------------------------------------------- the losses


def test_losses_are_ns_plus_100_l1_by_hand_with_keyed_dropout():
    trainer = trainer_fn(discriminator_lr=0.0)  # D does not move: its logits stay as drawn
    assert trainer.l1_weight == 100.0 and trainer.generator.num_dropout == 1
    source, target = pairs(num=4)
    noise = trainer.dropout_noise(tf.constant(source), 0)  # step 0's masks
    fake = trainer.generator(source, training=True, dropout_noise=noise).numpy()
    real_logits = trainer.discriminator(np.concatenate([source, target], -1)).numpy()
    fake_logits = trainer.discriminator(np.concatenate([source, fake], -1)).numpy()
    # Non-saturating pair (Goodfellow et al.): D's halved, G's -log sigmoid(D(G(x))).
    d_loss = 0.5 * (softplus(-real_logits).mean() + softplus(fake_logits).mean())
    g_loss = softplus(-fake_logits).mean() + 100.0 * np.abs(target - fake).mean()
    history = trainer.fit(source, target, batch_size=4, epochs=1, shuffle=False,
                          verbose=0).history
    assert history["d_loss"][0] == pytest.approx(d_loss, rel=1e-5)
    assert history["g_loss"][0] == pytest.approx(g_loss, rel=1e-5)
    # Dropout is on in training only, and step 1 draws other masks than step 0.
    plain = trainer.generator(source, training=False).numpy()
    assert np.abs(fake - plain).max() > 1e-3
    other = trainer.dropout_noise(tf.constant(source), 1)
    assert not np.allclose(noise[0].numpy(), other[0].numpy())


def test_patchgan_output_follows_its_receptive_field():
    assert [patchgan_receptive_field(n) for n in (1, 2, 3)] == [16, 34, 70]  # 70: the paper's
    for layers in (1, 2, 3):
        d = PatchGANDiscriminator(width=2, num_layers=layers)
        assert d(tf.zeros([1, 28, 28, 2])).shape == (1, math.ceil(28 / 2**layers),
                                                     math.ceil(28 / 2**layers), 1)
    # Measured: the input pixels a centre logit's convolutions see span the receptive field
    # (without instance norm, whose statistics cover the whole image).
    d = PatchGANDiscriminator(width=2, num_layers=1, norm="none")
    x = tf.random.stateless_normal([1, 40, 40, 2], seed=[1, 2])
    with tf.GradientTape() as tape:
        tape.watch(x)
        logit = d(x)[0, 10, 10, 0]
    rows, cols = np.nonzero(np.abs(tape.gradient(logit, x)[0].numpy()).sum(-1))
    assert rows.max() - rows.min() + 1 == cols.max() - cols.min() + 1 == d.receptive_field


def test_unet_pads_odd_sizes_and_keeps_its_skips():
    g = UNetGenerator((28, 28, 1), width=4, depth=4)
    assert g.padded == (32, 32) and g.num_dropout == 3
    assert g(tf.zeros([2, 28, 28, 1])).shape == (2, 28, 28, 1)
    assert [s[1:] for s in g.dropout_noise_shapes(2)] == [(4, 4, 16), (8, 8, 8), (16, 16, 4)]


# -------------------------------------------------------------------------- resume


def test_resume_is_exact_with_dropout(tmp_path):
    whole = estimator(tmp_path / "whole")
    whole.train(dataset, max_steps=4)
    estimator(tmp_path / "split").train(dataset, max_steps=2)
    resumed = estimator(tmp_path / "split")
    assert resumed.step == 2
    resumed.train(dataset, max_steps=4)
    assert resumed.trainer.generator.num_dropout > 0
    for a, b in zip(state(whole.trainer), state(resumed.trainer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # The preview kept for the grid is the first batch's, and the grid is source|output|target.
    sources, targets = resumed.trainer.preview()
    np.testing.assert_array_equal(sources, pairs()[0][:4])
    grid, columns = resumed.trainer.sample_grid(6)
    assert columns == 3 and grid.shape == (6, *SHAPE)
    np.testing.assert_array_equal(grid[2], targets[0])


# ------------------------------------------------------------------------- metrics


def test_translation_metrics_match_hand_values():
    target = np.zeros([2, 16, 16, 1], np.float32)
    output = target + 0.5  # 0.25 apart on the [0, 1] scale
    assert translation.psnr(output, target) == pytest.approx([10 * np.log10(1 / 0.0625)] * 2)
    assert translation.l1(output, target) == pytest.approx([0.5, 0.5])
    assert translation.ssim(target + 0.3, target + 0.3) == pytest.approx([1.0, 1.0])
    metrics = translation.evaluate_translation(
        lambda s: s + 0.5, [(target, target)], num_samples=2)
    assert metrics["l1"] == pytest.approx(0.5) and metrics["identity_l1"] == 0.0
    assert metrics["num_pairs"] == 2 and "fid" not in metrics and metrics["ssim"] < 1.0
    small = translation.evaluate_translation(lambda s: s, [(target[:, :8, :8], target[:, :8, :8])],
                                             num_samples=2)
    assert "ssim" not in small and small["psnr"] == np.inf  # 8 px: no 11x11 SSIM window
    with pytest.raises(ValueError, match="fewer than num_samples=3"):
        translation.evaluate_translation(lambda s: s, [(target, target)], num_samples=3)


# ----------------------------------------------------------------- config and data


def test_config_data_path_for_paired_folders(tmp_path):
    config = config_lib.config_from_dict(
        {"model": {"name": "pix2pix"}, "data": {"name": "ab_folder", "path": str(tmp_path)}})
    assert config.data.path == str(tmp_path) and config.optimizer.beta_1 == 0.5
    assert config_lib.config_from_dict({"model": {"name": "pix2pix"}}).data.name == "edges2fashion"
    for data, match in [({"name": "paired_folder"}, "'data.path' is required when data.name "
                         "is paired_folder"),
                        ({"path": str(tmp_path)}, "'data.path' is only used by"),
                        ({"name": "fashion_mnist"}, "trains on paired (source, target) data")]:
        with pytest.raises(config_lib.ConfigError, match=match.replace("(", r"\(").replace(
                ")", r"\)")):
            config_lib.config_from_dict({"model": {"name": "pix2pix"}, "data": data})


# ------------------------------------------------------- the CLI, export and serving


def _fails(capsys, argv, match):
    assert cli.main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], lines


def test_cli_train_translate_evaluate_export_and_serve(tmp_path, capsys):
    run = str(tmp_path / "run")
    tiny = ["train.steps=2", "train.checkpoint_every=2", "train.sample_every=2",
            "eval.every=2", "eval.num_samples=8", "eval.kid_subset_size=2",
            "data.batch_size=4", "data.shuffle_buffer=64", "model.width=4",
            "model.discriminator_width=4", "train.jit_compile=false"]
    argv = ["train", CONFIG, "--model-dir", run]
    for override in tiny:
        argv += ["--set", override]
    assert cli.main(argv) == 0, capsys.readouterr().err
    record = json.load(open(os.path.join(run, "eval.json")))[-1]  # periodic, held-out pairs
    assert record["step"] == 2 and {"psnr", "ssim", "l1", "fid", "identity_l1"} <= set(record)
    assert os.path.exists(os.path.join(run, "samples", "latest.png"))
    capsys.readouterr()

    # translate: one PNG in -> one PNG out; bad input: one line, before any model is built.
    from pipelines.data import fashion_tasks

    edges, _ = next(iter(fashion_tasks.edges2fashion(2, split="test", shuffle=False)))
    pixels = np.round((edges.numpy() + 1) * 127.5).astype(np.uint8)
    os.makedirs(tmp_path / "edges")
    for i, p in enumerate(pixels):
        (tmp_path / "edges" / f"in{i}.png").write_bytes(tf.io.encode_png(p).numpy())
    out = str(tmp_path / "out.png")
    assert cli.main(["translate", run, str(tmp_path / "edges" / "in1.png"), "--out", out]) == 0
    translated = tf.io.decode_png(open(out, "rb").read()).numpy()
    assert translated.shape == (28, 28, 1)
    (tmp_path / "big.png").write_bytes(tf.io.encode_png(np.zeros([32, 32, 3], np.uint8)).numpy())
    (tmp_path / "fake.png").write_bytes(b"GIF89a not a png")
    _fails(capsys, ["translate", run, str(tmp_path / "big.png"), "--out", out],
           "is 32x32 with 3 channel(s), but the run translates 28x28 images with 1 channel(s)")
    _fails(capsys, ["translate", run, str(tmp_path / "nope.png"), "--out", out], "does not exist")
    _fails(capsys, ["translate", run, str(tmp_path / "fake.png"), "--out", out], "is not a PNG")

    # evaluate: held-out pairs, next to the identity baseline.
    assert cli.main(["evaluate", run, "--num-samples", "8"]) == 0
    text = capsys.readouterr().out
    assert "8 held-out pairs (test split)" in text and "identity" in text and "PSNR" in text

    # export, then serve from a process with only TensorFlow: both signatures agree, and
    # give what `tfgans translate` wrote (8-bit PNGs: within 1.5 / 255).
    assert cli.main(["export", run, "--export-dir", str(tmp_path / "served"), "--version", "1"]) == 0
    check_translator_export(tmp_path / "served" / "1", tmp_path, (edges.numpy() + 1) / 2,
                            [f"edges/in{i}.png" for i in range(2)], translated)
