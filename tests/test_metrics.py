"""Tests of tfgans.metrics: closed forms, streaming, extractors, the committed classifier."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgans import metrics

CLASSIFIER_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "saved_models",
    "fashion_mnist_classifier",
)


def _samples_with_exact_moments(rng, n, mean, cov):
    """n samples whose empirical mean and (unbiased) covariance are exactly mean, cov."""
    z = rng.normal(size=(n, len(mean)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)  # cov(z) = I
    return z @ np.linalg.cholesky(cov).T + mean


def _rotation(rng, dim):
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    return q


# FID ------------------------------------------------------------------------------------


def test_fid_of_diagonal_gaussians_matches_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    # |mu1 - mu2|^2 + sum(v1 + v2 - 2 sqrt(v1 v2)) = 7.25 + (4 + 1 + 0) = 12.25
    expected = 12.25
    fid = metrics.frechet_distance_from_stats(mu1, np.diag(var1), mu2, np.diag(var2))
    assert fid == pytest.approx(expected, rel=1e-3)


def test_fid_of_sampled_gaussians_with_commuting_covariances_matches_closed_form():
    rng = np.random.default_rng(0)
    dim = 8
    q = _rotation(rng, dim)  # S1 = Q diag(a) Q^T and S2 = Q diag(b) Q^T commute
    a, b = rng.uniform(0.1, 3.0, dim), rng.uniform(0.1, 3.0, dim)
    mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
    x = _samples_with_exact_moments(rng, 2000, mu1, q @ np.diag(a) @ q.T)
    y = _samples_with_exact_moments(rng, 3000, mu2, q @ np.diag(b) @ q.T)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(a + b - 2 * np.sqrt(a * b))
    assert metrics.frechet_distance(x, y) == pytest.approx(expected, rel=1e-3)


def test_fid_of_a_set_with_itself_is_zero_and_fid_is_symmetric():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 64)) * rng.uniform(0.1, 5, 64)
    y = rng.normal(0.3, size=(700, 64))
    assert abs(metrics.frechet_distance(x, x)) < 1e-8 * metrics.frechet_distance(x, y)
    assert metrics.frechet_distance(x, y) == pytest.approx(
        metrics.frechet_distance(y, x), rel=1e-9
    )


def test_fid_is_finite_for_singular_covariances():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 64)), rng.normal(size=(30, 64))  # fewer samples than dims
    x[:, :10] = 0.0  # dead features
    fid = metrics.frechet_distance(x, y)
    assert np.isfinite(fid) and fid > 0


def test_streaming_fid_equals_one_shot():
    rng = np.random.default_rng(3)
    x = rng.normal(100.0, 2.0, size=(1234, 32))  # a large offset tests the running sums
    y = rng.normal(100.5, 1.0, size=(999, 32))
    fid = metrics.StreamingFID()
    for i, size in enumerate([1, 7, 500, 726]):
        start = sum([1, 7, 500, 726][:i])
        fid.update_real(x[start : start + size])
    for start in range(0, len(y), 128):
        fid.update_fake(y[start : start + 128])
    assert fid.result() == pytest.approx(metrics.frechet_distance(x, y), rel=1e-9)
    np.testing.assert_allclose(fid.real.covariance, np.cov(x, rowvar=False), rtol=1e-9)
    np.testing.assert_allclose(fid.real.mean, x.mean(axis=0), rtol=1e-12)


# KID ------------------------------------------------------------------------------------


def test_kid_matches_a_direct_unbiased_mmd():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 3)), rng.normal(0.5, size=(6, 3))
    k = lambda u, v: (u @ v / 3 + 1) ** 3  # noqa: E731
    n = 6
    same = sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(n) for j in range(n) if i != j)
    cross = sum(k(x[i], y[j]) for i in range(n) for j in range(n))
    expected = same / (n * (n - 1)) - 2 * cross / n**2
    kid, kid_std = metrics.kernel_inception_distance(x, y, subset_size=6, num_subsets=3)
    assert kid == pytest.approx(expected, rel=1e-9)  # subsets of all rows: same value
    assert kid_std == pytest.approx(0.0, abs=1e-9)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    shifted = rng.normal(0.3, size=(2000, 16))
    same, same_std = metrics.kernel_inception_distance(x, y, subset_size=500, num_subsets=50)
    diff, diff_std = metrics.kernel_inception_distance(x, shifted, 500, 50)
    assert abs(same) < same_std and abs(same) < 0.05 * diff
    assert diff > 5 * diff_std


def test_kid_with_too_few_samples_is_one_clear_error():
    x = np.zeros((999, 4))
    with pytest.raises(ValueError, match="subset_size=1000"):
        metrics.kernel_inception_distance(x, np.zeros((5000, 4)))


# Inception Score ------------------------------------------------------------------------


def test_inception_score_of_uniform_logits_is_one():
    score, std = metrics.inception_score(np.zeros((1000, 10)), splits=10)
    assert score == pytest.approx(1.0, abs=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_of_confident_evenly_spread_logits_is_the_class_count():
    logits = 100.0 * np.eye(7)[np.arange(700) % 7]
    score, std = metrics.inception_score(logits, splits=10)
    assert score == pytest.approx(7.0, rel=1e-6) and std == pytest.approx(0.0, abs=1e-6)
    same_class = np.tile(logits[:1], (700, 1))  # confident, but always the same class
    assert metrics.inception_score(same_class, splits=10)[0] == pytest.approx(1.0)


# Precision and recall -------------------------------------------------------------------


def test_precision_recall_of_identical_sets_is_one():
    x = np.random.default_rng(6).normal(size=(1500, 8))  # more than one block of rows
    assert metrics.precision_recall(x, x) == (1.0, 1.0)


def test_recall_drops_when_the_generated_set_misses_a_mode():
    rng = np.random.default_rng(7)
    real = np.concatenate([rng.normal(size=(500, 4)), rng.normal(20.0, size=(500, 4))])
    fake = rng.normal(size=(500, 4))  # only the first mode
    precision, recall = metrics.precision_recall(real, fake)
    assert precision > 0.9
    assert 0.3 < recall < 0.55
    precision, recall = metrics.precision_recall(fake, real)  # the fake set adds a mode
    assert 0.3 < precision < 0.55 and recall > 0.9


# Extractors -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier():
    return metrics.FashionMNISTClassifier()


@pytest.fixture(scope="module")
def fashion_mnist_test():
    from pipelines.data.idx import load_fashion_mnist_arrays

    images, labels = load_fashion_mnist_arrays("test")
    return images.astype(np.float32)[..., None] / 127.5 - 1.0, labels


def test_committed_classifier_loads_offline_and_reaches_its_stated_accuracy(
    fashion_mnist_test,
):
    with open(os.path.join(CLASSIFIER_DIR, "metadata.json")) as f:
        stated = json.load(f)["test_accuracy"]
    model = keras.models.load_model(
        os.path.join(CLASSIFIER_DIR, "classifier.keras"), safe_mode=True
    )
    images, labels = fashion_mnist_test
    logits = model.predict(images, batch_size=1000, verbose=0)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
    assert accuracy >= 0.92
    assert accuracy == pytest.approx(stated, abs=2e-3)
    assert 64 <= model.get_layer("features").output.shape[-1] <= 256


def test_classifier_extractor_shapes(classifier):
    images = np.zeros((3, 28, 28, 1), np.float32)
    features, logits = classifier.features_and_logits(images)
    assert features.shape == (3, classifier.feature_dim) and features.dtype == np.float32
    assert logits.shape == (3, 10)
    np.testing.assert_allclose(classifier.logits(images), logits, rtol=1e-5, atol=1e-5)
    classifier_small_batches = metrics.FashionMNISTClassifier(batch_size=2)
    np.testing.assert_allclose(
        classifier_small_batches.features(images), features, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    "images, match",
    [
        (np.zeros((2, 32, 32, 3), np.float32), r"shape \[batch, 28, 28, 1\]"),
        (np.zeros((2, 28, 28), np.float32), r"shape \[batch, 28, 28, 1\]"),
        (np.zeros((2, 28, 28, 1), np.uint8), "127.5"),
        (np.full((2, 28, 28, 1), 255.0, np.float32), r"in \[-1, 1\]"),
    ],
)
def test_classifier_rejects_bad_images_with_one_clear_error(classifier, images, match):
    with pytest.raises(ValueError, match=match):
        classifier.features(images)


def test_inception_features_with_random_weights():
    extractor = metrics.get_extractor("inception", weights=None, batch_size=2)
    rng = np.random.default_rng(8)
    gray = rng.uniform(-1, 1, size=(3, 28, 28, 1)).astype(np.float32)
    features, logits = extractor.features_and_logits(gray)
    assert features.shape == (3, 2048) and logits.shape == (3, 1000)
    # Grayscale is tiled to 3 channels: the same image as RGB gives the same features.
    np.testing.assert_allclose(
        extractor.features(np.repeat(gray[:1], 3, axis=-1)), features[:1], rtol=1e-4, atol=1e-4
    )
    with pytest.raises(ValueError, match="1 or 3"):
        extractor.features(np.zeros((1, 28, 28, 2), np.float32))


# Evaluator ------------------------------------------------------------------------------


def test_feature_set_keeps_a_bounded_reservoir_and_all_statistics():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(1000, 4)).astype(np.float32)
    logits = np.arange(1000, dtype=np.float32)[:, None]
    kept = metrics.FeatureSet(max_kept=100)
    for start in range(0, 1000, 64):
        kept.update(x[start : start + 64], logits[start : start + 64])
    assert kept.count == 1000 and kept.features.shape == (100, 4)
    rows = kept.logits[:, 0].astype(int)
    np.testing.assert_array_equal(kept.features, x[rows])  # rows stay paired with logits
    assert len(set(rows)) == 100 and rows.max() > 500  # later rows replace earlier ones
    np.testing.assert_allclose(kept.stats.mean, x.mean(axis=0), rtol=1e-5, atol=1e-6)


def test_evaluator_streaming_equals_one_shot_and_sources_agree(classifier, fashion_mnist_test):
    images, labels = fashion_mnist_test
    real, fake = (images[:400], labels[:400]), (images[400:800], labels[400:800])
    settings = dict(extractor=classifier, kid_subset_size=100, kid_num_subsets=10)
    one_shot = metrics.Evaluator(**settings).update_real(*real).update_fake(*fake).result(
        per_class=True
    )
    dataset = tf.data.Dataset.from_tensor_slices(fake).batch(64)  # a last batch of 16
    streamed = metrics.evaluate(
        real, dataset, num_samples=400, batch_size=50, per_class=True, progress=True,
        **settings
    )
    position = [0]

    def sample(n):  # a generator model's sampling function: n images and their labels
        start, position[0] = position[0], position[0] + n
        return fake[0][start : start + n], fake[1][start : start + n]

    sampled = metrics.evaluate(
        real, sample, num_samples=400, batch_size=50, per_class=True, **settings
    )
    for result in (streamed, sampled):
        assert result.keys() == one_shot.keys()
        for key, value in one_shot.items():
            assert result[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
    for key in ("fid", "kid", "kid_std", "inception_score", "precision", "recall",
                "intra_fid", "class_accuracy", "class_accuracy/0", "intra_fid/9"):
        assert key in one_shot
    assert one_shot["class_accuracy"] > 0.85 and one_shot["num_fake"] == 400


def test_evaluator_with_too_few_samples_for_kid_is_one_clear_error(classifier):
    images = np.zeros((50, 28, 28, 1), np.float32)
    evaluator = metrics.Evaluator(classifier).update_real(images).update_fake(images)
    with pytest.raises(ValueError, match="kid_subset_size=1000"):
        evaluator.result()
    with pytest.raises(ValueError, match="max_kept"):
        metrics.Evaluator(classifier, max_kept=500)


def test_real_data_floor_is_recorded():
    with open(os.path.join(CLASSIFIER_DIR, "real_data_floor.json")) as f:
        floor = json.load(f)["metrics"]
    assert floor["num_real"] == floor["num_fake"] == 10_000
    assert 0 <= floor["fid"] < 5 and floor["precision"] > 0.5 and floor["recall"] > 0.5
