"""Losses against TF-GAN's test constants and hand-computed values."""

import math

import numpy as np
import pytest

from tfgans import losses

REAL = [-5.0, 1.4, 12.5, 2.7]
FAKE = [10.0, 4.4, -5.5, 3.6]
WEIGHT = 2.3


def softplus(x):
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


# (generator loss, discriminator loss, expected g, expected d, d kwargs): expected values
# are TF-GAN's losses_impl_test.py constants for these logits.
TFGAN_CASES = {
    "least_squares": (
        losses.least_squares_generator_loss, losses.least_squares_discriminator_loss,
        17.69625, 41.73375, {},
    ),
    "modified": (
        losses.modified_generator_loss, losses.modified_discriminator_loss,
        1.38582, 6.19637, {"label_smoothing": 0.25},
    ),
    "minimax": (
        losses.minimax_generator_loss, losses.minimax_discriminator_loss,
        -4.82408, 6.19637, {"label_smoothing": 0.25},
    ),
    "wasserstein": (
        losses.wasserstein_generator_loss, losses.wasserstein_discriminator_loss,
        -3.125, 0.225, {},
    ),
    "hinge": (
        losses.wasserstein_hinge_generator_loss, losses.wasserstein_hinge_discriminator_loss,
        -3.125, 6.75, {},
    ),
}


@pytest.mark.parametrize("name", sorted(TFGAN_CASES))
class TestTFGANConstants:
    def test_generator(self, name):
        g_fn, _, expected_g, _, _ = TFGAN_CASES[name]
        np.testing.assert_allclose(float(g_fn(np.array(FAKE))), expected_g, atol=1e-5)

    def test_discriminator(self, name):
        _, d_fn, _, expected_d, kw = TFGAN_CASES[name]
        np.testing.assert_allclose(float(d_fn(np.array(REAL), np.array(FAKE), **kw)), expected_d, atol=1e-5)

    def test_patch_shape_gives_same_value(self, name):
        g_fn, d_fn, expected_g, expected_d, kw = TFGAN_CASES[name]
        real, fake = np.reshape(REAL, (2, 2)), np.reshape(FAKE, (2, 2))
        np.testing.assert_allclose(float(g_fn(fake)), expected_g, atol=1e-5)
        np.testing.assert_allclose(float(d_fn(real, fake, **kw)), expected_d, atol=1e-5)

    def test_scalar_weights_scale_the_loss(self, name):
        g_fn, d_fn, expected_g, expected_d, kw = TFGAN_CASES[name]
        np.testing.assert_allclose(
            float(g_fn(np.array(FAKE), weights=WEIGHT)), expected_g * WEIGHT, rtol=1e-5
        )
        d = d_fn(np.array(REAL), np.array(FAKE), real_weights=WEIGHT, generated_weights=WEIGHT, **kw)
        np.testing.assert_allclose(float(d), expected_d * WEIGHT, rtol=1e-5)


def test_per_example_weights_sum_by_nonzero_weights():
    # Weights [1, 0, 2, 0]: sum(w * l) / 2, as TF-GAN's SUM_BY_NONZERO_WEIGHTS.
    w = np.array([1.0, 0.0, 2.0, 0.0])
    got = float(losses.wasserstein_generator_loss(np.array(FAKE), weights=w))
    assert got == pytest.approx(-(10.0 * 1 + -5.5 * 2) / 2, abs=1e-6)


def test_minimax_discriminator_by_hand_with_smoothing():
    s = 0.2
    target = 1 - s / 2
    by_hand = np.mean([softplus(x) - x * target for x in REAL]) + np.mean([softplus(x) for x in FAKE])
    got = float(losses.minimax_discriminator_loss(np.array(REAL), np.array(FAKE), label_smoothing=s))
    assert got == pytest.approx(by_hand, rel=1e-5)


def test_non_saturating_generator_by_hand():
    by_hand = np.mean([softplus(-x) for x in FAKE])
    assert float(losses.modified_generator_loss(np.array(FAKE))) == pytest.approx(by_hand, rel=1e-5)


def test_relativistic_by_hand():
    r, f = np.array(REAL), np.array(FAKE)
    d_by_hand = np.mean([softplus(-(x - f.mean())) for x in r]) + np.mean(
        [softplus(x - r.mean()) for x in f]
    )
    g_by_hand = np.mean([softplus(-(x - r.mean())) for x in f]) + np.mean(
        [softplus(x - f.mean()) for x in r]
    )
    assert float(losses.relativistic_discriminator_loss(r, f)) == pytest.approx(d_by_hand, rel=1e-5)
    assert float(losses.relativistic_generator_loss(r, f)) == pytest.approx(g_by_hand, rel=1e-5)
    # The GANLoss pair takes (fake, real) for the generator.
    pair = losses.get("relativistic")
    assert float(pair.generator_loss(f, r)) == pytest.approx(g_by_hand, rel=1e-5)
    # Given means replace the batch means.
    assert float(
        losses.relativistic_discriminator_loss(r, f, real_mean=r.mean(), fake_mean=f.mean())
    ) == pytest.approx(d_by_hand, rel=1e-5)


def test_acgan_losses_match_tfgan_constants():
    gen = np.array([[10.0, 4.4, -5.5, 3.6], [-4.0, 4.4, 5.2, 4.6], [1.1, 2.4, -3.5, 5.6], [1.1, 2.4, -3.5, 5.6]])
    real = np.array([[-2.0, 0.4, 12.5, 2.7], [-1.2, 1.9, 12.3, 2.6], [-2.4, -1.7, 2.5, 2.7], [1.1, 2.4, -3.5, 5.6]])
    one_hot = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0]], dtype="float32")
    assert float(losses.acgan_generator_loss(gen, one_hot)) == pytest.approx(3.84974, abs=1e-5)
    assert float(losses.acgan_discriminator_loss(real, gen, one_hot)) == pytest.approx(9.43950, abs=1e-5)


def test_stable_for_huge_logits():
    big = np.array([1e4, -1e4], dtype="float32")
    for value in (
        losses.minimax_discriminator_loss(big, -big),
        losses.modified_generator_loss(big),
        losses.relativistic_discriminator_loss(big, -big),
    ):
        assert np.isfinite(float(value))


def test_get_returns_pairs_with_defaults():
    names = ["wasserstein", "minimax", "non_saturating", "hinge", "least_squares", "relativistic"]
    assert losses.LOSSES.names() == sorted(names)
    w = losses.get("wasserstein")
    assert (w.gradient_penalty, w.n_critic) == (10.0, 5)
    for name in names[1:]:
        pair = losses.get(name)
        assert (pair.gradient_penalty, pair.n_critic) == (0.0, 1)
        d = pair.discriminator_loss(np.array(REAL), np.array(FAKE))
        g = pair.generator_loss(np.array(FAKE), np.array(REAL))
        assert np.isfinite(float(d)) and np.isfinite(float(g))
    assert losses.get(w) is w


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown loss 'wgan'.*hinge.*wasserstein"):
        losses.get("wgan")


def test_registry_rejects_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        losses.LOSSES.register("hinge", losses.get("hinge"))
