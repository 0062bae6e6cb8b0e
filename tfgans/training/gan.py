"""`GAN`: the noise -> image trainer, whose `train_step` alternates critic and generator
updates. The machinery every family shares (optimizers, loss scaling, the finite guard,
EMA, trackers, checkpoint items) is in `tfgans.training.Trainer`."""

import re
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras.src.saving import serialization_lib

from tfgans import losses as losses_lib
from tfgans import penalties as penalties_lib
from tfgans.settings import Key, Setting
from tfgans.training import noise as noise_lib
from tfgans.training import unrolling
from tfgans.training import stabilisers as stabilisers_lib
from tfgans.training.trainer import ExportSpec, Trainer, check_global_batch, first_batch

# Streams of the (seed, step, stream) noise keys. Critic update k of a step uses stream
# _D_STREAM + k; the generator update uses _G_STREAM. Sub-streams separate the draws of one
# update (noise, interpolation weights, perturbations).
_D_STREAM = 0
_G_STREAM = 1000
_NOISE, _ALPHA, _PERTURB = 0, 1, 2
_GENERATE_STREAM = 7


def unpack_batch(data):
    """Splits a noise -> image batch into (images, labels or None); accepts `images`,
    `(images,)`, `(images, labels)` and `{"images": ..., "labels": ...}`."""
    if isinstance(data, dict):
        return data["images"], data.get("labels")
    if isinstance(data, (tuple, list)):
        if len(data) == 1:
            return data[0], None
        return data[0], data[1]
    return data, None


def infer_latent_dim(generator, latent_dim=None):
    """`latent_dim`, or a functional generator's (first) input size, or the generator's
    `latent_dim` attribute, or 128."""
    if latent_dim is not None:
        return latent_dim
    try:
        inputs = generator.inputs  # functional and Sequential models
    except (AttributeError, ValueError):
        inputs = None
    if isinstance(inputs, (list, tuple)) and len(inputs) >= 1:
        size = inputs[0].shape[-1]
        if size is not None:
            return int(size)
    return int(getattr(generator, "latent_dim", None) or 128)


def resolve_settings(loss="wasserstein", gradient_penalty=None, penalty_type="wgan_gp",
                     penalty_target=1.0, one_sided_penalty=False, weight_clip=None,
                     n_critic=None, label_smoothing=0.0, ac_weight=1.0, unrolled_steps=0):
    """The effective training settings of a `GAN`: the one place where a loss' defaults
    apply (`compile` and the config layer both call it).

    `gradient_penalty=None` takes the loss' default (10 for "wasserstein", else 0; 0 with
    `weight_clip`); `n_critic=None` the loss' (5 for "wasserstein", else 1);
    `weight_clip` 0 or None means no clipping. `unrolled_steps` > 0 (the unrolled GAN) needs
    no gradient penalty and no weight clipping (`unrolling.check_unrolled_settings`).

    Returns:
        {argument: effective value} for every argument, `loss` as its registry name.
    """
    gan_loss = losses_lib.get(loss)
    weight_clip = float(weight_clip) if weight_clip else 0.0
    if gradient_penalty is None:
        gradient_penalty = 0.0 if weight_clip else gan_loss.gradient_penalty
    n_critic = int(gan_loss.n_critic if n_critic is None else n_critic)
    if n_critic < 1:
        raise ValueError(f"`n_critic` must be >= 1. Received: n_critic={n_critic}")
    penalties_lib.PenaltyConfig(  # validates the penalty settings
        type=penalty_type, weight=float(gradient_penalty), target=float(penalty_target),
        one_sided=bool(one_sided_penalty), weight_clip=weight_clip or None,
    )
    unrolling.check_unrolled_settings(unrolled_steps, gradient_penalty, weight_clip)
    return {
        "loss": gan_loss.name,
        "gradient_penalty": float(gradient_penalty),
        "penalty_type": penalty_type,
        "penalty_target": float(penalty_target),
        "one_sided_penalty": bool(one_sided_penalty),
        "weight_clip": weight_clip,
        "n_critic": n_critic,
        "label_smoothing": float(label_smoothing),
        "ac_weight": float(ac_weight),
        "unrolled_steps": int(unrolled_steps),
    }


def adversarial_loss(gan_loss, real_logits, fake_logits, generator, **kwargs):
    """Returns (loss, loss_to_differentiate) of a `GANLoss` for the discriminator or the
    generator, in a replica's step (every trainer that scores real and fake logits uses it).

    For most losses the two are the same. A loss of the batch means (relativistic) must see
    the means over the whole global batch, and its gradient through those means must be
    summed over replicas. Means are all-reduced forward only, and the gradient through them
    is restored exactly by the surrogate `loss + stop_gradient(c) . local_means`, with `c`
    the cross-replica mean of d loss / d means: summed over replicas (and scaled by 1/R) its
    gradient is the gradient of the global loss, with no collective in the backward pass.

    Args:
        kwargs: passed to the loss (e.g. the discriminator's `label_smoothing`) when it
            does not use the batch means.
    """
    if not gan_loss.uses_batch_mean:
        if generator:
            loss = gan_loss.generator_loss(fake_logits, real_logits, **kwargs)
        else:
            loss = gan_loss.discriminator_loss(real_logits, fake_logits, **kwargs)
        return loss, loss
    local = tf.stack([tf.reduce_mean(real_logits), tf.reduce_mean(fake_logits)])
    means = noise_lib.cross_replica_mean(local)
    with tf.GradientTape() as tape:
        tape.watch(means)
        kw = {"real_mean": means[0], "fake_mean": means[1]}
        if generator:
            loss = gan_loss.generator_loss(fake_logits, real_logits, **kw)
        else:
            loss = gan_loss.discriminator_loss(real_logits, fake_logits, **kw)
    c = noise_lib.cross_replica_mean(tape.gradient(loss, means))
    return loss, loss + tf.reduce_sum(c * local)


@keras.saving.register_keras_serializable(package="tfgans")
class GAN(Trainer):
    """A generator and a discriminator trained together under `fit` (noise -> image).

    Each `train_step` makes `n_critic` discriminator updates and then one generator
    update. Each network's own losses (`network.losses`: kernel regularizers such as
    BigGAN's orthogonal regularization, `add_loss` terms) are added to its loss. Noise (and the WGAN-GP interpolation weights) is drawn on the device, statelessly
    from `(seed, step)` for the whole global batch, each replica taking its own slice, so a
    run gives the same weights on 1, 2 or N replicas and compiles with XLA. Per-replica losses
    are scaled by `1 / num_replicas` before the gradients are summed across replicas.

    Args:
        generator: a Keras model mapping noise [B, latent_dim] (or `[noise, labels]` when
            conditional) to images in [-1, 1].
        discriminator: a Keras model mapping images (or `[images, labels]` when conditional)
            to logits [B, 1], higher meaning "real". An AC-GAN discriminator takes images
            only and returns `[logits, class_logits]`; mark it with the attribute
            `conditioning = "acgan"` (tfgans' models do).
        latent_dim: size of the noise vector; None: a functional generator's input size
            (or the generator's `latent_dim` attribute; else 128).
        num_classes: number of classes for a conditional GAN, else None. Labels may be
            class ids [B] or one-hot [B, num_classes].
        ema_decay: if set (e.g. 0.999), an exponential moving average of the generator's
            weights is kept in `ema_generator` and used by `generate()`.

    The call contract (checked when the GAN is built, with an error that states it): the
    generator is called as `G(noise)`, or `G([noise, labels])` when conditional, and
    returns images [B, H, W, C] (or points [B, D]); the discriminator is called as
    `D(images)`, or `D([images, labels])`, and returns logits [B, 1]. Networks that take
    one concatenated input (keras-io's conditional GAN) fit it through
    `tfgans.models.OneHotConcatGenerator` / `OneHotChannelsDiscriminator`.
        seed: the seed all training noise is derived from.

    Example:
    ```python
    gan = tfgans.GAN(generator, discriminator, latent_dim=128)
    gan.compile(generator_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
                discriminator_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9))
    gan.fit(dataset, epochs=10)
    images = gan.generate(num_samples=64, seed=0)
    ```

    Reference: https://arxiv.org/abs/1406.2661, https://arxiv.org/abs/1704.00028
    """

    family = "noise_to_image"

    #: Every setting of `__init__` and `compile` that a config sets, with its key. The
    #: networks come from the preset (`model.name`), the optimizers from the `optimizer`
    #: section (one per trained network), `num_classes` from the data.
    SETTINGS = (
        Setting("model.latent_dim", "latent_dim", Key(128, "int", low=1, doc="noise size")),
        Setting("data.num_classes", "num_classes", Key(
            None, "int", low=2, nullable=True,
            doc="classes of a conditional model; null: the dataset's (with data.labels)")),
        Setting("train.ema", "ema_decay", Key(
            0.999, "float", low=0.0, high=1.0, high_open=True, nullable=True,
            doc="generator weight EMA decay; 0 (or null): no EMA")),
        Setting("train.seed", "seed", Key(0, "int", low=0, doc="seed of weights and noise")),
        Setting("loss.name", "loss", Key(
            "wasserstein", "str", choices=tuple(losses_lib.LOSSES.names()),
            doc="the adversarial loss")),
        Setting("loss.gradient_penalty", "gradient_penalty", Key(
            None, "float", low=0.0, nullable=True,
            doc="penalty weight; null: the loss's default (10 for wasserstein, else 0)")),
        Setting("loss.penalty_type", "penalty_type", Key(
            "wgan_gp", "str", choices=penalties_lib.PENALTY_TYPES,
            doc="wgan_gp (interpolates), dragan (perturbed reals) or r1 (reals)")),
        Setting("loss.penalty_target", "penalty_target", Key(
            1.0, "float", low=0.0, low_open=True, doc="gradient norm aimed at")),
        Setting("loss.one_sided_penalty", "one_sided_penalty", Key(
            False, "bool", doc="penalise only gradient norms above the target")),
        Setting("loss.weight_clip", "weight_clip", Key(
            0.0, "float", low=0.0, doc="clip D's weights to [-c, c] (original WGAN); 0: off")),
        Setting("loss.n_critic", "n_critic", Key(
            None, "int", low=1, nullable=True,
            doc="D updates per G update; null: the loss's default (5 for wasserstein)")),
        Setting("loss.label_smoothing", "label_smoothing", Key(
            0.0, "float", low=0.0, high=1.0, high_open=True,
            doc="one-sided smoothing of the real labels (minimax, non_saturating, AC)")),
        Setting("loss.ac_weight", "ac_weight", Key(
            1.0, "float", low=0.0, doc="weight of the AC-GAN classification losses")),
        Setting("loss.unrolled_steps", "unrolled_steps", Key(
            0, "int", low=0, high=100,
            doc="unrolled GAN (Metz et al. 2017): G's loss after this many differentiable "
            "D steps (adam or sgd, D's own settings); 0: off")),
    ) + stabilisers_lib.SETTINGS  # feature matching, label noise, DiffAugment / ADA, ...

    #: The networks that get an optimizer, in order.
    TRAINED = ("generator", "discriminator")
    #: `generate` clips its outputs to this (low, high); None (the default): returned as
    #: the generator gives them (a tanh generator is in [-1, 1] already).
    output_range = None

    resolve_settings = staticmethod(stabilisers_lib.extend_resolve(resolve_settings))

    def __init__(self, generator, discriminator, latent_dim=None, num_classes=None,
                 ema_decay=None, seed=0, **kwargs):
        if ema_decay == 0:
            ema_decay = None
        super().__init__(
            {"generator": generator, "discriminator": discriminator}, trained=self.TRAINED,
            ema_networks=("generator",), ema_decay=ema_decay, seed=seed, **kwargs,
        )
        latent_dim = infer_latent_dim(generator, latent_dim)
        if int(latent_dim) <= 0:
            raise ValueError(f"`latent_dim` must be positive. Received: latent_dim={latent_dim}")
        if num_classes is not None and int(num_classes) < 2:
            raise ValueError(
                f"`num_classes` must be None or >= 2. Received: num_classes={num_classes}"
            )
        self.latent_dim = int(latent_dim)
        self.num_classes = None if num_classes is None else int(num_classes)
        conditioning = getattr(discriminator, "conditioning", None)
        self.auxiliary_classifier = conditioning == "acgan"
        self.discriminator_takes_labels = self.num_classes is not None and not (
            self.auxiliary_classifier
        )
        if self.auxiliary_classifier and self.num_classes is None:
            raise ValueError("An AC-GAN discriminator needs `num_classes`. Received: None")
        self.add_trackers(["d_loss", "g_loss", "penalty", "d_real", "d_fake", "nonfinite"]
                          + (["ac_loss"] if self.auxiliary_classifier else []))
        self.ema_generator = None
        self._build_models()

    # ----------------------------------------------------------------------------- build

    def _dummy_inputs(self, batch=1):
        noise = tf.zeros([batch, self.latent_dim])
        labels = tf.zeros([batch], tf.int32)
        return noise, labels

    def _g_inputs(self, noise, labels):
        return [noise, labels] if self.num_classes is not None else noise

    def _d_inputs(self, images, labels):
        return [images, labels] if self.discriminator_takes_labels else images

    def _contract_error(self, what, call, cause):
        conditional = self.num_classes is not None
        g_call = "G([noise, labels])" if conditional else "G(noise)"
        d_call = ("D([images, labels])" if self.discriminator_takes_labels else "D(images)")
        cause = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(cause).split()))
        cause = cause.split(" Arguments received by")[0][:300]
        return ValueError(
            f"tfgans.GAN calls the generator as {g_call} with noise float32 [batch, "
            f"latent_dim={self.latent_dim}]" + (" and labels int32 [batch]" if conditional
                                                else "")
            + ", expecting images [batch, height, width, channels] in [-1, 1]; and the "
            f"discriminator as {d_call}, expecting logits [batch, 1] (an AC-GAN "
            "discriminator, marked conditioning='acgan': [logits, class_logits]). "
            f"The {what} does not fit: {call} -> {cause}. Check that generator and "
            "discriminator are not swapped and that latent_dim / num_classes match the "
            "networks; networks taking one concatenated input (keras-io's conditional GAN) "
            "fit through tfgans.models.OneHotConcatGenerator / OneHotChannelsDiscriminator."
        )

    def _build_models(self):
        """Creates all variables now (in the current strategy scope), so that `fit` under a
        strategy never needs to build the GAN symbolically from a data batch. Checks the
        call contract with one clear error."""
        noise, labels = self._dummy_inputs(batch=2)
        inputs = self._g_inputs(noise, labels)
        shapes = f"noise {tuple(noise.shape)}" + (
            f", labels {tuple(labels.shape)}" if self.num_classes is not None else "")
        try:
            images = self.generator(inputs, training=False)
        except Exception as e:  # noqa: BLE001 - re-raised with the contract
            raise self._contract_error("generator", f"G({shapes})", e) from e
        if not hasattr(images, "shape") or len(images.shape) < 2 or images.shape[0] != 2:
            raise self._contract_error("generator", f"G({shapes})",
                                       f"returned {getattr(images, 'shape', type(images))}")
        try:
            outputs = self.discriminator(self._d_inputs(images, labels), training=False)
        except Exception as e:  # noqa: BLE001
            raise self._contract_error(
                "discriminator", f"D(images {tuple(images.shape)})", e) from e
        logits = outputs[0] if self.auxiliary_classifier else outputs
        if tuple(getattr(logits, "shape", ())) not in ((2, 1), (2,)):
            raise self._contract_error(
                "discriminator", f"D(images {tuple(images.shape)})",
                f"returned {getattr(logits, 'shape', type(logits))}, not logits [batch, 1]")
        if len(images.shape) == 2 and images.shape[-1] == 1:
            raise self._contract_error(
                "generator", f"G({shapes})",
                f"returned {tuple(images.shape)}, which looks like logits: swapped networks?")
        self.image_shape = tuple(int(s) for s in images.shape[1:])
        self.make_ema_copies({"generator": inputs})
        self.built = True

    def call(self, inputs, training=False):
        """Generates images from noise (or `[noise, labels]`), like `generator(inputs)`."""
        return self.generator(inputs, training=training)

    # --------------------------------------------------------------------------- compile

    @stabilisers_lib.accepts_settings  # feature_matching=0.0, ..., ada=False, ...
    def compile(self, generator_optimizer=None, discriminator_optimizer=None,
                loss="wasserstein", gradient_penalty=None, penalty_type="wgan_gp",
                penalty_target=1.0, one_sided_penalty=False, weight_clip=None, n_critic=None,
                label_smoothing=0.0, ac_weight=1.0, unrolled_steps=0, **kwargs):
        """Configures training.

        Args:
            generator_optimizer, discriminator_optimizer: Keras optimizers (or names).
                Default: Adam(1e-4, beta_1=0.0, beta_2=0.9) each, as in WGAN-GP.
            loss: a loss name from `tfgans.losses.get` or a `GANLoss`.
            gradient_penalty: the penalty weight; None takes the loss' default (10 for
                "wasserstein", 0 otherwise, and 0 with `weight_clip`).
            penalty_type: "wgan_gp", "dragan" or "r1" (for R1 the weight is gamma).
            penalty_target: the gradient norm aimed at (WGAN-GP, DRAGAN).
            one_sided_penalty: penalise only norms above the target.
            weight_clip: clip the discriminator's weights to [-c, c] (original WGAN);
                None or 0: no clipping.
            n_critic: discriminator updates per generator update; None takes the loss'
                default (5 for "wasserstein", 1 otherwise).
            label_smoothing: one-sided label smoothing of the real labels (minimax,
                non-saturating and the AC-GAN classification loss).
            ac_weight: weight of the AC-GAN classification losses.
            unrolled_steps: k > 0 makes it the unrolled GAN (Metz et al. 2017): the
                generator's loss is taken after k unrolled discriminator steps (functional
                copies of the discriminator optimizer's Adam or SGD update) and
                differentiated through them; the discriminator's own update is unchanged.
                One device only; no gradient penalty, clipping or AC-GAN head.
            **kwargs: the stabilisers' settings (`tfgans.training.stabilisers`: feature
                matching, historical averaging, label noise, DiffAugment, ADA, LeCam, bCR,
                lazy penalties; all off by default), and `keras.Model.compile`'s
                (`jit_compile`, `steps_per_execution`, `run_eagerly`).
        """
        stabiliser_values = stabilisers_lib.pop_settings(kwargs)
        if isinstance(loss, losses_lib.GANLoss):
            losses_lib.register(loss)  # so that a saved GAN names it and loads back
        self.gan_loss = losses_lib.get(loss)
        settings = resolve_settings(
            self.gan_loss, gradient_penalty, penalty_type, penalty_target, one_sided_penalty,
            weight_clip, n_critic, label_smoothing, ac_weight, unrolled_steps,
        )
        settings.update(stabilisers_lib.resolve(
            settings, settings["loss"], settings["gradient_penalty"], **stabiliser_values))
        super().compile(
            {"generator": generator_optimizer, "discriminator": discriminator_optimizer},
            **kwargs,
        )
        self.penalty = penalties_lib.PenaltyConfig(
            type=settings["penalty_type"], weight=settings["gradient_penalty"],
            target=settings["penalty_target"], one_sided=settings["one_sided_penalty"],
            weight_clip=settings["weight_clip"] or None,
        )
        self.n_critic = settings["n_critic"]
        self.label_smoothing = settings["label_smoothing"]
        self.ac_weight = settings["ac_weight"]
        self.unrolled_steps = settings["unrolled_steps"]
        if self.unrolled_steps:
            unrolling.check_unrolled_trainer(self)
        self._compile_stabilisers(settings)
        if self.unrolled_steps:  # the unrolled D steps see neither augmentation nor noise
            self.stabilisers.refuse("The unrolled GAN (loss.unrolled_steps > 0)")
        self.training_settings = settings
        self._compile_config = serialization_lib.SerializableDict(
            generator_optimizer=self.generator_optimizer,
            discriminator_optimizer=self.discriminator_optimizer,
            **settings,
            **kwargs,
        )

    @property
    def generator_optimizer(self):
        return self._optimizers["generator"]

    @property
    def discriminator_optimizer(self):
        return self._optimizers["discriminator"]

    def get_config(self):
        return {
            **keras.Model.get_config(self),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "num_classes": self.num_classes,
            "ema_decay": self.ema_decay,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)

    @property
    def inference_generator(self):
        """The generator used for sampling and export: the EMA copy when EMA is on."""
        return self.inference_network("generator")

    # ------------------------------------------------------------------- stabilisers

    def _compile_stabilisers(self, settings):
        """Builds the stabilisers (`tfgans.training.stabilisers`) and their trackers."""
        for name in getattr(self, "_stabiliser_trackers", ()):
            self._trackers.pop(name, None)
        self.stabilisers = stabilisers_lib.Stabilisers(self, settings)
        self._stabiliser_trackers = self.stabilisers.trackers()
        self.add_trackers(self._stabiliser_trackers)

    def state_variables(self):
        """The stabilisers' state: ADA's p and r_t accumulator, LeCam's EMAs, the
        historical averages (only those switched on)."""
        stabilisers = getattr(self, "stabilisers", None)
        return dict(stabilisers.variables) if stabilisers is not None else {}

    def _discriminate(self, images, labels, features=False):
        """(logits, class logits, features or None) of D on images."""
        inputs = self._d_inputs(images, labels)
        if not features:
            return (*self._split(self.discriminator(inputs, training=True)), None)
        outputs, feats = stabilisers_lib.features_of(self.discriminator, inputs, True)
        return (*self._split(outputs), feats)

    # ----------------------------------------------------------------------- the contract

    def check_batch(self, element_spec):
        images, labels = unpack_batch(element_spec)
        if not isinstance(images, tf.TensorSpec) or images.shape.rank != 4:
            raise ValueError(
                "The input must yield image batches [batch, height, width, channels] (or "
                f"(images, labels)). Received element_spec: {element_spec}"
            )
        if self.num_classes is not None and labels is None:
            raise ValueError(
                f"This GAN is conditional (num_classes={self.num_classes}), but the input "
                "yields images without labels: yield (images, labels) batches."
            )
        batch = images.shape[0]
        check_global_batch(batch, self.distribute_strategy.num_replicas_in_sync)
        return batch

    def sample(self, num_samples=64, seed=0, labels=None, truncation=None):
        """`generate(num_samples, seed, labels, truncation=truncation)`."""
        return self.generate(num_samples=num_samples, seed=seed, labels=labels,
                             truncation=truncation)

    def sample_grid(self, num_images, seed=0):
        """A grid of fixed noise; for a conditional GAN one row per class."""
        from tfgans.callbacks import grid_layout  # the layout is the callbacks' business

        labels, columns = grid_layout(num_images, self.num_classes)
        num = num_images if labels is None else len(labels)
        return self.generate(num_samples=num, seed=seed, labels=labels), columns

    def evaluation_samples(self, num_samples, seed=0):
        """`generate(num_samples, seed)` and, for a conditional GAN, the classes in turn."""
        labels = None if self.num_classes is None else np.arange(num_samples) % self.num_classes
        return self.generate(num_samples=num_samples, seed=seed, labels=labels), labels

    def export_spec(self):
        return ExportSpec("noise_to_image", self.inference_generator,
                          {"latent_dim": self.latent_dim, "num_classes": self.num_classes})

    def settings(self):
        return {
            **super().settings(),
            "latent_dim": self.latent_dim,
            "num_classes": self.num_classes,
            "image_shape": list(self.image_shape),
            **getattr(self, "training_settings", {}),
        }

    # ------------------------------------------------------------------------- the step

    def _split(self, outputs):
        if self.auxiliary_classifier:
            logits, class_logits = outputs
            return tf.cast(logits, tf.float32), tf.cast(class_logits, tf.float32)
        return tf.cast(outputs, tf.float32), None

    def _adversarial_loss(self, real_logits, fake_logits, generator):
        """Returns (loss, loss_to_differentiate) for the discriminator or generator (see
        `adversarial_loss`), with the discriminator's label smoothing."""
        kw = {}
        if not generator and self.label_smoothing and self.gan_loss.name in (
                "minimax", "non_saturating"):
            kw["label_smoothing"] = self.label_smoothing
        return adversarial_loss(self.gan_loss, real_logits, fake_logits, generator, **kw)

    def _noise(self, step, stream, batch):
        key = self.noise_key(step, stream, _NOISE)
        global_noise = noise_lib.normal([batch * noise_lib.num_replicas(), self.latent_dim], key)
        return noise_lib.replica_slice(global_noise, batch)

    def _input_gradients(self, x, labels):
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits, _ = self._split(self.discriminator(self._d_inputs(x, labels), training=True))
            # Examples are independent (no batch norm in D), so the gradient of the sum is
            # each example's own input gradient.
            total = tf.reduce_sum(logits)
        return tape.gradient(total, x)

    def _penalty(self, real, fake, labels, step, stream):
        cfg = self.penalty
        batch = real.shape[0] or tf.shape(real)[0]
        global_batch = batch * noise_lib.num_replicas()
        if cfg.type == "r1":
            grads = self._input_gradients(real, labels)
            return penalties_lib.r1_penalty(grads, gamma=1.0)
        key = self.noise_key(step, stream, _ALPHA)
        alpha = noise_lib.replica_slice(noise_lib.uniform([global_batch], key), batch)
        if cfg.type == "dragan":
            moments = noise_lib.cross_replica_mean(
                tf.stack([tf.reduce_mean(real), tf.reduce_mean(tf.square(real))])
            )
            std = tf.sqrt(tf.maximum(moments[1] - tf.square(moments[0]), 0.0))
            pkey = self.noise_key(step, stream, _PERTURB)
            u = noise_lib.uniform([global_batch] + real.shape[1:].as_list(), pkey)
            other = penalties_lib.dragan_perturb(real, noise_lib.replica_slice(u, batch), std)
        else:
            other = fake
        x_hat = penalties_lib.interpolate(real, tf.stop_gradient(other), alpha)
        grads = self._input_gradients(x_hat, labels)
        return penalties_lib.gradient_norm_penalty(
            grads, target=cfg.target, one_sided=cfg.one_sided
        )

    def _discriminator_step(self, real, labels, step, k):
        batch = real.shape[0] or tf.shape(real)[0]
        stream = _D_STREAM + k
        noise = self._noise(step, stream, batch)
        fake = self.generator(self._g_inputs(noise, labels), training=True)
        fake = tf.stop_gradient(tf.cast(fake, real.dtype))
        st = self.stabilisers
        real = st.augment(real, step, stream, real=True)  # DiffAugment / ADA, else identity
        fake = st.augment(fake, step, stream, real=False)
        with tf.GradientTape() as tape:
            real_logits, real_class = self._split(
                self.discriminator(self._d_inputs(real, labels), training=True)
            )
            fake_logits, fake_class = self._split(
                self.discriminator(self._d_inputs(fake, labels), training=True)
            )
            if st.label_noise:
                d_loss = st.noisy_discriminator_loss(
                    real_logits, fake_logits, step, stream, self.label_smoothing)
                total = d_loss
            else:
                d_loss, total = self._adversarial_loss(real_logits, fake_logits,
                                                       generator=False)
            penalty = tf.constant(0.0)
            if self.penalty.weight > 0 and st.settings["penalty_interval"] > 1:
                on, weight = st.penalty_weight(step, self.penalty.weight)  # lazy: k x, every k
                penalty = tf.cond(on, lambda: self._penalty(real, fake, labels, step, stream),
                                  lambda: tf.constant(0.0))
                total = total + weight * penalty
            elif self.penalty.weight > 0:
                penalty = self._penalty(real, fake, labels, step, stream)
                total = total + self.penalty.weight * penalty
            extra, stabiliser_logs, updates = st.discriminator_terms(
                real, fake, real_logits, fake_logits, labels, step, stream)
            total = total + extra
            ac_loss = tf.constant(0.0)
            if self.auxiliary_classifier:
                one_hot = tf.one_hot(labels, self.num_classes)
                ac_loss = losses_lib.acgan_discriminator_loss(
                    real_class, fake_class, one_hot, label_smoothing=self.label_smoothing
                )
                total = total + self.ac_weight * ac_loss
            total = total + network_losses(self.discriminator)
            scaled = self.scale_loss(total, "discriminator")
        finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(total))
        for variable, value in updates:  # LeCam's moving averages
            variable.assign(value)
        st.observe_real_logits(real_logits)  # ADA's r_t
        if self.penalty.weight_clip:
            penalties_lib.clip_weights(
                self.discriminator.trainable_variables, self.penalty.weight_clip
            )
        return {
            "d_loss": d_loss,
            "penalty": penalty,
            "d_real": tf.reduce_mean(real_logits),
            "d_fake": tf.reduce_mean(fake_logits),
            "ac_loss": ac_loss,
            "finite": finite,
            **stabiliser_logs,
        }

    def _generator_step(self, real, labels, step):
        batch = real.shape[0] or tf.shape(real)[0]
        noise = self._noise(step, _G_STREAM, batch)
        st = self.stabilisers
        matching = st.settings["feature_matching"]
        real_logits = real_features = None
        logs = {}
        if self.gan_loss.uses_batch_mean or matching:
            real = st.augment(real, step, _G_STREAM, real=True)
            real_logits, _, real_features = self._discriminate(real, labels, bool(matching))
            if matching:
                real_features = [tf.stop_gradient(f) for f in real_features]
        with tf.GradientTape() as tape:
            fake = self.generator(self._g_inputs(noise, labels), training=True)
            fake = st.augment(fake, step, _G_STREAM, real=False)  # DiffAugment / ADA
            fake_logits, fake_class, fake_features = self._discriminate(
                fake, labels, bool(matching))
            if self.unrolled_steps:  # the unrolled GAN: D's logits after k unrolled steps
                fake_logits = self._unrolled_fake_logits(real, fake, labels)
            g_loss, total = self._adversarial_loss(real_logits, fake_logits, generator=True)
            if matching:
                fm, fm_total = st.feature_matching(real_features, fake_features)
                total = total + matching * fm_total
                logs["feature_matching"] = fm
            if st.settings["historical_averaging"]:
                total = total + st.settings["historical_averaging"] * st.historical_penalty(
                    "generator")
            if self.auxiliary_classifier:
                total = total + self.ac_weight * losses_lib.acgan_generator_loss(
                    fake_class, tf.one_hot(labels, self.num_classes)
                )
            total = total + network_losses(self.generator)
            scaled = self.scale_loss(total, "generator")
        finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(total))
        st.generator_logs = logs  # the stabilisers' metrics, read by train_step
        return g_loss, finite

    def _unrolled_fake_logits(self, real, fake, labels, steps=None):
        """D's logits of `fake` after `steps` (default `unrolled_steps`) differentiable
        updates of a copy of D's weights on this batch (`unrolling.unrolled_weights`);
        called inside the generator's tape, so G's gradient flows through the updates."""
        weights = unrolling.unrolled_weights(
            self, real, fake, labels, self.unrolled_steps if steps is None else steps)
        return unrolling.logits_with(self, weights, fake, labels)

    def _check_labels(self, labels):
        if self.num_classes is not None and labels is None:
            raise ValueError(
                "This GAN is conditional (num_classes="
                f"{self.num_classes}): batches must be (images, labels). Received images only."
            )
        if labels is not None and self.num_classes is not None:
            labels = tf.convert_to_tensor(labels)
            rank = labels.shape.rank
            if rank == 2 and labels.shape[-1] == self.num_classes:
                labels = tf.argmax(labels, axis=-1)  # one-hot (keras-io's conditional GAN)
            elif rank is not None and rank > 1 and not (rank == 2 and labels.shape[-1] == 1):
                raise self._labels_shape_error(labels.shape)
            labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        return labels if self.num_classes is not None else None

    def _labels_shape_error(self, shape):
        return ValueError(
            f"Labels must be class ids [batch] or one-hot [batch, num_classes="
            f"{self.num_classes}]. Received labels of shape {tuple(shape)}."
        )

    def check_data(self, data, batch_size=None):
        """Checks the first batch: conditional GANs need labels that are class ids in
        [0, num_classes) (or one-hot rows); images outside [-1, 1] get a warning."""
        batch = first_batch(data, batch_size)
        if batch is None:
            return
        images, labels = unpack_batch(batch)
        images = np.asarray(images)
        if images.size and np.issubdtype(images.dtype, np.number):
            low, high = float(np.min(images)), float(np.max(images))
            if low < -1.0 - 1e-3 or high > 1.0 + 1e-3:
                warnings.warn(
                    f"The first batch's images lie in [{low:g}, {high:g}], but tfgans expects "
                    "[-1, 1] (the generator's tanh range): scale them, e.g. "
                    "images / 127.5 - 1 for uint8 pixels.", stacklevel=3)
        if self.num_classes is None:
            return
        if labels is None:
            raise ValueError(
                f"This GAN is conditional (num_classes={self.num_classes}): batches must be "
                "(images, labels). Received images only."
            )
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[-1] == self.num_classes:
            ids = np.argmax(labels, axis=-1)
        elif labels.ndim == 1 or (labels.ndim == 2 and labels.shape[-1] == 1):
            ids = labels.reshape(-1)
        else:
            raise self._labels_shape_error(labels.shape)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_classes
                         or not np.all(ids == np.round(ids))):
            raise ValueError(
                f"Labels must be class ids in [0, {self.num_classes - 1}] (num_classes="
                f"{self.num_classes}). The first batch holds {ids.min():g}..{ids.max():g}: "
                "set num_classes to the number of classes, or fix the labels."
            )

    def train_step(self, data):
        real, labels = unpack_batch(data)
        labels = self._check_labels(labels)
        real = tf.cast(real, tf.float32)
        logs = {**self._alternate(real, labels, self.step),
                **self.stabilisers.generator_logs,
                **self.stabilisers.end_step(self.step, self._global_batch(real))}
        if not self.auxiliary_classifier:
            logs.pop("ac_loss")
        return self.track(logs)

    def _alternate(self, real, labels, step):
        """One training step's updates: `n_critic` discriminator steps, one generator step,
        the EMA update; returns the last discriminator step's logs, `g_loss` and
        `nonfinite` (1 when a loss or gradient was not finite: that update was skipped)."""
        finite = tf.constant(True)
        for k in range(self.n_critic):
            d_logs = self._discriminator_step(real, labels, step, k)
            finite = tf.logical_and(finite, d_logs.pop("finite"))
        g_loss, g_finite = self._generator_step(real, labels, step)
        finite = tf.logical_and(finite, g_finite)
        self.update_ema(step)
        return {**d_logs, "g_loss": g_loss, "nonfinite": 1.0 - tf.cast(finite, tf.float32)}

    def _global_batch(self, real):
        return (real.shape[0] or tf.shape(real)[0]) * noise_lib.num_replicas()

    def test_step(self, data):
        """Evaluates the losses on a batch without updating anything."""
        real, labels = unpack_batch(data)
        labels = self._check_labels(labels)
        real = tf.cast(real, tf.float32)
        batch = real.shape[0] or tf.shape(real)[0]
        noise = self._noise(tf.constant(0, tf.int64), _GENERATE_STREAM, batch)
        fake = tf.cast(self.generator(self._g_inputs(noise, labels), training=False), real.dtype)
        real_logits, _ = self._split(self.discriminator(self._d_inputs(real, labels)))
        fake_logits, _ = self._split(self.discriminator(self._d_inputs(fake, labels)))
        logs = {
            "d_loss": self._adversarial_loss(real_logits, fake_logits, generator=False)[0],
            "g_loss": self._adversarial_loss(real_logits, fake_logits, generator=True)[0],
            "d_real": tf.reduce_mean(real_logits),
            "d_fake": tf.reduce_mean(fake_logits),
        }
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        return {name: self._trackers[name].result() for name in logs}

    # ---------------------------------------------------------------------- generation

    def generate(self, num_samples=64, seed=0, labels=None, batch_size=256, truncation=None):
        """Samples images in [-1, 1] from the (EMA) generator.

        Sample i depends only on (seed, i) (and its label), not on `num_samples` or
        `batch_size`: the same seed always gives the same images.

        Args:
            num_samples: how many images.
            seed: an integer seed.
            labels: int class ids [num_samples] for a conditional GAN; None cycles through
                the classes (0, 1, ..., C-1, 0, ...).
            batch_size: how many images per generator call.
            truncation: None, or a threshold t > 0: the truncation trick (Brock et al.
                2019), noise from a standard normal truncated to [-t, t]; a smaller t
                trades variety for fidelity.

        Returns:
            A NumPy float32 array [num_samples, H, W, C] in [-1, 1].
        """
        if int(num_samples) <= 0:
            raise ValueError(f"`num_samples` must be positive. Received: num_samples={num_samples}")
        num_samples = int(num_samples)
        noise = sample_noise(num_samples, self.latent_dim, seed, check_truncation(truncation))
        return self.generate_from_noise(noise, labels, batch_size)

    def generate_from_noise(self, noise, labels=None, batch_size=256):
        """Images in [-1, 1] from the (EMA) generator for given noise [N, latent_dim]
        (e.g. interpolated: `tfgans.latent`); `labels` as for `generate`.

        With `output_range` set (ProGAN: [-1, 1]) the outputs are clipped to it, as the
        export clips images: a generator with a linear output (Progressive GAN's to-RGB
        layers) can overshoot the range."""
        noise = tf.convert_to_tensor(noise, tf.float32)
        if noise.shape.rank != 2 or noise.shape[-1] != self.latent_dim:
            raise ValueError(f"`noise` must be [N, latent_dim={self.latent_dim}]. Received "
                             f"shape {tuple(noise.shape)}.")
        num_samples = int(noise.shape[0])
        if self.num_classes is not None:
            labels = generation_labels(num_samples, self.num_classes, labels)
        elif labels is not None:
            raise ValueError("`labels` were given, but this GAN is not conditional (num_classes=None).")
        outputs = []
        for start in range(0, num_samples, batch_size):
            end = min(start + batch_size, num_samples)
            lab = None if labels is None else labels[start:end]
            out = self.inference_generator(self._g_inputs(noise[start:end], lab), training=False)
            outputs.append(tf.cast(out, tf.float32).numpy())
        outputs = np.concatenate(outputs, axis=0)
        if self.output_range is not None:
            outputs = np.clip(outputs, *self.output_range)
        return outputs


def network_losses(network):
    """The sum of a network's own losses (`network.losses`: its kernel regularizers, e.g.
    BigGAN's orthogonal regularization, and `add_loss` terms of its last call), float32.

    Read inside the tape, so the regularizers are differentiated. On every replica they are
    the same value (the variables are mirrored); they are added to the per-replica loss
    before `scale_loss` divides it by the replicas, so the gradients summed across replicas
    hold each regularizer's gradient once, as on one device.
    """
    losses = network.losses
    if not losses:
        return tf.constant(0.0)
    return tf.add_n([tf.cast(loss, tf.float32) for loss in losses])


def sample_noise(num_samples, latent_dim, seed, truncation=None):
    """The noise `GAN.generate` and the exported `generate` (`generate_truncated`)
    signatures use: [N, latent_dim] float32, row i a function of (seed, i) alone; with
    `truncation`, a standard normal truncated to [-truncation, truncation]
    (`noise.truncated_normal`)."""
    key = noise_lib.fold_seed(seed, _GENERATE_STREAM)
    if truncation is None:
        return noise_lib.normal([num_samples, latent_dim], key)
    return noise_lib.truncated_normal([num_samples, latent_dim], key, truncation)


def check_truncation(truncation):
    """Returns `truncation` as a float: None, or a finite number > 0."""
    if truncation is None:
        return None
    if isinstance(truncation, bool) or not isinstance(truncation, (int, float, np.number)) or (
            not np.isfinite(truncation) or truncation <= 0):
        raise ValueError(
            f"`truncation` must be None or a number > 0 (the noise is drawn from "
            f"[-truncation, truncation]). Received: truncation={truncation!r}")
    return float(truncation)


def generation_labels(num_samples, num_classes, labels=None):
    """Labels for conditional generation: validated `labels`, or 0..C-1 repeated."""
    if labels is None:
        return tf.range(num_samples, dtype=tf.int32) % num_classes
    labels = tf.cast(tf.reshape(tf.convert_to_tensor(labels), [-1]), tf.int32)
    if labels.shape[0] != num_samples:
        raise ValueError(
            f"`labels` must have one entry per sample ({num_samples}). "
            f"Received {labels.shape[0]} labels."
        )
    if tf.reduce_any((labels < 0) | (labels >= num_classes)):
        raise ValueError(
            f"`labels` must be class ids in [0, {num_classes - 1}]. Received: {labels.numpy().tolist()}"
        )
    return labels
