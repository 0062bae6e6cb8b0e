"""`Inpainting`: the image inpainting family (Pathak et al. 2016; Iizuka et al. 2017;
Liu et al. 2018).

Batches are `(source, target, mask)`: float32 [B, H, W, C] in [-1, 1] for the image with
a hole and the whole image, and [B, H, W, 1] for the mask (1 = a missing pixel, 0 =
known; `pipelines.data.fashion_inpaint` yields them). Each step:

1. the generator fills the hole: `raw = G([source * (1 - mask), mask])`, and the known
   pixels are kept: `out = mask * raw + (1 - mask) * source` (`tfgans.models.compose`);
2. the discriminator takes one step on `loss(D(target) real, D(out) fake)`; with a
   global + local discriminator (Iizuka et al.) D also sees the crop around the hole
   (`local_crop`: the hole's bounding box resized to H/2 x W/2, or a fixed H/2 x W/2 crop
   centred on it);
3. the generator takes one step on

       g_loss = reconstruction + adversarial_weight * adversarial(D(out))
                + perceptual_weight * perceptual + style_weight * style

   with `reconstruction = mean(hole_weight * mask * d + valid_weight * (1 - mask) * d)`,
   `d = (raw - target)^2` (Pathak et al.'s L2) or `|raw - target|` (Liu et al.'s L1), and
   the perceptual and style (Gram) losses (Liu et al.) on the committed Fashion-MNIST
   classifier's three pooling layers, for both `raw` and `out` against the target.

Pathak et al.'s weights are 0.999 (reconstruction, here 1) and 0.001 (adversarial); Liu
et al.'s 1 (valid), 6 (hole), 0.05 (perceptual), 120 (style).

Reference: [Pathak et al., 2016](https://arxiv.org/abs/1604.07379),
[Iizuka et al., 2017](http://iizuka.cs.tsukuba.ac.jp/projects/completion/data/completion_sig2017.pdf),
[Liu et al., 2018](https://arxiv.org/abs/1804.07723).
"""

import keras
import numpy as np
import tensorflow as tf

from tfgans import losses as losses_lib
from tfgans.losses.style import perceptual_loss, style_loss
from tfgans.models.inpainting import center_mask, compose, generator_input
from tfgans.settings import Key, Setting
from tfgans.training.gan import adversarial_loss
from tfgans.training.pix2pix import PREVIEW_SIZE
from tfgans.training.trainer import (
    ExportSpec,
    Trainer,
    check_global_batch,
    first_batch,
    predict_in_batches,
)

RECONSTRUCTIONS = ("l1", "l2")
LOCAL_CROPS = ("bbox", "fixed")
MASKS = ("center", "random", "free_form")
#: The classifier layers of the perceptual and style losses.
FEATURE_LAYERS = ("block1_pool", "block2_pool", "block3_pool")


def hole_spans(masks):
    """The hole's bounding box per image: (top, left, bottom, right), int32 [B] each,
    inclusive; the whole image for an image without a hole."""

    def span(present, size):
        index = tf.range(size)
        first = tf.reduce_min(tf.where(present, index, size), axis=1)
        last = tf.reduce_max(tf.where(present, index, -1), axis=1)
        empty = first > last
        return tf.where(empty, 0, first), tf.where(empty, size - 1, last)

    masks = tf.cast(masks, tf.float32) > 0.5
    top, bottom = span(tf.reduce_any(masks, axis=[2, 3]), tf.shape(masks)[1])
    left, right = span(tf.reduce_any(masks, axis=[1, 3]), tf.shape(masks)[2])
    return top, left, bottom, right


def _resample(images, start, stop, size, axis):
    """Bilinear samples of `images` along `axis` (1 rows, 2 columns) at `size` evenly
    spaced positions from `start` to `stop` (per image, inclusive)."""
    n = images.shape[axis]
    steps = tf.cast(tf.range(size), tf.float32) / float(max(size - 1, 1))
    start, stop = tf.cast(start, tf.float32)[:, None], tf.cast(stop, tf.float32)[:, None]
    position = start + (stop - start) * steps  # [B, size]
    low = tf.clip_by_value(tf.floor(position), 0.0, n - 1.0)
    weight = position - low
    low = tf.cast(low, tf.int32)
    high = tf.minimum(low + 1, n - 1)
    a = tf.gather(images, low, axis=axis, batch_dims=1)
    b = tf.gather(images, high, axis=axis, batch_dims=1)
    shape = [-1, size, 1, 1] if axis == 1 else [-1, 1, size, 1]
    weight = tf.reshape(weight, shape)
    return a * (1.0 - weight) + b * weight


def local_crops(images, masks, mode="fixed"):
    """The local discriminator's view, [B, H/2, W/2, C]: "bbox", the hole's bounding box
    resized (bilinear); "fixed", the H/2 x W/2 pixels centred on the box (kept inside the
    image)."""
    height, width = images.shape[1], images.shape[2]
    size_h, size_w = height // 2, width // 2
    top, left, bottom, right = (tf.cast(x, tf.float32) for x in hole_spans(masks))
    if mode == "fixed":
        top = tf.clip_by_value(tf.round((top + bottom - (size_h - 1)) / 2), 0, height - size_h)
        left = tf.clip_by_value(tf.round((left + right - (size_w - 1)) / 2), 0, width - size_w)
        bottom, right = top + size_h - 1, left + size_w - 1
    rows = _resample(images, top, bottom, size_h, axis=1)
    return _resample(rows, left, right, size_w, axis=2)


def classifier_feature_maps(path=None):
    """A frozen model: images [B, 28, 28, 1] in [-1, 1] -> the committed Fashion-MNIST
    classifier's `FEATURE_LAYERS` outputs (loaded in safe mode)."""
    from tfgans.metrics.extractors import default_classifier_path

    path = path or default_classifier_path()
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"The perceptual and style losses need the classifier {path}: "
                                "run `python -m pipelines.train_classifier`, or set their "
                                "weights to 0.")
    classifier = keras.models.load_model(path, safe_mode=True, compile=False)
    model = keras.Model(classifier.inputs,
                        [classifier.get_layer(name).output for name in FEATURE_LAYERS],
                        name="feature_maps")
    model.trainable = False
    return model


class Inpainting(Trainer):
    """Image inpainting with a context encoder and a global (+ local) discriminator.

    Args:
        generator: a keras.Model, `generator_input(images, masks)` [B, H, W, C + 1] ->
            images [B, H, W, C] in [-1, 1] (`tfgans.models.ContextEncoder`).
        discriminator: a keras.Model, images -> logits; one with `takes_crops = True`
            (`tfgans.models.GlobalLocalDiscriminator`) takes `[images, local_crops]`.
        image_shape: (H, W, C); None: the generator's `image_shape`.
        local_crop: "fixed" or "bbox" (see `local_crops`), for a global + local D.
        mask: the data's masks ("center", "random", "free_form"; the config's data.mask),
            recorded in the settings.
        ema_decay: None, or the decay of an EMA copy of the generator.
        seed: the seed of the run.

    Example:
    ```python
    generator, discriminator = tfgans.models.get("inpainting")((28, 28, 1), width=8)
    trainer = Inpainting(generator, discriminator)
    trainer.compile()            # Adam(2e-4, 0.5); L2 in the hole + 0.001 * adversarial
    trainer.fit(fashion_inpaint_batches, epochs=1)
    ```
    """

    family = "image_to_image"
    TRAINED = ("generator", "discriminator")
    SETTINGS = (
        Setting("loss.name", "loss", Key(
            "non_saturating", "str", doc="adversarial loss pair (tfgans.losses)")),
        Setting("loss.adversarial_weight", "adversarial_weight", Key(
            0.001, "float", low=0.0, doc="weight of the adversarial loss (Pathak et al.: 0.001)")),
        Setting("loss.reconstruction", "reconstruction", Key(
            "l2", "str", choices=RECONSTRUCTIONS, doc="l2 (Pathak et al.) or l1 (Liu et al.)")),
        Setting("loss.hole_weight", "hole_weight", Key(
            1.0, "float", low=0.0, doc="weight of the reconstruction inside the mask")),
        Setting("loss.valid_weight", "valid_weight", Key(
            0.0, "float", low=0.0, doc="weight of the reconstruction outside the mask "
            "(of the raw output; the known pixels are kept anyway)")),
        Setting("loss.perceptual_weight", "perceptual_weight", Key(
            0.0, "float", low=0.0, doc="weight of the perceptual loss on the Fashion-MNIST "
            "classifier's features (Liu et al.: 0.05); 0: off")),
        Setting("loss.style_weight", "style_weight", Key(
            0.0, "float", low=0.0, doc="weight of the style (Gram) loss on the same features "
            "(Liu et al.: 120); 0: off")),
        Setting("model.local_crop", "local_crop", Key(
            "fixed", "str", choices=LOCAL_CROPS, doc="the local discriminator's view: fixed "
            "(H/2 x W/2 around the hole) or bbox (the hole's box, resized)")),
        Setting("data.mask", "mask", Key(
            "center", "str", choices=MASKS, doc="fashion_inpaint's masks: center (14x14), "
            "random (a rectangle) or free_form (strokes)")),
        Setting("train.ema", "ema_decay", Key(
            None, "float", low=0.0, high=1.0, high_open=True, nullable=True,
            doc="EMA decay of the generator; null or 0: none")),
        Setting("train.seed", "seed", Key(0, "int", low=0, doc="seed of the weights")),
    )

    def __init__(self, generator, discriminator, image_shape=None, local_crop="fixed",
                 mask="center", ema_decay=None, seed=0, **kwargs):
        ema_decay = ema_decay or None
        super().__init__({"generator": generator, "discriminator": discriminator},
                         trained=self.TRAINED, ema_networks=("generator",),
                         ema_decay=ema_decay, seed=seed, **kwargs)
        image_shape = image_shape or getattr(generator, "image_shape", None)
        if image_shape is None:
            raise ValueError("Inpainting needs `image_shape` (H, W, C): the generator has none.")
        if local_crop not in LOCAL_CROPS:
            raise ValueError(f"`local_crop` must be one of {', '.join(LOCAL_CROPS)}. "
                             f"Received: local_crop={local_crop!r}")
        if mask not in MASKS:
            raise ValueError(f"`mask` must be one of {', '.join(MASKS)}. Received: mask={mask!r}")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.local_crop = local_crop
        self.mask_kind = mask
        images = tf.zeros([1, *self.image_shape])
        masks = tf.zeros([1, *self.image_shape[:2], 1])
        inputs = generator_input(images, masks)
        discriminator(self.discriminator_input(generator(inputs), masks))
        self.make_ema_copies({"generator": inputs})
        self.preview_images = [self.add_weight(
            shape=(PREVIEW_SIZE, *self.image_shape[:2], c), initializer="zeros",
            trainable=False, name=f"preview_{name}")
            for name, c in (("source", self.image_shape[2]), ("target", self.image_shape[2]),
                            ("mask", 1))]
        self.preview_count = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="preview_count")
        self.add_trackers(["d_loss", "g_loss", "g_adversarial", "reconstruction", "hole_l1",
                           "d_real", "d_fake", "nonfinite"])
        self.loss_pair = losses_lib.get("non_saturating")
        self.adversarial_weight, self.reconstruction = 0.001, "l2"
        self.hole_weight, self.valid_weight = 1.0, 0.0
        self.perceptual_weight = self.style_weight = 0.0
        self.feature_maps = None
        self.built = True

    def compile(self, generator_optimizer=None, discriminator_optimizer=None,
                loss="non_saturating", adversarial_weight=0.001, reconstruction="l2",
                hole_weight=1.0, valid_weight=0.0, perceptual_weight=0.0, style_weight=0.0,
                feature_maps=None, **kwargs):
        """Builds the optimizers (default Adam(2e-4, beta_1 0.5)) and sets the losses.

        Args:
            loss: the adversarial pair, a `tfgans.losses` name or `GANLoss`.
            adversarial_weight, hole_weight, valid_weight, perceptual_weight,
                style_weight: the weights of the loss terms (numbers >= 0).
            reconstruction: "l2" or "l1".
            feature_maps: the feature model of the perceptual and style losses (images ->
                list of [B, h, w, c]); None: the committed classifier's
                (`classifier_feature_maps`), loaded when a weight is > 0.
            **kwargs: `Trainer.compile`'s.
        """
        weights = dict(adversarial_weight=adversarial_weight, hole_weight=hole_weight,
                       valid_weight=valid_weight, perceptual_weight=perceptual_weight,
                       style_weight=style_weight)
        for name, value in weights.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
        if reconstruction not in RECONSTRUCTIONS:
            raise ValueError(f"`reconstruction` must be l1 or l2. Received: "
                             f"reconstruction={reconstruction!r}")
        super().compile({"generator": generator_optimizer,
                         "discriminator": discriminator_optimizer}, **kwargs)
        self.loss_pair = losses_lib.get(loss)
        for name, value in weights.items():
            setattr(self, name, float(value))
        self.reconstruction = reconstruction
        if perceptual_weight > 0 or style_weight > 0:
            self.feature_maps = feature_maps or classifier_feature_maps()
            shape = tuple(self.feature_maps.inputs[0].shape[1:])
            if shape != self.image_shape:
                raise ValueError(
                    f"The perceptual and style losses' features take {shape} images, not "
                    f"{self.image_shape}: set loss.perceptual_weight and loss.style_weight "
                    "to 0 for these images.")
            self.add_trackers([n for n in ("perceptual", "style") if n not in self._trackers])

    def default_optimizer(self, network):
        """Adam(2e-4, beta_1 0.5), as Pathak et al.'s code."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999)

    # ----------------------------------------------------------------- the step

    def discriminator_input(self, images, masks):
        """What D scores: the image, and the crop around the hole for a global + local D."""
        if getattr(self.discriminator, "takes_crops", False):
            return [images, local_crops(images, masks, self.local_crop)]
        return images

    def reconstruction_loss(self, target, raw, masks):
        """`mean(hole_weight * mask * d + valid_weight * (1 - mask) * d)`, d the squared
        (l2) or absolute (l1) difference of the raw output and the target."""
        diff = tf.cast(raw, tf.float32) - tf.cast(target, tf.float32)
        d = tf.square(diff) if self.reconstruction == "l2" else tf.abs(diff)
        masks = tf.cast(masks, tf.float32)
        return tf.reduce_mean((self.hole_weight * masks + self.valid_weight * (1.0 - masks)) * d)

    @staticmethod
    def hole_l1(target, out, masks):
        """Mean |out - target| over the hole's pixels (all images pooled)."""
        masks = tf.cast(masks, tf.float32)
        count = tf.reduce_sum(masks) * tf.cast(tf.shape(target)[-1], tf.float32)
        total = tf.reduce_sum(masks * tf.abs(tf.cast(out, tf.float32) - target))
        return total / tf.maximum(count, 1.0)

    def feature_losses(self, target, raw, out):
        """(perceptual, style) of `raw` and `out` against `target` (Liu et al.)."""
        wanted = self.feature_maps(target, training=False)
        perceptual = style = 0.0
        for image in (raw, out):
            features = self.feature_maps(image, training=False)
            perceptual += perceptual_loss(features, wanted)
            style += style_loss(features, wanted)
        return perceptual, style

    def train_step(self, data):
        source, target, masks = (tf.cast(x, tf.float32) for x in data)
        inputs = generator_input(source, masks)
        fake = tf.stop_gradient(compose(source, masks, self.generator(inputs, training=True)))
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(self.discriminator_input(target, masks),
                                             training=True)
            fake_logits = self.discriminator(self.discriminator_input(fake, masks),
                                             training=True)
            d_loss, d_total = adversarial_loss(self.loss_pair, real_logits, fake_logits, False)
            scaled = self.scale_loss(d_total, "discriminator")
        d_finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(d_loss))
        logs = {}
        with tf.GradientTape() as tape:
            raw = self.generator(inputs, training=True)
            out = compose(source, masks, raw)
            logits = self.discriminator(self.discriminator_input(out, masks), training=True)
            adversarial, adversarial_total = adversarial_loss(
                self.loss_pair, tf.stop_gradient(real_logits), logits, True)
            reconstruction = self.reconstruction_loss(target, raw, masks)
            rest = reconstruction
            if self.feature_maps is not None:
                logs["perceptual"], logs["style"] = self.feature_losses(target, raw, out)
                rest += (self.perceptual_weight * logs["perceptual"]
                         + self.style_weight * logs["style"])
            g_loss = rest + self.adversarial_weight * adversarial
            # Differentiated: the adversarial surrogate (the same value; relativistic: its
            # gradient through the global batch means).
            scaled = self.scale_loss(rest + self.adversarial_weight * adversarial_total,
                                     "generator")
        g_finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(g_loss))
        self.update_ema(self.step)
        finite = tf.logical_and(d_finite, g_finite)
        return self.track({
            **logs, "d_loss": d_loss, "g_loss": g_loss, "g_adversarial": adversarial,
            "reconstruction": reconstruction, "hole_l1": self.hole_l1(target, out, masks),
            "d_real": tf.reduce_mean(tf.cast(real_logits, tf.float32)),
            "d_fake": tf.reduce_mean(tf.cast(fake_logits, tf.float32)),
            "nonfinite": 1.0 - tf.cast(finite, tf.float32),
        })

    def test_step(self, data):
        source, target, masks = (tf.cast(x, tf.float32) for x in data[:3])
        raw = self.inference_network("generator")(generator_input(source, masks), training=False)
        logs = self.track({"hole_l1": self.hole_l1(target, compose(source, masks, raw), masks)})
        return {"hole_l1": logs["hole_l1"]}

    # ---------------------------------------------------------- the rest of the contract

    def _batch_error(self, received):
        h, w, c = self.image_shape
        return ValueError(
            f"Inpainting trains on (source, target, mask) batches: float32 [batch, {h}, {w}, "
            f"{c}] images in [-1, 1] and [batch, {h}, {w}, 1] masks (1 = missing): use "
            f"data.name fashion_inpaint. Received: {received}")

    def check_batch(self, element_spec):
        h, w, c = self.image_shape
        shapes = ((h, w, c), (h, w, c), (h, w, 1))
        if not (isinstance(element_spec, (tuple, list)) and len(element_spec) == 3
                and all(isinstance(s, tf.TensorSpec) and s.shape.rank == 4
                        and tuple(s.shape[1:]) == shape
                        for s, shape in zip(element_spec, shapes))):
            raise self._batch_error(element_spec)
        batch = element_spec[0].shape[0]
        check_global_batch(batch, self.distribute_strategy.num_replicas_in_sync)
        return batch

    def check_data(self, data, batch_size=None):
        """Checks the first batch (shapes; masks of 0 and 1) and keeps its first examples
        as the sample grid's preview, unless one is kept already (a resumed run)."""
        batch = first_batch(data, batch_size)
        if batch is None:
            return
        if not (isinstance(batch, (tuple, list)) and len(batch) == 3):
            raise self._batch_error(f"a batch of {type(batch).__name__}"
                                    + (f" of {len(batch)}" if isinstance(batch, (tuple, list))
                                       else ""))
        source, target, masks = (np.asarray(x, np.float32) for x in batch)
        h, w, c = self.image_shape
        for x, shape in ((source, (h, w, c)), (target, (h, w, c)), (masks, (h, w, 1))):
            if x.ndim != 4 or tuple(x.shape[1:]) != shape:
                raise self._batch_error(f"a batch of shape {x.shape}")
        if not np.all((masks == 0) | (masks == 1)):
            raise self._batch_error("masks with values other than 0 and 1")
        if int(self.preview_count.numpy()) == 0:
            count = min(len(source), PREVIEW_SIZE)
            for variable, x in zip(self.preview_images, (source, target, masks)):
                variable.assign(np.pad(x[:count], [(0, PREVIEW_SIZE - count)] + [(0, 0)] * 3))
            self.preview_count.assign(count)

    def state_variables(self):
        return {"preview": [*self.preview_images, self.preview_count]}

    def sample(self, images, masks=None, batch_size=256):
        """Fills the holes of images in [-1, 1] [N, H, W, C] with the (EMA) generator;
        `masks` [N, H, W, 1] (or [H, W, 1] for all), 1 = missing; None: the centre mask.
        The known pixels are returned unchanged. Returns float32 NumPy in [-1, 1]."""
        images = np.asarray(images, np.float32)
        h, w, c = self.image_shape
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"sample() takes images of shape [N, {h}, {w}, {c}]. "
                             f"Received: {images.shape}")
        masks = center_mask(h, w) if masks is None else np.asarray(masks, np.float32)
        masks = np.broadcast_to(masks, (len(images), h, w, 1)) if masks.ndim == 3 else masks
        if masks.shape != (len(images), h, w, 1):
            raise ValueError(f"sample() takes masks of shape [N, {h}, {w}, 1] or [{h}, {w}, 1]. "
                             f"Received: {masks.shape}")
        generator = self.inference_network("generator")

        def fill(x, m):
            raw = generator(generator_input(tf.constant(x), tf.constant(m)), training=False)
            return compose(x, m, raw)

        return predict_in_batches(fill, (images, masks), batch_size, self.image_shape)

    def preview(self):
        """(sources, targets, masks) of the preview kept by `check_data` (empty before)."""
        count = int(self.preview_count.numpy())
        return tuple(v.numpy()[:count] for v in self.preview_images)

    def sample_grid(self, num_images, seed=0):
        """Rows of masked | output | target for up to num_images / 3 preview examples.
        Before any preview is kept: uniform noise with the centre hole."""
        sources, targets, masks = self.preview()
        rows = max(1, min(num_images // 3, PREVIEW_SIZE))
        if not len(sources):
            targets = np.random.default_rng(seed).uniform(
                -1, 1, (rows, *self.image_shape)).astype(np.float32)
            masks = np.broadcast_to(center_mask(*self.image_shape[:2]), (rows, *targets.shape[1:3], 1))
            sources = targets * (1.0 - masks)
        sources, targets, masks = sources[:rows], targets[:rows], masks[:rows]
        outputs = self.sample(sources, masks)
        grid = np.stack([sources, outputs, targets], axis=1).reshape(-1, *self.image_shape)
        return grid, 3

    def evaluation_samples(self, num_samples, seed=0):
        raise ValueError(
            "An inpainting run is evaluated on (source, target, mask) batches, not on samples "
            "from noise: use tfgans.metrics.evaluate_translation (Estimator.evaluate does).")

    def export_spec(self):
        return ExportSpec("inpainting", self.inference_network("generator"),
                          {"image_shape": self.image_shape})

    def settings(self):
        return {**super().settings(), "image_shape": list(self.image_shape),
                "loss": self.loss_pair.name, "reconstruction": self.reconstruction,
                "adversarial_weight": self.adversarial_weight, "hole_weight": self.hole_weight,
                "valid_weight": self.valid_weight, "perceptual_weight": self.perceptual_weight,
                "style_weight": self.style_weight, "local_crop": self.local_crop,
                "mask": self.mask_kind}
