"""Progressive growing (issue 13, item 4): the schedule, the fade-in of the networks and
of the reals against hand computations, the drift term, and the config through the CLI:
train, resume exactly across a phase change (N + N steps equal 2N), generate, export
(loaded in a TensorFlow-only process)."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans.models
from tfgans.models.progan import fade_reals
from tfgans.training import ProGAN
from tfgans.training.progan import schedule

from test_zoo_presets import write_class_pngs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATENT = 6


def networks(seed=0, width=4):
    keras.utils.set_random_seed(seed)
    g, d = tfgans.models.get("progan")((28, 28, 1), LATENT, width=width)
    g(np.zeros((2, LATENT), np.float32))
    d(np.zeros((2, 28, 28, 1), np.float32))
    return g, d


def upsample(x, f):
    return x.repeat(f, axis=1).repeat(f, axis=2)


def pool(x, f):
    n, h, w, c = x.shape
    return x.reshape(n, h // f, f, w // f, f, c).mean(axis=(2, 4))


def test_schedule_by_hand():
    # stabilise 3 | fade 2 (alpha 0, 0.5) | stabilise 3 | fade 2 | stabilise (for ever).
    expected = [(0, 1), (0, 1), (0, 1), (1, 0), (1, 0.5), (1, 1), (1, 1), (1, 1),
                (2, 0), (2, 0.5), (2, 1), (2, 1), (2, 1), (2, 1)]
    got = [tuple(float(v) for v in schedule(t, 3, 2, 3)) for t in range(len(expected))]
    assert got == [(float(p), float(a)) for p, a in expected]
    assert tuple(map(float, schedule(10**6, 3, 2, 3))) == (2.0, 1.0)
    # Four resolutions (32 px): phase 3 after three more phases.
    assert tuple(map(float, schedule(1 + 2 * 5 + 3, 4, 4, 1))) == (3.0, 0.75)


@pytest.fixture(scope="module")
def built():
    return networks()


def test_networks_are_built_whole_and_start_at_seven_pixels(built):
    g, d = built
    assert (g.stages, g.start_size, d.stages) == (3, 7, 3)
    noise = keras.random.normal((4, LATENT), seed=1)
    coarse, full = g(noise, phase=0).numpy(), g(noise).numpy()  # no phase: fully grown
    assert coarse.shape == full.shape == (4, 28, 28, 1)
    np.testing.assert_array_equal(coarse, upsample(pool(coarse, 4), 4))  # 7x7 blocks
    np.testing.assert_array_equal(full, g(noise, phase=2, alpha=1.0))
    assert not np.allclose(full, upsample(pool(full, 2), 2))
    g32, _ = tfgans.models.get("progan")((32, 32, 3), LATENT, width=4)
    assert (g32.stages, g32.start_size) == (4, 4)
    with pytest.raises(ValueError, match="unconditional"):
        tfgans.models.get("progan")((28, 28, 1), LATENT, num_classes=10)


def _perturbed(layers, amount=0.5):
    """Adds `amount` to every weight of `layers`; returns a function that undoes it."""
    weights = [v for layer in layers for v in layer.weights]
    for v in weights:
        v.assign(v + amount)
    return lambda: [v.assign(v - amount) for v in weights]


@pytest.mark.parametrize("phase", [1, 2])
def test_at_alpha_zero_the_grown_networks_equal_the_smaller_ones(built, phase):
    """At fade-in alpha 0 the grown generator returns the previous phase's images (the
    smaller network's images upsampled), and the grown discriminator is the smaller one
    reading the images pooled once more, whatever the new layers hold (to-RGB / from-RGB
    and block); the new layers count from alpha > 0, as alpha * new + (1 - alpha) * old."""
    g, d = built
    noise = keras.random.normal((4, LATENT), seed=2)
    smaller = g(noise, phase=phase - 1, alpha=1.0).numpy()
    factor = 2 ** (3 - phase)  # the smaller resolution's upsampling factor
    np.testing.assert_array_equal(smaller, upsample(pool(smaller, factor), factor))
    np.testing.assert_allclose(g(noise, phase=phase, alpha=0.0), smaller, atol=1e-6)
    grown = g(noise, phase=phase, alpha=1.0).numpy()
    np.testing.assert_allclose(g(noise, phase=phase, alpha=0.25),
                               0.25 * grown + 0.75 * smaller, atol=1e-5)
    undo = _perturbed(g.convs[phase] + [g.to_rgb[phase]])
    try:
        np.testing.assert_allclose(g(noise, phase=phase, alpha=0.0), smaller, atol=1e-6)
        assert not np.allclose(g(noise, phase=phase, alpha=1.0), grown, atol=1e-3)
    finally:
        undo()

    x = keras.random.uniform((8, 28, 28, 1), -1, 1, seed=3).numpy()
    smaller = d(x, phase=phase - 1, alpha=1.0).numpy()
    np.testing.assert_allclose(d(x, phase=phase, alpha=0.0), smaller, atol=1e-5)
    np.testing.assert_allclose(d(upsample(pool(x, factor), factor), phase=phase - 1), smaller,
                               atol=1e-5)
    grown = d(x, phase=phase, alpha=1.0).numpy()
    undo = _perturbed([d.from_rgb[phase]] + d.convs[phase])
    try:
        np.testing.assert_allclose(d(x, phase=phase, alpha=0.0), smaller, atol=1e-5)
        assert not np.allclose(d(x, phase=phase, alpha=1.0), grown, atol=1e-3)
    finally:
        undo()


def test_reals_fade_like_the_generator():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(fade_reals(x, 2, 1.0, 3), x, atol=1e-6)
    np.testing.assert_allclose(fade_reals(x, 0, 0.3, 3), upsample(pool(x, 4), 4), atol=1e-6)
    hand = 0.25 * upsample(pool(x, 2), 2) + 0.75 * upsample(pool(x, 4), 4)
    np.testing.assert_allclose(fade_reals(x, 1, 0.25, 3), hand, atol=1e-6)


def _trainer(drift, lr=0.1):
    g, d = networks(seed=4)
    gan = ProGAN(g, d, latent_dim=LATENT, fade_steps=2, stabilize_steps=1, seed=5)
    gan.compile(keras.optimizers.SGD(lr), keras.optimizers.SGD(lr), drift=drift,
                gradient_penalty=0.0)
    return gan


def test_drift_term_by_hand():
    """One critic step with SGD: the drift term adds lr * drift * d/dw mean(D(x)^2) to the
    update (x: the reals faded at step 0, i.e. pooled to 7x7), and the `drift` metric is
    mean(D(x)^2) before the update."""
    x = np.random.default_rng(1).uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32)
    without, with_drift = _trainer(0.0), _trainer(0.5)
    d = with_drift.discriminator
    reals = fade_reals(x, 0, 1.0, 3)
    with tf.GradientTape() as tape:
        mean_square = tf.reduce_mean(tf.square(d(reals, phase=0)))
    grads = tape.gradient(mean_square, d.trainable_variables)
    without.phase.assign(2)
    without.alpha.assign(0.5)
    logs = with_drift.train_step(x)
    without.train_step(x)
    assert float(logs["drift"]) == pytest.approx(float(mean_square), rel=1e-5)
    for a, b, grad in zip(d.trainable_variables, without.discriminator.trainable_variables,
                          grads, strict=True):
        np.testing.assert_allclose(a.numpy() - b.numpy(), -0.1 * 0.5 * grad.numpy(),
                                   atol=1e-6)
    # The step sets the trainer state from the schedule (step 0: phase 0, alpha 1).
    assert (int(without.phase.numpy()), float(without.alpha.numpy())) == (0, 1.0)
    assert set(with_drift.state_variables()) == {"phase", "alpha"}
    with pytest.raises(ValueError, match="drift"):
        _trainer(-1.0)


def test_generate_clips_the_linear_output_to_the_image_range():
    """The to-RGB layers are linear (as in the paper), so raw outputs can leave [-1, 1];
    `generate` clips them as the export does, and the metrics' extractors accept them."""
    gan = _trainer(0.0)
    for layer in gan.generator.to_rgb:
        kernel = layer.kernel if hasattr(layer, "kernel") else layer.weights[0]
        kernel.assign(kernel * 50.0)  # raw outputs far outside [-1, 1]
    noise = tfgans.training.sample_noise(16, LATENT, seed=3)
    raw = gan.inference_generator(noise, training=False).numpy()
    assert raw.min() < -1.5 and raw.max() > 1.5
    out = gan.generate_from_noise(noise)
    np.testing.assert_array_equal(out, np.clip(raw, -1.0, 1.0))
    np.testing.assert_array_equal(gan.generate(16, seed=3), out)


def state(trainer):
    return [np.asarray(v) for vs in trainer.checkpoint_items().values() for v in vs]


def test_config_cli_resumes_across_a_phase_change_generates_and_exports(tmp_path, monkeypatch,
                                                                          capsys):
    """Schedule: stabilise 1, fade 2, stabilise 1: phase 0 at step 0, phase 1 fades in at
    steps 1-2, phase 2 at steps 4-5. The config trains 3 steps in-process; a copy of its
    run directory is resumed to 6 steps by the CLI (phase 1 -> 2 inside the second half)
    while the in-process run goes on to 6 steps without a restore: the two are equal,
    trainer state (phase, alpha) included. Then the CLI generates and exports."""
    import shutil

    from pipelines import cli
    from pipelines import config as config_lib
    from pipelines import run

    write_class_pngs(tmp_path / "images")
    monkeypatch.chdir(tmp_path)
    config_path = f"{ROOT}/configs/progan_fashion_mnist.yaml"
    overrides = [
        "data.name=image_folder", f"data.path={tmp_path / 'images'}", "data.batch_size=4",
        "data.shuffle_buffer=8", "model.width=4", f"model.latent_dim={LATENT}",
        "train.fade_steps=2", "train.stabilize_steps=1", "train.checkpoint_every=3",
        "train.sample_every=100", "train.log_every=1", "train.jit_compile=false",
        "eval.every=0", "train.steps=3",
    ]
    config = config_lib.load_config(config_path, overrides)
    whole = run.train(config, str(tmp_path / "whole"), verbose=0)
    trainer = whole.trainer
    assert (int(trainer.step.numpy()), int(trainer.phase.numpy()),
            float(trainer.alpha.numpy())) == (3, 1, 0.5)
    shutil.copytree(tmp_path / "whole", tmp_path / "split")
    whole.train(run.input_fn(config), max_steps=6)  # the same process: no restore
    assert (int(trainer.phase.numpy()), float(trainer.alpha.numpy())) == (2, 0.5)

    sets = [a for o in overrides for a in ("--set", o)]
    assert cli.main(["train", config_path, "--model-dir", "split", *sets,
                     "--set", "train.steps=6"]) == 0
    resumed = run.load_run("split")[1].trainer
    assert int(resumed.step.numpy()) == 6
    for a, b in zip(state(trainer), state(resumed), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    written = config_lib.load_config(str(tmp_path / "split" / "config.yaml"))
    assert (written.model.name, written.loss.drift, written.optimizer.beta_2) == (
        "progan", 1e-3, 0.99)

    capsys.readouterr()
    assert cli.main(["generate", "split", "--num", "4", "--out", "grid.png"]) == 0
    assert tf.io.decode_png((tmp_path / "grid.png").read_bytes()).shape[-1] == 1
    assert cli.main(["export", "split", "--export-dir", "exported", "--version", "1"]) == 0
    # The export serves the current phase (2 at alpha 0.5): the trainer's own images.
    noise = np.random.default_rng(2).normal(size=(3, LATENT)).astype(np.float32)
    expected = np.clip((resumed.inference_generator(noise).numpy() + 1) / 2, 0, 1)
    np.save(tmp_path / "noise.npy", noise)
    script = """
import sys
for name in ("keras", "tf_keras", "tfgans", "pipelines"):
    sys.modules[name] = None  # TensorFlow only: importing these raises from here on
import numpy as np, tensorflow as tf
m = tf.saved_model.load("exported/1")
out = m.signatures["serving_default"](noise=tf.constant(np.load("noise.npy")))["images"]
gen = m.signatures["generate"](num_samples=tf.constant(2), seed=tf.constant(0, tf.int64))
assert gen["images"].shape == (2, 28, 28, 1) and gen["png_bytes"].shape == (2,)
np.save("served.npy", out.numpy())
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "served.npy"), expected, atol=1e-5)
