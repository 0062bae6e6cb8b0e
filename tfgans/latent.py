"""Latent walks: spherical interpolation between noise vectors and latent vector
arithmetic (Radford et al. 2016, sections 6.1 and 6.3), for noise -> image GANs.

The noise of sample i of seed s is the noise `GAN.generate(num, seed=s)` gives sample i,
so a walk starts and ends at images a user has already seen.

Example:
>>> images, columns = tfgans.latent.interpolation_grid(gan, rows=4, steps=8, seed=0)
>>> tfgans.callbacks.write_png("walk.png", tfgans.callbacks.image_grid(images, columns))
"""

import numpy as np

from tfgans.training.gan import sample_noise


def slerp(a, b, t):
    """Spherical interpolation from `a` to `b` (rows of vectors) at fractions `t` [T]:
    [T, *a.shape]. Noise from a high-dimensional normal lies near a sphere, so the great
    circle keeps every point a typical draw, where a straight line passes through the
    low-norm middle (White 2016). Parallel vectors fall back to the straight line."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64).reshape((-1,) + (1,) * a.ndim)
    unit_a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    unit_b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    omega = np.arccos(np.clip(np.sum(unit_a * unit_b, axis=-1, keepdims=True), -1.0, 1.0))
    sin = np.sin(omega)
    safe = np.where(sin > 1e-6, sin, 1.0)
    spherical = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / safe
    linear = (1 - t) * a + t * b
    return np.where(sin > 1e-6, spherical, linear).astype(np.float32)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {value!r}")
    return int(value)


def interpolation_grid(gan, rows=4, steps=8, seed=0, labels=None, spherical=True):
    """Row r walks from the noise of sample 2r to that of sample 2r + 1 of `seed` in
    `steps` images (both ends included).

    Args:
        gan: a noise -> image trainer with `latent_dim` and `generate_from_noise`.
        labels: a conditional GAN's class per row (one id for all rows, or one per row);
            None: row r shows class r mod num_classes. The class stays fixed along a walk.
        spherical: slerp (default) or a straight line.

    Returns:
        (images [rows * steps, H, W, C] in [-1, 1], row by row; columns = `steps`).
    """
    rows, steps = _check_positive("rows", rows), _check_positive("steps", steps)
    if steps < 2:
        raise ValueError(f"`steps` must be at least 2 (the two ends). Received: {steps}")
    ends = np.asarray(sample_noise(2 * rows, gan.latent_dim, seed))
    t = np.linspace(0.0, 1.0, steps)
    if spherical:
        path = slerp(ends[0::2], ends[1::2], t)  # [steps, rows, latent]
    else:
        path = ((1 - t)[:, None, None] * ends[0::2] + t[:, None, None] * ends[1::2])
    noise = np.transpose(path, (1, 0, 2)).reshape(rows * steps, gan.latent_dim)
    if getattr(gan, "num_classes", None) is not None:
        if labels is None:
            labels = np.arange(rows) % gan.num_classes
        labels = np.broadcast_to(np.asarray(labels, np.int32).reshape(-1), (rows,))
        labels = np.repeat(labels, steps)
    return gan.generate_from_noise(noise.astype(np.float32), labels), steps


def arithmetic(gan, plus, minus=(), base=(), seed=0, labels=None):
    """Latent vector arithmetic: mean(noise[base]) + mean(noise[plus]) - mean(noise[minus])
    over samples of `seed` chosen by index (e.g. "smiling woman" - "neutral woman" +
    "neutral man" in the DCGAN paper; averaging 3 samples per concept makes it stable).

    Returns:
        (images [4, H, W, C]: the means of base, minus and plus, then the result), and
        the resulting noise [latent_dim].
    """
    groups = {"plus": list(plus), "minus": list(minus), "base": list(base)}
    if not groups["plus"]:
        raise ValueError("`plus` must name at least one sample index.")
    indices = [i for g in groups.values() for i in g]
    if any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0 for i in indices):
        raise ValueError(f"Sample indices must be integers >= 0. Received: {indices}")
    noise = np.asarray(sample_noise(max(indices) + 1, gan.latent_dim, seed))
    mean = {name: noise[g].mean(0) if g else np.zeros(gan.latent_dim, np.float32)
            for name, g in groups.items()}
    result = mean["base"] + mean["plus"] - mean["minus"]
    stack = np.stack([mean["base"], mean["minus"], mean["plus"], result]).astype(np.float32)
    if getattr(gan, "num_classes", None) is not None and labels is None:
        labels = 0
    if labels is not None:
        labels = np.full(4, int(labels), np.int32)
    return gan.generate_from_noise(stack, labels), result
