"""Stabilisers of the noise -> image trainer (`tfgans.GAN`): switches, all off by default.

| switch | config key | reference |
|---|---|---|
| feature matching | `loss.feature_matching` (weight), `loss.feature_matching_layer` | Salimans et al. 2016, https://arxiv.org/abs/1606.03498 (3.1) |
| historical averaging | `loss.historical_averaging` (weight) | Salimans et al. 2016 (3.3) |
| one-sided label smoothing | `loss.label_smoothing` (real targets 1 - s / 2) | Salimans et al. 2016 (3.4) |
| two-sided label smoothing | `loss.fake_label_smoothing` (fake targets s / 2) | Salimans et al. 2016 (3.4) |
| label flipping, decaying | `loss.label_flip`, `loss.label_flip_steps` | ganhacks (Chintala et al. 2016) |
| DiffAugment | `train.diff_augment` (policy) | Zhao et al. 2020, https://arxiv.org/abs/2006.10738 |
| ADA | `train.ada`, `train.ada_target`, `train.ada_interval`, `train.ada_speed_images` | Karras et al. 2020, https://arxiv.org/abs/2006.06676 |
| LeCam | `loss.lecam` (weight), `loss.lecam_decay` | Tseng et al. 2021, https://arxiv.org/abs/2104.03310 |
| bCR | `loss.bcr` (lambda_real = lambda_fake) | Zhao et al. 2021, https://arxiv.org/abs/2002.04724 |
| lazy R1 (any penalty) | `loss.penalty_interval` | Karras et al. 2020 (StyleGAN2), https://arxiv.org/abs/1912.04958 |

Minibatch discrimination and virtual batch normalisation are parts of the networks:
the dcgan preset's keys `model.minibatch_kernels` and `model.virtual_batch_norm`.

The math is in `tfgans.regularizers`, `tfgans.augment` and `tfgans.losses.matching`; this
module decides where each term enters, keeps the state (ADA's p and its r_t accumulator,
LeCam's EMAs, the historical averages) in variables that `GAN.state_variables()` hands to
checkpoints, and draws every random number statelessly from (seed, step, stream) for the
global batch, each replica taking its slice. Batch statistics (r_t, LeCam's means, feature
means) are global-batch means, so a run gives the same result on 1 or N replicas.
"""

import inspect

import keras
import tensorflow as tf

from tfgans import augment as augment_lib
from tfgans import regularizers
from tfgans.losses.common import sigmoid_cross_entropy
from tfgans.losses.matching import feature_matching_loss
from tfgans.settings import Key, Setting
from tfgans.training import noise as noise_lib

# Sub-streams of the (seed, step, stream, sub) keys, apart from gan.py's (0, 1, 2, ...).
_AUG_REAL, _AUG_FAKE, _FLIP_REAL, _FLIP_FAKE, _BCR_REAL, _BCR_FAKE = range(20, 26)

#: The losses whose discriminator loss has real / fake targets (label noise needs them).
TARGET_LOSSES = ("minimax", "non_saturating")

#: bCR's augmentation T (Zhao et al. 2021: flipping and translation by a few pixels).
BCR_PIPELINE = augment_lib.AdaPipeline(transforms=("xflip", "translation"))

SETTINGS = (
    Setting("loss.feature_matching", "feature_matching", Key(
        0.0, "float", low=0.0,
        doc="weight of feature matching in G's loss (Salimans et al. 2016); 0: off")),
    Setting("loss.feature_matching_layer", "feature_matching_layer", Key(
        -1, "int", doc="the discriminator feature layer matched, by index (-1: the last)")),
    Setting("loss.historical_averaging", "historical_averaging", Key(
        0.0, "float", low=0.0,
        doc="weight of historical averaging of both networks (Salimans et al. 2016); 0: off")),
    Setting("loss.fake_label_smoothing", "fake_label_smoothing", Key(
        0.0, "float", low=0.0, high=1.0, high_open=True,
        doc="two-sided smoothing: fake targets s / 2 (minimax, non_saturating); 0: off")),
    Setting("loss.label_flip", "label_flip", Key(
        0.0, "float", low=0.0, high=0.5,
        doc="probability of flipping D's real / fake targets at step 0, decaying linearly "
            "to 0 at loss.label_flip_steps (minimax, non_saturating); 0: off")),
    Setting("loss.label_flip_steps", "label_flip_steps", Key(
        10000, "int", low=1, doc="the step where the label flip probability reaches 0")),
    Setting("loss.lecam", "lecam", Key(
        0.0, "float", low=0.0, doc="weight of LeCam in D's loss (Tseng et al. 2021); 0: off")),
    Setting("loss.lecam_decay", "lecam_decay", Key(
        0.99, "float", low=0.0, high=1.0, high_open=True,
        doc="decay of LeCam's moving averages of D(real), D(fake)")),
    Setting("loss.bcr", "bcr", Key(
        0.0, "float", low=0.0,
        doc="balanced consistency regularisation weight, real and fake (Zhao et al. 2021: "
            "10); 0: off")),
    Setting("loss.penalty_interval", "penalty_interval", Key(
        1, "int", low=1,
        doc="lazy regularisation: the gradient penalty every k steps, times k (StyleGAN2: "
            "16 for R1); 1: every step")),
    Setting("train.diff_augment", "diff_augment", Key(
        "none", "str",
        doc="DiffAugment policy, e.g. color,translation,cutout (Zhao et al. 2020); none: off")),
    Setting("train.ada", "ada", Key(
        False, "bool", doc="adaptive discriminator augmentation (Karras et al. 2020)")),
    Setting("train.ada_target", "ada_target", Key(
        0.6, "float", low=0.0, high=1.0, doc="ADA's target of r_t = E[sign D(real)]")),
    Setting("train.ada_interval", "ada_interval", Key(
        4, "int", low=1, doc="ADA adjusts p every this many steps")),
    Setting("train.ada_speed_images", "ada_speed_images", Key(
        500_000, "int", low=1, doc="ADA's p can go from 0 to 1 in this many real images")),
)

#: {argument: default} of every stabiliser setting.
DEFAULTS = {s.argument: s.spec.default for s in SETTINGS}


def pop_settings(kwargs):
    """Removes the stabiliser arguments from `kwargs` (in place); returns them."""
    return {name: kwargs.pop(name) for name in list(kwargs) if name in DEFAULTS}


def resolve(settings, loss, gradient_penalty, **values):
    """Validates the stabiliser settings against the effective `loss` and
    `gradient_penalty`; returns {argument: effective value} for every one.

    Raises:
        ValueError: one line naming the setting, its value and the fix.
    """
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"Unknown stabiliser settings: {sorted(unknown)}")
    out = {**DEFAULTS, **{k: v for k, v in values.items() if v is not None}}
    for name in ("feature_matching", "historical_averaging", "lecam", "bcr"):
        out[name] = float(out[name])
        if out[name] < 0:
            raise ValueError(f"`{name}` must be >= 0 (0: off). Received: {name}={out[name]}")
    for name, high in (("fake_label_smoothing", 1.0), ("label_flip", 0.5)):
        out[name] = float(out[name])
        if not 0.0 <= out[name] <= high or (name == "fake_label_smoothing" and out[name] == 1):
            raise ValueError(f"`{name}` must be in [0, {high}{')' if high == 1 else ']'}. "
                             f"Received: {name}={out[name]}")
    for name in ("label_flip_steps", "penalty_interval", "ada_interval", "ada_speed_images"):
        if isinstance(out[name], bool) or int(out[name]) != out[name] or out[name] < 1:
            raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={out[name]}")
        out[name] = int(out[name])
    out["feature_matching_layer"] = int(out["feature_matching_layer"])
    out["lecam_decay"] = float(out["lecam_decay"])
    if not 0.0 <= out["lecam_decay"] < 1.0:
        raise ValueError(f"`lecam_decay` must be in [0, 1). Received: "
                         f"lecam_decay={out['lecam_decay']}")
    out["ada_target"] = float(out["ada_target"])
    if not 0.0 <= out["ada_target"] <= 1.0:
        raise ValueError(f"`ada_target` must be in [0, 1]. Received: ada_target={out['ada_target']}")
    out["ada"] = bool(out["ada"])
    policy = out["diff_augment"]
    policy = "" if policy in (None, "", "none") else policy
    try:
        out["diff_augment"] = ",".join(augment_lib.parse_policy(policy)) or "none"
    except ValueError as e:
        raise ValueError(f"`diff_augment` (config key train.diff_augment): {e}") from None
    if out["ada"] and out["diff_augment"] != "none":
        raise ValueError(
            "Use one augmentation: ADA (train.ada) or DiffAugment (train.diff_augment). "
            f"Received: ada=True, diff_augment={out['diff_augment']!r}")
    noisy = {k: out[k] for k in ("label_flip", "fake_label_smoothing") if out[k]}
    if noisy and loss not in TARGET_LOSSES:
        name, value = next(iter(noisy.items()))
        raise ValueError(
            f"`{name}` (label noise) needs a loss with real / fake targets: "
            f"{' or '.join(TARGET_LOSSES)} (config key loss.name). Received: {name}={value}, "
            f"loss={loss!r}")
    if out["penalty_interval"] > 1 and not gradient_penalty:
        raise ValueError(
            "`penalty_interval` (lazy regularisation) needs a gradient penalty: set "
            "gradient_penalty > 0 (e.g. penalty_type 'r1'), or penalty_interval 1. Received: "
            f"penalty_interval={out['penalty_interval']}, gradient_penalty={gradient_penalty}")
    return out


def extend_resolve(base):
    """`base` (a trainer's `resolve_settings`) extended with the stabiliser settings, with
    an explicit signature (the config layer reads it to know what to resolve)."""

    def resolve_settings(**kwargs):
        values = pop_settings(kwargs)
        settings = base(**kwargs)
        return {**settings, **resolve(settings, settings["loss"],
                                      settings.get("gradient_penalty"), **values)}

    params = _with_settings(inspect.signature(base).parameters.values())
    resolve_settings.__signature__ = inspect.Signature(params)
    resolve_settings.__doc__ = base.__doc__
    return resolve_settings


def _with_settings(params):
    """`params` with the stabiliser settings inserted as keyword-only, before `**kwargs`."""
    params = list(params)
    tail = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    head = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return head + [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
                   for name, default in DEFAULTS.items()] + tail


def accepts_settings(compile_fn):
    """Declares the stabiliser settings in `compile_fn`'s signature (it takes them through
    `**kwargs` and `pop_settings`), so that `inspect.signature` lists every argument."""
    signature = inspect.signature(compile_fn)
    compile_fn.__signature__ = signature.replace(parameters=_with_settings(
        signature.parameters.values()))
    return compile_fn


def _variable(value, name, dtype="float32"):
    return keras.Variable(value, dtype=dtype, trainable=False, name=name,
                          aggregation="only_first_replica")


def features_of(discriminator, inputs, training):
    """(outputs, feature list) from a discriminator that defines
    `call_with_features(inputs, training)`; see `Stabilisers`."""
    return discriminator.call_with_features(inputs, training=training)


class Stabilisers:
    """The stabilisers of one `GAN`: its settings, state variables and loss terms.

    Created by `GAN.compile` (inside the strategy scope). A discriminator used with
    feature matching defines `call_with_features(inputs, training=None)` returning
    `(outputs, features)`: its usual outputs and a list of intermediate activations
    (bottom to top); `loss.feature_matching_layer` indexes that list (the dcgan, sngan
    ... presets' DCGAN discriminator: the activation of each convolution).
    """

    def __init__(self, trainer, settings):
        self.settings = {k: settings[k] for k in DEFAULTS}
        s = self.settings
        self.trainer = trainer
        self.policy = "" if s["diff_augment"] == "none" else s["diff_augment"]
        self.ada = s["ada"]
        self.label_noise = bool(s["label_flip"] or s["fake_label_smoothing"])
        self.generator_logs = {}  # the metrics of the last generator update (set by GAN)
        self.variables = {}
        if self.ada:
            self.ada_pipeline = augment_lib.AdaPipeline()
            self.ada_p = _variable(0.0, "ada_p")
            self.ada_sign_sum = _variable(0.0, "ada_sign_sum")
            self.ada_count = _variable(0.0, "ada_count")
            self.variables["ada"] = [self.ada_p, self.ada_sign_sum, self.ada_count]
        if s["lecam"]:
            self.lecam_real = _variable(0.0, "lecam_ema_real")
            self.lecam_fake = _variable(0.0, "lecam_ema_fake")
            self.variables["lecam"] = [self.lecam_real, self.lecam_fake]
        if s["historical_averaging"]:
            self.averages = {}
            for name in ("generator", "discriminator"):
                weights = trainer.network(name).trainable_variables
                self.averages[name] = [
                    _variable(tf.identity(w), f"average_{name}_{i}", w.dtype)
                    for i, w in enumerate(weights)]
                self.variables[f"historical_average_{name}"] = self.averages[name]
            # The initial weights are the first past value.
            self.average_count = _variable(1.0, "average_count")
            self.variables["historical_average_count"] = [self.average_count]
        if s["feature_matching"]:
            self._check_features()

    # ------------------------------------------------------------------ what is on

    def switched_on(self):
        """The names of the switches that are on (their config keys' last part)."""
        s = self.settings
        on = [name for name in ("feature_matching", "historical_averaging",
                                "fake_label_smoothing", "label_flip", "lecam", "bcr") if s[name]]
        on += ["diff_augment"] if self.policy else []
        on += ["ada"] if self.ada else []
        return on + (["penalty_interval"] if s["penalty_interval"] != 1 else [])

    def refuse(self, who):
        """One clear error when a trainer whose step does not apply them gets any on."""
        on = self.switched_on()
        if on:
            raise ValueError(f"{who} does not apply the stabilisers ({', '.join(on)}): "
                             "turn them off, or use the plain GAN trainer.")

    def trackers(self):
        """The metric names the step reports for the switches that are on."""
        s = self.settings
        names = []
        for on, name in ((self.ada, "ada_p"), (s["lecam"], "lecam"), (s["bcr"], "bcr"),
                         (s["feature_matching"], "feature_matching"),
                         (s["historical_averaging"], "historical_averaging"),
                         (s["label_flip"], "label_flip_p")):
            if on:
                names.append(name)
        return names

    def _check_features(self):
        trainer = self.trainer
        d = trainer.discriminator
        if not callable(getattr(d, "call_with_features", None)):
            raise ValueError(
                "Feature matching (loss.feature_matching > 0) needs a discriminator that "
                "exposes its features: `call_with_features(inputs, training)` returning "
                "(outputs, [features]) (tfgans' DCGANDiscriminator has it). Received a "
                f"{type(d).__name__}; set loss.feature_matching to 0 or use model.name dcgan.")
        noise, labels = trainer._dummy_inputs(batch=2)
        images = trainer.generator(trainer._g_inputs(noise, labels), training=False)
        _, features = features_of(d, trainer._d_inputs(images, labels), False)
        layer = self.settings["feature_matching_layer"]
        if not -len(features) <= layer < len(features):
            raise ValueError(
                f"`feature_matching_layer` must index the discriminator's {len(features)} "
                f"feature layers: {-len(features)}..{len(features) - 1}. Received: "
                f"feature_matching_layer={layer}")

    # ------------------------------------------------------------------- draws

    def _uniform(self, step, stream, sub, batch, width):
        key = self.trainer.noise_key(step, stream, sub)
        draws = noise_lib.uniform([batch * noise_lib.num_replicas(), width], key)
        return noise_lib.replica_slice(draws, batch)

    # ------------------------------------------------------------- augmentation

    def augment(self, images, step, stream, real):
        """DiffAugment or ADA applied to the images D sees (identity when both are off).
        Reals and fakes take different draws (`real`)."""
        if not (self.policy or self.ada):
            return images
        batch = images.shape[0] or tf.shape(images)[0]
        sub = _AUG_REAL if real else _AUG_FAKE
        if self.policy:
            width = augment_lib.diff_augment_num_draws(self.policy)
            return augment_lib.diff_augment(
                images, self.policy, self._uniform(step, stream, sub, batch, width))
        draws = self._uniform(step, stream, sub, batch, self.ada_pipeline.num_draws)
        return self.ada_pipeline(images, tf.convert_to_tensor(self.ada_p), draws)

    def observe_real_logits(self, real_logits):
        """ADA: adds r_t's sign mean of this update (over the global batch)."""
        if not self.ada:
            return
        sign = noise_lib.cross_replica_mean(
            augment_lib.ada_overfitting_heuristic(tf.stop_gradient(real_logits)))
        self.ada_sign_sum.assign_add(sign)
        self.ada_count.assign_add(1.0)

    def end_step(self, steps_done, global_batch):
        """After a train step (`steps_done`: the steps taken, this one included): ADA's p
        every `ada_interval` steps (then the accumulator is reset), the historical
        averages. Returns logs of the switches' state."""
        s = self.settings
        logs = {}
        steps_done = tf.cast(steps_done, tf.int64)
        if self.ada:
            due = tf.equal(steps_done % s["ada_interval"], 0)
            r_t = self.ada_sign_sum / tf.maximum(self.ada_count, 1.0)
            new_p = augment_lib.ada_update(
                self.ada_p, r_t, s["ada_target"], batch_size=global_batch,
                interval=s["ada_interval"], speed_images=s["ada_speed_images"])
            self.ada_p.assign(tf.where(due, new_p, self.ada_p))
            self.ada_sign_sum.assign(tf.where(due, 0.0, self.ada_sign_sum))
            self.ada_count.assign(tf.where(due, 0.0, self.ada_count))
            logs["ada_p"] = tf.convert_to_tensor(self.ada_p)
        if s["historical_averaging"]:
            count = tf.convert_to_tensor(self.average_count)
            for name, averages in self.averages.items():
                weights = self.trainer.network(name).trainable_variables
                new = regularizers.historical_average_update(averages, weights, count)
                for a, v in zip(averages, new):
                    a.assign(tf.cast(v, a.dtype))
            self.average_count.assign_add(1.0)
        if s["label_flip"]:
            logs["label_flip_p"] = self.flip_probability(steps_done - 1)
        return logs

    # ------------------------------------------------------------- loss terms

    def flip_probability(self, step):
        s = self.settings
        return tf.cast(regularizers.label_flip_probability(
            step, s["label_flip"], s["label_flip_steps"]), tf.float32)

    def noisy_discriminator_loss(self, real_logits, fake_logits, step, stream, smoothing):
        """D's sigmoid cross-entropy with label noise: the hard targets (1 real, 0 fake)
        flipped with the decaying probability, then smoothed: 1 -> 1 - s_real / 2,
        0 -> s_fake / 2 (TF-GAN's smoothing, applied to both sides)."""
        s = self.settings
        real_targets = tf.ones_like(real_logits)
        fake_targets = tf.zeros_like(fake_logits)
        if s["label_flip"]:
            p = self.flip_probability(step)
            batch = real_logits.shape[0] or tf.shape(real_logits)[0]
            u_real = tf.reshape(self._uniform(step, stream, _FLIP_REAL, batch, 1),
                                tf.shape(real_logits))
            u_fake = tf.reshape(self._uniform(step, stream, _FLIP_FAKE, batch, 1),
                                tf.shape(fake_logits))
            real_targets = regularizers.flip_labels(real_targets, p, u_real)
            fake_targets = regularizers.flip_labels(fake_targets, p, u_fake)

        def smooth(y):
            return y * (1.0 - smoothing / 2.0) + (1.0 - y) * (s["fake_label_smoothing"] / 2.0)

        return (tf.reduce_mean(sigmoid_cross_entropy(smooth(real_targets), real_logits))
                + tf.reduce_mean(sigmoid_cross_entropy(smooth(fake_targets), fake_logits)))

    def penalty_weight(self, step, weight):
        """Lazy regularisation: (on this step?, weight * interval)."""
        k = self.settings["penalty_interval"]
        on = tf.equal(tf.cast(step, tf.int64) % k, 0)
        return on, weight * k

    def discriminator_terms(self, real_in, fake_in, real_logits, fake_logits, labels, step,
                            stream):
        """LeCam, bCR and historical averaging for D's loss: (total, logs, updates), where
        `updates()` assigns LeCam's new EMAs after the gradient step."""
        s = self.settings
        trainer = self.trainer
        total = tf.constant(0.0)
        logs = {}
        updates = []
        if s["lecam"]:
            means = noise_lib.cross_replica_mean(
                tf.stack([tf.reduce_mean(real_logits), tf.reduce_mean(fake_logits)]))
            ema_real = regularizers.ema_update(self.lecam_real, means[0], s["lecam_decay"])
            ema_fake = regularizers.ema_update(self.lecam_fake, means[1], s["lecam_decay"])
            lecam = regularizers.lecam_regularizer(real_logits, fake_logits, ema_real, ema_fake)
            total += s["lecam"] * lecam
            logs["lecam"] = lecam
            updates += [(self.lecam_real, ema_real), (self.lecam_fake, ema_fake)]
        if s["bcr"]:
            batch = real_in.shape[0] or tf.shape(real_in)[0]
            width = BCR_PIPELINE.num_draws
            t_real = BCR_PIPELINE(real_in, 1.0, self._uniform(step, stream, _BCR_REAL, batch,
                                                               width))
            t_fake = BCR_PIPELINE(fake_in, 1.0, self._uniform(step, stream, _BCR_FAKE, batch,
                                                               width))
            aug_real, _ = trainer._split(trainer.discriminator(
                trainer._d_inputs(t_real, labels), training=True))
            aug_fake, _ = trainer._split(trainer.discriminator(
                trainer._d_inputs(t_fake, labels), training=True))
            bcr = regularizers.balanced_consistency_loss(
                real_logits, aug_real, fake_logits, aug_fake, s["bcr"], s["bcr"])
            total += bcr
            logs["bcr"] = bcr
        if s["historical_averaging"]:
            ha = self.historical_penalty("discriminator")
            total += s["historical_averaging"] * ha
            logs["historical_averaging"] = ha
        return total, logs, updates

    def historical_penalty(self, network):
        """`sum ||theta - mean_past(theta)||^2` over the network's trainable weights."""
        return regularizers.historical_averaging_penalty(
            self.trainer.network(network).trainable_variables, self.averages[network])

    def feature_matching(self, real_features, fake_features):
        """Feature matching on the global batch: `||mean f(real) - mean f(fake)||^2` of
        the chosen layer, means over the global batch. Returns (loss, loss to
        differentiate): the surrogate `loss + c . local_mean - stop_gradient(c .
        local_mean)`, with `c = d loss / d global fake mean`, whose gradient summed over
        the replicas (each scaled by 1 / R) is the global loss' gradient."""
        layer = self.settings["feature_matching_layer"]
        real = tf.cast(real_features[layer], tf.float32)
        fake = tf.cast(fake_features[layer], tf.float32)
        real_mean = noise_lib.cross_replica_mean(tf.reduce_mean(real, axis=0))
        fake_local = tf.reduce_mean(fake, axis=0)
        fake_mean = noise_lib.cross_replica_mean(fake_local)
        loss = feature_matching_loss(real_mean[None], fake_mean[None])
        c = tf.stop_gradient(2.0 * (fake_mean - real_mean))
        inner = tf.reduce_sum(c * fake_local)
        return loss, loss + inner - tf.stop_gradient(inner)
