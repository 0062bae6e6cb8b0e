"""Keras callbacks for GAN training: TensorBoard scalars and text, image grids of a fixed
noise batch (TensorBoard images and PNG files) and periodic evaluation (FID, KID, IS,
precision/recall to TensorBoard and `eval.json`).

They work with plain `gan.fit` as well as with `GANEstimator`, and log at the GAN's global
step (`gan.step`), so a resumed run continues its curves where they stopped. Summary
writers are created lazily, on first use, so nothing is written that is not needed.

Example:
```python
gan.fit(dataset, epochs=10, callbacks=[
    tfgans.callbacks.GANTensorBoard("runs/x/logs/train", update_freq=100),
    tfgans.callbacks.SampleGrid(every=500, log_dir="runs/x/logs/samples",
                                samples_dir="runs/x/samples"),
])
```
"""

import json
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from tfgans import files, multi_worker
from tfgans.files import atomic_write


def global_step(model):
    """Returns the training step of `model` as an int: `model.step` for a tfgans trainer,
    else its optimizer's iteration count."""
    step = getattr(model, "step", None)
    if step is None:
        step = model.optimizer.iterations
    return int(step.numpy() if hasattr(step, "numpy") else step)


def interval_means(batch, logs, totals, batches_before):
    """The mean of each metric over the batches since the last call, from the running means
    Keras reports since the start of the epoch: returns (means, number of batches in the
    interval, batches seen this epoch). `totals` ({metric: mean * batches} at the last
    call, emptied at each epoch's start) is updated in place."""
    batches = int(batch) + 1  # batches seen this epoch; the logs are means over them
    interval = batches - batches_before
    means = {}
    for name, value in (logs or {}).items():
        try:
            total = float(value) * batches
        except (TypeError, ValueError):
            continue
        if interval > 0:
            means[name] = (total - totals.get(name, 0.0)) / interval
        totals[name] = total
    return means, interval, batches


def crossed(previous, current, every):
    """True when a multiple of `every` lies in (previous, current]."""
    return current // every > previous // every


def _writer(writer, log_dir):
    return writer if writer is not None else tf.summary.create_file_writer(log_dir)


# ----------------------------------------------------------------------------- images


def image_grid(images, columns=None, padding=2, pad_value=255):
    """Tiles images in [-1, 1] into one uint8 grid image.

    Args:
        images: float array [N, H, W, C] in [-1, 1] (C = 1, 3 or 4).
        columns: images per row; None: ceil(sqrt(N)).
        padding: pixels between images and around the grid.
        pad_value: uint8 value of the padding.

    Returns:
        A uint8 NumPy array [rows * (H + padding) + padding, ..., C].

    Example:
    >>> image_grid(np.zeros([6, 28, 28, 1]), columns=3).shape
    (62, 92, 1)
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"`images` must be [N, H, W, C] with N > 0. Received shape {images.shape}")
    n, h, w, c = images.shape
    columns = int(columns or math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    pixels = np.round((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    grid = np.full(
        [rows * (h + padding) + padding, columns * (w + padding) + padding, c], pad_value, np.uint8
    )
    for i in range(n):
        r, col = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top : top + h, left : left + w] = pixels[i]
    return grid


def write_png(path, grid):
    """Writes a uint8 image [H, W, C] to `path` as PNG, atomically (a temporary file in the
    same folder, then a rename): a reader never sees a half-written file."""
    return atomic_write(path, tf.io.encode_png(tf.convert_to_tensor(grid, tf.uint8)).numpy())


def grid_layout(num_images, num_classes=None):
    """Returns (labels or None, columns) for a sample grid.

    Unconditional: `num_images` images, sqrt-shaped. Conditional: one row per class
    (at most `num_images` classes), `num_images // rows` images per row.
    """
    if num_classes is None:
        return None, math.ceil(math.sqrt(num_images))
    rows = min(num_classes, num_images)
    columns = max(1, num_images // rows)
    return np.repeat(np.arange(rows, dtype=np.int32), columns), columns


# ---------------------------------------------------------------------------- scalars


class GANTensorBoard(keras.callbacks.Callback):
    """TensorBoard scalars for GAN training, at the global step.

    Every `update_freq` steps it writes each metric of the logs (for `tfgans.GAN`:
    d_loss, g_loss, penalty, d_real, d_fake, nonfinite) averaged over the steps since the
    last write, the learning rates (`learning_rate/generator`, `learning_rate/discriminator`,
    or `learning_rate` for a one-optimizer model) and `steps_per_second`. At the start of
    training it writes `config` as text.

    Args:
        log_dir: where the event files go (e.g. `model_dir/logs/train`).
        update_freq: write every this many steps (and at the end of training).
        config: None, or the run's resolved config (a string, e.g. YAML, or a dict), shown
            in TensorBoard's Text tab.

    The per-interval averages are recovered from the running means that Keras metrics
    report since the start of the epoch.
    """

    def __init__(self, log_dir, update_freq=100, config=None):
        super().__init__()
        if int(update_freq) <= 0:
            raise ValueError(f"`update_freq` must be positive. Received: update_freq={update_freq}")
        self.log_dir = log_dir
        self.update_freq = int(update_freq)
        self.config = config
        self._writer = None
        self._sums = {}  # metric -> (running mean * batches) at the last write, this epoch
        self._batches = 0
        self._pending = {}

    @property
    def writer(self):
        self._writer = _writer(self._writer, self.log_dir)
        return self._writer

    def _config_text(self):
        if isinstance(self.config, dict):
            import json

            text = json.dumps(self.config, indent=2, sort_keys=True, default=str)
        else:
            text = str(self.config)
        # Markdown: an indented block keeps the YAML layout.
        return "\n".join("    " + line for line in text.splitlines())

    def on_train_begin(self, logs=None):
        self._last_step = global_step(self.model)
        self._last_time = time.perf_counter()
        if self.config is not None:
            with self.writer.as_default():
                tf.summary.text("config", self._config_text(), step=self._last_step)

    def on_epoch_begin(self, epoch, logs=None):
        self._sums, self._batches = {}, 0

    def _learning_rates(self):
        optimizers = getattr(self.model, "optimizers", None)
        if not isinstance(optimizers, dict) or not optimizers:  # a plain Keras model
            optimizers = {"": getattr(self.model, "optimizer", None)}
        rates = {}
        for name, opt in optimizers.items():
            if opt is not None:
                tag = f"learning_rate/{name}" if name else "learning_rate"
                rates[tag] = float(np.asarray(opt.learning_rate))
        return rates

    def on_train_batch_end(self, batch, logs=None):
        means, interval, self._batches = interval_means(batch, logs, self._sums, self._batches)
        for name, mean in means.items():
            count, acc = self._pending.get(name, (0, 0.0))
            self._pending[name] = (count + interval, acc + mean * interval)
        step = global_step(self.model)
        if crossed(self._last_step, step, self.update_freq):
            self._write(step)

    def _write(self, step):
        now = time.perf_counter()
        with self.writer.as_default():
            for name, (count, acc) in self._pending.items():
                tf.summary.scalar(name, acc / count, step=step)
            for tag, value in self._learning_rates().items():
                tf.summary.scalar(tag, value, step=step)
            if now > self._last_time:
                speed = (step - self._last_step) / (now - self._last_time)
                tf.summary.scalar("steps_per_second", speed, step=step)
        self._pending = {}
        self._last_step, self._last_time = step, now

    def on_train_end(self, logs=None):
        step = global_step(self.model)
        if step > self._last_step and self._pending:
            self._write(step)
        if self._writer is not None:
            self._writer.flush()


class ReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """Keras' `ReduceLROnPlateau` for trainers with one optimizer per network
    (`model.optimizers`): when the monitored metric stops improving, every trained
    network's learning rate is reduced (logged as `learning_rate_<optimizer name>`).
    `Trainer.fit` turns a plain Keras `ReduceLROnPlateau` into this one.

    Example:
    ```python
    gan.fit(dataset, epochs=20, callbacks=[
        keras.callbacks.ReduceLROnPlateau(monitor="d_loss", factor=0.5, patience=2)])
    ```
    """

    @classmethod
    def from_keras(cls, callback):
        """This callback with the settings and state of a Keras `ReduceLROnPlateau`."""
        adapted = cls.__new__(cls)
        adapted.__dict__.update(callback.__dict__)
        return adapted

    def on_epoch_end(self, epoch, logs=None):
        model = self.model
        optimizers = getattr(model, "optimizers", None)
        if not isinstance(optimizers, dict) or model.optimizer is not None:
            return super().on_epoch_end(epoch, logs)
        self._model = _OptimizersView(model, list(optimizers.values()))
        try:
            return super().on_epoch_end(epoch, logs)
        finally:
            self._model = model


class _OptimizersView:
    """A trainer seen with `optimizer.optimizers` (Keras' multi-optimizer convention)."""

    def __init__(self, model, optimizers):
        self._wrapped = model
        self.optimizer = type("Optimizers", (), {"optimizers": optimizers})()

    def __getattr__(self, name):
        return getattr(self._wrapped, name)


# ----------------------------------------------------------------------------- images


class SampleGrid(keras.callbacks.Callback):
    """Image grids of a fixed noise batch, to TensorBoard and / or PNG files.

    The grid is the trainer's `sample_grid(num_images, seed)` (for the GAN: the EMA
    generator when EMA is on, the same noise every time, so grids at different steps are
    comparable; for a conditional GAN each row is one class). Written at step 0, every
    `every` steps and at the end of training; a resumed run first writes the grid of the
    step it starts from if that one is missing (the run that saved the checkpoint was
    stopped before writing it).

    Args:
        every: write every this many steps.
        log_dir: None, or where TensorBoard event files go (tag "samples").
        samples_dir: None, or a folder for `step_<step>.png` and `latest.png`, written
            atomically.
        num_images: images in the grid (for a conditional GAN, about that many: whole
            rows of one class each).
        seed: the noise seed.
    """

    def __init__(self, every=500, log_dir=None, samples_dir=None, num_images=64, seed=0):
        super().__init__()
        if int(every) <= 0:
            raise ValueError(f"`every` must be positive. Received: every={every}")
        if int(num_images) <= 0:
            raise ValueError(f"`num_images` must be positive. Received: num_images={num_images}")
        if log_dir is None and samples_dir is None:
            raise ValueError("SampleGrid needs `log_dir`, `samples_dir` or both. Received neither.")
        self.every = int(every)
        self.log_dir = log_dir
        self.samples_dir = samples_dir
        self.num_images = int(num_images)
        self.seed = int(seed)
        self._writer = None
        self._last_step = None

    @property
    def writer(self):
        self._writer = _writer(self._writer, self.log_dir)
        return self._writer

    def grid(self):
        """Returns the current sample grid, uint8 [H, W, C]."""
        images, columns = self.model.sample_grid(self.num_images, seed=self.seed)
        return image_grid(images, columns=columns)

    def path(self, step):
        """The PNG file of the grid at `step`, or None without `samples_dir`."""
        if self.samples_dir is None:
            return None
        return os.path.join(self.samples_dir, f"step_{step:08d}.png")

    def write(self, step):
        """Writes the grid for `step` (to TensorBoard and / or PNG)."""
        files.fault_point("sample_grid", self.path(step))
        grid = self.grid()
        if self.log_dir is not None:
            with self.writer.as_default():
                tf.summary.image("samples", grid[np.newaxis], step=step, max_outputs=1)
            self.writer.flush()
        if self.samples_dir is not None:
            write_png(self.path(step), grid)
            write_png(os.path.join(self.samples_dir, "latest.png"), grid)
        self._last_step = step

    def on_train_begin(self, logs=None):
        # At step 0, and when a resumed run starts at a step whose grid is missing (the
        # run that saved the checkpoint of that step was stopped before the grid).
        self._last_step = step = global_step(self.model)
        if step == 0:
            self.write(step)
        elif step % self.every == 0:
            self.catch_up()

    def catch_up(self):
        """Writes the grid of the current step if it is missing: a run stopped after its
        last checkpoint and before that step's grid, then asked to train to the step it
        already reached (`Estimator.train` calls this instead of training)."""
        step = global_step(self.model)
        if step > 0 and self.samples_dir is not None and not os.path.exists(self.path(step)):
            self.write(step)

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if crossed(self._last_step, step, self.every):
            self.write(step)

    def on_train_end(self, logs=None):
        step = global_step(self.model)
        if step != self._last_step:
            self.write(step)
        if self._writer is not None:
            self._writer.flush()


# ------------------------------------------------------------------------- evaluation


def evaluate_generator(trainer, evaluator, num_samples, seed=0, progress=False, per_class=False):
    """Metrics of a trainer's samples against the real side already in `evaluator`.

    Forgets `evaluator`'s generated side, adds the `num_samples` images of
    `trainer.evaluation_samples(num_samples, seed)` (for the GAN: the EMA generator when EMA
    is on, a conditional GAN's classes in turn) and returns `evaluator.result()`.
    """
    evaluator.reset_fake()
    images, labels = trainer.evaluation_samples(num_samples, seed)
    evaluator.update_fake_from((images, labels), num_samples, batch_size=500,
                               progress=progress)
    return evaluator.result(per_class=per_class)


def read_history(path):
    """The records of an eval history file (a JSON list), [] if it does not exist.

    Raises:
        ValueError: the file is not a JSON list of records (naming it).
    """
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            records = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"Cannot read the eval history {path} ({e}): move it away.") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"The eval history {path} is not a JSON list of records: move it away.")
    return records


def _read_or_set_aside(path):
    """`read_history`, but a damaged file is renamed to `<path>.bad-<time>` with a warning
    and the history starts again: a bad file must not stop a run (nor lose a result)."""
    try:
        return read_history(path)
    except ValueError as e:
        aside = f"{path}.bad-{time.strftime('%Y%m%dT%H%M%S')}"
        try:
            os.replace(path, aside)
        except OSError as error:
            raise files.write_error(aside, error, "move the damaged history to") from None
        files.warn(f"{e} It was moved to {aside}; a new history starts in {path}.")
        return []


def has_record(path, source, step):
    """Whether the history in `path` holds a record of `source` at `step` (False when the
    file is missing or unreadable)."""
    try:
        records = read_history(path)
    except ValueError:
        return False
    return any((r.get("source"), r.get("step")) == (source, step) for r in records)


def append_history(path, record):
    """Appends `record` (a dict with "step" and "source") to the JSON list in `path`,
    atomically (temporary file, then rename). A record of the same source and step (left
    by a run that resumed from an earlier checkpoint) is replaced. A damaged file is kept
    aside (`<path>.bad-<time>`, with a warning) and a new history started."""
    records = [
        r for r in _read_or_set_aside(path)
        if (r.get("source"), r.get("step")) != (record.get("source"), record.get("step"))
    ]
    records.append(record)
    atomic_write(path, json.dumps(records, indent=1) + "\n")
    return records


def metrics_record(step, source, metrics, **fields):
    """An eval history record: step, source, UTC time, `fields`, then the metrics."""
    return {
        "step": int(step),
        "source": source,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **fields,
        **{k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in metrics.items()},
    }


class PeriodicEvaluation(keras.callbacks.Callback):
    """FID, KID, Inception Score and precision/recall every `every` steps while training.

    The generated side is `gan.generate(num_samples, seed)`: the EMA generator when EMA is
    on, the same noise at every evaluation (for a conditional GAN the classes in turn, which
    adds intra-class FID and the classifier's class accuracy). The real side is the first
    `num_samples` images of `real`, run through the extractor once, at the first evaluation.
    Each evaluation goes to TensorBoard (`eval/<metric>` in `log_dir`, at the global step)
    and is appended to `history_path` (a JSON list of records: step, source "train", time,
    num_samples, extractor, seconds and the metrics). It runs every `every` steps and at the
    end of training, and when a resumed run starts at a multiple of `every` whose record is
    missing from `history_path` (the run before was stopped between the checkpoint and the
    evaluation). Only the chief of a multi-worker run evaluates and writes (the check of
    `tfgans.multi_worker.is_chief`); the other workers skip it.

    Args:
        real: real images in [-1, 1], anything `tfgans.metrics.iterate_batches` takes (an
            array, `(images, labels)`, a `tf.data.Dataset` of batches; an infinite dataset
            is fine), or a function with no arguments returning one (called when needed).
        every: evaluate every this many steps.
        num_samples: images on each side; at least `kid_subset_size`.
        extractor: a `tfgans.metrics.FeatureExtractor` or a registered name
            ("fashion_mnist", "inception").
        log_dir: None, or where TensorBoard event files go.
        history_path: None, or the JSON history file (`model_dir/eval.json`).
        seed: the noise seed of the generated images (and of KID's subsets).
        verbose: print one line per evaluation.
        **evaluator_kwargs: `kid_subset_size`, `kid_num_subsets`, ... (see
            `tfgans.metrics.Evaluator`).

    Example:
    ```python
    gan.fit(dataset, epochs=10, callbacks=[tfgans.callbacks.PeriodicEvaluation(
        dataset, every=1000, num_samples=1000, log_dir="runs/x/logs/eval",
        history_path="runs/x/eval.json")])
    ```
    """

    def __init__(self, real, every=1000, num_samples=1000, extractor="fashion_mnist",
                 log_dir=None, history_path=None, seed=0, verbose=0, **evaluator_kwargs):
        super().__init__()
        for name, value in [("every", every), ("num_samples", num_samples)]:
            if isinstance(value, bool) or int(value) != value or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        subset = evaluator_kwargs.get("kid_subset_size", 1000)
        if num_samples < subset:
            raise ValueError(
                f"`num_samples={num_samples}` is smaller than KID's `kid_subset_size={subset}`: "
                "evaluate more samples or pass a smaller `kid_subset_size`."
            )
        self.real = real
        self.every = int(every)
        self.num_samples = int(num_samples)
        self.extractor = extractor
        self.log_dir = log_dir
        self.history_path = history_path
        self.seed = int(seed)
        self.verbose = verbose
        self.evaluator_kwargs = evaluator_kwargs
        self.history = []  # this process's records
        self._evaluator = None
        self._writer = None
        self._last_step = None
        self._chief = True

    @property
    def writer(self):
        self._writer = _writer(self._writer, self.log_dir)
        return self._writer

    @property
    def evaluator(self):
        """The `tfgans.metrics.Evaluator`, holding the real side (built on first use)."""
        if self._evaluator is None:
            from tfgans.metrics import Evaluator

            evaluator = Evaluator(self.extractor, max_kept=self.num_samples, seed=self.seed,
                                  **self.evaluator_kwargs)
            real = self.real
            if callable(real) and not hasattr(real, "shape"):
                real = real()
            evaluator.update_real_from(real, self.num_samples, batch_size=500)
            self._evaluator = evaluator
        return self._evaluator

    def evaluate(self, step):
        """Evaluates now, logs the metrics at `step` and returns them."""
        files.fault_point("evaluation", self.history_path)
        start = time.perf_counter()
        metrics = evaluate_generator(self.model, self.evaluator, self.num_samples, self.seed)
        seconds = time.perf_counter() - start
        self._record(step, metrics, self.num_samples, self.evaluator.extractor.name, seconds)
        if self.verbose:
            print(f"\nstep {step}: FID {metrics['fid']:.2f}, KID {metrics['kid']:.3g}, "
                  f"IS {metrics['inception_score']:.2f}, precision {metrics['precision']:.3f}, "
                  f"recall {metrics['recall']:.3f} ({seconds:.1f} s)", flush=True)
        self._last_step = step
        return metrics

    def _record(self, step, metrics, num_samples, extractor, seconds):
        """Keeps the evaluation's record, logs its metrics to TensorBoard as `eval/<metric>`
        and appends it to `history_path`."""
        record = metrics_record(step, "train", metrics, num_samples=num_samples,
                                extractor=extractor, seconds=round(seconds, 2))
        self.history.append(record)
        if self.log_dir is not None:
            with self.writer.as_default():
                for key, value in metrics.items():
                    if not key.startswith("num_"):
                        tf.summary.scalar(f"eval/{key}", value, step=step)
            self.writer.flush()
        if self.history_path is not None:
            append_history(self.history_path, record)

    def on_train_begin(self, logs=None):
        strategy = getattr(self.model, "distribute_strategy", None) or tf.distribute.get_strategy()
        self._chief = multi_worker.is_chief(strategy)
        self._last_step = step = global_step(self.model)  # the last step evaluated, or the start
        # A resumed run owes the evaluation of its checkpoint's step when the run that saved
        # it was stopped before that evaluation was recorded.
        if step % self.every == 0:
            self.catch_up()

    def catch_up(self):
        """Evaluates the current step if its record is missing (see `SampleGrid.catch_up`):
        the last evaluation of a run is owed as any other."""
        strategy = getattr(self.model, "distribute_strategy", None) or tf.distribute.get_strategy()
        step = global_step(self.model)
        if (step > 0 and multi_worker.is_chief(strategy) and self.history_path
                and not has_record(self.history_path, "train", step)):
            self.evaluate(step)

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if self._chief and crossed(self._last_step, step, self.every):
            self.evaluate(step)

    def on_train_end(self, logs=None):
        step = global_step(self.model)
        if self._chief and step != self._last_step:
            self.evaluate(step)
        if self._writer is not None:
            self._writer.flush()


class PeriodicTranslationEvaluation(PeriodicEvaluation):
    """`PeriodicEvaluation` for image -> image trainers: every `every` steps, PSNR, SSIM,
    L1 and FID of the trainer's outputs (`model.sample(sources)`: the EMA generator when
    EMA is on, no dropout) against the targets of the first `num_samples` pairs of `pairs`
    (held-out pairs, e.g. the test split), next to the identity baseline (the source as
    the output; `tfgans.metrics.evaluate_translation`). Logged to TensorBoard as
    `eval/<metric>` and appended to `history_path` like `PeriodicEvaluation`'s records.

    Args:
        pairs: `(source, target)` batches (inpainting: `(source, target, mask)`; a
            `tf.data.Dataset`), or a function returning them; read once, at the first
            evaluation.
        extractor: the features of FID (None: no FID).
        Other args: as `PeriodicEvaluation`.
    """

    def __init__(self, pairs, every=1000, num_samples=1000, extractor="fashion_mnist",
                 log_dir=None, history_path=None, seed=0, verbose=0):
        super().__init__(pairs, every=every, num_samples=num_samples, extractor=extractor,
                         log_dir=log_dir, history_path=history_path, seed=seed,
                         verbose=verbose, kid_subset_size=2)
        self._pairs = None

    @property
    def evaluator(self):
        """The held-out (sources, targets[, masks]), as NumPy (read on first use)."""
        if self._pairs is None:
            pairs = self.real() if callable(self.real) else self.real
            parts = []  # [(source, target[, mask])] (inpainting's batches hold masks)
            count = 0
            for batch in pairs:
                parts.append([np.asarray(x, np.float32) for x in batch[:3]])
                count += len(parts[-1][0])
                if count >= self.num_samples:
                    break
            self._pairs = tuple(np.concatenate(x)[: self.num_samples] for x in zip(*parts))
        return self._pairs

    def evaluate(self, step):
        """Evaluates now, logs the metrics at `step` and returns them."""
        from tfgans.metrics import evaluate_translation
        from tfgans.metrics.translation import describe

        files.fault_point("evaluation", self.history_path)
        start = time.perf_counter()
        held_out = self.evaluator
        sources = held_out[0]
        metrics = evaluate_translation(
            self.model.sample, [tuple(x[i : i + 500] for x in held_out)
                                for i in range(0, len(sources), 500)],
            len(sources), extractor=self.extractor)
        seconds = time.perf_counter() - start
        self._record(step, metrics, len(sources), getattr(self.extractor, "name", self.extractor),
                     seconds)
        if self.verbose:
            print(f"\nstep {step}: {describe(metrics)} ({seconds:.1f} s)", flush=True)
        self._last_step = step
        return metrics


class PeriodicCycleEvaluation(PeriodicTranslationEvaluation):
    """`PeriodicEvaluation` for unpaired image <-> image trainers (CycleGAN): every `every`
    steps, both directions of the trainer (`model.sample(images, direction)`) on the first
    `num_samples` held-out (a, b) images: translation accuracy (with `classes`), cycle
    error and FID, next to the identity mapping (`tfgans.metrics.evaluate_cycle`). Logged
    to TensorBoard as `eval/<metric>` and appended to `history_path`.

    Args:
        images: `(a, b)` batches (a `tf.data.Dataset`), or a function returning them.
        classes: None, or the extractor's class ids of domains A and B.
        Other args: as `PeriodicTranslationEvaluation`.
    """

    def __init__(self, images, classes=None, **kwargs):
        super().__init__(images, **kwargs)
        self.classes = classes

    def evaluate(self, step):
        """Evaluates now, logs the metrics at `step` and returns them."""
        from tfgans.metrics.cycle import describe, evaluate_cycle

        files.fault_point("evaluation", self.history_path)
        start = time.perf_counter()
        a, b = self.evaluator
        metrics = evaluate_cycle(self.model.sample, [(a, b)], len(a), extractor=self.extractor,
                                 classes=self.classes)
        seconds = time.perf_counter() - start
        self._record(step, metrics, len(a), getattr(self.extractor, "name", self.extractor),
                     seconds)
        if self.verbose:
            print(f"\nstep {step}: {describe(metrics)} ({seconds:.1f} s)", flush=True)
        self._last_step = step
        return metrics


from tfgans.health import TrainingHealth  # noqa: E402  (it imports global_step from here)
