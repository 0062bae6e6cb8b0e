"""Regularisers against their formulas on fixed numbers."""

import numpy as np
import pytest
import tensorflow as tf

from tfgans import regularizers as reg


def test_lecam_matches_formula():
    real = np.array([2.0, 0.0, -1.0, 0.5], "float32")
    fake = np.array([-1.0, 1.0, 0.2, -3.0], "float32")
    # relu(real + 0.5) = [2.5, 0.5, 0, 1]; relu(0.5 - fake) = [1.5, 0, 0.3, 3.5].
    expected = (2.5**2 + 0.5**2 + 0 + 1) / 4 + (1.5**2 + 0 + 0.3**2 + 3.5**2) / 4
    assert float(reg.lecam_regularizer(real, fake, 0.5, -0.5)) == pytest.approx(expected)
    # D agreeing with the anchors (reals below ema_fake, fakes above ema_real): 0.
    assert float(reg.lecam_regularizer([-1.0], [1.0], 0.5, -0.5)) == 0.0


def test_lecam_gradient_reaches_logits_not_emas():
    real, ema = tf.constant([2.0]), tf.constant(0.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, ema])
        r = reg.lecam_regularizer(real, tf.constant([0.0]), ema, ema)
    assert float(tape.gradient(r, real)[0]) == pytest.approx(4.0)  # d/dx (x - 0)^2
    assert tape.gradient(r, ema) is None


def test_ema_update():
    assert float(reg.ema_update(1.0, 3.0, decay=0.99)) == pytest.approx(1.02)
    assert float(reg.ema_update(1.0, 3.0, decay=0.0)) == pytest.approx(3.0)
    v = 0.0
    for _ in range(2000):
        v = reg.ema_update(v, 5.0)
    assert float(v) == pytest.approx(5.0, abs=1e-6)
    with pytest.raises(ValueError, match="decay=1.5"):
        reg.ema_update(1.0, 2.0, decay=1.5)


def test_consistency_losses():
    a, b = np.array([[1.0], [2.0]]), np.array([[0.0], [4.0]])
    assert float(reg.consistency_loss(a, b)) == pytest.approx((1 + 4) / 2)
    assert float(reg.consistency_loss(a, a)) == 0.0
    # bCR: 10 * 2.5 + 3 * (0.5^2 + 0) / 2.
    fake, fake_aug = np.array([0.5, 1.0]), np.array([0.0, 1.0])
    assert float(reg.balanced_consistency_loss(a, b, fake, fake_aug, 10.0, 3.0)) == pytest.approx(
        25.0 + 0.375
    )


def test_historical_averaging():
    history = [
        [np.array([1.0, 2.0]), np.array([[0.0]])],
        [np.array([3.0, 2.0]), np.array([[6.0]])],
        [np.array([2.0, 5.0]), np.array([[3.0]])],
    ]
    averages, count = [np.zeros(2), np.zeros((1, 1))], 0
    for weights in history:
        averages = reg.historical_average_update(averages, weights, count)
        count += 1
    np.testing.assert_allclose(averages[0], [2.0, 3.0])
    np.testing.assert_allclose(averages[1], [[3.0]])
    # 0 at the running mean; squared distance summed over every element elsewhere.
    assert float(reg.historical_averaging_penalty(averages, averages)) == 0.0
    w = [np.array([3.0, 1.0]), np.array([[5.0]])]
    assert float(reg.historical_averaging_penalty(w, averages)) == pytest.approx(1 + 4 + 4)
    with pytest.raises(ValueError, match="len"):
        reg.historical_averaging_penalty(w, averages[:1])


def test_flip_labels_with_fixed_draws():
    labels = np.array([1.0, 1.0, 0.0, 0.0, 0.9])
    draws = np.array([0.05, 0.5, 0.09, 0.95, 0.01])
    np.testing.assert_allclose(reg.flip_labels(labels, 0.1, draws), [0.0, 1.0, 1.0, 0.0, 0.1], atol=1e-6)
    np.testing.assert_array_equal(reg.flip_labels(labels, 0.0, draws), labels.astype("float32"))
    with pytest.raises(ValueError, match="flip_probability=2"):
        reg.flip_labels(labels, 2, draws)


def test_label_flip_probability_decays_linearly_to_zero():
    values = [float(reg.label_flip_probability(s, 0.2, 100)) for s in (0, 25, 100, 500)]
    np.testing.assert_allclose(values, [0.2, 0.15, 0.0, 0.0], atol=1e-7)
    assert float(reg.label_flip_probability(tf.constant(50, tf.int64), 0.2, 100)) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="decay_steps=0"):
        reg.label_flip_probability(0, 0.2, 0)


def test_smooth_labels():
    np.testing.assert_allclose(reg.smooth_labels(np.array([1.0, 0.0]), 0.1, 0.2), [0.9, 0.2])
    np.testing.assert_allclose(reg.smooth_labels(np.array([1.0, 0.0]), 0.1, 0.0), [0.9, 0.0])
    with pytest.raises(ValueError, match="real_smoothing=-0.1"):
        reg.smooth_labels(np.array([1.0]), -0.1)


def test_lazy_r1_weight():
    weights = [float(reg.lazy_r1_weight(s, 4, 10.0)) for s in range(9)]
    assert weights == [40.0, 0, 0, 0, 40.0, 0, 0, 0, 40.0]
    assert float(reg.lazy_r1_weight(tf.constant(16, tf.int64), 16, 0.5)) == 8.0
    assert float(reg.lazy_r1_weight(7, 1, 2.0)) == 2.0  # interval 1: every step, no scaling
    with pytest.raises(ValueError, match="interval=0"):
        reg.lazy_r1_weight(0, 0, 1.0)
