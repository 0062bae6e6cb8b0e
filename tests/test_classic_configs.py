"""The classic objectives' configs (issue 16, point 1): each file loads, resolves to the
paper's settings, and trains two steps in-process with those settings reaching the
trainer; one CLI run (train, generate, export) for the family."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from pipelines import cli, run
from pipelines.config import load_config, resolve

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ADAM, RMSPROP, SGD = keras.optimizers.Adam, keras.optimizers.RMSprop, keras.optimizers.SGD

#: name -> the paper's settings, as effective values after `resolve`. `optimizer` is
#: (class, learning rate, extra attributes) for both networks; `conditioning` None means
#: unconditional (data.labels false).
PAPERS = {
    # gan_mlp and cgan: the papers' SGD with momentum 0.5 at 0.01, not their 0.1, which
    # sends this LeakyReLU discriminator's logits to NaN within 22 / 53 steps (the configs'
    # headers).
    "gan_mlp": dict(model="mlp", loss="minimax", penalty=0.0, clip=0.0, n_critic=1,
                    optimizer=(SGD, 0.01, {"momentum": 0.5}), batch=100, latent=100,
                    width=600, conditioning=None),
    "wgan_clip": dict(model="dcgan", loss="wasserstein", penalty=0.0, clip=0.01, n_critic=5,
                      optimizer=(RMSPROP, 5e-5, {"momentum": 0.0}), batch=64, latent=100,
                      width=64, conditioning=None),
    "wgan_gp": dict(model="dcgan", loss="wasserstein", penalty=10.0, penalty_type="wgan_gp",
                    clip=0.0, n_critic=5, optimizer=(ADAM, 1e-4, {"beta_1": 0.0, "beta_2": 0.9}),
                    batch=64, latent=128, width=64, conditioning=None),
    "lsgan": dict(model="dcgan", loss="least_squares", penalty=0.0, clip=0.0, n_critic=1,
                  optimizer=(ADAM, 2e-4, {"beta_1": 0.5, "beta_2": 0.999}), batch=64,
                  latent=128, width=64, conditioning=None),
    "dragan": dict(model="dcgan", loss="non_saturating", penalty=10.0, penalty_type="dragan",
                   clip=0.0, n_critic=1, optimizer=(ADAM, 1e-4, {"beta_1": 0.5, "beta_2": 0.9}),
                   batch=64, latent=128, width=64, conditioning=None),
    "hinge": dict(model="dcgan", loss="hinge", penalty=0.0, clip=0.0, n_critic=5,
                  optimizer=(ADAM, 2e-4, {"beta_1": 0.0, "beta_2": 0.9}), batch=64, latent=128,
                  width=64, spectral_norm=True, conditioning=None),
    "relativistic": dict(model="dcgan", loss="relativistic", penalty=0.0, clip=0.0, n_critic=1,
                         optimizer=(ADAM, 2e-4, {"beta_1": 0.5, "beta_2": 0.999}), batch=32,
                         latent=128, width=64, conditioning=None),
    "cgan": dict(model="mlp", loss="minimax", penalty=0.0, clip=0.0, n_critic=1,
                 optimizer=(SGD, 0.01, {"momentum": 0.5}), batch=100, latent=100, width=600,
                 conditioning="concat"),
    "acgan": dict(model="dcgan", loss="minimax", penalty=0.0, clip=0.0, n_critic=1,
                  optimizer=(ADAM, 2e-4, {"beta_1": 0.5, "beta_2": 0.999}), batch=100,
                  latent=128, width=64, conditioning="acgan"),
    "projection": dict(model="dcgan", loss="hinge", penalty=0.0, clip=0.0, n_critic=5,
                       optimizer=(ADAM, 2e-4, {"beta_1": 0.0, "beta_2": 0.9}), batch=64,
                       latent=128, width=64, spectral_norm=True, conditioning="projection"),
}

TINY = ["data.name=image_folder", "model.width=4", "model.latent_dim=8", "data.batch_size=8",
        "train.steps=2", "train.jit_compile=false", "eval.every=0", "train.checkpoint_every=2",
        "train.sample_every=2"]


def config_path(name):
    return os.path.join(REPO, "configs", f"{name}_fashion_mnist.yaml")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """16 random 28x28 greyscale PNGs in two class folders (a, b)."""
    root = tmp_path_factory.mktemp("classic_images")
    rng = np.random.default_rng(16)
    for label in ("a", "b"):
        os.makedirs(root / label)
        for i in range(8):
            pixels = rng.integers(0, 256, (28, 28, 1), dtype=np.uint8)
            (root / label / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    return str(root)


def test_every_classic_config_exists_with_its_header():
    for name in PAPERS:
        with open(config_path(name), encoding="utf-8") as f:
            head = f.read().split("\n\n")[0]
        assert "https://arxiv.org/abs/" in head, name
        assert f"tfgans train configs/{name}_fashion_mnist.yaml" in head, name
        assert "per step at width" in head and "TIME_" not in head, name  # measured
        assert "Quality: not measured yet." in head and "FID" not in head, name


@pytest.mark.parametrize("name", list(PAPERS))
def test_resolves_to_the_papers_settings(name):
    paper = PAPERS[name]
    config = load_config(config_path(name))
    assert config.data.name == "fashion_mnist" and config.data.labels == bool(paper["conditioning"])
    classes = 10 if paper["conditioning"] else None
    c = resolve(config, (28, 28, 1), classes)
    assert (c.model.name, c.model.latent_dim, c.model.width) == (
        paper["model"], paper["latent"], paper["width"])
    assert c.model.spectral_norm == paper.get("spectral_norm", False)
    assert c.model.conditioning == paper["conditioning"]
    assert c.data.batch_size == paper["batch"]
    assert c.loss.name == paper["loss"]
    assert c.loss.gradient_penalty == paper["penalty"]
    if "penalty_type" in paper:
        assert (c.loss.penalty_type, c.loss.penalty_target) == (paper["penalty_type"], 1.0)
    assert c.loss.weight_clip == paper["clip"]
    assert c.loss.n_critic == paper["n_critic"]
    assert c.loss.label_smoothing == 0.0 and c.train.ema == 0.0  # neither is in the papers
    cls, lr, extra = paper["optimizer"]
    name_of = {ADAM: "adam", RMSPROP: "rmsprop", SGD: "sgd"}[cls]
    assert (c.optimizer.generator, c.optimizer.discriminator) == (name_of, name_of)
    assert c.optimizer.generator_lr == c.optimizer.discriminator_lr == lr
    for key, value in extra.items():
        assert getattr(c.optimizer, key) == value, key


@pytest.mark.parametrize("name", list(PAPERS))
def test_trains_two_steps_with_the_papers_settings(name, images, tmp_path):
    paper = PAPERS[name]
    config = load_config(config_path(name), TINY + [f"data.path={images}"])
    estimator = run.train(config, str(tmp_path / "run"), verbose=0)
    trainer = estimator.trainer
    assert estimator.step == 2
    results = {m.name: float(m.result()) for m in trainer.metrics}
    for key in ("d_loss", "g_loss", "d_real", "d_fake", "penalty"):
        assert math.isfinite(results[key]), (key, results)
    assert results["nonfinite"] == 0.0
    assert trainer.gan_loss.name == paper["loss"]
    assert trainer.n_critic == paper["n_critic"]
    assert trainer.penalty.weight == paper["penalty"]
    assert trainer.penalty.type == paper.get("penalty_type", "wgan_gp")
    assert (trainer.penalty.weight_clip or 0.0) == paper["clip"]
    if paper["clip"]:
        weights = [w.numpy() for w in trainer.discriminator.trainable_weights]
        assert max(float(np.abs(w).max()) for w in weights) <= paper["clip"] + 1e-7
    if paper["penalty"]:
        assert results["penalty"] > 0.0
    assert trainer.ema_decay is None
    cls, lr, extra = paper["optimizer"]
    for network in ("generator", "discriminator"):
        optimizer = trainer.optimizers[network]
        assert type(optimizer) is cls, (network, optimizer)
        assert float(optimizer.learning_rate) == pytest.approx(lr)
        for key, value in extra.items():
            assert float(getattr(optimizer, key)) == pytest.approx(value), (network, key)
    if paper["conditioning"]:
        assert trainer.num_classes == 2
        assert trainer.discriminator.conditioning == paper["conditioning"]
        assert trainer.auxiliary_classifier == (paper["conditioning"] == "acgan")
        assert ("ac_loss" in results) == (paper["conditioning"] == "acgan")
    else:
        assert trainer.num_classes is None
    assert getattr(trainer.discriminator, "spectral_norm", False) == paper.get(
        "spectral_norm", False)
    written = load_config(str(tmp_path / "run" / "config.yaml"))
    assert written.loss.n_critic == paper["n_critic"] and written.train.ema == 0.0


def test_cli_train_generate_export(images, tmp_path, monkeypatch, capsys):
    """The family's CLI round trip on the conditional MLP (cgan): train 2 steps, a PNG grid,
    a SavedModel whose serving signature maps (noise, labels) to images in [0, 1]."""
    monkeypatch.chdir(tmp_path)
    sets = [a for o in TINY + [f"data.path={images}"] for a in ("--set", o)]
    assert cli.main(["train", config_path("cgan"), "--model-dir", "run"] + sets) == 0
    assert "at step 2 of 2" in capsys.readouterr().out
    assert cli.main(["generate", "run", "--num", "4", "--out", "grid.png", "--labels", "1"]) == 0
    grid = tf.io.decode_png((tmp_path / "grid.png").read_bytes()).numpy()
    assert grid.shape[-1] == 1 and grid.shape[0] >= 28
    assert cli.main(["export", "run", "--export-dir", "served", "--version", "1"]) == 0
    assert (tmp_path / "served" / "1" / "saved_model.pb").exists()
    serving = tf.saved_model.load(str(tmp_path / "served" / "1")).signatures["serving_default"]
    out = serving(noise=tf.random.normal([3, 8]), labels=tf.constant([0, 1, 1], tf.int32))
    generated = out["images"].numpy()
    assert generated.shape == (3, 28, 28, 1)
    assert np.all(np.isfinite(generated)) and generated.min() >= 0.0 and generated.max() <= 1.0
