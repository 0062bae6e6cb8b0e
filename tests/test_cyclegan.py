"""CycleGAN (issue 17): the history pool and the linear decay against hand checks, the loss
terms by hand on the first step, resume exactness with the pool and the decay inside the
window, the two-way metrics, and one CLI round trip of configs/cyclegan_sneaker2boot.yaml
(train, translate both ways, evaluate, export) whose export is called, both directions,
from a TensorFlow-only process."""

import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from tf_only import run_tf_only

import tfgans
import tfgans.models
from pipelines import cli
from pipelines import config as config_lib
from tfgans.metrics import evaluate_cycle
from tfgans.training import CycleGAN
from tfgans.training.cyclegan import LinearDecay
from tfgans.training.image_pool import query_pool

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "cyclegan_sneaker2boot.yaml")
SHAPE = (8, 8, 1)
POOL = 6  # batch 4: step 1 stores 4, step 2 fills the pool and starts swapping


def domains(num=16, seed=0):
    a = np.random.default_rng(seed).uniform(-0.9, 0.9, (num, *SHAPE)).astype("float32")
    return a, np.flip(a, axis=2) * 0.5


def trainer_fn():
    keras.utils.set_random_seed(0)
    networks = tfgans.models.get("cyclegan")(SHAPE, None, width=4, residual_blocks=1,
                                             discriminator_width=4, discriminator_layers=1)
    trainer = CycleGAN(**networks, pool_size=POOL, seed=3)
    # The decay starts at step 1 and ends at 4: every step of the window has its own rate.
    trainer.compile(**{f"{name}_optimizer": keras.optimizers.Adam(1e-3, beta_1=0.5)
                       for name in CycleGAN.TRAINED},
                    total_steps=4, decay_start=1, jit_compile=False)
    return trainer


def estimator(model_dir):
    return tfgans.Estimator(trainer_fn, str(model_dir), checkpoint_every=2, sample_every=100,
                            log_every=100, num_sample_images=12, jit_compile=False, verbose=0)


def dataset():
    return tf.data.Dataset.from_tensor_slices(domains()).batch(4, drop_remainder=True)


def state(trainer):
    return [np.asarray(v) for vs in trainer.checkpoint_items().values() for v in vs]


# ------------------------------------------------------------- pool and schedule


def test_history_pool_stores_the_first_then_swaps_half_by_hand():
    images = np.arange(1, 8, dtype=np.float32).reshape(7, 1, 1, 1)  # image i holds i
    coins = np.array([0.9, 0.1, 0.9, 0.7, 0.2, 0.6, 0.55], np.float32)
    slots = np.array([2, 2, 2, 1, 0, 1, 1], np.int32)
    shown, pool, count = query_pool(tf.zeros([3, 1, 1, 1]), tf.constant(0), images, coins, slots)
    # By hand: 1, 2, 3 fill the pool (shown as is, whatever the draws); then 4 (coin 0.7)
    # shows the stored 2 (slot 1) and takes its place; 5 (coin 0.2) is shown as is and not
    # stored; 6 (0.6, slot 1) shows 4 and replaces it; 7 (0.55, slot 1) shows 6.
    assert shown.numpy().ravel().tolist() == [1, 2, 3, 2, 5, 4, 6]
    assert pool.numpy().ravel().tolist() == [1, 7, 3] and int(count) == 3
    # A full pool of 50: about half the images come back old, exactly where the coin > 0.5.
    rng = np.random.default_rng(0)
    stored = tf.constant(-np.arange(1, 51, dtype=np.float32).reshape(50, 1, 1, 1))
    fresh = np.arange(1, 401, dtype=np.float32).reshape(400, 1, 1, 1)
    coins = rng.uniform(size=400).astype(np.float32)
    shown, _, _ = tf.function(query_pool)(stored, tf.constant(50), fresh, coins,
                                          rng.integers(0, 50, 400).astype(np.int32))
    old = shown.numpy().ravel() != fresh.ravel()
    np.testing.assert_array_equal(old, coins > 0.5)
    assert 0.4 < old.mean() < 0.6


def test_linear_decay_is_constant_then_linear_to_zero():
    schedule = LinearDecay(2e-4, decay_start=100, total_steps=200)
    rates = [float(schedule(s)) for s in (0, 99, 100, 150, 199, 200)]
    assert rates == pytest.approx([2e-4, 2e-4, 2e-4, 1e-4, 2e-6, 0.0], rel=1e-5)
    with pytest.raises(ValueError, match="decay_start"):
        LinearDecay(2e-4, decay_start=200, total_steps=200)


# ------------------------------------------------- losses, resume, grid (one run)


def test_losses_by_hand_then_resume_is_exact_with_pool_and_decay(tmp_path):
    whole = estimator(tmp_path / "whole")
    t = whole.trainer
    a, b = (x[:4] for x in domains())
    g, f, d_a, d_b = t.generator_ab, t.generator_ba, t.discriminator_a, t.discriminator_b
    fake_b, fake_a = g(a).numpy(), f(b).numpy()
    l1 = lambda x, y: np.abs(np.asarray(x) - y).mean()  # noqa: E731
    # Least squares (TF-GAN's constants): G 0.5 (D(G) - 1)^2; D 0.5 (D(x) - 1)^2 + 0.5 D(G)^2.
    adversarial = (0.5 * ((d_b(fake_b).numpy() - 1) ** 2).mean()
                   + 0.5 * ((d_a(fake_a).numpy() - 1) ** 2).mean())
    cycle = l1(f(fake_b), a) + l1(g(fake_a), b)
    identity = l1(f(a), a) + l1(g(b), b)
    # D sees the step's fakes as they are: the pool is empty, it stores them.
    d_loss = sum(0.5 * ((d(real).numpy() - 1) ** 2).mean() + 0.5 * (d(fake).numpy() ** 2).mean()
                 for d, real, fake in ((d_a, a, fake_a), (d_b, b, fake_b)))
    history = whole.train(dataset, max_steps=1).history
    assert history["g_adversarial"][0] == pytest.approx(adversarial, rel=1e-5)
    assert history["cycle"][0] == pytest.approx(cycle, rel=1e-5)
    assert history["identity"][0] == pytest.approx(identity, rel=1e-5)
    assert history["g_loss"][0] == pytest.approx(adversarial + 10 * cycle + 5 * identity,
                                                 rel=1e-5)
    assert history["d_loss"][0] == pytest.approx(d_loss, rel=1e-5)
    np.testing.assert_allclose(t.pools[0].numpy()[:4], fake_a, rtol=1e-5, atol=1e-6)
    assert int(t.pool_counts[0].numpy()) == 4

    whole.train(dataset, max_steps=2)
    shutil.copytree(tmp_path / "whole", tmp_path / "split")  # the checkpoint of step 2
    whole.train(dataset, max_steps=4)
    resumed = estimator(tmp_path / "split")
    assert resumed.step == 2
    resumed.train(dataset, max_steps=4)
    for x, y in zip(state(whole.trainer), state(resumed.trainer), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
    # Inside the window: the pool filled (6) and swapped, and the rates decayed (step 4: 0).
    assert int(t.pool_counts[1].numpy()) == POOL
    assert float(t.optimizers["generator_ab"].learning_rate) == 0.0
    assert not np.isin(t.pools[1].numpy()[:4], fake_b).all()
    # The grid: rows of a | G(a) | F(G(a)) | b | F(b) | G(F(b)) of the first batch.
    grid, columns = resumed.trainer.sample_grid(12)
    assert columns == 6 and grid.shape == (12, *SHAPE)
    np.testing.assert_array_equal(grid[0], a[0])
    np.testing.assert_array_equal(grid[3], b[0])
    np.testing.assert_allclose(grid[1], resumed.trainer.sample(a[:1])[0], atol=1e-6)


# ------------------------------------------------------------------------- metrics


def test_cycle_metrics_by_hand_and_on_the_classifier():
    from pipelines.data import sneaker2boot

    a = np.zeros([3, 28, 28, 1], np.float32)
    shift = evaluate_cycle(lambda x, d: x + (0.25 if d == "a_to_b" else 0.5), [(a, a - 1)], 3)
    assert shift["cycle_a"] == shift["cycle_b"] == shift["cycle"] == pytest.approx(0.75)
    assert shift["num_pairs"] == 3 and "accuracy" not in shift
    # A "translator" that returns real images of the other domain: its accuracy is the
    # classifier's on them; the identity's (sneakers called boots) is near 0.
    sneakers, boots = (x.numpy() for x in next(iter(sneaker2boot(40, split="test",
                                                                shuffle=False))))
    swap = lambda x, d: boots if d == "a_to_b" else sneakers  # noqa: E731
    m = evaluate_cycle(swap, [(sneakers, boots)], 40, "fashion_mnist", classes=(7, 9))
    assert m["accuracy_a_to_b"] > 0.8 and m["accuracy_b_to_a"] > 0.8
    assert m["identity_accuracy"] < 0.1 and m["accuracy"] == pytest.approx(
        0.5 * (m["accuracy_a_to_b"] + m["accuracy_b_to_a"]))
    assert m["fid_a_to_b"] == pytest.approx(0.0, abs=1e-3)  # the target images themselves
    assert m["identity_fid_a_to_b"] > 10 * max(m["fid_b_to_a"], 1e-3)


def test_config_needs_unpaired_data():
    config = config_lib.config_from_dict({"model": {"name": "cyclegan"}})
    assert config.data.name == "sneaker2boot" and config.loss.name == "least_squares"
    assert (config.loss.cycle_weight, config.loss.identity_weight, config.train.pool_size) == (
        10.0, 0.5, 50)
    with pytest.raises(config_lib.ConfigError, match="trains on unpaired"):
        config_lib.config_from_dict({"model": {"name": "cyclegan"},
                                     "data": {"name": "edges2fashion"}})


# ------------------------------------------------------- the CLI, export and serving


def _fails(capsys, argv, match):
    assert cli.main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], lines


def test_cli_train_translate_evaluate_export_and_serve_both_ways(tmp_path, capsys):
    run = str(tmp_path / "run")
    tiny = ["train.steps=2", "train.checkpoint_every=2", "train.sample_every=2",
            "eval.every=2", "eval.num_samples=8", "eval.kid_subset_size=2",
            "data.batch_size=2", "data.shuffle_buffer=64", "model.width=4",
            "model.residual_blocks=1", "model.discriminator_width=4",
            "model.discriminator_layers=1", "train.pool_size=3", "train.jit_compile=false"]
    argv = ["train", CONFIG, "--model-dir", run]
    for override in tiny:
        argv += ["--set", override]
    assert cli.main(argv) == 0, capsys.readouterr().err
    resolved = config_lib.load_config(os.path.join(run, "config.yaml"))
    assert resolved.optimizer.decay_start == 1  # null: half of train.steps
    record = json.load(open(os.path.join(run, "eval.json")))[-1]  # periodic, held-out
    assert record["step"] == 2 and {"accuracy_a_to_b", "identity_accuracy", "cycle",
                                    "fid_b_to_a"} <= set(record)
    assert os.path.exists(os.path.join(run, "samples", "latest.png"))
    capsys.readouterr()

    # translate both ways; bad input: one line.
    from pipelines.data import sneaker2boot

    a, b = next(iter(sneaker2boot(2, split="test", shuffle=False)))
    os.makedirs(tmp_path / "in")
    for name, images in (("a", a), ("b", b)):
        for i, x in enumerate(np.round((images.numpy() + 1) * 127.5).astype(np.uint8)):
            (tmp_path / "in" / f"{name}{i}.png").write_bytes(tf.io.encode_png(x).numpy())
    outs = {}
    for name, direction in (("a", "a_to_b"), ("b", "b_to_a")):
        out = str(tmp_path / f"{direction}.png")
        assert cli.main(["translate", run, str(tmp_path / "in" / f"{name}1.png"), "--out", out,
                         "--direction", direction]) == 0
        outs[direction] = tf.io.decode_png(open(out, "rb").read()).numpy()
    assert outs["a_to_b"].shape == (28, 28, 1)
    _fails(capsys, ["translate", run, str(tmp_path / "in" / "a1.png"), "--out",
                    str(tmp_path / "in")], "--out must be a .png file for one input file")

    # evaluate: both directions on held-out images, next to the identity.
    assert cli.main(["evaluate", run, "--num-samples", "8"]) == 0
    text = capsys.readouterr().out
    assert "8 held-out images of each domain (test split)" in text
    assert "A -> B accuracy" in text and "cycle L1 B" in text and "identity" in text

    # export; serve from a process with only TensorFlow: 4 signatures, both directions,
    # agreeing with each other and with `tfgans translate` (8-bit PNGs: within 1.5 / 255).
    assert cli.main(["export", run, "--export-dir", str(tmp_path / "served"), "--version", "1"]) == 0
    report, arrays = run_tf_only(r'''
served, pngs = [], []
for side, suffix in (("a", ""), ("b", "_b_to_a")):
    x = inputs["images"]["ab".index(side)]
    served.append(m.signatures["serving_default" + suffix](images=tf.constant(x))["images"])
    raw = tf.constant([read(f"in/{side}{i}.png") for i in range(2)])
    pngs.append(decode(m.signatures["translate" + suffix](png_bytes=raw)["png_bytes"].numpy()))
arrays = {"served": np.stack(served), "pngs": np.stack(pngs)}
''', tmp_path / "served" / "1", tmp_path,
        images=np.stack([(a.numpy() + 1) / 2, (b.numpy() + 1) / 2]).astype("float32"))
    assert not {"keras", "tfgans", "pipelines"} & set(report["loaded"])
    served, pngs = arrays["served"], arrays["pngs"]
    assert served.shape == pngs.shape == (2, 2, 28, 28, 1)
    np.testing.assert_allclose(pngs / 255.0, served, atol=1.5 / 255)
    np.testing.assert_array_equal(pngs[0, 1], outs["a_to_b"])
    np.testing.assert_array_equal(pngs[1, 1], outs["b_to_a"])
    assert np.abs(served[0] - served[1]).max() > 1e-3  # two generators, two directions
