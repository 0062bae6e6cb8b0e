"""Minibatch discrimination and virtual batch normalisation against numpy."""

import numpy as np
import pytest
import keras

from tfgans.layers.minibatch_discrimination import MinibatchDiscrimination
from tfgans.layers.virtual_batch_normalization import VirtualBatchNormalization


def _rng(seed=0):
    return np.random.default_rng(seed)


# Minibatch discrimination.


def test_minibatch_discrimination_matches_formula():
    x = _rng().normal(size=(5, 6)).astype("float32")
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
    out = layer(x).numpy()
    m = (x @ layer.kernel.numpy()).reshape(5, 4, 3)
    c = np.exp(-np.abs(m[:, None] - m[None, :]).sum(-1))  # [i, j, b]
    np.testing.assert_allclose(out[:, :6], x)
    np.testing.assert_allclose(out[:, 6:], c.sum(axis=1), rtol=1e-5)
    excluding = MinibatchDiscrimination(4, 3, include_self=False)
    excluding.build(x.shape)
    excluding.kernel.assign(layer.kernel)
    np.testing.assert_allclose(excluding(x).numpy()[:, 6:], c.sum(axis=1) - 1.0, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("include_self, expected", [(True, 8.0), (False, 7.0)])
def test_minibatch_discrimination_identical_vs_distinct(include_self, expected):
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2, include_self=include_self)
    same = np.tile(_rng(1).normal(size=(1, 4)), (8, 1)).astype("float32")
    # Identical examples: every c_b(i, j) = 1, so o = N (N - 1 without the self-term).
    np.testing.assert_allclose(layer(same).numpy()[:, 4:], expected)
    # Examples far apart: c_b(i, j) ~ 0 for i != j, so o = 1 (0 without the self-term).
    layer.kernel.assign(np.full((4, 6), 1.0, "float32"))
    distinct = (np.arange(8, dtype="float32")[:, None] * 100.0) * np.ones((1, 4), "float32")
    np.testing.assert_allclose(layer(distinct).numpy()[:, 4:], expected - 7.0, atol=1e-6)


def test_minibatch_discrimination_config_and_errors():
    layer = MinibatchDiscrimination(5, 3, include_self=False, name="mbd")
    clone = MinibatchDiscrimination.from_config(layer.get_config())
    assert (clone.num_kernels, clone.kernel_dim, clone.include_self, clone.name) == (5, 3, False, "mbd")
    assert layer.compute_output_shape((None, 10)) == (None, 15)
    with pytest.raises(ValueError, match="num_kernels=0"):
        MinibatchDiscrimination(0, 3)
    with pytest.raises(ValueError, match=r"input_shape=\(2, 4, 4, 3\)"):
        MinibatchDiscrimination(2, 2)(np.zeros((2, 4, 4, 3), "float32"))


# Virtual batch normalisation.


def _vbn_numpy(x, ref, eps, gamma=1.0, beta=0.0):
    """Each example with the statistics of [ref; x_i], weights N/(N+1) and 1/(N+1)."""
    n = ref.shape[0]
    axes = tuple(range(1, x.ndim - 1))
    ref_axes = (0,) + axes
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        xi = x[i : i + 1]
        mean = (n * ref.mean(ref_axes) + xi.mean((0,) + axes)) / (n + 1)
        mean_sq = (n * (ref**2).mean(ref_axes) + (xi**2).mean((0,) + axes)) / (n + 1)
        out[i] = gamma * (x[i] - mean) / np.sqrt(mean_sq - mean**2 + eps) + beta
    return out


@pytest.mark.parametrize("shape", [(3, 4, 4, 2), (3, 5)])
def test_vbn_matches_numpy(shape):
    ref = _rng(2).normal(1.0, 2.0, size=(6,) + shape[1:]).astype("float32")
    x = _rng(3).normal(size=shape).astype("float32")
    vbn = VirtualBatchNormalization(epsilon=1e-3, gamma_initializer="random_normal",
                                    beta_initializer="random_normal")
    vbn.set_reference(ref)
    gamma, beta = vbn.gamma.numpy(), vbn.beta.numpy()
    expected = _vbn_numpy(x.astype("float64"), ref.astype("float64"), 1e-3, gamma, beta)
    np.testing.assert_allclose(vbn(x), expected, rtol=1e-4, atol=1e-4)
    # Live reference: the same numbers, from the reference activations given to the call.
    np.testing.assert_allclose(vbn(x, reference=ref), expected, rtol=1e-4, atol=1e-4)
    # An example's output does not depend on the rest of its minibatch.
    np.testing.assert_allclose(vbn(x[:1]), expected[:1], rtol=1e-4, atol=1e-4)
    # The reference itself, with its own statistics: batch normalisation of the reference.
    axes = (0,) + tuple(range(1, len(shape) - 1))
    bn = (ref - ref.mean(axes)) / np.sqrt(ref.var(axes) + 1e-3) * gamma + beta
    np.testing.assert_allclose(vbn.normalize_reference(ref), bn, rtol=1e-4, atol=1e-4)


def test_vbn_reference_is_checkpointed_state():
    ref = _rng(4).normal(size=(8, 4, 4, 3)).astype("float32")
    x = _rng(5).normal(size=(2, 4, 4, 3)).astype("float32")
    vbn = VirtualBatchNormalization()
    vbn.set_reference(ref)
    names = sorted(w.path.split("/")[-1] for w in vbn.non_trainable_weights)
    assert names == ["reference_mean", "reference_mean_square", "reference_size"]
    assert float(vbn.reference_size.numpy()) == 8.0
    restored = VirtualBatchNormalization.from_config(vbn.get_config())
    restored.build(x.shape)
    assert np.abs(restored(x).numpy() - vbn(x).numpy()).max() > 1e-3  # no reference yet
    restored.set_weights(vbn.get_weights())
    np.testing.assert_allclose(restored(x), vbn(x), rtol=1e-6)


def test_vbn_without_reference_is_instance_normalisation():
    x = _rng(6).normal(2.0, 3.0, size=(2, 4, 4, 3)).astype("float32")
    out = VirtualBatchNormalization(epsilon=1e-5)(x).numpy()
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 1.0, atol=1e-3)


def test_vbn_mixed_precision_and_errors():
    ref = _rng(7).normal(size=(4, 3)).astype("float32")
    vbn = VirtualBatchNormalization(dtype="mixed_bfloat16")
    vbn.set_reference(ref)
    out = vbn(ref)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    with pytest.raises(ValueError, match="axis=0"):
        VirtualBatchNormalization(axis=0)(ref)
    with pytest.raises(ValueError, match="epsilon=0"):
        VirtualBatchNormalization(epsilon=0)
