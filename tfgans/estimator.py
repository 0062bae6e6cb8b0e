"""`GANEstimator`: TF-GAN-style train / evaluate / predict / export over one model directory.

A model directory holds:

- `estimator.json`: the settings that define the run (architecture, loss, optimizers,
  seed, ...). Opening the directory with different settings is an error, not a silent mix.
- `checkpoints/`: `tf.train.CheckpointManager` checkpoints (the last `keep_checkpoints`),
  written every `checkpoint_every` steps, at the end of `train` and on Ctrl-C.
- `logs/train`, `logs/samples`, `logs/eval`: TensorBoard event files; `samples/`: PNG
  grids; `eval.json`: the metric history (`tfgans.callbacks.PeriodicEvaluation`, evaluate).

Exact resume. A checkpoint holds every weight of the generator, the discriminator and the
EMA generator, every variable of both optimizers (the step counter among them) and the
input position (batches consumed). Training noise is a pure function of (seed, step), so
it needs no saved state. On resume the input is rebuilt and the consumed batches skipped,
so training N steps, stopping and resuming to 2N gives the weights of 2N steps in one go,
provided the input is deterministic (`tfgans` pipelines are: seeded shuffles,
`deterministic=True`).
"""

import contextlib
import json
import math
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfgans import callbacks as callbacks_lib
from tfgans import multi_worker
from tfgans.files import atomic_write
from tfgans.training import GAN
from tfgans.training.gan import _StopOnNonFinite

SETTINGS_FILE = "estimator.json"
CHECKPOINT_DIR = "checkpoints"
_FORMAT = 1


class RunMismatchError(ValueError):
    """The model_dir holds a run whose settings differ from the estimator's."""


class NoCheckpointError(ValueError):
    """The model_dir holds no checkpoint (nothing was trained there yet)."""


def read_settings(model_dir):
    """Returns the settings stored in `model_dir/estimator.json`, or None if there are none."""
    path = os.path.join(model_dir, SETTINGS_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise RunMismatchError(f"Cannot read {path} ({e}): restore or remove it.") from None


def _write_json(path, data):
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _differences(stored, current, prefix=""):
    """Returns ["key: stored != current", ...] between two JSON-like values."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out = []
        for key in sorted(set(stored) | set(current)):
            out += _differences(stored.get(key), current.get(key), f"{prefix}{key}.")
        return out
    if stored != current:
        return [f"{prefix.rstrip('.')}: {stored!r} != {current!r}"]
    return []


def _is_mirrored(strategy):
    return isinstance(
        strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)
    )


def _is_tpu(strategy):
    return isinstance(strategy, (tf.distribute.TPUStrategy, tf.distribute.experimental.TPUStrategy))


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


class _DtypePolicy:
    """Sets the global Keras dtype policy while models and optimizers are built."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.previous = keras.config.dtype_policy()
        if self.name is not None:
            keras.config.set_dtype_policy(self.name)

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self.previous)


class GANEstimator:
    """Trains, evaluates, samples and exports a GAN in one model directory, resumably.

    TF-GAN's `GANEstimator` for Keras 3: builder functions make the networks (inside
    `strategy.scope()`), a `tfgans.GAN` trains them under `fit`, and everything lives in
    `model_dir`. Creating an estimator on a directory that holds a run restores its latest
    checkpoint; `train` continues from it.

    Args:
        generator_fn: a function with no arguments returning the generator (a Keras
            model mapping noise [B, latent_dim], or `[noise, labels]` when conditional, to
            images in [-1, 1]). Called inside `strategy.scope()`. A Keras model class with
            default arguments works too.
        discriminator_fn: likewise for the discriminator (images, or `[images, labels]`,
            to logits [B, 1]; higher means "real").
        latent_dim: size of the noise vector.
        loss: a `tfgans.losses.get` name or a `GANLoss`.
        model_dir: the run directory; None: a new temporary directory.
        strategy: a `tf.distribute.Strategy`; None: the current (default) one.
        num_classes: number of classes of a conditional GAN, else None.
        generator_optimizer_fn, discriminator_optimizer_fn: functions with no arguments
            returning Keras optimizers (called inside the scope); None: Adam with the
            learning rates and betas below.
        generator_lr, discriminator_lr, beta_1, beta_2: the default Adam optimizers'
            settings (WGAN-GP's by default).
        gradient_penalty, n_critic, label_smoothing: see `GAN.compile` (None: the loss'
            defaults).
        ema_decay: keep an exponential moving average of the generator (e.g. 0.999), used
            by `predict`, samples and export.
        seed: the seed all training noise derives from.
        checkpoint_every: save a checkpoint every this many steps (and at the end).
        keep_checkpoints: how many checkpoints to keep.
        sample_every: write a sample grid every this many steps.
        log_every: write TensorBoard scalars every this many steps.
        num_sample_images: images in the sample grids.
        jit_compile: True, False or "auto" (XLA on one device; off under MirroredStrategy,
            where Keras 3.15 cannot compile the distributed step).
        steps_per_execution: training steps per `tf.function` call (one device only).
        mixed_precision: None, "mixed_float16" or "mixed_bfloat16".
        config: the run's resolved config (text or dict), shown in TensorBoard.
        compile_kwargs: more `GAN.compile` arguments (penalty_type, weight_clip, ...).
        verbose: Keras' progress bar setting ("auto", 0, 1, 2).
        peer_timeout: under MultiWorkerMirroredStrategy, the seconds a training step (or
            a save) may wait for the other workers before this worker decides a peer died
            and exits (status `multi_worker.EXIT_PEER_FAILURE`, see `tfgans.multi_worker`).
            TensorFlow's coordination service usually reports a dead peer within ~10 s;
            this is the backstop. It must exceed the chief's longest pause (evaluation).
            The first step gets `first_step_timeout` (start-up, tracing, compiling).
        first_step_timeout: see `peer_timeout`.

    Example:
    ```python
    est = tfgans.GANEstimator(
        generator_fn=lambda: MyGenerator(), discriminator_fn=lambda: MyDiscriminator(),
        latent_dim=64, loss="wasserstein", model_dir="runs/mine", ema_decay=0.999)
    est.train(lambda: pipelines.data.build_dataset("fashion_mnist", 64), max_steps=2000)
    images = est.predict(num_samples=16, seed=0)      # [16, 28, 28, 1] in [-1, 1]
    ```

    Reference: TF-GAN's estimator, https://github.com/tensorflow/gan
    """

    def __init__(
        self,
        generator_fn,
        discriminator_fn,
        latent_dim=128,
        loss="wasserstein",
        model_dir=None,
        strategy=None,
        num_classes=None,
        *,
        generator_optimizer_fn=None,
        discriminator_optimizer_fn=None,
        generator_lr=1e-4,
        discriminator_lr=1e-4,
        beta_1=0.0,
        beta_2=0.9,
        gradient_penalty=None,
        n_critic=None,
        label_smoothing=0.0,
        ema_decay=None,
        seed=0,
        checkpoint_every=1000,
        keep_checkpoints=3,
        sample_every=500,
        log_every=100,
        num_sample_images=64,
        jit_compile="auto",
        steps_per_execution=1,
        mixed_precision=None,
        config=None,
        compile_kwargs=None,
        verbose="auto",
        peer_timeout=600.0,
        first_step_timeout=1800.0,
    ):
        for name, fn in [("generator_fn", generator_fn), ("discriminator_fn", discriminator_fn)]:
            if not callable(fn):
                raise ValueError(
                    f"`{name}` must be a function returning a Keras model. Received: {fn!r}"
                )
        self.checkpoint_every = _positive_int("checkpoint_every", checkpoint_every)
        self.keep_checkpoints = _positive_int("keep_checkpoints", keep_checkpoints)
        self.sample_every = _positive_int("sample_every", sample_every)
        self.log_every = _positive_int("log_every", log_every)
        self.num_sample_images = _positive_int("num_sample_images", num_sample_images)
        self.steps_per_execution = _positive_int("steps_per_execution", steps_per_execution)
        if self.checkpoint_every % self.steps_per_execution:
            raise ValueError(
                f"`checkpoint_every` ({checkpoint_every}) must be a multiple of "
                f"`steps_per_execution` ({steps_per_execution})."
            )
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"`jit_compile` must be True, False or 'auto'. Received: {jit_compile!r}")
        self.model_dir = model_dir or tempfile.mkdtemp(prefix="tfgans-")
        self.strategy = strategy or tf.distribute.get_strategy()
        if _is_mirrored(self.strategy):
            if jit_compile is True:
                raise ValueError(
                    "`jit_compile=True` does not work under MirroredStrategy (Keras 3.15 fails "
                    "to compile the distributed step): use jit_compile='auto' or False."
                )
            if self.steps_per_execution > 1:
                raise ValueError(
                    "`steps_per_execution` > 1 does not work under MirroredStrategy (Keras "
                    f"3.15 fails). Received: steps_per_execution={steps_per_execution}; use 1."
                )
        if jit_compile == "auto":
            jit_compile = self.strategy.num_replicas_in_sync == 1 and not (
                _is_mirrored(self.strategy) or _is_tpu(self.strategy)
            )
        self.jit_compile = bool(jit_compile)
        self.mixed_precision = mixed_precision
        self.config = config
        self.verbose = verbose
        for name, value in [("peer_timeout", peer_timeout), ("first_step_timeout", first_step_timeout)]:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"`{name}` must be a positive number of seconds. Received: {value!r}")
        self.peer_timeout = float(peer_timeout)
        self.first_step_timeout = float(first_step_timeout)
        # Only the chief writes into model_dir; other workers of a multi-worker run save
        # their (identical) checkpoints into a temporary directory of their own.
        self.is_chief = multi_worker.is_chief(self.strategy)
        self._write_dir = multi_worker.worker_dir(self.model_dir, self.strategy)

        with _DtypePolicy(mixed_precision), self.strategy.scope():
            generator = generator_fn()
            discriminator = discriminator_fn()
            self.gan = GAN(
                generator, discriminator, latent_dim=latent_dim, num_classes=num_classes,
                ema_decay=ema_decay, seed=seed,
            )

            def optimizer(fn, lr):
                return fn() if fn is not None else keras.optimizers.Adam(
                    lr, beta_1=beta_1, beta_2=beta_2
                )

            self.gan.compile(
                generator_optimizer=optimizer(generator_optimizer_fn, generator_lr),
                discriminator_optimizer=optimizer(discriminator_optimizer_fn, discriminator_lr),
                loss=loss,
                gradient_penalty=gradient_penalty,
                n_critic=n_critic,
                label_smoothing=label_smoothing,
                jit_compile=self.jit_compile,
                steps_per_execution=self.steps_per_execution,
                **(compile_kwargs or {}),
            )
        self.settings = self._settings()
        stored = read_settings(self.model_dir)
        if stored is not None:
            diffs = _differences(stored, self.settings)
            if diffs:
                raise RunMismatchError(
                    f"model_dir {self.model_dir} holds a run with different settings "
                    f"({'; '.join(diffs)}): resume it with its settings, or use another model_dir."
                )

        # The input position lives outside the strategy scope: a plain host variable.
        with tf.init_scope():
            self._input_position = tf.Variable(0, dtype=tf.int64, trainable=False)
        gan = self.gan
        objects = dict(
            generator=list(gan.generator.weights),
            discriminator=list(gan.discriminator.weights),
            generator_optimizer=list(gan.generator_optimizer.variables),
            discriminator_optimizer=list(gan.discriminator_optimizer.variables),
            input_position=self._input_position,
        )
        if gan.ema_generator is not None:
            objects["ema_generator"] = list(gan.ema_generator.weights)
        # Variables are listed, not the models: tf.train.Checkpoint does not see Keras 3
        # layers kept in Python lists, so a model object would be saved incompletely.
        self._checkpoint = tf.train.Checkpoint(**objects)
        self._checkpoint_dir = os.path.join(self.model_dir, CHECKPOINT_DIR)
        self._manager = tf.train.CheckpointManager(
            self._checkpoint,
            os.path.join(self._write_dir, CHECKPOINT_DIR),
            max_to_keep=self.keep_checkpoints,
            checkpoint_name="ckpt",
        )
        self._restore()

    # ------------------------------------------------------------------------ state

    def _settings(self):
        """The settings that define the run: what must match to resume it."""
        gan = self.gan

        def optimizer(opt):
            config = dict(keras.optimizers.serialize(opt))
            config["config"] = {k: v for k, v in config["config"].items() if k != "name"}
            return config

        def network(model):
            return {
                "class": type(model).__name__,
                "weights": [list(map(int, v.shape)) for v in model.weights],
            }

        noise = tf.zeros([1, gan.latent_dim])
        inputs = [noise, tf.zeros([1], tf.int32)] if gan.num_classes is not None else noise
        image_shape = gan.generator(inputs, training=False).shape[1:]
        settings = {
            "format": _FORMAT,
            "latent_dim": gan.latent_dim,
            "num_classes": gan.num_classes,
            "image_shape": [int(s) for s in image_shape],
            "loss": gan.gan_loss.name,
            "penalty": {
                "type": gan.penalty.type,
                "weight": gan.penalty.weight,
                "target": gan.penalty.target,
                "one_sided": gan.penalty.one_sided,
                "weight_clip": gan.penalty.weight_clip,
            },
            "n_critic": gan.n_critic,
            "label_smoothing": gan.label_smoothing,
            "ema_decay": gan.ema_decay,
            "seed": gan.seed,
            "mixed_precision": self.mixed_precision,
            "generator": network(gan.generator),
            "discriminator": network(gan.discriminator),
            "generator_optimizer": optimizer(gan.generator_optimizer),
            "discriminator_optimizer": optimizer(gan.discriminator_optimizer),
        }
        return json.loads(json.dumps(settings, default=str))

    def _restore(self):
        path = self.latest_checkpoint()
        if path is None:
            return
        try:
            self._checkpoint.restore(path).assert_consumed()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            message = " ".join(str(e).split())[:300]
            raise RunMismatchError(
                f"Checkpoint {path} does not match this estimator's models ({message}): "
                "use the settings it was trained with, or another model_dir."
            ) from None

    @property
    def step(self):
        """The training step reached (generator updates)."""
        return int(self.gan.step.numpy())

    @property
    def input_position(self):
        """Batches of the training input consumed so far."""
        return int(self._input_position.numpy())

    def latest_checkpoint(self):
        """The path of the latest checkpoint in model_dir, or None."""
        return tf.train.latest_checkpoint(self._checkpoint_dir)

    def save_checkpoint(self):
        """Saves a checkpoint at the current step (unless one exists) and returns its path."""
        step = self.step
        latest = self._manager.latest_checkpoint
        if latest is not None and latest.endswith(f"ckpt-{step}"):
            return latest
        dog = getattr(self, "_watchdog", None)  # multi-worker: a save may wait for peers
        with dog.guard() if dog is not None else contextlib.nullcontext():
            return self._manager.save(checkpoint_number=step)

    def _save_progress(self, position0, start, interrupted=False):
        """Records the input position (`position0` plus the steps trained since `start`)
        and saves a checkpoint; returns its path."""
        self._input_position.assign(position0 + self.step - start)
        path = self.save_checkpoint()
        if interrupted:
            self._log(f"\nInterrupted at step {self.step}; saved {path}.")
        return path

    def _require_checkpoint(self, what):
        if self.latest_checkpoint() is None and self.step == 0:
            raise NoCheckpointError(
                f"Cannot {what}: model_dir {self.model_dir} holds no checkpoint. Train first "
                "(estimator.train), or point model_dir at a trained run."
            )

    # ------------------------------------------------------------------------ input

    def _dataset(self, input_fn_or_dataset):
        source = input_fn_or_dataset
        dataset = source() if callable(source) and not isinstance(source, tf.data.Dataset) else source
        if not isinstance(dataset, tf.data.Dataset):
            raise ValueError(
                "The input must be a tf.data.Dataset of batches, or a function returning one. "
                f"Received: {type(dataset).__name__}"
            )
        spec = dataset.element_spec
        if isinstance(spec, dict):
            images, labels = spec.get("images"), spec.get("labels")
        elif isinstance(spec, (tuple, list)):
            images, labels = spec[0], (spec[1] if len(spec) > 1 else None)
        else:
            images, labels = spec, None
        if not isinstance(images, tf.TensorSpec) or images.shape.rank != 4:
            raise ValueError(
                "The input must yield image batches [batch, height, width, channels] (or "
                f"(images, labels)). Received element_spec: {spec}"
            )
        if self.gan.num_classes is not None and labels is None:
            raise ValueError(
                f"This GAN is conditional (num_classes={self.gan.num_classes}), but the input "
                "yields images without labels: yield (images, labels) batches."
            )
        batch = images.shape[0]
        replicas = self.strategy.num_replicas_in_sync
        if batch is not None and batch % replicas:
            raise ValueError(
                f"The global batch size {batch} is not divisible by the {replicas} replicas "
                f"of the strategy: use a multiple of {replicas}."
            )
        return dataset

    def _train_dataset(self, input_fn_or_dataset):
        dataset = self._dataset(input_fn_or_dataset)
        cardinality = int(dataset.cardinality())
        if cardinality == 0:
            raise ValueError("The training input yields no batches.")
        if cardinality != tf.data.INFINITE_CARDINALITY:
            dataset = dataset.repeat()
        position = self.input_position
        if position:
            dataset = dataset.skip(position)
        return dataset

    # ------------------------------------------------------------------------ train

    def _log(self, message):
        if self.verbose != 0:
            print(message, flush=True)

    def train(self, input_fn_or_dataset, max_steps=None, *, steps=None, callbacks=None):
        """Trains until step `max_steps` (or for `steps` more), resuming from model_dir.

        Args:
            input_fn_or_dataset: a `tf.data.Dataset` of batches (`images` or
                `(images, labels)`, the global batch size, `drop_remainder=True`), or a
                function with no arguments returning one. A finite dataset is repeated.
                On resume it is rebuilt and the batches already consumed are skipped, so it
                must give the same batches every time (seeded shuffles).
            max_steps: the step to train to; nothing happens if the run is already there.
            steps: train this many more steps instead.
            callbacks: more Keras callbacks.

        Returns:
            self.
        """
        if (max_steps is None) == (steps is None):
            raise ValueError(
                f"Pass exactly one of `max_steps` and `steps`. Received: max_steps={max_steps}, "
                f"steps={steps}"
            )
        start = self.step
        if steps is not None:
            max_steps = start + _positive_int("steps", steps)
        max_steps = _positive_int("max_steps", max_steps)
        if max_steps % self.steps_per_execution:
            raise ValueError(
                f"`max_steps` ({max_steps}) must be a multiple of `steps_per_execution` "
                f"({self.steps_per_execution})."
            )
        if start >= max_steps:
            self._log(f"{self.model_dir}: already at step {start} (max_steps={max_steps}).")
            return self
        dataset = self._train_dataset(input_fn_or_dataset)
        self._write_settings()
        if start:
            self._log(
                f"Resuming {self.model_dir} at step {start}: skipping the "
                f"{self.input_position} input batches already consumed."
            )
        chunk = min(self.checkpoint_every, max_steps)
        position0 = self.input_position
        logs_dir = os.path.join(self.model_dir, "logs")
        run_callbacks = [_StopAtStep(max_steps), _Checkpointer(self, start, position0)]
        if self.is_chief:
            run_callbacks += [
                callbacks_lib.GANTensorBoard(
                    os.path.join(logs_dir, "train"), update_freq=self.log_every,
                    config=self.config if self.config is not None else self.settings,
                ),
                callbacks_lib.SampleGrid(
                    every=self.sample_every,
                    log_dir=os.path.join(logs_dir, "samples"),
                    samples_dir=os.path.join(self.model_dir, "samples"),
                    num_images=self.num_sample_images,
                ),
            ]
        run_callbacks += list(callbacks or [])
        if multi_worker.uses_train_loop(self.strategy):
            return self._train_multi_worker(dataset, start, max_steps, chunk, run_callbacks)
        try:
            self.gan.fit(
                dataset,
                epochs=math.ceil(max_steps / chunk),
                initial_epoch=start // chunk,
                steps_per_epoch=chunk,
                callbacks=run_callbacks,
                verbose=self.verbose,
                shuffle=False,
            )
        except KeyboardInterrupt:
            self._save_progress(position0, start, interrupted=True)
            raise
        self._save_progress(position0, start)
        return self

    def _train_multi_worker(self, dataset, start, max_steps, chunk, callbacks):
        """`train` under (MultiWorker)MirroredStrategy: `multi_worker.train_loop` instead of
        `fit` (see `multi_worker.uses_train_loop`), guarded on several workers by a
        watchdog that ends the process when a peer fails."""
        position0 = self.input_position
        callbacks = callbacks + [_StopOnNonFinite()]
        name = multi_worker.worker_name(self.strategy) or "this worker"

        def message(reason):
            latest = self.latest_checkpoint()
            resume = (f"the last checkpoint, {os.path.basename(latest)}" if latest
                      else "step 0 (no checkpoint yet)")
            return (
                f"tfgans: error: multi-worker training stopped on {name} at step "
                f"{self.step}: {reason}. Restart all workers with the same command to resume "
                f"from {resume} in {self.model_dir}."
            )

        if multi_worker.is_multi_worker(self.strategy):
            watchdog = multi_worker.Watchdog(self.peer_timeout, self.first_step_timeout, message)
        else:
            watchdog = multi_worker.NoWatchdog()
        with watchdog as dog:
            self._watchdog = dog
            try:
                with dog.guard(first=True):
                    self._check_same_step()
                try:
                    multi_worker.train_loop(
                        self.gan, self.strategy, dataset, start, max_steps, chunk, callbacks,
                        dog, verbose=self.verbose if self.is_chief else 0,
                    )
                except KeyboardInterrupt:
                    if not multi_worker.is_multi_worker(self.strategy):  # saves need peers
                        self._save_progress(position0, start, interrupted=True)
                    raise
                self._save_progress(position0, start)
                with dog.guard():
                    checksum = self._check_in_sync()
            finally:
                self._watchdog = None
        self._log(
            f"{name}: step {self.step}, weights identical on all "
            f"{self.strategy.num_replicas_in_sync} replicas (checksum {checksum:.10g})."
        )
        return self

    def _gather(self, values):
        """Gathers a float64 vector from every replica of every worker: [replicas, n]."""
        local = tf.constant([values], tf.float64)
        per_replica = self.strategy.experimental_distribute_values_from_function(lambda _: local)
        return self.strategy.gather(per_replica, axis=0).numpy()

    def _check_same_step(self):
        """All workers must resume from the same checkpoint (model_dir on shared storage)."""
        steps = self._gather([self.step])[:, 0]
        if steps.min() != steps.max():
            raise RunMismatchError(
                f"The workers restored different steps ({sorted(set(steps.astype(int)))}) "
                f"from {self._checkpoint_dir}: every worker must see the chief's model_dir "
                "(use shared storage, e.g. a gs:// bucket or NFS)."
            )

    def _check_in_sync(self):
        """Checks that every worker ends with the same weights; returns their checksum."""
        gan = self.gan
        weights = gan.generator.weights + gan.discriminator.weights
        if gan.ema_generator is not None:
            weights += gan.ema_generator.weights
        sums = [float(np.sum(np.asarray(v, np.float64))) for v in weights]
        gathered = self._gather(sums)
        if not (gathered == gathered[0]).all():
            raise multi_worker.PeerFailureError(
                f"The workers' weights differ at step {self.step}: the replicas went out of "
                "sync. Report this as a bug, with the config."
            )
        return float(np.sum(np.abs(sums)))

    def _write_settings(self):
        if self.is_chief and read_settings(self.model_dir) is None:
            _write_json(os.path.join(self.model_dir, SETTINGS_FILE), self.settings)

    # ------------------------------------------------------------------ use the model

    def evaluate(self, input_fn_or_dataset, steps=None, *, num_samples=10_000, seed=0,
                 extractor="fashion_mnist", kid_subset_size=1000, per_class=False,
                 progress=False):
        """Evaluates the generator: FID, KID, Inception Score, precision/recall (and, for a
        conditional GAN, intra-class FID and class accuracy), plus the losses.

        The real side is the first `num_samples` images of the input (with their labels
        when conditional); the generated side is `predict(num_samples, seed)` (the EMA
        generator when EMA is on; a conditional GAN's classes in turn). Both go through the
        feature extractor batch by batch (see `tfgans.metrics.Evaluator`). The losses and
        D(real) / D(fake) are computed on the batches the real side read (or on `steps`
        batches).

        Args:
            input_fn_or_dataset: as in `train`; it may be infinite (only the batches
                needed are read), but with `extractor=None` and no `steps` it must end.
            steps: at most this many batches of the input (None: as many as needed).
            num_samples: images on each side; at least `kid_subset_size`.
            seed: noise seed of the generated images (and of KID's subsets).
            extractor: a `tfgans.metrics.FeatureExtractor`, a registered name
                ("fashion_mnist": 28x28x1 images; "inception"), or None for the losses only.
            kid_subset_size: KID's subset size.
            per_class: add `intra_fid/<c>` and `class_accuracy/<c>` (conditional GANs).
            progress: show Keras progress bars while features are extracted.

        Returns:
            {"fid", "kid", "kid_std", "inception_score", "inception_score_std",
            "precision", "recall", "num_real", "num_fake", ["intra_fid",
            "class_accuracy"], "d_loss", "g_loss", "d_real", "d_fake", "step"}; with
            `extractor=None` only the losses and "step".

        Raises:
            ValueError: images the extractor cannot take, `num_samples <
                kid_subset_size`, or an input with fewer than `num_samples` images.
        """
        self._require_checkpoint("evaluate")
        dataset = self._dataset(input_fn_or_dataset)
        if steps is not None:
            dataset = dataset.take(_positive_int("steps", steps))
        metrics = {}
        if extractor is not None:
            from tfgans.metrics import Evaluator

            num_samples = _positive_int("num_samples", num_samples)
            if num_samples < kid_subset_size:
                raise ValueError(
                    f"num_samples={num_samples} is too few for KID's subset size "
                    f"{kid_subset_size}: evaluate at least {kid_subset_size} samples."
                )
            evaluator = Evaluator(extractor, max_kept=num_samples,
                                  kid_subset_size=kid_subset_size, seed=seed)
            # Check the image shape before any work: one line naming what the extractor takes.
            shape = self.settings["image_shape"]
            evaluator.extractor.check_images(np.zeros([1, *shape], np.float32))
            evaluator.update_real_from(dataset, num_samples, batch_size=500, progress=progress)
            metrics = callbacks_lib.evaluate_generator(
                self.gan, evaluator, num_samples, seed, progress=progress, per_class=per_class
            )
            if steps is None:
                batch = dataset.element_spec
                batch = (batch[0] if isinstance(batch, (tuple, list)) else batch).shape[0]
                dataset = dataset.take(math.ceil(num_samples / batch) if batch else 1)
        losses = self.gan.evaluate(dataset, return_dict=True, verbose=0)
        return {**metrics, **{k: float(v) for k, v in losses.items()}, "step": self.step}

    def predict(self, num_samples=64, seed=0, labels=None):
        """Generates images in [-1, 1] (float32 NumPy [N, H, W, C]) with the EMA generator
        when EMA is on. The same seed gives the same images (see `GAN.generate`)."""
        self._require_checkpoint("predict")
        return self.gan.generate(num_samples=num_samples, seed=seed, labels=labels)

    def export_saved_model(self, export_dir, version=None, overwrite=False):
        """Exports the (EMA) generator for TF Serving as `export_dir/<version>/` and returns
        that directory (see `tfgans.export.export_generator`)."""
        self._require_checkpoint("export")
        from tfgans import export

        return export.export_generator(self.gan, export_dir, version=version, overwrite=overwrite)


class _StopAtStep(keras.callbacks.Callback):
    """Stops `fit` exactly at a global step (epochs are only progress-bar chunks)."""

    def __init__(self, max_steps):
        super().__init__()
        self.max_steps = max_steps

    def on_train_batch_end(self, batch, logs=None):
        if callbacks_lib.global_step(self.model) >= self.max_steps:
            self.model.stop_training = True


class _Checkpointer(keras.callbacks.Callback):
    """Saves a checkpoint (with the input position) every `checkpoint_every` steps."""

    def __init__(self, estimator, start_step, start_position):
        super().__init__()
        self.estimator = estimator
        self.start_step = start_step
        self.start_position = start_position
        self._last = start_step

    def on_train_batch_end(self, batch, logs=None):
        step = callbacks_lib.global_step(self.model)
        if callbacks_lib._crossed(self._last, step, self.estimator.checkpoint_every):
            self.estimator._save_progress(self.start_position, self.start_step)
        self._last = step
