"""Tests for tfgans.models (DCGAN and MLP families) and tfgans.layers."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgans import layers, models
from tfgans.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

LATENT = 8
BATCH = 2
LABELS = np.array([1, 3], dtype="int32")


def noise(latent_dim=LATENT, batch=BATCH, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, latent_dim)).astype("float32")


def images(shape, batch=BATCH, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, *shape)).astype("float32")


# Every model variant, with the input it is called on.
def variants():
    shape = (32, 32, 3)
    return {
        "dcgan_g": (lambda: DCGANGenerator(shape, LATENT, width=4), noise()),
        "dcgan_g_cond": (
            lambda: DCGANGenerator(shape, LATENT, width=4, num_classes=5),
            [noise(), LABELS],
        ),
        "dcgan_d": (lambda: DCGANDiscriminator(shape, width=4), images(shape)),
        "dcgan_d_sn": (
            lambda: DCGANDiscriminator(shape, width=4, spectral_norm=True),
            images(shape),
        ),
        "dcgan_d_concat": (
            lambda: DCGANDiscriminator(shape, width=4, num_classes=5, conditioning="concat"),
            [images(shape), LABELS],
        ),
        "dcgan_d_projection": (
            lambda: DCGANDiscriminator(
                shape, width=4, num_classes=5, conditioning="projection", spectral_norm=True
            ),
            [images(shape), LABELS],
        ),
        "dcgan_d_acgan": (
            lambda: DCGANDiscriminator(shape, width=4, num_classes=5, conditioning="acgan"),
            images(shape),
        ),
        "mlp_g": (lambda: MLPGenerator((2,), LATENT, output_activation=None), noise()),
        "mlp_g_cond": (
            lambda: MLPGenerator((4, 4, 1), LATENT, hidden_units=(16,), num_classes=5),
            [noise(), LABELS],
        ),
        "mlp_d": (lambda: MLPDiscriminator(hidden_units=(16, 16)), images((2,))),
        "mlp_d_cond": (
            lambda: MLPDiscriminator(hidden_units=(16,), num_classes=5, spectral_norm=True),
            [images((4, 4, 1)), LABELS],
        ),
        "mlp_d_acgan": (
            lambda: MLPDiscriminator(hidden_units=(16,), num_classes=5, conditioning="acgan"),
            images((2,)),
        ),
    }


VARIANTS = variants()


def sublayers(model):
    """Every layer inside `model`, recursively (Keras has no public API for this)."""
    return list(model._flatten_layers(include_self=False))


def as_list(outputs):
    return [np.asarray(o) for o in (outputs if isinstance(outputs, list) else [outputs])]


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes_and_ranges(size, channels):
    shape = (size, size, channels)
    g, d = models.build_dcgan(shape, LATENT, width=4)
    fake = g(noise(), training=True)
    assert tuple(fake.shape) == (BATCH, *shape) and fake.dtype == "float32"
    assert np.all(np.abs(fake) <= 1.0)
    assert g.image_shape == g.output_shape_ == shape and g.num_classes is None
    logits = d(fake)
    assert tuple(logits.shape) == (BATCH, 1) and logits.dtype == "float32"
    assert d.num_classes is None and d.conditioning is None


def test_dcgan_architecture():
    g = DCGANGenerator((64, 64, 3), LATENT, width=4)
    g(noise())
    # 4x4x32 -> 8x8x16 -> 16x16x8 -> 32x32x4 -> 64x64x3, batch norm after all but the last.
    assert [c.filters for c in g.up_convs] == [16, 8, 4]
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in sublayers(g)) == 4
    assert g.project.units == 4 * 4 * 32
    d = DCGANDiscriminator((28, 28, 1), width=4)
    d(images((28, 28, 1)))
    assert [c.filters for c in d.convs] == [4, 8]
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in sublayers(d))


def test_synchronized_bn_is_passed_to_batch_norm():
    g = DCGANGenerator((28, 28, 1), LATENT, width=4, synchronized_bn=True)
    bns = [l for l in sublayers(g) if isinstance(l, keras.layers.BatchNormalization)]
    assert bns and all(bn.synchronized for bn in bns)


def test_conditional_generator_uses_labels():
    g = DCGANGenerator((28, 28, 1), LATENT, width=4, num_classes=5)
    z = noise()
    a = g([z, np.array([0, 0], "int32")])
    b = g([z, np.array([4, 4], "int32")])
    assert tuple(a.shape) == (BATCH, 28, 28, 1)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_conditional_discriminator_uses_labels(conditioning):
    d = DCGANDiscriminator((32, 32, 3), width=4, num_classes=5, conditioning=conditioning)
    x = images((32, 32, 3))
    a = d([x, np.array([0, 0], "int32")])
    b = d([x, np.array([4, 4], "int32")])
    assert tuple(a.shape) == (BATCH, 1) and a.dtype == "float32"
    assert not np.allclose(a, b)
    assert d.conditioning == conditioning and d.num_classes == 5


def test_projection_logit_formula():
    d = DCGANDiscriminator((28, 28, 1), width=4, num_classes=5, conditioning="projection")
    x = images((28, 28, 1))
    logits = np.asarray(d([x, LABELS]))
    features = x
    for conv in d.convs:
        features = keras.ops.leaky_relu(conv(features), negative_slope=0.2)
    features = np.asarray(d.flatten(features))
    psi = np.asarray(d.head.logit(features))
    embed = np.asarray(d.head.projection.kernel).T[LABELS]  # [batch, features]
    expected = psi + np.sum(embed * features, axis=1, keepdims=True)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-6)


def test_default_conditioning():
    assert DCGANDiscriminator((28, 28, 1), num_classes=3).conditioning == "projection"
    assert MLPDiscriminator(num_classes=3).conditioning == "concat"


@pytest.mark.parametrize("cls", [DCGANDiscriminator, MLPDiscriminator])
def test_acgan_discriminator(cls):
    kwargs = {"image_shape": (28, 28, 1), "width": 4} if cls is DCGANDiscriminator else {}
    d = cls(num_classes=5, conditioning="acgan", **kwargs)
    logits, class_logits = d(images((28, 28, 1)))
    assert tuple(logits.shape) == (BATCH, 1) and tuple(class_logits.shape) == (BATCH, 5)
    assert logits.dtype == class_logits.dtype == "float32"
    with pytest.raises(ValueError, match="conditioning='acgan'\\) takes no labels"):
        d([images((28, 28, 1)), LABELS])


def test_spectral_norm_wraps_every_conv_and_dense():
    def counts(d):
        d([images((32, 32, 3)), LABELS])
        inner = sublayers(d)
        wrapped = [l.layer for l in inner if isinstance(l, keras.layers.SpectralNormalization)]
        kernels = [l for l in inner if isinstance(l, (keras.layers.Conv2D, keras.layers.Dense))]
        return wrapped, kernels

    wrapped, kernels = counts(
        DCGANDiscriminator((32, 32, 3), width=4, num_classes=5, spectral_norm=True)
    )
    assert len(kernels) == 5  # 3 convs, the logit and the projection
    assert set(map(id, wrapped)) == set(map(id, kernels))
    wrapped, kernels = counts(DCGANDiscriminator((32, 32, 3), width=4, num_classes=5))
    assert not wrapped and len(kernels) == 5


def test_spectral_norm_updates_in_training():
    keras.utils.set_random_seed(0)  # the bound below is for one power iteration from this init
    d = DCGANDiscriminator((28, 28, 1), width=4, spectral_norm=True)
    x = images((28, 28, 1))
    d(x)
    sn = d.convs[0]
    u = np.asarray(sn.vector_u)
    d(x, training=True)
    assert not np.allclose(u, np.asarray(sn.vector_u))
    kernel = np.asarray(sn.kernel).reshape(-1, sn.kernel.shape[-1])
    assert np.linalg.norm(kernel, 2) < 1.5  # close to 1 after one power iteration


@pytest.mark.parametrize("name", list(VARIANTS))
def test_config_and_clone_round_trips(name):
    make, inputs = VARIANTS[name]
    model = make()
    expected = as_list(model(inputs))
    config = model.get_config()
    params = set(inspect.signature(type(model).__init__).parameters) - {"self", "kwargs"}
    assert params <= set(config)

    serialized = keras.saving.serialize_keras_object(model)
    assert serialized["registered_name"] == f"tfgans>{type(model).__name__}"
    for copy in (
        type(model).from_config(config),
        keras.models.clone_model(model),
        keras.saving.deserialize_keras_object(serialized),
    ):
        assert type(copy) is type(model) and copy.get_config() == config
        copy(inputs)
        copy.set_weights(model.get_weights())
        for got, want in zip(as_list(copy(inputs)), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_mlp_pair():
    g = MLPGenerator((2,), LATENT, output_activation=None)
    out = g(noise() * 100)
    assert tuple(out.shape) == (BATCH, 2) and out.dtype == "float32"
    assert g.output_shape_ == (2,) and g.latent_dim == LATENT and g.num_classes is None
    g = MLPGenerator((4, 4, 1), LATENT)  # tanh by default
    out = g(noise() * 100)
    assert tuple(out.shape) == (BATCH, 4, 4, 1) and np.all(np.abs(out) <= 1)
    d = MLPDiscriminator(hidden_units=(8,))
    assert tuple(d(images((4, 4, 1))).shape) == (BATCH, 1)
    g, d = models.build_mlp((2,), LATENT, num_classes=3, output_activation=None)
    assert tuple(d([g([noise(), np.array([0, 2])]), np.array([0, 2])]).shape) == (BATCH, 1)
    assert g.hidden_units == d.hidden_units == (128, 128)


BAD_ARGS = [
    (DCGANGenerator, {"image_shape": (48, 48, 3)}, "image_shape"),
    (DCGANGenerator, {"image_shape": (28, 32, 3)}, "image_shape"),
    (DCGANGenerator, {"image_shape": (28, 28)}, "image_shape"),
    (DCGANGenerator, {"image_shape": (28, 28, 1), "latent_dim": 0}, "latent_dim"),
    (DCGANGenerator, {"image_shape": (28, 28, 1), "width": 2.5}, "width"),
    (DCGANGenerator, {"image_shape": (28, 28, 1), "num_classes": -1}, "num_classes"),
    (DCGANGenerator, {"image_shape": (28, 28, 1), "synchronized_bn": "yes"}, "synchronized_bn"),
    (DCGANDiscriminator, {"image_shape": (16, 16, 1)}, "image_shape"),
    (DCGANDiscriminator, {"image_shape": (28, 28, 1), "conditioning": "film"}, "conditioning"),
    (DCGANDiscriminator, {"image_shape": (28, 28, 1), "conditioning": "acgan"}, "conditioning"),
    (DCGANDiscriminator, {"image_shape": (28, 28, 1), "spectral_norm": 1}, "spectral_norm"),
    (DCGANDiscriminator, {"image_shape": (28, 28, 1), "embedding_dim": 0}, "embedding_dim"),
    (MLPGenerator, {"output_shape": ()}, "output_shape"),
    (MLPGenerator, {"output_shape": (2,), "hidden_units": (8, 0)}, "hidden_units"),
    (MLPGenerator, {"output_shape": (2,), "output_activation": "nope"}, "output_activation"),
    (MLPDiscriminator, {"hidden_units": 128}, "hidden_units"),
    (MLPDiscriminator, {"num_classes": 3, "conditioning": "film"}, "conditioning"),
]


@pytest.mark.parametrize("cls, kwargs, arg", BAD_ARGS)
def test_bad_arguments_name_the_argument(cls, kwargs, arg):
    with pytest.raises(ValueError, match=f"`{arg}`.*Received: .*{arg}="):
        cls(**kwargs)


def test_bad_image_shape_lists_supported_sizes():
    with pytest.raises(ValueError, match=r"\(28, 28, channels\), \(32, 32, channels\), \(64"):
        models.build_dcgan((48, 48, 3), LATENT)


@pytest.mark.filterwarnings("ignore:.*(unbuilt state|does not have a `build)")
def test_bad_call_inputs():
    g = DCGANGenerator((28, 28, 1), LATENT, width=4, num_classes=5)
    with pytest.raises(ValueError, match=r"conditional.*\[noise, labels\]"):
        g(noise())
    g = DCGANGenerator((28, 28, 1), LATENT, width=4)
    with pytest.raises(ValueError, match="takes no labels"):
        g([noise(), LABELS])
    with pytest.raises(ValueError, match=r"noise of shape \[batch, 8\]"):
        g(noise(latent_dim=3))
    d = DCGANDiscriminator((28, 28, 1), width=4, num_classes=5, conditioning="concat")
    with pytest.raises(ValueError, match=r"conditioning='concat'\) is conditional.*\[images, l"):
        d(images((28, 28, 1)))
    with pytest.raises(ValueError, match=r"images of shape \[batch, 28, 28, 1\]"):
        d([images((32, 32, 1)), LABELS])


def test_registry():
    assert models.get("dcgan").build is models.build_dcgan
    assert models.get("mlp").build is models.build_mlp
    assert models.get("sngan").build is models.build_sngan
    assert models.get("sagan").build is models.build_sagan
    assert models.get("biggan").build is models.build_biggan
    assert models.get("pix2pix").build is models.build_pix2pix
    names = models.PRESETS.names()  # sorted, and every preset the zoo issues added so far
    assert names == sorted(names)
    assert {"began", "biggan", "dcgan", "ebgan", "infogan", "mlp", "pix2pix", "points_mlp", "progan", "sagan", "sngan", "stackgan"} <= set(names)
    g, d = models.get("dcgan")(
        (28, 28, 1), LATENT, num_classes=4, width=4, conditioning="acgan", spectral_norm=True
    )
    assert isinstance(g, DCGANGenerator) and isinstance(d, DCGANDiscriminator)
    assert g.latent_dim == LATENT and g.num_classes == d.num_classes == 4
    assert d.conditioning == "acgan" and d.spectral_norm
    with pytest.raises(ValueError, match="Unknown model 'stylegan'.*" + ", ".join(names)):
        models.get("stylegan")
    with pytest.raises(ValueError, match="already registered"):
        models.PRESETS.register("dcgan", models.get("dcgan"))


def test_mixed_bfloat16_outputs_are_float32():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        g, d = models.build_dcgan((28, 28, 1), LATENT, num_classes=5, width=4, spectral_norm=True)
        fake = g([noise(), LABELS], training=True)
        assert fake.dtype == "float32" and g.project.compute_dtype == "bfloat16"
        assert d([fake, LABELS], training=True).dtype == "float32"
        assert d.convs[0].compute_dtype == "bfloat16"
        _, d = models.build_dcgan((28, 28, 1), LATENT, num_classes=5, width=4, conditioning="acgan")
        assert [o.dtype for o in d(fake)] == ["float32", "float32"]
        g, d = models.build_mlp((2,), LATENT, num_classes=5, output_activation=None)
        assert g([noise(), LABELS]).dtype == d([images((2,)), LABELS]).dtype == "float32"
        # A clone made after the policy is reset keeps the model's own policy.
        keras.config.set_dtype_policy("float32")
        assert keras.models.clone_model(g).dtype_policy.name == "mixed_bfloat16"
    finally:
        keras.config.set_dtype_policy("float32")


def test_jit_compiled_training_forward_pass():
    g, d = models.build_dcgan((28, 28, 1), LATENT, num_classes=5, width=4, spectral_norm=True)
    g([noise(), LABELS])
    d([images((28, 28, 1)), LABELS])

    @tf.function(jit_compile=True)
    def step(z, labels):
        with tf.GradientTape() as tape:
            logits = d([g([z, labels], training=True), labels], training=True)
            loss = tf.reduce_mean(logits)
        return logits, tape.gradient(loss, g.trainable_variables)

    logits, grads = step(noise(), LABELS)
    assert tuple(logits.shape) == (BATCH, 1)
    assert all(grad is not None for grad in grads)
    eager = d([g([noise(), LABELS], training=False), LABELS])
    assert np.all(np.isfinite(eager))


def test_mirrored_strategy_forward_pass(mirrored):
    strategy = mirrored  # the process's one strategy: two would clash on collective keys
    with strategy.scope():
        g, d = models.build_dcgan(
            (28, 28, 1), LATENT, width=4, spectral_norm=True, synchronized_bn=True
        )
        d(g(noise()))
    assert all(isinstance(v.value, tf.distribute.DistributedValues) for v in g.variables)

    @tf.function
    def step(z):
        return strategy.run(lambda z: d(g(z, training=True), training=True), args=(z,))

    z = strategy.experimental_distribute_values_from_function(
        lambda ctx: noise(seed=ctx.replica_id_in_sync_group)
    )
    outputs = strategy.experimental_local_results(step(z))
    assert len(outputs) == 2 and all(tuple(o.shape) == (BATCH, 1) for o in outputs)


def test_discriminator_head_layer_round_trip():
    head = layers.DiscriminatorHead(num_classes=3, conditioning="projection")
    out = head(np.ones((2, 4), "float32"), np.array([0, 2]))
    assert tuple(out.shape) == (2, 1)
    copy = layers.DiscriminatorHead.from_config(head.get_config())
    assert copy.get_config() == head.get_config()
    with pytest.raises(ValueError, match="num_classes"):
        layers.DiscriminatorHead(num_classes=3)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_keras_file_round_trip(tmp_path):
    make, inputs = VARIANTS["dcgan_d_projection"]
    model = make()
    model(inputs, training=True)  # one spectral-norm update, so vector_u is not its init
    path = str(tmp_path / "d.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is DCGANDiscriminator and loaded.get_config() == model.get_config()
    np.testing.assert_allclose(loaded(inputs), model(inputs), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(loaded.convs[0].vector_u, model.convs[0].vector_u)
