"""`tfgans export`: a run exported for TF Serving from the command line (versions,
overwrite refusal, bad input as one line)."""

import os

import numpy as np
import tensorflow as tf

from pipelines import cli
from tests.test_cli import fails, project, write_pngs  # noqa: F401  (fixture)


def test_export_next_free_version_overwrite_and_errors(project, capsys):
    assert cli.main(["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=2"]) == 0
    capsys.readouterr()

    assert cli.main(["export", "run", "--export-dir", "served"]) == 0
    out = capsys.readouterr().out
    assert f"to {os.path.join(os.path.abspath('served'), '1')}" in out
    assert "tensorflow_model_server" in out and "--model_name=served" in out
    assert cli.main(["export", "run", "--export-dir", "served"]) == 0
    assert sorted(os.listdir("served")) == ["1", "2"]

    # The export is the run's EMA generator, callable by name with only TensorFlow.
    served = tf.saved_model.load(os.path.join("served", "2"))
    noise = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    images = served.signatures["serving_default"](noise=tf.constant(noise))["images"]
    from pipelines import run

    _, estimator = run.load_run("run")
    expected = (estimator.trainer.inference_generator(noise, training=False).numpy() + 1) / 2
    np.testing.assert_allclose(images.numpy(), expected, atol=1e-5)

    # An existing version is refused, and left as it was; --overwrite replaces it.
    before = sorted(os.listdir(os.path.join("served", "1")))
    stamp = os.path.getmtime(os.path.join("served", "1", "saved_model.pb"))
    fails(capsys, ["export", "run", "--export-dir", "served", "--version", "1"],
          "Version 1 already exists")
    assert sorted(os.listdir(os.path.join("served", "1"))) == before
    assert os.path.getmtime(os.path.join("served", "1", "saved_model.pb")) == stamp
    assert cli.main(["export", "run", "--export-dir", "served", "--version", "1",
                     "--overwrite"]) == 0
    assert sorted(os.listdir("served")) == ["1", "2"]

    fails(capsys, ["export", "run", "--export-dir", "served", "--version", "-1"],
          "--version must be an integer in [0, ")
    fails(capsys, ["export", "nowhere", "--export-dir", "served"], "does not exist")
    (project / "afile").write_text("x")
    fails(capsys, ["export", "run", "--export-dir", "afile"], "is a file")
    fails(capsys, ["export", "run"], "the following arguments are required: --export-dir")
    fails(capsys, ["export", "run", "--export-dir", "s", "--version", "x"],
          "invalid int value")
