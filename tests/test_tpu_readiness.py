"""TPU readiness, proven on CPU: the default DCGAN's training step compiles whole with XLA
(so it does no host-side work: XLA rejects Python callbacks and host ops), has static
shapes, traces once, runs with `steps_per_execution`, and with XLA under `mixed_bfloat16`.
(`tests/test_gan.py` covers XLA = graph for the MLP GAN, synchronized batch norm and 1 vs
2 replicas.)"""

import keras
import numpy as np
import tensorflow as tf

import tfgans
from tfgans.models import DCGANDiscriminator, DCGANGenerator

HOST_OPS = {"PyFunc", "EagerPyFunc", "PyFuncStateless", "PrintV2", "Print", "Assert"}


def dcgan(synchronized_bn=True):
    keras.utils.set_random_seed(0)
    return tfgans.GAN(
        DCGANGenerator((28, 28, 1), latent_dim=16, width=8, synchronized_bn=synchronized_bn),
        DCGANDiscriminator((28, 28, 1), width=8),
        latent_dim=16, ema_decay=0.99,
    )


def images(n=32, batch=8):
    x = np.random.default_rng(0).uniform(-1, 1, (n, 28, 28, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(batch, drop_remainder=True)


def test_step_compiles_whole_with_xla_static_shapes_and_no_host_ops():
    gan = dcgan()
    gan.compile(loss="wasserstein", n_critic=2)
    batch = tf.zeros([8, 28, 28, 1])
    step = tf.function(gan.train_step, jit_compile=True, reduce_retracing=True)
    hlo = step.experimental_get_compiler_ir(batch)(stage="hlo")  # fails on host work
    assert "ENTRY" in hlo
    graph = step.get_concrete_function(batch).graph
    ops = graph.get_operations()
    assert not {op.type for op in ops} & HOST_OPS
    dynamic = [
        (op.name, t.shape) for op in ops for t in op.outputs
        if t.dtype not in (tf.resource, tf.variant) and not t.shape.is_fully_defined()
    ]
    assert dynamic == []
    for _ in range(3):
        step(batch)
    assert step.experimental_get_tracing_count() == 1


def test_xla_with_steps_per_execution_and_bfloat16():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        gan = dcgan()
        gan.compile(loss="wasserstein", n_critic=2, jit_compile=True, steps_per_execution=4)
        assert gan.generator.layers[0].compute_dtype == "bfloat16"
        logs = gan.fit(images(), epochs=2, verbose=0, shuffle=False).history
    finally:
        keras.config.set_dtype_policy("float32")
    assert int(gan.step.numpy()) == 8
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert all(np.isfinite(w).all() for w in gan.get_weights())
