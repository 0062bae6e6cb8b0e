"""Metrics of unpaired image <-> image translation (CycleGAN), in both directions, next to
the identity mapping (the input itself as the output) as the baseline:

- `accuracy_a_to_b` / `accuracy_b_to_a`: how often a classifier (the feature extractor's
  logits: the shipped Fashion-MNIST classifier for 28x28x1) assigns the target domain's
  class to the translations, when the domains are classes (sneaker2boot: A = sneaker,
  B = ankle boot); `accuracy`: their mean;
- `cycle_a` / `cycle_b`: the cycle error, mean |F(G(a)) - a| and |G(F(b)) - b| in [-1, 1]
  units (the training loss' scale); `cycle`: their mean;
- `fid_a_to_b` / `fid_b_to_a`: FID of the translations against real images of the target
  domain, on the extractor's features, in float64.

`identity_<metric>` is the same measured on the untranslated inputs (the cycle error of the
identity is 0, so it has none).

Example:
```python
metrics = evaluate_cycle(trainer.sample, test_batches, 1000, "fashion_mnist", classes=(7, 9))
metrics["accuracy_a_to_b"], metrics["identity_accuracy_a_to_b"]
```
"""

import numpy as np

from tfgans.metrics.extractors import get_extractor
from tfgans.metrics.frechet import GaussianStats, frechet_distance_from_stats
from tfgans.metrics.translation import l1

#: (direction, source side, target side).
_DIRECTIONS = (("a_to_b", 0, 1), ("b_to_a", 1, 0))


class CycleEvaluator:
    """Streams (a, G(a), F(G(a)), b, F(b), G(F(b))) batches and returns the mean metrics.

    Args:
        extractor: None (no FID or accuracy), a `FeatureExtractor` or a registered name.
        classes: None, or the class ids (of the extractor's classifier) of domains A and B.
    """

    def __init__(self, extractor=None, classes=None):
        self.extractor = None if extractor is None else get_extractor(extractor)
        if classes is not None and len(classes) != 2:
            raise ValueError(f"`classes` must be (class of A, class of B). Received: {classes}")
        self.classes = None if classes is None else tuple(int(c) for c in classes)
        self.sums = {}
        self.count = 0
        self.stats = {key: GaussianStats() for key in ("a", "b", "a_to_b", "b_to_a")}

    def _add(self, name, values):
        self.sums[name] = self.sums.get(name, 0.0) + float(np.sum(values))

    def update(self, real, fake, cycled):
        """Adds a batch: `real` = (a, b), `fake` = (G(a), F(b)), `cycled` = (F(G(a)),
        G(F(b))), all float [B, H, W, C] in [-1, 1]."""
        self._add("cycle_a", l1(cycled[0], real[0]))
        self._add("cycle_b", l1(cycled[1], real[1]))
        self.count += len(real[0])
        if self.extractor is None:
            return
        for side, images in zip("ab", real):
            features, logits = self.extractor.features_and_logits(images)
            self.stats[side].update(features)
            if self.classes is not None:  # the identity: the input itself
                target = self.classes[1 - "ab".index(side)]
                direction = "a_to_b" if side == "a" else "b_to_a"
                self._add(f"identity_accuracy_{direction}", np.argmax(logits, -1) == target)
        for (direction, _, target), images in zip(_DIRECTIONS, fake):
            features, logits = self.extractor.features_and_logits(images)
            self.stats[direction].update(features)
            if self.classes is not None:
                self._add(f"accuracy_{direction}",
                          np.argmax(logits, -1) == self.classes[target])

    def _fid(self, side, target):
        x, y = self.stats[side], self.stats[target]
        return float(frechet_distance_from_stats(x.mean, x.covariance, y.mean, y.covariance))

    def result(self):
        """The metrics (see the module docstring) and "num_pairs"."""
        if not self.count:
            raise ValueError("No images were evaluated: the input yielded no batches.")
        out = {name: total / self.count for name, total in sorted(self.sums.items())}
        out["cycle"] = 0.5 * (out["cycle_a"] + out["cycle_b"])
        if self.classes is not None and self.extractor is not None:
            for prefix in ("", "identity_"):
                out[f"{prefix}accuracy"] = 0.5 * (out[f"{prefix}accuracy_a_to_b"]
                                                  + out[f"{prefix}accuracy_b_to_a"])
        if self.extractor is not None and self.count >= 2:
            for direction, source, target in _DIRECTIONS:
                out[f"fid_{direction}"] = self._fid(direction, "ab"[target])
                out[f"identity_fid_{direction}"] = self._fid("ab"[source], "ab"[target])
        out["num_pairs"] = self.count
        return out


def evaluate_cycle(translate, batches, num_samples, extractor=None, classes=None):
    """Metrics of a two-way translator on the first `num_samples` (a, b) of `batches`.

    Args:
        translate: `translate(images, direction)` in [-1, 1] -> images in [-1, 1],
            direction "a_to_b" or "b_to_a" (e.g. a `CycleGAN`'s `sample`).
        batches: an iterable of `(a, b)` batches (a `tf.data.Dataset`).
        num_samples: images of each domain to evaluate; fewer when the input ends first
            (the result's `num_pairs` says how many).
        extractor, classes: see `CycleEvaluator`.

    Returns:
        The `CycleEvaluator.result()` dict.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"`num_samples` must be a positive integer. Received: {num_samples!r}")
    evaluator = CycleEvaluator(extractor, classes)
    seen = 0
    for batch in batches:
        take = num_samples - seen
        a, b = (np.asarray(x, np.float32)[:take] for x in batch[:2])
        fake = (translate(a, "a_to_b"), translate(b, "b_to_a"))
        cycled = (translate(fake[0], "b_to_a"), translate(fake[1], "a_to_b"))
        evaluator.update((a, b), fake, cycled)
        seen += len(a)
        if seen >= num_samples:
            break
    return evaluator.result()


def describe(metrics):
    """One line: accuracy, cycle error and FID per direction, with the identity's."""
    parts = []
    for direction in ("a_to_b", "b_to_a"):
        label = direction.replace("_to_", "->").upper()
        items = []
        if f"accuracy_{direction}" in metrics:
            items.append(f"accuracy {metrics[f'accuracy_{direction}']:.3f} (identity "
                         f"{metrics[f'identity_accuracy_{direction}']:.3f})")
        if f"fid_{direction}" in metrics:
            items.append(f"FID {metrics[f'fid_{direction}']:.2f} (identity "
                         f"{metrics[f'identity_fid_{direction}']:.2f})")
        if items:
            parts.append(f"{label}: " + ", ".join(items))
    parts.append(f"cycle L1 {metrics['cycle']:.3f}")
    return "; ".join(parts)
