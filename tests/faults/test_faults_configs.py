"""Fault suite, configs and arguments: hostile YAML (alias bombs, deep nesting, binary,
huge), bad overrides and out-of-range arguments are one line, in bounded time, before
anything is written."""

import os
import time

import pytest
from faultkit import FLOW_BOMB, fails, snapshot

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi")
) + "data: {path: *i}\n"

BAD_FILES = {
    "alias_bomb": (BOMB, "more than 100000 values"),
    "deep_flow": ("[" * 20_000, "nested"),
    "deep_block": "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v: 1\n",
    "binary": (b"\x00\x01\x02\xff\xfe", "bad.yaml"),
    "not_utf8": (b"model: {name: \xe9}\n", "Cannot read config file"),
    "a_list": ("- model\n- data\n", "must be a mapping of sections"),
    "tabs": ("model:\n\tname: dcgan\n", "invalid YAML"),
    "duplicate_key": ("train: {steps: 1}\ntrain: {steps: 2}\n", "appears twice"),
    "huge_int": ("train: {steps: 100000000000000000000000000000}\n", "train.steps"),
    "nan_float": ("optimizer: {generator_lr: .nan}\n", "optimizer.generator_lr"),
    "huge_file": ("# " + "x" * (1 << 21) + "\n", "too long for a config"),
}
BAD_FILES["deep_block"] = (BAD_FILES["deep_block"], "nested more than 50 levels")


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_hostile_config_file(fresh, capsys, name):
    text, match = BAD_FILES[name]
    with open("bad.yaml", "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    start = time.perf_counter()
    fails(capsys, ["train", "bad.yaml", "--model-dir", "run"], match)
    assert time.perf_counter() - start < 10
    assert not os.path.exists("run")


BAD_OVERRIDES = {
    "no_equals": ("train.steps", "section.key=value"),
    "deep_value": ("data.path=" + "[" * 20_000, "nested"),
    "bomb_value": ("data.path=" + FLOW_BOMB, "more than 100000 values"),
    "huge_int": ("train.steps=" + "9" * 40, "train.steps"),
    "three_dots": ("train.steps.x=1", "one dot"),
    "unknown_section": ("trian.steps=1", "Did you mean 'train'"),
}


@pytest.mark.parametrize("name", sorted(BAD_OVERRIDES))
def test_hostile_override(fresh, capsys, name):
    override, match = BAD_OVERRIDES[name]
    start = time.perf_counter()
    fails(capsys, ["train", "tiny.yaml", "--model-dir", "run", "--set", override], match)
    assert time.perf_counter() - start < 10 and not os.path.exists("run")


def test_config_is_a_folder(fresh, capsys):
    os.mkdir("folder.yaml")
    fails(capsys, ["train", "folder.yaml"], "folder.yaml: it is not a regular file")


def test_model_dir_below_a_file(fresh, capsys):
    open("afile", "w").write("x")
    fails(capsys, ["train", "tiny.yaml", "--model-dir", "afile/run"], "afile")
    assert open("afile").read() == "x"


@pytest.mark.parametrize("argv,match", [
    (["generate", "run", "--num", "4", "--out", "g.png", "--seed", "9" * 25],
     "The seed must be a 64-bit integer"),
    (["generate", "run", "--num", "0", "--out", "g.png"], "--num must be positive"),
    (["generate", "run", "--num", "4", "--out", "g.jpg"], "must be a .png file"),
    (["evaluate", "run", "--num-samples", "1"], "--num-samples must be at least 2"),
    (["evaluate", "run", "--seed", "-" + "9" * 25], "The seed must be a 64-bit integer"),
    (["export", "run", "--export-dir", "s", "--version", "-3"], "--version must be an integer"),
], ids=["seed_overflow", "num_zero", "not_png", "one_sample", "eval_seed", "version_negative"])
def test_bad_arguments(project, capsys, argv, match):
    before = snapshot("run")
    fails(capsys, argv, match)
    assert snapshot("run") == before
