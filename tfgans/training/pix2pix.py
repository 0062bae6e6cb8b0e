"""`Pix2Pix`: the paired image -> image family (Isola et al. 2017).

Batches are `(source, target)`, float32 [B, H, W, C] in [-1, 1], same shape (a generator
with a `source_shape`, e.g. SRGAN's, takes sources of that shape instead). Each step:

1. the generator translates the source, `fake = G(source)`, with dropout masks drawn
   statelessly from (seed, step) for the whole global batch (each replica takes its rows),
   so 1 and 2 replicas, and a resumed run, see the same masks;
2. the discriminator, on (source, image) pairs concatenated on channels, takes one step on
   `d_loss = 0.5 * (loss(D(source, target) real) + loss(D(source, fake) fake))` (the paper
   halves D's objective);
3. the generator takes one step on `g_loss = adversarial(D(source, G(source))) + l1_weight
   * mean |target - G(source)|`, against the updated discriminator, with the same masks.

The adversarial pair is the non-saturating one by default (the paper's), any registered
`tfgans.losses` pair by name. Written so that the paired families to come (SRGAN,
inpainting) can reuse it: `reconstruction_loss`, `discriminator_input` and
`generator_inputs` are the seams.

Sample grids show rows of source | output | target for a fixed preview: the first examples
of the first training batch (`check_data` keeps them in trainer state, so a resumed run
shows the same ones).

Reference: [Isola et al., 2017](https://arxiv.org/abs/1611.07004).
"""

import keras
import numpy as np
import tensorflow as tf

from tfgans import losses as losses_lib
from tfgans.settings import Key, Setting
from tfgans.training import noise as noise_lib
from tfgans.training.gan import adversarial_loss
from tfgans.training.trainer import (
    ExportSpec,
    Trainer,
    check_image_pair_spec,
    first_batch,
    predict_in_batches,
)

#: The stream of the dropout draws in `noise_key(step, stream, layer)`.
_DROPOUT = 7
#: Examples kept for the sample grid (rows of source | output | target).
PREVIEW_SIZE = 8


class Pix2Pix(Trainer):
    """Paired image -> image translation with a conditional discriminator (pix2pix).

    Args:
        generator: a keras.Model, source [B, H, W, C] -> image [B, H, W, C] in [-1, 1];
            it may define `dropout_noise_shapes(batch)` and take `dropout_noise=`
            (`tfgans.models.UNetGenerator` does) for replica-independent dropout.
        discriminator: a keras.Model, pairs [B, H, W, C_source + C] -> logits (a PatchGAN's
            [B, h, w, 1], or [B, 1]).
        image_shape: (H, W, C) of sources and targets; None: the generator's `image_shape`.
        ema_decay: None, or the decay of an EMA copy of the generator (sampled and served).
        seed: the seed of the dropout draws.

    Example:
    ```python
    generator, discriminator = tfgans.models.get("pix2pix")((28, 28, 1), width=8)
    trainer = Pix2Pix(generator, discriminator)
    trainer.compile()                       # Adam(2e-4, 0.5), non-saturating + 100 * L1
    trainer.fit(dataset_of_source_target_pairs, epochs=1)
    ```
    """

    family = "image_to_image"
    TRAINED = ("generator", "discriminator")
    #: The metrics `train_step` and `test_step` report.
    TRACKERS = ("d_loss", "g_loss", "g_adversarial", "l1", "d_real", "d_fake", "nonfinite")
    SETTINGS = (
        Setting("loss.name", "loss", Key(
            "non_saturating", "str", doc="adversarial loss pair (tfgans.losses): the paper's "
            "non_saturating, or least_squares, hinge, ...")),
        Setting("loss.l1_weight", "l1_weight", Key(
            100.0, "float", low=0.0, doc="weight of the L1 distance to the target (lambda)")),
        Setting("train.ema", "ema_decay", Key(
            None, "float", low=0.0, high=1.0, high_open=True, nullable=True,
            doc="EMA decay of the generator; null or 0: none")),
        Setting("train.seed", "seed", Key(0, "int", low=0, doc="seed of weights and dropout")),
    )

    def __init__(self, generator, discriminator, image_shape=None, ema_decay=None, seed=0,
                 **kwargs):
        ema_decay = ema_decay or None  # the config's 0.0 means "no EMA"
        super().__init__({"generator": generator, "discriminator": discriminator},
                         trained=self.TRAINED, ema_networks=("generator",),
                         ema_decay=ema_decay, seed=seed, **kwargs)
        if image_shape is None:
            image_shape = getattr(generator, "image_shape", None)
        if image_shape is None:
            raise ValueError("Pix2Pix needs `image_shape` (H, W, C): the generator has none.")
        self.image_shape = tuple(int(s) for s in image_shape)
        # The sources' shape: the images' unless the generator says (super-resolution).
        self.source_shape = tuple(
            int(s) for s in getattr(generator, "source_shape", None) or self.image_shape)
        source = tf.zeros([1, *self.source_shape])
        discriminator(self.discriminator_input(source, generator(source)))
        self.make_ema_copies({"generator": source})
        self.preview_source = self.add_weight(
            shape=(PREVIEW_SIZE, *self.source_shape), initializer="zeros", trainable=False,
            name="preview_source")
        self.preview_target = self.add_weight(
            shape=(PREVIEW_SIZE, *self.image_shape), initializer="zeros", trainable=False,
            name="preview_target")
        self.preview_count = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="preview_count")
        self.add_trackers(self.TRACKERS)
        self.loss_pair = losses_lib.get("non_saturating")
        self.l1_weight = 100.0
        self.built = True

    def compile(self, generator_optimizer=None, discriminator_optimizer=None,
                loss="non_saturating", l1_weight=100.0, **kwargs):
        """Builds the optimizers (default: the paper's Adam(2e-4, beta_1 0.5)).

        Args:
            loss: the adversarial pair, a `tfgans.losses` name or `GANLoss`.
            l1_weight: lambda, the weight of the L1 term (the paper's 100).
            **kwargs: `Trainer.compile`'s (jit_compile, steps_per_execution, ...).
        """
        if isinstance(l1_weight, bool) or not float(l1_weight) >= 0:
            raise ValueError(
                f"`l1_weight` must be a number >= 0. Received: l1_weight={l1_weight!r}")
        super().compile({"generator": generator_optimizer,
                         "discriminator": discriminator_optimizer}, **kwargs)
        self.loss_pair = losses_lib.get(loss)
        self.l1_weight = float(l1_weight)

    def default_optimizer(self, network):
        """The paper's optimizer: Adam(2e-4, beta_1 0.5, beta_2 0.999)."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999)

    # ----------------------------------------------------------------- the step

    def discriminator_input(self, source, image):
        """What the conditional discriminator scores: (source, image) on channels."""
        return tf.concat([tf.cast(source, image.dtype), image], axis=-1)

    def reconstruction_loss(self, target, fake):
        """The L1 distance, mean over pixels and the (per-replica) batch."""
        return tf.reduce_mean(tf.abs(tf.cast(target, tf.float32) - tf.cast(fake, tf.float32)))

    def dropout_noise(self, source, step):
        """The generator's dropout draws for this replica's `source` at `step`: uniform,
        drawn for the whole global batch from (seed, step, layer), this replica's rows.
        None when the generator has no keyed dropout."""
        shapes_of = getattr(self.generator, "dropout_noise_shapes", None)
        if shapes_of is None:
            return None
        local = source.shape[0] if source.shape[0] is not None else tf.shape(source)[0]
        draws = []
        for layer, shape in enumerate(shapes_of(local * noise_lib.num_replicas())):
            key = self.noise_key(step, _DROPOUT, layer)
            draws.append(noise_lib.replica_slice(noise_lib.uniform(shape, key), local))
        return draws or None

    def generator_inputs(self, source, step):
        """Keyword arguments of the generator's training call."""
        noise = self.dropout_noise(source, step)
        return {} if noise is None else {"dropout_noise": noise}

    def train_step(self, data):
        source, target = (tf.cast(x, tf.float32) for x in data)
        step = self.step
        extra = self.generator_inputs(source, step)
        fake = tf.stop_gradient(self.generator(source, training=True, **extra))
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(self.discriminator_input(source, target),
                                             training=True)
            fake_logits = self.discriminator(self.discriminator_input(source, fake),
                                             training=True)
            d_loss, d_total = adversarial_loss(self.loss_pair, real_logits, fake_logits, False)
            d_loss, d_total = 0.5 * d_loss, 0.5 * d_total
            scaled = self.scale_loss(d_total, "discriminator")
        d_finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(d_loss))
        with tf.GradientTape() as tape:
            fake = self.generator(source, training=True, **extra)
            logits = self.discriminator(self.discriminator_input(source, fake), training=True)
            adversarial, g_total = adversarial_loss(
                self.loss_pair, tf.stop_gradient(real_logits), logits, True)
            l1 = self.reconstruction_loss(target, fake)
            g_loss = adversarial + self.l1_weight * l1
            scaled = self.scale_loss(g_total + self.l1_weight * l1, "generator")
        g_finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(g_loss))
        self.update_ema(step)
        finite = tf.logical_and(d_finite, g_finite)
        return self.track({
            "d_loss": d_loss, "g_loss": g_loss, "g_adversarial": adversarial, "l1": l1,
            "d_real": tf.reduce_mean(tf.cast(real_logits, tf.float32)),
            "d_fake": tf.reduce_mean(tf.cast(fake_logits, tf.float32)),
            "nonfinite": 1.0 - tf.cast(finite, tf.float32),
        })

    def test_step(self, data):
        source, target = (tf.cast(x, tf.float32) for x in data[:2])
        fake = self.inference_network("generator")(source, training=False)
        logs = self.track({"l1": self.reconstruction_loss(target, fake)})
        return {"l1": logs["l1"]}

    # ---------------------------------------------------------- the rest of the contract

    #: The method's name and the paired datasets, for the error of a wrong batch.
    METHOD = "pix2pix"
    DATASETS = "edges2fashion, ab_folder or paired_folder"

    def _batch_error(self, received):
        shapes = [self.source_shape, self.image_shape]
        if shapes[0] == shapes[1]:
            what = f"{'x'.join(map(str, self.image_shape))} images (float32 [batch, " \
                   f"{', '.join(map(str, self.image_shape))}] each, in [-1, 1])"
        else:
            what = " and ".join(f"[batch, {', '.join(map(str, s))}]" for s in shapes) + \
                " images (float32, in [-1, 1])"
        return ValueError(
            f"{self.METHOD} trains on (source, target) pairs of {what}: use a paired dataset "
            f"(data.name {self.DATASETS}). Received: {received}")

    def check_batch(self, element_spec):
        return check_image_pair_spec(element_spec, (self.source_shape, self.image_shape),
                                     self.distribute_strategy.num_replicas_in_sync,
                                     self._batch_error)

    def check_data(self, data, batch_size=None):
        """Checks the first batch (pairs, of this shape) and keeps its first examples as the
        sample grid's preview, unless a preview is already kept (a resumed run)."""
        batch = first_batch(data, batch_size)
        if batch is None:
            return
        if not (isinstance(batch, (tuple, list)) and len(batch) >= 2):
            raise self._batch_error(f"a batch of {type(batch).__name__}")
        source, target = (np.asarray(x, np.float32) for x in batch[:2])
        for x, shape in ((source, self.source_shape), (target, self.image_shape)):
            if x.ndim != 4 or tuple(x.shape[1:]) != shape:
                raise self._batch_error(f"a batch of shape {x.shape}")
        if int(self.preview_count.numpy()) == 0:
            self.set_preview(source, target)

    def set_preview(self, source, target):
        """Keeps up to `PREVIEW_SIZE` (source, target) pairs for the sample grid."""
        count = min(len(source), PREVIEW_SIZE)
        pad = [(0, PREVIEW_SIZE - count)] + [(0, 0)] * 3
        self.preview_source.assign(np.pad(np.asarray(source[:count], np.float32), pad))
        self.preview_target.assign(np.pad(np.asarray(target[:count], np.float32), pad))
        self.preview_count.assign(count)

    def state_variables(self):
        return {"preview": [self.preview_source, self.preview_target, self.preview_count]}

    def sample(self, images, batch_size=256):
        """Translates sources in [-1, 1] [N, *source_shape] with the (EMA) generator,
        without dropout; returns float32 NumPy in [-1, 1] [N, *image_shape]."""
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or tuple(images.shape[1:]) != self.source_shape:
            raise ValueError(
                "sample() takes source images of shape "
                f"[N, {', '.join(map(str, self.source_shape))}]. Received: {images.shape}")
        generator = self.inference_network("generator")
        return predict_in_batches(lambda x: generator(x, training=False), (images,),
                                  batch_size, self.image_shape)

    def preview(self):
        """(sources, targets) of the preview kept by `check_data` (empty before)."""
        count = int(self.preview_count.numpy())
        return self.preview_source.numpy()[:count], self.preview_target.numpy()[:count]

    #: The columns of the sample grid's rows (`grid_columns`).
    GRID_COLUMNS = ("source", "output", "target")

    def grid_columns(self, sources, outputs, targets):
        """The `GRID_COLUMNS` of a sample grid's rows, each [N, *image_shape]."""
        return [sources, outputs, targets]

    def sample_grid(self, num_images, seed=0):
        """Rows of `grid_columns` (source | output | target) for up to num_images / columns
        preview pairs. Before any preview is kept, sources are uniform noise from `seed`
        and the target column shows the output."""
        sources, targets = self.preview()
        columns = len(self.GRID_COLUMNS)
        rows = max(1, min(num_images // columns, PREVIEW_SIZE))
        if not len(sources):
            sources = np.random.default_rng(seed).uniform(
                -1, 1, (rows, *self.source_shape)).astype(np.float32)
            targets = None
        sources = sources[:rows]
        outputs = self.sample(sources)
        targets = outputs if targets is None else targets[:rows]
        grid = np.stack(self.grid_columns(sources, outputs, targets), axis=1)
        return grid.reshape(-1, *self.image_shape), columns

    def evaluation_samples(self, num_samples, seed=0):
        raise ValueError(
            "An image -> image run is evaluated on (source, target) pairs, not on samples "
            "from noise: use tfgans.metrics.evaluate_translation (Estimator.evaluate does).")

    def export_spec(self):
        return ExportSpec("image_to_image", self.inference_network("generator"),
                          {"image_shape": self.source_shape})

    def settings(self):
        return {**super().settings(), "image_shape": list(self.image_shape),
                "loss": self.loss_pair.name, "l1_weight": self.l1_weight}
