"""Latent inversion and semantic inpainting (`tfgans.inversion`, `tfgans invert`): the
search against random noise (issue 17's acceptance: a tenth of its MSE), the encoder's
warm start, the loss terms and Poisson blending against hand computations, and one CLI
run with its bad-input lines."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
from pipelines import cli
from pipelines import config as config_lib
from pipelines import run as run_lib
from tests.test_cli import fails, write_pngs
from tfgans import inversion
from tfgans.models import MLPDiscriminator, MLPGenerator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _gan(num_classes=None):
    keras.utils.set_random_seed(0)
    return tfgans.GAN(
        MLPGenerator((8, 8, 1), latent_dim=8, hidden_units=(16,), num_classes=num_classes),
        MLPDiscriminator(hidden_units=(8,), num_classes=num_classes), latent_dim=8,
        num_classes=num_classes)


@pytest.fixture(scope="module")
def gan():
    """A randomly initialised 8x8 GAN: its images are the targets."""
    return _gan()


def _mse(a, b, mask=None):
    mask = np.ones_like(a[..., :1]) if mask is None else mask
    return (np.square(a - b) * mask).sum(axis=(1, 2, 3)) / (mask.sum(axis=(1, 2, 3)) * a.shape[-1])


def test_inversion_beats_random_noise_tenfold(gan):
    targets = gan.generate(4, seed=1)
    result = inversion.invert(gan.inference_generator, targets, steps=150, restarts=3, seed=2)
    assert result.latents.shape == (4, 8) and result.reconstructions.shape == (4, 8, 8, 1)
    assert result.labels is None
    # The returned losses are the MSE of the returned reconstructions, G(latents).
    np.testing.assert_allclose(result.reconstructions, gan.generate_from_noise(result.latents),
                               atol=1e-6)
    np.testing.assert_allclose(result.losses, _mse(result.reconstructions, targets), rtol=1e-4)
    assert np.all(result.losses <= result.initial_losses)
    baseline = _mse(gan.generate(4, seed=9), targets)  # random noise vectors
    assert np.median(result.losses) <= 0.1 * np.median(baseline), (result.losses, baseline)

    # The prior term, by hand: steps=0 leaves the starts as drawn (noise of the seed).
    plain = inversion.invert(gan.inference_generator, targets, steps=0, restarts=1, seed=5)
    z = np.asarray(tfgans.training.sample_noise(4, 8, 5))
    np.testing.assert_allclose(plain.latents, z, atol=1e-6)
    with_prior = inversion.invert(gan.inference_generator, targets, steps=0, restarts=1, seed=5,
                                  prior_weight=0.5)
    np.testing.assert_allclose(with_prior.losses,
                               plain.losses + 0.5 * 0.5 * np.mean(z**2, axis=1), rtol=1e-5)
    shell = np.asarray(inversion.latent_prior(z, "shell"))
    np.testing.assert_allclose(shell, (np.linalg.norm(z, axis=1) / np.sqrt(8) - 1) ** 2, rtol=1e-5)
    with pytest.raises(ValueError, match="`restarts` must be an integer >= 1"):
        inversion.invert(gan.inference_generator, targets, restarts=0)
    with pytest.raises(ValueError, match=r"`targets` must be images \[N, H, W, C\]"):
        inversion.invert(gan.inference_generator, targets[0])
    with pytest.raises(ValueError, match=r"but the generator makes \(8, 8, 1\)"):
        inversion.invert(gan.inference_generator, np.zeros([1, 4, 4, 1]))


def test_encoder_warm_start_starts_lower_than_random_noise(gan):
    targets = gan.generate(6, seed=1)
    encoder = inversion.train_encoder(gan.inference_generator, num_samples=256, epochs=8,
                                      batch_size=32, width=4, seed=3)
    assert encoder.output_shape == (None, 8)
    warm = inversion.invert(gan.inference_generator, targets, steps=0, restarts=1,
                            encoder=encoder)
    cold = inversion.invert(gan.inference_generator, targets, steps=0, restarts=1)
    np.testing.assert_allclose(warm.latents, encoder.predict(targets, verbose=0), atol=1e-5)
    assert np.median(warm.initial_losses) < 0.5 * np.median(cold.initial_losses), (
        warm.initial_losses, cold.initial_losses)


def test_conditional_search_keeps_the_best_class_of_every_start():
    gan = _gan(num_classes=3)
    targets = gan.generate(2, seed=1, labels=[2, 0])
    result = inversion.invert(gan.inference_generator, targets, num_classes=3, steps=0,
                              restarts=1, seed=4)
    # Candidate rows are [class, target]: class k of target i starts at noise row k * 2 + i.
    z = np.asarray(tfgans.training.sample_noise(6, 8, 4)).reshape(3, 2, 8)
    by_class = np.stack([_mse(gan.generate_from_noise(z[k], [k, k]), targets) for k in range(3)])
    np.testing.assert_array_equal(result.labels, np.argmin(by_class, axis=0))
    np.testing.assert_allclose(result.losses, by_class.min(axis=0), rtol=1e-4)
    given = inversion.invert(gan.inference_generator, targets, labels=[1, 1], num_classes=3,
                             steps=0, restarts=1)
    np.testing.assert_array_equal(given.labels, [1, 1])


def test_loss_terms_by_hand():
    masks = np.zeros([1, 5, 5, 1], np.float32)
    masks[0, 2, 2] = 1.0  # one missing pixel in the middle
    w = np.asarray(inversion.importance_weights(masks, window=3))[0, ..., 0]
    expected = np.zeros([5, 5])
    expected[1:4, 1:4] = 1 / 9  # its 3x3 neighbours see 1 of 9 pixels missing
    expected[2, 2] = 0.0  # the hole itself weighs nothing
    np.testing.assert_allclose(w, expected, atol=1e-7)
    corner = np.zeros([1, 5, 5, 1], np.float32)
    corner[0, 0, 0] = 1.0
    w = np.asarray(inversion.importance_weights(corner, window=3))[0, ..., 0]
    assert w[0, 1] == pytest.approx(1 / 6) and w[1, 1] == pytest.approx(1 / 9)  # 6 in the image

    a = np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1)
    b = np.zeros_like(a)
    m = np.array([[[0.0], [1.0]], [[0.0], [0.0]]], np.float32)[None].repeat(2, axis=0)
    np.testing.assert_allclose(inversion.contextual_loss(a, b, m), [0 + 2 + 3, 4 + 6 + 7])

    logits = np.array([[0.5], [-1.0], [2.0]], np.float32)
    for name in ("minimax", "non_saturating", "wasserstein", "hinge", "least_squares"):
        rows = np.asarray(inversion.per_example_generator_loss(name, logits))
        loss = tfgans.losses.get(name)
        np.testing.assert_allclose(rows.sum(), 3 * float(loss.generator_loss(logits)), rtol=1e-5)
        np.testing.assert_allclose(rows[1], float(loss.generator_loss(logits[1:2])), rtol=1e-5)
    # minimax is log(1 - sigmoid(l)) (plus TF-GAN's constant -softplus(-1)).
    np.testing.assert_allclose(inversion.per_example_generator_loss("minimax", logits),
                               np.log(1 - 1 / (1 + np.exp(-logits[:, 0]))) - np.log1p(np.exp(-1)),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="depends on the real images' logits"):
        inversion.per_example_generator_loss("relativistic", logits)


def test_poisson_blend_recovers_an_offset_image_and_solves_laplace():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(2, 8, 8, 3))
    masks = np.zeros([2, 8, 8, 1])
    masks[0, 2:6, 3:7] = 1.0
    masks[1, 0:3, 0:8] = 1.0  # touches the border
    # Generated = target + a constant: same gradients, so the blend is the target itself.
    np.testing.assert_allclose(inversion.poisson_blend(y, y + 0.7, masks), y, atol=1e-8)
    g = rng.normal(size=y.shape)
    f = inversion.poisson_blend(y, g, masks)
    np.testing.assert_array_equal(f[masks[..., 0] == 0], y[masks[..., 0] == 0])
    # In the hole, the discrete Laplacian of f equals g's (4-neighbours inside the image).
    def laplacian(x):
        p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=np.nan)
        n = [p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]]
        return sum(np.where(np.isnan(q), 0, x - q) for q in n)

    hole = np.broadcast_to(masks, y.shape) == 1
    np.testing.assert_allclose(laplacian(f)[hole], laplacian(g)[hole], atol=1e-6)


def test_inpainting_keeps_known_pixels_and_fills_the_hole(gan):
    targets = gan.generate(4, seed=1)
    masks = np.zeros([8, 8, 1], np.float32)
    masks[2:6, 2:6] = 1.0  # the centre is missing
    damaged = targets * (1 - masks)  # the hole's pixels must not matter
    result = inversion.inpaint(gan.inference_generator, damaged, masks,
                               discriminator=gan.discriminator, steps=150, restarts=3, seed=2)
    np.testing.assert_array_equal(result.images * (1 - masks), damaged * (1 - masks))
    hole_error = _mse(result.images, targets, np.broadcast_to(masks, (4, 8, 8, 1)))
    baseline = _mse(gan.generate(4, seed=9), targets, np.broadcast_to(masks, (4, 8, 8, 1)))
    assert np.median(hole_error) <= 0.25 * np.median(baseline), (hole_error, baseline)
    pasted = inversion.inpaint(gan.inference_generator, damaged, masks, blend="paste",
                               importance_weighting=False, steps=1, restarts=1)
    np.testing.assert_allclose(pasted.images, masks * pasted.reconstructions
                               + (1 - masks) * damaged, atol=1e-7)
    with pytest.raises(ValueError, match="`masks` must be"):
        inversion.inpaint(gan.inference_generator, damaged, masks[:4], steps=1)
    with pytest.raises(ValueError, match="mark no missing pixel"):
        inversion.inpaint(gan.inference_generator, damaged, np.zeros([8, 8]), steps=1)


# ------------------------------------------------------------------------------- CLI


@pytest.fixture
def run_dir(tmp_path_factory):
    """A 2-step unconditional run on 8x8 images (trained in-process), a target PNG of its
    generator and a mask."""
    base = tmp_path_factory.mktemp("invert")
    write_pngs(base / "images", 8)
    config = config_lib.config_from_dict(
        {"model": {"name": "mlp", "latent_dim": 4, "width": 4},
         "data": {"name": "image_folder", "path": str(base / "images"), "batch_size": 4},
         "loss": {"name": "non_saturating"},
         "train": {"steps": 2, "checkpoint_every": 2, "sample_every": 2, "log_every": 2,
                   "health": False}})
    run_lib.train(config, str(base / "run"), verbose=0)
    _, estimator = run_lib.load_run(str(base / "run"))
    target = estimator.predict(num_samples=1, seed=3)[0]
    pixels = np.round((target + 1) * 127.5).astype(np.uint8)
    (base / "target.png").write_bytes(tf.io.encode_png(pixels).numpy())
    mask = np.zeros([8, 8, 1], np.uint8)
    mask[2:6, 2:6] = 255
    (base / "mask.png").write_bytes(tf.io.encode_png(mask).numpy())
    return base, estimator.trainer, pixels


def test_cli_invert_inpaint_and_bad_input(run_dir, capsys, tmp_path):
    """One run of `tfgans invert --mask` in a subprocess, the bad-input lines in-process
    (one test: xdist workers would each train the run for a test of their own)."""
    base, trainer, target = run_dir
    out = base / "out" / "inv.png"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "invert", str(base / "run"),
         str(base / "target.png"), "--mask", str(base / "mask.png"), "--steps", "40",
         "--restarts", "2", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "target | reconstruction | inpainted" in proc.stdout and "inv.npy" in proc.stdout
    row = tf.io.decode_png(out.read_bytes()).numpy()
    assert row.shape == (8 + 4, 3 * 10 + 2, 1)  # three 8x8 tiles, 2px padding
    tiles = [row[2:10, 2 + 10 * i:10 + 10 * i] for i in range(3)]
    np.testing.assert_array_equal(tiles[0], target)
    known = np.ones([8, 8, 1], bool)
    known[2:6, 2:6] = False
    np.testing.assert_array_equal(tiles[2][known], target[known])
    latent = np.load(base / "out" / "inv.npy", allow_pickle=False)
    assert latent.shape == (1, 4) and latent.dtype == np.float32
    image = trainer.generate_from_noise(latent)[0]
    reconstruction = np.round((np.clip(image, -1, 1) + 1) * 127.5)
    np.testing.assert_allclose(tiles[1], reconstruction, atol=1)

    # Bad input: one line each, a non-zero exit, nothing written.
    run, target = str(base / "run"), str(base / "target.png")
    out = str(tmp_path / "o.png")
    (tmp_path / "big.png").write_bytes(tf.io.encode_png(np.zeros([16, 16, 1], np.uint8)).numpy())
    (tmp_path / "rgb.png").write_bytes(tf.io.encode_png(np.zeros([8, 8, 3], np.uint8)).numpy())
    (tmp_path / "black.png").write_bytes(tf.io.encode_png(np.zeros([8, 8, 1], np.uint8)).numpy())
    white = np.full([8, 8, 1], 255, np.uint8)
    (tmp_path / "white.png").write_bytes(tf.io.encode_png(white).numpy())
    (tmp_path / "fake.png").write_bytes(b"GIF89a not a png")
    (tmp_path / "o.png").write_bytes(b"an earlier result")
    cases = [
        ([run, str(tmp_path / "nope.png")], "does not exist"),
        ([run, str(tmp_path / "fake.png")], "is not a PNG file: give the image as a .png"),
        ([run, str(tmp_path / "big.png")], "is 16x16 with 1 channel(s), but the run makes 8x8"),
        ([run, str(tmp_path / "rgb.png")], "with 3 channel(s), but the run makes 8x8 images "
                                           "with 1 channel(s)"),
        ([run, target, "--mask", str(tmp_path / "big.png")], "but the run makes 8x8 images:"),
        ([run, target, "--mask", str(tmp_path / "fake.png")], "give the mask as a .png"),
        ([run, target, "--mask", str(tmp_path / "black.png")], "marks no missing pixel"),
        ([run, target, "--mask", str(tmp_path / "white.png")], "marks every pixel missing"),
        ([run, target, "--label", "1"], "is not conditional"),
        ([run, target, "--steps", "0"], "--steps must be an integer in [1, "),
        ([str(tmp_path / "nowhere"), target], "does not exist"),
    ]
    for argv, match in cases:
        fails(capsys, ["invert", *argv, "--out", out], match)
    fails(capsys, ["invert", run, target, "--out", str(tmp_path / "o.jpg")], "must be a .png")
    # A model dir of an image -> image run: refused before its networks are built.
    paired = tmp_path / "paired"
    paired.mkdir()
    config = config_lib.config_from_dict(
        {"model": {"name": "pix2pix"},
         "data": {"name": "edges2fashion", "image_size": 28, "channels": 1}})
    config_lib.save_config(config, str(paired / "config.yaml"))
    fails(capsys, ["invert", str(paired), target, "--out", out], "needs a noise -> image run")
    assert (tmp_path / "o.png").read_bytes() == b"an earlier result"  # left as it was
    assert not [n for n in os.listdir(tmp_path) if n.startswith("o.") and n != "o.png"]
