"""The semi-supervised GAN (issue 16, item 6): the K+1 loss by hand, the labelled subset
(balanced, seeded, the same across resume), the trainer's losses on a step, the config,
resume N + N == 2N of the config in-process against a CLI run of 2N steps, the CLI's
generate, evaluate (with the test accuracy) and export, and the export's signatures
(serving_default, generate, classify) in a process with only TensorFlow."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
import tfgans.models
from pipelines import cli, run
from pipelines.config import ConfigError, load_config, resolve
from pipelines.data import DataError, labelled_subset, semi_supervised
from tfgans import losses
from tfgans.metrics import classifier_accuracy
from tfgans.training import SSGAN

from tf_only import run_tf_only

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "configs", "ssgan_fashion_mnist.yaml")
TINY = ["model.width=4", "model.latent_dim=8", "data.batch_size=8", "train.steps=2",
        "train.jit_compile=false", "train.checkpoint_every=2", "train.sample_every=2",
        "eval.kid_subset_size=8"]
LATENT = 8


def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def log_softmax(x):
    x = np.asarray(x, np.float64)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def tiny_arrays(per_class=4, classes=10):
    """`classes * per_class` 28x28 uint8 images whose first pixel is their index."""
    n = per_class * classes
    images = np.zeros([n, 28, 28, 1], np.uint8)
    images[:, 0, 0, 0] = np.arange(n)
    labels = np.arange(n, dtype=np.int32) % classes
    return images, labels


def tiny_input():
    images, labels = tiny_arrays()
    return semi_supervised(images, labels, 2, 8, seed=1, repeat=True)


# ---------------------------------------------------------------------- the K+1 loss


def test_k_plus_1_discriminator_loss_by_hand():
    real = np.array([[1.0, -2.0, 0.5], [3.0, 2.0, 1.0], [-4.0, -5.0, -3.0], [0.0, 0.2, 0.0]])
    fake = np.array([[0.0, 0.0, 0.0], [-1.0, 2.0, 0.0]])
    labels = np.array([2, -1, 0, -1])
    # Supervised: cross-entropy of rows 0 (class 2) and 2 (class 0), averaged.
    supervised = -(log_softmax(real)[0, 2] + log_softmax(real)[2, 0]) / 2
    # Unsupervised: D = Z / (Z + 1); -log D on the unlabelled rows 1 and 3, -log(1 - D) on
    # the generated ones.
    z_real, z_fake = np.exp(real).sum(1), np.exp(fake).sum(1)
    d_real, d_fake = z_real / (z_real + 1), z_fake / (z_fake + 1)
    unsupervised = -np.log(d_real[[1, 3]]).mean() - np.log(1 - d_fake).mean()
    for weight in (1.0, 0.5):
        np.testing.assert_allclose(
            losses.ssgan_discriminator_loss(real, fake, labels, weight),
            supervised + weight * unsupervised, rtol=1e-5)
    # All labelled: the real / fake term keeps only the generated side.
    np.testing.assert_allclose(
        losses.ssgan_discriminator_loss(real[[0, 2]], fake, labels[[0, 2]]),
        supervised - np.log(1 - d_fake).mean(), rtol=1e-5)


def test_classifier_accuracy_skips_unlabelled_and_counts():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    batches = [(logits[:2], np.array([1, 1])), (logits[2:], np.array([-1, 0]))]
    assert classifier_accuracy(lambda x: x, batches) == (2 / 3, 3)
    with pytest.raises(ValueError, match="no labelled example"):
        classifier_accuracy(lambda x: x, [(logits, np.full(4, -1))])


# ------------------------------------------------------------------------------ data


def test_labelled_subset_is_balanced_and_seeded():
    labels = np.repeat(np.arange(10), 30)
    a = labelled_subset(labels, 5, seed=0)
    assert np.bincount(labels[a], minlength=10).tolist() == [5] * 10
    assert len(set(a.tolist())) == 50
    np.testing.assert_array_equal(a, labelled_subset(labels, 5, seed=0))
    assert not np.array_equal(a, labelled_subset(labels, 5, seed=1))
    with pytest.raises(DataError, match="fewer than labeled_per_class=31"):
        labelled_subset(labels, 31)


def test_batches_interleave_labelled_and_unlabelled_and_resume_exactly():
    images, labels = tiny_arrays()
    subset = set(labelled_subset(labels, 2, seed=1).tolist())
    batches = list(tiny_input().take(12))
    for x, y in batches:
        index = np.round((x.numpy()[:, 0, 0, 0] + 1.0) * 127.5).astype(int)
        y = y.numpy()
        assert (y[1::2] == -1).all()  # odd positions: unlabelled, any image
        assert set(index[0::2].tolist()) <= subset  # even: the subset, labels kept
        np.testing.assert_array_equal(y[0::2], labels[index[0::2]])
    seen = {int(np.round((b[0].numpy()[i, 0, 0, 0] + 1) * 127.5)) for b in batches
            for i in range(0, 8, 2)}
    assert seen == subset  # the whole subset cycles
    # A rebuilt pipeline that skips the consumed batches (how a run resumes) goes on the same.
    for a, b in zip(batches[5:], tiny_input().skip(5).take(7), strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(DataError, match="even"):
        semi_supervised(images, labels, 2, 7)


# ----------------------------------------------------------------------- the trainer


def test_entropy_term_by_hand_and_in_the_step():
    logits = np.array([[1.0, -2.0, 0.5], [3.0, 2.0, 1.0], [0.0, 0.0, 0.0], [9.0, -9.0, 0.0]])
    p = np.exp(log_softmax(logits))
    entropy = -(p * log_softmax(logits)).sum(1)
    np.testing.assert_allclose(losses.ssgan_entropy_loss(logits), entropy.mean(), rtol=1e-5)
    np.testing.assert_allclose(entropy[2], np.log(3), rtol=1e-6)  # uniform: log K
    np.testing.assert_allclose(losses.ssgan_entropy_loss(logits, [0, 1, 0, 1]),
                               entropy[[1, 3]].mean(), rtol=1e-5)
    # In the step: D's loss gains entropy_weight x the mean entropy of the unlabelled rows
    # (eager, no dropout, D's learning rate 0: the logits below are the step's).
    keras.utils.set_random_seed(3)
    g, d = tfgans.models.get("ssgan")((28, 28, 1), LATENT, 10, width=4, dropout=0.0,
                                      input_dropout=0.0)
    gan = SSGAN(g, d, latent_dim=LATENT, num_classes=10, seed=3)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.SGD(0.0), entropy_weight=0.7,
                run_eagerly=True)
    real, labels = next(iter(tiny_input()))
    step = tf.constant(0, tf.int64)
    real_logits = gan.classify(real).numpy().astype(np.float64)
    fake_logits = gan.classify(g(gan._noise(step, 0, 8), training=True)).numpy()
    logs = gan.train_on_batch(real, labels, return_dict=True)
    y = labels.numpy()
    q = np.exp(log_softmax(real_logits))
    unlabelled_entropy = -(q * log_softmax(real_logits)).sum(1)[y < 0].mean()
    np.testing.assert_allclose(
        logs["d_loss"], losses.ssgan_discriminator_loss(real_logits, fake_logits, labels)
        + 0.7 * unlabelled_entropy, rtol=1e-4)
    with pytest.raises(ValueError, match="entropy_weight"):
        gan.compile(entropy_weight=-1.0)


def test_a_step_takes_the_k_plus_1_loss_and_feature_matching():
    # Eager (no tracing: cheap); D's learning rate 0, so the generator step sees the
    # discriminator the losses below are computed with; no dropout, so they are exact.
    keras.utils.set_random_seed(3)
    g, d = tfgans.models.get("ssgan")((28, 28, 1), LATENT, 10, width=4, dropout=0.0,
                                      input_dropout=0.0)
    gan = SSGAN(g, d, latent_dim=LATENT, num_classes=10, seed=3)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.SGD(0.0), run_eagerly=True)
    before = [w.numpy() for w in g.weights]
    real, labels = next(iter(tiny_input()))
    step = tf.constant(0, tf.int64)
    real_logits = gan.classify(real).numpy()
    fake_logits = gan.classify(g(gan._noise(step, 0, 8), training=True)).numpy()
    fake_g = g(gan._noise(step, 1000, 8), training=True)
    _, real_features = d.call_with_features(real)
    _, fake_features = d.call_with_features(fake_g)
    logs = gan.train_on_batch(real, labels, return_dict=True)
    np.testing.assert_allclose(
        logs["d_loss"], losses.ssgan_discriminator_loss(real_logits, fake_logits, labels),
        rtol=1e-4)
    y = labels.numpy()
    np.testing.assert_allclose(
        logs["supervised_loss"], -log_softmax(real_logits)[np.arange(8), y][y >= 0].mean(),
        rtol=1e-4)
    fm = np.sum((real_features[-1].numpy().mean(0) - fake_features[-1].numpy().mean(0)) ** 2)
    np.testing.assert_allclose(logs["feature_matching"], fm, rtol=1e-4)
    z = np.exp(gan.classify(fake_g).numpy().astype(np.float64)).sum(1)
    np.testing.assert_allclose(logs["g_loss"], np.mean(softplus(-np.log(z))), rtol=1e-4)
    assert logs["nonfinite"] == 0.0
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, g.weights))
    with pytest.raises(ValueError, match="does not take `label_flip`"):
        gan.compile(label_flip=0.1)


def test_mlp_architecture_is_the_papers_mnist_networks(tmp_path):
    """`architecture="mlp"`: D's hidden units scale with width (32, 16, 8, 8, 8) x width,
    every dense layer weight-normalised, Gaussian noise in training only (the same logits
    twice in inference, different ones in training); G's (16, 16) x width with batch norm;
    feature matching's layer is the last hidden one; a step trains; both networks save and
    load in safe mode with the same outputs."""
    from tfgans.layers.normalization import WeightNormalization
    from tfgans.models.ssgan import SSGANMLPDiscriminator, SSGANMLPGenerator

    keras.utils.set_random_seed(4)
    g, d = tfgans.models.get("ssgan")((28, 28, 1), LATENT, 10, width=1, architecture="mlp")
    assert isinstance(g, SSGANMLPGenerator) and isinstance(d, SSGANMLPDiscriminator)
    assert d.hidden_units == (32, 16, 8, 8, 8) and g.hidden_units == (16, 16)
    images = g(tf.random.normal([4, LATENT]))
    assert tuple(images.shape) == (4, 28, 28, 1) and float(tf.reduce_max(tf.abs(images))) <= 1
    logits, features = d.call_with_features(images)
    assert tuple(logits.shape) == (4, 10) and [f.shape[-1] for f in features] == [32, 16, 8, 8, 8]
    assert all(isinstance(layer, WeightNormalization) for layer in d.hidden + [d.classifier])
    np.testing.assert_array_equal(d(images, training=False), d(images, training=False))
    assert not np.allclose(d(images, training=True), d(images, training=True))
    gan = SSGAN(g, d, latent_dim=LATENT, num_classes=10, seed=3)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                unsupervised_weight=0.5, run_eagerly=True)
    before = [w.numpy() for w in d.weights]
    real, labels = next(iter(tiny_input()))
    logs = gan.train_on_batch(real, labels, return_dict=True)
    assert logs["nonfinite"] == 0.0 and logs["feature_matching"] > 0
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, d.weights))
    for name, net, x in (("g", g, tf.random.normal([2, LATENT])), ("d", d, real)):
        path = str(tmp_path / f"{name}.keras")
        net.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
        np.testing.assert_allclose(loaded(x, training=False), net(x, training=False),
                                   atol=1e-5)
    with pytest.raises(ValueError, match="architecture"):
        tfgans.models.get("ssgan")((28, 28, 1), LATENT, 10, architecture="resnet")


def test_mlp_data_dependent_init_and_fit_runs_it_on_fresh_runs_only():
    """The paper's MNIST discriminator: unit-length kernel columns whose hidden scales do
    not train; `initialize_from_data` gives every weight-normalised layer's
    pre-activations mean 0 and std 1 on the images (checked layer by layer with the noise
    off). `fit` runs it on its first batch before the first step, and not again on a
    later `fit` (a resumed run): the hidden scales, which no optimizer moves, stay."""
    from tfgans.models.ssgan import SSGANMLPDiscriminator

    keras.utils.set_random_seed(5)
    d = SSGANMLPDiscriminator((28, 28, 1), 10, hidden_units=(32, 16), input_noise=0.0,
                              noise=0.0)
    images = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    d.initialize_from_data(images)
    x = images.reshape(64, -1)
    for layer in d.hidden + [d.classifier]:
        pre = np.asarray(layer(x), np.float64)
        np.testing.assert_allclose(pre.mean(0), 0, atol=1e-4)
        np.testing.assert_allclose(pre.std(0), 1, atol=1e-3)
        x = np.maximum(pre, 0).astype("float32")
    hidden_scales = [layer.g for layer in d.hidden]
    assert all(g is not w for g in hidden_scales for w in d.trainable_weights)
    assert any(d.classifier.g is w for w in d.trainable_weights)

    g, d = tfgans.models.get("ssgan")((28, 28, 1), LATENT, 10, width=1, architecture="mlp")
    gan = SSGAN(g, d, latent_dim=LATENT, num_classes=10, seed=3)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), run_eagerly=True)
    np.testing.assert_array_equal(d.hidden[0].g, 1.0)  # the paper's initial scale
    gan.fit(tiny_input(), steps_per_epoch=1, epochs=1, verbose=0)
    first = [np.asarray(layer.g) for layer in d.hidden]
    assert not np.allclose(first[0], 1.0)  # initialised from the data
    gan.fit(tiny_input(), steps_per_epoch=1, epochs=1, verbose=0)
    assert int(gan.step.numpy()) == 2
    for before, layer in zip(first, d.hidden):
        np.testing.assert_array_equal(before, layer.g)


# ------------------------------------------------------------------------ the config


def test_config_resolves_and_rejects_what_cannot_run(tmp_path):
    c = resolve(load_config(CONFIG), (28, 28, 1), 10)
    assert (c.model.name, c.model.latent_dim, c.data.labeled_per_class) == ("ssgan", 100, 10)
    assert (c.data.labels, c.data.num_classes, c.train.ema) == (True, 10, 0.0)
    assert (c.loss.feature_matching, c.loss.unsupervised_weight) == (1.0, 1.0)
    assert (c.optimizer.generator_lr, c.optimizer.beta_1) == (3e-4, 0.5)
    for overrides, words in ((["data.labels=false"], "data.labels: true"),
                             (["data.batch_size=9"], "must be even"),
                             (["loss.name=hinge"], "Unknown config key 'loss.name'"),
                             (["model.architecture=resnet"], "architecture")):
        with pytest.raises(ConfigError, match=words):
            load_config(CONFIG, overrides)


# ------------------------------------------------------------------ CLI and the export

FRESH_SCRIPT = r'''
out = m.signatures["classify"](images=tf.constant(inputs["images"]))
arrays = {
    "serve": m.signatures["serving_default"](noise=tf.constant(inputs["noise"]))["images"].numpy(),
    "generate": m.signatures["generate"](num_samples=tf.constant(3),
                                         seed=tf.constant(7, tf.int64))["images"].numpy(),
    "class_logits": out["class_logits"].numpy(), "classes": out["classes"].numpy(),
}
report["classes_dtype"] = out["classes"].dtype.name
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny run of 4 steps through the CLI ("whole") and one of 2 + 2 resumed
    in-process ("split"), from the config on the real data pipeline."""
    root = tmp_path_factory.mktemp("ssgan")
    sets = [a for o in TINY + ["train.steps=4"] for a in ("--set", o)]
    assert cli.main(["train", CONFIG, "--model-dir", str(root / "whole")] + sets) == 0
    for steps in (2, 4):
        config = load_config(CONFIG, TINY + [f"train.steps={steps}"])
        run.train(config, str(root / "split"), verbose=0)
    return root


def test_resume_is_exact(runs):
    def state(model_dir):
        _, estimator = run.load_run(str(model_dir))
        trainer = estimator.trainer
        return estimator.step, trainer, [np.asarray(v) for vs in
                                         trainer.checkpoint_items().values() for v in vs]

    (step_a, trainer, whole), (step_b, _, split) = state(runs / "whole"), state(runs / "split")
    assert step_a == step_b == 4
    assert any("rng" in name for name in trainer.checkpoint_items())  # dropout's state
    for a, b in zip(whole, split, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_mlp_run_initialises_from_data_once_and_resumes_exactly(tmp_path):
    """`model.architecture: mlp` through the estimator: the discriminator's scales come
    from the first batch on a fresh run (not 1, the value before), and a run of 2 + 2 steps
    equals one of 4 (the resumed half must not initialise again)."""
    tiny = TINY + ["model.architecture=mlp", "model.width=1"]

    def weights(model_dir):
        _, estimator = run.load_run(str(model_dir))
        assert estimator.step == 4
        d = estimator.trainer.discriminator
        return np.asarray(d.hidden[0].g), [np.asarray(v) for vs in
                                          estimator.trainer.checkpoint_items().values()
                                          for v in vs]

    run.train(load_config(CONFIG, tiny + ["train.steps=4"]), str(tmp_path / "whole"),
              verbose=0)
    for steps in (2, 4):
        run.train(load_config(CONFIG, tiny + [f"train.steps={steps}"]), str(tmp_path / "split"),
                  verbose=0)
    (g_whole, whole), (_, split) = weights(tmp_path / "whole"), weights(tmp_path / "split")
    assert not np.allclose(g_whole, 1.0)
    for a, b in zip(whole, split, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_cli_generate_evaluate_export_and_a_fresh_process(runs, monkeypatch, capsys):
    monkeypatch.chdir(runs)
    _, estimator = run.load_run("whole")
    trainer = estimator.trainer
    assert isinstance(trainer, SSGAN) and trainer.classes == 10 and trainer.num_classes is None
    assert trainer.stabilisers.settings["feature_matching"] == 1.0
    assert float(trainer.optimizers["discriminator"].learning_rate) == pytest.approx(3e-4)
    capsys.readouterr()
    assert cli.main(["generate", "whole", "--num", "4", "--out", "grid.png"]) == 0
    assert tf.io.decode_png((runs / "grid.png").read_bytes()).shape[-1] == 1
    assert cli.main(["generate", "whole", "--num", "4", "--out", "bad.png", "--labels", "1"]) == 1
    err = capsys.readouterr().err  # the generator is unconditional
    assert "not conditional" in err and "Traceback" not in err, err
    assert cli.main(["evaluate", "whole", "--num-samples", "16"]) == 0
    assert "classifier test accuracy" in capsys.readouterr().out
    record = json.loads((runs / "whole" / "eval.json").read_text())[-1]
    assert record["num_test"] == 10_000 and 0.0 <= record["test_accuracy"] <= 1.0
    # The accuracy is the discriminator's on the whole test split.
    images, labels = tfgans_test_split()
    expected, _ = classifier_accuracy(trainer.classify, [(images, labels)])
    assert record["test_accuracy"] == pytest.approx(expected, abs=1e-6)
    assert cli.main(["export", "whole", "--export-dir", "served", "--version", "1"]) == 0

    # The export in a process that can import TensorFlow only.
    noise = tfgans.training.sample_noise(2, LATENT, seed=7).numpy()
    served_images = ((images[:5] + 1.0) / 2.0).astype(np.float32)  # [0, 1], as served
    report, arrays = run_tf_only(FRESH_SCRIPT, runs / "served" / "1", runs, noise=noise,
                                 images=served_images)
    assert not report["tfgans_findable"] and not {"keras", "tfgans"} & set(report["loaded"])
    assert report["signatures"] == {
        "serving_default": ["noise"], "generate": ["num_samples", "seed"],
        "generate_truncated": ["num_samples", "seed", "truncation"], "classify": ["images"]}
    np.testing.assert_allclose(arrays["serve"], (trainer.generate_from_noise(noise) + 1) / 2,
                               atol=1e-5)
    np.testing.assert_allclose(arrays["generate"], (trainer.generate(3, seed=7) + 1) / 2,
                               atol=1e-5)
    logits = trainer.classify(images[:5]).numpy()
    assert arrays["class_logits"].shape == (5, 10) and report["classes_dtype"] == "int32"
    np.testing.assert_allclose(arrays["class_logits"], logits, atol=1e-4)
    np.testing.assert_array_equal(arrays["classes"], logits.argmax(-1))


def tfgans_test_split():
    from pipelines.data import load_fashion_mnist_arrays

    images, labels = load_fashion_mnist_arrays("test")
    return images[..., None].astype(np.float32) / 127.5 - 1.0, labels
