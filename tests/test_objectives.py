"""BEGAN, EBGAN, InfoGAN, K+1 semi-supervised and feature matching terms against numbers
computed by hand (plain arithmetic or numpy, never the function under test)."""

import math

import numpy as np
import pytest

from tfgans import losses


def close(actual, expected, atol=1e-5):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, atol=atol, rtol=1e-5)


# BEGAN


def test_began_autoencoder_loss_is_per_image_l1_mean():
    x = np.array([[[1.0, -1.0], [0.5, 0.0]], [[0.0, 0.0], [0.0, 1.0]]])  # 2 images, 4 pixels
    d = np.array([[[0.5, 0.0], [0.5, 1.0]], [[0.0, 0.0], [0.0, 0.0]]])
    # Per image: (0.5 + 1 + 0 + 1) / 4 = 0.625 and (0 + 0 + 0 + 1) / 4 = 0.25.
    close(losses.began_autoencoder_loss(x, d), (0.625 + 0.25) / 2)
    close(losses.began_autoencoder_loss(x, d, weights=[1.0, 0.0]), 0.625)
    close(losses.began_autoencoder_loss(x, d, eta=2), ((0.25 + 1 + 0 + 1) / 4 + 0.25) / 2)
    with pytest.raises(ValueError, match="eta=3"):
        losses.began_autoencoder_loss(x, d, eta=3)


def test_began_discriminator_and_generator_losses():
    close(losses.began_discriminator_loss(0.8, 0.5, k=0.3), 0.8 - 0.3 * 0.5)
    close(losses.began_generator_loss(0.5), 0.5)


@pytest.mark.parametrize(
    "k, real, fake, gamma, expected",
    [
        (0.5, 0.8, 0.2, 0.5, 0.5 + 0.001 * (0.5 * 0.8 - 0.2)),  # 0.5002: inside [0, 1]
        (0.0, 0.1, 0.9, 0.5, 0.0),  # 0.001 * (0.05 - 0.9) < 0: clipped to 0
        (0.9999, 1.0, 0.0, 1.0, 1.0),  # 0.9999 + 0.001 > 1: clipped to 1
    ],
)
def test_began_k_update_and_clipping(k, real, fake, gamma, expected):
    close(losses.began_k_update(k, real, fake, gamma), expected, atol=1e-7)


def test_began_k_update_gain_and_bad_gamma():
    close(losses.began_k_update(0.5, 0.8, 0.2, 0.5, lambda_k=0.1), 0.5 + 0.1 * (0.4 - 0.2))
    with pytest.raises(ValueError, match="gamma=1.5"):
        losses.began_k_update(0.5, 0.8, 0.2, gamma=1.5)


def test_began_convergence():
    # M = L(x) + |gamma L(x) - L(G(z))|: both signs of the inner difference.
    close(losses.began_convergence(0.8, 0.2, 0.5), 0.8 + abs(0.4 - 0.2))
    close(losses.began_convergence(0.8, 0.7, 0.5), 0.8 + abs(0.4 - 0.7))


# EBGAN


def test_ebgan_energy_is_per_example_mse():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    r = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    close(losses.ebgan_energy(x, r), [(0 + 4 + 9) / 3, 1.0])


def test_ebgan_discriminator_loss_on_both_sides_of_the_margin():
    real = [0.2, 0.4]
    fake = [0.5, 3.0]  # 0.5 below the margin 2 (costs 1.5), 3.0 above it (costs 0)
    close(losses.ebgan_discriminator_loss(real, fake, margin=2.0), 0.3 + (1.5 + 0.0) / 2)
    close(losses.ebgan_discriminator_loss(real, [3.0, 4.0], margin=2.0), 0.3)
    close(losses.ebgan_generator_loss(fake), 1.75)
    with pytest.raises(ValueError, match="margin=-1"):
        losses.ebgan_discriminator_loss(real, fake, margin=-1.0)


def test_pull_away_term_orthogonal_identical_and_by_hand():
    close(losses.pull_away_term(np.eye(3)), 0.0)
    close(losses.pull_away_term(np.tile([[1.0, 2.0, -2.0]], (4, 1))), 1.0)
    # Three codes: cos(a, b) = 1 / sqrt(2), cos(a, c) = 0, cos(b, c) = 3 / (sqrt(2) * 3).
    a, b, c = [1.0, 0.0], [1.0, 1.0], [0.0, 3.0]
    codes = np.array([a, b, c])
    # cos(a, b)^2 = 1/2, cos(a, c)^2 = 0, cos(b, c)^2 = 1/2; each pair twice, / (3 * 2).
    close(losses.pull_away_term(codes), 2 * (0.5 + 0.0 + 0.5) / 6)
    # Codes of any rank are flattened per example.
    close(losses.pull_away_term(codes.reshape(3, 2, 1)), 1.0 / 3)


# InfoGAN


def test_infogan_categorical_loss_is_minus_log_softmax():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    ids = np.array([2, 0])
    first = -(3.0 - math.log(math.exp(1.0) + math.exp(2.0) + math.exp(3.0)))
    second = math.log(3.0)
    close(losses.infogan_categorical_loss(logits, ids), (first + second) / 2)
    close(losses.infogan_categorical_loss(logits, ids, weights=[0.0, 2.0]), second * 2)


def test_infogan_continuous_loss_is_gaussian_nll():
    mean = np.array([[0.0, 1.0], [2.0, -1.0]])
    log_std = np.array([[0.0, math.log(2.0)], [math.log(0.5), 0.0]])
    codes = np.array([[1.0, 1.0], [1.0, 1.0]])

    def nll(c, mu, sigma):  # -log of the normal density, written out
        density = math.exp(-((c - mu) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
        return -math.log(density)

    per_example = [
        (nll(1.0, 0.0, 1.0) + nll(1.0, 1.0, 2.0)) / 2,
        (nll(1.0, 2.0, 0.5) + nll(1.0, -1.0, 1.0)) / 2,
    ]
    close(losses.infogan_continuous_loss(mean, log_std, codes), sum(per_example) / 2)
    close(losses.infogan_continuous_loss(mean, log_std, codes, weights=[1.0, 0.0]), per_example[0])
    # Fixed sigma = 1 (the paper): a scalar log_std of 0.
    close(
        losses.infogan_continuous_loss(mean, 0.0, codes),
        (nll(1, 0, 1) + nll(1, 1, 1) + nll(1, 2, 1) + nll(1, -1, 1)) / 4,
    )


def test_mutual_information_penalty_matches_tfgan_weighting():
    logits, ids = np.array([[0.0, math.log(3.0)]]), np.array([1])  # q(c=1) = 3/4
    mean, log_std, codes = np.array([[0.0]]), 0.0, np.array([[2.0]])
    cat = -math.log(0.75)
    cont = 0.5 * math.log(2 * math.pi) + 0.5 * 4.0
    both = dict(categorical=[(logits, ids)], continuous=[(mean, log_std, codes)])
    # TF-GAN: -compute_weighted_loss([mean log q_i], weights) = sum(w * l) / count_nonzero(w).
    close(losses.mutual_information_penalty(**both), (cat + cont) / 2)
    close(losses.mutual_information_penalty(**both, weights=0.5), 0.5 * (cat + cont) / 2)
    close(losses.mutual_information_penalty(**both, weights=[1.0, 0.0]), cat)
    close(losses.mutual_information_penalty(categorical=[(logits, ids)], weights=2.0), 2 * cat)
    with pytest.raises(ValueError, match="at least one code"):
        losses.mutual_information_penalty()
    with pytest.raises(ValueError, match="continuous"):
        losses.mutual_information_penalty(continuous=[(mean, codes)])


# Semi-supervised K+1


CLASS_LOGITS_REAL = np.array([[1.0, -2.0, 0.5], [3.0, 2.0, 1.0], [-4.0, -5.0, -3.0]])
CLASS_LOGITS_FAKE = np.array([[0.0, 0.0, 0.0], [-1.0, 2.0, 0.0]])


def test_ssgan_real_logit_is_logsumexp():
    z = np.exp(CLASS_LOGITS_REAL).sum(axis=1)
    close(losses.ssgan_real_logit(CLASS_LOGITS_REAL), np.log(z))
    close(losses.ssgan_real_logit([[1000.0, 1000.0]]), [1000.0 + math.log(2.0)])  # stable


def test_ssgan_unsupervised_discriminator_loss_is_log_z_over_z_plus_one():
    z_real = np.exp(CLASS_LOGITS_REAL).sum(axis=1)
    z_fake = np.exp(CLASS_LOGITS_FAKE).sum(axis=1)
    d_real, d_fake = z_real / (z_real + 1.0), z_fake / (z_fake + 1.0)
    expected = -np.mean(np.log(d_real)) - np.mean(np.log(1.0 - d_fake))
    loss = losses.ssgan_unsupervised_discriminator_loss(CLASS_LOGITS_REAL, CLASS_LOGITS_FAKE)
    close(loss, expected)
    close(losses.ssgan_generator_loss(CLASS_LOGITS_FAKE), -np.mean(np.log(d_fake)))


def test_ssgan_unsupervised_loss_is_finite_for_large_logits():
    value = float(losses.ssgan_unsupervised_discriminator_loss([[200.0, 0.0]], [[-200.0, -300.0]]))
    close(value, 0.0)  # D(real) -> 1, D(fake) -> 0, and no overflow on the way


def test_ssgan_supervised_loss_masks_unlabelled():
    labels = np.array([0, -1, 2])
    log_softmax = CLASS_LOGITS_REAL - np.log(np.exp(CLASS_LOGITS_REAL).sum(axis=1, keepdims=True))
    ce0, ce2 = -log_softmax[0, 0], -log_softmax[2, 2]
    close(losses.ssgan_supervised_loss(CLASS_LOGITS_REAL, labels), (ce0 + ce2) / 2)
    close(losses.ssgan_supervised_loss(CLASS_LOGITS_REAL, labels, mask=[0.0, 1.0, 1.0]), ce2)
    close(losses.ssgan_supervised_loss(CLASS_LOGITS_REAL, [-1, -1, -1]), 0.0)  # none labelled


# Feature matching


def test_feature_matching_loss_vs_numpy():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(5, 2, 3)), rng.normal(size=(4, 2, 3))
    expected = np.sum((real.mean(axis=0) - fake.mean(axis=0)) ** 2)
    close(losses.feature_matching_loss(real, fake), expected)
    # By hand: means [2, 2] vs [0, 0] -> 2^2 + 2^2.
    close(losses.feature_matching_loss([[1.0, 2.0], [3.0, 2.0]], [[0.0, 0.0]]), 8.0)
