"""What a run of the 2-D points family does differently from an image run (the rest is
`pipelines.run`): its networks take points [dim], its sample "grids" and `tfgans generate`
outputs are scatter plots, and `tfgans evaluate` measures mode coverage.

Metrics (`tfgans.metrics.mode_coverage`, the rule of VEEGAN / PacGAN): a generated point is
high quality within 3 standard deviations of its nearest mode; a mode is covered when at
least 20 per 2,500 samples (scaled with the number of samples) are high quality near it.
"""

from pipelines.data import build as build_lib
from pipelines.data import points as points_lib


def is_points(config):
    """Whether `config` trains on 2-D points (data.name ring_of_gaussians, ...)."""
    return build_lib.dataset_family(config.data.name) == build_lib.POINTS


def sample_shape(config):
    """The shape of one sample of a resolved config: (dim,) for points (the resolved
    data.channels holds the dimension), else (size, size, channels)."""
    d = config.data
    if is_points(config):
        return (int(d.channels),)
    return (d.image_size, d.image_size, d.channels)


def prepare_trainer(config, trainer):
    """Gives a points trainer its reference data (drawn grey in the scatter plots)."""
    if is_points(config):
        trainer.reference_points = points_lib.reference_points(
            config.data.name, seed=config.train.seed)
    return trainer


def min_count(num_samples):
    """High-quality samples a mode needs to be covered: PacGAN's 20 per 2,500 samples."""
    return max(1, round(20 * num_samples / 2500))


def evaluate(config, estimator, num_samples, seed):
    """Mode coverage of `num_samples` generated points: {"modes", "num_modes",
    "high_quality_rate", "num_fake", "min_count"}."""
    from tfgans.metrics import mode_coverage

    centers, std = points_lib.mixture(config.data.name)
    points = estimator.predict(num_samples=num_samples, seed=seed)
    count = min_count(num_samples)
    result = mode_coverage(points, centers, std, min_count=count)
    return {"modes": result.modes, "num_modes": len(centers),
            "high_quality_rate": result.high_quality_rate, "num_fake": num_samples,
            "min_count": count}


def write_scatter(estimator, num_samples, seed, out):
    """Writes the scatter plot of `num_samples` generated points (black) over the real data
    (grey) to the PNG `out`, atomically. Returns `out`."""
    from tfgans.callbacks import write_png

    trainer = estimator.trainer
    return write_png(out, trainer.scatter(estimator.predict(num_samples=num_samples, seed=seed)))
