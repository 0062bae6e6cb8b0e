"""Evaluation metrics for GANs: FID, KID, Inception Score, precision/recall, computed in
float64 on features from a feature extractor, streaming.

    import tfgans.metrics as tm
    metrics = tm.evaluate(real_images, generator_fn, num_samples=10_000)  # [-1, 1] NHWC
    # {"fid": ..., "kid": ..., "kid_std": ..., "inception_score": ..., "precision": ...}

Building blocks: `frechet_distance` / `frechet_distance_from_stats` / `StreamingFID`,
`kernel_inception_distance`, `inception_score`, `precision_recall`, the extractors
(`FashionMNISTClassifier`, `InceptionFeatures`) and the streaming `Evaluator`.

2-D toy data and its mode-collapse metrics: `ring_of_gaussians_centers`,
`grid_of_gaussians_centers`, `sample_mixture`, `mode_coverage` (`modes`).
"""

from tfgans.metrics.classification import classifier_accuracy
from tfgans.metrics.evaluator import Evaluator, FeatureSet, evaluate, iterate_batches
from tfgans.metrics.extractors import (
    EXTRACTORS,
    FashionMNISTClassifier,
    FeatureExtractor,
    InceptionFeatures,
    KerasClassifierFeatures,
    default_classifier_path,
    get_extractor,
)
from tfgans.metrics.frechet import (
    GaussianStats,
    StreamingFID,
    frechet_distance,
    frechet_distance_from_stats,
    trace_sqrt_product,
)
from tfgans.metrics.inception_score import inception_score
from tfgans.metrics.kid import kernel_inception_distance, polynomial_kernel
from tfgans.metrics.modes import (
    ModeCoverage,
    grid_of_gaussians_centers,
    mode_counts,
    mode_coverage,
    ring_of_gaussians_centers,
    sample_mixture,
)
from tfgans.metrics.precision_recall import knn_radii, precision_recall
from tfgans.metrics.translation import TranslationEvaluator, evaluate_translation
from tfgans.metrics.cycle import CycleEvaluator, evaluate_cycle

__all__ = [
    "CycleEvaluator",
    "classifier_accuracy",
    "EXTRACTORS",
    "Evaluator",
    "FashionMNISTClassifier",
    "FeatureExtractor",
    "FeatureSet",
    "GaussianStats",
    "InceptionFeatures",
    "KerasClassifierFeatures",
    "ModeCoverage",
    "StreamingFID",
    "TranslationEvaluator",
    "default_classifier_path",
    "evaluate",
    "evaluate_cycle",
    "evaluate_translation",
    "frechet_distance",
    "frechet_distance_from_stats",
    "get_extractor",
    "grid_of_gaussians_centers",
    "inception_score",
    "iterate_batches",
    "kernel_inception_distance",
    "knn_radii",
    "mode_counts",
    "mode_coverage",
    "polynomial_kernel",
    "precision_recall",
    "ring_of_gaussians_centers",
    "sample_mixture",
    "trace_sqrt_product",
]
