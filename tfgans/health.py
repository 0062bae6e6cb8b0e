"""Training health: watch a GAN's training signals and say early, once, what goes wrong.

`TrainingHealth` is a Keras callback (`tfgans.callbacks.TrainingHealth`; on by default in
`tfgans train` runs) that watches what the GAN literature names as the early signs of a
failing run (Goodfellow 2016; Salimans et al. 2016; Arjovsky & Bottou 2017; Chintala et
al.'s "How to train a GAN"):

| signal | seen as | judged over |
|---|---|---|
| `exploding_gradients` | a network's gradient norm (`grad_norm_<network>`) above 100 | `check_every` steps |
| `vanishing_generator_gradients` | the generator's gradient norm below 1e-6, or below 1e-3 of its largest window median so far | `window` steps |
| `discriminator_winning` | non-Wasserstein: D loss below 0.05; Wasserstein: the critic gap D(real) - D(fake) rising through the window and above 10x the mean real-fake distance (what a 1-Lipschitz critic could reach) | `window` steps |
| `discriminator_too_weak` | D scores fakes above reals in 80% of the steps (and, non-Wasserstein, D loss at or above log 4) | `window` steps |
| `spiky_discriminator_loss` | 3 or more steps whose D loss lies more than 10 robust deviations (MAD), and a tenth of its scale, from the median | `window` steps |
| `oscillation` | one period (2+ cycles in the window) holds over half of the detrended G loss's variance, at 3 checks in a row | `window` + 2 `check_every` steps |
| `generator_loss_falls_without_improvement` | non-Wasserstein: G loss lower at each of 3 sample checks while the samples' distance to the data grows at each (5% in all); a Wasserstein generator loss drifts with the critic's free offset, so it is not judged | 3 sample checks |
| `mode_collapse` | half the samples of a fixed batch have a near-duplicate, or (Fashion-MNIST, unconditional) one class holds over 60% of them | each sample check |

A signal is judged every `check_every` steps after `warmup` steps (exploding gradients
from the first check); a warning is printed once per episode (when the signal turns on; it
can warn again after it turned off), as one line saying what it saw and what to try. Every
check writes the signals' values as TensorBoard scalars `health/*` (with the gradient norms
as `health/grad_norm_<network>`) and the state and warnings to `health.json`.

Per-step values are recovered from the running means Keras reports since the start of the
epoch (as `GANTensorBoard` does), so the trainer needs no extra outputs beyond its trackers
(`d_loss`, `g_loss`, `d_real`, `d_fake` and the contract's `grad_norm_<network>`).
"""

import collections
import json
import math
import os

import keras
import numpy as np
import tensorflow as tf

from tfgans import files

ADVICE = {
    "exploding_gradients": "lower the learning rate, add a gradient penalty or spectral "
                           "normalisation, or clip gradients",
    "vanishing_generator_gradients": "use the non-saturating or Wasserstein loss instead of "
                                     "minimax, weaken the discriminator, or check for a "
                                     "saturated output layer",
    "discriminator_winning": "weaken the discriminator (lower its learning rate, fewer "
                             "critic steps, label smoothing or noise, augmentation) or add a "
                             "gradient penalty",
    "discriminator_too_weak": "strengthen the discriminator (higher learning rate, more "
                              "critic steps, more width) or lower the generator's learning rate",
    "spiky_discriminator_loss": "lower the learning rates, add a gradient penalty, or look "
                                "for bad batches in the data",
    "oscillation": "lower the learning rates, use TTUR or Adam with beta_1 0 to 0.5, or add "
                   "a gradient penalty",
    "generator_loss_falls_without_improvement": "the generator is fooling a weak or stale "
                                                "discriminator: strengthen it or raise n_critic",
    "mode_collapse": "try the Wasserstein loss with gradient penalty, minibatch "
                     "discrimination or minibatch stddev, or unrolled discriminator steps",
}

WASSERSTEIN = ("wasserstein",)


class TrainingHealth(keras.callbacks.Callback):
    """Watches training for the failures the GAN literature names; see the module docstring.

    Args:
        log_dir: None, or where TensorBoard `health/*` scalars go.
        path: None, or the `health.json` file (state and every warning; rewritten
            atomically at each check, and read back when a run resumes).
        window: steps a loss or gradient signal is judged over.
        check_every: judge the signals every this many steps.
        sample_every: sample-based checks (mode collapse, improvement) every this many
            steps; 0 turns them off.
        warmup: steps before the loss and sample signals are judged (early GAN training
            is wild by nature); exploding gradients are judged from the first check.
        num_samples: samples of the fixed batch the sample checks draw.
        reference: None, or real images (a batch in the data's range) to scale the
            near-duplicate test and to measure the samples' distance to the data.
        classifier: None, or a classifier (`tfgans.metrics` extractor with `logits`, e.g.
            `FashionMNISTClassifier()`, its registered name "fashion_mnist", or a callable
            images -> logits) for the class histogram of unconditional samples; a name
            whose extractor does not take the trainer's images (or cannot load) is skipped
            with a warning.
        loss: the adversarial loss's name; default: read from the trainer's settings.
        explode_threshold: gradient norm above which gradients explode (the seeds' 100).
        seed: the sample checks' fixed seed.
        verbose: print each warning as one line on stderr (they are always in
            `self.warnings` and `health.json`).
    """

    def __init__(self, log_dir=None, path=None, window=100, check_every=25, sample_every=200,
                 warmup=200, num_samples=256, reference=None, classifier=None, loss=None,
                 explode_threshold=100.0, seed=0, verbose=True):
        super().__init__()
        for name, value, low in (("window", window, 8), ("check_every", check_every, 1),
                                 ("sample_every", sample_every, 0), ("warmup", warmup, 0),
                                 ("num_samples", num_samples, 4)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"`{name}` must be an integer >= {low}. Received: {value!r}")
        self.log_dir, self.path = log_dir, path
        self.window, self.check_every = window, check_every
        self.sample_every, self.warmup = sample_every, warmup
        self.num_samples, self.seed, self.verbose = num_samples, seed, verbose
        self.reference = None if reference is None else np.asarray(reference, np.float32)
        self.classifier = classifier
        self.loss = loss
        self.explode_threshold = float(explode_threshold)
        self.warnings = []  # [{"step", "signal", "message"}]
        self.values = {}  # the last check's values
        self.active = set()
        self._series = collections.defaultdict(lambda: collections.deque(maxlen=window))
        self._totals = {}
        self._batches = 0
        self._samples = collections.deque(maxlen=3)  # (step, g_loss median, distance)
        self._peak_g_grad = 0.0
        self._pair_distance = None  # mean |real - fake| at the last sample check
        self._first_gap = None
        self._sample_values = {}
        self._periods = collections.deque(maxlen=3)  # the G loss's dominant period per check
        self._writer = None
        self._last_check = self._last_sample = None

    # ------------------------------------------------------------------ Keras hooks
    def on_train_begin(self, logs=None):
        if self.loss is None:
            settings = getattr(self.model, "settings", lambda: {})()
            self.loss = str(settings.get("loss", "wasserstein"))
        step = self._step()
        self._last_check = self._last_sample = step
        if self.path and os.path.exists(self.path):
            try:
                with open(self.path, encoding="utf-8") as f:
                    previous = json.load(f)
                self.warnings = [w for w in previous.get("warnings", [])
                                 if isinstance(w, dict) and w.get("step", 0) <= step]
            except (OSError, ValueError):
                files.warn(f"{self.path} is not readable health JSON: starting a new one.")

    def on_epoch_begin(self, epoch, logs=None):
        self._totals, self._batches = {}, 0

    def on_train_batch_end(self, batch, logs=None):
        from tfgans.callbacks import interval_means

        means, _, self._batches = interval_means(batch, logs, self._totals, self._batches)
        for name, mean in means.items():
            self._series[name].append(mean)
        step = self._step()
        if step - self._last_check >= self.check_every:
            sample = (self.sample_every and step >= self.warmup
                      and step - self._last_sample >= self.sample_every)
            self.check(step, sample=bool(sample))

    def on_train_end(self, logs=None):
        step = self._step()
        if self._last_check is not None and step > self._last_check:
            self.check(step)  # health.json holds the run's last step
        if self._writer is not None:
            self._writer.flush()

    # ------------------------------------------------------------------ the checks
    def check(self, step, sample=False):
        """Judges every signal at `step` (the sample checks too if `sample`), warns for
        the ones that turned on, and writes TensorBoard scalars and `health.json`."""
        self._last_check = step
        values, on = {}, {}
        for name in [n for n in self._series if n.startswith("grad_norm_")]:
            recent = list(self._series[name])[-self.check_every:]
            # A full interval: the first steps of a fresh network can have large norms.
            if len(recent) == self.check_every:
                values[name] = float(np.median(recent))
        exploding = [n for n in values if n.startswith("grad_norm_")
                     and values[n] > self.explode_threshold]
        on["exploding_gradients"] = (bool(exploding), ", ".join(
            f"{n[len('grad_norm_'):]} gradient norm {values[n]:.3g}" for n in exploding)
            + f" (median of the last {self.check_every} steps; above "
              f"{self.explode_threshold:g})")
        if step >= self.warmup:
            on.update(self._loss_signals(values))
            if sample:
                self._last_sample = step
                sampled = {}
                on.update(self._sample_signals(step, sampled))
                self._sample_values = sampled
            values.update(self._sample_values)  # the last sample check's, between them
        for signal, (active, message) in on.items():
            values[signal] = float(active)
            if active and signal not in self.active:
                self._warn(step, signal, message)
            if active:
                self.active.add(signal)
            else:
                self.active.discard(signal)
        self.values = values
        self._write(step)

    def _full(self, name):
        series = self._series.get(name)
        return None if series is None or len(series) < self.window else np.asarray(series)

    def _loss_signals(self, values):
        on = {}
        wasserstein = self.loss in WASSERSTEIN
        d_loss, g_loss = self._full("d_loss"), self._full("g_loss")
        d_real, d_fake = self._full("d_real"), self._full("d_fake")
        if d_real is not None and d_fake is not None:
            gap = d_real - d_fake
            values["critic_gap"] = float(np.median(gap))
            quarters = [float(np.median(q)) for q in np.array_split(gap, 4)]
            if wasserstein:
                on["discriminator_winning"] = self._critic_unbounded(quarters)
            fooled = float(np.mean(gap < 0))
            weak = fooled >= 0.8 and (
                wasserstein or d_loss is None or float(np.median(d_loss)) >= math.log(4))
            on["discriminator_too_weak"] = (weak, (
                f"the discriminator scores fakes above reals in {fooled:.0%} of the last "
                f"{self.window} steps (median D(real) - D(fake) {np.median(gap):.3g})"))
        if d_loss is not None:
            median = float(np.median(d_loss))
            mad = float(np.median(np.abs(d_loss - median))) * 1.4826
            # 10 robust deviations, and at least a tenth of the loss's scale (a D loss near
            # 0 has a MAD near 0 too: its 0.01 wiggles are not spikes).
            floor = 0.1 * max(abs(median), 1.0)
            spikes = int(np.sum(np.abs(d_loss - median) > max(10 * mad, floor)))
            values["d_loss_spikes"] = float(spikes)
            on["spiky_discriminator_loss"] = (spikes >= 3, (
                f"{spikes} D-loss spikes over {self.window} steps (more than 10 robust "
                f"deviations from the median {median:.3g})"))
            if not wasserstein:
                on["discriminator_winning"] = (median < 0.05, (
                    f"the discriminator loss is {median:.3g} (median over {self.window} "
                    "steps): D separates real from fake outright"))
        if g_loss is not None:
            on["oscillation"] = self._oscillation(g_loss, values)
        g_grad = self._full("grad_norm_generator")
        if g_grad is not None:
            median = float(np.median(g_grad))
            self._peak_g_grad = max(self._peak_g_grad, median)
            vanishing = median < 1e-6 or median < 1e-3 * self._peak_g_grad
            on["vanishing_generator_gradients"] = (vanishing, (
                f"the generator's gradient norm is {median:.3g} (median over {self.window} "
                f"steps; its largest so far {self._peak_g_grad:.3g})"))
        return on

    def _critic_unbounded(self, quarters):
        """Wasserstein: the critic gap rises through the window's quarters and lies far
        above what a 1-Lipschitz critic could show: 10x the mean distance of random
        real / fake pairs (an upper bound on W1) at the last sample check; without a
        reference, 100x the gap's first window median."""
        rising = all(b > a for a, b in zip(quarters, quarters[1:]))
        gap = quarters[-1]
        if self._pair_distance is not None:
            limit, what = 10 * self._pair_distance, "10x the mean real-fake distance"
        else:
            if self._first_gap is None:
                self._first_gap = abs(quarters[0]) + 1e-6
            limit, what = 100 * self._first_gap, "100x its first window's"
        return rising and gap > limit, (
            f"the critic gap D(real) - D(fake) keeps rising, to {gap:.3g}, above {what} "
            f"({limit:.3g}): the critic is far from 1-Lipschitz")

    def _oscillation(self, series, values):
        """A dominant period: after removing the window's linear trend, one frequency of at
        least 2 full cycles in the window holds over half of the G loss's variance."""
        t = np.arange(len(series), dtype=np.float64)
        residual = series - np.polyval(np.polyfit(t, series, 1), t)
        power = np.abs(np.fft.rfft(residual)) ** 2
        total = power[1:].sum() + 1e-30
        k = int(np.argmax(power[2:len(series) // 4 + 1])) + 2  # periods of 4 .. window/2
        share = float(power[k] / total)
        values["oscillation_share"] = share
        amplitude = float(np.sqrt(2 * power[k]) * 2 / len(series))
        strong = share > 0.5 and amplitude > 1e-3 * (1 + abs(float(np.mean(series))))
        # The same period (within one frequency bin) at 3 checks in a row: a short noisy
        # window can hold one strong bin by chance, a real oscillation keeps it.
        self._periods.append(k if strong else None)
        recent = list(self._periods)[-3:]
        active = (len(recent) == 3 and None not in recent
                  and max(recent) - min(recent) <= 1)
        return active, (f"the generator loss oscillates with a period of about "
                        f"{len(series) / k:.0f} steps (amplitude {amplitude:.3g}; "
                        f"{share:.0%} of its variance over {self.window} steps)")

    def _sample_signals(self, step, values):
        on = {}
        try:
            samples, labels = self.model.evaluation_samples(self.num_samples, seed=self.seed)
        except Exception:  # noqa: BLE001 - a family without noise -> image sampling
            return on
        samples = np.asarray(samples, np.float32)
        flat = samples.reshape(len(samples), -1)
        nearest = _nearest_neighbour_distances(flat)
        if self.reference is not None and len(self.reference) > 1:
            ref = self.reference.reshape(len(self.reference), -1)
            scale = 0.1 * float(np.median(_nearest_neighbour_distances(ref)))
        else:
            scale = 1e-3 * math.sqrt(flat.shape[1])
        duplicates = float(np.mean(nearest <= scale))
        values["near_duplicate_rate"] = duplicates
        collapse, why = duplicates > 0.5, f"{duplicates:.0%} of a fixed batch of samples are near-duplicates"
        if isinstance(self.classifier, str):  # loaded at the first sample check
            self.classifier = self._load_classifier(self.classifier)
        if self.classifier is not None and labels is None and samples.ndim == 4:
            logits = self._logits(samples)
            shares = np.bincount(np.argmax(logits, -1), minlength=logits.shape[-1]) / len(logits)
            values["top_class_share"] = float(shares.max())
            if shares.max() > 0.6:
                collapse = True
                why = (f"{shares.max():.0%} of a fixed batch of samples are one class "
                       f"({int(np.argmax(shares))}) under the classifier")
        on["mode_collapse"] = (collapse, why)
        if self.reference is not None:
            ref = self.reference.reshape(len(self.reference), -1)
            pairs = min(len(ref), len(flat))
            self._pair_distance = float(np.mean(np.linalg.norm(ref[:pairs] - flat[:pairs], axis=1)))
            values["real_fake_distance"] = self._pair_distance
        g_loss = self._series.get("g_loss")
        # A Wasserstein critic is defined up to an added constant, and its generator loss
        # (-mean D(G(z))) drifts with that constant: its fall says nothing about the
        # generator, so the check is for the other losses (the distance is logged for all).
        judge = self.loss not in WASSERSTEIN
        if self.reference is not None and g_loss:
            distance = _statistics_distance(flat, self.reference.reshape(len(self.reference), -1))
            values["sample_distance"] = distance
            self._samples.append((step, float(np.median(list(g_loss))), distance))
            if len(self._samples) == 3 and judge:
                (_, g0, d0), (_, g1, d1), (_, g2, d2) = self._samples
                stuck = g2 < g1 < g0 and d2 > d1 > d0 and d2 > 1.05 * d0
                on["generator_loss_falls_without_improvement"] = (stuck, (
                    f"the generator loss fell ({g0:.3g} -> {g2:.3g}) over the last 3 sample "
                    f"checks while the samples' distance to the data did not "
                    f"({d0:.3g} -> {d2:.3g})"))
        return on

    def _load_classifier(self, name):
        from tfgans.metrics.extractors import get_extractor

        shape = getattr(self.model, "settings", lambda: {})().get("image_shape")
        try:
            extractor = get_extractor(name)
        except (OSError, ValueError) as e:
            files.warn(f"training health: no class histogram ({e})")
            return None
        wanted = getattr(extractor, "image_shape", None)
        if shape is None or wanted is None or tuple(shape) != tuple(wanted):
            return None  # other images than the classifier's: the histogram does not apply
        return extractor

    def _logits(self, samples):
        if hasattr(self.classifier, "logits"):
            return np.asarray(self.classifier.logits(samples))
        return np.asarray(self.classifier(samples))

    # ------------------------------------------------------------------ output
    def _warn(self, step, signal, what):
        message = f"training health at step {step}: {what}. Try: {ADVICE[signal]}."
        self.warnings.append({"step": int(step), "signal": signal, "message": message})
        if self.verbose:
            files.warn(message)

    def _write(self, step):
        if self.log_dir:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.log_dir)
            with self._writer.as_default():
                for name, value in self.values.items():
                    if math.isfinite(value):
                        tf.summary.scalar(f"health/{name}", value, step=step)
        if self.path:
            state = {"step": int(step), "loss": self.loss, "values": self.values,
                     "active": sorted(self.active), "warnings": self.warnings}
            try:
                files.atomic_write(self.path, json.dumps(state, indent=1, allow_nan=False,
                                                         default=float) + "\n")
            except (OSError, ValueError) as e:
                files.warn(f"could not write {self.path}: {e}")

    def _step(self):
        from tfgans.callbacks import global_step

        return int(global_step(self.model))


def _nearest_neighbour_distances(flat):
    """Each row's Euclidean distance to its nearest other row."""
    flat = flat.astype(np.float64)
    squared = np.sum(flat ** 2, axis=1)
    d2 = squared[:, None] + squared[None, :] - 2 * flat @ flat.T
    np.fill_diagonal(d2, np.inf)
    return np.sqrt(np.maximum(d2.min(axis=1), 0.0))


def _statistics_distance(a, b):
    """Distance of two sets' per-dimension means and standard deviations (RMS over
    dimensions): a cheap, label-free measure of how far samples lie from the data."""
    return float(np.sqrt(np.mean((a.mean(0) - b.mean(0)) ** 2)
                         + np.mean((a.std(0) - b.std(0)) ** 2)))

