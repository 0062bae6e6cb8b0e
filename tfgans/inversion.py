"""Latent inversion and semantic inpainting for noise -> image generators.

`invert` finds, for each target image, the noise whose image matches it best: Adam on the
noise, from several random starts (and optionally an encoder's guess), keeping the best.
`inpaint` (Yeh et al. 2017) finds the noise whose image matches the known pixels of an
image, weighted by how close they are to the hole, while the discriminator still finds
the image real; the hole is then filled from that image by Poisson blending (or pasted).

Masks: 1 = a missing pixel (the hole, to fill), 0 = a known pixel, as in the inpainting
datasets (`pipelines/data/fashion_tasks.py`); [N, H, W, 1] or [N, H, W] or [H, W].

The optimisation differentiates the generator with `tf.GradientTape` (this module is
TensorFlow-specific); the loss terms are `keras.ops`.

Example:
>>> result = tfgans.inversion.invert(gan.inference_generator, targets, steps=200)
>>> result.latents.shape, result.reconstructions.shape, result.losses.shape
((N, latent_dim), (N, H, W, C), (N,))

References: inversion by optimisation with restarts (Creswell & Bharath 2018,
https://arxiv.org/abs/1611.05644; Lipton & Tripathi 2017, https://arxiv.org/abs/1702.04782),
an encoder's warm start (Zhu et al. 2016, https://arxiv.org/abs/1609.03552), semantic
inpainting (Yeh et al. 2017, https://arxiv.org/abs/1607.07539), Poisson blending
(Pérez et al. 2003, https://doi.org/10.1145/882262.882269).
"""

import typing

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgans import losses as losses_lib
from tfgans.training.gan import infer_latent_dim, sample_noise

#: Latent priors for `prior_weight`: "gaussian" is the negative log density of N(0, I)
#: per dimension, mean(z^2) / 2; "shell" keeps |z| near sqrt(latent_dim), where nearly
#: all of N(0, I)'s mass lies: (|z| / sqrt(latent_dim) - 1)^2.
PRIORS = ("gaussian", "shell")
#: How `inpaint` fills the hole: "poisson" (the generated image's gradients, matched to
#: the known pixels at the hole's border) or "paste" (the generated pixels as they are).
BLENDS = ("poisson", "paste")


class Inversion(typing.NamedTuple):
    """What `invert` and `inpaint` return, one row per target (NumPy arrays).

    Attributes:
        latents: float32 [N, latent_dim], the best noise found for each target.
        reconstructions: float32 [N, H, W, C] in [-1, 1], the generator's image of it.
        losses: float32 [N], the objective at `latents`.
        initial_losses: float32 [N], the best objective over the starts, before any step.
        labels: int32 [N], the class of each reconstruction (conditional), else None.
        images: `inpaint` only: float32 [N, H, W, C], the image with its hole filled.
    """

    latents: np.ndarray
    reconstructions: np.ndarray
    losses: np.ndarray
    initial_losses: np.ndarray
    labels: typing.Optional[np.ndarray] = None
    images: typing.Optional[np.ndarray] = None


# ------------------------------------------------------------------------ loss terms


def latent_prior(z, prior="gaussian"):
    """Per-row prior penalty of noise `z` [N, latent_dim] -> [N] (see `PRIORS`)."""
    z = ops.cast(z, "float32")
    if prior == "gaussian":
        return 0.5 * ops.mean(ops.square(z), axis=-1)
    if prior == "shell":
        norm = ops.sqrt(ops.sum(ops.square(z), axis=-1) + 1e-12)
        return ops.square(norm / np.sqrt(z.shape[-1]) - 1.0)
    raise ValueError(f"`prior` must be one of {PRIORS}. Received: prior={prior!r}")


def importance_weights(masks, window=7):
    """Yeh et al.'s importance weights of the known pixels: for a known pixel, the
    fraction of its `window` x `window` neighbourhood (itself included, cut at the image
    border) that is missing; 0 in the hole. Known pixels far from the hole weigh 0.

    `W_i = sum_{j in N(i)} M_j / |N(i)|` for a known pixel i, with M = 1 in the hole.

    Args:
        masks: float [N, H, W, 1], 1 = missing.
        window: the neighbourhood's side (odd; 7 in the paper).

    Returns:
        float32 [N, H, W, 1].
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise ValueError(f"`window` must be an odd integer >= 1. Received: window={window!r}")
    masks = ops.cast(masks, "float32")
    # An average pool with "same" padding counts only the pixels inside the image.
    holes = ops.average_pool(masks, window, strides=1, padding="same")
    return (1.0 - masks) * holes


def contextual_loss(generated, images, masks, weights=None):
    """Per-image weighted L1 on the known pixels, `sum(W * |G(z) - y|)` (Yeh et al.'s
    contextual loss; W = 1 - mask without importance weighting) -> [N]."""
    generated = ops.cast(generated, "float32")
    if weights is None:
        weights = 1.0 - ops.cast(masks, "float32")
    error = ops.abs(generated - ops.cast(images, "float32")) * weights
    return ops.sum(ops.reshape(error, (ops.shape(error)[0], -1)), axis=-1)


def per_example_generator_loss(loss, logits):
    """The generator-side adversarial loss `loss` (a name of `tfgans.losses.get` or a
    GANLoss) of each example: logits [N, ...] -> [N]. Each example's logits are reduced as
    the loss reduces a batch (its mean), so the sum over examples is N times the loss."""
    gan_loss = losses_lib.get(loss)
    if gan_loss.uses_batch_mean:
        raise ValueError(
            f"The {gan_loss.name!r} generator loss depends on the real images' logits: pick "
            "a loss of the fake logits alone for the perceptual term, e.g. 'minimax'.")
    logits = tf.cast(logits, tf.float32)
    return tf.vectorized_map(lambda row: gan_loss.generator_loss(row[None]), logits)


# --------------------------------------------------------------------------- networks


def _generate(generator, z, labels):
    inputs = z if labels is None else [z, labels]
    return tf.cast(generator(inputs, training=False), tf.float32)


def _logits(discriminator, images, labels):
    """D's realness logits of `images`: D(images), or D([images, labels]) when conditional
    (an AC-GAN discriminator, `conditioning = "acgan"`, takes images alone); the first
    output of a discriminator that returns several."""
    takes_labels = labels is not None and getattr(discriminator, "conditioning", None) != "acgan"
    outputs = discriminator([images, labels] if takes_labels else images, training=False)
    if isinstance(outputs, (list, tuple)):
        outputs = outputs[0]
    return tf.cast(outputs, tf.float32)


def _check_images(name, images, shape=None):
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"`{name}` must be images [N, H, W, C] with N > 0. Received shape "
                         f"{images.shape}")
    if shape is not None and tuple(images.shape[1:]) != tuple(shape):
        raise ValueError(f"`{name}` must be {tuple(shape)} images, the generator's. Received "
                         f"shape {images.shape}")
    if not np.all(np.isfinite(images)):
        raise ValueError(f"`{name}` hold NaN or infinite values.")
    return images


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


def _check_weight(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            np.isfinite(value) and value >= 0):
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def _candidate_labels(num_targets, restarts, labels, num_classes):
    """(labels [C, N] int32 or None, C): every restart of every target, and for a
    conditional generator without `labels`, every class of every restart."""
    if labels is None and num_classes is None:
        return None, restarts
    if labels is not None:
        labels = np.asarray(labels, np.int32).reshape(-1)
        if labels.size == 1:
            labels = np.repeat(labels, num_targets)
        if labels.size != num_targets:
            raise ValueError(f"`labels` must hold one class id, or one per target ({num_targets})."
                             f" Received {labels.size}.")
        if num_classes is not None and np.any((labels < 0) | (labels >= num_classes)):
            raise ValueError(f"`labels` must be class ids in [0, {num_classes - 1}]. Received: "
                             f"{labels.tolist()}")
        return np.tile(labels, (restarts, 1)), restarts
    per_restart = np.repeat(np.arange(num_classes, dtype=np.int32)[:, None], num_targets,
                            axis=1)  # [K, N]: every class for every target
    return np.tile(per_restart, (restarts, 1)), restarts * num_classes


# ------------------------------------------------------------------------- the search


def _search(generator, targets, objective, latent_dim, labels, num_classes, steps, restarts,
            learning_rate, seed, encoder):
    """Adam on the noise of every candidate (restart x class) of every target, at once;
    the candidate of the lowest final objective wins. `objective(images [M, ...], z [M, d],
    labels, rows)` -> [M], with `rows` the target index of each candidate row."""
    steps = _check_int("steps", steps, 0)
    restarts = _check_int("restarts", restarts, 1)
    if not (isinstance(learning_rate, (int, float)) and np.isfinite(learning_rate)
            and learning_rate > 0):
        raise ValueError(f"`learning_rate` must be a number > 0. Received: "
                         f"learning_rate={learning_rate!r}")
    latent_dim = infer_latent_dim(generator, latent_dim)
    n = targets.shape[0]
    cand_labels, candidates = _candidate_labels(n, restarts, labels, num_classes)
    m = candidates * n
    z0 = np.array(sample_noise(m, latent_dim, seed)).reshape(candidates, n, latent_dim)
    if encoder is not None:  # the first restart (every class of it) starts at E(x)
        guess = tf.cast(encoder(targets, training=False), tf.float32).numpy()
        if guess.shape != (n, latent_dim):
            raise ValueError(f"The encoder must map the targets to noise [N, {latent_dim}]. "
                             f"Received shape {guess.shape}")
        first = candidates // restarts
        z0[:first] = guess[None]
    flat_labels = None if cand_labels is None else tf.constant(cand_labels.reshape(-1))
    made = _generate(generator, tf.constant(z0[0, :1]),
                     None if cand_labels is None else tf.constant(cand_labels[0, :1])).shape
    if tuple(made[1:]) != targets.shape[1:]:
        raise ValueError(f"The targets are {targets.shape[1:]} images, but the generator makes "
                         f"{tuple(made[1:])}: give images of the generator's size.")
    rows = tf.constant(np.tile(np.arange(n), candidates))

    z = keras.Variable(z0.reshape(m, latent_dim), dtype="float32", name="inversion_noise")
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build([z])

    @tf.function
    def losses_of(noise):
        return objective(_generate(generator, noise, flat_labels), noise, flat_labels, rows)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(z.value)
            total = tf.reduce_sum(losses_of(z.value))
        optimizer.apply_gradients([(tape.gradient(total, z.value), z)])

    initial = losses_of(tf.convert_to_tensor(z0.reshape(m, latent_dim))).numpy()
    for _ in range(steps):
        step()
    final = losses_of(tf.convert_to_tensor(z.value)).numpy().reshape(candidates, n)
    best = np.argmin(np.where(np.isfinite(final), final, np.inf), axis=0)  # [N]
    pick = best * n + np.arange(n)
    latents = z.numpy()[pick]
    chosen = None if cand_labels is None else cand_labels.reshape(-1)[pick]
    reconstructions = _generate(generator, tf.constant(latents),
                                None if chosen is None else tf.constant(chosen)).numpy()
    return Inversion(latents.astype(np.float32), reconstructions,
                     final[best, np.arange(n)].astype(np.float32),
                     initial.reshape(candidates, n).min(axis=0).astype(np.float32), chosen)


def invert(generator, targets, *, latent_dim=None, labels=None, num_classes=None, steps=200,
           restarts=4, learning_rate=0.05, prior_weight=0.0, prior="gaussian", seed=0,
           encoder=None):
    """Finds the noise whose image best matches each target: Adam on the noise from
    `restarts` random starts (noise of `seed`, as `tfgans.GAN.generate` draws it), keeping
    the start that ends with the lowest objective:

    `loss(z) = mean((G(z) - x)^2) + prior_weight * prior(z)`  (see `PRIORS`).

    Args:
        generator: a noise -> image Keras model (e.g. `gan.inference_generator`), called
            as `G(z)`, or `G([z, labels])` when conditional.
        targets: float [N, H, W, C] in [-1, 1].
        latent_dim: the noise size; None: the generator's (`tfgans.GAN`'s rule).
        labels: class ids (one, or one per target) of a conditional generator.
        num_classes: a conditional generator's classes; without `labels`, every class gets
            `restarts` random starts of its own, and the best is kept (`result.labels`).
        steps: Adam steps; restarts: random starts per target (and class).
        learning_rate: Adam's step size on the noise.
        prior_weight, prior: the weight and kind of the latent prior penalty.
        seed: the seed of the random starts.
        encoder: a model mapping images to noise (`train_encoder`): the first start of
            every target is its guess instead of random noise.

    Returns:
        An `Inversion` (latents, reconstructions, losses, initial_losses, labels).

    Example:
    >>> result = invert(gan.inference_generator, gan.generate(4, seed=1), steps=100)
    """
    targets = _check_images("targets", targets)
    prior_weight = _check_weight("prior_weight", prior_weight)
    latent_prior(np.zeros([1, 1]), prior)  # checks the name

    def objective(images, z, labels, rows):
        error = ops.square(images - tf.gather(tf.constant(targets), rows))
        loss = ops.mean(ops.reshape(error, (ops.shape(error)[0], -1)), axis=-1)
        return loss + prior_weight * latent_prior(z, prior) if prior_weight else loss

    return _search(generator, targets, objective, latent_dim, labels, num_classes, steps,
                   restarts, learning_rate, seed, encoder)


def check_masks(masks, images):
    """Masks as float32 [N, H, W, 1] of 0 / 1 for `images` [N, H, W, C]: [H, W] or
    [H, W, 1] masks are shared by every image; values > 0.5 mark the hole."""
    masks = np.asarray(masks, np.float32)
    n, h, w, _ = images.shape
    if masks.ndim == 2:
        masks = masks[None, ..., None]
    elif masks.ndim == 3:
        masks = masks[None] if masks.shape == (h, w, 1) else masks[..., None]
    if masks.ndim != 4 or masks.shape[1:] != (h, w, 1) or masks.shape[0] not in (1, n):
        raise ValueError(f"`masks` must be [N, {h}, {w}, 1] (or one [{h}, {w}] mask for all), "
                         f"the images' size. Received shape {np.shape(masks)}")
    masks = np.broadcast_to((masks > 0.5).astype(np.float32), (n, h, w, 1))
    if not masks.any():
        raise ValueError("`masks` mark no missing pixel (1 = missing): nothing to inpaint.")
    return np.ascontiguousarray(masks)


def inpaint(generator, images, masks, *, discriminator=None, perceptual_weight=0.003,
            perceptual_loss="minimax", importance_weighting=True, window=7, blend="poisson",
            latent_dim=None, labels=None, num_classes=None, steps=200, restarts=4,
            learning_rate=0.05, prior_weight=0.0, prior="gaussian", seed=0, encoder=None):
    """Semantic inpainting (Yeh et al. 2017): the noise whose image matches the known
    pixels and looks real, then the hole filled from that image.

    `loss(z) = sum(W * |G(z) - y|) + perceptual_weight * L_G(D(G(z)))
    + prior_weight * prior(z)`, with W the importance weights (`importance_weights`) or
    the known-pixel mask, and L_G the generator-side adversarial loss `perceptual_loss`
    (the paper's `log(1 - D(G(z)))` is "minimax"); without a discriminator the perceptual
    term is left out. The search is `invert`'s (starts, restarts, classes, encoder).

    Args:
        generator, latent_dim, labels, num_classes, steps, restarts, learning_rate,
            prior_weight, prior, seed, encoder: as for `invert`.
        images: float [N, H, W, C] in [-1, 1]; the hole's pixels are ignored.
        masks: 1 = missing (see `check_masks`).
        discriminator: the run's discriminator (called as the GAN calls it), or None.
        perceptual_weight: lambda (0.003 in the paper, whose contextual loss is this sum).
        perceptual_loss: a generator loss name of `tfgans.losses.get`, or a GANLoss.
        importance_weighting: weigh known pixels by their closeness to the hole (the
            paper); False: plain L1 on the known pixels.
        window: the importance weights' neighbourhood.
        blend: "poisson" or "paste" (`BLENDS`): how the hole is filled.

    Returns:
        An `Inversion` whose `images` are the inpainted images: the known pixels of
        `images` exactly, the hole from `reconstructions`.
    """
    images = _check_images("images", images)
    masks = check_masks(masks, images)
    perceptual_weight = _check_weight("perceptual_weight", perceptual_weight)
    prior_weight = _check_weight("prior_weight", prior_weight)
    latent_prior(np.zeros([1, 1]), prior)
    if blend not in BLENDS:
        raise ValueError(f"`blend` must be one of {BLENDS}. Received: blend={blend!r}")
    use_critic = discriminator is not None and perceptual_weight > 0
    if use_critic:
        losses_lib.get(perceptual_loss)
    weights = (importance_weights(masks, window) if importance_weighting
               else 1.0 - tf.constant(masks))
    images_t, weights = tf.constant(images), tf.cast(weights, tf.float32)

    def objective(generated, z, labels, rows):
        loss = contextual_loss(generated, tf.gather(images_t, rows), None,
                               weights=tf.gather(weights, rows))
        if use_critic:
            logits = _logits(discriminator, generated, labels)
            loss = loss + perceptual_weight * per_example_generator_loss(perceptual_loss, logits)
        return loss + prior_weight * latent_prior(z, prior) if prior_weight else loss

    result = _search(generator, images, objective, latent_dim, labels, num_classes, steps,
                     restarts, learning_rate, seed, encoder)
    filler = result.reconstructions
    filled = poisson_blend(images, filler, masks) if blend == "poisson" else (
        masks * filler + (1.0 - masks) * images)
    return result._replace(images=filled.astype(np.float32))


# ------------------------------------------------------------------------- blending


def _laplacian_terms(x, inside):
    """For each pixel: the sum over its 4-neighbours inside the image of x_q (with `inside`
    the in-image indicator), [N, H, W, C] arrays."""
    total = np.zeros_like(x)
    total[:, 1:] += x[:, :-1] * inside[:, :-1]
    total[:, :-1] += x[:, 1:] * inside[:, 1:]
    total[:, :, 1:] += x[:, :, :-1] * inside[:, :, :-1]
    total[:, :, :-1] += x[:, :, 1:] * inside[:, :, 1:]
    return total


def poisson_blend(images, generated, masks, iterations=None, tolerance=1e-10):
    """Fills the hole of `images` with `generated`'s gradients (Pérez et al. 2003): in
    the hole, f solves the discrete Poisson equation `|N_p| f_p - sum_{q in N_p} f_q =
    sum_{q in N_p} (g_p - g_q)` over the 4-neighbours N_p inside the image, with f = the
    image's pixels outside the hole. Solved by conjugate gradients (float64), each
    image and channel at once. A hole that meets no known pixel (a fully masked image)
    keeps `generated`'s pixels.

    Args:
        images, generated: float [N, H, W, C]; masks: [N, H, W, 1], 1 = hole.

    Returns:
        float64 [N, H, W, C]: `images` outside the hole, the blend inside.
    """
    y = np.asarray(images, np.float64)
    g = np.asarray(generated, np.float64)
    hole = np.broadcast_to(np.asarray(masks, np.float64), y.shape).copy()
    known = 1.0 - hole
    ones = np.ones_like(y)
    degree = _laplacian_terms(ones, ones)  # |N_p|: 4, 3 at an edge, 2 at a corner
    # b_p = sum_q (g_p - g_q) + sum_{q known} y_q, for hole pixels p.
    b = (degree * g - _laplacian_terms(g, ones) + _laplacian_terms(y * known, ones)) * hole

    def apply(f):  # A f on the hole: |N_p| f_p - sum_{q in hole} f_q
        return (degree * f - _laplacian_terms(f * hole, ones)) * hole

    f = g * hole  # start from the generated pixels
    r = b - apply(f)
    p = r.copy()
    axes = (1, 2)
    rr = np.sum(r * r, axis=axes, keepdims=True)
    iterations = iterations or int(hole[..., :1].sum(axis=(1, 2, 3)).max()) + 1
    scale = np.maximum(np.sum(b * b, axis=axes, keepdims=True), 1e-30)
    for _ in range(iterations):
        if np.all(rr <= tolerance**2 * scale):
            break
        ap = apply(p)
        pap = np.sum(p * ap, axis=axes, keepdims=True)
        alpha = np.where(pap > 0, rr / np.where(pap > 0, pap, 1.0), 0.0)
        f = f + alpha * p
        r = r - alpha * ap
        rr_new = np.sum(r * r, axis=axes, keepdims=True)
        p = r + np.where(rr > 0, rr_new / np.where(rr > 0, rr, 1.0), 0.0) * p
        rr = rr_new
    return y * known + f * hole


# -------------------------------------------------------------------------- encoder


def make_encoder(image_shape, latent_dim, width=16, name="inversion_encoder"):
    """A small convolutional encoder, images [N, *image_shape] -> noise [N, latent_dim]:
    two stride-2 4x4 convolutions (LeakyReLU 0.2) and a dense layer."""
    return keras.Sequential([
        keras.Input(tuple(image_shape)),
        keras.layers.Conv2D(width, 4, strides=2, padding="same"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Conv2D(2 * width, 4, strides=2, padding="same"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Flatten(),
        keras.layers.Dense(latent_dim),
    ], name=name)


def train_encoder(generator, *, latent_dim=None, num_classes=None, encoder=None,
                  num_samples=2048, epochs=20, batch_size=64, learning_rate=1e-3, seed=0,
                  width=16):
    """Trains an encoder on (G(z), z) pairs so that E(G(z)) ~ z (mean squared error), for
    `invert(..., encoder=...)`'s warm start (Zhu et al. 2016).

    Args:
        generator: as for `invert`; a conditional one (`num_classes`) makes images of
            the classes in turn.
        encoder: the model to train; None: `make_encoder(image_shape, latent_dim, width)`.
        num_samples: the (G(z), z) pairs, noise of `seed`; epochs, batch_size,
            learning_rate: `fit`'s (Adam).
        seed: also seeds Keras' global random state (`keras.utils.set_random_seed`: the
            encoder's initial weights and `fit`'s shuffling), so a call is repeatable.

    Returns:
        The trained encoder (a keras.Model).
    """
    num_samples = _check_int("num_samples", num_samples, 1)
    epochs = _check_int("epochs", epochs, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    latent_dim = infer_latent_dim(generator, latent_dim)
    z = np.asarray(sample_noise(num_samples, latent_dim, seed))
    labels = None if num_classes is None else np.arange(num_samples, dtype=np.int32) % num_classes
    images = np.concatenate([
        _generate(generator, z[s:s + 256], None if labels is None else labels[s:s + 256]).numpy()
        for s in range(0, num_samples, 256)])
    keras.utils.set_random_seed(seed)  # the encoder's weights and fit's shuffling
    if encoder is None:
        encoder = make_encoder(images.shape[1:], latent_dim, width)
    encoder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    encoder.fit(images, z, batch_size=batch_size, epochs=epochs, verbose=0)
    return encoder
