"""Fault suite, serving calls: the exported SavedModel, loaded as TF Serving would (only
TensorFlow), rejects what would give images outside the contract (NaN, Inf, wrong shapes
and types, too many samples), and export versions stay int64 (TF Serving's)."""

import os

import numpy as np
import pytest
import tensorflow as tf
from faultkit import fails, succeeds


@pytest.fixture(scope="module")
def served(trained, tmp_path_factory):
    """The trained run's export (latent_dim 4, 8x8x1), loaded once."""
    from pipelines import run as run_lib

    path = run_lib.export(os.path.join(trained, "run"), str(tmp_path_factory.mktemp("served")))
    return tf.saved_model.load(path)


def _serve(served, noise):
    return served.signatures["serving_default"](noise=tf.constant(noise))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_noise_is_an_error(served, value):
    noise = np.zeros([2, 4], np.float32)
    noise[1, 2] = value
    with pytest.raises(tf.errors.InvalidArgumentError, match="`noise` must be finite"):
        _serve(served, noise)


def test_huge_noise_gives_images_in_range_or_an_error(served):
    try:
        images = _serve(served, np.full([2, 4], 3e38, np.float32))["images"].numpy()
    except tf.errors.InvalidArgumentError as e:
        assert "NaN or Inf" in str(e)
    else:
        assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1


def test_wrong_latent_size_is_refused(served):
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        _serve(served, np.zeros([1, 5], np.float32))


def test_wrong_dtype_is_refused(served):
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        _serve(served, np.zeros([1, 4], np.float64))


def test_empty_batch_gives_no_images(served):
    assert _serve(served, np.zeros([0, 4], np.float32))["images"].shape == (0, 8, 8, 1)


@pytest.mark.parametrize("num", [-1, 1025], ids=["negative", "over_max"])
def test_generate_bounds_num_samples(served, num):
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples"):
        served.signatures["generate"](num_samples=tf.constant(num),
                                      seed=tf.constant(0, tf.int64))


def test_generate_with_extreme_seeds(served):
    for seed in (np.iinfo(np.int64).max, np.iinfo(np.int64).min):
        out = served.signatures["generate"](num_samples=tf.constant(2),
                                            seed=tf.constant(seed, tf.int64))
        images = out["images"].numpy()
        assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
        assert tf.io.decode_png(out["png_bytes"][0]).shape == (8, 8, 1)


def test_version_beyond_int64_is_refused(project, capsys):
    fails(capsys, ["export", "run", "--export-dir", "served", "--version", "9" * 20],
          "--version must be an integer in [0, 9223372036854775807]")
    assert not os.path.exists("served")


def test_next_version_ignores_names_beyond_int64(project, capsys):
    os.makedirs("served/99999999999999999999")
    succeeds(capsys, ["export", "run", "--export-dir", "served"])
    assert sorted(os.listdir("served")) == ["1", "99999999999999999999"]


def test_largest_int64_version_is_accepted_and_then_full(project, capsys):
    top = str(2**63 - 1)
    succeeds(capsys, ["export", "run", "--export-dir", "served", "--version", top])
    fails(capsys, ["export", "run", "--export-dir", "served"], "the largest TF Serving reads")
    assert os.listdir("served") == [top]


def test_existing_version_is_kept(project, capsys):
    succeeds(capsys, ["export", "run", "--export-dir", "served", "--version", "3"])
    stamp = os.path.getmtime("served/3/saved_model.pb")
    fails(capsys, ["export", "run", "--export-dir", "served", "--version", "3"],
          "Version 3 already exists")
    assert os.path.getmtime("served/3/saved_model.pb") == stamp


def test_export_of_an_untrained_dir(fresh, capsys):
    fails(capsys, ["export", "nowhere", "--export-dir", "served"], "does not exist")
    assert not os.path.exists("served")
