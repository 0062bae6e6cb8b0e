"""ADA: adaptive discriminator augmentation, its pipeline and its probability controller.

Every op of the pipeline is applied to each example independently with probability `p`
(a fraction `(1 - p)^k` of the examples passes a pipeline of k ops untouched), to the reals
and to the fakes the discriminator sees, in D's step and in G's. The ops are
differentiable with respect to the images, so G's gradient passes through them. `p` is
tuned during training by `ada_update` from the overfitting heuristic
`r_t = E[sign(D(x_real))]`, kept near a target (0.6 in the paper).

The ops, in order (the paper's "bgc" pipeline minus arbitrary rotation, anisotropic
scaling, fractional translation, luma flip and hue rotation):

- "xflip" (2 draws): mirrors the columns if `u_1 >= 0.5`.
- "rotate90" (2): `k = floor(4 u_1)` quarter turns (numpy's `rot90` on H, W); needs H == W.
- "translation" (3): integer shifts `t = round((2u - 1) * translation_max * size)` of rows
  (`u_1`) and columns (`u_2`), `out[i] = x[i - t]`, reflect padding.
- "scale" (2): isotropic, `s = 2^(scale_std * z)`, `out(i) = x(c + (i - c) / s)` about the
  centre `c`, bilinear, reflect padding.
- "brightness" (2): `x + brightness_std * z`.
- "contrast" (2): `x * 2^(contrast_std * z)` (about 0, the mid-grey of [-1, 1]).
- "saturation" (2): `m + (x - m) * 2^(saturation_std * z)`, `m` the mean over channels;
  skipped for 1-channel images (their only axis is the luma axis, which it keeps).

Each op is applied to an example when its first draw (the gate) `u_0 < p`.

`z = Phi^-1(u)` is a standard normal made from a uniform draw by the inverse normal CDF, so
the whole pipeline takes uniform draws, `[B, AdaPipeline.num_draws]`, drawn by the trainer
statelessly from (seed, step); the pipeline owns no random state. Columns are consumed in
the order of the list, each op taking `u_0` (the gate) then its parameters. An op that is
not applied uses its identity parameter (no flip, k = 0, t = 0, s = 1, +0, *1), which gives
back the input exactly, so `p = 0` is the identity.

Reference: Karras et al., "Training Generative Adversarial Networks with Limited Data",
NeurIPS 2020, https://arxiv.org/abs/2006.06676 (official code: NVlabs/stylegan2-ada-pytorch,
`training/augment.py`, whose default strengths these are).
"""

import dataclasses
import math

from keras import ops

from tfgans.augment._sampling import bilinear_axis, gather_axis, reflect_index

__all__ = ["ADA_TRANSFORMS", "AdaPipeline", "ada_overfitting_heuristic", "ada_update"]

# Op name -> uniform draws per example it consumes (gate first).
ADA_TRANSFORMS = {
    "xflip": 2,
    "rotate90": 2,
    "translation": 3,
    "scale": 2,
    "brightness": 2,
    "contrast": 2,
    "saturation": 2,
}


def _normal_from_uniform(u):
    # Phi^-1(u) = sqrt(2) erfinv(2u - 1); u kept off 0 and 1 so z stays finite (|z| < 5.3).
    u = ops.clip(ops.cast(u, "float32"), 1e-7, 1.0 - 1e-7)
    return math.sqrt(2.0) * ops.erfinv(2.0 * u - 1.0)


def _per_example(v, dtype):
    return ops.reshape(ops.cast(v, dtype), (-1, 1, 1, 1))


@dataclasses.dataclass(frozen=True)
class AdaPipeline:
    """The ADA augmentation pipeline: which ops, and how strong.

    Attributes:
        transforms: the ops to use, a subset of `ADA_TRANSFORMS`, applied in its order.
        translation_max: largest integer translation, as a fraction of the side.
        scale_std: standard deviation of log2 of the isotropic scale factor.
        brightness_std: standard deviation of the added brightness.
        contrast_std: standard deviation of log2 of the contrast factor.
        saturation_std: standard deviation of log2 of the saturation factor.

    Example:
    >>> pipeline = AdaPipeline()
    >>> x = np.zeros((4, 8, 8, 3), "float32")
    >>> draws = np.random.uniform(size=(4, pipeline.num_draws)).astype("float32")
    >>> bool(np.all(pipeline(x, 0.0, draws) == x))  # p = 0: the identity
    True

    Reference: https://arxiv.org/abs/2006.06676
    """

    transforms: tuple = tuple(ADA_TRANSFORMS)
    translation_max: float = 0.125
    scale_std: float = 0.2
    brightness_std: float = 0.2
    contrast_std: float = 0.5
    saturation_std: float = 1.0

    def __post_init__(self):
        names = (self.transforms,) if isinstance(self.transforms, str) else tuple(self.transforms)
        for name in names:
            if name not in ADA_TRANSFORMS:
                raise ValueError(
                    f"Unknown ADA op {name!r}. Valid ops: {', '.join(ADA_TRANSFORMS)}. "
                    f"Received: transforms={self.transforms!r}"
                )
        object.__setattr__(self, "transforms", tuple(n for n in ADA_TRANSFORMS if n in names))
        for field in ("translation_max", "scale_std", "brightness_std", "contrast_std",
                      "saturation_std"):
            if getattr(self, field) < 0:
                value = getattr(self, field)
                raise ValueError(f"`{field}` must be >= 0. Received: {field}={value}")

    @property
    def num_draws(self):
        """Uniform draws per example that `__call__` needs."""
        return sum(ADA_TRANSFORMS[name] for name in self.transforms)

    def __call__(self, images, p, draws):
        """Augments each example, each op applied with probability `p`.

        Args:
            images: float [B, H, W, C] (NHWC, [-1, 1]) with static H, W, C.
            p: the augmentation probability, a float or scalar tensor in [0, 1].
            draws: uniform numbers in [0, 1), `[B, self.num_draws]`.

        Returns:
            The augmented images, same shape and dtype.
        """
        images = ops.convert_to_tensor(images)
        draws = ops.convert_to_tensor(draws)
        if len(images.shape) != 4:
            raise ValueError(
                f"`images` must be [B, H, W, C]. Received: images.shape={images.shape}"
            )
        if draws.shape[-1] is not None and draws.shape[-1] != self.num_draws:
            raise ValueError(
                f"`draws` must be [batch, {self.num_draws}] for transforms {self.transforms}. "
                f"Received: draws.shape={tuple(draws.shape)}"
            )
        p = ops.cast(p, "float32")
        column = 0
        for name in self.transforms:
            u = [ops.cast(draws[:, column + k], "float32") for k in range(ADA_TRANSFORMS[name])]
            column += len(u)
            images = getattr(self, f"_{name}")(images, u[0] < p, *u[1:])
        return images

    def _xflip(self, images, gate, u):
        flip = _per_example(ops.logical_and(gate, u >= 0.5), "bool")
        return ops.where(flip, ops.flip(images, axis=2), images)

    def _rotate90(self, images, gate, u):
        if images.shape[1] != images.shape[2]:
            raise ValueError(
                "ADA's 'rotate90' needs square images; drop it from `transforms` for others. "
                f"Received: images.shape={images.shape}"
            )
        k = ops.where(gate, ops.clip(ops.floor(4.0 * u), 0, 3), 0.0)
        out, turned = images, images
        for quarter in (1, 2, 3):
            turned = ops.rot90(turned, k=1, axes=(1, 2))
            out = ops.where(_per_example(k == quarter, "bool"), turned, out)
        return out

    def _translation(self, images, gate, u_rows, u_cols):
        for axis, u in ((1, u_rows), (2, u_cols)):
            size = images.shape[axis]
            t = ops.round((2.0 * u - 1.0) * self.translation_max * size)
            t = ops.cast(ops.where(gate, t, 0.0), "int32")
            source = ops.arange(size, dtype="int32")[None, :] - t[:, None]
            images = gather_axis(images, reflect_index(source, size), axis)
        return images

    def _scale(self, images, gate, u):
        s = ops.where(gate, ops.power(2.0, self.scale_std * _normal_from_uniform(u)), 1.0)
        for axis in (1, 2):
            size = images.shape[axis]
            centre = (size - 1) / 2.0
            pos = ops.arange(size, dtype="float32")[None, :]
            coords = (pos - centre) / s[:, None] + centre
            images = bilinear_axis(images, coords, axis, size)
        return images

    def _brightness(self, images, gate, u):
        b = ops.where(gate, self.brightness_std * _normal_from_uniform(u), 0.0)
        return images + _per_example(b, images.dtype)

    def _contrast(self, images, gate, u):
        c = ops.where(gate, ops.power(2.0, self.contrast_std * _normal_from_uniform(u)), 1.0)
        return images * _per_example(c, images.dtype)

    def _saturation(self, images, gate, u):
        if images.shape[3] == 1:
            return images
        s = ops.where(gate, ops.power(2.0, self.saturation_std * _normal_from_uniform(u)), 1.0)
        mean = ops.mean(images, axis=3, keepdims=True)
        # x + (s - 1)(x - m) rather than m + s(x - m): exactly x when s = 1.
        return images + _per_example(s - 1.0, images.dtype) * (images - mean)


def ada_overfitting_heuristic(real_logits):
    """ADA's overfitting heuristic `r_t = E[sign(D(x_real))]`, in [-1, 1].

    0 when D's outputs on reals are balanced around 0; 1 when D calls every real "real"
    (overfitting). Average it over the `interval` batches between two `ada_update` calls.

    Reference: https://arxiv.org/abs/2006.06676 (eq. 1, r_t)
    """
    return ops.mean(ops.sign(ops.cast(real_logits, "float32")))


def ada_update(p, r_t, target=0.6, *, batch_size, interval, speed_images=500_000):
    """ADA's controller: `p + sign(r_t - target) * batch_size * interval / speed_images`.

    Called every `interval` minibatches, it moves `p` one step up when the discriminator
    overfits (`r_t > target`), down otherwise, fast enough that `p` can go from 0 to 1 in
    `speed_images` real images; the result is clipped to [0, 1].

    Args:
        p: the current probability, a float or scalar tensor.
        r_t: the heuristic, `ada_overfitting_heuristic`, averaged over the interval.
        target: the value of `r_t` to keep (0.6 in the paper).
        batch_size: images per minibatch (the global batch).
        interval: minibatches between two updates (4 in the paper).
        speed_images: images over which `p` can go from 0 to 1 (500k in the paper).

    Returns:
        The new `p`, a float32 scalar.

    Example:
    >>> float(ada_update(0.5, 1.0, batch_size=64, interval=4, speed_images=512))
    1.0

    Reference: https://arxiv.org/abs/2006.06676 (section 3)
    """
    for name, value in (("batch_size", batch_size), ("interval", interval),
                        ("speed_images", speed_images)):
        if value <= 0:
            raise ValueError(f"`{name}` must be > 0. Received: {name}={value}")
    step = batch_size * interval / speed_images
    r_t = ops.cast(r_t, "float32")
    new_p = ops.cast(p, "float32") + ops.sign(r_t - target) * step
    return ops.clip(new_p, 0.0, 1.0)
