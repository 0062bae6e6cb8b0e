"""`Estimator`: train / evaluate / predict / export any tfgans trainer over one model
directory, resumably; `GANEstimator`, the TF-GAN-style shortcut for the noise -> image GAN.

A model directory holds:

- `config.yaml`: the run's fingerprint, with effective values: the resolved config of a
  `tfgans train` run, or the trainer's `settings()` for a run made from Python. Opening the
  directory with a different one is an error, not a silent mix (some keys, such as how
  long and where a run trains, may change: `resumable_keys`).
- `checkpoints/`: `tf.train.CheckpointManager` checkpoints (the last `keep_checkpoints`),
  written every `checkpoint_every` steps, at the end of `train` and on Ctrl-C.
- `logs/train`, `logs/samples`, `logs/eval`: TensorBoard event files; `samples/`: PNG
  grids; `eval.json`: the metric history (`tfgans.callbacks.PeriodicEvaluation`, evaluate).

Exact resume. A checkpoint holds what the trainer lists in `checkpoint_items()` (every
weight of its networks and EMA copies, every optimizer variable, the step counter among
them, the random-number state of layers such as Dropout, the family's own state) and the
input position (batches consumed). Training noise is a pure function of (seed, step), so
it needs no saved state. On resume the input is rebuilt and the consumed batches skipped,
so training N steps, stopping and resuming to 2N gives the weights of 2N steps in one go,
provided the input is deterministic (`tfgans` pipelines are: seeded shuffles,
`deterministic=True`).

The estimator speaks only the trainer contract (`tfgans.training.Trainer`): it reads no
private attribute of a trainer.
"""

import contextlib
import errno
import glob
import inspect
import math
import os
import re
import shutil
import signal
import tempfile
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from tfgans import callbacks as callbacks_lib
from tfgans import files, multi_worker
from tfgans.files import atomic_write
from tfgans.training import GAN, StopOnNonFinite, Trainer, check_execution, is_multi_device
from tfgans.training.trainer import adapt_callbacks, first_batch

CONFIG_FILE = "config.yaml"
CHECKPOINT_DIR = "checkpoints"


class RunMismatchError(ValueError):
    """The model_dir holds a run whose fingerprint differs from the estimator's."""


class NoCheckpointError(ValueError):
    """The model_dir holds no checkpoint (nothing was trained there yet)."""


class CorruptCheckpointError(ValueError):
    """The model_dir holds checkpoints, but none of them can be read."""


class Terminated(KeyboardInterrupt):
    """Training stopped because the process received SIGTERM (a preemption, `kill`,
    Kubernetes, systemd, Slurm). Like Ctrl-C, it is raised after the progress was saved:
    `saved` is the checkpoint written (None when none could be). Multi-worker, every
    worker stops at the same step and saves when any of them receives SIGTERM; `peer` is
    True on those that did not receive it themselves."""

    saved = None
    peer = False


# ------------------------------------------------------------------------ checkpoints

_CHECKPOINT_FILE = re.compile(r"^ckpt-(\d+)\.(index|data-\d+-of-(\d+))$")
_STATE_PATH = re.compile(r'^\s*(?:all_)?model_checkpoint_paths?:\s*"(.*)"\s*$', re.M)


def checkpoint_candidates(directory):
    """The prefixes of every checkpoint `directory` knows of, newest (highest step)
    first: those with any file there (`ckpt-<step>.index`, `ckpt-<step>.data-*`) and those
    its `checkpoint` state file names (read leniently: a damaged state file adds none)."""
    steps = set()
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        match = _CHECKPOINT_FILE.match(name)
        if match:
            steps.add(int(match.group(1)))
    try:
        with open(os.path.join(directory, "checkpoint"), encoding="utf-8") as f:
            state = f.read(1 << 20)
    except (OSError, UnicodeDecodeError):
        state = ""
    for path in _STATE_PATH.findall(state):
        match = re.match(r"^ckpt-(\d+)$", os.path.basename(path))
        if match:
            steps.add(int(match.group(1)))
    return [os.path.join(directory, f"ckpt-{step}") for step in sorted(steps, reverse=True)]


def missing_files(prefix):
    """Why the checkpoint at `prefix` is incomplete ("ckpt-20.index is missing"), or None
    when its index and every data shard are there."""
    name = os.path.basename(prefix)
    shards = glob.glob(glob.escape(prefix) + ".data-*-of-*")
    if not os.path.exists(prefix + ".index"):
        return f"{name}.index is missing" if shards else "its files are missing"
    if not shards:
        return f"{name}.data-* is missing"
    count = int(shards[0].rsplit("-of-", 1)[1])
    for i in range(count):
        shard = f"{prefix}.data-{i:05d}-of-{count:05d}"
        if not os.path.exists(shard):
            return f"{os.path.basename(shard)} is missing"
    return None


def unreadable(prefix):
    """Why the checkpoint at `prefix` cannot be read (every tensor is read, so truncated
    files and checksum errors show), or None when it reads whole."""
    name = os.path.basename(prefix)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError, IndexError) as e:
        return f"{name}.index is corrupt ({_short(e)})"
    try:
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)
    except IndexError:
        return f"{_data_name(prefix)} is truncated"
    except (tf.errors.OpError, ValueError) as e:
        return f"{_data_name(prefix)} is corrupt ({_short(e)})"
    return None


def _data_name(prefix):
    shards = sorted(glob.glob(glob.escape(prefix) + ".data-*-of-*"))
    return os.path.basename(shards[0]) if len(shards) == 1 else f"{os.path.basename(prefix)}.data-*"


def _short(error, limit=160):
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", " ".join(str(error).split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def _quiet_tf_logging():
    """Keeps TensorFlow's Python warnings (a damaged `checkpoint` state file) off stderr:
    tfgans reports such problems itself, in one line."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _stop_on_sigterm(stopper):
    """While training, SIGTERM asks `stopper` (a `_SigtermStop`) to stop at the next step
    boundary instead of killing the process; the previous handler comes back after. Only
    the main thread can set signal handlers: elsewhere SIGTERM keeps its handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, stopper.request)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def read_fingerprint(model_dir):
    """Returns the run fingerprint stored in `model_dir/config.yaml`, or None if there is
    none."""
    import yaml

    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, ValueError, yaml.YAMLError) as e:
        message = " ".join(str(e).split())[:200]
        raise RunMismatchError(f"Cannot read {path} ({message}): restore or remove it.") from None
    if not isinstance(data, dict):
        raise RunMismatchError(f"{path} does not hold a mapping: restore or remove it.")
    return data


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


def _plain(value):
    """A JSON-like copy of `value` (tuples as lists, numpy scalars as Python)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _is_unbatched(spec):
    """True when a dataset yields single images ([H, W, C]) rather than batches."""
    images = tf.nest.flatten(spec)[0] if not isinstance(spec, dict) else spec.get("images")
    return isinstance(images, tf.TensorSpec) and images.shape.rank == 3


class _DtypePolicy:
    """Sets the global Keras dtype policy while models and optimizers are built."""

    def __init__(self, name):
        self.name = None if name in (None, "float32") else name

    def __enter__(self):
        self.previous = keras.config.dtype_policy()
        if self.name is not None:
            keras.config.set_dtype_policy(self.name)

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self.previous)


class Estimator:
    """Trains, evaluates, samples and exports any tfgans trainer in one model directory.

    `trainer_fn` builds the trainer (networks, optimizers, settings) inside
    `strategy.scope()`; everything else lives in `model_dir`. Creating an estimator on a
    directory that holds a run restores its latest checkpoint; `train` continues from it.

    Args:
        trainer_fn: a function with no arguments returning a `tfgans.training.Trainer`,
            compiled (with its optimizers) or not (then `compile()` gives the defaults).
            Called inside `strategy.scope()`, with the dtype policy set.
        model_dir: the run directory; None: a new temporary directory.
        strategy: a `tf.distribute.Strategy`; None: the current (default) one.
        config: the run's fingerprint (a dict of effective values, e.g. the resolved
            config), written to `config.yaml` and shown in TensorBoard; None: the trainer's
            `settings()`.
        resumable_keys: dotted keys of `config` that may differ when the run resumes (how
            long and where it trains, not what it learns).
        checkpoint_every: save a checkpoint every this many steps (and at the end).
        keep_checkpoints: how many checkpoints to keep.
        sample_every: write a sample grid every this many steps.
        log_every: write TensorBoard scalars every this many steps.
        num_sample_images: images in the sample grids.
        jit_compile: True, False or "auto" (XLA on one device; off under MirroredStrategy,
            see `tfgans.training.check_execution`).
        steps_per_execution: training steps per `tf.function` call (one device only).
        mixed_precision: None (or "float32"), "mixed_float16" or "mixed_bfloat16".
        verbose: Keras' progress bar setting ("auto", 0, 1, 2).
        peer_timeout: under MultiWorkerMirroredStrategy, the seconds a training step (or
            a save) may wait for the other workers before this worker decides a peer died
            and exits (status `multi_worker.EXIT_PEER_FAILURE`, see `tfgans.multi_worker`).
            It must exceed the chief's longest pause (evaluation). The first step gets
            `first_step_timeout` (start-up, tracing, compiling).
        first_step_timeout: see `peer_timeout`.
        health: False, True or a dict of `tfgans.callbacks.TrainingHealth` arguments: watch
            training for the failures GANs are known for (one-line warnings, `health/*`
            scalars in `logs/health`, `health.json`), judged against the first batch of
            the training input. `tfgans train` turns it on (`train.health`).

    Example:
    ```python
    def trainer_fn():
        gan = tfgans.GAN(MyGenerator(), MyDiscriminator(), latent_dim=64, ema_decay=0.999)
        gan.compile(loss="hinge")
        return gan

    est = tfgans.Estimator(trainer_fn, model_dir="runs/mine")
    est.train(lambda: pipelines.data.build_dataset("fashion_mnist", 64), max_steps=2000)
    ```
    """

    def __init__(self, trainer_fn, model_dir=None, strategy=None, *, config=None,
                 resumable_keys=(), checkpoint_every=1000, keep_checkpoints=3,
                 sample_every=500, log_every=100, num_sample_images=64, jit_compile="auto",
                 steps_per_execution=1, mixed_precision=None, verbose="auto",
                 peer_timeout=600.0, first_step_timeout=1800.0, health=False):
        if not callable(trainer_fn):
            raise ValueError(
                f"`trainer_fn` must be a function returning a trainer. Received: {trainer_fn!r}"
            )
        self.checkpoint_every = _positive_int("checkpoint_every", checkpoint_every)
        self.keep_checkpoints = _positive_int("keep_checkpoints", keep_checkpoints)
        self.sample_every = _positive_int("sample_every", sample_every)
        self.log_every = _positive_int("log_every", log_every)
        if not isinstance(health, (bool, dict)):
            raise ValueError(f"`health` must be True, False or a dict of TrainingHealth "
                             f"arguments. Received: {health!r}")
        self.health = health
        self.stopped_by_time = False  # set by `train(max_seconds=...)`
        self._health_reference = None
        self.num_sample_images = _positive_int("num_sample_images", num_sample_images)
        self.steps_per_execution = _positive_int("steps_per_execution", steps_per_execution)
        if self.checkpoint_every % self.steps_per_execution:
            raise ValueError(
                f"`checkpoint_every` ({checkpoint_every}) must be a multiple of "
                f"`steps_per_execution` ({steps_per_execution})."
            )
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"`jit_compile` must be True, False or 'auto'. Received: {jit_compile!r}")
        for name, value in [("peer_timeout", peer_timeout), ("first_step_timeout", first_step_timeout)]:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"`{name}` must be a positive number of seconds. Received: {value!r}")
        self.model_dir = model_dir or tempfile.mkdtemp(prefix="tfgans-")
        self.strategy = strategy or tf.distribute.get_strategy()
        check_execution(jit_compile, self.steps_per_execution, is_multi_device(self.strategy))
        self.mixed_precision = mixed_precision
        self.verbose = verbose
        self.peer_timeout = float(peer_timeout)
        self.first_step_timeout = float(first_step_timeout)
        self.resumable_keys = frozenset(resumable_keys)
        # Only the chief writes into model_dir; other workers of a multi-worker run save
        # their (identical) checkpoints into a temporary directory of their own.
        self.is_chief = multi_worker.is_chief(self.strategy)
        self._write_dir = multi_worker.worker_dir(self.model_dir, self.strategy)
        if config is not None:  # a config is checked before anything is built
            self.config = _plain(config)
            self._check_fingerprint()

        with _DtypePolicy(mixed_precision), self.strategy.scope():
            trainer = trainer_fn()
            if not isinstance(trainer, Trainer):
                raise ValueError(
                    "`trainer_fn` must return a tfgans.training.Trainer (e.g. tfgans.GAN). "
                    f"Received: {type(trainer).__name__}"
                )
            if not trainer.compiled:
                trainer.compile()
            trainer.set_execution(jit_compile, self.steps_per_execution)
        self.trainer = trainer
        self.jit_compile = trainer.jit_compile
        if config is None:
            self.config = _plain({**trainer.settings(), "mixed_precision": mixed_precision})
            self._check_fingerprint()

        # The input position lives outside the strategy scope: a plain host variable.
        with tf.init_scope():
            self._input_position = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._checkpoint = tf.train.Checkpoint(
            **trainer.checkpoint_items(), input_position=self._input_position
        )
        self._checkpoint_dir = os.path.join(self.model_dir, CHECKPOINT_DIR)
        self._saved = None  # (step, path) of the checkpoint restored or last written
        self._manager = self._make_manager()
        self._restore()

    # ------------------------------------------------------------------------ state

    def _check_fingerprint(self):
        stored = read_fingerprint(self.model_dir)
        if stored is None:
            return
        diffs = [
            d for d in _differences(stored, self.config)
            if d.split(":")[0] not in self.resumable_keys
        ]
        if diffs:
            may = (f" (only {', '.join(sorted(self.resumable_keys))} may change)"
                   if self.resumable_keys else "")
            raise RunMismatchError(
                f"model_dir {self.model_dir} holds a run with a different config "
                f"({'; '.join(diffs)}): resume it with the same config{may}, or use another "
                "model_dir."
            )

    def _write_fingerprint(self):
        """Writes config.yaml (chief only), atomically: once for a new run, and again when a
        resumable key changed."""
        import yaml

        if self.is_chief and read_fingerprint(self.model_dir) != self.config:
            text = yaml.safe_dump(self.config, sort_keys=False, default_flow_style=False)
            atomic_write(os.path.join(self.model_dir, CONFIG_FILE), text)

    def _make_manager(self):
        with _quiet_tf_logging():
            return tf.train.CheckpointManager(
                self._checkpoint,
                os.path.join(self._write_dir, CHECKPOINT_DIR),
                max_to_keep=self.keep_checkpoints,
                checkpoint_name="ckpt",
            )

    def _restore(self):
        """Restores the newest checkpoint that reads whole. Newer ones that do not (a lost
        or truncated file, a checksum error) are skipped with a warning naming them, and
        left in place; if there are checkpoints but none reads, that is an error naming
        them. A checkpoint that reads but does not fit the trainer is a `RunMismatchError`
        (an older one of the same run would not fit either)."""
        skipped = []
        for prefix in checkpoint_candidates(self._checkpoint_dir):
            reason = missing_files(prefix) or self._try_restore(prefix)
            if reason is None:
                if skipped:
                    files.warn(
                        f"newer checkpoint{'s' if len(skipped) > 1 else ''} in "
                        f"{self._checkpoint_dir} unreadable ({'; '.join(skipped)}): using "
                        f"{os.path.basename(prefix)} (step {self.step}) instead; the "
                        "unreadable files are left as they are."
                    )
                self._saved = (self.step, prefix)
                return prefix
            skipped.append(reason)
        if skipped:
            raise CorruptCheckpointError(
                f"No checkpoint in {self._checkpoint_dir} can be read ({'; '.join(skipped)}): "
                "restore the files from a backup, or move the checkpoints folder away to "
                "train from step 0."
            )
        return None

    def _try_restore(self, prefix):
        """Restores `prefix`; returns None, or why it cannot be read."""
        try:
            with _quiet_tf_logging():
                self._checkpoint.restore(prefix).assert_consumed()
            return None
        except (AssertionError, ValueError, IndexError, tf.errors.OpError) as e:
            reason = unreadable(prefix)
            if reason is not None:
                return reason
            raise RunMismatchError(
                f"Checkpoint {prefix} does not match this estimator's models ({_short(e, 300)}): "
                "use the settings it was trained with, or another model_dir."
            ) from None

    @property
    def step(self):
        """The training step reached."""
        return int(self.trainer.step.numpy())

    @property
    def input_position(self):
        """Batches of the training input consumed so far."""
        return int(self._input_position.numpy())

    def latest_checkpoint(self):
        """The path of the checkpoint restored or last saved (the newest that reads), or
        None."""
        return None if self._saved is None else self._saved[1]

    def save_checkpoint(self):
        """Saves a checkpoint at the current step (unless this one was restored or saved
        already) and returns its path.

        Raises:
            files.WriteError: the checkpoint cannot be written (full or read-only disk),
                naming it; what was written of it is removed, older checkpoints are kept.
        """
        step = self.step
        if self._saved is not None and self._saved[0] == step:
            return self._saved[1]
        prefix = os.path.join(self._write_dir, CHECKPOINT_DIR, f"ckpt-{step}")
        dog = getattr(self, "_watchdog", None)  # multi-worker: a save may wait for peers
        try:
            files.fault_point("checkpoint", prefix)
            with dog.guard() if dog is not None else contextlib.nullcontext():
                path = self._manager.save(checkpoint_number=step)
        except (OSError, tf.errors.OpError) as e:
            _remove_checkpoint(prefix)
            if not isinstance(e, OSError):
                code = _TF_ERRNO.get(type(e))
                e = OSError(code, os.strerror(code) if code else _short(e))
            raise files.write_error(prefix, e, "save the checkpoint") from None
        self._saved = (step, path)
        return path

    def _save_progress(self, position0, start, interrupted=False):
        """Records the input position (`position0` plus the steps trained since `start`)
        and saves a checkpoint; returns its path."""
        self._input_position.assign(position0 + self.step - start)
        path = self.save_checkpoint()
        if interrupted:
            self._log(f"\nInterrupted at step {self.step}; saved {path}.")
        return path

    def _repair_checkpoint_state(self):
        """Rewrites a lost or damaged `checkpoint` state file (chief only) so that the
        checkpoint manager knows the checkpoints on disk and rotates them; without it
        they would be kept forever, never deleted."""
        restored = self.latest_checkpoint()
        if not self.is_chief or restored is None:
            return
        try:
            with open(os.path.join(self._checkpoint_dir, "checkpoint"), encoding="utf-8") as f:
                if _STATE_PATH.search(f.read(1 << 20)):
                    return
        except (OSError, UnicodeDecodeError):
            pass
        known = [p for p in checkpoint_candidates(self._checkpoint_dir) if not missing_files(p)]
        known = [p for p in known if int(p.rsplit("-", 1)[1]) <= self.step]
        files.warn(f"rebuilt the lost or damaged {self._checkpoint_dir}/checkpoint state file "
                   f"from the checkpoints there ({', '.join(os.path.basename(p) for p in known)}).")
        with _quiet_tf_logging():
            tf.compat.v1.train.update_checkpoint_state(
                self._checkpoint_dir, os.path.basename(restored),
                all_model_checkpoint_paths=[os.path.basename(p) for p in known[::-1]],
            )
        self._manager = self._make_manager()

    def _require_checkpoint(self, what):
        if self.latest_checkpoint() is None and self.step == 0:
            raise NoCheckpointError(
                f"Cannot {what}: model_dir {self.model_dir} holds no checkpoint. Train first "
                "(estimator.train), or point model_dir at a trained run."
            )

    # ------------------------------------------------------------------------ input

    def _dataset(self, input_fn_or_dataset, batch_size=None, shuffle=False):
        source = input_fn_or_dataset
        dataset = source() if callable(source) and not isinstance(source, tf.data.Dataset) else source
        leaves = tf.nest.flatten(dataset) if isinstance(dataset, (tuple, list, np.ndarray)) else []
        if leaves and all(isinstance(v, np.ndarray) for v in leaves):  # NumPy arrays
            count = len(leaves[0])
            dataset = tf.data.Dataset.from_tensor_slices(tuple(dataset) if isinstance(
                dataset, list) else dataset)
            if shuffle:
                dataset = dataset.shuffle(count, seed=self.trainer.seed,
                                          reshuffle_each_iteration=True)
        if not isinstance(dataset, tf.data.Dataset):
            raise ValueError(
                "The input must be a tf.data.Dataset, NumPy arrays (images or (images, "
                "labels)), or a function returning one of them. "
                f"Received: {type(dataset).__name__}"
            )
        if _is_unbatched(dataset.element_spec):
            if batch_size is None:
                raise ValueError(
                    "The input yields single examples (element_spec "
                    f"{dataset.element_spec}): pass batch_size=N to batch it, or batch it with "
                    "dataset.batch(N, drop_remainder=True)."
                )
            dataset = dataset.batch(_positive_int("batch_size", batch_size),
                                    drop_remainder=True)
        self.trainer.check_batch(dataset.element_spec)
        return dataset

    def _train_dataset(self, input_fn_or_dataset, batch_size=None):
        dataset = self._dataset(input_fn_or_dataset, batch_size, shuffle=True)
        # The first batch's values are checked on a separate instance of the input: reading
        # the training dataset itself would advance its reshuffle seeds, so a resumed run
        # (which reads it once more) would see other batches. A dataset object passed as is
        # has no separate instance; its values are checked by the trainer's step.
        if not isinstance(input_fn_or_dataset, tf.data.Dataset):
            check = self._dataset(input_fn_or_dataset, batch_size)
            self.trainer.check_data(check)
            if self.trainer.initializes_from_data() and self.step == 0:
                # a fresh run; the same batch on every worker
                batch = first_batch(check)
                if batch is not None:
                    self.trainer.initialize_from_data(batch)
            if self.health is not False:
                first = next(iter(check))
                first = first[0] if isinstance(first, (tuple, list)) else first
                self._health_reference = np.asarray(first)
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

    def train(self, input_fn_or_dataset, max_steps=None, *, steps=None, callbacks=None,
              batch_size=None, max_seconds=None):
        """Trains until step `max_steps` (or for `steps` more), resuming from model_dir.

        Args:
            input_fn_or_dataset: a `tf.data.Dataset` of batches (`images` or
                `(images, labels)`, the global batch size, `drop_remainder=True`), or a
                function with no arguments returning one; or NumPy arrays (`images`,
                `(images, labels)`) or an unbatched dataset, batched with `batch_size`
                (arrays are shuffled each epoch, seeded with the trainer's seed). A finite
                input is repeated. On resume it is rebuilt and the batches already consumed
                are skipped, so it must give the same batches every time (seeded shuffles).
            max_steps: the step to train to; nothing happens if the run is already there.
            steps: train this many more steps instead.
            callbacks: more Keras callbacks.
            batch_size: the global batch size for arrays or an unbatched dataset.
            max_seconds: None, or stop once this call has trained this many seconds (from
                the start of `fit`: tracing and compiling count): the step in progress
                ends, then training ends as at `max_steps` (callbacks' end of training,
                the final checkpoint), and `stopped_by_time` is True. Calling `train`
                again resumes. Not with several workers (their clocks would stop them at
                different steps).

        Returns:
            A `keras.callbacks.History` of this call's epochs (empty when the run was
            already at `max_steps`), as `model.fit` returns.
        """
        if (max_steps is None) == (steps is None):
            raise ValueError(
                f"Pass exactly one of `max_steps` and `steps`. Received: max_steps={max_steps}, "
                f"steps={steps}"
            )
        if max_seconds is not None:
            if (isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float))
                    or not max_seconds > 0 or not math.isfinite(max_seconds)):
                raise ValueError(f"`max_seconds` must be a positive number of seconds or None. "
                                 f"Received: max_seconds={max_seconds!r}")
            if multi_worker.is_multi_worker(self.strategy):
                raise ValueError("`max_seconds` cannot be used with several workers: each "
                                 "worker's clock would stop it at a different step. Limit "
                                 "`max_steps` instead.")
        self.stopped_by_time = False
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
            # What the last step owed (its sample grid, its evaluation) if the run that saved
            # it was stopped before writing them.
            if self.is_chief and start == max_steps:
                for callback in self._grid_callbacks() + list(callbacks or []):
                    if hasattr(callback, "catch_up"):
                        callback.set_model(self.trainer)
                        callback.catch_up()
            history = keras.callbacks.History()
            history.set_model(self.trainer)
            return history
        dataset = self._train_dataset(input_fn_or_dataset, batch_size)
        files.check_writable(self._write_dir, "model_dir")
        self._write_fingerprint()
        self._repair_checkpoint_state()
        if start:
            self._log(
                f"Resuming {self.model_dir} at step {start}: skipping the "
                f"{self.input_position} input batches already consumed."
            )
        chunk = min(self.checkpoint_every, max_steps)
        position0 = self.input_position
        logs_dir = os.path.join(self.model_dir, "logs")
        stopper = _SigtermStop()
        run_callbacks = [stopper, _StopAtStep(max_steps), _Checkpointer(self, start, position0)]
        timer = None if max_seconds is None else _StopAfterSeconds(max_seconds)
        if timer is not None:  # first: the end-of-step callbacks after it see the stop
            run_callbacks.insert(0, timer)
        if self.is_chief:
            run_callbacks += [
                callbacks_lib.GANTensorBoard(
                    os.path.join(logs_dir, "train"), update_freq=self.log_every,
                    config=self.config,
                ),
            ] + self._grid_callbacks() + self._health_callbacks()
        run_callbacks += list(callbacks or [])
        if multi_worker.uses_train_loop(self.strategy):
            with _stop_on_sigterm(stopper):
                return self._train_multi_worker(dataset, start, max_steps, chunk, run_callbacks,
                                                stopper)
        try:
            with _stop_on_sigterm(stopper):
                history = self.trainer.fit(
                    dataset,
                    check=False,  # checked above, on a separate instance of the input
                    epochs=math.ceil(max_steps / chunk),
                    initial_epoch=start // chunk,
                    steps_per_epoch=chunk,
                    callbacks=run_callbacks,
                    verbose=self.verbose,
                    shuffle=False,
                )
        except KeyboardInterrupt as e:
            path = self._save_progress(position0, start, interrupted=True)
            if isinstance(e, Terminated):
                e.saved = path
            raise
        path = self._save_progress(position0, start)
        self._note_time_stop(timer, max_steps, path)
        return history

    def _note_time_stop(self, timer, max_steps, path):
        """Sets `stopped_by_time` (and says so) when `timer` ended training early."""
        self.stopped_by_time = timer is not None and timer.fired and self.step < max_steps
        if self.stopped_by_time:
            self._log(f"Stopped by the time limit ({timer.seconds:g} s) at step {self.step} of "
                      f"{max_steps}; saved {path}: train again to resume.")

    def _health_callbacks(self):
        if self.health is False:
            return []
        options = dict(self.health) if isinstance(self.health, dict) else {}
        options.setdefault("reference", self._health_reference)
        return [callbacks_lib.TrainingHealth(
            log_dir=os.path.join(self.model_dir, "logs", "health"),
            path=os.path.join(self.model_dir, "health.json"), **options)]

    def _grid_callbacks(self):
        logs_dir = os.path.join(self.model_dir, "logs")
        return [callbacks_lib.SampleGrid(
            every=self.sample_every,
            log_dir=os.path.join(logs_dir, "samples"),
            samples_dir=os.path.join(self.model_dir, "samples"),
            num_images=self.num_sample_images,
        )]

    def _train_multi_worker(self, dataset, start, max_steps, chunk, callbacks, stopper=None):
        """`train` under (MultiWorker)MirroredStrategy: `multi_worker.train_loop` instead of
        `fit` (see `multi_worker.uses_train_loop`), guarded on several workers by a
        watchdog that ends the process when a peer fails. On several workers, `stopper`'s
        SIGTERM flag goes to every worker with each step (`train_loop`'s `stop_requested`),
        so that all stop at the same step and save it together."""
        position0 = self.input_position
        history = keras.callbacks.History()
        callbacks = adapt_callbacks(self.trainer, callbacks) + [StopOnNonFinite(), history]
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

        stop_requested = None
        if multi_worker.is_multi_worker(self.strategy):
            watchdog = multi_worker.Watchdog(self.peer_timeout, self.first_step_timeout, message)
            if stopper is not None:
                stopper.raises = False  # train_loop stops every worker at once instead
                stop_requested = lambda: stopper.requested  # noqa: E731
        else:
            watchdog = multi_worker.NoWatchdog()
        with watchdog as dog:
            self._watchdog = dog
            try:
                with dog.guard(first=True):
                    self._check_same_step()
                try:
                    multi_worker.train_loop(
                        self.trainer, self.strategy, dataset, start, max_steps, chunk, callbacks,
                        dog, verbose=self.verbose if self.is_chief else 0,
                        stop_requested=stop_requested,
                    )
                except multi_worker.StopRequested as e:
                    # Every worker is here, after the same step: they save it together.
                    terminated = Terminated("SIGTERM")
                    terminated.peer = not e.local
                    terminated.saved = self._save_progress(position0, start, interrupted=True)
                    raise terminated from None
                except KeyboardInterrupt as e:
                    if not multi_worker.is_multi_worker(self.strategy):  # saves need peers
                        path = self._save_progress(position0, start, interrupted=True)
                        if isinstance(e, Terminated):
                            e.saved = path
                    raise
                path = self._save_progress(position0, start)
                self._note_time_stop(next((c for c in callbacks if isinstance(
                    c, _StopAfterSeconds)), None), max_steps, path)  # mirrored, one worker
                with dog.guard():
                    checksum = self._check_in_sync()
            finally:
                self._watchdog = None
        self._log(
            f"{name}: step {self.step}, weights identical on all "
            f"{self.strategy.num_replicas_in_sync} replicas (checksum {checksum:.10g})."
        )
        return history

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
        weights = self.trainer.network_weights()
        sums = [float(np.sum(np.asarray(v, np.float64))) for v in weights]
        gathered = self._gather(sums)
        if not (gathered == gathered[0]).all():
            raise multi_worker.PeerFailureError(
                f"The workers' weights differ at step {self.step}: the replicas went out of "
                "sync. Report this as a bug, with the config."
            )
        return float(np.sum(np.abs(sums)))

    # ------------------------------------------------------------------ use the model

    def evaluate(self, input_fn_or_dataset, steps=None, *, num_samples=10_000, seed=0,
                 extractor="fashion_mnist", kid_subset_size=1000, per_class=False,
                 progress=False, classes=None, held_out=None):
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
            held_out: None, or labelled held-out data (as `input_fn_or_dataset`, finite:
                every batch is read) for the trainer's `held_out_metrics` (the
                semi-supervised GAN: "test_accuracy", "test_error", "num_test").

        Returns:
            {"fid", "kid", "kid_std", "inception_score", "inception_score_std",
            "precision", "recall", "num_real", "num_fake", ["intra_fid",
            "class_accuracy"], ["code_nmi", "code_classes"] (InfoGAN: its
            `evaluation_metrics`), "d_loss", "g_loss", "d_real", "d_fake", "step"}; with
            `extractor=None` only the losses and "step". Image -> image trainers (family
            "image_to_image"): "psnr", "ssim", "l1", ["fid"], the identity baseline's
            "identity_<metric>", "num_pairs", the test losses and "step", on the first
            `num_samples` (source, target) pairs, or all of a smaller input. Unpaired
            image <-> image trainers (CycleGAN): `tfgans.metrics.evaluate_cycle`'s metrics
            in both directions (translation accuracy when `classes`, the classifier's
            class ids of domains A and B, are given; cycle error; FID), the test losses and
            "step", on the first `num_samples` images of each domain.

        Raises:
            ValueError: images the extractor cannot take, `num_samples <
                kid_subset_size`, or an input with fewer than `num_samples` images.
        """
        self._require_checkpoint("evaluate")
        dataset = self._dataset(input_fn_or_dataset)
        if steps is not None:
            dataset = dataset.take(_positive_int("steps", steps))
        if self.trainer.family in ("image_to_image", "unpaired_image_to_image"):
            # Paired runs: outputs vs targets (PSNR, SSIM, L1, FID) and the identity
            # baseline, on the first num_samples pairs, or all of a smaller input
            # (tfgans.metrics.evaluate_translation; "num_pairs" says how many). Unpaired
            # runs: both directions (tfgans.metrics.evaluate_cycle).
            from tfgans.metrics import evaluate_cycle, evaluate_translation

            num_samples = _positive_int("num_samples", num_samples)
            if self.trainer.family == "image_to_image":
                metrics = evaluate_translation(self.trainer.sample, dataset, num_samples,
                                               extractor=extractor, strict=False)
            else:
                metrics = evaluate_cycle(self.trainer.sample, dataset, num_samples,
                                         extractor=extractor, classes=classes)
            batch = dataset.element_spec[0].shape[0]
            dataset = dataset.take(math.ceil(num_samples / batch) if batch else 1)
            losses = self.trainer.evaluate(dataset, return_dict=True, verbose=0)
            return {**metrics, **{k: float(v) for k, v in losses.items()}, "step": self.step}
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
            shape = self.trainer.image_shape
            evaluator.extractor.check_images(np.zeros([1, *shape], np.float32))
            evaluator.update_real_from(dataset, num_samples, batch_size=500, progress=progress)
            metrics = callbacks_lib.evaluate_generator(
                self.trainer, evaluator, num_samples, seed, progress=progress, per_class=per_class
            )
            metrics.update(self.trainer.evaluation_metrics(evaluator.extractor, num_samples,
                                                           seed))
            if steps is None:
                batch = dataset.element_spec
                batch = (batch[0] if isinstance(batch, (tuple, list)) else batch).shape[0]
                dataset = dataset.take(math.ceil(num_samples / batch) if batch else 1)
        if held_out is not None:
            metrics.update(self.trainer.held_out_metrics(self._dataset(held_out)))
        losses = self.trainer.evaluate(dataset, return_dict=True, verbose=0)
        return {**metrics, **{k: float(v) for k, v in losses.items()}, "step": self.step}

    def predict(self, *args, **kwargs):
        """The trainer's `sample(...)`: for the noise -> image GAN, images in [-1, 1]
        (float32 NumPy [N, H, W, C]) from `(num_samples, seed, labels)`, with the EMA
        generator when EMA is on; the same seed gives the same images (`GAN.generate`)."""
        self._require_checkpoint("predict")
        return self.trainer.sample(*args, **kwargs)

    def export_saved_model(self, export_dir, version=None, overwrite=False):
        """Exports the trainer's served model (the EMA copy when EMA is on) for TF Serving
        as `export_dir/<version>/` and returns that directory (see
        `tfgans.export.export_trainer`)."""
        self._require_checkpoint("export")
        from tfgans import export

        return export.export_trainer(self.trainer, export_dir, version=version,
                                     overwrite=overwrite)


_TF_ERRNO = {
    tf.errors.ResourceExhaustedError: errno.ENOSPC,
    tf.errors.PermissionDeniedError: errno.EACCES,
}


def _remove_checkpoint(prefix):
    """Removes what a failed save left of `prefix` (its files and `_temp` folder)."""
    for path in glob.glob(glob.escape(prefix) + ".*") + glob.glob(glob.escape(prefix) + "_temp*"):
        try:
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
        except OSError:
            pass


class _SigtermStop(keras.callbacks.Callback):
    """Raises `Terminated` at the first step boundary after SIGTERM (`request`), so the
    estimator saves, as for Ctrl-C, at a consistent step."""

    def __init__(self):
        super().__init__()
        self.requested = False
        self.raises = True  # False: multi-worker, where train_loop stops every worker

    def request(self, signum=None, frame=None):
        self.requested = True

    def _check(self):
        if self.requested and self.raises:
            raise Terminated("SIGTERM")

    def on_train_batch_begin(self, batch, logs=None):
        self._check()

    def on_train_batch_end(self, batch, logs=None):
        self._check()


class _StopAtStep(keras.callbacks.Callback):
    """Stops `fit` exactly at a global step (epochs are only progress-bar chunks)."""

    def __init__(self, max_steps):
        super().__init__()
        self.max_steps = max_steps

    def on_train_batch_end(self, batch, logs=None):
        if callbacks_lib.global_step(self.model) >= self.max_steps:
            self.model.stop_training = True


def _now():
    """The clock of `train(max_seconds=...)` (tests replace it)."""
    return time.monotonic()


class _StopAfterSeconds(keras.callbacks.Callback):
    """Stops `fit` after the step in progress once `seconds` have passed since it began
    (`fired` says it did)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = float(seconds)
        self.clock = _now
        self.fired = False
        self._start = None

    def on_train_begin(self, logs=None):
        self._start = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        if self.clock() - self._start >= self.seconds:
            self.fired = True
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
        if callbacks_lib.crossed(self._last, step, self.estimator.checkpoint_every):
            self.estimator._save_progress(self.start_position, self.start_step)
        self._last = step


class GANEstimator(Estimator):
    """TF-GAN's `GANEstimator` for Keras 3: an `Estimator` of a `tfgans.GAN`.

    Builder functions make the networks (inside `strategy.scope()`); the GAN's settings
    are `GAN.compile`'s arguments, passed as keywords; every other keyword is the
    `Estimator`'s.

    Args:
        generator_fn: a function with no arguments returning the generator (a Keras
            model mapping noise [B, latent_dim], or `[noise, labels]` when conditional, to
            images in [-1, 1]). A Keras model class with default arguments works too.
        discriminator_fn: likewise for the discriminator (images, or `[images, labels]`,
            to logits [B, 1]; higher means "real").
        latent_dim, num_classes, ema_decay, seed: see `tfgans.GAN`.
        loss: a `tfgans.losses.get` name or a `GANLoss`.
        model_dir, strategy: see `Estimator`.
        generator_optimizer_fn, discriminator_optimizer_fn: functions with no arguments
            returning Keras optimizers (called inside the scope); None: `GAN.compile`'s
            default, Adam(1e-4, beta_1=0.0, beta_2=0.9).
        **kwargs: `GAN.compile` settings (`gradient_penalty`, `n_critic`, `penalty_type`,
            `weight_clip`, `label_smoothing`, ...) and `Estimator` arguments
            (`checkpoint_every`, `jit_compile`, `config`, ...).

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

    def __init__(self, generator_fn, discriminator_fn, latent_dim=128, loss="wasserstein",
                 model_dir=None, strategy=None, num_classes=None, *,
                 generator_optimizer_fn=None, discriminator_optimizer_fn=None, ema_decay=None,
                 seed=0, **kwargs):
        for name, fn in [("generator_fn", generator_fn), ("discriminator_fn", discriminator_fn)]:
            if not callable(fn):
                raise ValueError(
                    f"`{name}` must be a function returning a Keras model. Received: {fn!r}"
                )
        gan_settings = set(inspect.signature(GAN.compile).parameters) - {"self", "kwargs"}
        estimator_args = set(inspect.signature(Estimator.__init__).parameters)
        settings = {k: kwargs.pop(k) for k in list(kwargs) if k in gan_settings}
        unknown = set(kwargs) - estimator_args
        if unknown:
            raise TypeError(
                f"GANEstimator got unknown arguments {sorted(unknown)}: pass GAN.compile "
                "settings or Estimator arguments."
            )

        def trainer_fn():
            gan = GAN(generator_fn(), discriminator_fn(), latent_dim=latent_dim,
                      num_classes=num_classes, ema_decay=ema_decay, seed=seed)
            gan.compile(
                generator_optimizer=generator_optimizer_fn() if generator_optimizer_fn else None,
                discriminator_optimizer=(
                    discriminator_optimizer_fn() if discriminator_optimizer_fn else None
                ),
                loss=loss, **settings,
            )
            return gan

        super().__init__(trainer_fn, model_dir, strategy, **kwargs)

    @property
    def gan(self):
        """The `tfgans.GAN` being trained (the estimator's `trainer`)."""
        return self.trainer
