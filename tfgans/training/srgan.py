"""`SRGAN`: super-resolution, a paired image -> image family (Ledig et al. 2017).

Batches are `(source, target)`: low-resolution sources [B, H / s, W / s, C] and their
high-resolution targets [B, H, W, C], in [-1, 1] (`fashion_x4`: 7x7 -> 28x28). Training has
the paper's two phases, chosen by the step (a checkpointed variable), so a run resumed
anywhere, across the switch too, takes the same steps:

1. steps < `pretrain_steps`: SRResNet, the generator alone on the pixel-wise MSE
   `mean((target - G(source))^2)` (equation 4); the discriminator and its optimizer are
   left exactly as they were built;
2. then SRGAN: the discriminator takes one step on `loss(D(target) real, D(G(source))
   fake)`, and the generator one on the perceptual loss `content_weight * content +
   adversarial_weight * adversarial` (equation 3, the paper's 1e-3) against the updated
   discriminator. `content` is the MSE between the feature maps of a pretrained network
   (equation 5, the VGG loss: here by default the shipped Fashion-MNIST classifier's
   deepest convolution block, `block3_relu`; any Keras model and layer by argument, e.g.
   a VGG19 the user loads with their own weights; nothing is downloaded) or, with
   `content="mse"`, the pixel-wise MSE (SRGAN-MSE).

The adversarial pair is the non-saturating one by default (the paper's), or any registered
`tfgans.losses` pair: "relativistic" is ESRGAN's relativistic average discriminator
(Wang et al. 2018), its batch means taken over the global batch.

One step computes both phases' losses and selects by the phase (`tf.where`), and the
discriminator's step is undone (its variables and optimizer state restored) while
pretraining, rather than branching with `tf.cond`: optimizer updates and synchronized batch
norm inside a `tf.cond` fail under MirroredStrategy. The price: a pretraining step costs
about as much as an adversarial one.

Sample grids show rows of low-res (nearest-neighbour) | bicubic | SRGAN | target.

Reference: [Ledig et al., 2017](https://arxiv.org/abs/1609.04802); ESRGAN:
[Wang et al., 2018](https://arxiv.org/abs/1809.00219).
"""

import os

import keras
import tensorflow as tf

from tfgans import losses as losses_lib
from tfgans.settings import Key, Setting
from tfgans.training.gan import adversarial_loss
from tfgans.training.pix2pix import Pix2Pix
from tfgans.training.trainer import Trainer

#: `content_model` naming the shipped Fashion-MNIST classifier.
SHIPPED_CLASSIFIER = "fashion_mnist"
#: Its layer the content loss reads by default: the deepest convolution block, after its
#: activation and before its pooling (the paper's phi_5,4 of VGG19 is the same place).
DEFAULT_CONTENT_LAYER = "block3_relu"
CONTENTS = ("features", "mse")


def content_network(model=SHIPPED_CLASSIFIER, layer=DEFAULT_CONTENT_LAYER):
    """The frozen feature network of the content loss: images in [-1, 1] -> `layer`'s output.

    Args:
        model: "fashion_mnist" (the shipped classifier), the path of a `.keras` file
            (loaded with `safe_mode=True`), or a `keras.Model` taking images in [-1, 1]
            (a VGG19 must include its own preprocessing).
        layer: the name of the layer whose output is compared; None: the model's output.

    Raises:
        ValueError: a missing file, or a layer the model does not have (naming its layers).
    """
    if isinstance(model, str):
        path = model
        if model == SHIPPED_CLASSIFIER:
            from tfgans.metrics.extractors import default_classifier_path

            path = default_classifier_path()
        if not os.path.isfile(path):
            raise ValueError(
                f"The content model {path} does not exist: give the path of a .keras file "
                f"(loss.content_model), or {SHIPPED_CLASSIFIER!r} for the shipped classifier.")
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    if not isinstance(model, keras.Model):
        raise ValueError(f"`content_model` must be a keras.Model, a .keras path or "
                         f"{SHIPPED_CLASSIFIER!r}. Received: {type(model).__name__}")
    if layer is not None:
        names = [x.name for x in model.layers]
        if layer not in names:
            raise ValueError(
                f"The content model has no layer {layer!r} (loss.content_layer): its layers "
                f"are {', '.join(names)}.")
        model = keras.Model(model.inputs, model.get_layer(layer).output,
                            name="content_network")
    model.trainable = False
    return model


class SRGAN(Pix2Pix):
    """Super-resolution GAN: SRResNet pretraining on the MSE, then the perceptual loss.

    Args:
        generator: a keras.Model with `source_shape` (H / s, W / s, C) and `image_shape`
            (H, W, C): low-resolution sources -> images in [-1, 1]
            (`tfgans.models.SRResNetGenerator`).
        discriminator: a keras.Model, images [B, H, W, C] -> logits [B, 1].
        pretrain_steps: steps of MSE pretraining before the adversarial phase.
        content: "features" (the VGG-style content loss) or "mse" (pixels).
        content_model, content_layer: the feature network (`content_network`), for
            content="features".
        image_shape: (H, W, C) of the targets; None: the generator's `image_shape`.
        ema_decay, seed: as `Pix2Pix`.

    Example:
    ```python
    generator, discriminator = tfgans.models.get("srgan")((28, 28, 1), width=16,
                                                          residual_blocks=4)
    trainer = SRGAN(generator, discriminator, pretrain_steps=1000)
    trainer.compile()                # Adam(1e-4, 0.9), content + 1e-3 * adversarial
    trainer.fit(fashion_x4_pairs, epochs=1)
    ```
    """

    METHOD = "srgan"
    DATASETS = "fashion_x4"
    TRACKERS = ("d_loss", "g_loss", "g_adversarial", "content", "mse", "l1", "d_real",
                "d_fake", "adversarial_phase", "nonfinite")
    GRID_COLUMNS = ("low-res", "bicubic", "output", "target")
    SETTINGS = (
        Setting("loss.name", "loss", Key(
            "non_saturating", "str", doc="adversarial loss pair (tfgans.losses): the paper's "
            "non_saturating; relativistic: ESRGAN's relativistic average discriminator")),
        Setting("loss.adversarial_weight", "adversarial_weight", Key(
            1e-3, "float", low=0.0, doc="weight of the adversarial loss (the paper's 1e-3)")),
        Setting("loss.content", "content", Key(
            "features", "str", choices=CONTENTS,
            doc="content loss: features (MSE of a pretrained network's feature maps, the "
            "paper's VGG loss) or mse (pixels, SRGAN-MSE)")),
        Setting("loss.content_model", "content_model", Key(
            SHIPPED_CLASSIFIER, "str", doc="the feature network: fashion_mnist (the shipped "
            "classifier) or the path of a .keras file taking images in [-1, 1]")),
        Setting("loss.content_layer", "content_layer", Key(
            DEFAULT_CONTENT_LAYER, "str", doc="the feature network's layer compared "
            "(block3_relu: the classifier's deepest conv block; block5_conv4 for VGG19)")),
        Setting("loss.content_weight", "content_weight", Key(
            1.0, "float", low=0.0, low_open=True,
            doc="weight of the content loss (the classifier's block3_relu features are on "
            "the pixel MSE's scale; the paper rescales VGG's by 1/12.75)")),
        Setting("train.pretrain_steps", "pretrain_steps", Key(
            1000, "int", low=0, doc="steps of MSE pretraining (SRResNet) before the "
            "adversarial phase")),
        Setting("train.ema", "ema_decay", Key(
            None, "float", low=0.0, high=1.0, high_open=True, nullable=True,
            doc="EMA decay of the generator; null or 0: none")),
        Setting("train.seed", "seed", Key(0, "int", low=0, doc="seed of the weights")),
    )

    def __init__(self, generator, discriminator, pretrain_steps=1000, content="features",
                 content_model=SHIPPED_CLASSIFIER, content_layer=DEFAULT_CONTENT_LAYER,
                 image_shape=None, ema_decay=None, seed=0, **kwargs):
        if isinstance(pretrain_steps, bool) or not isinstance(pretrain_steps, int) or (
                pretrain_steps < 0):
            raise ValueError("`pretrain_steps` must be an integer >= 0. Received: "
                             f"pretrain_steps={pretrain_steps!r}")
        if content not in CONTENTS:
            raise ValueError(f"`content` must be one of {', '.join(CONTENTS)}. Received: "
                             f"content={content!r}")
        if getattr(generator, "source_shape", None) is None:
            raise ValueError("SRGAN's generator must have a `source_shape` (the low-resolution "
                             "input's (H, W, C)), as tfgans.models.SRResNetGenerator has.")
        super().__init__(generator, discriminator, image_shape=image_shape,
                         ema_decay=ema_decay, seed=seed, **kwargs)
        self.pretrain_steps = pretrain_steps
        self.content = content
        self.content_model = content_model if isinstance(content_model, str) else (
            content_model.name)
        self.content_layer = content_layer
        self.content_network = None
        if content == "features":
            self.content_network = content_network(content_model, content_layer)
            self.content_network(tf.zeros([1, *self.image_shape]), training=False)
        self.adversarial_weight = 1e-3
        self.content_weight = 1.0

    def compile(self, generator_optimizer=None, discriminator_optimizer=None,
                loss="non_saturating", adversarial_weight=1e-3, content_weight=1.0, **kwargs):
        """Builds the optimizers (default: the paper's Adam(1e-4, beta_1 0.9)).

        Args:
            loss: the adversarial pair, a `tfgans.losses` name or `GANLoss`.
            adversarial_weight: the adversarial loss' weight (the paper's 1e-3).
            content_weight: the content loss' weight.
            **kwargs: `Trainer.compile`'s (jit_compile, steps_per_execution, ...).
        """
        for name, value in (("adversarial_weight", adversarial_weight),
                            ("content_weight", content_weight)):
            if isinstance(value, bool) or not float(value) >= 0:
                raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
        Trainer.compile(self, {"generator": generator_optimizer,
                               "discriminator": discriminator_optimizer}, **kwargs)
        self.loss_pair = losses_lib.get(loss)
        self.adversarial_weight = float(adversarial_weight)
        self.content_weight = float(content_weight)

    def default_optimizer(self, network):
        """The paper's optimizer: Adam(1e-4, beta_1 0.9, beta_2 0.999)."""
        return keras.optimizers.Adam(1e-4, beta_1=0.9, beta_2=0.999)

    # ----------------------------------------------------------------- the step

    def discriminator_input(self, source, image):
        """SRGAN's discriminator scores the image alone."""
        return image

    def content_loss(self, target, output):
        """The content loss: the MSE of the feature network's maps, or of the pixels."""
        if self.content_network is None:
            return losses_lib.content_loss(target, output)
        return losses_lib.content_loss(self.content_network(target, training=False),
                                       self.content_network(output, training=False))

    def _discriminator_state(self):
        return list(self.discriminator.weights) + list(
            self.optimizers["discriminator"].variables)

    def train_step(self, data):
        source, target = (tf.cast(x, tf.float32) for x in data[:2])
        step = self.step
        adversarial = step >= self.pretrain_steps  # the phase, from the checkpointed step
        held = [tf.identity(tf.convert_to_tensor(v)) for v in self._discriminator_state()]
        fake = tf.stop_gradient(self.generator(source, training=True))
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(target, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss, d_total = adversarial_loss(self.loss_pair, real_logits, fake_logits, False)
            scaled = self.scale_loss(d_total, "discriminator")
        d_applied = self.apply_gradients(
            "discriminator", scaled, tape, tf.logical_and(adversarial, tf.math.is_finite(d_loss)))
        if self.loss_pair.uses_batch_mean:  # relativistic: D(real) of the updated D
            real_logits = tf.stop_gradient(self.discriminator(target, training=True))
        with tf.GradientTape() as tape:
            fake = self.generator(source, training=True)
            mse = losses_lib.content_loss(target, fake)
            content = mse if self.content_network is None else self.content_loss(target, fake)
            logits = self.discriminator(fake, training=True)
            g_adversarial, g_total = adversarial_loss(self.loss_pair, real_logits, logits, True)
            perceptual = self.content_weight * content + self.adversarial_weight * g_total
            g_loss = tf.where(adversarial, perceptual, mse)
            scaled = self.scale_loss(g_loss, "generator")
        g_finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(g_loss))
        # While pretraining, the discriminator, its batch-norm statistics and its optimizer
        # stay as they were (its gradients were zeroed; this undoes the rest).
        for variable, value in zip(self._discriminator_state(), held):
            variable.assign(tf.where(adversarial, tf.convert_to_tensor(variable), value))
        self.update_ema(step)
        d_fine = tf.logical_or(tf.logical_not(adversarial), d_applied)
        finite = tf.logical_and(d_fine, g_finite)
        return self.track({
            "d_loss": d_loss, "g_loss": g_loss, "g_adversarial": g_adversarial,
            "content": content, "mse": mse,
            "l1": self.reconstruction_loss(target, fake),
            "d_real": tf.reduce_mean(tf.cast(real_logits, tf.float32)),
            "d_fake": tf.reduce_mean(tf.cast(fake_logits, tf.float32)),
            "adversarial_phase": tf.cast(adversarial, tf.float32),
            "nonfinite": 1.0 - tf.cast(finite, tf.float32),
        })

    # ---------------------------------------------------------- the rest of the contract

    def grid_columns(self, sources, outputs, targets):
        """low-res (nearest-neighbour upsampled) | bicubic | output | target."""
        from tfgans.metrics.translation import bicubic_upsample

        size = self.image_shape[:2]
        nearest = tf.image.resize(sources, size, method="nearest").numpy()
        return [nearest, bicubic_upsample(sources, size), outputs, targets]

    def settings(self):
        return {**Trainer.settings(self), "image_shape": list(self.image_shape),
                "source_shape": list(self.source_shape), "loss": self.loss_pair.name,
                "adversarial_weight": self.adversarial_weight, "content": self.content,
                "content_model": self.content_model, "content_layer": self.content_layer,
                "content_weight": self.content_weight, "pretrain_steps": self.pretrain_steps}
