"""The stabilisers wired into the noise -> image trainer (issue 14): each config trains two
steps in-process (one through the CLI: train, generate, export); through the trainer,
feature matching is the squared distance of the chosen layer's batch means (value and
gradient), lazy R1 adds k x R1 every k-th step and nothing otherwise, ADA's p rises where D
overfits and falls where it does not, label noise gives D the flipped / smoothed targets;
ADA's p, LeCam's EMAs and the historical averages resume exactly (N + N steps == 2N);
virtual batch norm makes an example's output independent of its batch; bad settings get
one clear error. The math of each term is tested in test_regularizers.py, test_augment.py
and test_improved_layers.py."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
import tfgans.models
from pipelines import cli, run
from pipelines.config import load_config, resolve
from tfgans.training import stabilisers as stabilisers_lib
from tfgans.training.gan import _D_STREAM, _G_STREAM, GAN

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["data.name=image_folder", "model.width=4", "model.latent_dim=8", "data.batch_size=8",
        "train.steps=2", "train.jit_compile=false", "eval.every=0", "train.checkpoint_every=2",
        "train.sample_every=2"]
SHAPE = (4, 4, 1)
IMAGES = np.random.default_rng(14).uniform(-1, 1, (16, *SHAPE)).astype("float32")


def config_path(name):
    return os.path.join(REPO, "configs", f"dcgan_{name}_fashion_mnist.yaml")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """16 random 28x28 greyscale PNGs in two class folders."""
    root = tmp_path_factory.mktemp("stabiliser_images")
    rng = np.random.default_rng(14)
    for label in ("a", "b"):
        os.makedirs(root / label)
        for i in range(8):
            pixels = rng.integers(0, 256, (28, 28, 1), dtype=np.uint8)
            (root / label / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    return str(root)


def mlp_gan(d_lr=0.1, g_lr=0.1, discriminator=None, **settings):
    """A tiny MLP GAN on 4x4 images with SGD (no optimizer state), the same initial
    weights every time."""
    keras.utils.set_random_seed(0)
    g, d = tfgans.models.get("mlp")(SHAPE, 4, None, hidden_units=(8,))
    return GAN.create({"generator": g, "discriminator": discriminator or d},
                      {"generator": keras.optimizers.SGD(g_lr),
                       "discriminator": keras.optimizers.SGD(d_lr)},
                      latent_dim=4, ema_decay=None, **settings)


# ------------------------------------------------------------------------- the configs


def test_each_config_header_cites_the_paper():
    for name in ("improved", "diffaugment", "ada"):
        with open(config_path(name), encoding="utf-8") as f:
            head = f.read().split("\n\n")[0]
        assert "https://arxiv.org/abs/" in head, name
        assert f"tfgans train configs/dcgan_{name}_fashion_mnist.yaml" in head, name


@pytest.mark.parametrize("name", ["diffaugment", "ada"])
def test_config_trains_two_steps_with_its_stabilisers(name, images, tmp_path):
    # n_critic 1 for the diffaugment config (its WGAN-GP's 5): the test time is scarce.
    config = load_config(config_path(name), TINY + [f"data.path={images}", "loss.n_critic=1"])
    estimator = run.train(config, str(tmp_path / "run"), verbose=0)
    trainer = estimator.trainer
    assert estimator.step == 2
    results = {m.name: float(m.result()) for m in trainer.metrics}
    assert all(math.isfinite(v) for v in results.values()) and results["nonfinite"] == 0.0
    settings = trainer.stabilisers.settings
    if name == "diffaugment":
        assert settings["diff_augment"] == "color,translation,cutout" and not settings["ada"]
        assert trainer.penalty.weight == 10.0 and "ada_p" not in results
    else:
        assert settings["ada"] and settings["ada_target"] == 0.6
        assert settings["ada_interval"] == 4 and settings["ada_speed_images"] == 500_000
        assert settings["penalty_interval"] == 16 and trainer.penalty.type == "r1"
        assert results["ada_p"] == 0.0  # first adjusted after 4 steps
        assert set(trainer.state_variables()) == {"ada"}
        assert "state_ada" in trainer.checkpoint_items()
    written = load_config(str(tmp_path / "run" / "config.yaml"))
    assert written.train.diff_augment == settings["diff_augment"]
    assert written.train.ada == settings["ada"]


def test_cli_train_generate_export_improved(images, tmp_path, monkeypatch, capsys):
    """The improved techniques through the CLI: feature matching, historical averaging,
    minibatch discrimination and virtual batch norm reach the networks and the trainer;
    the export (a VBN generator) serves images in [0, 1]."""
    monkeypatch.chdir(tmp_path)
    sets = [a for o in TINY + [f"data.path={images}"] for a in ("--set", o)]
    assert cli.main(["train", config_path("improved"), "--model-dir", "run"] + sets) == 0
    assert "at step 2 of 2" in capsys.readouterr().out
    written = load_config(str(tmp_path / "run" / "config.yaml"))
    assert written.model.minibatch_kernels == 100 and written.model.virtual_batch_norm
    assert (written.loss.feature_matching, written.loss.historical_averaging) == (1.0, 1e-4)
    assert written.loss.label_smoothing == 0.2
    assert cli.main(["generate", "run", "--num", "4", "--out", "grid.png"]) == 0
    assert tf.io.decode_png((tmp_path / "grid.png").read_bytes()).numpy().shape[0] >= 28
    assert cli.main(["export", "run", "--export-dir", "served", "--version", "1"]) == 0
    serving = tf.saved_model.load(str(tmp_path / "served" / "1")).signatures["serving_default"]
    noise = tf.random.stateless_normal([3, 8], seed=[1, 2])
    generated = serving(noise=noise)["images"].numpy()
    assert generated.shape == (3, 28, 28, 1)
    assert np.all(np.isfinite(generated)) and generated.min() >= 0.0 and generated.max() <= 1.0
    # One example's image does not depend on the others served with it (VBN, not BN).
    alone = serving(noise=noise[:1])["images"].numpy()
    np.testing.assert_allclose(alone[0], generated[0], atol=1e-5)


# -------------------------------------------------------------- through the trainer


def test_feature_matching_is_the_squared_distance_of_the_batch_means():
    """Value: the trainer's feature_matching = ||mean f(x) - mean f(G(z))||^2 of the chosen
    layer (the first convolution's here, not the default last). Gradient: G's SGD step with feature matching on minus off is -lr x its
    gradient. D's learning rate is 0, so D is the same in G's step as before."""
    lr, layer = 0.5, 0

    def make(weight):
        keras.utils.set_random_seed(0)
        g, d = tfgans.models.get("dcgan")((28, 28, 1), 8, None, width=4)
        return GAN.create({"generator": g, "discriminator": d},
                          {"generator": keras.optimizers.SGD(lr),
                           "discriminator": keras.optimizers.SGD(0.0)},
                          latent_dim=8, ema_decay=None, loss="non_saturating",
                          feature_matching=weight, feature_matching_layer=layer)

    real = tf.constant(np.random.default_rng(1).uniform(-1, 1, (4, 28, 28, 1)), tf.float32)
    on, off = make(1.0), make(0.0)
    noise = on._noise(tf.constant(0, tf.int64), _G_STREAM, 4)
    with tf.GradientTape() as tape:
        fake = on.generator(noise, training=True)
        f_real = on.discriminator.call_with_features(real, training=True)[1][layer]
        f_fake = on.discriminator.call_with_features(fake, training=True)[1][layer]
        expected = tf.reduce_sum(tf.square(tf.reduce_mean(f_real, 0) - tf.reduce_mean(f_fake, 0)))
    grads = tape.gradient(expected, on.generator.trainable_variables)
    before = [v.numpy() for v in on.generator.trainable_variables]
    on.train_step(real)
    off.train_step(real)
    measured = float(on.stabilisers.generator_logs["feature_matching"])
    assert measured == pytest.approx(float(expected), rel=1e-4) and measured > 0
    assert "feature_matching" in {m.name for m in on.metrics}
    assert "feature_matching" not in {m.name for m in off.metrics}
    for b, v_on, v_off, g in zip(before, on.generator.trainable_variables,
                                 off.generator.trainable_variables, grads, strict=True):
        np.testing.assert_allclose(v_on.numpy() - v_off.numpy(), -lr * g.numpy(),
                                   rtol=1e-3, atol=1e-6)
    assert any(np.abs(g.numpy()).max() > 1e-4 for g in grads)


def test_lazy_r1_is_k_times_r1_every_kth_step_and_zero_otherwise():
    """D's SGD step with lazy R1 (interval k) minus without R1 is k x (the same with R1 every
    step minus without) on steps 0, k, 2k, ... and 0 on the others."""
    k = 2
    lazy, every, none = (
        mlp_gan(loss="non_saturating", penalty_type="r1", gradient_penalty=g, penalty_interval=i)
        for g, i in ((10.0, k), (10.0, 1), (0.0, 1)))
    start = [(gan.generator.get_weights(), gan.discriminator.get_weights())
             for gan in (lazy, every, none)]
    batch = tf.constant(IMAGES[:8])
    for step in range(k + 1):
        deltas = []
        for gan, (g_weights, d_weights) in zip((lazy, every, none), start):
            gan.generator.set_weights(g_weights)
            gan.discriminator.set_weights(d_weights)
            gan.generator_optimizer.iterations.assign(step)
            gan.train_step(batch)
            deltas.append([v.numpy() - w for v, w in zip(gan.discriminator.weights, d_weights)])
        for d_lazy, d_every, d_none in zip(*deltas, strict=True):
            r1 = d_every - d_none
            expected = k * r1 if step % k == 0 else 0.0 * r1
            np.testing.assert_allclose(d_lazy - d_none, expected, rtol=1e-4, atol=1e-7)
        assert max(np.abs(a - b).max() for a, b in zip(deltas[1], deltas[2])) > 1e-4


@pytest.mark.parametrize("logit, direction", [(1.0, +1), (-1.0, -1)])
def test_ada_p_rises_where_d_overfits_and_falls_where_it_does_not(logit, direction):
    """A discriminator that calls every real "real" (r_t = 1 > 0.6: overfitting) raises p
    by batch x interval / speed every interval; one that calls every real "fake" (r_t =
    -1) lowers it. p moves only at the end of an interval."""
    inputs = keras.Input(SHAPE)
    outputs = keras.layers.Dense(1, kernel_initializer="zeros",
                                 bias_initializer=keras.initializers.Constant(logit))(
        keras.layers.Flatten()(inputs))
    gan = mlp_gan(d_lr=0.0, discriminator=keras.Model(inputs, outputs), loss="non_saturating",
                  ada=True, ada_interval=2, ada_speed_images=80)  # 4 x 2 / 80 = 0.1
    gan.stabilisers.ada_p.assign(0.5)
    ps = []
    for _ in range(2):
        logs = gan.train_step(tf.constant(IMAGES[:4]))
        ps.append(float(gan.stabilisers.ada_p.numpy()))
    np.testing.assert_allclose(ps, [0.5, 0.5 + 0.1 * direction], atol=1e-6)
    assert "ada_p" in logs


def test_label_noise_gives_d_flipped_and_smoothed_targets():
    """With label_flip p and two-sided smoothing, D's loss is the cross-entropy against
    targets 1 - s_real / 2 and s_fake / 2, each swapped with probability p(step)
    = label_flip x (1 - step / label_flip_steps)."""
    gan = mlp_gan(loss="non_saturating", label_flip=0.4, label_flip_steps=4,
                  label_smoothing=0.2, fake_label_smoothing=0.3)
    st = gan.stabilisers
    assert [float(st.flip_probability(s)) for s in (0, 2, 4, 9)] == pytest.approx(
        [0.4, 0.2, 0.0, 0.0])
    real_logits = tf.constant([[2.0], [-1.0], [0.5], [0.0]])
    fake_logits = tf.constant([[1.0], [-3.0], [0.25], [2.0]])
    step = tf.constant(1, tf.int64)
    u_real = st._uniform(step, _D_STREAM, stabilisers_lib._FLIP_REAL, 4, 1).numpy()[:, 0]
    u_fake = st._uniform(step, _D_STREAM, stabilisers_lib._FLIP_FAKE, 4, 1).numpy()[:, 0]
    p = 0.3
    real_t = np.where(u_real < p, 0.15, 0.9)
    fake_t = np.where(u_fake < p, 0.9, 0.15)

    def xent(t, x):
        return np.mean(-t * np.log(1 / (1 + np.exp(-x))) - (1 - t) * np.log(1 - 1 / (1 + np.exp(-x))))

    expected = xent(real_t, real_logits.numpy()[:, 0]) + xent(fake_t, fake_logits.numpy()[:, 0])
    loss = st.noisy_discriminator_loss(real_logits, fake_logits, step, _D_STREAM, 0.2)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    # Through the trainer: D's loss on its first step is that loss on its own logits.
    real = tf.constant(IMAGES[:4])
    fake = gan.generator(gan._noise(tf.constant(0, tf.int64), _D_STREAM, 4), training=True)
    zero = tf.constant(0, tf.int64)
    expected = st.noisy_discriminator_loss(gan.discriminator(real), gan.discriminator(fake),
                                           zero, _D_STREAM, 0.2)
    logs = gan.train_step(real)
    assert float(logs["d_loss"]) == pytest.approx(float(expected), rel=1e-5)
    assert float(logs["label_flip_p"]) == pytest.approx(0.4)


# ------------------------------------------------------------------------ exact resume


def resume_trainer_fn():
    keras.utils.set_random_seed(0)
    g, d = tfgans.models.get("mlp")(SHAPE, 4, None, hidden_units=(8,))
    gan = GAN.create({"generator": g, "discriminator": d},
                     {"generator": keras.optimizers.Adam(1e-2),
                      "discriminator": keras.optimizers.Adam(1e-2)},
                     latent_dim=4, ema_decay=0.9, loss="non_saturating",
                     ada=True, ada_interval=3, ada_speed_images=40, lecam=0.3,
                     historical_averaging=1e-3)
    gan.stabilisers.ada_p.assign(0.5)  # so p moves whichever way r_t goes (a resume restores it)
    # Two of ADA's ops (a smaller graph to trace): the resume does not depend on which.
    gan.stabilisers.ada_pipeline = tfgans.augment.AdaPipeline(("xflip", "translation"))
    return gan


def resume_estimator(model_dir):
    return tfgans.Estimator(resume_trainer_fn, str(model_dir), checkpoint_every=2,
                            sample_every=100, log_every=100, num_sample_images=4,
                            jit_compile=False, verbose=0)


def resume_dataset():
    return tf.data.Dataset.from_tensor_slices(IMAGES).batch(4, drop_remainder=True)


def test_ada_lecam_and_historical_averages_resume_exactly(tmp_path):
    """2N steps == N + N, the stabilisers' state included: ADA's p and its r_t accumulator
    (N = 2 stops mid-interval: p moves after step 3), LeCam's EMAs, the historical averages and their count."""
    whole = resume_estimator(tmp_path / "whole")
    whole.train(resume_dataset, max_steps=4)
    resume_estimator(tmp_path / "split").train(resume_dataset, max_steps=2)
    resumed = resume_estimator(tmp_path / "split")
    assert resumed.step == 2
    resumed.train(resume_dataset, max_steps=4)
    items = whole.trainer.checkpoint_items()
    assert {"state_ada", "state_lecam", "state_historical_average_count"} <= set(items)
    p, _, _ = whole.trainer.stabilisers.variables["ada"]
    assert abs(float(p.numpy()) - 0.5) == pytest.approx(0.3)  # 4 x 3 / 40, after step 3
    assert float(whole.trainer.stabilisers.lecam_real.numpy()) != 0.0
    state = whole.trainer.stabilisers.variables
    assert set(state) == {"ada", "lecam", "historical_average_generator",
                          "historical_average_discriminator", "historical_average_count"}
    for name, variables in state.items():
        for a, b in zip(variables, resumed.trainer.stabilisers.variables[name], strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7,
                                       err_msg=name)
    for name, variables in items.items():
        for a, b in zip(variables, resumed.trainer.checkpoint_items()[name], strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7,
                                       err_msg=name)


# ------------------------------------------------------------------------ the networks


def test_virtual_batch_norm_makes_each_output_independent_of_its_batch():
    noise = tf.random.stateless_normal([6, 8], seed=[3, 4])
    for vbn in (True, False):
        keras.utils.set_random_seed(0)
        g, _ = tfgans.models.get("dcgan")((28, 28, 1), 8, None, width=4,
                                           virtual_batch_norm=vbn)
        whole = g(noise, training=True).numpy()
        part = g(noise[:2], training=True).numpy()
        assert np.allclose(whole[:2], part, atol=1e-5) == vbn
        assert (g.reference_noise is not None) == vbn


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("settings, message", [
    (dict(loss="wasserstein", label_flip=0.1), r"`label_flip` \(label noise\) needs a loss "
     r"with real / fake targets: minimax or non_saturating"),
    (dict(loss="hinge", fake_label_smoothing=0.1), "`fake_label_smoothing`"),
    (dict(loss="hinge", penalty_interval=4), r"`penalty_interval` \(lazy regularisation\) "
     "needs a gradient penalty"),
    (dict(ada=True, diff_augment="color"), "Use one augmentation"),
    (dict(diff_augment="colour"), r"config key train.diff_augment.*Unknown DiffAugment "
     "policy 'colour'"),
    (dict(label_flip=0.7), r"`label_flip` must be in \[0, 0.5\]"),
    (dict(ada_interval=0), "`ada_interval` must be an integer >= 1"),
    (dict(lecam=-1.0), "`lecam` must be >= 0"),
])
def test_bad_settings_get_one_clear_error(settings, message):
    with pytest.raises(ValueError, match=message):
        GAN.resolve_settings(**settings)


def test_a_bad_setting_in_a_config_fails_when_it_is_resolved():
    """config.resolve runs before anything is built or written (pipelines.run.train)."""
    with pytest.raises(ValueError, match=r"Use one augmentation: ADA \(train.ada\)"):
        resolve(load_config(config_path("diffaugment"), ["train.ada=true"]), (28, 28, 1), None)


def test_feature_matching_needs_a_discriminator_with_features():
    inputs = keras.Input(SHAPE)
    plain = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="call_with_features"):
        mlp_gan(discriminator=plain, loss="non_saturating", feature_matching=1.0)
    with pytest.raises(ValueError, match="must index the discriminator's 2 feature layers"):
        keras.utils.set_random_seed(0)
        g, d = tfgans.models.get("dcgan")((28, 28, 1), 8, None, width=4)
        GAN.create({"generator": g, "discriminator": d}, None, latent_dim=8,
                   feature_matching=1.0, feature_matching_layer=2)


def test_all_off_by_default():
    gan = mlp_gan()
    assert gan.state_variables() == {} and gan.stabilisers.trackers() == []
    assert {m.name for m in gan.metrics} == {"d_loss", "g_loss", "penalty", "d_real", "d_fake",
                                              "nonfinite", "grad_norm_generator",
                                              "grad_norm_discriminator"}
