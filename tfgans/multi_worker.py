"""Multi-worker training: a loop of our own over a trainer's `train_step`, and a watchdog.

Keras 3.15's `fit()` fails under `MultiWorkerMirroredStrategy` even for plain models
(keras-team/keras#20585, tensorflow/tensorflow#72388: it reduces PerReplica values in the
symbolic build and in the scalar logs). `GANEstimator` therefore trains there (and under
`MirroredStrategy`, see `uses_train_loop`) with `train_loop`: the same `train_step`, run
by `strategy.run` inside one `tf.function`, with the logs all-reduced by `strategy.reduce`
and the usual Keras callbacks driven through the public `keras.callbacks.CallbackList`.

Fault tolerance. A collective waiting for a dead peer may raise an error once TensorFlow's
coordination service notices the peer is gone, or it may simply never return (a lone
worker has been seen ignoring SIGTERM for minutes). Neither leaves a usable strategy:
its collective groups are broken and cannot be rebuilt in the same process. So a
`Watchdog` thread watches the loop's progress, and when a step errors or makes no progress
for `timeout` seconds it prints one line naming the failure and the checkpoint to resume
from, and ends the process with `os._exit(EXIT_PEER_FAILURE)`. A supervisor (a shell loop,
systemd `Restart=on-failure`, Kubernetes `restartPolicy: OnFailure`) then restarts the
workers, and they resume exactly from the chief's last checkpoint.

SIGTERM. A worker told to stop (a preemption, Kubernetes deleting the job) must not stop
alone: its peers would wait for it in the next collective until the watchdog ends them,
unsaved. So `train_loop` takes `stop_requested` (this worker's SIGTERM flag) and adds it
to the all-reduce every step already makes: the step after any worker is told to stop,
every worker sees it, at the same step, and `train_loop` raises `StopRequested` on all of
them, so that they save that step together (the estimator does) and exit.

Who writes. Only the chief (`strategy.extended.should_checkpoint`) writes into model_dir.
The other workers take part in every save (a save may run collectives), but into a
temporary directory of their own that they delete (`worker_dir`).
"""

import atexit
import contextlib
import faulthandler
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
import time

import keras
import tensorflow as tf

#: Exit status of a worker that stopped because a peer failed (EX_TEMPFAIL: "try again").
EXIT_PEER_FAILURE = 75

# Errors a collective raises when a peer is gone or the cluster is shutting down; the
# vaguer ones count only when they speak of collectives or the coordination service.
_PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.DeadlineExceededError,
    tf.errors.CancelledError,
    tf.errors.AbortedError,
)
_MAYBE_PEER_ERRORS = (tf.errors.InternalError, tf.errors.UnknownError, tf.errors.FailedPreconditionError)
_PEER_WORDS = re.compile(r"collective|coordination|heartbeat|peer|task", re.IGNORECASE)


def _is_peer_error(error):
    if isinstance(error, _PEER_ERRORS):
        return True
    return isinstance(error, _MAYBE_PEER_ERRORS) and bool(_PEER_WORDS.search(str(error)))


class PeerFailureError(RuntimeError):
    """A peer worker failed or stopped responding; this worker cannot go on."""


class StopRequested(Exception):
    """Raised by `train_loop` on every worker, after the same step, when any worker's
    `stop_requested()` was true: `local` says whether it was this one's."""

    def __init__(self, step, local):
        super().__init__(f"stop requested at step {step}")
        self.step = step
        self.local = local


def is_multi_worker(strategy):
    """True for a `MultiWorkerMirroredStrategy` (guarded by a `Watchdog`)."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def uses_train_loop(strategy):
    """True for the strategies `GANEstimator` trains with `train_loop` instead of `fit`:
    `MultiWorkerMirroredStrategy` (where Keras 3.15's `fit` fails) and `MirroredStrategy`
    (one loop for both). Through the CLI (Adam, Fashion-MNIST), `fit` under Mirrored once
    ended farther from one device's weights than `train_loop` (2e-7); the cause was not
    found. A direct probe (DCGAN with `synchronized_bn`, WGAN-GP, SGD, `GAN.fit` vs
    `GANEstimator`) showed no difference between the two loops: 1 vs 2 replicas differ by
    3e-8 at lr 1e-3 in both, and by 8.6e-5 in both at lr 1e-2 after 2 steps of 5 critic
    updates (float rounding amplified by a critic near instability)."""
    return is_multi_worker(strategy) or isinstance(strategy, tf.distribute.MirroredStrategy)


def worker_name(strategy):
    """"worker 1 of 2" (or "chief") for messages; "" outside a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return ""
    spec = resolver.cluster_spec().as_dict()
    count = sum(len(tasks) for name, tasks in spec.items() if name in ("chief", "worker"))
    return f"{resolver.task_type} {resolver.task_id} of {count}"


def is_chief(strategy):
    """Whether this process writes the run's files (checkpoints, logs, samples, exports)."""
    return bool(strategy.extended.should_checkpoint)


def worker_dir(model_dir, strategy):
    """Where this process writes: `model_dir` on the chief (and on one process); on other
    workers `$TMPDIR/tfgans-<task>-<hash of model_dir>`, emptied now (a killed worker's
    leftovers) and deleted when the process exits."""
    if is_chief(strategy):
        return model_dir
    resolver = strategy.cluster_resolver
    digest = hashlib.sha1(os.path.abspath(model_dir).encode()).hexdigest()[:12]
    path = os.path.join(
        tempfile.gettempdir(), f"tfgans-{resolver.task_type}{resolver.task_id}-{digest}"
    )
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


class NoWatchdog:
    """A `Watchdog` that watches nothing (one machine: no peer can die)."""

    def guard(self, first=False):
        return contextlib.nullcontext()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Watchdog:
    """Ends the process when a collective section stalls or a peer fails.

    Wrap every section that waits for the other workers (a training step, a save, a
    gather) in `with watchdog.guard():`. A daemon thread checks that no guarded section
    runs longer than `timeout` seconds (`first_timeout` for those marked `first=True`: the
    first step traces and compiles, the first gather waits for every worker to start);
    time outside guarded sections (this worker's own callbacks) is not counted. When a section overruns, or
    raises the error of a failed peer, it prints `message(reason)` on stderr and calls
    `os._exit(EXIT_PEER_FAILURE)`: a strategy whose peer died cannot be used again, and a
    normal exit can hang in TensorFlow's shutdown, waiting for the dead peer.

    A guarded section also waits while a peer runs its own unguarded work (the chief's
    evaluation, samples): `timeout` must be longer than the longest such pause.

    Args:
        timeout: seconds a guarded section may take.
        first_timeout: seconds a section guarded with `first=True` may take.
        message: a function (reason) -> the line to print.
        exit: call `os._exit` (False: raise `PeerFailureError` instead, for tests).

    Example:
    ```python
    with Watchdog(600, 1800, lambda why: f"stopped: {why}") as dog:
        for i in range(steps):
            with dog.guard(first=i == 0):
                step()
    ```
    """

    def __init__(self, timeout, first_timeout, message, exit=True):
        self.timeout = float(timeout)
        self.first_timeout = float(first_timeout)
        self.message = message
        self.exit = exit
        self._since = None  # start of the running guarded section, None outside one
        self._limit = None
        self._stop = threading.Event()
        self._thread = None

    @contextlib.contextmanager
    def guard(self, first=False):
        """Times the enclosed section; a peer's error inside it ends the process."""
        self._limit = self.first_timeout if first else self.timeout
        self._since = time.monotonic()
        try:
            yield
        except tf.errors.OpError as e:
            self._since = None
            if not _is_peer_error(e):
                raise
            summary = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", " ".join(str(e).split()))
            summary = summary.split(" Additional GRPC error")[0][:300]
            self._fail(f"a collective failed ({type(e).__name__}: {summary})")
            raise
        self._since = None

    def _fail(self, reason):
        try:
            line = self.message(reason)
        except Exception:  # noqa: BLE001 - the line must be printed whatever happens
            line = f"tfgans: error: multi-worker training stopped: {reason}."
        sys.stdout.flush()
        if os.environ.get("TFGANS_DEBUG"):
            faulthandler.dump_traceback(all_threads=True)
        print(line, file=sys.stderr, flush=True)
        if self.exit:
            os._exit(EXIT_PEER_FAILURE)
        raise PeerFailureError(line)

    def _watch(self):
        while not self._stop.wait(0.25):
            since, limit = self._since, self._limit
            if since is not None and time.monotonic() - since > limit:
                try:
                    self._fail(f"no progress for {limit:g} s (waiting for a peer that died "
                               "or stopped responding)")
                except PeerFailureError:
                    pass
                return

    def __enter__(self):
        self._thread = threading.Thread(target=self._watch, name="tfgans-watchdog", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        return False


def make_train_function(trainer, strategy):
    """One distributed training step: `strategy.run(trainer.train_step)` on the next batch of a
    distributed iterator, its logs (`trainer.metrics`) averaged over all replicas in one
    all-reduce, together with `stop` (a float32 scalar: 1 where this worker is asked to
    stop). Returns ({metric name: scalar}, the mean of `stop`: > 0 when any worker's was 1)."""
    names = [m.name for m in trainer.metrics]

    def step(batch, stop):
        logs = trainer.train_step(batch)
        return tf.stack([tf.cast(logs[name], tf.float32) for name in names] + [stop])

    @tf.function
    def train_function(iterator, stop):
        per_replica = strategy.run(step, args=(next(iterator), stop))
        mean = strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)
        return {name: mean[i] for i, name in enumerate(names)}, mean[len(names)]

    return train_function


def train_loop(trainer, strategy, dataset, start, max_steps, chunk, callbacks, watchdog,
               verbose=0, stop_requested=None):
    """Trains `trainer` under `strategy` from step `start` to `max_steps`, like `fit` would.

    Epochs are `chunk` steps (metrics reset at each, as in `fit(steps_per_epoch=chunk)`),
    and `callbacks` (Keras callbacks) get the same calls as under `fit`.

    Args:
        trainer: a compiled `tfgans.training.Trainer` built in `strategy.scope()`.
        strategy: a `MultiWorkerMirroredStrategy`.
        dataset: the global-batch `tf.data.Dataset`, repeated, positioned at `start`.
        start, max_steps: the global steps to train from and to.
        chunk: steps per epoch.
        callbacks: Keras callbacks.
        watchdog: a `Watchdog` (entered) that guards every step, or a `NoWatchdog`.
        verbose: Keras' progress bar setting (0: none).
        stop_requested: None, or a function () -> whether this worker is asked to stop
            (SIGTERM), read before each step and shared with every worker by that step's
            all-reduce.

    Raises:
        StopRequested: on every worker, after the same step, when `stop_requested()` was
            true on any of them (before the callbacks of that step's end).
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    iterator = iter(strategy.experimental_distribute_dataset(dataset.with_options(options)))
    train_function = make_train_function(trainer, strategy)
    epochs = -(-max_steps // chunk)
    callback_list = keras.callbacks.CallbackList(
        callbacks, add_progbar=verbose != 0, verbose=1 if verbose == "auto" else verbose,
        epochs=epochs, steps=chunk, model=trainer,
    )
    trainer.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    step = start
    epoch = start // chunk
    while step < max_steps and not trainer.stop_training:
        with watchdog.guard(first=step == start):  # an all-reduce on MWMS
            trainer.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        batch = 0
        while batch < chunk and step < max_steps and not trainer.stop_training:
            callback_list.on_train_batch_begin(batch)
            local = bool(stop_requested and stop_requested())
            with watchdog.guard(first=step == start):
                logs, stop = train_function(iterator, tf.constant(float(local)))
                logs = {k: float(v) for k, v in logs.items()}
            step = int(trainer.step.numpy())
            if float(stop) > 0:
                raise StopRequested(step, local)
            callback_list.on_train_batch_end(batch, logs)
            batch += 1
        callback_list.on_epoch_end(epoch, logs)
        epoch += 1
    callback_list.on_train_end(logs)
    return logs
