"""`tfgans evaluate` and the evaluation during training: a short 28x28 run measured on the
committed classifier's features, eval.json written atomically, bad input as one line."""

import json
import os

from pipelines import cli
from tests.test_cli import fails, project, write_pngs  # noqa: F401  (fixture)

TINY_28 = """\
model: {name: mlp, latent_dim: 4, width: 4}
data: {name: image_folder, path: images28, batch_size: 4}
train: {steps: 4, checkpoint_every: 2, sample_every: 4, log_every: 2, ema: 0.9, jit_compile: false}
eval: {every: 2, num_samples: 12, kid_subset_size: 6}
"""


def test_evaluate_a_short_run(project, capsys, monkeypatch):
    write_pngs(project / "images28", 12, size=(28, 28))  # eval.num_samples: 12
    (project / "tiny28.yaml").write_text(TINY_28)
    assert cli.main(["train", "tiny28.yaml", "--model-dir", "run"]) == 0
    out = capsys.readouterr().out
    assert "step 2: FID" in out and "step 4: FID" in out  # the periodic evaluation
    history = json.loads((project / "run" / "eval.json").read_text())
    assert [(r["step"], r["source"], r["num_samples"]) for r in history] == [
        (2, "train", 12), (4, "train", 12)]
    assert os.path.isdir(project / "run" / "logs" / "eval")

    assert cli.main(["evaluate", "run", "--num-samples", "10", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "run at step 4: 10 generated vs 10 real images (seed 3)" in out
    for label in ["FID", "KID", "Inception Score", "precision", "recall", "d_loss"]:
        assert f"\n  {label} " in out, label
    assert "image" in out  # Keras' progress bar counts the images
    record = json.loads((project / "run" / "eval.json").read_text())[-1]
    assert record["source"] == "evaluate" and record["step"] == 4 and record["seed"] == 3
    assert record["extractor"] == "fashion_mnist" and record["num_real"] == 10
    assert record["fid"] > 0 and 0 <= record["precision"] <= 1
    assert not [f for f in os.listdir(project / "run") if f.endswith(".tmp")]

    # Bad input: one line, non-zero exit, eval.json untouched.
    before = (project / "run" / "eval.json").read_text()
    fails(capsys, ["evaluate", "run", "--num-samples", "5"],
          "--num-samples 5 is too few for KID's subset size 6")
    fails(capsys, ["evaluate", "nowhere"], "model_dir nowhere does not exist")
    # Offline, the InceptionV3 weights: one line at once, not a 90-line download traceback.
    import tfgans.offline

    monkeypatch.setattr(tfgans.offline, "can_reach", lambda *a, **k: False)
    monkeypatch.setenv("KERAS_HOME", str(project / "no_keras_home"))
    fails(capsys, ["evaluate", "run", "--num-samples", "10", "--extractor", "inception"],
          "Cannot download the InceptionV3 ImageNet weights")
    os.makedirs("empty")
    fails(capsys, ["evaluate", "empty"], "holds no run")
    assert (project / "run" / "eval.json").read_text() == before


def test_evaluate_an_image_shape_the_extractor_cannot_take(project, capsys):
    assert cli.main(["train", "tiny.yaml", "--model-dir", "run8", "--set", "train.steps=2",
                     "--set", "train.jit_compile=false"]) == 0
    capsys.readouterr()
    assert not os.path.exists(project / "run8" / "eval.json")  # 8x8: no evaluation (auto)
    fails(capsys, ["evaluate", "run8", "--num-samples", "2000"],
          "No feature extractor for the 8x8x1 images of run8")
    fails(capsys, ["evaluate", "run8", "--num-samples", "2000", "--extractor", "fashion_mnist"],
          "expects images of shape [batch, 28, 28, 1]")
