"""Metrics of image -> image translation: PSNR, SSIM, L1 and FID of outputs vs targets,
next to a simple baseline where shapes allow: the identity (the source itself as the
output) for sources of the target's shape, bicubic upsampling (`bicubic_upsample`) for
smaller sources (super-resolution).

PSNR and SSIM are TensorFlow's (`tf.image.psnr`, `tf.image.ssim`: 11x11 Gaussian window,
sigma 1.5, k1 0.01, k2 0.03) on images mapped from [-1, 1] to [0, 1] (`max_val=1`),
averaged over images; L1 is the mean absolute difference in [-1, 1] units (the training
loss' scale); FID compares the feature distributions of the outputs and of the targets on
a feature extractor (the shipped Fashion-MNIST classifier for 28x28x1), in float64.

Example:
```python
metrics = evaluate_translation(trainer.sample, test_pairs, num_samples=1000)
metrics["psnr"], metrics["identity_psnr"]
```
"""

import math

import numpy as np
import tensorflow as tf

from tfgans.metrics.extractors import get_extractor
from tfgans.metrics.frechet import GaussianStats, frechet_distance_from_stats

#: The metrics of one side, as `<prefix><name>` in the result.
NAMES = ("psnr", "ssim", "l1")
#: SSIM's Gaussian window is 11x11: smaller images get no SSIM (the key is left out).
SSIM_MIN_SIZE = 11
#: The baselines, by the prefix of their keys in the result.
BASELINES = ("identity", "bicubic", "meanfill")


def bicubic_upsample(images, size):
    """Bicubic upsampling (`tf.image.resize`, Keys' cubic, a = -0.5) of images in [-1, 1]
    to `size` (H, W), clipped to [-1, 1]. Returns float32 NumPy."""
    out = tf.image.resize(tf.cast(images, tf.float32), tuple(size), method="bicubic")
    return np.clip(out.numpy(), -1.0, 1.0)


def baseline(sources, targets):
    """(name, images) of the simple baseline for `sources` -> `targets`: ("identity",
    sources) for sources of the target's shape, ("bicubic", their bicubic upsampling) for
    smaller sources with the target's channels, else None."""
    if sources.shape == targets.shape:
        return "identity", sources
    if (sources.ndim == targets.ndim == 4 and sources.shape[0] == targets.shape[0]
            and sources.shape[-1] == targets.shape[-1]
            and all(s < t for s, t in zip(sources.shape[1:3], targets.shape[1:3]))):
        return "bicubic", bicubic_upsample(sources, targets.shape[1:3])
    return None


def _unit(images):
    return (tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0) + 1.0) / 2.0


def psnr(images, targets):
    """Per-image PSNR (dB) of images in [-1, 1] against targets, on the [0, 1] scale:
    `10 log10(1 / mean((x - y)^2))`. Returns float64 NumPy [N]."""
    return tf.image.psnr(_unit(images), _unit(targets), max_val=1.0).numpy().astype(np.float64)


def ssim(images, targets):
    """Per-image SSIM (`tf.image.ssim`, max_val 1) of images in [-1, 1] on the [0, 1]
    scale; images need sides of at least 11 (the window). Returns float64 NumPy [N]."""
    return tf.image.ssim(_unit(images), _unit(targets), max_val=1.0).numpy().astype(np.float64)


def l1(images, targets):
    """Per-image mean absolute difference in [-1, 1] units. Returns float64 NumPy [N]."""
    diff = np.abs(np.asarray(images, np.float64) - np.asarray(targets, np.float64))
    return diff.reshape(len(diff), -1).mean(axis=1)


class TranslationEvaluator:
    """Streams (source, output, target) batches and returns the mean metrics.

    Args:
        extractor: None (no FID), a `FeatureExtractor` or a registered name.
        identity: also measure the simple baseline (`baseline`: the source as the output,
            or its bicubic upsampling for smaller sources), as `<baseline>_<metric>`.
    """

    def __init__(self, extractor=None, identity=True):
        self.extractor = None if extractor is None else get_extractor(extractor)
        self.identity = identity
        self.reset()

    def reset(self):
        self.sums = {}
        self.count = 0
        self.identity_count = 0  # pairs the baseline measured
        self.baseline_name = None
        self.stats = {side: GaussianStats() for side in ("output", "target", "source")}

    def _add(self, prefix, images, targets):
        for name, fn in (("psnr", psnr), ("ssim", ssim), ("l1", l1)):
            if name == "ssim" and min(targets.shape[1:3]) < SSIM_MIN_SIZE:
                continue  # SSIM's 11x11 window needs images at least that large
            self.sums[prefix + name] = self.sums.get(prefix + name, 0.0) + float(
                np.sum(fn(images, targets)))

    def update(self, sources, outputs, targets):
        """Adds a batch (all float [B, H, W, C] in [-1, 1])."""
        sources, outputs, targets = (np.asarray(x, np.float32) for x in
                                     (sources, outputs, targets))
        if outputs.shape != targets.shape:
            raise ValueError(
                f"Outputs and targets must have the same shape. Received {outputs.shape} and "
                f"{targets.shape}.")
        self._add("", outputs, targets)
        self.count += len(outputs)
        simple = baseline(sources, targets) if self.identity else None
        if simple is not None:
            self.baseline_name, images = simple
            self._add(f"{self.baseline_name}_", images, targets)
            self.identity_count += len(sources)
        if self.extractor is not None:
            self.stats["output"].update(self.extractor.features(outputs))
            self.stats["target"].update(self.extractor.features(targets))
            if simple is not None:
                self.stats["source"].update(self.extractor.features(images))

    def _fid(self, side):
        a, b = self.stats[side], self.stats["target"]
        return float(frechet_distance_from_stats(a.mean, a.covariance, b.mean, b.covariance))

    def result(self):
        """{"psnr", ["ssim"], "l1", ["fid"], ["identity_psnr" or "bicubic_psnr", ...],
        "num_pairs"}: "ssim" for images of at least `SSIM_MIN_SIZE` a side, "fid" with an
        extractor, the baseline's keys when it measured every pair."""
        if not self.count:
            raise ValueError("No pairs were evaluated: the input yielded no batches.")
        out = {name: self.sums[name] / self.count for name in NAMES if name in self.sums}
        prefix = f"{self.baseline_name}_"
        if self.identity_count == self.count:
            out.update({prefix + name: self.sums[prefix + name] / self.count
                        for name in NAMES if prefix + name in self.sums})
        if self.extractor is not None and self.count >= 2:
            out["fid"] = self._fid("output")
            if self.identity_count == self.count:
                out[prefix + "fid"] = self._fid("source")
        out["num_pairs"] = self.count
        return out


def evaluate_translation(translate, pairs, num_samples, extractor=None, identity=True,
                         strict=True):
    """Metrics of `translate` on the first `num_samples` pairs of `pairs`.

    Args:
        translate: sources [B, H, W, C] in [-1, 1] -> outputs in [-1, 1] (e.g. a trainer's
            `sample`).
        pairs: an iterable of `(source, target)` batches (a `tf.data.Dataset`), or of
            inpainting's `(source, target, mask)`: then `translate(source, mask)`, the
            hole metrics and the mean-fill baseline (`tfgans.metrics.inpainting`).
        num_samples: pairs to evaluate (the last batch is cut to fit).
        extractor: see `TranslationEvaluator` (None: no FID).
        identity: also report the simple baseline (`identity_<metric>`, or
            `bicubic_<metric>` for smaller sources; see `baseline`).
        strict: an input with fewer than `num_samples` pairs is an error; False: evaluate
            the pairs it has (the result's `num_pairs` says how many).

    Returns:
        The `TranslationEvaluator.result()` dict.

    Raises:
        ValueError: `pairs` holds fewer than `num_samples` pairs, or none.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"`num_samples` must be a positive integer. Received: {num_samples!r}")
    evaluator = None
    seen = 0
    for batch in pairs:
        # (source, target), or inpainting's (source, target, mask): `translate(source,
        # mask)`, measured by `tfgans.metrics.inpainting.InpaintingEvaluator`.
        source, target, *masks = (np.asarray(x, np.float32) for x in batch[:3])
        if evaluator is None:
            from tfgans.metrics.inpainting import InpaintingEvaluator

            evaluator = (InpaintingEvaluator(extractor) if masks else
                         TranslationEvaluator(extractor, identity))
        take = min(len(source), num_samples - seen)
        source, target, masks = source[:take], target[:take], [m[:take] for m in masks]
        evaluator.update(source, translate(source, *masks), target, *masks)
        seen += take
        if seen >= num_samples:
            break
    if seen < num_samples and (strict or not seen) or evaluator is None:
        raise ValueError(
            f"The evaluation input holds {seen} pairs, fewer than num_samples={num_samples}: "
            f"evaluate at most {seen}.")
    return evaluator.result()


#: (key, label, format) of the reported metrics, in order.
REPORTED = (("psnr", "PSNR", "{:.2f} dB"), ("ssim", "SSIM", "{:.3f}"), ("l1", "L1", "{:.3f}"),
            ("hole_l1", "hole L1", "{:.3f}"), ("hole_psnr", "hole PSNR", "{:.2f} dB"),
            ("fid", "FID", "{:.2f}"))


def baseline_name(metrics):
    """The baseline whose keys `metrics` holds ("identity", "bicubic", inpainting's
    "meanfill"), or None."""
    return next((b for b in BASELINES if any(k.startswith(b + "_") for k in metrics)), None)


def baseline_label(name):
    """How a report names baseline `name` ("meanfill": "mean fill")."""
    return {"meanfill": "mean fill"}.get(name, name)


def describe(metrics):
    """One line: PSNR / SSIM / L1 / (hole L1 / hole PSNR) / FID, with the baseline's when
    present."""
    parts = []
    base = baseline_name(metrics)
    for name, label, fmt in REPORTED:
        if name in metrics:
            text = f"{label} {fmt.format(metrics[name])}"
            value = metrics.get(f"{base}_{name}")
            if value is not None and math.isfinite(value):
                text += f" ({baseline_label(base)} {fmt.format(value)})"
            parts.append(text)
    return ", ".join(parts)
