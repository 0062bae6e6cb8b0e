"""`InfoGAN`: the noise -> image trainer whose generator also takes structured codes that a
recogniser Q, sharing the discriminator's body, must predict back from the images.

The generator is called as `G([noise, code_vector])`: the noise, and the codes as one
vector (each categorical code one-hot, then the continuous codes). The discriminator
returns `[logits, q]`: the real / fake logit and Q's outputs (each categorical code's
logits, then the continuous codes' means; the standard deviation is fixed to 1, as in the
paper's MNIST model). The variational lower bound of the mutual information between the
codes and the images, `L_I = H(c) - sum_i lambda_i NLL_i`, is maximised by both G and
D / Q: its negative part `info_loss = sum_i lambda_i NLL_i` is added to both losses
(`lambda` 1 for categorical codes, smaller for continuous ones, as the paper advises).

Codes travel as one float array [N, categorical_codes + continuous_codes]: each
categorical code as its category id (0 .. categories - 1), then the continuous values.
`generate(num_samples, seed, codes=...)` takes them so (NaN entries are drawn from the
prior); the export's `serving_default` takes `noise` and `codes` the same way.

Reference: [Chen et al., 2016](https://arxiv.org/abs/1606.03657).
"""

import dataclasses
import numbers

import keras
import numpy as np
import tensorflow as tf

from tfgans import losses as losses_lib
from tfgans.models.infogan import CODE_KEYS, code_size, q_size
from tfgans.settings import Key, Setting
from tfgans.training import gan as gan_lib
from tfgans.training import noise as noise_lib
from tfgans.training.gan import GAN, network_losses, sample_noise, unpack_batch
from tfgans.training.trainer import ExportSpec

_CODES = 3  # sub-stream of a step's code draws (gan.py uses 0-2)
_GENERATE_CODE_STREAM = 8  # codes of `generate` (its noise uses gan._GENERATE_STREAM = 7)


# ------------------------------------------------------------------------------- codes


def sample_codes(num_samples, seed, categorical_codes, categories, continuous_codes):
    """The codes `InfoGAN.generate` and the exported `generate` signature draw from the
    prior: float32 [N, categorical_codes + continuous_codes], ids uniform over the
    categories, continuous values uniform in [-1, 1]; row i a function of (seed, i) alone."""
    key = noise_lib.fold_seed(seed, _GENERATE_CODE_STREAM)
    return codes_from_uniform(
        noise_lib.uniform([num_samples, categorical_codes + continuous_codes], key),
        categorical_codes, categories)


def codes_from_uniform(u, categorical_codes, categories):
    """Maps uniforms in (0, 1) [N, n] to codes: the first `categorical_codes` columns to
    ids `floor(u * categories)`, the rest to `2u - 1`."""
    ids = tf.minimum(tf.floor(u[:, :categorical_codes] * categories), categories - 1.0)
    return tf.concat([ids, 2.0 * u[:, categorical_codes:] - 1.0], axis=1)


def code_vector(codes, categorical_codes, categories):
    """The generator's code input from codes [N, categorical + continuous]: each
    categorical id one-hot (N x categorical_codes * categories), then the continuous
    values."""
    codes = tf.cast(codes, tf.float32)
    ids = tf.cast(codes[:, :categorical_codes], tf.int32)
    one_hot = tf.reshape(tf.one_hot(ids, categories),
                         [-1, categorical_codes * categories])
    return tf.concat([one_hot, codes[:, categorical_codes:]], axis=1)


def check_codes(codes, num_samples, categorical_codes, categories, continuous_codes):
    """Returns `codes` as float32 [num_samples, categorical + continuous] (NaN: drawn from
    the prior), or raises one clear ValueError. A 1-D row is used for every sample."""
    n_cat, k = categorical_codes, categories
    num_codes = categorical_codes + continuous_codes
    layout = (f"{num_codes} values per sample: {n_cat} categorical id(s) in "
              f"[0, {k - 1}], then {continuous_codes} continuous value(s), "
              "NaN for 'draw from the prior'")
    try:
        array = np.asarray(codes, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"`codes` must be numbers ({layout}). Received: {codes!r}") from None
    if array.ndim == 1:
        array = np.broadcast_to(array, (num_samples, array.shape[0]))
    if array.ndim != 2 or array.shape != (num_samples, num_codes):
        raise ValueError(
            f"`codes` must have shape [{num_codes}] (one row for all samples) or "
            f"[num_samples={num_samples}, {num_codes}] ({layout}). Received shape "
            f"{np.shape(codes)}.")
    ids = array[:, :n_cat]
    known = ids[~np.isnan(ids)]
    if known.size and (np.any(known != np.round(known)) or known.min() < 0
                       or known.max() > k - 1):
        bad = known[(known != np.round(known)) | (known < 0) | (known > k - 1)][0]
        raise ValueError(
            f"Categorical codes must be integer ids in [0, {k - 1}] (the first {n_cat} "
            f"value(s) of a row). Received: {bad:g}")
    if np.any(np.isinf(array)):
        raise ValueError(f"`codes` must be finite numbers or NaN ({layout}).")
    return np.array(array)


def resolve_settings(loss="non_saturating", gradient_penalty=None, penalty_type="wgan_gp",
                     penalty_target=1.0, one_sided_penalty=False, weight_clip=None,
                     n_critic=None, label_smoothing=0.0, info_weight=1.0,
                     continuous_info_weight=0.1):
    """The effective settings of an `InfoGAN`: the GAN's (`tfgans.training.resolve_settings`)
    and the two mutual-information weights (each a number >= 0)."""
    settings = gan_lib.resolve_settings(loss, gradient_penalty, penalty_type, penalty_target,
                                        one_sided_penalty, weight_clip, n_critic,
                                        label_smoothing)
    settings.pop("ac_weight")
    for name, value in (("info_weight", info_weight),
                        ("continuous_info_weight", continuous_info_weight)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
        settings[name] = float(value)
    return settings


@keras.saving.register_keras_serializable(package="tfgans")
class InfoGAN(GAN):
    """InfoGAN (Chen et al. 2016): a GAN whose generator takes noise and codes, with a
    recogniser Q on the discriminator's body trained to predict the codes back.

    Each step: `n_critic` updates of D and Q on `adversarial + info_loss` (the codes of
    the generated batch), then one generator update on `adversarial + info_loss`, with
    `info_loss = info_weight * sum_i CE_i + continuous_info_weight * sum_j NLL_j`: the
    cross-entropies of the categorical codes under Q's softmax
    (`tfgans.losses.infogan_categorical_loss`) and the Gaussian negative log-likelihoods
    of the continuous codes, sigma 1 (`tfgans.losses.infogan_continuous_loss`), summed
    over the codes as in the paper's `lambda * L_I`. The adversarial part is the GAN's
    (`loss`, penalties, `n_critic`); noise and codes are drawn on the device from
    (seed, step), so runs are reproducible and replica-independent.

    Args:
        generator: called as `G([noise, code_vector])` (see `code_vector`), returning
            images in [-1, 1].
        discriminator: called as `D(images)`, returning `[logits [B, 1], q [B, q_dim]]`
            with `q_dim = categorical_codes * categories + continuous_codes`.
        latent_dim: the noise size (None: the generator's `latent_dim`).
        categorical_codes: how many categorical codes (one-hot each).
        categories: values of each categorical code.
        continuous_codes: how many continuous codes, uniform in [-1, 1].
        ema_decay, seed: as `tfgans.GAN`.

    Example:
    ```python
    g, d = tfgans.models.get("infogan")((28, 28, 1), latent_dim=62)
    gan = InfoGAN(g, d, latent_dim=62)                    # 1 x 10 categories, 2 continuous
    gan.compile(generator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                discriminator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    gan.fit(dataset, epochs=1)
    images = gan.generate(10, seed=0, codes=[[c, 0.0, 0.0] for c in range(10)])
    ```

    Reference: https://arxiv.org/abs/1606.03657
    """

    #: The GAN's settings, less the conditional ones (InfoGAN learns its categories
    #: without labels), plus the codes and the mutual-information weights.
    SETTINGS = tuple(
        Setting(s.key, s.argument, dataclasses.replace(s.spec, default="non_saturating"))
        if s.argument == "loss" else s
        for s in GAN.SETTINGS if s.argument not in ("num_classes", "ac_weight")
    ) + tuple(
        Setting(f"model.{name}", name, key) for name, key in CODE_KEYS.items()
    ) + (
        Setting("loss.info_weight", "info_weight", Key(
            1.0, "float", low=0.0, doc="lambda of the categorical codes' mutual information")),
        Setting("loss.continuous_info_weight", "continuous_info_weight", Key(
            0.1, "float", low=0.0, doc="lambda of the continuous codes' mutual information")),
    )

    resolve_settings = staticmethod(resolve_settings)

    def __init__(self, generator, discriminator, latent_dim=None, categorical_codes=1,
                 categories=10, continuous_codes=2, ema_decay=None, seed=0, **kwargs):
        for name, value, low in (("categorical_codes", categorical_codes, 0),
                                 ("categories", categories, 2),
                                 ("continuous_codes", continuous_codes, 0)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ValueError(
                    f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
        if categorical_codes + continuous_codes < 1:
            raise ValueError(
                "InfoGAN needs at least one code. Received: categorical_codes=0, "
                "continuous_codes=0")
        # Set before GAN.__init__, which builds the networks with them.
        self.categorical_codes = int(categorical_codes)
        self.categories = int(categories)
        self.continuous_codes = int(continuous_codes)
        super().__init__(generator, discriminator, latent_dim=latent_dim, num_classes=None,
                         ema_decay=ema_decay, seed=seed, **kwargs)
        self.add_trackers(["info_loss", "categorical_loss", "continuous_loss"])

    @property
    def num_codes(self):
        """Columns of a codes array: the categorical codes, then the continuous ones."""
        return self.categorical_codes + self.continuous_codes

    def _sizes(self):
        return self.categorical_codes, self.categories, self.continuous_codes

    def code_vector(self, codes):
        """The generator's code input for codes [N, num_codes] (see `code_vector`)."""
        return code_vector(codes, self.categorical_codes, self.categories)

    # ----------------------------------------------------------------------------- build

    def _build_models(self):
        noise = tf.zeros([2, self.latent_dim])
        codes = tf.zeros([2, code_size(*self._sizes())])
        expected_q = q_size(*self._sizes())
        contract = (
            f"tfgans.InfoGAN calls the generator as G([noise [batch, {self.latent_dim}], "
            f"codes [batch, {codes.shape[1]}]]) expecting images [batch, H, W, C], and the "
            f"discriminator as D(images) expecting [logits [batch, 1], q [batch, "
            f"{expected_q}]] (categorical_codes={self.categorical_codes} x categories="
            f"{self.categories}, continuous_codes={self.continuous_codes})")
        try:
            images = self.generator([noise, codes], training=False)
            outputs = self.discriminator(images, training=False)
        except Exception as e:  # noqa: BLE001 - re-raised with the contract
            cause = " ".join(str(e).split())[:300]
            raise ValueError(f"{contract}. The networks do not fit: {cause}") from e
        shapes = ([tuple(t.shape) for t in outputs]
                  if isinstance(outputs, (list, tuple)) else [tuple(outputs.shape)])
        if len(images.shape) != 4 or shapes != [(2, 1), (2, expected_q)]:
            raise ValueError(
                f"{contract}. Received images {tuple(images.shape)} and discriminator "
                f"outputs {shapes}: build the networks with the same codes "
                "(tfgans.models.get('infogan')(..., categorical_codes=..., categories=..., "
                "continuous_codes=...)).")
        self.image_shape = tuple(int(s) for s in images.shape[1:])
        self.make_ema_copies({"generator": [noise, codes]})
        self.built = True

    def _split(self, outputs):
        logits, q = outputs
        return tf.cast(logits, tf.float32), tf.cast(q, tf.float32)

    # --------------------------------------------------------------------------- compile

    def compile(self, generator_optimizer=None, discriminator_optimizer=None,
                loss="non_saturating", info_weight=1.0, continuous_info_weight=0.1,
                **kwargs):
        """Configures training: the GAN's `compile` (default loss non-saturating, as in
        the paper) and the mutual-information weights.

        Args:
            info_weight: lambda of the categorical codes (the paper's 1).
            continuous_info_weight: lambda of the continuous codes (smaller, as the paper
                advises for codes whose entropy is differential).
            **kwargs: `GAN.compile`'s other arguments (penalties, `n_critic`, ...).
        """
        kwargs.pop("ac_weight", None)  # a saved compile config holds the GAN's default
        weights = resolve_settings(info_weight=info_weight,
                                   continuous_info_weight=continuous_info_weight)
        super().compile(generator_optimizer, discriminator_optimizer, loss=loss, **kwargs)
        self.stabilisers.refuse("InfoGAN's training step")
        self.info_weight = weights["info_weight"]
        self.continuous_info_weight = weights["continuous_info_weight"]
        settings = {k: v for k, v in self.training_settings.items() if k != "ac_weight"}
        self.training_settings = {**settings, "info_weight": self.info_weight,
                                  "continuous_info_weight": self.continuous_info_weight}
        self._compile_config.config.pop("ac_weight", None)
        self._compile_config.config.update(info_weight=self.info_weight,
                                           continuous_info_weight=self.continuous_info_weight)

    def get_config(self):
        config = super().get_config()
        config.pop("num_classes")
        return {**config, "categorical_codes": self.categorical_codes,
                "categories": self.categories, "continuous_codes": self.continuous_codes}

    # ------------------------------------------------------------------------- the step

    def info_losses(self, q, codes):
        """The recogniser's losses on its outputs `q` [B, q_dim] for the `codes`
        [B, num_codes] the images were generated from.

        Returns:
            (categorical, continuous, info_loss): the mean cross-entropy per categorical
            code, the mean Gaussian NLL per continuous code (sigma 1), and
            `info_weight * categorical_codes * categorical + continuous_info_weight *
            continuous_codes * continuous`, the summed `lambda_i * NLL_i` added to both
            networks' losses.
        """
        n_cat, k, n_cont = self._sizes()
        q = tf.cast(q, tf.float32)
        codes = tf.cast(codes, tf.float32)
        categorical = continuous = tf.constant(0.0)
        if n_cat:
            logits = tf.reshape(q[:, :n_cat * k], [-1, n_cat, k])
            categorical = losses_lib.infogan_categorical_loss(
                logits, tf.cast(codes[:, :n_cat], tf.int32))
        if n_cont:
            continuous = losses_lib.infogan_continuous_loss(
                q[:, n_cat * k:], 0.0, codes[:, n_cat:])
        total = (self.info_weight * n_cat * categorical
                 + self.continuous_info_weight * n_cont * continuous)
        return categorical, continuous, total

    def _codes(self, step, stream, batch):
        key = self.noise_key(step, stream, _CODES)
        u = noise_lib.uniform([batch * noise_lib.num_replicas(), self.num_codes], key)
        return noise_lib.replica_slice(
            codes_from_uniform(u, self.categorical_codes, self.categories), batch)

    def _fake(self, step, stream, batch, training=True):
        noise = self._noise(step, stream, batch)
        codes = self._codes(step, stream, batch)
        images = self.generator([noise, self.code_vector(codes)], training=training)
        return images, codes

    def _discriminator_step(self, real, labels, step, k):
        batch = real.shape[0] or tf.shape(real)[0]
        stream = gan_lib._D_STREAM + k
        fake, codes = self._fake(step, stream, batch)
        fake = tf.stop_gradient(tf.cast(fake, real.dtype))
        with tf.GradientTape() as tape:
            real_logits, _ = self._split(self.discriminator(real, training=True))
            fake_logits, fake_q = self._split(self.discriminator(fake, training=True))
            d_loss, total = self._adversarial_loss(real_logits, fake_logits, generator=False)
            penalty = tf.constant(0.0)
            if self.penalty.weight > 0:
                penalty = self._penalty(real, fake, None, step, stream)
                total = total + self.penalty.weight * penalty
            categorical, continuous, info = self.info_losses(fake_q, codes)
            total = total + info + network_losses(self.discriminator)
            scaled = self.scale_loss(total, "discriminator")
        finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(total))
        if self.penalty.weight_clip:
            from tfgans import penalties as penalties_lib

            penalties_lib.clip_weights(
                self.discriminator.trainable_variables, self.penalty.weight_clip)
        return {
            "d_loss": d_loss, "penalty": penalty,
            "d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits),
            "info_loss": info, "categorical_loss": categorical,
            "continuous_loss": continuous, "finite": finite,
        }

    def _generator_step(self, real, labels, step):
        batch = real.shape[0] or tf.shape(real)[0]
        real_logits = None
        if self.gan_loss.uses_batch_mean:
            real_logits, _ = self._split(self.discriminator(real, training=True))
        with tf.GradientTape() as tape:
            fake, codes = self._fake(step, gan_lib._G_STREAM, batch)
            fake_logits, fake_q = self._split(self.discriminator(fake, training=True))
            g_loss, total = self._adversarial_loss(real_logits, fake_logits, generator=True)
            _, _, info = self.info_losses(fake_q, codes)
            total = total + info + network_losses(self.generator)
            scaled = self.scale_loss(total, "generator")
        finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(total))
        return g_loss, finite

    def train_step(self, data):
        real, _ = unpack_batch(data)  # labels, if the data has them, are not used
        real = tf.cast(real, tf.float32)
        return self.track(self._alternate(real, None, self.step))

    def test_step(self, data):
        """Evaluates the losses on a batch without updating anything."""
        real, _ = unpack_batch(data)
        real = tf.cast(real, tf.float32)
        batch = real.shape[0] or tf.shape(real)[0]
        fake, codes = self._fake(tf.constant(0, tf.int64), gan_lib._GENERATE_STREAM, batch,
                                 training=False)
        real_logits, _ = self._split(self.discriminator(real))
        fake_logits, fake_q = self._split(self.discriminator(tf.cast(fake, real.dtype)))
        logs = {
            "d_loss": self._adversarial_loss(real_logits, fake_logits, generator=False)[0],
            "g_loss": self._adversarial_loss(real_logits, fake_logits, generator=True)[0],
            "d_real": tf.reduce_mean(real_logits),
            "d_fake": tf.reduce_mean(fake_logits),
            "info_loss": self.info_losses(fake_q, codes)[2],
        }
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        return {name: self._trackers[name].result() for name in logs}

    # ---------------------------------------------------------------------- generation

    def check_codes(self, codes, num_samples):
        """Returns `codes` as float32 [num_samples, num_codes] (NaN: drawn), or raises one
        clear ValueError (see `check_codes`)."""
        return check_codes(codes, num_samples, *self._sizes())

    def generate(self, num_samples=64, seed=0, codes=None, batch_size=256, truncation=None):
        """Samples images in [-1, 1] from the (EMA) generator.

        Sample i depends only on (seed, i) and its codes: the noise is `GAN.generate`'s
        and the codes not given are drawn from the prior (`sample_codes`).

        Args:
            num_samples: how many images.
            seed: an integer seed.
            codes: None (all drawn), or float [num_codes] (one row for every sample) or
                [num_samples, num_codes]: per sample the categorical codes' ids, then the
                continuous codes' values (the prior's range is [-1, 1]; values beyond it
                extrapolate); NaN entries are drawn from the prior.
            batch_size: images per generator call.
            truncation: None, or the truncation trick's threshold for the noise.

        Returns:
            A NumPy float32 array [num_samples, H, W, C] in [-1, 1].
        """
        if isinstance(num_samples, bool) or int(num_samples) <= 0:
            raise ValueError(
                f"`num_samples` must be positive. Received: num_samples={num_samples}")
        num_samples = int(num_samples)
        noise = sample_noise(num_samples, self.latent_dim, seed,
                             gan_lib.check_truncation(truncation))
        drawn = sample_codes(num_samples, seed, *self._sizes()).numpy()
        if codes is not None:
            given = self.check_codes(codes, num_samples)
            drawn = np.where(np.isnan(given), drawn, given)
        vector = self.code_vector(drawn)
        outputs = []
        for start in range(0, num_samples, batch_size):
            end = min(start + batch_size, num_samples)
            out = self.inference_generator([noise[start:end], vector[start:end]],
                                           training=False)
            outputs.append(tf.cast(out, tf.float32).numpy())
        return np.concatenate(outputs, axis=0)

    # ----------------------------------------------------------------------- the contract

    def sample(self, num_samples=64, seed=0, codes=None, truncation=None, labels=None):
        """`generate(num_samples, seed, codes, truncation=truncation)`; `labels` must be
        None (InfoGAN is unconditional)."""
        if labels is not None:
            raise ValueError("InfoGAN is unconditional: pick images with `codes`, not labels.")
        return self.generate(num_samples=num_samples, seed=seed, codes=codes,
                             truncation=truncation)

    def grid_codes(self, rows, columns):
        """The codes of a sample grid [rows * columns, num_codes] and the noise index of
        each image: row r holds the first categorical code's value r (or, without
        categorical codes, noise r); across the columns the first continuous code sweeps
        [-1, 1] (or, without continuous codes, the noise changes); other codes are 0
        (their middle value for continuous codes)."""
        n_cat, _, n_cont = self._sizes()
        codes = np.zeros([rows, columns, self.num_codes], np.float32)
        r, c = np.meshgrid(np.arange(rows), np.arange(columns), indexing="ij")
        if n_cat:
            codes[..., 0] = r
        if n_cont:
            codes[..., n_cat] = np.linspace(-1.0, 1.0, columns)[None, :] if columns > 1 else 0
        if n_cat and n_cont:
            index = np.zeros_like(r)
        else:
            index = c if n_cat else r
        return codes.reshape(-1, self.num_codes), index.reshape(-1)

    def sample_grid(self, num_images, seed=0):
        """One row per value of the first categorical code, the first continuous code
        swept over [-1, 1] across the columns (the paper's figures), the same noise."""
        rows = min(self.categories, num_images) if self.categorical_codes else max(
            1, int(np.sqrt(num_images)))
        columns = max(1, num_images // rows)
        codes, index = self.grid_codes(rows, columns)
        noise = sample_noise(int(index.max()) + 1, self.latent_dim, seed).numpy()[index]
        images = self.inference_generator(
            [tf.constant(noise), self.code_vector(codes)], training=False)
        return tf.cast(images, tf.float32).numpy(), columns

    def evaluation_codes(self, num_samples, seed=0):
        """Codes of the evaluation samples: the first categorical code's values in turn
        (0, 1, ..., K-1, 0, ...; equal counts when K divides `num_samples`), the other
        codes drawn from the prior."""
        codes = sample_codes(num_samples, seed, *self._sizes()).numpy()
        if self.categorical_codes:
            codes[:, 0] = np.arange(num_samples) % self.categories
        return codes

    def evaluation_samples(self, num_samples, seed=0):
        """Images of `evaluation_codes` (no labels: InfoGAN is unconditional)."""
        codes = self.evaluation_codes(num_samples, seed)
        return self.generate(num_samples, seed, codes=codes), None

    def evaluation_metrics(self, extractor, num_samples, seed=0):
        """How the first categorical code matches the classes a classifier (the feature
        extractor's logits) sees in the generated images: `code_nmi`, the normalised
        mutual information of code and class, and `code_classes`, the number of distinct
        majority classes over the code's values (`tfgans.metrics.code_class_agreement`)."""
        if not self.categorical_codes:
            return {}
        from tfgans.metrics.codes import code_class_agreement

        codes = self.evaluation_codes(num_samples, seed)
        images = self.generate(num_samples, seed, codes=codes)
        classes = np.argmax(extractor.logits(images), axis=-1)
        nmi, distinct = code_class_agreement(codes[:, 0].astype(np.int64), classes,
                                             self.categories)
        return {"code_nmi": nmi, "code_classes": distinct}

    def export_spec(self):
        return ExportSpec("infogan", self.inference_generator, {
            "latent_dim": self.latent_dim, "categorical_codes": self.categorical_codes,
            "categories": self.categories, "continuous_codes": self.continuous_codes})

    def settings(self):
        settings = super().settings()
        settings.pop("num_classes", None)
        return {**settings, "categorical_codes": self.categorical_codes,
                "categories": self.categories, "continuous_codes": self.continuous_codes}
