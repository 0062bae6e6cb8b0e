"""The `tfgans` CLI: a tiny end-to-end run, and issue 3's bad-input list (one line on
stderr, a non-zero exit, no traceback, nothing already written lost)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from pipelines import cli
from pipelines.config import config_from_dict, save_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = """\
model: {name: mlp, latent_dim: 4, width: 4}
data: {name: image_folder, path: images, batch_size: 4}
train: {steps: 4, checkpoint_every: 2, sample_every: 2, log_every: 2, ema: 0.9}
"""


def write_pngs(folder, count, size=(8, 8)):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    for i in range(count):
        pixels = rng.integers(0, 256, (*size, 1), dtype=np.uint8)
        with open(os.path.join(folder, f"{i}.png"), "wb") as f:
            f.write(tf.io.encode_png(pixels).numpy())


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with tiny.yaml and 8 8x8 images; the current directory."""
    write_pngs(tmp_path / "images", 8)
    (tmp_path / "tiny.yaml").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fails(capsys, argv, match):
    """Runs the CLI; checks a non-zero exit and exactly one stderr line containing `match`."""
    try:
        status = cli.main(argv)
    except SystemExit as e:  # argparse
        status = e.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert status not in (0, None), err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("tfgans "), err
    assert match in lines[0], err
    return lines[0]


# ---------------------------------------------------------------------------- happy path


def test_train_resume_generate(project, capsys):
    assert cli.main(["train", "tiny.yaml", "--model-dir", "run"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out  # Keras' progress bar
    assert "tensorboard --logdir run/logs" in out and "run/samples/latest.png" in out
    assert {"config.yaml", "checkpoints", "logs", "samples"} <= set(os.listdir("run"))
    assert "estimator.json" not in os.listdir("run")  # one fingerprint: config.yaml
    assert "steps: 4" in (project / "run" / "config.yaml").read_text()
    health = json.loads((project / "run" / "health.json").read_text())  # on by default
    assert health["step"] == 4 and health["warnings"] == [] and "health" in os.listdir("run/logs")

    # Same config: resumes (here: already done). More steps: continues, config.yaml follows.
    assert cli.main(["train", "tiny.yaml", "--model-dir", "run"]) == 0
    assert "already at step 4" in capsys.readouterr().out
    assert cli.main(["train", "tiny.yaml", "--model-dir", "run", "--set", "train.steps=6"]) == 0
    assert "at step 6 of 6" in capsys.readouterr().out
    assert "steps: 6" in (project / "run" / "config.yaml").read_text()

    assert cli.main(["generate", "run", "--num", "5", "--out", "out/grid.png", "--seed", "1"]) == 0
    grid = tf.io.decode_png((project / "out" / "grid.png").read_bytes()).numpy()
    assert grid.shape == (2 * 10 + 2, 3 * 10 + 2, 1)  # 3 columns x 2 rows of 8x8, 2px padding
    fails(capsys, ["generate", "run", "--num", "2", "--out", "g.png", "--labels", "1"],
          "not conditional")

    # Latent walks: a PNG row per walk, and a looping GIF.
    assert cli.main(["generate", "run", "--interpolate", "2", "--steps", "3",
                     "--out", "walk.png"]) == 0
    walk = tf.io.decode_png((project / "walk.png").read_bytes()).numpy()
    assert walk.shape == (2 * 10 + 2, 3 * 10 + 2, 1)
    assert cli.main(["generate", "run", "--interpolate", "2", "--out", "walk.gif"]) == 0
    frames = tf.io.decode_gif((project / "walk.gif").read_bytes()).numpy()
    assert frames.shape[0] == 8 + 6  # forth and back
    fails(capsys, ["generate", "run", "--num", "2", "--interpolate", "2", "--out", "w.png"],
          "Give --num N (a grid of samples) or --interpolate N")
    fails(capsys, ["generate", "run", "--interpolate", "2", "--out", "w.jpg"], ".png or .gif")


def test_default_model_dir_is_runs_config_name(project):
    from pipelines import run

    assert run.default_model_dir("configs/tiny.yaml") == os.path.join("runs", "tiny")


def test_help_for_each_command(capsys):
    for argv in (["--help"], ["train", "--help"], ["generate", "--help"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 0
    out = capsys.readouterr().out
    assert "train.steps" in out and "--model-dir" in out and "--num N" in out


def test_module_entry_point_one_line_on_real_stderr(tmp_path):
    """`python -m pipelines.cli`, with TensorFlow's start-up lines kept off stderr."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = ROOT
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "train", str(tmp_path / "missing.yaml")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"tfgans train: error: Config file {tmp_path / 'missing.yaml'} does not exist."
    ]


# ---------------------------------------------------------------------------- bad input


def test_missing_config_file(project, capsys):
    fails(capsys, ["train", "nope.yaml"], "Config file nope.yaml does not exist")


def test_invalid_yaml(project, capsys):
    (project / "bad.yaml").write_text("model: {name: dcgan\ntrain: [")
    fails(capsys, ["train", "bad.yaml"], "invalid YAML at line")


@pytest.mark.parametrize("text, overrides, match", [
    ("modle: {name: dcgan}\n", [], "Unknown config key 'modle'"),
    ("model: {widht: 3}\n", [], "Unknown config key 'model.widht'"),
    ("", ["train.stepz=5"], "Unknown config key 'train.stepz'"),
    ("", ["trian.steps=5"], "Unknown config key 'trian.steps'"),
])
def test_unknown_keys(project, capsys, text, overrides, match):
    (project / "c.yaml").write_text(text)
    argv = ["train", "c.yaml"] + [a for o in overrides for a in ("--set", o)]
    assert "Valid keys" in fails(capsys, argv, match)


@pytest.mark.parametrize("override, match", [
    ("train.steps=abc", "'train.steps' must be an integer >= 1. Received: train.steps='abc'"),
    ("train.steps=0", "'train.steps' must be an integer >= 1. Received: train.steps=0"),
    ("train.steps=-5", "Received: train.steps=-5"),
    ("data.batch_size=0", "'data.batch_size' must be an integer >= 1"),
    ("data.batch_size=-1", "Received: data.batch_size=-1"),
    ("model.spectral_norm=maybe", "'model.spectral_norm' must be true or false"),
])
def test_wrong_type_and_range(project, capsys, override, match):
    fails(capsys, ["train", "tiny.yaml", "--set", override], match)


def test_wrong_type_in_file(project, capsys):
    (project / "c.yaml").write_text("optimizer: {generator_lr: fast}\n")
    fails(capsys, ["train", "c.yaml"], "'optimizer.generator_lr' must be a number")


@pytest.mark.parametrize("overrides, match", [
    (["loss.name=wassersten"], "must be one of hinge, least_squares, minimax"),
    (["model.name=gpt"], "Valid model names: began, biggan, cyclegan, dcgan, "),  # ... every preset
    (["data.name=mnist_typo", "data.path="], "Valid datasets: ab_folder, arrays, captioned_folder, edges2fashion, fashion_inpaint, fashion_mnist"),
])
def test_unknown_names_list_the_valid_ones(project, capsys, overrides, match):
    fails(capsys, ["train", "tiny.yaml"] + [a for o in overrides for a in ("--set", o)], match)


def test_image_folder_missing(project, capsys):
    fails(capsys, ["train", "tiny.yaml", "--set", "data.path=missing", "--model-dir", "run"],
          "does not exist")
    assert not os.path.exists(project / "run")


def test_image_folder_empty(project, capsys):
    os.makedirs(project / "empty")
    fails(capsys, ["train", "tiny.yaml", "--set", "data.path=empty"], "holds no images")


def test_image_folder_mixed_sizes(project, capsys):
    write_pngs(project / "mixed", 4, (8, 8))
    write_pngs(project / "mixed" / "big", 4, (9, 9))
    fails(capsys, ["train", "tiny.yaml", "--set", "data.path=mixed"], "different sizes")


def test_labels_requested_but_absent(project, capsys):
    fails(capsys, ["train", "tiny.yaml", "--set", "data.labels=true"],
          "labels=True, but image folder")


def test_model_dir_holding_a_different_config(project, capsys):
    other = config_from_dict({"loss": {"name": "hinge"}}, check_names=False)
    save_config(other, str(project / "run" / "config.yaml"))
    before = sorted(os.listdir(project / "run")), (project / "run" / "config.yaml").read_text()
    line = fails(capsys, ["train", "tiny.yaml", "--model-dir", "run"], "different config")
    assert "loss.name: 'hinge' != 'wasserstein'" in line
    assert (sorted(os.listdir(project / "run")), (project / "run" / "config.yaml").read_text()) == before


def test_mirrored_with_jit_is_rejected_early(project, capsys):
    fails(capsys, ["train", "tiny.yaml", "--set", "distribute.strategy=mirrored",
                   "--set", "train.jit_compile=true"], "jit_compile=True and steps_per_execution > 1 work on one device only")


def test_generate_on_a_dir_without_run(project, capsys):
    fails(capsys, ["generate", "nowhere", "--num", "4", "--out", "g.png"], "does not exist")
    os.makedirs(project / "empty")
    fails(capsys, ["generate", "empty", "--num", "4", "--out", "g.png"], "holds no run")
    assert not os.path.exists(project / "g.png")


def test_generate_num_zero(project, capsys):
    fails(capsys, ["generate", "run", "--num", "0", "--out", "g.png"], "--num must be positive")


def test_usage_error_is_one_line(capsys):
    fails(capsys, ["generate", "run", "--num", "2"], "the following arguments are required: --out")
    fails(capsys, ["generate", "run", "--out", "g.png"], "Give --num N (a grid of samples) or "
          "--interpolate N (N latent walks)")


def test_batch_size_not_divisible_by_replicas(project, capsys):
    fails(capsys, ["train", "tiny.yaml", "--set", "distribute.strategy=mirrored",
                   "--set", "distribute.devices=[/cpu:0, /cpu:1]", "--set", "data.batch_size=3"],
          "The global batch size 3 is not divisible by the 2 replicas of the strategy: use a "
          "multiple of 2 (config key data.batch_size)")
