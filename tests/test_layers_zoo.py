"""Tests for the zoo's building blocks in tfgans.layers, against numpy and closed forms."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgans import layers


def rng(seed=0):
    return np.random.default_rng(seed)


def normal(*shape, seed=0):
    return rng(seed).normal(size=shape).astype("float32")


# --- Spectral normalization through the switch -------------------------------------------


@pytest.mark.parametrize(
    "layer, input_shape",
    [(keras.layers.Dense(6), (2, 5)), (keras.layers.Conv2D(4, 3), (2, 5, 5, 3))],
    ids=["dense", "conv"],
)
def test_spectral_norm_largest_singular_value_is_one(layer, input_shape):
    sn = layers.normalize_layer(layer, "spectral")
    x = normal(*input_shape)
    sn(x)
    layer.kernel.assign(3.0 * normal(*layer.kernel.shape, seed=1))
    kernel = lambda: np.asarray(layer.kernel).reshape(-1, layer.kernel.shape[-1])  # noqa: E731
    assert np.linalg.svd(kernel(), compute_uv=False)[0] > 2.0
    for _ in range(30):  # one power iteration per training call
        sn(x, training=True)
    assert abs(np.linalg.svd(kernel(), compute_uv=False)[0] - 1.0) < 1e-2


# --- Self-attention --------------------------------------------------------------------


def attention_numpy(layer, x):
    """SAGAN's formula with the layer's 1x1 kernels as matrices."""
    b, h, w, c = x.shape

    def project(conv, y):
        return y @ np.asarray(conv.kernel)[0, 0]

    flat = x.reshape(b, h * w, c)
    convs = (layer.key_conv, layer.query_conv, layer.value_conv)
    f, g, hh = (project(conv, flat) for conv in convs)
    scores = g @ f.transpose(0, 2, 1)  # [b, j, i] = f(x_i) . g(x_j)
    beta = np.exp(scores - scores.max(-1, keepdims=True))
    beta /= beta.sum(-1, keepdims=True)
    o = project(layer.output_conv, beta @ hh).reshape(b, h, w, c)
    return x + float(layer.gamma) * o


def test_self_attention_identity_at_init_then_formula():
    x = normal(2, 4, 3, 16)
    layer = layers.SelfAttention()
    np.testing.assert_array_equal(layer(x), x)  # gamma = 0: exactly the identity
    assert float(layer.gamma) == 0.0
    assert [c.kernel.shape[-1] for c in (layer.key_conv, layer.query_conv)] == [2, 2]
    assert layer.value_conv.kernel.shape[-1] == 2 and layer.output_conv.kernel.shape[-1] == 16
    layer.gamma.assign(0.7)
    out = np.asarray(layer(x))
    assert not np.allclose(out, x, atol=1e-3)
    np.testing.assert_allclose(out, attention_numpy(layer, x), rtol=1e-4, atol=1e-5)


def test_self_attention_spectral_norm_and_gradient():
    layer = layers.SelfAttention(reduction=4, spectral_norm=True)
    x = tf.constant(normal(2, 4, 4, 8))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=True) ** 2)
    grad = tape.gradient(loss, layer.gamma)
    assert isinstance(layer.key_conv, keras.layers.SpectralNormalization)
    assert float(grad) != 0.0  # gamma learns from the first step


# --- Conditional batch normalization -----------------------------------------------------


def batch_normalized(x, epsilon):
    axes = tuple(range(x.ndim - 1))
    return (x - x.mean(axes)) / np.sqrt(x.var(axes) + epsilon)


def test_conditional_batch_norm_classes():
    cbn = layers.ConditionalBatchNormalization(num_classes=2, epsilon=1e-3)
    x = normal(4, 3, 3, 2) * 2 + 1
    labels = np.array([0, 1, 1, 0], "int32")
    out = np.asarray(cbn(x, labels, training=True))
    np.testing.assert_allclose(out, batch_normalized(x, 1e-3), rtol=1e-4, atol=1e-5)  # 1 and 0
    gamma = np.array([[2.0, -1.0], [0.5, 3.0]], "float32")
    beta = np.array([[0.0, 1.0], [-2.0, 0.25]], "float32")
    cbn.gamma_embedding.embeddings.assign(gamma)
    cbn.beta_embedding.embeddings.assign(beta)
    gamma_y, beta_y = gamma[labels][:, None, None], beta[labels][:, None, None]
    expected = batch_normalized(x, 1e-3) * gamma_y + beta_y
    np.testing.assert_allclose(cbn(x, labels, training=True), expected, rtol=1e-4, atol=1e-5)
    assert not cbn.batch_norm.center and not cbn.batch_norm.scale
    # Inference uses the moving moments: two updates of momentum 0.9 from (0, 1).
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    moving_mean, moving_var = 0.19 * mean, 0.81 + 0.19 * var
    want = (x - moving_mean) / np.sqrt(moving_var + 1e-3) * gamma_y + beta_y
    np.testing.assert_allclose(cbn(x, labels, training=False), want, rtol=1e-3, atol=1e-4)


def test_conditional_batch_norm_vector():
    cbn = layers.ConditionalBatchNormalization(epsilon=1e-5)
    x, c = normal(4, 3), normal(4, 5, seed=1)
    cbn(x, c, training=True)
    w_gamma, w_beta = normal(5, 3, seed=2), normal(5, 3, seed=3)
    cbn.gamma_dense.kernel.assign(w_gamma)
    cbn.beta_dense.kernel.assign(w_beta)
    expected = batch_normalized(x, 1e-5) * (1 + c @ w_gamma) + c @ w_beta
    np.testing.assert_allclose(cbn(x, c, training=True), expected, rtol=1e-4, atol=1e-5)


def test_conditional_batch_norm_options():
    cbn = layers.ConditionalBatchNormalization(
        synchronized=True, spectral_norm=True,
        kernel_regularizer=layers.OffDiagonalOrthogonalRegularizer(0.5),
    )
    x, c = normal(4, 6), normal(4, 5, seed=1)
    cbn(x, c, training=True)
    assert cbn.batch_norm.synchronized
    assert isinstance(cbn.gamma_dense, keras.layers.SpectralNormalization)
    kernels = [cbn.gamma_dense.kernel, cbn.beta_dense.kernel]
    want = sum(float(layers.off_diagonal_orthogonal_regularization(k, 0.5)) for k in kernels)
    assert want > 0
    np.testing.assert_allclose(float(sum(cbn.losses)), want, rtol=1e-5)
    with pytest.raises(ValueError, match="`spectral_norm`.*Received: num_classes=3"):
        layers.ConditionalBatchNormalization(num_classes=3, spectral_norm=True)
    with pytest.raises(ValueError, match="`num_classes`.*Received: num_classes=0"):
        layers.ConditionalBatchNormalization(num_classes=0)


@pytest.mark.parametrize("synchronized", [True, False])
def test_conditional_batch_norm_synchronized_moments(mirrored, synchronized):
    """Two replicas of 2 examples: synchronized moments are those of the global batch."""
    x = normal(4, 2, 2, 3) + np.arange(4, dtype="float32")[:, None, None, None]
    labels = np.array([0, 1, 0, 1], "int32")
    with mirrored.scope():
        cbn = layers.ConditionalBatchNormalization(num_classes=2, synchronized=synchronized)
        cbn(x, labels)
    dataset = tf.data.Dataset.from_tensor_slices((x, labels)).batch(4)
    batch = next(iter(mirrored.experimental_distribute_dataset(dataset)))
    out = mirrored.run(tf.function(lambda x, y: cbn(x, y, training=True)), args=batch)
    got = np.concatenate([np.asarray(o) for o in mirrored.experimental_local_results(out)])
    global_moments = batch_normalized(x, 1e-5)
    if synchronized:
        np.testing.assert_allclose(got, global_moments, rtol=1e-4, atol=1e-4)
    else:
        assert not np.allclose(got, global_moments, atol=1e-2)


# --- Progressive GAN blocks -------------------------------------------------------------


def minibatch_std_numpy(x, group, epsilon):
    groups = x.shape[0] // group
    stats = np.empty(x.shape[0], "float64")
    for m in range(groups):
        members = x[m::groups].astype("float64")  # example i is in group i % groups
        stats[m::groups] = np.sqrt(members.var(axis=0) + epsilon).mean()
    return stats


@pytest.mark.parametrize(
    "batch, group_size, group", [(8, 4, 4), (8, 2, 2), (6, 4, 6), (3, 8, 3), (4, 1, 1)]
)
def test_minibatch_stddev(batch, group_size, group):
    x = normal(batch, 3, 2, 5)
    layer = layers.MinibatchStdDev(group_size=group_size)
    assert layer.group_size_for(batch) == group
    out = np.asarray(layer(x))
    assert out.shape == (batch, 3, 2, 6)
    np.testing.assert_array_equal(out[..., :5], x)
    expected = np.broadcast_to(minibatch_std_numpy(x, group, 1e-8)[:, None, None], (batch, 3, 2))
    np.testing.assert_allclose(out[..., 5], expected, rtol=1e-5)


def test_minibatch_stddev_unknown_batch_is_one_group():
    layer = layers.MinibatchStdDev()
    x = normal(6, 2, 2, 3)
    out = tf.function(layer, input_signature=[tf.TensorSpec([None, 2, 2, 3])])(x)
    np.testing.assert_allclose(out[:, 0, 0, 3], minibatch_std_numpy(x, 6, 1e-8), rtol=1e-5)


def test_pixel_norm():
    x = normal(2, 3, 3, 4)
    expected = x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(layers.PixelNorm()(x), expected, rtol=1e-5)
    np.testing.assert_allclose(layers.PixelNorm(epsilon=1.0)(np.zeros((1, 2))), 0.0)
    np.testing.assert_allclose(np.mean(np.asarray(layers.PixelNorm()(x)) ** 2, -1), 1.0, rtol=1e-5)


def test_equalized_dense():
    layer = layers.EqualizedDense(512, bias_initializer="ones")
    x = normal(3, 32)
    out = np.asarray(layer(x))
    assert layer.scale == pytest.approx(np.sqrt(2 / 32))
    stored = np.asarray(layer.kernel)
    assert abs(stored.std() - 1.0) < 0.05 and abs(stored.mean()) < 0.05  # N(0, 1)
    np.testing.assert_allclose(layer.effective_kernel, stored * np.sqrt(2 / 32), rtol=1e-6)
    np.testing.assert_allclose(out, x @ (stored * np.sqrt(2 / 32)) + 1.0, rtol=1e-4, atol=1e-5)
    assert layers.EqualizedDense(4, gain=0.5).get_config()["gain"] == 0.5


def test_equalized_conv2d():
    layer = layers.EqualizedConv2D(4, 3, gain=2.0, activation="relu")
    x = normal(2, 3, 3, 5)  # one output position with "valid" padding
    out = np.asarray(layer(x))
    scale = 2.0 * np.sqrt(2 / (3 * 3 * 5))
    assert layer.scale == pytest.approx(scale)
    np.testing.assert_allclose(layer.effective_kernel, np.asarray(layer.kernel) * scale, rtol=1e-6)
    expected = np.maximum(np.einsum("bhwc,hwco->bo", x, np.asarray(layer.kernel) * scale), 0)
    np.testing.assert_allclose(out[:, 0, 0], expected, rtol=1e-4, atol=1e-5)


# --- Orthogonal regularization ----------------------------------------------------------

W32 = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "float32")  # W^T W = [[35, 44], [44, 56]]


def test_orthogonal_regularization_closed_forms():
    full = layers.orthonormal_regularization
    off_diagonal = layers.off_diagonal_orthogonal_regularization
    q, _ = np.linalg.qr(normal(5, 3))
    for penalty in (full, off_diagonal):
        assert float(penalty(q.astype("float32"), beta=1.0)) == pytest.approx(0.0, abs=1e-5)
    scaled = (q * [2.0, 3.0, 4.0]).astype("float32")  # orthogonal, not orthonormal
    assert float(off_diagonal(scaled, 1.0)) == pytest.approx(0, abs=1e-4)
    assert float(full(scaled, 1.0)) == pytest.approx(3**2 + 8**2 + 15**2, rel=1e-4)
    # (35 - 1)^2 + 2 * 44^2 + (56 - 1)^2 = 8053; off the diagonal 2 * 44^2 = 3872.
    assert float(full(W32, beta=0.5)) == pytest.approx(4026.5)
    assert float(off_diagonal(W32, beta=0.5)) == pytest.approx(1936.0)
    conv_kernel = W32.reshape(1, 1, 3, 2)  # [fan_in = 3, out = 2]
    assert float(off_diagonal(conv_kernel, 1.0)) == pytest.approx(3872.0)
    with pytest.raises(ValueError, match="`beta`.*Received: beta=-1"):
        full(W32, beta=-1)


@pytest.mark.parametrize(
    "cls, fn",
    [
        (layers.OrthonormalRegularizer, layers.orthonormal_regularization),
        (layers.OffDiagonalOrthogonalRegularizer, layers.off_diagonal_orthogonal_regularization),
    ],
)
def test_orthogonal_regularizers(cls, fn):
    reg = cls(beta=0.25)
    assert float(reg(W32)) == pytest.approx(float(fn(W32, 0.25)))
    assert reg.get_config() == {"beta": 0.25}
    copy = keras.regularizers.deserialize(keras.regularizers.serialize(reg))
    assert type(copy) is cls and copy.beta == 0.25
    dense = keras.layers.Dense(2, kernel_regularizer=reg)
    dense(np.ones((1, 3), "float32"))
    dense.kernel.assign(W32)
    assert float(sum(dense.losses)) == pytest.approx(float(fn(W32, 0.25)))


# --- Weight and layer normalization, and the switch -------------------------------------


@pytest.mark.parametrize(
    "layer, x",
    [(keras.layers.Dense(3), normal(4, 5)), (keras.layers.Conv2D(3, 2), normal(2, 4, 4, 2))],
    ids=["dense", "conv"],
)
def test_weight_normalization(layer, x):
    wn = layers.normalize_layer(layer, "weight")
    assert isinstance(wn, layers.WeightNormalization)
    before = np.asarray(wn(x))
    initial = np.asarray(layer.kernel)
    np.testing.assert_allclose(wn.normalized_kernel(), initial, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(before, layer(x), rtol=1e-5, atol=1e-6)  # unchanged at init
    g = np.array([0.5, 2.0, 3.0], "float32")
    wn.g.assign(g)
    kernel = np.asarray(wn.normalized_kernel())
    axes = tuple(range(kernel.ndim - 1))
    np.testing.assert_allclose(np.sqrt(np.sum(kernel**2, axis=axes)), g, rtol=1e-5)
    direction = initial / np.sqrt(np.sum(initial**2, axis=axes))
    np.testing.assert_allclose(kernel, g * direction, rtol=1e-5, atol=1e-6)
    out = np.asarray(wn(x))
    layer.kernel.assign(kernel)  # the wrapped layer computing with w itself
    np.testing.assert_allclose(out, layer(x), rtol=1e-5, atol=1e-6)
    layer.kernel.assign(initial)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(wn(x) ** 2)
    grads = tape.gradient(loss, [wn.g, layer.kernel])
    assert all(grad is not None and np.any(np.asarray(grad) != 0) for grad in grads)


@pytest.mark.parametrize(
    "layer, x",
    [(keras.layers.Dense(3), normal(64, 5) * 3 + 2),
     (keras.layers.Conv2D(3, 2), normal(8, 5, 5, 2) * 3 + 2)],
    ids=["dense", "conv"],
)
def test_weight_normalization_data_dependent_init(layer, x):
    """Salimans & Kingma's initialisation: with t = x . v / ||v|| (g = 1, no bias), g gets
    1 / std(t) and the bias -mean(t) / std(t) per output channel, computed here by hand,
    so the outputs on x have mean 0 and std 1; a fixed scale (`train_scale=False`) is not
    trained but survives saving."""
    wn = layers.WeightNormalization(layer, train_scale=False, scale_initializer="ones")
    wn(x)
    np.testing.assert_array_equal(wn.g, np.ones(3, "float32"))
    v = np.asarray(layer.kernel, np.float64)
    axes = tuple(range(v.ndim - 1))
    direction = v / np.sqrt(np.sum(v**2, axis=axes))
    t = np.asarray(layer.convolution_op(x, direction.astype("float32")) if isinstance(
        layer, keras.layers.Conv2D) else x @ direction, np.float64)
    mean = t.mean(axis=tuple(range(t.ndim - 1)))
    std = np.sqrt(((t - mean) ** 2).mean(axis=tuple(range(t.ndim - 1))) + 1e-6)
    out = np.asarray(wn.initialize_from_data(x), np.float64)
    np.testing.assert_allclose(wn.g, 1 / std, rtol=1e-4)
    np.testing.assert_allclose(layer.bias, -mean / std, rtol=1e-4, atol=1e-5)
    flat = out.reshape(-1, 3)
    np.testing.assert_allclose(flat.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(flat.std(0), 1, atol=1e-3)
    assert all(w is not wn.g for w in wn.trainable_weights)
    assert any(w is layer.kernel for w in wn.trainable_weights)
    clone = layers.WeightNormalization.from_config(wn.get_config())
    assert clone.train_scale is False
    with pytest.raises(ValueError, match="linear activation"):
        layers.WeightNormalization(
            keras.layers.Dense(3, activation="relu")).initialize_from_data(normal(4, 5))


def test_weight_normalization_rejects_transposed_convs_and_kernelless_layers():
    with pytest.raises(ValueError, match="`layer`.*Received: layer=Conv2DTranspose"):
        layers.WeightNormalization(keras.layers.Conv2DTranspose(3, 2))
    with pytest.raises(ValueError, match="`layer` must have a `kernel`.*Received: layer=Flatten"):
        layers.WeightNormalization(keras.layers.Flatten())(normal(2, 3))


def test_with_layer_normalization():
    conv = keras.layers.Conv2D(4, 3, padding="same", bias_initializer="ones")
    ln = layers.normalize_layer(conv, "layer")
    assert isinstance(ln, layers.WithLayerNormalization)
    x = normal(3, 5, 5, 2) * 4 + 2
    out = np.asarray(ln(x))
    z = np.asarray(conv(x))
    mean, var = z.mean((1, 2, 3), keepdims=True), z.var((1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (z - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
    assert ln.norm.gamma.shape == (4,)  # scale and offset per channel


def test_normalize_layer_switch():
    kinds = {"none": keras.layers.Dense, "spectral": keras.layers.SpectralNormalization,
             "weight": layers.WeightNormalization, "layer": layers.WithLayerNormalization,
             "orthonormal": keras.layers.Dense}
    assert tuple(kinds) == layers.NORMALIZATIONS
    for kind, cls in kinds.items():
        dense = keras.layers.Dense(2)
        wrapped = layers.normalize_layer(dense, kind)
        assert type(wrapped) is cls
        assert wrapped is dense if kind in ("none", "orthonormal") else wrapped.layer is dense
        assert tuple(wrapped(normal(3, 4), training=True).shape) == (3, 2)
    with pytest.raises(ValueError, match=r"`kind` must be one of .*Received: kind='batch'"):
        layers.normalize_layer(keras.layers.Dense(2), "batch")
    with pytest.raises(ValueError, match=r"`norm` must be one of .*Received: norm=None"):
        layers.check_normalization(None)


def test_orthonormal_switch_is_the_kernel_regularizer_in_losses():
    conv = layers.normalize_layer(keras.layers.Conv2D(3, 2), "orthonormal")
    assert isinstance(conv.kernel_regularizer, layers.OrthonormalRegularizer)
    assert conv.kernel_regularizer.beta == layers.normalization.ORTHONORMAL_BETA == 1e-4
    conv(normal(1, 4, 4, 2))
    w = np.asarray(conv.kernel).reshape(-1, 3)  # [2 * 2 * 2, 3]
    by_hand = 1e-4 * np.sum((w.T @ w - np.eye(3)) ** 2)
    assert len(conv.losses) == 1
    np.testing.assert_allclose(float(conv.losses[0]), by_hand, rtol=1e-5)
    # Unregularized kinds leave `losses` empty.
    assert not layers.normalize_layer(keras.layers.Dense(2), "none").losses
    built = keras.layers.Dense(2)
    built.build((None, 3))
    with pytest.raises(ValueError, match="needs an unbuilt layer"):
        layers.normalize_layer(built, "orthonormal")


# --- Serialization and mixed precision -----------------------------------------------------

LAYERS = {
    "attention": (
        lambda: layers.SelfAttention(reduction=2, spectral_norm=True), [normal(2, 3, 3, 4)]
    ),
    "cbn_classes": (
        lambda: layers.ConditionalBatchNormalization(num_classes=3, momentum=0.8),
        [normal(4, 2, 2, 3), np.array([0, 2, 1, 0], "int32")],
    ),
    "cbn_vector": (
        lambda: layers.ConditionalBatchNormalization(
            spectral_norm=True, kernel_regularizer=layers.OrthonormalRegularizer(0.1)
        ),
        [normal(4, 3), normal(4, 5)],
    ),
    "stddev": (lambda: layers.MinibatchStdDev(group_size=2, epsilon=1e-6), [normal(4, 2, 2, 3)]),
    "pixel_norm": (lambda: layers.PixelNorm(epsilon=1e-4), [normal(2, 3)]),
    "eq_dense": (lambda: layers.EqualizedDense(3, gain=0.5), [normal(2, 4)]),
    "eq_conv": (lambda: layers.EqualizedConv2D(3, 2, padding="same"), [normal(2, 3, 3, 2)]),
    "weight_norm": (
        lambda: layers.normalize_layer(keras.layers.Conv2D(2, 1), "weight"), [normal(2, 3, 3, 2)]
    ),
    "layer_norm": (
        lambda: layers.WithLayerNormalization(keras.layers.Dense(3), epsilon=1e-3), [normal(2, 4)]
    ),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_config_round_trip(name):
    make, inputs = LAYERS[name]
    layer = make()
    expected = np.asarray(layer(*inputs))
    config = layer.get_config()
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(copy) is type(layer) and copy.get_config() == config
    copy(*inputs)
    copy.set_weights(layer.get_weights())
    np.testing.assert_allclose(copy(*inputs), expected, rtol=1e-6, atol=1e-6)


def test_mixed_bfloat16():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        for make, inputs in LAYERS.values():
            layer = make()
            out = layer(*inputs, training=True)
            assert out.dtype == "bfloat16" and np.all(np.isfinite(np.asarray(out, "float32")))
    finally:
        keras.config.set_dtype_policy("float32")


def test_xla_forward_and_gradients():
    attention = layers.SelfAttention(reduction=2, spectral_norm=True)
    class_cbn = layers.ConditionalBatchNormalization(num_classes=3)
    vector_cbn = layers.ConditionalBatchNormalization(spectral_norm=True)
    weight_norm = layers.normalize_layer(keras.layers.Conv2D(4, 3, padding="same"), "weight")
    stddev = layers.MinibatchStdDev(group_size=2)
    attention.build((4, 4, 4, 4))
    attention.gamma.assign(0.5)
    x, labels, c = normal(4, 4, 4, 4), np.array([0, 2, 1, 2], "int32"), normal(4, 3, seed=1)

    def forward(x, labels, c, training):
        y = attention(x, training=training)
        y = class_cbn(y, labels, training=training)
        y = vector_cbn(y, c, training=training)
        return stddev(layers.PixelNorm()(weight_norm(y)))

    forward(x, labels, c, False)  # builds every layer eagerly
    variables = [v for l in (attention, vector_cbn, weight_norm) for v in l.trainable_variables]

    @tf.function(jit_compile=True)
    def step(x, labels, c):
        with tf.GradientTape() as tape:
            y = forward(x, labels, c, True)
            loss = tf.reduce_sum(y**2)
        return forward(x, labels, c, False), tape.gradient(loss, variables)

    compiled, grads = step(x, labels, c)
    assert all(grad is not None and np.all(np.isfinite(grad)) for grad in grads)
    # The training pass moved the batch-norm statistics and spectral norms; rerun eagerly.
    np.testing.assert_allclose(compiled, forward(x, labels, c, False), rtol=1e-4, atol=1e-4)
    assert tuple(compiled.shape) == (4, 4, 4, 5)


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda: layers.SelfAttention(reduction=0), "reduction"),
        (lambda: layers.MinibatchStdDev(group_size=2.0), "group_size"),
        (lambda: layers.MinibatchStdDev(epsilon=0), "epsilon"),
        (lambda: layers.PixelNorm(epsilon=-1.0), "epsilon"),
        (lambda: layers.EqualizedDense(4, gain=True), "gain"),
        (lambda: layers.EqualizedConv2D(4, 3, gain=0.0), "gain"),
        (lambda: layers.OffDiagonalOrthogonalRegularizer(beta="1e-4"), "beta"),
    ],
)
def test_bad_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=f"`{arg}` must be .*Received: {arg}="):
        make()
