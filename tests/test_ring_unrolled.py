"""Issue 16, items 5 and 7: the 2-D ring / grid data, the points family and the unrolled
GAN. The unrolled generator gradient is checked against a hand-unrolled computation (the
networks' math written out, nested tapes), both configs train, one CLI round trip on the
ring (train, generate a scatter plot, evaluate modes, export), and the export runs in a
fresh process with TensorFlow only."""

import json
import os
import subprocess
import sys
import sysconfig

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
from pipelines import cli, run
from pipelines.config import ConfigError, load_config, resolve
from pipelines.data import DataError, build_dataset, dataset_family
from pipelines.data import points as points_lib
from tfgans.models.points import PointsDiscriminator, PointsGenerator
from tfgans.plots import scatter_image
from tfgans.training import PointsGAN

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["model.width=8", "model.latent_dim=4", "data.batch_size=8", "train.steps=2",
        "train.jit_compile=false", "train.checkpoint_every=2", "train.sample_every=2"]


def config_path(name):
    return os.path.join(REPO, "configs", f"{name}.yaml")


# ------------------------------------------------------------------------------ data


def test_ring_batches_are_seeded_resumable_and_on_the_ring():
    first = [b.numpy() for b in build_dataset("ring_of_gaussians", 64, seed=5).take(3)]
    again = [b.numpy() for b in build_dataset("ring_of_gaussians", 64, seed=5).take(3)]
    resumed = next(iter(build_dataset("ring_of_gaussians", 64, seed=5).skip(2))).numpy()
    other = next(iter(build_dataset("ring_of_gaussians", 64, seed=6))).numpy()
    np.testing.assert_array_equal(first[2], again[2])
    np.testing.assert_array_equal(first[2], resumed)  # a resumed run skips to the same batch
    assert not np.allclose(first[0], other) and not np.allclose(first[0], first[1])
    points = np.concatenate(first)
    assert points.shape == (192, 2) and points.dtype == np.float32
    centers, std = points_lib.mixture("ring_of_gaussians")
    assert std == 0.02 and len(centers) == 8
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0)
    distance = np.linalg.norm(points[:, None] - centers[None], axis=-1)
    assert distance.min(axis=1).max() < 5 * std  # every point sits on a mode
    assert len(set(distance.argmin(axis=1))) == 8  # and every mode is drawn


def test_grid_and_bad_arguments():
    assert dataset_family("grid_of_gaussians") == dataset_family("ring_of_gaussians") == "points"
    centers, std = points_lib.mixture("grid_of_gaussians")
    assert (len(centers), std) == (25, 0.05)
    batch = next(iter(build_dataset("grid_of_gaussians", 16, seed=0))).numpy()
    assert np.abs(batch).max() < 4.5
    with pytest.raises(DataError, match="no labels"):
        build_dataset("ring_of_gaussians", 8, labels=True)
    with pytest.raises(DataError, match="remove data.image_size"):
        build_dataset("ring_of_gaussians", 8, image_size=28)


def test_scatter_image_puts_points_where_they_belong():
    image = scatter_image(np.array([[1.0, 1.0]]), reference=np.array([[-1.0, -1.0]]),
                          extent=1.0, size=5, dot=0)[..., 0]
    assert image.shape == (5, 5) and image.dtype == np.uint8
    assert image[0, 4] == 0  # (1, 1): top right, black
    assert image[4, 0] == 160  # the reference (-1, -1): bottom left, grey
    assert image[2, 0] == 225 and image[1, 1] == 255  # an axis, the background


# ------------------------------------------------------------------ the unrolled GAN


def tiny_gan(unrolled_steps, d_optimizer, seed=3):
    keras.utils.set_random_seed(seed)
    g = PointsGenerator(2, latent_dim=3, hidden_units=(5,))
    d = PointsDiscriminator(hidden_units=(6,))
    gan = PointsGAN(g, d, latent_dim=3, seed=seed)
    gan.compile(generator_optimizer=keras.optimizers.SGD(1.0),
                discriminator_optimizer=d_optimizer, loss="minimax",
                unrolled_steps=unrolled_steps)
    return gan


def g_math(z, w):  # PointsGenerator, written out: ReLU hidden layer, linear output
    return tf.nn.relu(z @ w[0] + w[1]) @ w[2] + w[3]


def d_math(x, w):  # PointsDiscriminator: input / 4, ReLU hidden layer, linear logit
    return tf.nn.relu((x * 0.25) @ w[0] + w[1]) @ w[2] + w[3]


def hand_unrolled_gradient(gan, g_weights, d_weights, real, z, update, steps):
    """d/d theta_G of the generator loss on D after `steps` updates `update(w, grads, i)`,
    unrolled by hand with nested tapes on the written-out networks."""
    with tf.GradientTape() as outer:
        outer.watch(g_weights)
        fake = g_math(z, g_weights)
        w = d_weights
        for i in range(steps):
            with tf.GradientTape() as inner:
                inner.watch(w)
                loss = tfgans.losses.minimax_discriminator_loss(d_math(real, w), d_math(fake, w))
            w = update(w, inner.gradient(loss, w), i)
        g_loss = tfgans.losses.minimax_generator_loss(d_math(fake, w))
    return outer.gradient(g_loss, g_weights)


def step_and_compare(gan, update, steps):
    real = next(iter(build_dataset("ring_of_gaussians", 16, seed=1)))
    g_before = [tf.constant(v) for v in gan.generator.trainable_variables]
    gan.train_step(real)  # one D update, then the unrolled G update (SGD, lr 1)
    g_after = [v.numpy() for v in gan.generator.trainable_variables]
    d_weights = [tf.constant(v) for v in gan.discriminator.trainable_variables]
    z = gan._noise(tf.constant(0, tf.int64), 1000, 16)  # the G update's noise (stream 1000)
    expected = hand_unrolled_gradient(gan, g_before, d_weights, real, z, update, steps)
    plain = hand_unrolled_gradient(gan, g_before, d_weights, real, z, update, 0)
    for before, after, grad, grad0 in zip(g_before, g_after, expected, plain):
        np.testing.assert_allclose(before.numpy() - after, grad.numpy(), rtol=1e-4, atol=1e-6)
    # The unrolling matters: the gradient is not the plain GAN's.
    assert max(float(tf.reduce_max(tf.abs(a - b))) for a, b in zip(expected, plain)) > 1e-4


def test_unrolled_sgd_generator_gradient_equals_hand_unrolled():
    eta = 0.5
    gan = tiny_gan(1, keras.optimizers.SGD(eta))
    step_and_compare(gan, lambda w, g, i: [wi - eta * gi for wi, gi in zip(w, g)], 1)


def test_unrolled_adam_generator_gradient_equals_hand_unrolled():
    lr, b1, b2, eps = 0.05, 0.5, 0.999, 1e-7
    gan = tiny_gan(2, keras.optimizers.Adam(lr, beta_1=b1, beta_2=b2, epsilon=eps))
    opt = gan.discriminator_optimizer
    state = {}

    def adam(w, grads, i):  # Keras' Adam, from D's state after its real update (t = 1)
        if i == 0:
            state["m"] = [tf.constant(v) for v in opt._momentums]
            state["v"] = [tf.constant(v) for v in opt._velocities]
        t = 2.0 + i
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        state["m"] = [m + (g - m) * (1 - b1) for m, g in zip(state["m"], grads)]
        state["v"] = [v + (g * g - v) * (1 - b2) for v, g in zip(state["v"], grads)]
        return [wi - alpha * m / (tf.sqrt(v) + eps)
                for wi, m, v in zip(w, state["m"], state["v"])]

    real = next(iter(build_dataset("ring_of_gaussians", 16, seed=1)))
    g_before = [tf.constant(v) for v in gan.generator.trainable_variables]
    gan.train_step(real)
    assert int(opt.iterations) == 1
    d_weights = [tf.constant(v) for v in gan.discriminator.trainable_variables]
    z = gan._noise(tf.constant(0, tf.int64), 1000, 16)
    expected = hand_unrolled_gradient(gan, g_before, d_weights, real, z, adam, 2)
    for before, after, grad in zip(g_before, gan.generator.trainable_variables, expected):
        np.testing.assert_allclose(before.numpy() - after.numpy(), grad.numpy(),
                                   rtol=1e-3, atol=1e-6)


def test_zero_unrolled_steps_is_the_plain_gan():
    plain, zero = tiny_gan(0, keras.optimizers.SGD(0.5)), tiny_gan(0, keras.optimizers.SGD(0.5))
    real = next(iter(build_dataset("ring_of_gaussians", 16, seed=1)))
    fake = plain.generator(tf.random.stateless_normal([16, 3], [1, 2]))
    # The unrolled path with 0 steps (D through stateless_call) gives D's own logits...
    np.testing.assert_allclose(zero._unrolled_fake_logits(real, fake, None, steps=0),
                               plain.discriminator(fake), rtol=1e-6)
    # ...and a compiled unrolled_steps=0 trains exactly as the plain GAN.
    plain.train_step(real), zero.train_step(real)
    for a, b in zip(plain.generator.weights, zero.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_unrolled_refuses_what_it_cannot_unroll():
    with pytest.raises(ValueError, match="plain adam"):
        tiny_gan(2, keras.optimizers.RMSprop(1e-3))
    with pytest.raises(ValueError, match="gradient_penalty to 0"):
        tfgans.training.resolve_settings("wasserstein", unrolled_steps=3)
    with pytest.raises(ConfigError, match="unrolled_steps"):
        load_config(config_path("unrolled_ring8"), ["loss.unrolled_steps=-1"])


def test_points_contract_batches_samples_grid_and_export_spec():
    gan = tiny_gan(0, keras.optimizers.SGD(0.5))
    assert gan.check_batch(tf.TensorSpec([8, 2], tf.float32)) == 8
    with pytest.raises(ValueError, match=r"points \[batch, 2\] without labels"):
        gan.check_batch(tf.TensorSpec([8, 28, 28, 1], tf.float32))
    assert gan.sample(num_samples=7, seed=1).shape == (7, 2)
    gan.reference_points = points_lib.reference_points("ring_of_gaussians", 100)
    assert gan.plot_extent() == 4.0  # the ring reaches 2.06: axes at +-4 (ceil(3.06))
    grid, columns = gan.sample_grid(64)
    assert grid.shape == (1, 256, 256, 1) and columns == 1 and grid.min() >= -1.0
    spec = gan.export_spec()
    assert spec.kind == "noise_to_points" and spec.options == {"latent_dim": 3, "dim": 2}


# ------------------------------------------------------------------------ the configs


def test_configs_resolve_to_the_papers_settings():
    for name, k in (("gan_ring8", 0), ("unrolled_ring8", 10)):
        with open(config_path(name), encoding="utf-8") as f:
            head = f.read().split("\n\n")[0]
        assert "https://arxiv.org/abs/1611.02163" in head and "TIME_" not in head, name
        assert f"tfgans train configs/{name}.yaml" in head, name
        c = resolve(load_config(config_path(name)), (2,), None)
        assert (c.model.name, c.model.latent_dim, c.model.width) == ("points_mlp", 256, 128)
        assert (c.model.generator_layers, c.model.discriminator_layers) == (2, 1)
        assert (c.model.init_gain, c.model.input_scale) == (0.8, 0.25)
        assert (c.data.name, c.data.batch_size, c.data.labels) == ("ring_of_gaussians", 512, False)
        assert (c.loss.name, c.loss.n_critic, c.loss.gradient_penalty) == ("minimax", 1, 0.0)
        assert c.loss.unrolled_steps == k and c.train.ema == 0.0
        assert (c.optimizer.generator, c.optimizer.discriminator) == ("adam", "adam")
        assert c.optimizer.generator_lr == c.optimizer.discriminator_lr == 1e-4
        assert (c.optimizer.beta_1, c.optimizer.beta_2) == (0.5, 0.999)


def test_gan_ring8_trains_two_steps(tmp_path):
    config = load_config(config_path("gan_ring8"), TINY)
    estimator = run.train(config, str(tmp_path / "run"), verbose=0)
    trainer = estimator.trainer
    assert isinstance(trainer, PointsGAN) and trainer.unrolled_steps == 0
    assert estimator.step == 2 and trainer.image_shape == (2,)
    assert trainer.gan_loss.name == "minimax"
    assert float(trainer.discriminator_optimizer.beta_1) == 0.5
    assert all(np.all(np.isfinite(v.numpy())) for v in trainer.network_weights())


# ------------------------------------------------- one CLI round trip, one fresh process

FRESH_SCRIPT = r'''
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
site_packages, export_dir, noise_path, out_path = sys.argv[1:]
sys.path.append(site_packages)
for name in ("keras", "tf_keras", "tfgans", "pipelines"):
    sys.modules[name] = None
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load(export_dir).signatures["serving_default"]
_, inputs = serve.structured_input_signature
points = serve(noise=tf.constant(np.load(noise_path)))["points"].numpy()
np.save(out_path, points)
print(json.dumps({"inputs": sorted(inputs), "outputs": sorted(serve.structured_outputs)}))
'''


def test_cli_round_trip_on_the_ring(tmp_path, capsys):
    model_dir, export_dir = str(tmp_path / "run"), str(tmp_path / "export")
    args = ["train", config_path("unrolled_ring8"), "--model-dir", model_dir]
    for override in TINY + ["loss.unrolled_steps=2"]:
        args += ["--set", override]
    assert cli.main(args) == 0
    png = str(tmp_path / "ring.png")
    assert cli.main(["generate", model_dir, "--num", "500", "--out", png]) == 0
    image = tf.io.decode_png(tf.io.read_file(png)).numpy()
    assert image.shape == (256, 256, 1)
    assert {0, 160, 255} <= set(np.unique(image))  # samples, the real ring, background
    grid = tf.io.decode_png(tf.io.read_file(os.path.join(model_dir, "samples",
                                                         "latest.png"))).numpy()
    assert grid.shape == (260, 260, 1)  # the sample-grid callback: one scatter plot
    capsys.readouterr()
    assert cli.main(["evaluate", model_dir, "--num-samples", "500"]) == 0
    out = capsys.readouterr().out
    assert "modes covered" in out and "high-quality rate" in out
    record = json.loads(open(os.path.join(model_dir, "eval.json")).read())[-1]
    assert record["num_modes"] == 8 and 0 <= record["modes"] <= 8
    assert 0.0 <= record["high_quality_rate"] <= 1.0 and record["min_count"] == 4
    assert cli.main(["export", model_dir, "--export-dir", export_dir]) == 0
    assert cli.main(["generate", model_dir, "--num", "5", "--out", png, "--labels", "1"]) == 1

    _, estimator = run.load_run(model_dir)
    noise = np.random.default_rng(0).standard_normal([6, 4]).astype(np.float32)
    expected = estimator.trainer.inference_generator(noise, training=False).numpy()
    np.save(tmp_path / "noise.npy", noise)
    script = tmp_path / "load.py"
    script.write_text(FRESH_SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(script), sysconfig.get_paths()["purelib"],
         os.path.join(export_dir, "1"), str(tmp_path / "noise.npy"), str(tmp_path / "p.npy")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    signature = json.loads(proc.stdout.strip().splitlines()[-1])
    assert signature == {"inputs": ["noise"], "outputs": ["points"]}
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-5, atol=1e-6)
