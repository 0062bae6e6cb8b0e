"""BEGAN and EBGAN (issue 16, points 2 and 3): each step against a hand computation from the
networks (k_t, M_global, the margin loss, the pull-away term), BEGAN's k_t resumes exactly,
both configs train in-process (one through the CLI: train, generate, export), and both
exports load and run in one TensorFlow-only process."""

import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
import tfgans.models
from pipelines import cli, run
from pipelines.config import load_config, resolve
from tfgans.losses import energy
from tfgans.training import BEGAN, EBGAN
from tfgans.training import noise as noise_lib
from tfgans.training.energy import D_STREAM, G_STREAM, NOISE

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPE, LATENT, BATCH = (28, 28, 1), 8, 8
TINY = ["data.name=image_folder", "model.width=4", "model.latent_dim=8", "data.batch_size=8",
        "train.steps=2", "train.jit_compile=false", "eval.every=0", "train.checkpoint_every=2",
        "train.sample_every=2"]


def config_path(name):
    return os.path.join(REPO, "configs", f"{name}_fashion_mnist.yaml")


def real_batch(seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (BATCH, *SHAPE)).astype("float32")


def make(cls, name, **compile_kwargs):
    keras.utils.set_random_seed(1)
    generator, discriminator = tfgans.models.get(name)(SHAPE, LATENT, width=4)
    trainer = cls(generator, discriminator, latent_dim=LATENT, seed=5)
    trainer.compile(jit_compile=False, **compile_kwargs)
    return trainer


def step_noise(trainer, stream):
    """The noise of step 0's update `stream`, drawn here from (seed, step, stream)."""
    return noise_lib.normal([BATCH, LATENT], noise_lib.fold_seed(trainer.seed, 0, stream, NOISE))


def l1(x, reconstruction):
    return float(np.mean(np.abs(np.asarray(x) - np.asarray(reconstruction))))


def pull_away(codes):
    s = np.asarray(codes, np.float64).reshape(len(codes), -1)
    s = s / np.linalg.norm(s, axis=1, keepdims=True)
    cos = s @ s.T
    n = len(s)
    return (np.sum(cos**2) - n) / (n * (n - 1))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """16 random 28x28 greyscale PNGs in an image folder."""
    root = tmp_path_factory.mktemp("energy_images")
    rng = np.random.default_rng(16)
    for i in range(16):
        pixels = rng.integers(0, 256, (28, 28, 1), dtype=np.uint8)
        (root / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    return str(root)


# ------------------------------------------------------------ the steps, computed by hand


def test_began_step_k_and_m_global_by_hand():
    """k_t+1 = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1) with L(x) from the
    discriminator before its update, L(G(z_G)) from the generator before its update and the
    discriminator after; M_global = L(x) + |gamma L(x) - L(G(z_G))|; L_D uses k_t."""
    trainer = make(BEGAN, "began", gamma=0.7, lambda_k=0.05)
    trainer.k.assign(0.3)
    x = real_batch()
    real_loss = l1(x, trainer.discriminator(x, training=True)[0])
    fake_d = trainer.generator(step_noise(trainer, D_STREAM), training=True)
    fake_d_loss = l1(fake_d, trainer.discriminator(fake_d, training=True)[0])
    fake_g = trainer.generator(step_noise(trainer, G_STREAM), training=True)

    logs = {k: float(v) for k, v in trainer.train_step(tf.constant(x)).items()}

    fake_loss = l1(fake_g, trainer.discriminator(fake_g, training=True)[0])
    assert logs["real_ae_loss"] == pytest.approx(real_loss, rel=1e-5)
    assert logs["fake_ae_loss"] == logs["g_loss"] == pytest.approx(fake_loss, rel=1e-5)
    assert logs["d_loss"] == pytest.approx(real_loss - 0.3 * fake_d_loss, rel=1e-5)
    k = float(energy.began_k_update(0.3, real_loss, fake_loss, gamma=0.7, lambda_k=0.05))
    assert k == pytest.approx(min(max(0.3 + 0.05 * (0.7 * real_loss - fake_loss), 0), 1))
    assert 0.0 < k < 1.0 and abs(k - 0.3) > 1e-3  # the update moved k, unclipped
    assert float(trainer.k.numpy()) == logs["k"] == pytest.approx(k, abs=1e-6)
    m_global = float(energy.began_convergence(real_loss, fake_loss, gamma=0.7))
    assert m_global == pytest.approx(real_loss + abs(0.7 * real_loss - fake_loss))
    assert logs["m_global"] == pytest.approx(m_global, rel=1e-5)
    assert logs["nonfinite"] == 0.0


def test_ebgan_step_margin_loss_and_pull_away_by_hand():
    """L_D = mean E(x) + mean max(0, m - E(G(z_D))) with the discriminator before its
    update; L_G = mean E(G(z_G)) + w f_PT(codes) with the generator before its update and
    the discriminator after; E the per-example mean squared reconstruction error."""
    margin, weight = 0.4, 0.3
    trainer = make(EBGAN, "ebgan", margin=margin, pull_away_weight=weight)
    x = real_batch()

    def energies(images):
        reconstruction, codes = trainer.discriminator(images, training=True)
        e = np.mean((np.asarray(images) - np.asarray(reconstruction)) ** 2, axis=(1, 2, 3))
        return e, np.asarray(codes)

    real_e, _ = energies(x)
    fake_e, _ = energies(trainer.generator(step_noise(trainer, D_STREAM), training=True))
    fake_g = trainer.generator(step_noise(trainer, G_STREAM), training=True)

    logs = {k: float(v) for k, v in trainer.train_step(tf.constant(x)).items()}

    assert logs["d_loss"] == pytest.approx(
        real_e.mean() + np.maximum(margin - fake_e, 0.0).mean(), rel=1e-5)
    assert (logs["d_real"], logs["d_fake"]) == pytest.approx((real_e.mean(), fake_e.mean()),
                                                             rel=1e-5)
    g_e, codes = energies(fake_g)
    pt = pull_away(codes)
    assert 0.0 < pt < 1.0
    assert logs["pull_away"] == pytest.approx(pt, rel=1e-4)
    assert logs["g_loss"] == pytest.approx(g_e.mean() + weight * pt, rel=1e-5)
    assert logs["nonfinite"] == 0.0


# ------------------------------------------------------------------------- exact resume


def began_fn():
    keras.utils.set_random_seed(2)
    generator, discriminator = tfgans.models.get("began")(SHAPE, LATENT, width=4)
    trainer = BEGAN(generator, discriminator, latent_dim=LATENT, seed=3)
    # gamma 1 and a large gain: k_t moves well away from 0 within a few steps.
    # Eager steps: the resume path is the estimator's, without tracing a graph (test time).
    trainer.compile(keras.optimizers.Adam(1e-3, 0.5), keras.optimizers.Adam(1e-3, 0.5),
                    gamma=1.0, lambda_k=0.1, run_eagerly=True)
    return trainer


def began_data():
    x = np.concatenate([real_batch(0), real_batch(1)])
    return tf.data.Dataset.from_tensor_slices(x).batch(BATCH, drop_remainder=True).repeat()


def test_began_k_resumes_exactly(tmp_path):
    """1 + 1 steps equal 2 (N = 1 for test time: every eager step costs seconds here)."""

    def estimator(path):
        return tfgans.Estimator(began_fn, str(path), checkpoint_every=1, sample_every=100,
                                log_every=100, num_sample_images=4, jit_compile=False,
                                verbose=0)

    whole = estimator(tmp_path / "whole")
    whole.train(began_data, max_steps=2)
    estimator(tmp_path / "split").train(began_data, max_steps=1)
    resumed = estimator(tmp_path / "split")
    assert resumed.step == 1 and float(resumed.trainer.k.numpy()) > 0.0
    resumed.train(began_data, max_steps=2)
    k = float(whole.trainer.k.numpy())
    assert k > 0.0 and float(resumed.trainer.k.numpy()) == pytest.approx(k, abs=1e-7)
    for name in ("generator", "discriminator", "generator_optimizer",
                 "discriminator_optimizer"):
        a, b = whole.trainer.checkpoint_items()[name], resumed.trainer.checkpoint_items()[name]
        for u, v in zip(a, b, strict=True):
            np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------- configs, CLI and the exports


@pytest.mark.parametrize("name, expected", [
    ("began", dict(latent_dim=64, batch=16, lr=1e-4, loss={"gamma": 0.5, "lambda_k": 0.001})),
    ("ebgan", dict(latent_dim=100, batch=64, lr=1e-3,
                   loss={"margin": 1.0, "pull_away_weight": 0.1})),
])
def test_configs_hold_the_papers_settings(name, expected):
    with open(config_path(name), encoding="utf-8") as f:
        head = f.read().split("\n\n")[0]
    assert "https://arxiv.org/abs/" in head and f"tfgans train configs/{name}" in head
    c = resolve(load_config(config_path(name)), SHAPE, None)
    assert (c.model.name, c.model.latent_dim, c.data.batch_size) == (
        name, expected["latent_dim"], expected["batch"])
    assert c.loss.to_dict() == expected["loss"]
    assert c.optimizer.generator == c.optimizer.discriminator == "adam"
    assert c.optimizer.generator_lr == c.optimizer.discriminator_lr == expected["lr"]
    assert (c.optimizer.beta_1, c.optimizer.beta_2, c.train.ema) == (0.5, 0.999, 0.0)


def test_configs_train_and_both_exports_run_with_tensorflow_only(images, tmp_path,
                                                                 monkeypatch, capsys):
    """BEGAN through the CLI (train 2 steps, a PNG grid, an export); EBGAN's config through
    `run.train` (2 steps) and the estimator's export; then one TensorFlow-only process
    loads both exports and calls serving_default and generate (EBGAN's images compared with
    the trained generator's)."""
    monkeypatch.chdir(tmp_path)
    sets = [a for o in TINY + [f"data.path={images}", "model.embedding_dim=4"]
            for a in ("--set", o)]
    assert cli.main(["train", config_path("began"), "--model-dir", "began"] + sets) == 0
    assert "at step 2 of 2" in capsys.readouterr().out
    assert cli.main(["generate", "began", "--num", "4", "--out", "grid.png"]) == 0
    assert tf.io.decode_png((tmp_path / "grid.png").read_bytes()).shape[-1] == 1
    assert cli.main(["export", "began", "--export-dir", "served_began", "--version", "1"]) == 0
    written = load_config(str(tmp_path / "began" / "config.yaml"))
    assert (written.loss.gamma, written.loss.lambda_k, written.train.ema) == (0.5, 0.001, 0.0)

    config = load_config(config_path("ebgan"), TINY + [f"data.path={images}"])
    ebgan = run.train(config, str(tmp_path / "ebgan"), verbose=0)
    trainer = ebgan.trainer
    assert ebgan.step == 2 and (trainer.margin, trainer.pull_away_weight) == (1.0, 0.1)
    results = {m.name: float(m.result()) for m in trainer.metrics}
    assert all(math.isfinite(v) for v in results.values()) and results["nonfinite"] == 0.0
    assert type(trainer.optimizers["generator"]) is keras.optimizers.Adam
    assert float(trainer.optimizers["discriminator"].learning_rate) == pytest.approx(1e-3)
    ebgan.export_saved_model(str(tmp_path / "served_ebgan"), version=1)

    noise = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    np.save(tmp_path / "noise.npy", noise)
    np.save(tmp_path / "ebgan.npy", (np.asarray(trainer.export_spec().model(noise)) + 1) / 2)
    script = f"""
import sys
for name in ("keras", "tf_keras", "tfgans", "pipelines"):
    sys.modules[name] = None  # TensorFlow only: importing these raises from here on
import numpy as np, tensorflow as tf
noise = tf.constant(np.load("noise.npy"))
for name in ("began", "ebgan"):
    m = tf.saved_model.load(f"served_{{name}}/1")
    out = m.signatures["serving_default"](noise=noise)["images"].numpy()
    assert out.shape == (3, 28, 28, 1) and 0 <= out.min() and out.max() <= 1, out.shape
    if name == "ebgan":  # the served generator is the trained one
        np.testing.assert_allclose(out, np.load("ebgan.npy"), atol=1e-5)
    gen = m.signatures["generate"](num_samples=tf.constant(2), seed=tf.constant(7, tf.int64))
    assert gen["images"].shape == (2, 28, 28, 1), gen["images"].shape
    assert tf.io.decode_png(gen["png_bytes"][0]).shape == (28, 28, 1)
print("ok", sorted(m for m, v in sys.modules.items()
                   if v is not None and m.split(".")[0] in ("tfgans", "keras")))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ok []" in proc.stdout
