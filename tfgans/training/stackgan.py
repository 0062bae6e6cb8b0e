"""`StackGAN`: the text -> image trainer (Zhang et al. 2017), with GAN-CLS' matching-aware
discriminator and GAN-INT's interpolated texts (Reed et al. 2016).

Batches are `(images, text)`: images float32 [B, H, W, C] in [-1, 1], text string [B]
(tokenised inside the networks). Four networks, four optimizers:

- stage I (`stage1_generator`, `stage1_discriminator`) at half the side (real images are
  area-downsampled x2 for its discriminator);
- stage II (`stage2_generator`, `stage2_discriminator`) at the full side, refining stage
  I's image (stage I is fixed while stage II trains; stage II takes stage I's text
  embedding, as the paper's stage II takes the fixed text embedding).

The text embedding the generators read: the paper conditions every network on one fixed
embedding from a text encoder pre-trained to match images with their descriptions (Reed
et al.'s char-CNN-RNN). Here no encoder is pre-trained: the stage-I discriminator's
encoder, which the matching-aware loss trains to tell a description of the image from a
mismatched one, plays that role. The stage-I generator's encoder is a copy of it (not
trainable; copied after every stage-I discriminator update), so the generator conditions
on an embedding that separates the descriptions' classes, instead of learning its own
through the conditioning augmentation's noisy code, against the KL term (its own encoder
separated the classes barely better than an untrained one, and the text hardly
controlled the class: `benchmarks/stackgan_text.py`).

The stages train in turn, as in the paper (section 3.4 / 4: stage I first, then stage II
with stage I fixed): steps `[0, stage1_steps)` train stage I, the steps after train stage
II. Each step makes one discriminator and one generator update of its stage:

- conditioning augmentation: the text code `c = mean + exp(log_variance / 2) * eps`,
  `eps` drawn statelessly from (seed, step), with `kl_weight * KL` added to the
  generator's loss (`tfgans.losses.conditioning_augmentation_kl`);
- the matching-aware discriminator (GAN-CLS): (real, its text) is real; (real, a
  mismatched text: the next example's in the batch) and (fake, its text) are fake
  (`tfgans.losses.matching_aware_discriminator_loss`);
- GAN-INT: the generator also gets the midpoint of two texts' embeddings (its own and the
  next example's), and is trained to satisfy the discriminator on it (scored against the
  midpoint of the discriminator's embeddings), weighted by `interpolation_weight`.

The step counter (`step`) is the trainer's own variable (checkpointed), since each stage's
optimizers stop counting while the other stage trains; the stage is a function of it, so a
resumed run switches stages at the same step as an uninterrupted one.

Reference: https://arxiv.org/abs/1612.03242, https://arxiv.org/abs/1605.05396
"""

import keras
import numpy as np
import tensorflow as tf

from tfgans import losses as losses_lib
from tfgans.settings import Key, Setting
from tfgans.training import noise as noise_lib
from tfgans.training.trainer import ExportSpec, Trainer, check_global_batch, first_batch

# Streams of the (seed, step, stream) keys: the discriminator's and the generator's update.
_D_STREAM, _G_STREAM = 0, 1000
_GENERATE_STREAM = 7

NETWORKS = ("stage1_generator", "stage1_discriminator", "stage2_generator",
            "stage2_discriminator")


class StackGAN(Trainer):
    """Text -> image in two stages (see the module docstring).

    Args:
        stage1_generator: `tfgans.models.stackgan.StageIGenerator`-like: `embed(text)`,
            `augment(embedding)` -> (mean, log_variance), `synthesize(noise, code)`.
        stage1_discriminator, stage2_discriminator: `embed(text)`,
            `score(images, embedding)` -> logits [B, 1]; `call([images, text])`.
        stage2_generator: `augment(embedding)`, `refine(image, code)`.
        latent_dim: noise size.
        stage1_steps: steps of stage I before stage II trains.
        sample_texts: the descriptions sample grids and evaluation cycle through.
        class_texts: whether `sample_texts[i]` describes class i of the evaluation's
            classifier (the Fashion-MNIST captions' first description per class): then
            evaluations report how often the classifier finds the described class
            (`class_accuracy`); else they report the image metrics only.
        ema_decay: EMA of both generators (None or 0: none).
        seed: the seed of every training draw.

    Example:
    ```python
    nets = tfgans.models.get("stackgan")((28, 28, 1), 16, vocabulary=["a", "boot"], width=8)
    trainer = StackGAN(**nets, latent_dim=16, stage1_steps=100, sample_texts=["a boot"])
    trainer.compile()
    trainer.fit(dataset_of_images_and_text, steps_per_epoch=200)
    images = trainer.sample(4, seed=0, text=["a leather ankle boot"])
    ```
    """

    RECORDS_GRADIENT_NORMS = False  # its stages apply gradients inside tf.cond

    family = "text_to_image"
    TRAINED = NETWORKS
    SETTINGS = (
        Setting("model.latent_dim", "latent_dim", Key(64, "int", low=1, doc="noise size")),
        Setting("model.sample_texts", "sample_texts", Key(
            None, "str_list", nullable=True,
            doc="descriptions of sample grids; null: one per class of the data's captions")),
        Setting("model.class_texts", "class_texts", Key(
            None, "bool", nullable=True,
            doc="the sample texts describe the classifier's classes 0, 1, ... in order, so "
            "evaluations report the class accuracy; null: true for fashion_mnist_captions' "
            "default sample texts")),
        Setting("train.stage1_steps", "stage1_steps", Key(
            10_000, "int", low=0,
            doc="steps of stage I; stage II trains after them (stage I fixed)")),
        Setting("train.ema", "ema_decay", Key(
            0.999, "float", low=0.0, high=1.0, high_open=True, nullable=True,
            doc="generators' weight EMA decay; 0 (or null): no EMA")),
        Setting("train.seed", "seed", Key(0, "int", low=0, doc="seed of weights and noise")),
        Setting("loss.kl_weight", "kl_weight", Key(
            1.0, "float", low=0.0, doc="weight of conditioning augmentation's KL term")),
        Setting("loss.interpolation_weight", "interpolation_weight", Key(
            1.0, "float", low=0.0, doc="weight of GAN-INT's interpolated-text loss; 0: off")),
    )

    def __init__(self, stage1_generator, stage1_discriminator, stage2_generator,
                 stage2_discriminator, latent_dim=64, stage1_steps=10_000, sample_texts=None,
                 ema_decay=None, seed=0, class_texts=False, **kwargs):
        if ema_decay == 0:
            ema_decay = None
        networks = dict(zip(NETWORKS, (stage1_generator, stage1_discriminator,
                                       stage2_generator, stage2_discriminator)))
        super().__init__(networks, trained=NETWORKS,
                         ema_networks=("stage1_generator", "stage2_generator"),
                         ema_decay=ema_decay, seed=seed, **kwargs)
        if int(latent_dim) <= 0:
            raise ValueError(f"`latent_dim` must be positive. Received: latent_dim={latent_dim}")
        if int(stage1_steps) < 0:
            raise ValueError(f"`stage1_steps` must be >= 0. Received: stage1_steps={stage1_steps}")
        self.latent_dim = int(latent_dim)
        self.stage1_steps = int(stage1_steps)
        self.sample_texts = tuple(sample_texts or ("a",))
        self.class_texts = bool(class_texts)
        self._step = keras.Variable(0, dtype="int64", trainable=False, name="step",
                                    aggregation="only_first_replica")
        tokenisers = {(tuple(n.encoder.vocabulary), n.encoder.sequence_length, n.encoder.name)
                      [:2] for n in (stage1_generator, stage1_discriminator,
                                     stage2_discriminator)}
        if len(tokenisers) != 1:
            raise ValueError(
                "StackGAN's generator and discriminators must share the tokeniser (the "
                "same vocabulary and sequence_length): build them with one vocabulary.")
        text = tf.constant(["a"] * 2)
        noise = tf.zeros([2, self.latent_dim])
        embedding = stage1_generator.embed(text)
        low = stage1_generator([text, noise])
        high = stage2_generator([low, embedding])
        stage1_discriminator([low, text])
        stage2_discriminator([high, text])
        self.image_shape = tuple(int(s) for s in high.shape[1:])
        stage1_generator.encoder.trainable = False  # a copy of the discriminator's
        self._copy_text_encoder()
        self.make_ema_copies({"stage1_generator": [text, noise],
                              "stage2_generator": [low, embedding]})
        self.add_trackers(["d_loss", "g_loss", "kl", "d_real", "d_wrong", "d_fake", "stage",
                           "nonfinite"])
        self.built = True

    # --------------------------------------------------------------------------- compile

    def compile(self, stage1_generator_optimizer=None, stage1_discriminator_optimizer=None,
                stage2_generator_optimizer=None, stage2_discriminator_optimizer=None,
                kl_weight=1.0, interpolation_weight=1.0, **kwargs):
        """Builds the four optimizers (default: Adam(2e-4, 0.5, 0.999), the paper's).

        XLA cannot compile the string ops of the in-graph tokeniser: `jit_compile` "auto"
        (the default) means off here, and True is an error. Several replicas are refused
        (one line): the stage switch is a tf.cond around the optimizers' updates.
        """
        kwargs["jit_compile"] = _no_xla(kwargs.get("jit_compile", "auto"))
        replicas = self.distribute_strategy.num_replicas_in_sync
        if replicas > 1 and self.stage1_steps > 0:
            raise ValueError(
                f"StackGAN trains on one device (here {replicas} replicas): its step picks the "
                "stage inside tf.cond, which cannot hold optimizer updates under a "
                "tf.distribute strategy. Use distribute.strategy default (one device).")
        super().compile({"stage1_generator": stage1_generator_optimizer,
                         "stage1_discriminator": stage1_discriminator_optimizer,
                         "stage2_generator": stage2_generator_optimizer,
                         "stage2_discriminator": stage2_discriminator_optimizer}, **kwargs)
        if kl_weight < 0 or interpolation_weight < 0:
            raise ValueError(
                "`kl_weight` and `interpolation_weight` must be >= 0. Received: "
                f"kl_weight={kl_weight}, interpolation_weight={interpolation_weight}")
        self.kl_weight = float(kl_weight)
        self.interpolation_weight = float(interpolation_weight)

    def set_execution(self, jit_compile="auto", steps_per_execution=1):
        super().set_execution(_no_xla(jit_compile), steps_per_execution)

    def default_optimizer(self, network):
        """StackGAN's Adam: learning rate 2e-4, beta_1 0.5."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999)

    @property
    def step(self):
        """Training steps taken (the trainer's own counter, checkpointed)."""
        return self._step

    def state_variables(self):
        return {"step": [self._step]}

    def stage(self, step=None):
        """The stage (1 or 2) that trains at `step` (default: the current step)."""
        step = int(self._step.numpy()) if step is None else int(step)
        return 1 if step < self.stage1_steps else 2

    # ------------------------------------------------------------------------- the step

    def _draws(self, step, stream, batch, sizes):
        """Standard normal draws of one update, one [batch, size] per entry of `sizes`:
        one Philox draw for the whole global batch from (seed, step, stream), each
        replica taking its rows."""
        key = self.noise_key(step, stream)
        values = noise_lib.normal([batch * noise_lib.num_replicas(), sum(sizes)], key)
        values = noise_lib.replica_slice(values, batch)
        return tf.split(values, sizes, axis=-1)

    def _sizes(self):
        return [self.latent_dim, self.stage1_generator.code_dim, self.stage2_generator.code_dim]

    def _copy_text_encoder(self):
        """The stage-I generator's text encoder := the stage-I discriminator's (see the
        module docstring)."""
        for mine, theirs in zip(self.stage1_generator.encoder.weights,
                                self.stage1_discriminator.encoder.weights):
            mine.assign(theirs)

    def _code(self, mean, log_variance, eps):
        return mean + tf.exp(0.5 * log_variance) * eps

    def _fake(self, stage, embedding, draws):
        """Generated images of `stage` from an embedding of stage I's encoder, with codes
        sampled from `draws` (noise, eps1, eps2); returns (images, mean, log_variance) of
        the stage's code."""
        g1, g2 = self.stage1_generator, self.stage2_generator
        noise, eps1, eps2 = draws
        mean1, logvar1 = g1.augment(embedding)
        low = g1.synthesize(noise, self._code(mean1, logvar1, eps1))
        if stage == 1:
            return low, mean1, logvar1
        mean2, logvar2 = g2.augment(tf.stop_gradient(embedding))
        return g2.refine(tf.stop_gradient(low), self._code(mean2, logvar2, eps2)), mean2, logvar2

    def _stage_step(self, stage, real, tokens, step):
        g_name = f"stage{stage}_generator"
        d_name = f"stage{stage}_discriminator"
        discriminator = self.network(d_name)
        batch = real.shape[0] or tf.shape(real)[0]
        sizes = self._sizes()
        # Stage I's embedding; trained with stage I only.
        embedding = self.stage1_generator.embed_tokens(tokens)
        fake, _, _ = self._fake(stage, embedding, self._draws(step, _D_STREAM, batch, sizes))
        fake = tf.stop_gradient(fake)
        with tf.GradientTape() as tape:
            d_text = discriminator.embed_tokens(tokens)
            real_logits = discriminator.score(real, d_text)
            # The mismatched description of each image: the next example's.
            wrong_logits = discriminator.score(real, tf.roll(d_text, 1, axis=0))
            fake_logits = discriminator.score(fake, d_text)
            d_loss = losses_lib.matching_aware_discriminator_loss(
                real_logits, wrong_logits, fake_logits)
            scaled = self.scale_loss(d_loss, d_name)
        d_finite = self.apply_gradients(d_name, scaled, tape, tf.math.is_finite(d_loss))
        if stage == 1:
            self._copy_text_encoder()
        draws = self._draws(step, _G_STREAM, batch, sizes * 2)
        with tf.GradientTape() as tape:
            embedding = self.stage1_generator.embed_tokens(tokens)
            fake, mean, logvar = self._fake(stage, embedding, draws[:3])
            d_text = discriminator.embed_tokens(tokens)
            g_loss = losses_lib.matching_aware_generator_loss(discriminator.score(fake, d_text))
            kl = losses_lib.conditioning_augmentation_kl(mean, logvar)
            total = g_loss + self.kl_weight * kl
            if self.interpolation_weight:
                # GAN-INT: the midpoint of this and the next example's text embeddings.
                mixed = 0.5 * (embedding + tf.roll(embedding, 1, axis=0))
                fake_int, _, _ = self._fake(stage, mixed, draws[3:])
                d_mixed = 0.5 * (d_text + tf.roll(d_text, 1, axis=0))
                total += self.interpolation_weight * losses_lib.matching_aware_generator_loss(
                    discriminator.score(fake_int, d_mixed))
            scaled = self.scale_loss(total, g_name)
        g_finite = self.apply_gradients(g_name, scaled, tape, tf.math.is_finite(total))
        finite = tf.logical_and(d_finite, g_finite)
        return {"d_loss": d_loss, "g_loss": g_loss, "kl": kl,
                "d_real": tf.reduce_mean(real_logits), "d_wrong": tf.reduce_mean(wrong_logits),
                "d_fake": tf.reduce_mean(fake_logits),
                "stage": tf.constant(float(stage)),
                "nonfinite": 1.0 - tf.cast(finite, tf.float32)}

    def train_step(self, data):
        real, text = unpack_batch(data)
        real = tf.cast(real, tf.float32)
        step = tf.identity(self._step)
        # One tokenisation for the four networks (they share the tokeniser, see __init__).
        tokens = self.stage1_generator.encoder.tokens(text)
        if self.stage1_steps == 0:
            logs = self._stage_step(2, real, tokens, step)
        else:
            low = downsample(real)
            logs = tf.cond(step < self.stage1_steps,
                           lambda: self._stage_step(1, low, tokens, step),
                           lambda: self._stage_step(2, real, tokens, step))
        self._step.assign_add(1)
        self.update_ema(step)
        return self.track(logs)

    def test_step(self, data):
        """The final stage's matching-aware losses on a batch, nothing updated."""
        real, text = unpack_batch(data)
        real = tf.cast(real, tf.float32)
        batch = real.shape[0] or tf.shape(real)[0]
        noise = generation_noise(batch, self.latent_dim, 0)
        fake = tf.cast(self._pipeline()([text, noise], training=False), tf.float32)
        d = self.stage2_discriminator
        d_text = d.embed(text)
        real_logits, fake_logits = d.score(real, d_text), d.score(fake, d_text)
        wrong_logits = d.score(real, tf.roll(d_text, 1, axis=0))
        logs = {
            "d_loss": losses_lib.matching_aware_discriminator_loss(
                real_logits, wrong_logits, fake_logits),
            "g_loss": losses_lib.matching_aware_generator_loss(fake_logits),
            "d_real": tf.reduce_mean(real_logits), "d_wrong": tf.reduce_mean(wrong_logits),
            "d_fake": tf.reduce_mean(fake_logits),
        }
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        return {name: self._trackers[name].result() for name in logs}

    # ----------------------------------------------------------------------- the contract

    def _pipeline(self):
        from tfgans.models.stackgan import StackGANPipeline

        return StackGANPipeline(self.inference_network("stage1_generator"),
                                self.inference_network("stage2_generator"),
                                name="stackgan")

    def check_batch(self, element_spec):
        ok = (isinstance(element_spec, (tuple, list)) and len(element_spec) == 2
              and isinstance(element_spec[0], tf.TensorSpec) and element_spec[0].shape.rank == 4
              and isinstance(element_spec[1], tf.TensorSpec)
              and element_spec[1].dtype == tf.string and element_spec[1].shape.rank == 1)
        if not ok:
            raise ValueError(
                "StackGAN trains on (images, text) batches: images float32 [batch, height, "
                "width, channels] and text string [batch] (e.g. data.name "
                f"fashion_mnist_captions or captioned_folder). Received element_spec: {element_spec}"
            )
        if tuple(element_spec[0].shape[1:]) != self.image_shape:
            raise ValueError(
                f"The images are {tuple(element_spec[0].shape[1:])}, but the networks make "
                f"{self.image_shape}: build them for the data's image shape.")
        batch = element_spec[0].shape[0]
        check_global_batch(batch, self.distribute_strategy.num_replicas_in_sync)
        return batch

    def check_data(self, data, batch_size=None):
        batch = first_batch(data, batch_size)
        if batch is None:
            return
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError("StackGAN trains on (images, text) batches. Received "
                             f"{type(batch).__name__} batches.")
        text = np.asarray(batch[1])
        if text.dtype.kind not in ("S", "U", "O"):
            raise ValueError(f"The text of (images, text) batches must be strings. Received "
                             f"dtype {text.dtype}.")

    def sample(self, num_samples=64, seed=0, labels=None, text=None, truncation=None):
        """Images in [-1, 1] [N, H, W, C] for `text` (one description for all, or one per
        sample; None: `sample_texts` in turn), noise from `seed` (image i from (seed, i)),
        with the (EMA) generators and each code's mean.

        `labels` and `truncation` are not used by a text model (an error if given)."""
        if labels is not None or truncation is not None:
            raise ValueError("A text -> image run takes descriptions (text), not labels or "
                             "truncation.")
        texts = generation_texts(num_samples, text, self.sample_texts)
        noise = generation_noise(len(texts), self.latent_dim, seed)
        pipeline = self._pipeline()
        out = [pipeline([tf.constant(texts[i:i + 256]), noise[i:i + 256]], training=False)
               for i in range(0, len(texts), 256)]
        return np.concatenate([np.asarray(tf.cast(o, tf.float32)) for o in out])

    def sample_grid(self, num_images, seed=0):
        """One row per sample text, `num_images // rows` images each (the same noise in
        every row)."""
        rows = min(len(self.sample_texts), num_images)
        columns = max(1, num_images // rows)
        texts = [t for t in self.sample_texts[:rows] for _ in range(columns)]
        noise = np.tile(np.asarray(generation_noise(columns, self.latent_dim, seed)), [rows, 1])
        images = self._pipeline()([tf.constant(texts), tf.constant(noise)], training=False)
        return np.asarray(tf.cast(images, tf.float32)), columns

    def evaluation_samples(self, num_samples, seed=0):
        """Images for `sample_texts` in turn, and with `class_texts` the class each one's
        text describes (its index), else None."""
        ids = np.arange(num_samples) % len(self.sample_texts)
        images = self.sample(num_samples, seed, text=[self.sample_texts[i] for i in ids])
        return images, (ids if self.class_texts else None)

    def export_spec(self):
        return ExportSpec("text_to_image", self._pipeline(), {"latent_dim": self.latent_dim})

    def settings(self):
        return {**super().settings(), "latent_dim": self.latent_dim,
                # GAN-CLS' sigmoid cross-entropy (the health monitor reads D's loss as one).
                "loss": "matching_aware", "stage1_steps": self.stage1_steps,
                "sample_texts": list(self.sample_texts), "class_texts": self.class_texts,
                "image_shape": list(self.image_shape),
                "kl_weight": getattr(self, "kl_weight", None),
                "interpolation_weight": getattr(self, "interpolation_weight", None)}


def _no_xla(jit_compile):
    if jit_compile is True:
        raise ValueError(
            "StackGAN tokenises text inside its networks, and XLA cannot compile string "
            "ops: use jit_compile false or auto (train.jit_compile). Received: jit_compile=True")
    return False


def unpack_batch(data):
    """(images, text string [B]) of a text -> image batch."""
    if isinstance(data, dict):
        images, text = data["images"], data["text"]
    else:
        images, text = data
    return images, tf.reshape(tf.convert_to_tensor(text, tf.string), [-1])


def downsample(images):
    """Area-downsamples x2 (stage I's real images): [B, H, W, C] -> [B, H/2, W/2, C]."""
    return tf.nn.avg_pool2d(images, 2, 2, "VALID")


def generation_noise(num_samples, latent_dim, seed):
    """The noise of `sample` and of the exported `generate`: row i from (seed, i)."""
    key = noise_lib.fold_seed(seed, _GENERATE_STREAM)
    return noise_lib.normal([num_samples, latent_dim], key)


def generation_texts(num_samples, text, default):
    """`num_samples` descriptions: `text` (one string, or one per sample), or `default`
    in turn."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or (
            num_samples <= 0):
        raise ValueError(f"`num_samples` must be positive. Received: num_samples={num_samples!r}")
    if text is None:
        return [default[i % len(default)] for i in range(num_samples)]
    texts = [text] if isinstance(text, (str, bytes)) else list(text)
    if not texts or not all(isinstance(t, (str, bytes)) for t in texts):
        raise ValueError(f"`text` must be a string or a list of strings. Received: {text!r}")
    if len(texts) == 1:
        texts = texts * num_samples
    if len(texts) != num_samples:
        raise ValueError(f"Give one description, or one per sample ({num_samples}). "
                         f"Received {len(texts)}.")
    return texts
