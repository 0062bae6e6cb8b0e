"""DiffAugment and ADA against hand computations; identity, determinism and gradients."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgans import augment
from tfgans.augment import AdaPipeline

PHI_PLUS_1 = 0.8413447460685429  # Phi(1): the uniform draw that gives z = +1
PHI_MINUS_1 = 1.0 - PHI_PLUS_1


def _images(shape=(2, 8, 8, 3), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _grad(fn, x):
    x = tf.constant(x)
    w = tf.constant(np.random.default_rng(1).normal(size=x.shape).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(fn(x) * w)
    return tape.gradient(y, x).numpy()


# DiffAugment.


@pytest.mark.parametrize("policy", ["", None, " "])
def test_empty_policy_is_identity(policy):
    x = _images()
    assert augment.diff_augment(x, policy, None) is x
    assert augment.diff_augment_num_draws(policy) == 0


def test_policy_parsing_and_errors():
    assert augment.parse_policy("color, translation,cutout") == ("color", "translation", "cutout")
    assert augment.diff_augment_num_draws("color,translation,cutout") == 7
    with pytest.raises(ValueError, match="Unknown DiffAugment policy 'colour'.*policy='colour'"):
        augment.parse_policy("colour")
    with pytest.raises(ValueError, match=r"draws.*\[batch, 2\].*Received: draws.shape=\(2, 3\)"):
        augment.diff_augment(_images(), "translation", np.zeros((2, 3), "float32"))


def test_color_ops_by_hand():
    x = np.zeros((2, 2, 2, 3), "float32")
    x[..., 0], x[..., 1], x[..., 2] = 0.0, 1.0, 2.0  # channel mean 1 everywhere
    u = np.array([0.75, 0.25], "float32")
    np.testing.assert_allclose(augment.brightness(x, u), x + np.array([0.25, -0.25])[:, None, None, None])
    # Saturation factor 2u = 1.5 and 0.5 about the channel mean 1.
    sat = augment.saturation(x, u).numpy()
    np.testing.assert_allclose(sat[0, 0, 0], [-0.5, 1.0, 2.5])
    np.testing.assert_allclose(sat[1, 0, 0], [0.5, 1.0, 1.5])
    # Contrast factor u + 0.5 = 1.25 and 0.75 about the image mean 1.
    con = augment.contrast(x, u).numpy()
    np.testing.assert_allclose(con[0, 0, 0], [-0.25, 1.0, 2.25])
    np.testing.assert_allclose(con[1, 0, 0], [0.25, 1.0, 1.75])
    # A 1-channel image equals its channel mean: saturation leaves it alone.
    g = _images((2, 4, 4, 1))
    np.testing.assert_allclose(augment.saturation(g, u), g)


def test_translation_by_hand():
    # 8x8, ratio 1/8: shifts in {-1, 0, 1}. u = 0.99 -> +1 (rows), u = 0 -> -1 (columns).
    x = _images((1, 8, 8, 2))
    out = augment.translation(x, np.array([0.99], "float32"), np.array([0.0], "float32")).numpy()
    expected = np.zeros_like(x)
    expected[:, :7, 1:] = x[:, 1:, :7]  # out[i, j] = x[i + 1, j - 1]
    np.testing.assert_array_equal(out, expected)
    # u = 0.5 -> floor(1.5) - 1 = 0: no shift.
    half = np.array([0.5], "float32")
    np.testing.assert_array_equal(augment.translation(x, half, half), x)


def test_cutout_by_hand():
    # 8x8, ratio 1/2: side 4 (even), centre floor(9u): u = 0.5 -> 4 -> rows [2, 6);
    # u = 0 -> 0 -> columns [-2, 2) clipped to [0, 2).
    x = _images((1, 8, 8, 3))
    out = augment.cutout(x, np.array([0.5], "float32"), np.array([0.0], "float32")).numpy()
    expected = x.copy()
    expected[:, 2:6, 0:2] = 0.0
    np.testing.assert_array_equal(out, expected)
    # Odd side (ratio 3/8 -> 3), centre floor(8u): u = 0.99 -> 7 -> [6, 9) clipped to [6, 8).
    out = augment.cutout(x, np.array([0.99], "float32"), np.array([0.99], "float32"), ratio=0.375)
    expected = x.copy()
    expected[:, 6:, 6:] = 0.0
    np.testing.assert_array_equal(out, expected)


def test_policy_composes_ops_in_order_and_is_deterministic():
    x = _images((4, 8, 8, 3))
    d = np.random.default_rng(2).uniform(size=(4, 7)).astype("float32")
    out = augment.diff_augment(x, "color,translation,cutout", d).numpy()
    y = augment.brightness(x, d[:, 0])
    y = augment.contrast(augment.saturation(y, d[:, 1]), d[:, 2])
    y = augment.cutout(augment.translation(y, d[:, 3], d[:, 4]), d[:, 5], d[:, 6])
    np.testing.assert_allclose(out, y, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(augment.diff_augment(x, "color,translation,cutout", d), out)
    other = augment.diff_augment(x, "color,translation,cutout", 1.0 - d)
    assert np.abs(other - out).max() > 0.1


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_diff_augment_passes_gradients(policy):
    d = np.random.default_rng(3).uniform(size=(2, augment.diff_augment_num_draws(policy)))
    g = _grad(lambda x: augment.diff_augment(x, policy, d.astype("float32")), _images())
    assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0


# ADA.


def _ada_draws(pipeline, batch, **params):
    """Draws of 0.5 (gate closed for p < 0.5, identity parameters) except `params`."""
    d = np.full((batch, pipeline.num_draws), 0.5, "float32")
    column = 0
    for name in pipeline.transforms:
        for k, v in enumerate(params.get(name, [])):
            d[:, column + k] = v
        column += augment.ADA_TRANSFORMS[name]
    return d


@pytest.mark.parametrize("channels", [1, 3])
def test_ada_p0_is_identity(channels):
    x = _images((4, 8, 8, channels))
    pipeline = AdaPipeline()
    d = np.random.default_rng(4).uniform(size=(4, pipeline.num_draws)).astype("float32")
    np.testing.assert_array_equal(pipeline(x, 0.0, d), x)


def _reflect_shift(x, t, axis):
    # out[i] = x[i - t] with reflect padding, via numpy's pad.
    n = x.shape[axis]
    pad = [(0, 0)] * x.ndim
    pad[axis] = (abs(t), abs(t))
    padded = np.pad(x, pad, mode="reflect")
    return np.take(padded, np.arange(n) - t + abs(t), axis=axis)


def test_ada_p1_by_hand():
    x = _images((1, 8, 8, 3))
    pipeline = AdaPipeline()
    d = _ada_draws(
        pipeline, 1,
        xflip=[0.0, 0.9],                # flip
        rotate90=[0.0, 0.3],             # k = floor(1.2) = 1
        translation=[0.0, 0.9, 0.1],     # rows round(0.8 * 1) = 1, columns round(-0.8) = -1
        scale=[0.0, 0.5],                # z = 0: s = 1
        brightness=[0.0, PHI_PLUS_1],    # + 0.2
        contrast=[0.0, PHI_MINUS_1],     # * 2^-0.5
        saturation=[0.0, PHI_PLUS_1],    # * 2 about the channel mean
    )
    out = pipeline(x, 1.0, d).numpy()
    y = np.rot90(x[:, :, ::-1], k=1, axes=(1, 2))
    y = _reflect_shift(_reflect_shift(y, 1, axis=1), -1, axis=2)
    y = (y + 0.2) * 2**-0.5
    m = y.mean(axis=3, keepdims=True)
    y = m + 2.0 * (y - m)
    np.testing.assert_allclose(out, y, rtol=1e-5, atol=1e-5)


def test_ada_gates_each_example_with_probability_p():
    x = _images((2, 8, 8, 1))
    pipeline = AdaPipeline(transforms=("xflip",))
    d = np.array([[0.4, 0.9], [0.6, 0.9]], "float32")  # p = 0.5: example 0 only
    out = pipeline(x, 0.5, d).numpy()
    np.testing.assert_array_equal(out[0], x[0, :, ::-1])
    np.testing.assert_array_equal(out[1], x[1])


def test_ada_scale_is_bilinear_about_the_centre():
    # s = 2^(1 * z) = 2 with z = 1: out(i) = c + (i - c) / 2 on a linear ramp (c = 3.5),
    # which bilinear sampling reproduces exactly: [1.75, 2.25, ..., 5.25].
    ramp = np.tile(np.arange(8, dtype="float32")[None, :], (8, 1))[None, :, :, None]
    pipeline = AdaPipeline(transforms=("scale",), scale_std=1.0)
    out = pipeline(ramp, 1.0, np.array([[0.0, PHI_PLUS_1]], "float32")).numpy()
    np.testing.assert_allclose(out[0, 3, :, 0], 3.5 + (np.arange(8) - 3.5) / 2, atol=1e-4)
    # Zooming out (s = 1/2) reads outside the image: reflected, 0 -> -3.5 -> 3.5.
    out = pipeline(ramp, 1.0, np.array([[0.0, PHI_MINUS_1]], "float32")).numpy()
    np.testing.assert_allclose(out[0, 0, 0, 0], 3.5, atol=1e-4)


def test_ada_validation():
    with pytest.raises(ValueError, match="Unknown ADA op 'hue'"):
        AdaPipeline(transforms=("xflip", "hue"))
    with pytest.raises(ValueError, match="scale_std=-1"):
        AdaPipeline(scale_std=-1)
    with pytest.raises(ValueError, match="square"):
        AdaPipeline(transforms=("rotate90",))(_images((1, 8, 4, 3)), 1.0, np.zeros((1, 2), "float32"))
    with pytest.raises(ValueError, match=r"\[batch, 2\]"):
        AdaPipeline(transforms=("xflip",))(_images(), 1.0, np.zeros((2, 3), "float32"))


@pytest.mark.parametrize("op", list(augment.ADA_TRANSFORMS))
def test_ada_passes_gradients(op):
    pipeline = AdaPipeline(transforms=(op,))
    d = np.random.default_rng(5).uniform(size=(2, pipeline.num_draws)).astype("float32")
    d[:, 0] = 0.0  # gate open
    g = _grad(lambda x: pipeline(x, 1.0, d), _images())
    assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0


def test_augment_compiles_with_xla():
    x = _images((2, 8, 8, 3))
    pipeline = AdaPipeline()
    d_ada = np.random.default_rng(6).uniform(size=(2, pipeline.num_draws)).astype("float32")
    d_diff = np.random.default_rng(7).uniform(size=(2, 7)).astype("float32")

    @tf.function(jit_compile=True)
    def both(x, p):
        return pipeline(x, p, d_ada), augment.diff_augment(x, "color,translation,cutout", d_diff)

    ada, diff = both(x, tf.constant(0.7))
    np.testing.assert_allclose(ada, pipeline(x, 0.7, d_ada), atol=1e-5)
    np.testing.assert_allclose(diff, augment.diff_augment(x, "color,translation,cutout", d_diff), atol=1e-5)


def test_ada_update_moves_p_toward_the_target_and_clips():
    step = 64 * 4 / 500_000
    kw = dict(batch_size=64, interval=4)
    assert float(augment.ada_update(0.3, 0.9, **kw)) == pytest.approx(0.3 + step)
    assert float(augment.ada_update(0.3, 0.1, **kw)) == pytest.approx(0.3 - step)
    assert float(augment.ada_update(0.3, 0.6, **kw)) == pytest.approx(0.3)  # sign(0) = 0
    assert float(augment.ada_update(0.0, 0.1, **kw)) == 0.0
    assert float(augment.ada_update(1.0, 0.9, **kw)) == 1.0
    assert float(augment.ada_update(0.5, 0.7, target=0.8, **kw)) == pytest.approx(0.5 - step)
    with pytest.raises(ValueError, match="interval=0"):
        augment.ada_update(0.3, 0.9, batch_size=64, interval=0)


def test_overfitting_heuristic():
    # An overfitting D calls every real "real": r_t = 1.
    assert float(augment.ada_overfitting_heuristic(np.array([0.1, 3.0, 7.0, 0.5]))) == 1.0
    assert float(augment.ada_overfitting_heuristic(np.array([[1.0], [-2.0], [3.0], [4.0]]))) == 0.5
    assert math.isclose(float(augment.ada_overfitting_heuristic(np.array([-1.0, -1.0]))), -1.0)


def test_augment_keeps_a_bfloat16_dtype():
    x = tf.cast(_images((2, 8, 8, 3)), tf.bfloat16)
    pipeline = AdaPipeline()
    d = np.random.default_rng(8).uniform(size=(2, pipeline.num_draws)).astype("float32")
    d[:, np.cumsum([0] + list(augment.ADA_TRANSFORMS.values()))[:-1]] = 0.0  # every gate open
    assert pipeline(x, 1.0, d).dtype == tf.bfloat16
    d = np.random.default_rng(9).uniform(size=(2, 7)).astype("float32")
    assert augment.diff_augment(x, "color,translation,cutout", d).dtype == tf.bfloat16
