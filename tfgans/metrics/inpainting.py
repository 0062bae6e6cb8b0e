"""Metrics of inpainting: the image -> image metrics (PSNR, SSIM, L1, FID; see
`tfgans.metrics.translation`) plus L1 and PSNR inside the hole, next to the mean-fill
baseline: the hole filled with the mean of the image's known pixels (per channel).

`evaluate_translation` uses `InpaintingEvaluator` for `(source, target, mask)` batches,
so the estimator, the periodic evaluation and `tfgans evaluate` need nothing more.

Example:
```python
metrics = evaluate_translation(trainer.sample, fashion_inpaint_test_batches, 1000)
metrics["hole_l1"], metrics["meanfill_hole_l1"]
```
"""

import numpy as np

from tfgans.metrics.translation import TranslationEvaluator

#: The mask-only metrics, as `hole_<name>` (and `meanfill_hole_<name>`).
HOLE_NAMES = ("l1", "psnr")


def mean_fill(images, masks):
    """Each image with its hole (mask 1) set to the mean of its known pixels, per channel;
    an image without known pixels gets 0. Returns float32 NumPy."""
    images, masks = np.asarray(images, np.float64), np.asarray(masks, np.float64)
    known = 1.0 - masks
    count = known.sum(axis=(1, 2), keepdims=True)
    mean = (images * known).sum(axis=(1, 2), keepdims=True) / np.maximum(count, 1.0)
    return (known * images + masks * mean).astype(np.float32)


def hole_l1(images, targets, masks):
    """Per-image mean |image - target| over the hole's pixels ([-1, 1] units); NaN for an
    image without a hole. Returns float64 NumPy [N]."""
    masks = np.broadcast_to(np.asarray(masks, np.float64), np.shape(images))
    diff = np.abs(np.asarray(images, np.float64) - np.asarray(targets, np.float64))
    count = masks.reshape(len(masks), -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (masks * diff).reshape(len(diff), -1).sum(axis=1) / count


def hole_psnr(images, targets, masks):
    """Per-image PSNR (dB) over the hole's pixels on the [0, 1] scale:
    `10 log10(1 / mean_hole((x - y)^2))`. Returns float64 NumPy [N]."""
    masks = np.broadcast_to(np.asarray(masks, np.float64), np.shape(images))
    unit = [(np.clip(np.asarray(x, np.float64), -1, 1) + 1) / 2 for x in (images, targets)]
    squared = masks * (unit[0] - unit[1]) ** 2
    count = masks.reshape(len(masks), -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = squared.reshape(len(squared), -1).sum(axis=1) / count
        return 10.0 * np.log10(1.0 / mse)


class InpaintingEvaluator(TranslationEvaluator):
    """Streams (source, output, target, mask) batches: the translation metrics of the
    outputs, `hole_l1` and `hole_psnr`, and the same for the mean-fill baseline
    (`meanfill_<metric>`; it replaces the identity baseline, whose hole is blank)."""

    def reset(self):
        super().reset()
        self.hole_sums = {}

    def update(self, sources, outputs, targets, masks):
        fill = mean_fill(sources, masks)
        super().update(fill, outputs, targets)  # the "identity" side is the mean fill
        for prefix, images in (("", outputs), ("identity_", fill)):
            for name, fn in (("l1", hole_l1), ("psnr", hole_psnr)):
                key = f"{prefix}hole_{name}"
                self.hole_sums[key] = self.hole_sums.get(key, 0.0) + float(
                    np.nansum(fn(images, targets, masks)))

    def result(self):
        out = super().result()
        out.update({key: value / self.count for key, value in self.hole_sums.items()})
        return {key.replace("identity_", "meanfill_"): value for key, value in out.items()}
