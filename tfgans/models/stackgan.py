"""StackGAN's networks (Zhang et al. 2017), small, with a learned text encoder inside.

Text comes in as strings: `TextEncoder` tokenises them in the graph
(`keras.layers.TextVectorization` over a fixed vocabulary, with an out-of-vocabulary token
so unknown words never fail), embeds the tokens, mixes neighbours with a width-2
convolution (so word order counts a little), averages over the words and
layer-normalises the result.

- `StageIGenerator`: text -> embedding -> conditioning augmentation (mean, log-variance
  of a Gaussian text code) -> with noise, a low-resolution image (half the side: 14x14
  for 28x28); the code enters with the noise and again, tiled, after the upsampling (as
  stage II joins its code to the image features), so it cannot be drowned by the noise.
- `StageIIGenerator`: the stage-I image + its own text code (from the stage-I
  embedding) -> the full-resolution image (28x28): the upsampled stage-I image plus a
  learned correction (a residual block; the output layer starts at zero, so stage II
  starts from stage I's image, as LAPGAN's levels add detail to the level below).
- `TextDiscriminator`: (image, text) -> a logit, with its own text encoder, for either
  stage: the matching-aware discriminator of GAN-CLS (Reed et al. 2016) scores an image
  against a description, with a projection term (Miyato & Koyama 2018): the logit is an
  unconditional score plus the inner product of the text embedding's projection with the
  pooled image features, so "does this image match this text" is a direct term of the
  logit rather than a small shift after a concatenation.
- `StackGANPipeline`: the served model, `[text, noise] -> image`: both generators, each
  with its code's mean (no sampling at inference).

Reference: [Zhang et al., 2017](https://arxiv.org/abs/1612.03242),
[Reed et al., 2016](https://arxiv.org/abs/1605.05396),
[Miyato & Koyama, 2018](https://arxiv.org/abs/1802.05637) (projection discriminator).
"""

import keras
from keras import ops

#: TextVectorization's standardisation; `pipelines.data.captions.standardize` matches it.
STANDARDIZE = "lower_and_strip_punctuation"


@keras.saving.register_keras_serializable(package="tfgans")
class TextEncoder(keras.layers.Layer):
    """Strings [B] -> text embeddings [B, output_dim], tokenised in the graph.

    Args:
        vocabulary: the words (no padding or OOV token: TextVectorization adds "" and
            "[UNK]"); any other word maps to "[UNK]".
        sequence_length: words kept per text (longer texts are cut).
        embedding_dim: size of the word vectors.
        output_dim: size of the text embedding.
    """

    def __init__(self, vocabulary, sequence_length=16, embedding_dim=32, output_dim=64,
                 **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = [str(w) for w in vocabulary]
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.output_dim = int(output_dim)
        if not self.vocabulary:
            raise ValueError("`vocabulary` must hold at least one word. Received: []")
        self.vectorize = keras.layers.TextVectorization(
            vocabulary=self.vocabulary, output_sequence_length=self.sequence_length,
            standardize=STANDARDIZE, name="vectorize")
        self.embedding = keras.layers.Embedding(len(self.vocabulary) + 2, self.embedding_dim,
                                                name="words")
        self.mix = keras.layers.Conv1D(self.embedding_dim, 2, padding="same", name="bigrams")
        self.dense = keras.layers.Dense(self.output_dim, name="text")
        # Unit-scale embeddings, as a pre-trained text embedding has: with a freshly
        # initialised encoder the text code's mean would be tiny beside its noise.
        self.norm = keras.layers.LayerNormalization(name="norm")

    def tokens(self, text):
        """Token ids int [B, sequence_length]: 0 padding, 1 out of vocabulary."""
        return self.vectorize(text)

    def call(self, text):
        return self.encode(self.tokens(text))

    def encode(self, tokens):
        """Token ids (`tokens`) -> text embeddings."""
        mask = ops.expand_dims(ops.cast(ops.greater(tokens, 0), "float32"), -1)
        vectors = self.mix(self.embedding(tokens) * mask) * mask
        mean = ops.sum(vectors, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)
        return self.norm(ops.leaky_relu(self.dense(mean), 0.2))

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary,
                "sequence_length": self.sequence_length, "embedding_dim": self.embedding_dim,
                "output_dim": self.output_dim}


def split_code(params):
    """The conditioning augmentation's (mean, log-variance) from [B, 2 * code_dim]."""
    half = params.shape[-1] // 2
    return params[:, :half], params[:, half:]


def upsample2x(x):
    """Nearest-neighbour upsampling x2 of [B, H, W, C] (a reshape and a tile: fewer ops
    than `UpSampling2D`'s resize, so the training step traces faster)."""
    _, height, width, channels = x.shape
    x = ops.tile(ops.reshape(x, [-1, height, 1, width, 1, channels]), [1, 1, 2, 1, 2, 1])
    return ops.reshape(x, [-1, 2 * height, 2 * width, channels])


def tile_code(code, height, width):
    """A code [B, D] repeated over an image's positions: [B, H, W, D]."""
    return ops.tile(code[:, None, None, :], [1, height, width, 1])


@keras.saving.register_keras_serializable(package="tfgans")
class StageIGenerator(keras.Model):
    """StackGAN's stage I: (text, noise) -> an image of half the final side.

    `embed(text)` -> embedding; `augment(embedding)` -> (mean, log-variance) of the text
    code (conditioning augmentation); `synthesize(noise, code)` -> image in [-1, 1];
    `call([text, noise])` uses the code's mean.

    Args:
        vocabulary, sequence_length, embedding_dim, text_dim: the `TextEncoder`'s.
        latent_dim: the noise size.
        image_size: the FINAL image side (a multiple of 4); stage I makes half of it.
        channels: image channels.
        width: base filters.
        code_dim: the text code's size.
    """

    def __init__(self, vocabulary, latent_dim, image_size=28, channels=1, width=32,
                 code_dim=16, text_dim=64, embedding_dim=32, sequence_length=16, **kwargs):
        super().__init__(**kwargs)
        if image_size % 4:
            raise ValueError(f"`image_size` must be a multiple of 4. Received: {image_size}")
        self.vocabulary = list(vocabulary)
        self.latent_dim, self.image_size, self.channels = int(latent_dim), int(image_size), int(channels)
        self.width, self.code_dim, self.text_dim = int(width), int(code_dim), int(text_dim)
        self.embedding_dim, self.sequence_length = int(embedding_dim), int(sequence_length)
        self.start = self.image_size // 4
        self.encoder = TextEncoder(self.vocabulary, self.sequence_length, self.embedding_dim,
                                   self.text_dim, name="encoder")
        self.ca = keras.layers.Dense(2 * self.code_dim, name="conditioning_augmentation")
        self.fc = keras.layers.Dense(self.start * self.start * 2 * self.width, name="fc")
        self.conv = keras.layers.Conv2D(self.width, 3, padding="same", name="conv")
        self.out = keras.layers.Conv2D(self.channels, 3, padding="same", name="out")

    def embed(self, text):
        return self.encoder(text)

    def embed_tokens(self, tokens):
        """`embed` from token ids (`self.encoder.tokens(text)`)."""
        return self.encoder.encode(tokens)

    def augment(self, embedding):
        return split_code(self.ca(embedding))

    def synthesize(self, noise, code):
        x = ops.relu(self.fc(ops.concatenate([noise, code], axis=-1)))
        x = upsample2x(ops.reshape(x, [-1, self.start, self.start, 2 * self.width]))
        x = ops.relu(self.conv(ops.concatenate(
            [x, tile_code(code, x.shape[1], x.shape[2])], axis=-1)))
        return ops.tanh(self.out(x))

    def call(self, inputs, training=False):
        text, noise = inputs
        mean, _ = self.augment(self.embed(text))
        return self.synthesize(noise, mean)

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary,
                "latent_dim": self.latent_dim, "image_size": self.image_size,
                "channels": self.channels, "width": self.width, "code_dim": self.code_dim,
                "text_dim": self.text_dim, "embedding_dim": self.embedding_dim,
                "sequence_length": self.sequence_length}


@keras.saving.register_keras_serializable(package="tfgans")
class StageIIGenerator(keras.Model):
    """StackGAN's stage II: (stage-I image, text embedding) -> the full-size image.

    The embedding is stage I's (`StageIGenerator.embed`); stage II has its own
    conditioning augmentation (`augment`) and `refine(image, code)`: encode the image,
    join the tiled code, a residual block, upsample x2, and add the result (tanh, clipped
    to [-1, 1]) to the image upsampled x2; the output layer's kernel starts at zero, so an
    untrained stage II returns the stage-I image, upsampled. `call([image, embedding])`
    uses the code's mean.

    Reference: residual refinement as in LAPGAN (Denton et al. 2015,
    https://arxiv.org/abs/1506.05751).
    """

    def __init__(self, channels=1, width=32, code_dim=16, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.width, self.code_dim = int(channels), int(width), int(code_dim)
        self.ca = keras.layers.Dense(2 * self.code_dim, name="conditioning_augmentation")
        self.encode = keras.layers.Conv2D(self.width, 3, padding="same", name="encode")
        self.joint = keras.layers.Conv2D(self.width, 3, padding="same", name="joint")
        self.res1 = keras.layers.Conv2D(self.width, 3, padding="same", name="res1")
        self.res2 = keras.layers.Conv2D(self.width, 3, padding="same", name="res2")
        self.conv = keras.layers.Conv2D(self.width, 3, padding="same", name="conv")
        self.out = keras.layers.Conv2D(self.channels, 3, padding="same",
                                       kernel_initializer="zeros", name="out")

    def augment(self, embedding):
        return split_code(self.ca(embedding))

    def refine(self, image, code):
        x = ops.leaky_relu(self.encode(image), 0.2)
        x = ops.relu(self.joint(ops.concatenate(
            [x, tile_code(code, x.shape[1], x.shape[2])], axis=-1)))
        x = x + self.res2(ops.relu(self.res1(x)))
        x = ops.relu(self.conv(upsample2x(x)))
        # A correction of the upsampled stage-I image (LAPGAN's residual refinement): the
        # output layer starts at zero, so stage II starts from stage I's image and its
        # class, and learns the detail.
        return ops.clip(upsample2x(image) + ops.tanh(self.out(x)), -1.0, 1.0)

    def call(self, inputs, training=False):
        image, embedding = inputs
        mean, _ = self.augment(embedding)
        return self.refine(image, mean)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "width": self.width,
                "code_dim": self.code_dim}


@keras.saving.register_keras_serializable(package="tfgans")
class TextDiscriminator(keras.Model):
    """The matching-aware discriminator: (image, text) -> logit [B, 1], higher meaning "a
    real image that matches the text".

    `embed(text)` -> its own text embedding; `score(images, embedding)`: strided
    convolutions and a 1x1 convolution to features `h`, then the projection
    discriminator's logit `dense(flatten(h)) + <project(embedding), mean_xy(h)>`.
    `call([images, text])`.

    Args:
        downsamples: stride-2 convolutions (1 for stage I's 14x14, 2 for 28x28).
        Others: as in `StageIGenerator`.

    Reference: https://arxiv.org/abs/1605.05396 (matching-aware D),
    https://arxiv.org/abs/1802.05637 (projection).
    """

    def __init__(self, vocabulary, downsamples=2, width=32, text_dim=64, embedding_dim=32,
                 sequence_length=16, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = list(vocabulary)
        self.downsamples, self.width = int(downsamples), int(width)
        self.text_dim, self.embedding_dim = int(text_dim), int(embedding_dim)
        self.sequence_length = int(sequence_length)
        self.encoder = TextEncoder(self.vocabulary, self.sequence_length, self.embedding_dim,
                                   self.text_dim, name="encoder")
        features = self.width * 2 ** (self.downsamples - 1)
        self.convs = [keras.layers.Conv2D(self.width * 2 ** i, 4, strides=2, padding="same",
                                          name=f"down{i}") for i in range(self.downsamples)]
        self.joint = keras.layers.Conv2D(features, 1, name="joint")
        self.project = keras.layers.Dense(features, use_bias=False, name="project")
        self.flatten = keras.layers.Flatten()
        self.logit = keras.layers.Dense(1, name="logit")

    def embed(self, text):
        return self.encoder(text)

    def embed_tokens(self, tokens):
        """`embed` from token ids (`self.encoder.tokens(text)`)."""
        return self.encoder.encode(tokens)

    def score(self, images, embedding):
        x = images
        for conv in self.convs:
            x = ops.leaky_relu(conv(x), 0.2)
        x = ops.leaky_relu(self.joint(x), 0.2)
        match = ops.sum(self.project(embedding) * ops.mean(x, axis=(1, 2)), axis=-1,
                        keepdims=True)
        return self.logit(self.flatten(x)) + match

    def call(self, inputs, training=False):
        images, text = inputs
        return self.score(images, self.embed(text))

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary,
                "downsamples": self.downsamples, "width": self.width, "text_dim": self.text_dim,
                "embedding_dim": self.embedding_dim, "sequence_length": self.sequence_length}


class StackGANPipeline(keras.Model):
    """The served model: `[text, noise]` -> images in [-1, 1] at the final size, through
    stage I and stage II, each with its text code's mean."""

    def __init__(self, stage1, stage2, **kwargs):
        super().__init__(**kwargs)
        self.stage1, self.stage2 = stage1, stage2
        self.built = stage1.built and stage2.built  # built networks: nothing to create

    def call(self, inputs, training=False):
        text, noise = inputs
        embedding = self.stage1.embed(text)
        mean1, _ = self.stage1.augment(embedding)
        low = self.stage1.synthesize(noise, mean1)
        mean2, _ = self.stage2.augment(embedding)
        return self.stage2.refine(low, mean2)


def build_stackgan(image_shape, latent_dim, num_classes=None, vocabulary=None, width=32,
                   code_dim=16, text_dim=64, embedding_dim=32, sequence_length=16):
    """StackGAN's four networks: {"stage1_generator", "stage1_discriminator",
    "stage2_generator", "stage2_discriminator"}.

    Args:
        image_shape: the final (H, W, C), square, H a multiple of 4.
        latent_dim: noise size.
        num_classes: not used (text conditions); must be None.
        vocabulary: the tokeniser's words (the config fills it from the captions).
    """
    if num_classes is not None:
        raise ValueError("StackGAN is conditioned on text, not class labels: set "
                         f"data.labels to false. Received: num_classes={num_classes}")
    if not vocabulary:
        raise ValueError("StackGAN needs the tokeniser's `vocabulary` (model.vocabulary; a "
                         "config takes it from the data's captions).")
    size, _, channels = (int(s) for s in image_shape)
    text = dict(vocabulary=vocabulary, text_dim=text_dim, embedding_dim=embedding_dim,
                sequence_length=sequence_length)
    return {
        "stage1_generator": StageIGenerator(
            latent_dim=latent_dim, image_size=size, channels=channels, width=width,
            code_dim=code_dim, name="stage1_generator", **text),
        "stage1_discriminator": TextDiscriminator(
            downsamples=1, width=width, name="stage1_discriminator", **text),
        "stage2_generator": StageIIGenerator(channels=channels, width=width, code_dim=code_dim,
                                             name="stage2_generator"),
        "stage2_discriminator": TextDiscriminator(
            downsamples=2, width=width, name="stage2_discriminator", **text),
    }
