"""A small BigGAN: shared class embedding, hierarchical latent, conditional batch
normalization on both, self-attention, projection discriminator.

Reference: [Brock et al., 2019, Large Scale GAN Training for High Fidelity Natural Image
Synthesis](https://arxiv.org/abs/1809.11096).
"""

import keras
from keras import ops

from tfgans.models import common
from tfgans.models.resnet import ResNetDiscriminator, ResNetGenerator
from tfgans.models.sagan import default_attention_resolution


def latent_chunk_sizes(latent_dim, num_chunks):
    """Splits `latent_dim` into `num_chunks` sizes that differ by at most one, larger
    first (BigGAN's hierarchical latent; 128 into 5 gives (26, 26, 26, 25, 25))."""
    if latent_dim < num_chunks:
        raise ValueError(
            f"`latent_dim` must be at least {num_chunks} to give every generator block and "
            f"the first dense layer a chunk of the noise. Received: latent_dim={latent_dim!r}"
        )
    size, extra = divmod(latent_dim, num_chunks)
    return tuple(size + (i < extra) for i in range(num_chunks))


@keras.saving.register_keras_serializable(package="tfgans")
class BigGANGenerator(ResNetGenerator):
    """BigGAN's generator: `ResNetGenerator` with a hierarchical latent and a shared
    class embedding feeding every block's conditional batch normalization.

    The noise z is split into n + 1 chunks for n residual blocks (`latent_chunk_sizes`):
    the first feeds the dense layer to the `start x start` feature map; block i gets
    `c_i = [z_{i+1}, shared(y)]` (the chunk concatenated with the shared class embedding
    of `embedding_dim` values; the chunk alone when unconditional), and its batch
    normalizations scale and shift by `gamma = 1 + c_i W_gamma`, `beta = c_i W_beta`
    (`ConditionalBatchNormalization` on vectors). Spectral normalization is on by
    default, and BigGAN's orthogonal regularization (beta = 1e-4) is on every kernel
    except the shared embedding; its penalties are in `generator.losses`.

    Any noise works, so truncated noise (the truncation trick) needs nothing here.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: size of the noise vector, at least n + 1 (3, 4 or 5).
        width: channels of the last block.
        num_classes: number of classes for a conditional generator, or None.
        embedding_dim: size of the shared class embedding (128 in the paper).
        spectral_norm: spectrally normalize every convolution and dense layer.
        attention_resolution: feature-map size of the self-attention block, or None.
        synchronized_bn: synchronize batch statistics across replicas.
        orthogonal_regularization: weight of the orthogonal regularization; 0 for none.
        **kwargs: base model arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: noise float [batch, latent_dim], or `[noise, labels]` with int labels
            [batch] when conditional.
        training: batch normalization mode and spectral normalization updates.

    Returns:
        Images float32 [batch, *image_shape] in [-1, 1].

    Example:
    >>> g = BigGANGenerator((32, 32, 3), latent_dim=20, width=8, num_classes=10,
    ...                     embedding_dim=16, attention_resolution=16)
    >>> tuple(g([keras.random.normal((2, 20)), keras.ops.array([3, 9])]).shape)
    (2, 32, 32, 3)

    Reference:
        [BigGAN](https://arxiv.org/abs/1809.11096), sections 3 and 4, appendix B.
    """

    def __init__(
        self,
        image_shape,
        latent_dim=128,
        width=64,
        num_classes=None,
        embedding_dim=128,
        spectral_norm=True,
        attention_resolution=None,
        synchronized_bn=False,
        orthogonal_regularization=1e-4,
        **kwargs,
    ):
        super().__init__(
            image_shape, latent_dim, width=width, num_classes=num_classes,
            spectral_norm=spectral_norm, attention_resolution=attention_resolution,
            synchronized_bn=synchronized_bn, orthogonal_regularization=orthogonal_regularization,
            **kwargs,
        )
        self.embedding_dim = common.check_positive_int("embedding_dim", embedding_dim)
        self.chunk_sizes = latent_chunk_sizes(self.latent_dim, len(self.blocks) + 1)
        self.shared_embedding = None
        if self.num_classes is not None:
            self.shared_embedding = keras.layers.Embedding(
                self.num_classes, self.embedding_dim, dtype=self.dtype_policy,
                name="shared_embedding",
            )

    def _block_condition(self):
        return "vector"

    def _latents(self, noise, labels):
        ends = [sum(self.chunk_sizes[: i + 1]) for i in range(len(self.chunk_sizes) - 1)]
        first, *chunks = ops.split(noise, ends, axis=-1)
        if labels is not None:
            shared = ops.cast(self.shared_embedding(labels), noise.dtype)
            chunks = [ops.concatenate([chunk, shared], axis=-1) for chunk in chunks]
        return first, chunks

    def get_config(self):
        return {**super().get_config(), "embedding_dim": self.embedding_dim}


def build_biggan(
    image_shape,
    latent_dim,
    num_classes=None,
    *,
    width=64,
    embedding_dim=128,
    attention_resolution=None,
    conditioning=None,
    discriminator_norm="spectral",
    generator_spectral_norm=True,
    orthogonal_regularization=1e-4,
    synchronized_bn=False,
):
    """Builds a small BigGAN generator and discriminator for `image_shape`.

    The generator is `BigGANGenerator`; the discriminator is SNGAN's
    `ResNetDiscriminator` (BigGAN's, at this size) with self-attention at the same
    resolution and a projection head. The paper's training settings (hinge loss, Adam
    with beta_1=0, beta_2=0.999, lr 5e-5 for G and 2e-4 for D, 2 D steps per G step,
    EMA of G, truncated noise at sampling) are the trainer's; the orthogonal
    regularization is in `generator.losses`.

    Call it inside `strategy.scope()`.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: size of the noise vector (at least 3, 4 or 5 for 28, 32 or 64).
        num_classes: number of classes for a conditional pair, or None.
        width: base channels of both networks.
        embedding_dim: size of the generator's shared class embedding.
        attention_resolution: feature-map size of the attention blocks; None means
            `tfgans.models.sagan.default_attention_resolution(image_shape)`.
        conditioning: the discriminator's conditioning ("projection" or "acgan").
        discriminator_norm: the discriminator's normalization
            (`tfgans.layers.NORMALIZATIONS`).
        generator_spectral_norm: spectrally normalize the generator.
        orthogonal_regularization: weight of the generator's orthogonal regularization.
        synchronized_bn: cross-replica batch normalization in the generator.

    Returns:
        `(generator, discriminator)`.

    Example:
    >>> g, d = build_biggan((28, 28, 1), latent_dim=16, num_classes=10, width=8,
    ...                     embedding_dim=8)
    >>> labels = keras.ops.array([0, 9])
    >>> tuple(d([g([keras.random.normal((2, 16)), labels]), labels]).shape)
    (2, 1)

    Reference:
        [BigGAN](https://arxiv.org/abs/1809.11096).
    """
    if attention_resolution is None:
        attention_resolution = default_attention_resolution(image_shape)
    generator = BigGANGenerator(
        image_shape, latent_dim, width=width, num_classes=num_classes,
        embedding_dim=embedding_dim, spectral_norm=generator_spectral_norm,
        attention_resolution=attention_resolution, synchronized_bn=synchronized_bn,
        orthogonal_regularization=orthogonal_regularization,
    )
    discriminator = ResNetDiscriminator(
        image_shape, width=width, num_classes=num_classes, conditioning=conditioning,
        norm=discriminator_norm, attention_resolution=attention_resolution,
    )
    return generator, discriminator
