"""StackGAN (issue 15): captions and (images, text) pipelines, the closed forms of its
losses, exact resume across the stage switch, and one CLI round trip (train, generate with
text, export) whose export a TensorFlow-only process calls with plain strings."""

import json
import os
import subprocess
import sys
import sysconfig

import numpy as np
import pytest
import tensorflow as tf

import tfgans.models
from pipelines.data import DataError, build_dataset, captions
from tfgans import losses

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------------- the losses


def test_conditioning_augmentation_kl_matches_the_closed_form():
    mean = np.array([[0.0, 1.0], [2.0, -1.0]], np.float32)
    log_variance = np.array([[0.0, np.log(2.0)], [-1.0, 0.0]], np.float32)
    # By hand, per element 0.5 * (m^2 + exp(lv) - 1 - lv):
    # row 0: 0 + 0.5 * (1 + 2 - 1 - ln 2); row 1: 0.5 * (4 + e^-1 - 1 + 1) + 0.5 * (1 + 1 - 1).
    row0 = 0.5 * (2.0 - np.log(2.0))
    row1 = 0.5 * (4.0 + np.exp(-1.0)) + 0.5
    got = float(losses.conditioning_augmentation_kl(mean, log_variance))
    assert got == pytest.approx((row0 + row1) / 2, rel=1e-6)
    assert float(losses.conditioning_augmentation_kl(np.zeros((3, 4)), np.zeros((3, 4)))) == 0.0


def test_matching_aware_loss_matches_a_hand_computation():
    real, wrong, fake = [2.0, -1.0], [0.5, 3.0], [-2.0, 0.0]
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731 - softplus
    # -log sigmoid(s) = softplus(-s); -log(1 - sigmoid(s)) = softplus(s).
    expected = (np.mean([sp(-2.0), sp(1.0)])
                + 0.5 * (np.mean([sp(0.5), sp(3.0)]) + np.mean([sp(-2.0), sp(0.0)])))
    got = float(losses.matching_aware_discriminator_loss(
        np.array(real)[:, None], np.array(wrong)[:, None], np.array(fake)[:, None]))
    assert got == pytest.approx(expected, rel=1e-6)
    assert float(losses.matching_aware_generator_loss(np.array([[-2.0], [0.0]]))) == (
        pytest.approx(np.mean([sp(2.0), sp(0.0)]), rel=1e-6))


# ------------------------------------------------------------------------------ data


def test_fashion_captions_describe_each_images_class_deterministically():
    from pipelines.data.fashion_tasks import fashion_arrays

    per_class = captions.fashion_captions()
    assert len(per_class) == 10 and all(len(set(c)) >= 5 for c in per_class)
    _, labels = fashion_arrays("train")
    ds = build_dataset("fashion_mnist_captions", 8, seed=3, shuffle=False, cache=False)
    images, text = next(iter(ds))
    assert images.shape == (8, 28, 28, 1) and images.dtype == tf.float32 and text.dtype == tf.string
    for label, t in zip(labels[:8], text.numpy()):
        assert t.decode() in per_class[label]
    # Seeded: the same seed gives the same pairs; rebuilt and skipped (a resume) too.
    run = lambda seed: [t.numpy().tolist() for _, t in build_dataset(  # noqa: E731
        "fashion_mnist_captions", 8, seed=seed, shuffle_buffer=64, repeat=True).take(3)]
    first = run(3)
    assert first == run(3) and first != run(4)
    resumed = build_dataset("fashion_mnist_captions", 8, seed=3, shuffle_buffer=64,
                            repeat=True).skip(2)
    assert next(iter(resumed))[1].numpy().tolist() == first[2]


def write_captioned_folder(path, lines, size=8):
    path.mkdir(exist_ok=True)
    for i in range(4):
        pixels = np.full((size, size, 1), 40 * i, np.uint8)
        (path / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (path / "captions.txt").write_text("\n".join(lines) + "\n")


def test_captioned_folder_pairs_images_with_their_captions(tmp_path):
    lines = ["0.png\ta dark square", "1.png,a grey square", "# a comment", "",
             "2.png\ta light square", "3.png\ta white square", "3.png\tthe brightest one"]
    write_captioned_folder(tmp_path / "ok", lines)
    ds = build_dataset("captioned_folder", 4, path=str(tmp_path / "ok"), shuffle=False)
    images, text = next(iter(ds))
    grey = np.round((images[:, 0, 0, 0].numpy() + 1.0) * 127.5).astype(int)
    assert sorted(grey) == [0, 40, 80, 120]  # each image once, with its own caption
    by_grey = dict(zip(grey, text.numpy()))
    assert by_grey[0] == b"a dark square" and by_grey[40] == b"a grey square"
    assert by_grey[120] in (b"a white square", b"the brightest one")
    # Most frequent first, ties alphabetical.
    assert captions.folder_vocabulary(str(tmp_path / "ok")) == [
        "a", "square", "brightest", "dark", "grey", "light", "one", "the", "white"]


@pytest.mark.parametrize("lines, message", [
    (["0.png\ta", "1.png\tb", "2.png no separator", "3.png\td"], "line 3 is not"),
    (["0.png\ta", "1.png\tb", "2.png\t", "3.png\td"], "line 3 is not"),
    (["0.png\ta", "1.png\tb", "2.png\tc"], "3.png has no caption"),
    (["0.png\ta", "1.png\tb", "2.png\tc", "9.png\td"], "line 4 names '9.png'"),
])
def test_captioned_folder_names_the_bad_line(tmp_path, lines, message):
    write_captioned_folder(tmp_path / "bad", lines)
    with pytest.raises(DataError, match=message):
        build_dataset("captioned_folder", 2, path=str(tmp_path / "bad"))


def test_captioned_folder_without_captions_file(tmp_path):
    write_captioned_folder(tmp_path / "none", [])
    (tmp_path / "none" / "captions.txt").unlink()
    with pytest.raises(DataError, match="captions.txt is missing"):
        build_dataset("captioned_folder", 2, path=str(tmp_path / "none"))


# ----------------------------------------------------------------------- the trainer


def tiny_trainer(stage1_steps):
    from tfgans.training import StackGAN

    vocab = ["a", "boot", "bag", "leather", "dress"]
    nets = tfgans.models.get("stackgan")((8, 8, 1), 4, vocabulary=vocab, width=4, code_dim=2,
                                         text_dim=4, embedding_dim=4, sequence_length=6)
    trainer = StackGAN(**nets, latent_dim=4, stage1_steps=stage1_steps, ema_decay=0.9,
                       sample_texts=["a boot", "a bag"], seed=5)
    trainer.compile()
    return trainer


def tiny_data():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    text = np.array(["a leather boot", "a bag", "a dress", "a boot"] * 4)
    return tf.data.Dataset.from_tensor_slices((images, text)).batch(4, drop_remainder=True)


def state(trainer):
    return [np.array(v.numpy()) for items in trainer.checkpoint_items().values() for v in items]


def test_resume_is_exact_across_the_stage_switch(tmp_path):
    """N + N steps (save at N, disturb, restore, N more) equal 2N in one go; stage I
    trains steps 0-2 and stage II step 3, so the switch lies in the second half."""
    trainer = tiny_trainer(stage1_steps=3)
    data = tiny_data()
    with pytest.raises(ValueError, match=r"StackGAN trains on \(images, text\) batches"):
        trainer.check_batch(data.map(lambda images, text: images).element_spec)
    checkpoint = tf.train.Checkpoint(**trainer.checkpoint_items())
    start = checkpoint.save(str(tmp_path / "start"))
    history = trainer.fit(data, steps_per_epoch=4, epochs=1, verbose=0)
    assert int(trainer.step.numpy()) == 4 and trainer.stage() == 2
    assert history.history["stage"][-1] == pytest.approx((1 + 1 + 1 + 2) / 4)
    in_one_go = state(trainer)
    checkpoint.restore(start)
    trainer.fit(data, steps_per_epoch=2, epochs=1, verbose=0)
    half = checkpoint.save(str(tmp_path / "half"))
    trainer.fit(data.skip(3), steps_per_epoch=1, epochs=1, verbose=0)  # disturb everything
    checkpoint.restore(half)
    assert int(trainer.step.numpy()) == 2 and trainer.stage() == 1
    trainer.fit(data.skip(2), steps_per_epoch=2, epochs=1, verbose=0)
    for a, b in zip(in_one_go, state(trainer)):
        np.testing.assert_array_equal(a, b)
    # The health monitor reads D's loss as GAN-CLS' sigmoid loss, not a critic's.
    from tfgans.health import WASSERSTEIN
    assert trainer.settings()["loss"] == "matching_aware"
    assert "matching_aware" not in WASSERSTEIN
    # The generator reads the stage-I discriminator's text encoder: a copy, not trained
    # by the generator's optimizer.
    g_encoder = trainer.stage1_generator.encoder
    assert g_encoder.weights and not g_encoder.trainable_weights
    for mine, theirs in zip(g_encoder.weights, trainer.stage1_discriminator.encoder.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    # The switch happened: stage II's networks moved, and the sample depends on the text;
    # unknown words map to the out-of-vocabulary token.
    images = trainer.sample(2, seed=1, text=["a zorblax boot", "qwerty bag!"])
    assert images.shape == (2, 8, 8, 1) and np.all(np.abs(images) <= 1.0)
    np.testing.assert_array_equal(images, trainer.sample(2, seed=1, text=["a zorblax boot",
                                                                           "qwerty bag!"]))
    assert not np.allclose(trainer.sample(1, seed=1, text="a boot"),
                           trainer.sample(1, seed=1, text="a dress"))


def test_discriminator_text_term_is_a_projection():
    """The text changes the logit only through <project(embedding), mean_xy(h)>."""
    vocab = ["a", "boot", "bag"]
    d = tfgans.models.get("stackgan")((8, 8, 1), 4, vocabulary=vocab, width=4, code_dim=2,
                                      text_dim=4, embedding_dim=4)["stage2_discriminator"]
    images = tf.random.stateless_uniform([3, 8, 8, 1], seed=[1, 2], minval=-1.0)
    e1 = tf.random.stateless_normal([3, 4], seed=[3, 4])
    e2 = tf.random.stateless_normal([3, 4], seed=[5, 6])
    difference = d.score(images, e1) - d.score(images, e2)  # (builds the layers)
    x = images
    for conv in d.convs:
        x = tf.nn.leaky_relu(conv(x), 0.2)
    pooled = tf.reduce_mean(tf.nn.leaky_relu(d.joint(x), 0.2), axis=[1, 2])
    kernel = d.project.kernel  # [text_dim, features], no bias
    expected = tf.reduce_sum(pooled * tf.matmul(e1 - e2, kernel), axis=-1, keepdims=True)
    np.testing.assert_allclose(difference, expected, rtol=1e-4, atol=1e-5)


def test_a_short_run_draws_the_described_class():
    """The text steers the class: after 420 steps (400 of stage I; width 16, batch 32,
    Adam 1e-3), the shipped Fashion-MNIST classifier finds the described class in the
    images generated for the ten seen descriptions (20 each) well above chance (0.10).
    Measured on 2 CPU cores: 0.345 (this seed), 0.320 (seed 1); the floor is 0.2.
    (`benchmarks/stackgan_text.py` measures longer runs: README, "Text to image".)"""
    from benchmarks.stackgan_text import class_accuracy, train

    trainer, _, _ = train(420, 400, width=16, batch_size=32, kl_weight=0.1, seed=0, lr=1e-3)
    assert trainer.stage() == 2
    seen = [(c, per[0]) for c, per in enumerate(captions.fashion_captions())]
    accuracy = np.mean([a for _, _, a in class_accuracy(trainer, seen, 20)])
    assert accuracy >= 0.2, f"class accuracy {accuracy:.3f} (chance 0.10)"


# ------------------------------------------------------------- CLI round trip, export

FRESH_SCRIPT = r'''
import importlib.util, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
site_packages, export_dir, out_dir = sys.argv[1:]
sys.path.append(site_packages)
for name in ("keras", "tf_keras", "tfgans", "pipelines"):
    sys.modules[name] = None  # `import name` raises ImportError from here on
import numpy as np
import tensorflow as tf

m = tf.saved_model.load(export_dir)
report = {"signatures": {}}
for name, fn in m.signatures.items():
    _, specs = fn.structured_input_signature
    report["signatures"][name] = sorted(f"{k}:{v.dtype.name}:{v.shape.as_list()}"
                                        for k, v in specs.items())
texts = tf.constant(["a leather ankle boot", "a zorblax qwerty", "boot ankle leather a"])
out = m.signatures["generate"](text=texts, seed=tf.constant(3, tf.int64))
again = m.signatures["generate"](text=texts[:1], seed=tf.constant(3, tf.int64))
pngs = [tf.io.decode_png(p).numpy() for p in out["png_bytes"].numpy()]
serve = m.signatures["serving_default"](text=texts, noise=tf.zeros([3, 4]))
np.savez(os.path.join(out_dir, "arrays.npz"), images=out["images"].numpy(),
         again=again["images"].numpy(), pngs=np.stack(pngs), serve=serve["images"].numpy())
report["loaded"] = sorted({k.split(".")[0] for k, v in sys.modules.items() if v is not None})
with open(os.path.join(out_dir, "report.json"), "w") as f:
    json.dump(report, f)
'''


def test_cli_trains_generates_from_text_and_exports_for_tensorflow_only(tmp_path):
    from pipelines import cli

    run_dir, export_dir = tmp_path / "run", tmp_path / "export"
    # Stage II alone and no GAN-INT: the smallest graph (the resume test covers the switch).
    tiny = ["train.steps=2", "train.stage1_steps=0", "loss.interpolation_weight=0",
            "model.width=4", "model.latent_dim=4",
            "model.code_dim=2", "model.text_dim=4", "model.embedding_dim=4",
            "data.batch_size=4", "data.shuffle_buffer=16", "train.checkpoint_every=2",
            "train.sample_every=2"]
    sets = [arg for s in tiny for arg in ("--set", s)]
    assert cli.main(["train", os.path.join(ROOT, "configs", "stackgan_fashion_mnist.yaml"),
                     "--model-dir", str(run_dir), *sets]) == 0
    written = (run_dir / "config.yaml").read_text()
    assert "vocabulary:" in written and "- boot" in written and "sample_texts:" in written
    out = tmp_path / "boots.png"
    assert cli.main(["generate", str(run_dir), "--text", "a leather ankle boot", "--num", "3",
                     "--out", str(out)]) == 0
    assert tf.io.decode_png(out.read_bytes()).shape[-1] == 1
    assert cli.main(["generate", str(run_dir), "--labels", "1", "--num", "3",
                     "--out", str(out)]) == 1
    # The image metrics and, the sample texts being one per class, the class accuracy.
    assert cli.main(["evaluate", str(run_dir), "--num-samples", "1000"]) == 0
    record = json.loads((run_dir / "eval.json").read_text())[-1]
    assert record["num_samples"] == 1000 and 0.0 <= record["class_accuracy"] <= 1.0
    assert np.isfinite(record["fid"]) and "intra_fid" not in record
    assert cli.main(["export", str(run_dir), "--export-dir", str(export_dir)]) == 0

    script = tmp_path / "load_and_call.py"
    script.write_text(FRESH_SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(script), sysconfig.get_paths()["purelib"],
         str(export_dir / "1"), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text())
    arrays = np.load(tmp_path / "arrays.npz")
    assert report["signatures"] == {
        "serving_default": ["noise:float32:[None, 4]", "text:string:[None]"],
        "generate": ["seed:int64:[]", "text:string:[None]"],
    }
    assert not {"keras", "tfgans", "pipelines"} & set(report["loaded"])
    images = arrays["images"]
    assert images.shape == (3, 28, 28, 1) and images.min() >= 0.0 and images.max() <= 1.0
    assert arrays["pngs"].shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(arrays["pngs"], np.round(images * 255).astype(np.uint8))
    np.testing.assert_allclose(arrays["again"][0], images[0], atol=1e-6)  # image i: (seed, i)
    assert arrays["serve"].shape == (3, 28, 28, 1)
