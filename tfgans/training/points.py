"""`PointsGAN`: the 2-D points family (noise -> points), for the toy experiments of the
mode-collapse papers (a ring or a grid of Gaussians, `tfgans.metrics.modes`).

It trains exactly like the noise -> image `GAN` (same step, losses, settings, the unrolled
GAN among them); what differs is the contract around it: batches are `points` [batch, 2]
(no labels), samples are points, the sample "grid" is a scatter plot (the real data in
grey, samples in black, fixed axes), and the export maps `noise` to `points` (DESIGN.md:
"2-D points | `noise` -> `points`", no PNG output).
"""

import math

import numpy as np
import tensorflow as tf

from tfgans.plots import scatter_image
from tfgans.training.gan import GAN, unpack_batch
from tfgans.training.trainer import ExportSpec, check_global_batch, first_batch

#: Points in a scatter plot (at least; `sample_grid` draws max(num_images, this)).
SCATTER_SAMPLES = 1000


class PointsGAN(GAN):
    """A generator of points [batch, dim] and a discriminator of them, trained as `GAN`.

    Args: as `GAN` (unconditional: `num_classes` must be None).

    Attributes:
        reference_points: None, or real points [M, dim] drawn grey under the samples in the
            scatter plots (`sample_grid`); their extent fixes the plot's axes. Data, not a
            setting: the run sets it from its dataset (`pipelines.points_run`).

    Example:
    ```python
    g, d = tfgans.models.get("points_mlp")((2,), latent_dim=256)
    gan = PointsGAN(g, d, latent_dim=256)
    gan.compile(loss="minimax", unrolled_steps=5)
    ```
    """

    family = "points"

    def __init__(self, generator, discriminator, latent_dim=None, num_classes=None,
                 ema_decay=None, seed=0, **kwargs):
        if num_classes is not None:
            raise ValueError(
                "The points family is unconditional (its data has no labels). Received: "
                f"num_classes={num_classes}; set data.labels false.")
        super().__init__(generator, discriminator, latent_dim=latent_dim, num_classes=None,
                         ema_decay=ema_decay, seed=seed, **kwargs)
        if len(self.image_shape) != 1:
            raise ValueError(
                "PointsGAN's generator must return points [batch, dim]. Received outputs of "
                f"shape [batch, {', '.join(map(str, self.image_shape))}]: use tfgans.GAN "
                "for images.")
        self.reference_points = None

    @property
    def reference_points(self):
        return self._reference_points

    @reference_points.setter
    def reference_points(self, points):
        if points is not None:
            points = np.asarray(points, np.float32)
            if points.ndim != 2 or points.shape[1] != self.image_shape[0]:
                raise ValueError(
                    f"`reference_points` must be [n, {self.image_shape[0]}]. Received shape "
                    f"{points.shape}")
        self._reference_points = points

    # ----------------------------------------------------------------------- the contract

    def check_batch(self, element_spec):
        points, labels = unpack_batch(element_spec)
        dim = self.image_shape[0]
        if (not isinstance(points, tf.TensorSpec) or points.shape.rank != 2
                or points.shape[-1] != dim or labels is not None):
            raise ValueError(
                f"The points family trains on batches of points [batch, {dim}] without labels "
                f"(data.name ring_of_gaussians or grid_of_gaussians). Received element_spec: "
                f"{element_spec}")
        batch = points.shape[0]
        check_global_batch(batch, self.distribute_strategy.num_replicas_in_sync)
        return batch

    def check_data(self, data, batch_size=None):
        """Checks the first batch: points [batch, dim], finite (any range: the ring's
        radius is 2, the grid's corners are at +-4)."""
        batch = first_batch(data, batch_size)
        if batch is None:
            return
        points, labels = unpack_batch(batch)
        points = np.asarray(points)
        dim = self.image_shape[0]
        if points.ndim != 2 or points.shape[-1] != dim or labels is not None:
            raise ValueError(
                f"The points family trains on points [batch, {dim}] without labels. Received "
                f"a first batch of shape {points.shape}" + (" with labels" if labels is not None
                                                              else "") + ".")
        if not np.all(np.isfinite(points)):
            raise ValueError("The first batch of points holds NaN or Inf values.")

    def sample(self, num_samples=64, seed=0, labels=None, truncation=None):
        """Points [num_samples, dim] (float32 NumPy) of the (EMA) generator, a function of
        (seed, i) per point, as `GAN.generate`."""
        if labels is not None:
            raise ValueError("`labels` were given, but the points family is unconditional.")
        return self.generate(num_samples=num_samples, seed=seed, truncation=truncation)

    def plot_extent(self):
        """The half-width of the scatter plots' square axes: the reference data's largest
        coordinate plus 1, rounded up (4 for the ring of radius 2, 6 for the 5x5 grid);
        3 without reference points."""
        if self.reference_points is None or not len(self.reference_points):
            return 3.0
        return float(math.ceil(np.max(np.abs(self.reference_points)) + 1.0))

    def scatter(self, points):
        """A scatter plot of `points` over the reference data: uint8 [256, 256, 1]."""
        return scatter_image(points, self.reference_points, extent=self.plot_extent())

    def sample_grid(self, num_images, seed=0):
        """The scatter plot of max(num_images, `SCATTER_SAMPLES`) samples, as one image in
        [-1, 1] [1, 256, 256, 1] (a grid of one column)."""
        points = self.generate(num_samples=max(int(num_images), SCATTER_SAMPLES), seed=seed)
        image = self.scatter(points).astype(np.float32) / 127.5 - 1.0
        return image[np.newaxis], 1

    def evaluation_samples(self, num_samples, seed=0):
        return self.generate(num_samples=num_samples, seed=seed), None

    def export_spec(self):
        return ExportSpec("noise_to_points", self.inference_generator,
                          {"latent_dim": self.latent_dim, "dim": self.image_shape[0]})
