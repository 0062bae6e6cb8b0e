"""The trainer contract: a second family (tests/contract_family.py) written only against it
trains under fit and the estimator, resumes exactly and exports (1 vs 2 replicas:
tests/test_trainer_contract_replicas.py, in its own process); the layers above the trainers read nothing private of them; the
execution rule is defined once; configs hold effective values and cover every setting."""

import ast
import inspect
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import yaml

import tfgans
import tfgans.models
from contract_family import PairedTranslation, networks, paired_data
from pipelines import cli
from pipelines import config as config_lib
from pipelines import run
from tfgans.training import ExecutionError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPE = (8, 8, 1)


def dataset(batch=8):
    return tf.data.Dataset.from_tensor_slices(paired_data()).batch(batch, drop_remainder=True)


def trainer_fn():
    keras.utils.set_random_seed(0)
    generator, discriminator = networks(SHAPE)
    trainer = PairedTranslation(generator, discriminator, SHAPE, ema_decay=0.9, seed=3)
    trainer.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-3), l1_weight=10.0)
    return trainer


def estimator(model_dir, **kwargs):
    return tfgans.Estimator(trainer_fn, str(model_dir), checkpoint_every=2, sample_every=100,
                            log_every=100, num_sample_images=4, jit_compile=False, verbose=0,
                            **kwargs)


def state(trainer):
    return [np.asarray(v) for vs in trainer.checkpoint_items().values() for v in vs]


def test_second_family_learns_under_fit():
    trainer = trainer_fn()
    source, target = paired_data(num=64)
    before = np.abs(trainer.sample(source) - target).mean()
    history = trainer.fit(source, target, batch_size=16, epochs=15, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "l1", "nonfinite", "grad_norm_generator",
                                    "grad_norm_discriminator"}
    after = np.abs(trainer.sample(source) - target).mean()
    assert after < 0.5 * before, (before, after)
    assert int(trainer.step.numpy()) == 60


def test_second_family_estimator_resumes_exactly(tmp_path):
    whole = estimator(tmp_path / "whole")
    whole.train(dataset, max_steps=6)
    estimator(tmp_path / "split").train(dataset, max_steps=3)
    resumed = estimator(tmp_path / "split")
    assert (resumed.step, resumed.input_position) == (3, 3)
    resumed.train(dataset, max_steps=6)
    for a, b in zip(state(whole.trainer), state(resumed.trainer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    fingerprint = yaml.safe_load((tmp_path / "split" / "config.yaml").read_text())
    assert fingerprint["trainer"] == "PairedTranslation" and fingerprint["ema_decay"] == 0.9
    assert os.path.exists(tmp_path / "split" / "samples" / "latest.png")
    assert resumed.evaluate(dataset, extractor=None)["l1"] < 1.0
    assert resumed.predict(paired_data(num=2)[0]).shape == (2, *SHAPE)


def test_second_family_exports_both_signatures(tmp_path):
    est = estimator(tmp_path / "run")
    est.train(dataset, max_steps=2)
    path = est.export_saved_model(str(tmp_path / "export"))
    source = paired_data(num=3)[0]
    expected = (est.predict(source) + 1) / 2
    pixels = np.round((source + 1) * 127.5).astype(np.uint8)
    np.save(tmp_path / "source.npy", (source + 1) / 2)
    np.save(tmp_path / "pixels.npy", pixels)
    script = f"""
import sys
for name in ("keras", "tf_keras", "tfgans", "pipelines"):
    sys.modules[name] = None  # TensorFlow only: importing these raises from here on
import numpy as np, tensorflow as tf
m = tf.saved_model.load({path!r})
images = np.load({str(tmp_path / "source.npy")!r}).astype("float32")
out = m.signatures["serving_default"](images=tf.constant(images))["images"].numpy()
pngs = [tf.io.encode_png(p).numpy() for p in np.load({str(tmp_path / "pixels.npy")!r})]
back = m.signatures["translate"](png_bytes=tf.constant(pngs))["png_bytes"].numpy()
decoded = np.stack([tf.io.decode_png(b).numpy() for b in back])
np.save({str(tmp_path / "out.npy")!r}, out); np.save({str(tmp_path / "png.npy")!r}, decoded)
print("modules:", sorted(m for m, v in sys.modules.items()
                         if v is not None and m.split(".")[0] in ("tfgans", "keras")))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "modules: []" in proc.stdout
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-5)
    decoded = np.load(tmp_path / "png.npy").astype(np.float32) / 255.0
    np.testing.assert_allclose(decoded, expected, atol=1.5 / 255)  # 8-bit in and out


# ------------------------------------------------------------------- the contract holds

_ABOVE = ["tfgans/estimator.py", "tfgans/callbacks.py", "tfgans/export.py",
          "tfgans/multi_worker.py", "pipelines/run.py", "pipelines/cli.py"] + [
    os.path.join("tfgans/metrics", f) for f in os.listdir(os.path.join(REPO, "tfgans/metrics"))
    if f.endswith(".py")]
_TRAINER_NAMES = {"trainer", "gan", "model"}


def _private_uses(path):
    """(line, text) of `<trainer>._x` attribute reads and private imports from training."""
    tree = ast.parse(open(os.path.join(REPO, path)).read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not (
            node.attr.startswith("__")
        ):
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if name in _TRAINER_NAMES:
                found.append((node.lineno, ast.unparse(node)))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tfgans.training"):
            found += [(node.lineno, f"from {node.module} import {a.name}")
                      for a in node.names if a.name.startswith("_")]
        if isinstance(node, ast.Attribute) and "training." in ast.unparse(node) and (
            node.attr.startswith("_") and not node.attr.startswith("__")
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


@pytest.mark.parametrize("path", _ABOVE)
def test_layers_above_read_nothing_private_of_a_trainer(path):
    assert _private_uses(path) == []


def test_the_private_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from tfgans.training.gan import _x\nself.trainer._optimizers\nmodel._t\n")
    rel = os.path.relpath(bad, REPO)
    assert [text for _, text in _private_uses(rel)] == [
        "from tfgans.training.gan import _x", "self.trainer._optimizers", "model._t"]


def test_execution_rule_is_one_error_from_cli_and_python(tmp_path, mirrored, capsys):
    with pytest.raises(ExecutionError) as python_api:
        tfgans.Estimator(trainer_fn, str(tmp_path / "a"), mirrored, jit_compile=True)
    with mirrored.scope():
        generator, discriminator = networks(SHAPE)
        trainer = PairedTranslation(generator, discriminator, SHAPE)
        with pytest.raises(ExecutionError) as compile_api:
            trainer.compile(jit_compile=True)
    config = config_lib.config_from_dict(
        {"distribute": {"strategy": "mirrored"}, "train": {"jit_compile": True}})
    with pytest.raises(ExecutionError) as config_path:
        run.check_train(config)
    assert str(python_api.value) == str(compile_api.value) == str(config_path.value)
    path = tmp_path / "c.yaml"
    path.write_text("distribute: {strategy: mirrored}\ntrain: {jit_compile: true}\n")
    assert cli.main(["train", str(path), "--model-dir", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err.strip() == f"tfgans train: error: {python_api.value}"
    assert not os.path.exists(tmp_path / "run")


# -------------------------------------------------------------------- configs and presets


def _trainer_arguments(cls):
    """Every argument of a trainer's __init__ and compile, but networks and optimizers."""
    names = set()
    for fn in (cls.__init__, cls.compile):
        for name, p in inspect.signature(fn).parameters.items():
            if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or name == "self":
                continue
            names.add(name)
    return names - set(cls.TRAINED) - {f"{n}_optimizer" for n in cls.TRAINED}


def test_every_gan_setting_has_a_config_key():
    keys = config_lib.flat_schema("dcgan")
    declared = {s.argument: s.key for s in tfgans.GAN.SETTINGS}
    assert _trainer_arguments(tfgans.GAN) == set(declared)
    for argument, key in declared.items():
        assert key in keys, (argument, key)
    for network in tfgans.GAN.TRAINED:  # each network's optimizer, by name and rate
        assert {f"optimizer.{network}", f"optimizer.{network}_lr"} <= set(keys)


def test_the_walk_fails_for_an_undeclared_setting():
    class Wider(tfgans.GAN):
        def compile(self, new_knob=1.0, **kwargs):
            super().compile(**kwargs)

    assert "new_knob" in _trainer_arguments(Wider) - {s.argument for s in Wider.SETTINGS}


def _resolved(overrides):
    config = config_lib.config_from_dict({}, overrides)
    return config_lib.resolve(config, (28, 28, 1), 10 if "data.labels=true" in overrides else None)


def test_hinge_from_a_config_has_no_gradient_penalty_like_the_api():
    """The defect: `loss: {name: hinge}` trained with a penalty of 10 through the CLI."""
    config = _resolved(["loss.name=hinge", "model.width=4", "model.latent_dim=8"])
    assert config.loss.gradient_penalty == 0.0 and config.loss.n_critic == 1
    est = run.make_estimator(config, None, tf.distribute.get_strategy(), verbose=0)
    gan = tfgans.GAN(*tfgans.models.get("dcgan")((28, 28, 1), 8, width=4), latent_dim=8)
    gan.compile(loss="hinge")
    assert est.trainer.penalty.weight == gan.penalty.weight == 0.0
    assert est.trainer.n_critic == gan.n_critic == 1
    wgan = _resolved([])
    assert (wgan.loss.gradient_penalty, wgan.loss.n_critic) == (10.0, 5)


def test_resolved_config_holds_effective_values_and_no_null():
    config = _resolved(["data.labels=true", "train.ema=null"])
    text = config.to_yaml()
    assert "null" not in text and None not in [
        v for section in yaml.safe_load(text).values() for v in section.values()]
    assert config.model.conditioning == "concat" and config.data.num_classes == 10
    assert (config.data.image_size, config.data.channels) == (28, 1)
    assert config.train.ema == 0.0 and config.train.mixed_precision == "float32"
    assert config_lib.load_config(_write(text)) == config


def _write(text):
    import tempfile

    handle, path = tempfile.mkstemp(suffix=".yaml")
    os.write(handle, text.encode())
    os.close(handle)
    return path


def test_precedence_library_preset_file_set(tmp_path):
    from tfgans.models.presets import PRESETS, Preset

    base = tfgans.models.get("dcgan")
    PRESETS._items["_hinge_dcgan"] = Preset(
        "_hinge_dcgan", trainer="gan", build=base.build, keys=base.keys,
        defaults={"loss.name": "hinge", "optimizer.discriminator_lr": 4e-4})
    try:
        assert config_lib.config_from_dict({}).loss.name == "wasserstein"  # library
        preset = config_lib.config_from_dict({"model": {"name": "_hinge_dcgan"}})
        assert (preset.loss.name, preset.optimizer.discriminator_lr) == ("hinge", 4e-4)
        path = tmp_path / "c.yaml"
        path.write_text("model: {name: _hinge_dcgan}\nloss: {name: least_squares}\n")
        assert config_lib.load_config(str(path)).loss.name == "least_squares"  # file
        assert config_lib.load_config(str(path), ["loss.name=minimax"]).loss.name == "minimax"
    finally:
        del PRESETS._items["_hinge_dcgan"]


def test_optimizer_by_name_for_each_network():
    config = _resolved(["optimizer.discriminator=sgd", "optimizer.generator=rmsprop",
                        "optimizer.momentum=0.5", "model.width=4", "model.latent_dim=8",
                        "loss.weight_clip=0.01", "loss.penalty_type=r1", "loss.ac_weight=2"])
    est = run.make_estimator(config, None, tf.distribute.get_strategy(), verbose=0)
    optimizers = est.trainer.optimizers
    assert isinstance(optimizers["discriminator"], keras.optimizers.SGD)
    assert isinstance(optimizers["generator"], keras.optimizers.RMSprop)
    assert float(optimizers["discriminator"].momentum) == 0.5
    assert est.trainer.penalty.weight_clip == 0.01 and est.trainer.penalty.type == "r1"
    assert est.trainer.penalty.weight == 0.0 and est.trainer.ac_weight == 2.0
