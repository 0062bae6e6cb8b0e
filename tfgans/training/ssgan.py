"""`SSGAN`: the semi-supervised GAN, a noise -> image trainer whose discriminator is a
K-class classifier that also tells real from generated (the K+1 formulation).

Batches are `(images, labels)`, label -1 marking an unlabelled example (DESIGN.md; the
`data.labeled_per_class` pipeline interleaves labelled and unlabelled examples). The
discriminator returns class logits `l` [B, K]; with the fake class' logit fixed at 0,
`D(x) = Z / (Z + 1)`, `Z = sum_k exp(l_k)`. Each step:

- D: `L_supervised + unsupervised_weight * L_unsupervised`, with `L_supervised` the
  cross-entropy of the labelled examples' classes (`tfgans.losses.ssgan_supervised_loss`)
  and `L_unsupervised = -mean log D(x) - mean log(1 - D(G(z)))` over the unlabelled
  examples and the generated batch (`ssgan_unsupervised_discriminator_loss`);
- G: feature matching, `||mean f(x) - mean f(G(z))||^2` of the discriminator's last
  hidden layer over the global batch (the stabilisers' `feature_matching`, the paper's
  choice for semi-supervised learning), plus `adversarial_weight` times the
  non-saturating K+1 loss `-mean log D(G(z))` (0 by default).

The classifier is the product: `classify(images)` returns its class logits, `evaluate`
measures its accuracy on held-out labelled data (`held_out_metrics`) and the export
serves it as the `classify` signature beside the generator's.

Reference: [Salimans et al., 2016](https://arxiv.org/abs/1606.03498) (section 5),
[Odena, 2016](https://arxiv.org/abs/1606.01583).
"""

import inspect
import numbers
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras.src.saving import serialization_lib

from tfgans import losses as losses_lib
from tfgans.settings import Key, Setting
from tfgans.training import gan as gan_lib
from tfgans.training import stabilisers as stabilisers_lib
from tfgans.training.gan import GAN, network_losses, unpack_batch
from tfgans.training.trainer import ExportSpec, first_batch


def _non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def resolve_settings(feature_matching=1.0, feature_matching_layer=-1, unsupervised_weight=1.0,
                     adversarial_weight=0.0, entropy_weight=0.0):
    """The effective settings of an `SSGAN` (each weight a number >= 0; G needs a loss:
    `feature_matching` or `adversarial_weight` > 0)."""
    settings = {
        "feature_matching": _non_negative("feature_matching", feature_matching),
        "feature_matching_layer": int(feature_matching_layer),
        "unsupervised_weight": _non_negative("unsupervised_weight", unsupervised_weight),
        "adversarial_weight": _non_negative("adversarial_weight", adversarial_weight),
        "entropy_weight": _non_negative("entropy_weight", entropy_weight),
    }
    if not settings["feature_matching"] and not settings["adversarial_weight"]:
        raise ValueError(
            "The generator needs a loss: set feature_matching (loss.feature_matching) or "
            "adversarial_weight (loss.adversarial_weight) > 0. Received: both 0")
    return settings


def _stabiliser_setting(argument, **changes):
    import dataclasses

    setting = next(s for s in stabilisers_lib.SETTINGS if s.argument == argument)
    return Setting(setting.key, setting.argument, dataclasses.replace(setting.spec, **changes))


@keras.saving.register_keras_serializable(package="tfgans")
class SSGAN(GAN):
    """The semi-supervised GAN (Salimans et al. 2016; Odena 2016): a K-class discriminator
    trained on a few labels and many unlabelled images, a generator trained with feature
    matching.

    Args:
        generator: called as `G(noise)`, returning images in [-1, 1] (unconditional).
        discriminator: called as `D(images)`, returning class logits [B, K]; with feature
            matching it defines `call_with_features(images, training)` (the `ssgan`
            preset's `SSGANDiscriminator`).
        latent_dim: the noise size (None: the generator's).
        num_classes: K, the classes of the labelled data.
        ema_decay, seed: as `tfgans.GAN`.

    Example:
    ```python
    g, d = tfgans.models.get("ssgan")((28, 28, 1), latent_dim=100, num_classes=10)
    gan = SSGAN(g, d, latent_dim=100, num_classes=10)
    gan.compile(generator_optimizer=keras.optimizers.Adam(3e-4, beta_1=0.5),
                discriminator_optimizer=keras.optimizers.Adam(3e-4, beta_1=0.5))
    gan.fit(dataset)                 # (images, labels) batches, label -1: unlabelled
    classes = gan.classify(images).argmax(-1)
    ```

    Reference: https://arxiv.org/abs/1606.03498
    """

    #: The noise, EMA and seed settings of the GAN; K from the data; the loss weights.
    SETTINGS = tuple(s for s in GAN.SETTINGS if s.argument in ("latent_dim", "ema_decay", "seed")
                     ) + (
        Setting("data.num_classes", "num_classes", Key(
            None, "int", low=2, nullable=True,
            doc="K, the classes the discriminator tells apart; null: the dataset's")),
        _stabiliser_setting("feature_matching", default=1.0,
                            doc="weight of feature matching in G's loss (Salimans et al.)"),
        _stabiliser_setting("feature_matching_layer",
                            doc="the discriminator feature layer matched (-1: the last "
                            "hidden layer, the paper's)"),
        Setting("loss.unsupervised_weight", "unsupervised_weight", Key(
            1.0, "float", low=0.0, doc="weight of D's real / fake (K+1) loss beside the "
            "supervised cross-entropy")),
        Setting("loss.adversarial_weight", "adversarial_weight", Key(
            0.0, "float", low=0.0, doc="weight of the non-saturating K+1 loss in G's loss")),
        Setting("loss.entropy_weight", "entropy_weight", Key(
            0.0, "float", low=0.0, doc="weight of the class posterior's entropy on unlabelled "
            "images in D's loss (entropy minimisation, Dai et al. 2017); 0: the paper's")),
    )

    resolve_settings = staticmethod(resolve_settings)

    def __init__(self, generator, discriminator, latent_dim=None, num_classes=10,
                 ema_decay=None, seed=0, **kwargs):
        if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or (
                num_classes < 2):
            raise ValueError(
                f"`num_classes` (K) must be an integer >= 2. Received: num_classes={num_classes!r}")
        self.classes = int(num_classes)  # set first: GAN.__init__ builds the networks
        # The generator is unconditional: GAN's num_classes (conditioning) stays None.
        super().__init__(generator, discriminator, latent_dim=latent_dim, num_classes=None,
                         ema_decay=ema_decay, seed=seed, **kwargs)
        self.add_trackers(["supervised_loss", "unsupervised_loss", "labelled_accuracy"])

    # ----------------------------------------------------------------------------- build

    def _build_models(self):
        noise = tf.zeros([2, self.latent_dim])
        contract = (
            f"tfgans.SSGAN calls the generator as G(noise [batch, {self.latent_dim}]) "
            "expecting images [batch, H, W, C], and the discriminator as D(images) expecting "
            f"class logits [batch, num_classes={self.classes}]")
        try:
            images = self.generator(noise, training=False)
            logits = self.discriminator(images, training=False)
        except Exception as e:  # noqa: BLE001 - re-raised with the contract
            cause = " ".join(str(e).split())[:300]
            raise ValueError(f"{contract}. The networks do not fit: {cause}") from e
        if len(images.shape) != 4 or tuple(getattr(logits, "shape", ())) != (2, self.classes):
            raise ValueError(
                f"{contract}. Received images {tuple(images.shape)} and discriminator outputs "
                f"{getattr(logits, 'shape', type(logits))}: build the discriminator with "
                f"num_classes={self.classes}.")
        self.image_shape = tuple(int(s) for s in images.shape[1:])
        self.make_ema_copies({"generator": noise})
        self.built = True

    def _split(self, outputs):
        """(the K+1 real logit `logsumexp(l)` [B, 1], the class logits [B, K])."""
        class_logits = tf.cast(outputs, tf.float32)
        return losses_lib.ssgan_real_logit(class_logits)[:, None], class_logits

    # --------------------------------------------------------------------------- compile

    def compile(self, generator_optimizer=None, discriminator_optimizer=None,
                feature_matching=1.0, feature_matching_layer=-1, unsupervised_weight=1.0,
                adversarial_weight=0.0, entropy_weight=0.0, **kwargs):
        """Configures training.

        Args:
            generator_optimizer, discriminator_optimizer: Keras optimizers (or names);
                default Adam(1e-4, beta_1=0.0, beta_2=0.9) each.
            feature_matching: weight of feature matching in G's loss (the paper's 1).
            feature_matching_layer: index into the discriminator's features (-1: the last
                hidden layer).
            unsupervised_weight: weight of D's real / fake loss beside the supervised one.
            adversarial_weight: weight of the non-saturating K+1 loss in G's loss.
            entropy_weight: weight of the class posterior's mean entropy on the unlabelled
                images in D's loss (`tfgans.losses.ssgan_entropy_loss`); 0: none.
            **kwargs: `keras.Model.compile`'s (`jit_compile`, `steps_per_execution`,
                `run_eagerly`).
        """
        fixed = set(inspect.signature(gan_lib.resolve_settings).parameters)
        fixed |= set(stabilisers_lib.DEFAULTS) - {"feature_matching", "feature_matching_layer"}
        refused = sorted(fixed & set(kwargs))
        if refused:
            raise ValueError(
                f"SSGAN's losses are fixed (the K+1 loss, feature matching): it does not take "
                f"{', '.join(f'`{name}`' for name in refused)}. Remove "
                f"{'it' if len(refused) == 1 else 'them'}, or use the plain GAN trainer.")
        settings = resolve_settings(feature_matching, feature_matching_layer,
                                    unsupervised_weight, adversarial_weight, entropy_weight)
        # The K+1 loss is the minimax loss on the real logit logsumexp(l) (`_split`): the
        # GAN's test_step and its D(real) / D(fake) means read it so.
        super().compile(generator_optimizer, discriminator_optimizer, loss="non_saturating",
                        gradient_penalty=0.0, n_critic=1,
                        feature_matching=settings["feature_matching"],
                        feature_matching_layer=settings["feature_matching_layer"], **kwargs)
        self.unsupervised_weight = settings["unsupervised_weight"]
        self.adversarial_weight = settings["adversarial_weight"]
        self.entropy_weight = settings["entropy_weight"]
        self.training_settings = settings
        self._compile_config = serialization_lib.SerializableDict(
            generator_optimizer=self.generator_optimizer,
            discriminator_optimizer=self.discriminator_optimizer, **settings, **kwargs)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.classes}

    # ------------------------------------------------------------------------- the step

    def classify(self, images, training=False):
        """The discriminator's class logits [B, K] (float32) for images in [-1, 1]."""
        return tf.cast(self.discriminator(images, training=training), tf.float32)

    def _discriminator_step(self, real, labels, step, k):
        batch = real.shape[0] or tf.shape(real)[0]
        stream = gan_lib._D_STREAM + k
        noise = self._noise(step, stream, batch)
        fake = tf.stop_gradient(tf.cast(self.generator(noise, training=True), real.dtype))
        unlabelled = tf.cast(labels < 0, tf.float32)
        with tf.GradientTape() as tape:
            real_class = self.classify(real, training=True)
            fake_class = self.classify(fake, training=True)
            d_loss = losses_lib.ssgan_discriminator_loss(real_class, fake_class, labels,
                                                         self.unsupervised_weight)
            if self.entropy_weight:
                d_loss += self.entropy_weight * losses_lib.ssgan_entropy_loss(real_class,
                                                                              unlabelled)
            total = d_loss + network_losses(self.discriminator)
            scaled = self.scale_loss(total, "discriminator")
        finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(total))
        supervised = losses_lib.ssgan_supervised_loss(real_class, labels)  # the parts, logged
        unsupervised = losses_lib.ssgan_unsupervised_discriminator_loss(
            real_class, fake_class, real_weights=unlabelled)
        labelled = 1.0 - unlabelled
        hits = tf.cast(tf.equal(tf.argmax(real_class, -1, output_type=tf.int32), labels),
                       tf.float32)
        real_logits, _ = self._split(real_class)
        fake_logits, _ = self._split(fake_class)
        return {
            "d_loss": d_loss, "supervised_loss": supervised, "unsupervised_loss": unsupervised,
            "labelled_accuracy": losses_lib.weighted_mean(hits, labelled),
            "d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits),
            "finite": finite,
        }

    def _generator_step(self, real, labels, step):
        batch = real.shape[0] or tf.shape(real)[0]
        noise = self._noise(step, gan_lib._G_STREAM, batch)
        st = self.stabilisers
        matching = st.settings["feature_matching"]
        real_features = None
        if matching:
            _, _, real_features = self._discriminate(real, None, True)
            real_features = [tf.stop_gradient(f) for f in real_features]
        with tf.GradientTape() as tape:
            fake = self.generator(noise, training=True)
            fake_logits, _, fake_features = self._discriminate(fake, None, bool(matching))
            g_loss = self.gan_loss.generator_loss(fake_logits, None)  # -mean log D(G(z))
            total = self.adversarial_weight * g_loss + network_losses(self.generator)
            logs = {}
            if matching:
                fm, fm_total = st.feature_matching(real_features, fake_features)
                total = total + matching * fm_total
                logs["feature_matching"] = fm
            scaled = self.scale_loss(total, "generator")
        finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(total))
        st.generator_logs = logs
        return g_loss, finite

    def train_step(self, data):
        real, labels = unpack_batch(data)
        real = tf.cast(real, tf.float32)
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        return self.track({**self._alternate(real, labels, self.step),
                           **self.stabilisers.generator_logs})

    # ----------------------------------------------------------------------- the contract

    def check_batch(self, element_spec):
        _, labels = unpack_batch(element_spec)
        if labels is None:
            raise ValueError(
                "The semi-supervised GAN trains on (images, labels) batches, label -1 for an "
                "unlabelled example: set data.labels: true and data.labeled_per_class (or "
                "yield such batches).")
        return super().check_batch(element_spec)

    def check_data(self, data, batch_size=None):
        """Checks the first batch: labels are class ids in [0, K) or -1 (unlabelled), and
        the batch holds unlabelled examples (D's real / fake loss needs them)."""
        super().check_data(data, batch_size)  # the image range
        batch = first_batch(data, batch_size)
        if batch is None:
            return
        _, labels = unpack_batch(batch)
        if labels is None:
            return  # check_batch names the problem
        labels = np.asarray(labels).reshape(-1)
        if labels.size and (labels.min() < -1 or labels.max() >= self.classes):
            raise ValueError(
                f"Semi-supervised labels must be class ids in [0, {self.classes - 1}] or -1 "
                f"(unlabelled). The first batch holds {labels.min()}..{labels.max()}.")
        if labels.size and not np.any(labels < 0):
            warnings.warn(
                "The first batch holds no unlabelled example (label -1): the discriminator's "
                "real / fake loss sees no real image. Set data.labeled_per_class.",
                stacklevel=3)

    def initialize_from_data(self, batch):
        """The discriminator's data-dependent initialisation on the first batch's images
        (labelled and unlabelled alike), when it has one (`SSGANMLPDiscriminator`: the
        paper's weight-norm initialisation)."""
        init = getattr(self.discriminator, "initialize_from_data", None)
        if init is None:
            return
        images, _ = unpack_batch(batch)
        init(np.asarray(images, np.float32))

    def held_out_metrics(self, dataset):
        """The classifier's accuracy on labelled held-out batches (e.g. the test split):
        {"test_accuracy", "test_error", "num_test"} (`tfgans.metrics.classifier_accuracy`)."""
        from tfgans.metrics.classification import classifier_accuracy

        accuracy, count = classifier_accuracy(self.classify, dataset)
        return {"test_accuracy": accuracy, "test_error": 1.0 - accuracy, "num_test": count}

    def export_spec(self):
        return ExportSpec("semi_supervised", self.inference_generator, {
            "latent_dim": self.latent_dim, "classifier": self.discriminator,
            "num_classes": self.classes, "image_shape": self.image_shape})

    def settings(self):
        return {**super().settings(), "num_classes": self.classes}
