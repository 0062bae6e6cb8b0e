"""Tests for the ResNet families: SNGAN, SAGAN and a small BigGAN (tfgans.models)."""

import functools
import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgans import layers
from tfgans.models import biggan, resnet, sagan
from tfgans.models.biggan import BigGANGenerator, build_biggan
from tfgans.models.resnet import ResNetDiscriminator, ResNetGenerator, build_sngan
from tfgans.models.sagan import build_sagan

LATENT = 12
BATCH = 4
WIDTH = 8
LABELS = np.array([0, 3, 1, 3], "int32")
BUILDERS = {"sngan": build_sngan, "sagan": build_sagan, "biggan": build_biggan}
SHAPES = [(28, 28, 1), (32, 32, 3)]


def noise(batch=BATCH, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, LATENT)).astype("float32")


def images(shape, batch=BATCH, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, *shape)).astype("float32")


def sublayers(model):
    return list(model._flatten_layers(include_self=False))


def g_inputs(g, z=None, labels=LABELS):
    z = noise() if z is None else z
    return z if g.num_classes is None else [z, labels]


def d_inputs(d, x, labels=LABELS):
    return [x, labels] if d.with_labels else x


@functools.lru_cache(maxsize=None)
def built_pair(family, shape, num_classes):
    """A built (generator, discriminator) pair, shared by the tests (building is slow)."""
    kwargs = {"embedding_dim": 8} if family == "biggan" else {}
    g, d = BUILDERS[family](shape, LATENT, num_classes, width=WIDTH, **kwargs)
    d(d_inputs(d, g(g_inputs(g))))
    return g, d


# Each family at both sizes and in both modes (conditional at 28x28x1, unconditional at
# 32x32x3: building is what takes time, so not the full product).
PAIRS = [(family, shape, n) for family in BUILDERS for shape, n in zip(SHAPES, (5, None))]


@pytest.mark.parametrize("family, shape, num_classes", PAIRS)
def test_shapes_and_ranges(family, shape, num_classes):
    g, d = built_pair(family, shape, num_classes)
    fake = np.asarray(g(g_inputs(g), training=True))
    assert fake.shape == (BATCH, *shape) and fake.dtype == "float32"
    assert np.all(np.abs(fake) <= 1.0) and np.std(fake) > 1e-3
    logits = d(d_inputs(d, fake), training=True)
    assert tuple(logits.shape) == (BATCH, 1) and logits.dtype == "float32"
    assert g.num_classes == d.num_classes == num_classes
    assert d.conditioning == (None if num_classes is None else "projection")
    if num_classes is not None:  # the labels matter to both networks
        if family != "biggan":  # class embeddings start at gamma 1, beta 0 for all classes
            beta = g.blocks[0].bn2.beta_embedding.embeddings
            beta.assign(np.random.default_rng(2).normal(size=beta.shape))
        other = np.array([4, 4, 2, 0], "int32")
        assert not np.allclose(g(g_inputs(g)), g(g_inputs(g, labels=other)), atol=1e-4)
        x = images(shape)
        assert not np.allclose(d([x, LABELS]), d([x, other]), atol=1e-5)


def test_architecture():
    g = ResNetGenerator((32, 32, 3), LATENT, width=WIDTH, num_classes=5)
    d = ResNetDiscriminator((32, 32, 3), width=WIDTH)
    # 4x4x64 -> 8x8x32 -> 16x16x16 -> 32x32x8 -> 32x32x3; D: 16x16x8 -> 8x8x16 -> 4x4x32 -> 4x4x64.
    assert g.project.units == 4 * 4 * 8 * WIDTH
    assert [b.filters for b in g.blocks] == [32, 16, 8]
    assert all(isinstance(b.bn1, layers.ConditionalBatchNormalization) for b in g.blocks)
    assert g.blocks[0].bn1.num_classes == 5 and g.attention is None
    assert not any(isinstance(l, keras.layers.SpectralNormalization) for l in sublayers(g))
    d(images((32, 32, 3)))  # the shortcut convolutions are made when the blocks are built
    assert [b.filters for b in d.blocks] == [8, 16, 32, 64]
    assert [b.downsample for b in d.blocks] == [True, True, True, False]
    assert [b.preactivation for b in d.blocks] == [False, True, True, True]
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in sublayers(d))
    # Unconditional: plain batch normalization; 28x28 starts at 7x7.
    g, d = built_pair("sngan", (32, 32, 3), None)
    assert type(g.blocks[0].bn1) is keras.layers.BatchNormalization
    g = ResNetGenerator((28, 28, 1), LATENT, width=WIDTH)
    d = ResNetDiscriminator((28, 28, 1), width=WIDTH)
    assert g.project.units == 7 * 7 * 4 * WIDTH and [b.filters for b in g.blocks] == [16, 8]
    assert [b.filters for b in d.blocks] == [8, 16, 32]


def test_spectral_norm_wraps_every_kernel_of_the_discriminator():
    for family in BUILDERS:
        _, d = built_pair(family, (28, 28, 1), 5)
        inner = sublayers(d)
        wrapped = {id(l.layer) for l in inner if isinstance(l, keras.layers.SpectralNormalization)}
        kernels = [l for l in inner if isinstance(l, (keras.layers.Conv2D, keras.layers.Dense))]
        # 3 blocks of 3 convolutions, the logit and the projection (+ 4 attention convs).
        assert len(kernels) == 11 + 4 * (family != "sngan")
        assert wrapped == set(map(id, kernels))


@pytest.mark.parametrize("family", ["sagan", "biggan"])
def test_attention_and_generator_spectral_norm(family):
    g, d = built_pair(family, (32, 32, 3), None)
    assert g.attention_resolution == d.attention_resolution == 16
    # G: 8x8x32 -> block1 -> 16x16x16 (attention) ; D: block0 -> 16x16x8 (attention).
    assert g._attention_after == 1 and g.attention.key_conv.kernel.shape == (1, 1, 16, 2)
    assert d._attention_after == 0 and d.attention.output_conv.kernel.shape == (1, 1, 1, 8)
    inner = sublayers(g)
    wrapped = {id(l.layer) for l in inner if isinstance(l, keras.layers.SpectralNormalization)}
    kernels = [l for l in inner if isinstance(l, (keras.layers.Conv2D, keras.layers.Dense))]
    assert kernels and wrapped == set(map(id, kernels))
    # A non-zero gamma changes the output: the attention block is on the path.
    x = g_inputs(g)
    before = np.asarray(g(x))
    g.attention.gamma.assign(1.0)
    assert not np.allclose(g(x), before, atol=1e-4)
    g.attention.gamma.assign(0.0)


WRAPPERS = {"none": (), "weight": layers.WeightNormalization, "layer": layers.WithLayerNormalization,
            "orthonormal": ()}


@pytest.mark.parametrize("norm", list(WRAPPERS))
def test_discriminator_norm_switch(norm):
    d = ResNetDiscriminator((28, 28, 1), width=4, num_classes=3, norm=norm)
    logits = d([images((28, 28, 1)), LABELS % 3], training=True)
    assert tuple(logits.shape) == (BATCH, 1) and np.all(np.isfinite(logits))
    inner = sublayers(d)
    convs = [l for l in inner if type(l) is keras.layers.Conv2D]
    normalized = [l.layer for l in inner if isinstance(l, WRAPPERS[norm])]
    assert len(convs) == 9
    assert set(map(id, normalized)) == (
        set(map(id, convs)) if norm in ("weight", "layer") else set())
    assert not any(isinstance(l, keras.layers.SpectralNormalization) for l in inner)
    # "orthonormal": every convolution's kernel regularised, the sum in d.losses.
    regularized = [l for l in convs if isinstance(l.kernel_regularizer, layers.OrthonormalRegularizer)]
    assert len(regularized) == (9 if norm == "orthonormal" else 0)
    assert len(d.losses) == len(regularized)
    if norm == "orthonormal":
        expected = sum(float(layers.orthonormal_regularization(l.kernel)) for l in convs)
        np.testing.assert_allclose(float(sum(d.losses)), expected, rtol=1e-5)


def test_biggan_hierarchical_latent():
    assert biggan.latent_chunk_sizes(128, 5) == (26, 26, 26, 25, 25)
    assert biggan.latent_chunk_sizes(12, 3) == (4, 4, 4)
    with pytest.raises(ValueError, match="`latent_dim` must be at least 4.*Received: latent_dim=3"):
        BigGANGenerator((32, 32, 3), latent_dim=3)
    g, _ = built_pair("biggan", (28, 28, 1), 5)
    assert g.chunk_sizes == (4, 4, 4) and g.shared_embedding.output_dim == 8
    # Each block's conditional batch norms read [its chunk, shared embedding] (4 + 8).
    for block in g.blocks:
        assert block.condition == "vector"
        assert block.bn1.gamma_dense.kernel.shape == (12, 2 * block.filters)
        assert block.bn2.gamma_dense.kernel.shape == (12, block.filters)
    assert g.project.kernel.shape[0] == 4
    z = noise()
    base = np.asarray(g([z, LABELS]))
    for chunk in range(3):  # every chunk reaches the output
        changed = z.copy()
        changed[:, 4 * chunk : 4 * chunk + 4] += 1.0
        assert not np.allclose(g([changed, LABELS]), base, atol=1e-4)
    g, _ = built_pair("biggan", (32, 32, 3), None)
    assert g.chunk_sizes == (3, 3, 3, 3) and g.shared_embedding is None
    assert g.blocks[0].bn1.gamma_dense.kernel.shape[0] == 3  # the chunk alone
    truncated = np.clip(noise(), -0.5, 0.5)  # truncated noise is noise like any other
    assert np.all(np.isfinite(g(truncated)))


def test_biggan_orthogonal_regularization():
    g, _ = built_pair("biggan", (28, 28, 1), 5)
    regularized = [
        l.kernel for l in sublayers(g)
        if isinstance(l, (keras.layers.Conv2D, keras.layers.Dense)) and l.kernel_regularizer
    ]
    # project, to_image, 4 attention convolutions, and per block 3 convolutions and
    # 2 x 2 linear maps of the conditional batch norms.
    assert len(regularized) == 2 + 4 + 2 * 7 == len(g.losses)
    want = sum(float(layers.off_diagonal_orthogonal_regularization(k, 1e-4)) for k in regularized)
    np.testing.assert_allclose(float(sum(g.losses)), want, rtol=1e-5)
    assert g.orthogonal_regularization == 1e-4
    embeddings = [l for l in sublayers(g) if isinstance(l, keras.layers.Embedding)]
    assert embeddings and all(l.embeddings_regularizer is None for l in embeddings)
    none = BigGANGenerator((28, 28, 1), LATENT, width=4, orthogonal_regularization=0.0)
    none(noise())
    assert none.losses == []


# The models whose config and clone round trips are checked: one of each class and option.
CLONED = {
    "sngan_g": lambda: built_pair("sngan", (28, 28, 1), 5)[0],
    "sngan_d": lambda: built_pair("sngan", (32, 32, 3), None)[1],
    "sagan_g": lambda: built_pair("sagan", (32, 32, 3), None)[0],
    "sagan_d": lambda: built_pair("sagan", (28, 28, 1), 5)[1],
    "biggan_g": lambda: built_pair("biggan", (28, 28, 1), 5)[0],
    "biggan_d": lambda: built_pair("biggan", (28, 28, 1), 5)[1],
}


@pytest.mark.parametrize("name", list(CLONED))
def test_config_and_clone_round_trips(name):
    model = CLONED[name]()
    is_g = name.endswith("_g")
    inputs = g_inputs(model) if is_g else d_inputs(model, images(model.image_shape))
    expected = np.asarray(model(inputs))
    config = model.get_config()
    params = set(inspect.signature(type(model).__init__).parameters) - {"self", "kwargs"}
    assert params <= set(config)
    serialized = keras.saving.serialize_keras_object(model)
    assert serialized["registered_name"] == f"tfgans>{type(model).__name__}"
    rebuilt = keras.saving.deserialize_keras_object(serialized)
    assert type(rebuilt) is type(model) and rebuilt.get_config() == config
    clone = keras.models.clone_model(model)  # what the trainer does for the EMA generator
    assert type(clone) is type(model) and clone.get_config() == config
    clone(inputs)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(inputs), expected, rtol=1e-5, atol=1e-6)


# SAGAN's networks are SNGAN's plus attention and a spectrally normalized G, which
# BigGAN's have too.
@pytest.mark.parametrize("family", ["sngan", "biggan"])
def test_hinge_gan_steps(family):
    """A few alternating hinge-loss steps, as the trainer takes them: no NaN, weights move."""
    g, d = built_pair(family, (28, 28, 1), 5)
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9)
    real = tf.constant(images((28, 28, 1), seed=7))
    labels = tf.constant(LABELS)
    g_before = [np.asarray(v) for v in g.trainable_variables]
    for step in range(2):
        z = tf.constant(noise(seed=10 + step))
        with tf.GradientTape() as tape:
            fake = g([z, labels], training=True)
            d_real = d([real, labels], training=True)
            d_fake = d([fake, labels], training=True)
            d_loss = tf.reduce_mean(tf.nn.relu(1 - d_real)) + tf.reduce_mean(tf.nn.relu(1 + d_fake))
        d_grads = tape.gradient(d_loss, d.trainable_variables)
        d_opt.apply_gradients(zip(d_grads, d.trainable_variables))
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(d([g([z, labels], training=True), labels], training=True))
            g_loss += tf.add_n(g.losses) if g.losses else 0.0
        grads = tape.gradient(g_loss, g.trainable_variables)
        assert all(grad is not None for grad in grads)
        g_opt.apply_gradients(zip(grads, g.trainable_variables))
        assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
    assert all(np.all(np.isfinite(v)) for v in g.trainable_variables + d.trainable_variables)
    assert any(not np.allclose(b, v) for b, v in zip(g_before, g.trainable_variables))


def test_mixed_bfloat16():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        g, d = build_biggan((28, 28, 1), LATENT, 5, width=4, embedding_dim=4)
        fake = g([noise(), LABELS], training=True)
        assert fake.dtype == "float32" and g.blocks[0].conv1.compute_dtype == "bfloat16"
        assert d([fake, LABELS], training=True).dtype == "float32"
    finally:
        keras.config.set_dtype_policy("float32")


BAD_ARGS = [
    (ResNetGenerator, {"attention_resolution": 7}, "attention_resolution"),
    (ResNetGenerator, {"attention_resolution": True}, "attention_resolution"),
    (ResNetGenerator, {"orthogonal_regularization": -1.0}, "orthogonal_regularization"),
    (ResNetGenerator, {"spectral_norm": "yes"}, "spectral_norm"),
    (ResNetGenerator, {"width": 0}, "width"),
    (ResNetDiscriminator, {"norm": "batch"}, "norm"),
    (ResNetDiscriminator, {"num_classes": 3, "conditioning": "concat"}, "conditioning"),
    (ResNetDiscriminator, {"attention_resolution": 28}, "attention_resolution"),
    (BigGANGenerator, {"embedding_dim": 0}, "embedding_dim"),
]


@pytest.mark.parametrize("cls, kwargs, arg", BAD_ARGS)
def test_bad_arguments_name_the_argument(cls, kwargs, arg):
    with pytest.raises(ValueError, match=f"`?{arg}`?.*Received: .*{arg}="):
        cls((28, 28, 1), **kwargs)


def test_attention_resolutions():
    assert resnet.attention_resolutions((28, 28, 1)) == (14,)
    assert resnet.attention_resolutions((32, 32, 3)) == (8, 16)
    assert resnet.attention_resolutions((64, 64, 3)) == (8, 16, 32)
    for size in (28, 32, 64):
        shape = (size, size, 3)
        assert sagan.default_attention_resolution(shape) in resnet.attention_resolutions(shape)


@pytest.mark.filterwarnings("ignore:.*(unbuilt state|does not have a `build)")
def test_bad_call_inputs():
    g, d = built_pair("biggan", (28, 28, 1), 5)
    with pytest.raises(ValueError, match=r"conditional.*\[noise, labels\]"):
        g(noise())
    with pytest.raises(ValueError, match=r"noise of shape \[batch, 12\]"):
        g([noise()[:, :5], LABELS])
    with pytest.raises(ValueError, match=r"images of shape \[batch, 28, 28, 1\]"):
        d([images((32, 32, 1)), LABELS])
