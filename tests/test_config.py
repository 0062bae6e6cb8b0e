"""Configs: defaults, YAML, --set overrides, paths, round trip, and every bad input."""

import os
import re

import pytest
import yaml

from pipelines.config import (
    Config,
    ConfigError,
    apply_overrides,
    config_diff,
    config_from_dict,
    load_config,
    quick_config,
    save_config,
    schema,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO, "configs", "dcgan_fashion_mnist.yaml")


def write(folder, text, name="config.yaml"):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_defaults():
    c = Config()
    assert (c.model.name, c.model.latent_dim, c.model.width) == ("dcgan", 128, 64)
    assert c.model.spectral_norm is False and c.model.conditioning is None
    assert c.model.synchronized_bn is True  # global-batch statistics: replica-independent
    assert (c.data.name, c.data.batch_size, c.data.labels) == ("fashion_mnist", 64, False)
    assert c.data.path is c.data.data_dir is c.data.image_size is None
    assert c.data.shuffle_buffer == 10_000
    # null: the loss' defaults, resolved when a run starts (pipelines.config.resolve)
    assert (c.loss.name, c.loss.gradient_penalty, c.loss.n_critic) == ("wasserstein", None, None)
    assert c.loss.label_smoothing == 0.0
    assert (c.optimizer.generator_lr, c.optimizer.beta_1, c.optimizer.beta_2) == (1e-4, 0.0, 0.9)
    assert (c.train.steps, c.train.seed, c.train.ema) == (20_000, 0, 0.999)
    assert c.train.jit_compile == "auto" and c.train.mixed_precision == "float32"
    assert (c.distribute.strategy, c.distribute.devices) == ("default", None)
    assert sum(len(v) for v in schema().values()) == sum(
        len(v) for v in c.to_dict(include_null=True).values())
    with pytest.raises(AttributeError, match="frozen"):
        c.train.steps = 5


def test_default_experiment_file():
    with open(DEFAULT_CONFIG) as f:
        head = f.read().split("\n\n")[0]
    assert "tfgans train configs/dcgan_fashion_mnist.yaml" in head
    assert "Time on 2 CPU cores" in head and "make demo" in head  # how long it takes
    assert "Reaches: FID" in head and "TBD" not in head  # what it reaches, measured
    config = load_config(DEFAULT_CONFIG)
    assert config.model.name == "dcgan" and config.loss.name == "wasserstein"
    assert config.loss.gradient_penalty == 10.0 and config.data.name == "fashion_mnist"


def test_default_config_on_several_replicas_as_the_readme_runs_it():
    """The default config sets train.jit_compile: true (one CPU device gains); on several
    replicas XLA fails, so the config check stops it with the fix in one line, and the
    README's multi-device commands all carry that fix."""
    from pipelines import run
    from tfgans.training import ExecutionError

    for strategy in ("mirrored", "multi_worker"):
        with pytest.raises(ExecutionError, match="Use jit_compile 'auto' or False"):
            run.check_train(load_config(DEFAULT_CONFIG, [f"distribute.strategy={strategy}"]))
        run.check_train(load_config(
            DEFAULT_CONFIG, [f"distribute.strategy={strategy}", "train.jit_compile=auto"]))
    readme = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    commands = re.findall(r"tfgans train \S*configs/dcgan_fashion_mnist\.yaml(?:[^\n]*\\\n)*[^\n]*",
                          readme)
    several = [c for c in commands if re.search(r"strategy=(mirrored|multi_worker)", c)]
    assert len(several) >= 4, several
    assert all("train.jit_compile=auto" in c for c in several), several


def test_make_demo_trains_the_recipe_searchs_demo_cell_then_exports():
    """Issue 18: the demo's recipe (benchmarks/recipe.py's DEMO_CELL) is the config that
    `make demo` runs, for DEMO_STEPS steps, and the demo still ends with the export and
    the summary note."""
    from benchmarks import recipe

    makefile = open(os.path.join(REPO, "Makefile")).read()
    variables = dict(re.findall(r"^(DEMO_\w+) \?= (\S+)$", makefile, re.M))
    demo = load_config(os.path.join(REPO, variables["DEMO_CONFIG"]))
    cell = recipe.cell_config(recipe.DEMO_CELL)
    for section in ("model", "data", "loss", "optimizer", "distribute"):
        assert getattr(demo, section) == getattr(cell, section), section
    for key in ("seed", "ema", "jit_compile", "steps_per_execution", "mixed_precision"):
        assert getattr(demo.train, key) == getattr(cell.train, key), key
    assert demo.train.steps == int(variables["DEMO_STEPS"])
    target = makefile.split("\ndemo:")[1].split("\n\n")[0]
    train = target.index("pipelines.cli train $(DEMO_CONFIG) --model-dir $(DEMO_DIR)")
    export = target.index("pipelines.cli export $(DEMO_DIR) --export-dir $(DEMO_EXPORT)")
    assert train < export < target.index('echo "make demo: done in')
    assert "--set" not in target.replace("--set train.steps=$(DEMO_STEPS)", "")
    with open(os.path.join(REPO, variables["DEMO_CONFIG"])) as f:
        head = f.read().split("\n\n")[0]
    assert "Time on 2 CPU cores" in head and "Reaches: FID" in head
    assert "pending" not in head and "TBD" not in head


def test_a_file_names_only_what_differs(tmp_path):
    assert load_config(write(tmp_path, "")) == Config()
    assert load_config(write(tmp_path, "model:\n")) == Config()
    config = load_config(write(tmp_path, "train: {steps: 7}\nmodel: {name: mlp}\n"))
    assert config.train.steps == 7 and config.model.name == "mlp"
    assert config.train.seed == 0 and config.data == Config().data


def test_overrides(tmp_path):
    path = write(tmp_path, "train: {steps: 7}\n")
    config = load_config(
        path,
        [
            "train.steps=100",
            "train.steps=200",  # the last one wins
            "optimizer.generator_lr=2e-4",  # YAML 1.1 reads 2e-4 as a string
            "loss.gradient_penalty=null",
            "train.ema=null",
            "train.jit_compile=false",
            "model={name: mlp, width: 8}",
            "data.labels=true",
            "model.conditioning=projection",
            "distribute.strategy=mirrored",
            "distribute.devices=[/cpu:0, /cpu:1]",
        ],
    )
    assert config.train.steps == 200 and config.optimizer.generator_lr == 2e-4
    assert config.loss.gradient_penalty is None and config.train.ema is None
    assert config.train.jit_compile is False
    assert (config.model.name, config.model.width, config.model.conditioning) == (
        "mlp", 8, "projection")
    assert config.distribute.devices == ("/cpu:0", "/cpu:1")
    assert apply_overrides(config, {"train.steps": 3}).train.steps == 3
    assert apply_overrides(config, ["train.seed=4"]).train.seed == 4


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    path = write(tmp_path / "exp", "data: {name: image_folder, path: ../images/./cats, "
                                    "data_dir: tfds}\n")
    config = load_config(path)
    assert config.data.path == str(tmp_path / "images" / "cats")
    assert config.data.data_dir == str(tmp_path / "exp" / "tfds")
    # A path given with --set is relative to where the command runs.
    monkeypatch.chdir(tmp_path)
    config = load_config(path, ["data.path=other//dir/"])
    assert config.data.path == str(tmp_path / "other" / "dir")
    config = load_config(path, ["data.path=~/pics"])
    assert config.data.path == os.path.expanduser("~/pics")


def test_round_trip_equality_and_diff(tmp_path):
    config = load_config(
        write(tmp_path, "data: {name: image_folder, path: imgs, labels: true, image_size: 32}\n"),
        ["model.conditioning=acgan", "optimizer.beta_2=0.99", "distribute.strategy=mirrored",
         "distribute.devices=[/gpu:0]", "train.mixed_precision=mixed_bfloat16"],
    )
    text = config.to_yaml()
    assert load_config(write(tmp_path / "copy", text)) == config
    assert config_from_dict(yaml.safe_load(text)) == config

    saved = str(tmp_path / "run" / "config.yaml")
    save_config(config, saved)
    assert load_config(saved) == config
    assert os.listdir(tmp_path / "run") == ["config.yaml"]  # no temporary file left

    other = apply_overrides(config, ["train.steps=10", "model.width=32"])
    assert other != config and config == load_config(saved)
    assert config_diff(config, other) == ["model.width: 64 != 32", "train.steps: 20000 != 10"]
    assert config_diff(config, config) == []


def test_quick_config():
    quick = quick_config(Config(), steps=5)
    assert quick.train.steps == quick.train.checkpoint_every == quick.train.sample_every == 5
    assert quick.data.batch_size == 16 and quick.model.width == 16
    assert quick.loss == Config().loss


# Bad input: each one line naming the key (and the accepted values).


def load_error(tmp_path, text="", overrides=()):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text), overrides)
    message = str(e.value)
    assert "\n" not in message and isinstance(e.value, ValueError)
    return message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist") as e:
        load_config(str(tmp_path / "nope.yaml"))
    assert "nope.yaml" in str(e.value)


def test_invalid_yaml(tmp_path):
    msg = load_error(tmp_path, "model:\n  name: dcgan\n  width: [1, 2\n")
    assert "invalid YAML" in msg and "line" in msg
    assert "appears twice" in load_error(tmp_path, "train: {steps: 1}\ntrain: {seed: 2}\n")
    assert "mapping of sections" in load_error(tmp_path, "- model\n- data\n")
    assert "is a section" in load_error(tmp_path, "model: dcgan\n")
    assert "section.key=value" in load_error(tmp_path, overrides=["train.steps"])


@pytest.mark.parametrize(
    "text, overrides, expected",
    [
        ("modle: {name: dcgan}\n", [], ["'modle'", "top level", "Did you mean 'model'"]),
        ("model: {nmae: dcgan}\n", [], ["'model.nmae'", "latent_dim", "Did you mean 'name'"]),
        ("", ["trian.steps=5"], ["'trian.steps'", "--set trian.steps=5", "Did you mean 'train'"]),
        ("", ["train.stpes=5"], ["'train.stpes'", "--set", "steps_per_execution"]),
        ("", ["train.steps.max=5"], ["'train.steps.max'"]),
    ],
)
def test_unknown_keys(tmp_path, text, overrides, expected):
    msg = load_error(tmp_path, text, overrides)
    assert msg.startswith("Unknown config key")
    for part in expected:
        assert part in msg, msg


@pytest.mark.parametrize(
    "override, accepted",
    [
        ("train.steps=abc", "an integer >= 1"),
        ("data.batch_size=1.5", "an integer >= 1"),
        ("model.latent_dim=true", "an integer >= 1"),
        ("model.spectral_norm=1", "true or false"),
        ("optimizer.generator_lr=fast", "a number > 0.0"),
        ("optimizer.generator_lr=.nan", "a number > 0.0"),
        ("distribute.devices=/gpu:0", "a list of strings or null"),
        ("data.path=[a]", "a string or null"),
        ("train.jit_compile=maybe", "true, false or auto"),
        ("model.name=3", "a string"),
        ("train.steps=null", "an integer >= 1"),
    ],
)
def test_wrong_types(tmp_path, override, accepted):
    key, value = override.split("=", 1)
    msg = load_error(tmp_path, overrides=[override])
    assert f"Config key '{key}' must be {accepted}" in msg and f"--set {override}" in msg


@pytest.mark.parametrize(
    "text, key, accepted",
    [
        ("train: {steps: 0}", "train.steps", "an integer >= 1"),
        ("train: {steps: -5}", "train.steps", "an integer >= 1"),
        ("data: {batch_size: 0}", "data.batch_size", "an integer >= 1"),
        ("data: {batch_size: -64}", "data.batch_size", "an integer >= 1"),
        ("data: {image_size: 0}", "data.image_size", "an integer >= 1 or null"),
        ("loss: {gradient_penalty: -1}", "loss.gradient_penalty", "a number >= 0.0 or null"),
        ("loss: {n_critic: 0}", "loss.n_critic", "an integer >= 1 or null"),
        ("loss: {label_smoothing: 1.0}", "loss.label_smoothing", ">= 0.0 and < 1.0"),
        ("optimizer: {discriminator_lr: 0}", "optimizer.discriminator_lr", "a number > 0.0"),
        ("optimizer: {beta_1: 1}", "optimizer.beta_1", ">= 0.0 and < 1.0"),
        ("train: {ema: 1.0}", "train.ema", ">= 0.0 and < 1.0 or null"),
        ("train: {seed: -1}", "train.seed", "an integer >= 0"),
        ("train: {checkpoint_every: 0}", "train.checkpoint_every", "an integer >= 1"),
        ("train: {steps_per_execution: 0}", "train.steps_per_execution", "an integer >= 1"),
        ("distribute: {strategy: horovod}", "distribute.strategy",
         "one of default, mirrored, multi_worker, tpu"),
        ("train: {mixed_precision: fp16}", "train.mixed_precision",
         "one of float32, mixed_float16, mixed_bfloat16 or null"),
        ("model: {conditioning: film}", "model.conditioning", "one of concat, projection, acgan"),
    ],
)
def test_out_of_range(tmp_path, text, key, accepted):
    msg = load_error(tmp_path, text)
    assert msg.startswith(f"Config key '{key}' must be ") and accepted in msg, msg
    assert "config.yaml" in msg  # says where the value came from


@pytest.mark.parametrize(
    "override, valid",
    [
        ("model.name=stylegan", ["dcgan", "mlp"]),
        ("loss.name=wgan", ["wasserstein", "minimax", "non_saturating", "hinge",
                            "least_squares", "relativistic"]),
        ("data.name=cifar", ["fashion_mnist", "image_folder", "tfds/<name>"]),
    ],
)
def test_unknown_names_list_the_valid_ones(tmp_path, override, valid):
    key = override.split("=")[0]
    msg = load_error(tmp_path, overrides=[override])
    assert msg.startswith(f"Config key '{key}'") and f"--set {override}" in msg
    for name in valid:
        assert name in msg, msg


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["data.name=image_folder"], "'data.path' is required"),
        (["data.path=imgs"], "'data.path' is only used by data.name=image_folder"),
        (["model.conditioning=projection"], "needs labels"),
        (["distribute.devices=[/cpu:0]"], "only used with distribute.strategy=mirrored"),
        (["data.name=arrays"], "in-memory arrays"),
    ],
)
def test_inconsistent_keys(tmp_path, overrides, expected):
    assert expected in load_error(tmp_path, overrides=overrides)
