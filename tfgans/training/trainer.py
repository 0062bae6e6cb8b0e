"""`Trainer`: the contract every GAN family's trainer keeps, and the machinery they share.

A family (noise -> image, paired image -> image, unpaired image <-> image, ...) is one
`Trainer` subclass: a `keras.Model` whose `train_step` reads like the paper's loss list.
What is the same for every family lives here, once:

- named networks, one optimizer per trained network, built in the strategy scope;
- the loss scaling for the strategy (and for mixed_float16), the finite guard, the metric
  trackers, the EMA copies of named networks and the stateless noise keys (seed, step,
  stream);
- the rule that XLA and `steps_per_execution > 1` need one device (`check_execution`);
- what a checkpoint holds (`checkpoint_items`): every variable of the networks, the
  optimizers, the EMA copies, the random-number state of layers such as Dropout, and the
  family's own state (`state_variables`);
- the batch it consumes (`check_batch`, one clear error at the first batch), how it
  samples (`sample_grid`, `evaluation_samples`) and what it exports (`export_spec`).

The estimator, the multi-worker loop, the callbacks, evaluation and export use only these
public names; they never read a family's private attributes.

Example (a family's step, written against the contract):
```python
class MyFamily(tfgans.training.Trainer):
    def train_step(self, data):
        source, target = data
        with tf.GradientTape() as tape:
            loss = ...                                   # the paper's losses
            scaled = self.scale_loss(loss, "generator")
        finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(loss))
        return self.track({"g_loss": loss, "nonfinite": 1.0 - tf.cast(finite, tf.float32)})
```
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras.src.saving import serialization_lib

from tfgans.training import noise as noise_lib


class NonFiniteLossError(RuntimeError):
    """Raised when a loss becomes NaN or infinite; its gradients were zeroed, not applied."""


class ExecutionError(ValueError):
    """XLA or `steps_per_execution > 1` asked for under a multi-device strategy."""


def is_multi_device(strategy):
    """True for the strategies under which Keras 3.15 cannot use XLA or
    `steps_per_execution > 1`: (MultiWorker)MirroredStrategy, and any strategy with more
    than one replica."""
    mirrored = (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)
    return isinstance(strategy, mirrored) or strategy.num_replicas_in_sync > 1


def check_execution(jit_compile, steps_per_execution, multi_device):
    """The one rule on how a training step may be executed: XLA (`jit_compile=True`) and
    `steps_per_execution > 1` work on one device only. Keras 3.15 fails both under
    MirroredStrategy, even for plain models (keras-team/keras#19246).

    `Trainer.compile`, `Trainer.set_execution`, `tfgans.Estimator` and the config layer
    (keys `train.jit_compile`, `train.steps_per_execution`) all call this function, so the
    error is the same wherever the settings come from.

    Args:
        jit_compile: True, False or "auto".
        steps_per_execution: a positive integer.
        multi_device: whether the strategy is multi-device (see `is_multi_device`); for a
            config, whether `distribute.strategy` is mirrored or multi_worker.

    Raises:
        ExecutionError: naming both settings and what to use instead.
    """
    if not multi_device:
        return
    if jit_compile is True or steps_per_execution > 1:
        raise ExecutionError(
            "jit_compile=True and steps_per_execution > 1 work on one device only: Keras "
            "3.15 fails both under MirroredStrategy (keras-team/keras#19246). Use "
            "jit_compile 'auto' or False and steps_per_execution 1 (config keys "
            "train.jit_compile, train.steps_per_execution) with several replicas. Received: "
            f"jit_compile={jit_compile}, steps_per_execution={steps_per_execution}"
        )


#: Whether `jit_compile="auto"` (the estimator's and the config's default) turns XLA on
#: for one device on a machine with only CPUs. `python benchmarks/xla_cpu.py` (the default
#: recipe: DCGAN, WGAN-GP, n_critic 5, batch 64; 2 busy cores, steady steps interleaved):
#:
#:     width | first step off / on (s) | steady step off / on (s) | on/off | pays off after
#:        16 |   9.2 / 23.0            | 0.277 / 0.200            | 1.39x  | 179 steps
#:        64 |  10.4 / 31.4            | 3.42  / 4.11             | 0.83x  | never
#:
#: At the default config's width (64) XLA is slower on a CPU, and it costs 13-21 s of
#: compiling first; so "auto" keeps it off there, as Keras' own "auto" does. Small networks
#: gain (the demo's width 16: 1.39x after ~180 steps): `make demo` sets
#: `train.jit_compile: true` explicitly. With a GPU or TPU, "auto" turns XLA on.
AUTO_JIT_ON_CPU = False


def check_global_batch(batch_size, num_replicas):
    """The global batch must split evenly across the replicas."""
    if batch_size is not None and batch_size % num_replicas:
        raise ValueError(
            f"The global batch size {batch_size} is not divisible by the {num_replicas} "
            f"replicas of the strategy: use a multiple of {num_replicas} (config key "
            "data.batch_size)."
        )


def check_image_pair_spec(element_spec, shapes, num_replicas, error):
    """Checks a dataset's element spec is a pair of image batches [batch, *shape] with
    `shapes` (one per element) and returns the batch size (None when unknown).

    `error(received)` makes the trainer's one-line ValueError; the batch must also split
    across `num_replicas` (`check_global_batch`). Paired (pix2pix) and unpaired (CycleGAN)
    translators share this.
    """
    if not (isinstance(element_spec, (tuple, list)) and len(element_spec) == 2
            and all(isinstance(s, tf.TensorSpec) and s.shape.rank == 4 for s in element_spec)):
        raise error(element_spec)
    for spec, shape in zip(element_spec, shapes):
        if tuple(spec.shape[1:]) != tuple(shape):
            raise error(f"{'x'.join(map(str, spec.shape[1:]))} images; for another size set "
                        "data.image_size, or retrain")
    batch = element_spec[0].shape[0]
    check_global_batch(batch, num_replicas)
    return batch


def all_finite(tensors):
    """True when every element of every tensor is finite."""
    return tf.reduce_all(
        [tf.reduce_all(tf.math.is_finite(tf.cast(t, tf.float32))) for t in tensors]
    )


@dataclasses.dataclass(frozen=True)
class ExportSpec:
    """What a trainer exports and how (`tfgans.export` builds the signatures by `kind`).

    Attributes:
        kind: "noise_to_image", "image_to_image", "noise_to_points", "infogan",
            "text_to_image" or "semi_supervised" (DESIGN.md's table of signatures).
        model: the Keras model served (the EMA copy when EMA is on).
        options: the kind's settings (noise_to_image: latent_dim, num_classes;
            image_to_image: image_shape, the input image shape [H, W, C]).
    """

    kind: str
    model: object
    options: dict


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training with a clear `NonFiniteLossError` once a step reports `nonfinite`
    (its non-finite gradients were zeroed, not applied)."""

    def on_train_batch_end(self, batch, logs=None):
        if logs and float(logs.get("nonfinite", 0.0)) > 0:
            losses = ", ".join(
                f"{k}={float(v):.4g}" for k, v in logs.items() if k.endswith("_loss")
            )
            raise NonFiniteLossError(
                f"Training stopped near step {int(self.model.step.numpy())}: a loss or "
                f"gradient became NaN or infinite ({losses}). The non-finite gradients were "
                "zeroed, so the weights stay finite. Lower the learning rates, or use a "
                "gradient penalty."
            )


def predict_in_batches(fn, inputs, batch_size, out_shape):
    """`fn(*batch)` on each `batch_size` slice of the arrays `inputs` (all of length N),
    concatenated as float32 NumPy [N, *out_shape] (empty for N = 0): the batched inference
    of the image -> image trainers' `sample`."""
    out = [np.zeros((0, *out_shape), np.float32)]
    for start in range(0, len(inputs[0]), batch_size):
        out.append(np.asarray(fn(*(x[start:start + batch_size] for x in inputs)), np.float32))
    return np.concatenate(out)


def first_batch(data, batch_size=None):
    """The first batch of `fit`-style input as NumPy (a structure like the batch), or None
    when it cannot be taken cheaply (a generator, a PyDataset)."""
    import numpy as np

    if isinstance(data, tf.data.Dataset):
        for batch in data.take(1):
            return tf.nest.map_structure(lambda t: t.numpy(), batch)
        return None
    leaves = tf.nest.flatten(data)
    if leaves and all(isinstance(v, (np.ndarray, tf.Tensor, list)) for v in leaves):
        size = batch_size or 32
        return tf.nest.map_structure(lambda v: np.asarray(v)[:size], data)
    return None


def adapt_callbacks(trainer, callbacks):
    """Gives Keras' monitoring callbacks what they need from a trainer (see `Trainer.fit`).
    Returns the list of callbacks to use."""
    from tfgans.callbacks import ReduceLROnPlateau

    callbacks = list(callbacks or [])
    directions = trainer.monitor_directions()
    for i, callback in enumerate(callbacks):
        if type(callback) is keras.callbacks.ReduceLROnPlateau:
            # The same settings, for several optimizers (the trainer's model.optimizer is
            # None: each network has its own).
            callbacks[i] = callback = ReduceLROnPlateau.from_keras(callback)
        monitor = getattr(callback, "monitor", None)
        if (
            isinstance(callback, (keras.callbacks.EarlyStopping, keras.callbacks.ModelCheckpoint,
                                  keras.callbacks.ReduceLROnPlateau))
            and getattr(callback, "mode", None) == "auto"
            and monitor is not None
            and monitor.removeprefix("val_") in directions
        ):
            callback.mode = directions[monitor.removeprefix("val_")]
    return callbacks


def _rng_states(model):
    """The state variables of the seed generators inside `model` (Dropout, noise layers):
    saved with the weights so that a resumed run draws the same dropout masks."""
    states = []
    for layer in model._flatten_layers(include_self=True):
        for generator in getattr(layer, "_seed_generators", []):
            if all(generator.state is not s for s in states):
                states.append(generator.state)
    return states


class Trainer(keras.Model):
    """The base of every tfgans trainer (see the module docstring for the contract).

    Subclasses pass their networks by name, build them (call them once), call
    `make_ema_copies`, declare their trackers, and write `train_step` with `scale_loss`,
    `apply_gradients`, `update_ema`, `noise_key` and `track`.

    Args:
        networks: {name: keras.Model}; each becomes an attribute (`self.generator`).
        trained: the names of the networks that get an optimizer, in order; the first one's
            optimizer counts the training step (`step`).
        ema_networks: names of networks to keep an exponential moving average of (as
            `ema_<name>`, used for sampling and export) when `ema_decay` is set.
        ema_decay: e.g. 0.999; None: no EMA.
        seed: the seed every training draw derives from.
    """

    #: The family's name (see DESIGN.md, "Families, trainers and presets").
    family = None
    #: The shape [H, W, C] of the images the trainer produces (set when it is built).
    image_shape = None

    def __init__(self, networks, trained, ema_networks=(), ema_decay=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must be in (0, 1). Received: ema_decay={ema_decay}")
        for name, network in networks.items():
            if not isinstance(network, keras.Model):
                raise ValueError(
                    f"The {name} must be a keras.Model. Received: {type(network).__name__}"
                )
            setattr(self, name, network)
        self.network_names = tuple(networks)
        self.trained_networks = tuple(trained)
        self.ema_decay = ema_decay
        self.ema_network_names = tuple(ema_networks) if ema_decay is not None else ()
        self.seed = int(seed)
        self._optimizers = {}
        self._trackers = {}
        self._grad_norms = {}  # tracker name -> this step's norms (filled while tracing)

    # ------------------------------------------------------------------ networks, EMA

    def network(self, name):
        """The network called `name` (a key of `networks`, or `ema_<name>`)."""
        return getattr(self, name)

    def inference_network(self, name):
        """The copy of `name` used to sample and export: its EMA copy when EMA is on."""
        return getattr(self, f"ema_{name}") if name in self.ema_network_names else getattr(
            self, name
        )

    def make_ema_copies(self, build_inputs):
        """Creates `ema_<name>` for each EMA network, built with `build_inputs[name]` and
        starting from the network's weights. Call it after building the networks."""
        for name in self.ema_network_names:
            network = getattr(self, name)
            copy = _clone(network, f"ema_{network.name}")
            copy(build_inputs[name], training=False)
            if [tuple(v.shape) for v in network.weights] != [tuple(v.shape) for v in copy.weights]:
                raise ValueError(
                    f"The EMA copy of the {name} does not create its weights in the same "
                    "order as the original: check its get_config()."
                )
            copy.set_weights(network.get_weights())
            copy.trainable = False
            setattr(self, f"ema_{name}", copy)

    def update_ema(self, step):
        """Moves every EMA copy toward its network. TensorFlow's ExponentialMovingAverage
        warm-up: the decay ramps up over the first steps, so early samples are not dominated
        by the random initialisation. Trainable weights are averaged; the rest (batch-norm
        statistics) copied."""
        if not self.ema_network_names:
            return
        step = tf.cast(step, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for name in self.ema_network_names:
            for ema_v, v in zip(getattr(self, f"ema_{name}").weights, getattr(self, name).weights):
                if v.trainable:
                    ema_v.assign(decay * ema_v + (1.0 - decay) * tf.cast(v, ema_v.dtype))
                else:
                    ema_v.assign(v)

    def build(self, input_shape=None):
        self.built = True

    # ------------------------------------------------------------------------ compile

    def compile(self, optimizers=None, **kwargs):
        """Builds one optimizer per trained network, inside the current strategy scope.

        Args:
            optimizers: {network name: a Keras optimizer, its name, or None}; None (or a
                missing name) takes `default_optimizer(name)`. Under mixed_float16 each is
                wrapped in a `LossScaleOptimizer`.
            **kwargs: `keras.Model.compile`'s `jit_compile`, `steps_per_execution`,
                `run_eagerly` (checked by `check_execution`).
        """
        for forbidden in ("optimizer", "loss", "metrics", "loss_weights", "weighted_metrics"):
            if forbidden in kwargs:
                raise ValueError(
                    f"{type(self).__name__}.compile does not take `{forbidden}`: give each "
                    "network its optimizer, and use the built-in metrics. "
                    f"Received: {forbidden}={kwargs[forbidden]!r}"
                )
        strategy = tf.distribute.get_strategy()
        check_execution(
            kwargs.get("jit_compile", "auto"), kwargs.get("steps_per_execution", 1),
            is_multi_device(strategy),
        )
        if is_multi_device(strategy):
            kwargs.setdefault("jit_compile", False)
        # optimizer=None: no hidden default optimizer (a bare compile() makes an RMSprop
        # that later breaks BackupAndRestore under a strategy).
        super().compile(optimizer=None, **kwargs)
        optimizers = dict(optimizers or {})
        unknown = set(optimizers) - set(self.trained_networks)
        if unknown:
            raise ValueError(
                f"Optimizers given for {sorted(unknown)}, which {type(self).__name__} does not "
                f"train. Trained networks: {', '.join(self.trained_networks)}."
            )
        built = {}
        for name in self.trained_networks:
            opt = optimizers.get(name)
            opt = keras.optimizers.get(opt if opt is not None else self.default_optimizer(name))
            if keras.config.dtype_policy().name == "mixed_float16" and not isinstance(
                opt, keras.optimizers.LossScaleOptimizer
            ):
                opt = keras.optimizers.LossScaleOptimizer(opt)
            if any(opt is other for other in built.values()):
                raise ValueError(
                    "Each trained network needs its own optimizer instance. Received the same "
                    f"object for {name} and another network."
                )
            # Built now, inside the strategy scope: built lazily inside strategy.run, Adam
            # fails under tf.distribute.
            opt.build(getattr(self, name).trainable_variables)
            built[name] = opt
        self._optimizers = built
        # Per-network gradient norms (`apply_gradients` records them; `track` logs them):
        # the signal `tfgans.callbacks.TrainingHealth` watches for exploding and vanishing
        # gradients, and TensorBoard shows.
        if self.RECORDS_GRADIENT_NORMS:
            self.add_trackers([f"grad_norm_{name}" for name in self.trained_networks
                               if f"grad_norm_{name}" not in self._trackers])

    def default_optimizer(self, network):
        """The optimizer a network gets when none is given: Adam(1e-4, 0.0, 0.9)."""
        return keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)

    def set_execution(self, jit_compile="auto", steps_per_execution=1):
        """Sets how `fit` executes steps (XLA, steps per `tf.function` call), after compile."""
        strategy = self.distribute_strategy
        check_execution(jit_compile, steps_per_execution, is_multi_device(strategy))
        if jit_compile == "auto":
            cpu_only = all(d.device_type == "CPU" for d in tf.config.list_physical_devices())
            jit_compile = (
                not is_multi_device(strategy)
                and not isinstance(strategy, tf.distribute.TPUStrategy)
                and (AUTO_JIT_ON_CPU or not cpu_only)
            )
        self.jit_compile = bool(jit_compile)
        self.steps_per_execution = int(steps_per_execution)
        self.train_function = self.test_function = self.predict_function = None
        if self._compile_config is not None:
            self._compile_config.config.update(
                jit_compile=self.jit_compile, steps_per_execution=self.steps_per_execution
            )

    @classmethod
    def create(cls, networks, optimizers=None, **settings):
        """Builds and compiles a trainer from its parts, as the config layer and
        `tfgans.Estimator` builders do: `cls(**networks, **init settings)`, then
        `compile(<network>_optimizer=..., **the other settings)`.

        Args:
            networks: {name: keras.Model}, the constructor's network arguments.
            optimizers: {trained network name: optimizer}.
            **settings: the arguments of `SETTINGS` (`__init__`'s go to the constructor,
                the rest to `compile`).
        """
        import inspect

        init = set(inspect.signature(cls.__init__).parameters)
        trainer = cls(**networks, **{k: v for k, v in settings.items() if k in init})
        trainer.compile(
            **{f"{name}_optimizer": opt for name, opt in (optimizers or {}).items()},
            **{k: v for k, v in settings.items() if k not in init},
        )
        return trainer

    #: The settings a config sets (`tfgans.settings.Setting`s): every argument of
    #: `__init__` and `compile` but the networks and optimizers. Families declare theirs.
    SETTINGS = ()
    #: The networks that get an optimizer, in order; `compile` takes `<name>_optimizer`.
    TRAINED = ()
    #: Whether `apply_gradients` records each network's gradient norm (`grad_norm_<net>`,
    #: for `TrainingHealth` and TensorBoard). A family that applies gradients inside
    #: `tf.cond` branches (StackGAN's stages) turns it off: a tensor made in a branch
    #: cannot reach the step's logs.
    RECORDS_GRADIENT_NORMS = True

    @staticmethod
    def resolve_settings(**settings):
        """The effective values of `settings` (those left None take the family's defaults);
        the one place a family's defaults apply. Families with such defaults override it."""
        return dict(settings)

    def compile_from_config(self, config):
        self.compile(**serialization_lib.deserialize_keras_object(config))

    @property
    def optimizers(self):
        """{trained network name: its optimizer}."""
        return dict(self._optimizers)

    @property
    def step(self):
        """Training steps taken: the iterations of the first trained network's optimizer."""
        return self._optimizers[self.trained_networks[0]].iterations

    # ---------------------------------------------------------------------- the step

    def noise_key(self, step, *streams):
        """A Philox key for the draws of one training step, a pure function of
        (seed, step, streams)."""
        return noise_lib.fold_seed(self.seed, step, *streams)

    def scale_loss(self, loss, network):
        """Scales a per-replica loss for the strategy (1 / replicas) and for the loss scale
        of mixed_float16; call it inside the tape, so the scaling is differentiated too."""
        scaled = loss / noise_lib.num_replicas()
        optimizer = self._optimizers[network]
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            scaled = optimizer.scale_loss(scaled)
        return scaled

    def apply_gradients(self, network, scaled_loss, tape, finite=True):
        """Differentiates `scaled_loss` w.r.t. the network's trainable variables and applies
        the gradients with its optimizer, zeroing them where the loss (`finite`) or the
        gradients are not finite, so NaN never reaches the weights. Returns the finite flag."""
        variables = getattr(self, network).trainable_variables
        grads = tape.gradient(scaled_loss, variables)
        finite = tf.logical_and(tf.convert_to_tensor(finite), all_finite(grads))
        grads = [tf.where(finite, g, tf.zeros_like(g)) for g in grads]
        self._record_gradient_norm(network, grads, finite)
        self._optimizers[network].apply(grads, variables)
        return finite

    def _record_gradient_norm(self, network, grads, finite):
        """Records the global norm of the gradient of the network's (global-batch) loss for
        `track`: unscaled from mixed_float16's loss scale and, on several replicas, the norm
        of the replicas' summed gradients (one extra all-reduce), so it does not depend on
        the number of replicas. A step whose gradients were not finite is left out."""
        name = f"grad_norm_{network}"
        if name not in self._trackers:
            return
        grads = [tf.cast(g, tf.float32) for g in grads if g is not None]
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1 and grads:
            grads = context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
        norm = tf.linalg.global_norm(grads) if grads else tf.constant(0.0)
        optimizer = self._optimizers[network]
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            norm = norm / tf.cast(optimizer.scale_loss(1.0), tf.float32)
        self._grad_norms.setdefault(name, []).append((norm, tf.cast(finite, tf.float32)))

    def add_trackers(self, names):
        """Adds a `keras.metrics.Mean` per name; `track` updates them. A tracker whose name
        ends in `loss` (or is `penalty`, `nonfinite`, `l1`) is one to minimise: Keras'
        `EarlyStopping`, `ReduceLROnPlateau` and `ModelCheckpoint` can monitor it as they
        are (see `monitor_directions`)."""
        for name in names:
            self._trackers[name] = keras.metrics.Mean(name=name)

    def monitor_directions(self):
        """{tracker name: "min" or "max"} for the trackers a callback may monitor with
        mode "auto"; the others (e.g. D(real) means) have no better direction."""
        return {name: "min" for name in self._trackers
                if name.endswith("loss") or name in ("penalty", "nonfinite", "l1")}

    def track(self, logs):
        """Updates the trackers named in `logs`; returns every tracker's result."""
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        for name, norms in self._grad_norms.items():  # this step's (n_critic steps: mean)
            values, weights = zip(*norms)
            self._trackers[name].update_state(
                tf.stack(values), sample_weight=tf.stack(weights))
        self._grad_norms.clear()
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    @property
    def metrics(self):
        return list(self._trackers.values())

    def fit(self, x=None, y=None, *args, callbacks=None, check=True, **kwargs):
        """`keras.Model.fit`, plus:

        - the first batch is checked (`check_data`; `check=False` skips it): one clear
          error for batches this family cannot train on, a warning for suspicious values
          (reading it starts one extra pass over a `tf.data.Dataset`, which advances its
          reshuffle seed as any pass does); before the first step it also initialises the
          networks from it (`initialize_from_data`);
        - `StopOnNonFinite`: a non-finite loss stops training with a clear
          `NonFiniteLossError`;
        - Keras' monitoring callbacks work with the trackers as they are:
          `EarlyStopping(monitor="g_loss")` and `ModelCheckpoint(monitor="d_loss")` get the
          tracker's direction (`monitor_directions`), and `ReduceLROnPlateau` reduces the
          learning rate of every trained network's optimizer.
        """
        if check:
            data = x if y is None else (x, y)
            self.check_data(data, kwargs.get("batch_size"))
            if self.initializes_from_data() and int(self.step.numpy()) == 0:
                batch = first_batch(data, kwargs.get("batch_size"))
                if batch is not None:
                    self.initialize_from_data(batch)
        callbacks = adapt_callbacks(self, callbacks) + [StopOnNonFinite()]
        return super().fit(x, y, *args, callbacks=callbacks, **kwargs)

    def check_data(self, data, batch_size=None):
        """Checks the first batch of `data` (a `tf.data.Dataset`, arrays, or a tuple of
        them) eagerly, before training: families override it to check values (label
        ranges, image ranges). The base checks nothing."""

    def initialize_from_data(self, batch):
        """Data-dependent initialisation before the first step, from one batch (NumPy,
        structured like the training batches): `fit` (when it checks the data) and
        `GANEstimator.train` call it on a fresh run only, never on a resumed one (the
        estimator reads a separate instance of its input, so a `tf.data.Dataset` passed to
        it as is is not read for this: call it yourself before `train`). Families
        override it (the semi-supervised GAN: its discriminator's weight-norm
        initialisation, when the network has one); the base does nothing."""

    def initializes_from_data(self):
        """Whether `initialize_from_data` does anything (callers skip reading the first
        batch otherwise): True when a family overrides it."""
        return type(self).initialize_from_data is not Trainer.initialize_from_data

    # ------------------------------------------------------------------- checkpoints

    def state_variables(self):
        """{name: variable or list of variables}: the family's own state to checkpoint
        (BEGAN's k_t, a history pool, ADA's p, ...). None by default."""
        return {}

    def checkpoint_items(self):
        """Everything a checkpoint must hold for an exact resume: {name: list of variables}
        for each network (with its layers' random-number state), optimizer, EMA copy, and
        the family's `state_variables()`. Variables are listed rather than the models:
        `tf.train.Checkpoint` does not see Keras 3 layers kept in Python lists."""
        items = {}
        for name in self.network_names:
            network = getattr(self, name)
            items[name] = list(network.weights)
            rng = _rng_states(network)
            if rng:
                items[f"{name}_rng"] = rng
        for name, optimizer in self._optimizers.items():
            items[f"{name}_optimizer"] = list(optimizer.variables)
        for name in self.ema_network_names:
            items[f"ema_{name}"] = list(getattr(self, f"ema_{name}").weights)
        for name, value in self.state_variables().items():
            items[f"state_{name}"] = value
        return items

    def network_weights(self):
        """Every weight of the networks and their EMA copies (to compare replicas)."""
        weights = []
        for name in self.network_names:
            weights += getattr(self, name).weights
        for name in self.ema_network_names:
            weights += getattr(self, f"ema_{name}").weights
        return weights

    # --------------------------------------------------------- what each family defines

    def check_batch(self, element_spec):
        """Checks a dataset's `element_spec` against the batches this family consumes;
        raises ValueError with one line that says what was expected. Returns the global
        batch size (or None when unknown)."""
        raise NotImplementedError(f"{type(self).__name__} must define check_batch().")

    def sample(self, *args, **kwargs):
        """Samples from the trained model (`Estimator.predict`): for noise -> image,
        `(num_samples, seed, labels)` -> images in [-1, 1]; for image -> image, images ->
        images."""
        raise NotImplementedError(f"{type(self).__name__} must define sample().")

    def sample_grid(self, num_images, seed=0):
        """Returns (images in [-1, 1] [N, H, W, C], columns) for a sample grid."""
        raise NotImplementedError(f"{type(self).__name__} must define sample_grid().")

    def evaluation_samples(self, num_samples, seed=0):
        """Returns (images in [-1, 1], labels or None) to evaluate against real data."""
        raise NotImplementedError(f"{type(self).__name__} must define evaluation_samples().")

    def evaluation_metrics(self, extractor, num_samples, seed=0):
        """The family's own metrics, measured with the evaluation's feature extractor
        (`Estimator.evaluate` adds them; InfoGAN: how its categorical code matches the
        extractor's classes). None by default: {}."""
        return {}

    def held_out_metrics(self, dataset):
        """The family's metrics on held-out labelled data (a `tf.data.Dataset` of
        `(images, labels)` batches, e.g. a test split; `Estimator.evaluate(held_out=...)`):
        the semi-supervised GAN's classifier accuracy. None by default: {}."""
        return {}

    def export_spec(self):
        """Returns the `ExportSpec` of what this trainer serves."""
        raise NotImplementedError(f"{type(self).__name__} must define export_spec().")

    def settings(self):
        """The effective settings that define this trainer's run (JSON-like): the run
        fingerprint of an estimator given no config. Families add their own keys."""

        def optimizer(opt):
            config = dict(keras.optimizers.serialize(opt))
            config["config"] = {k: v for k, v in config["config"].items() if k != "name"}
            return config

        return {
            "trainer": type(self).__name__,
            "family": self.family,
            "seed": self.seed,
            "ema_decay": self.ema_decay,
            "dtype_policy": keras.config.dtype_policy().name,
            "networks": {
                name: {
                    "class": type(getattr(self, name)).__name__,
                    "weights": [list(map(int, v.shape)) for v in getattr(self, name).weights],
                }
                for name in self.network_names
            },
            "optimizers": {name: optimizer(opt) for name, opt in self._optimizers.items()},
        }


def _clone(model, name):
    """A fresh copy of `model` (same class and config) named `name`."""
    try:
        config = model.get_config()
        return type(model).from_config({**config, "name": name})
    except Exception:  # noqa: BLE001 - fall back to Keras' own cloning, then explain
        try:
            return keras.models.clone_model(model)
        except Exception as e:  # noqa: BLE001
            raise ValueError(
                "EMA needs a copy of the network, and keras.models.clone_model failed: give "
                f"{type(model).__name__} a `get_config()` returning its constructor arguments. "
                f"Cause: {e}"
            ) from e
