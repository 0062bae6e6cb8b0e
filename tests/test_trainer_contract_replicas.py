"""The second family (tests/contract_family.py) gives the same weights on 1 and 2 replicas,
through `tfgans.Estimator` (which trains under MirroredStrategy with the multi-worker
loop). In its own pytest process, like tests/test_gan.py: several MirroredStrategy
computations in one process clash on collective keys."""

import numpy as np
import pytest

from test_trainer_contract import dataset, estimator, state


def test_second_family_two_replicas_equal_one(tmp_path, mirrored):
    one, two = estimator(tmp_path / "one"), estimator(tmp_path / "two", strategy=mirrored)
    one.train(dataset, max_steps=4)
    two.train(dataset, max_steps=4)
    assert two.strategy.num_replicas_in_sync == 2
    for a, b in zip(state(one.trainer), state(two.trainer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_pix2pix_two_replicas_equal_one(tmp_path, mirrored):
    """pix2pix: instance norm (no shared statistics) and dropout masks keyed by (seed,
    step) for the global batch give the same weights on 1 and 2 replicas."""
    import test_pix2pix as p2p

    one = p2p.estimator(tmp_path / "p1")
    two = p2p.estimator(tmp_path / "p2", strategy=mirrored)
    one.train(p2p.dataset, max_steps=2)
    two.train(p2p.dataset, max_steps=2)
    assert two.strategy.num_replicas_in_sync == 2 and two.trainer.generator.num_dropout > 0
    for a, b in zip(p2p.state(one.trainer), p2p.state(two.trainer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_srgan_two_replicas_equal_one(tmp_path, mirrored):
    """SRGAN across its phase switch (1 pretraining step, 1 adversarial step): batch norm
    over the global batch, the relativistic means over the global batch, and the phase
    selected without tf.cond give the same weights on 1 and 2 replicas. SGD, not Adam:
    Adam's step is lr * m / (sqrt(v) + 1e-7), so a bias whose gradient is ~1e-9 (measured:
    one of D's 8 dense biases) moves by ~1e-5 in the direction of its rounding noise,
    which differs between 1 and 2 replicas, beyond the tolerance."""
    import keras

    import tfgans
    import test_srgan as sr

    def trainer_fn():
        return sr.trainer_fn(pretrain_steps=1, optimizer=lambda: keras.optimizers.SGD(0.1))

    def estimator(name, **kwargs):
        return tfgans.Estimator(trainer_fn, str(tmp_path / name),
                                checkpoint_every=2, sample_every=100, log_every=100,
                                num_sample_images=8, jit_compile=False, verbose=0, **kwargs)

    one, two = estimator("s1"), estimator("s2", strategy=mirrored)
    one.train(sr.dataset, max_steps=2)
    two.train(sr.dataset, max_steps=2)
    assert two.strategy.num_replicas_in_sync == 2
    for a, b in zip(sr.state(one.trainer), sr.state(two.trainer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_inpainting_two_replicas_equal_one(tmp_path, mirrored):
    """Inpainting with partial convolutions, skips and a global + local D (crops cut per
    image, instance norm): the same weights on 1 and 2 replicas."""
    import test_inpainting as inp

    one = inp.estimator(tmp_path / "i1")
    two = inp.estimator(tmp_path / "i2", strategy=mirrored)
    one.train(inp.dataset, max_steps=2)
    two.train(inp.dataset, max_steps=2)
    assert two.strategy.num_replicas_in_sync == 2
    for a, b in zip(inp.state(one.trainer), inp.state(two.trainer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_conditional_sngan_two_replicas_equal_one(mirrored):
    """The tiny conditional SNGAN preset (conditional BN with the global batch's moments in
    G, spectral norm and the projection head in D; hinge) trained 2 steps from the same
    weights and seed gives the same weights, BN statistics, spectral-norm vectors and EMA
    on one device and on 2 replicas (to 1e-5: float32 sums in another order)."""
    import keras
    import tensorflow as tf

    import tfgans
    import tfgans.models

    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 16).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8, drop_remainder=True)

    def build():
        g, d = tfgans.models.get("sngan")((28, 28, 1), 8, num_classes=10, width=4,
                                          synchronized_bn=True)
        return tfgans.GAN(g, d, latent_dim=8, num_classes=10, ema_decay=0.9, seed=1)

    def train(strategy, ref):
        with strategy.scope():
            gan = build()
            gan.set_weights(ref)
            gan.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05),
                        loss="hinge", n_critic=1)
        gan.fit(data, epochs=1, verbose=0)
        assert int(gan.step.numpy()) == 2
        return [np.asarray(v) for v in gan.network_weights()]

    keras.utils.set_random_seed(0)
    initial = build()
    ref = initial.get_weights()
    one = train(tf.distribute.get_strategy(), ref)
    two = train(mirrored, ref)
    start = [np.asarray(v) for v in initial.network_weights()]
    assert max(np.abs(a - b).max() for a, b in zip(one, start, strict=True)) > 1e-3  # moved
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_unrolled_gan_refuses_several_replicas(mirrored):
    """The unrolled GAN's discriminator steps are not summed across replicas: it says so at
    compile, in one line, instead of training something else than on one device."""
    import keras
    import pytest

    from tfgans.models.points import PointsDiscriminator, PointsGenerator
    from tfgans.training import PointsGAN

    with mirrored.scope():
        gan = PointsGAN(PointsGenerator(2, 3, (4,)), PointsDiscriminator((4,)), latent_dim=3)
        with pytest.raises(ValueError, match="runs on one device"):
            gan.compile(loss="minimax", unrolled_steps=2,
                        discriminator_optimizer=keras.optimizers.Adam(1e-3))


def test_stackgan_refuses_several_replicas(mirrored):
    """StackGAN's stage switch is a tf.cond around the optimizers' updates, which
    MirroredStrategy cannot run (a merge_call inside the cond): compile says so in one line
    instead of failing inside the first step."""
    import test_stackgan

    with mirrored.scope(), pytest.raises(ValueError, match="trains on one device"):
        test_stackgan.tiny_trainer(stage1_steps=1)


def test_ebgan_pull_away_two_replicas_equal_one(mirrored):
    """EBGAN's pull-away term is a pairwise term of the whole batch: on 2 replicas each
    gathers the other's codes and differentiates the surrogate (`EBGAN.pull_away`), so 2
    steps give the same weights and the same logged term as on one device. The term's
    weight is raised to 10 so that it, not the energy, dominates the generator's update:
    a per-replica term (the old behaviour) differs beyond the tolerance."""
    import keras
    import tensorflow as tf

    import tfgans.models
    from tfgans.training import EBGAN

    images = np.random.default_rng(3).uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices(images).batch(8, drop_remainder=True)

    def build():
        g, d = tfgans.models.get("ebgan")((28, 28, 1), 8, width=4, synchronized_bn=True)
        return EBGAN(g, d, latent_dim=8, seed=2)

    def train(strategy, ref):
        with strategy.scope():
            gan = build()
            gan.set_weights(ref)
            gan.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05),
                        pull_away_weight=10.0, jit_compile=False)
        history = gan.fit(data, epochs=1, verbose=0)
        return [np.asarray(v) for v in gan.network_weights()], history.history["pull_away"][-1]

    keras.utils.set_random_seed(0)
    initial = build()
    ref = initial.get_weights()
    one, pull_one = train(tf.distribute.get_strategy(), ref)
    two, pull_two = train(mirrored, ref)
    start = [np.asarray(v) for v in initial.network_weights()]
    assert max(np.abs(a - b).max() for a, b in zip(one, start, strict=True)) > 1e-3  # moved
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert pull_two == pytest.approx(pull_one, rel=1e-4)


def _image_to_image_trainer(method, loss="relativistic"):
    """(a tiny trainer of `method` compiled with `loss` and SGD, its 2 batches of 4). The
    reconstruction terms are weighted down so the adversarial term moves the generator as
    much as they do."""
    import keras
    import tensorflow as tf

    import tfgans.models
    from tfgans.training import CycleGAN, Inpainting, Pix2Pix

    sgd = {name: keras.optimizers.SGD(0.1) for name in ("g", "d", "ab", "ba", "a", "b")}
    if method == "pix2pix":
        import test_pix2pix as module

        g, d = tfgans.models.get("pix2pix")(module.SHAPE, None, width=4, depth=2,
                                            discriminator_width=4, discriminator_layers=1)
        trainer = Pix2Pix(g, d, seed=5)
        trainer.compile(sgd["g"], sgd["d"], loss=loss, l1_weight=1.0,
                        jit_compile=False)
        # The second replica's half of each batch is faint: its logits' means differ from
        # the first half's, so per-replica means would move D elsewhere.
        source = module.pairs(8)[0] * np.array([1, 1, 0.1, 0.1] * 2, "float32")[:, None, None, None]
        data = tf.data.Dataset.from_tensor_slices((source, -source))
    elif method == "inpainting":
        import test_inpainting as module

        g, d = tfgans.models.get("inpainting")(
            module.SHAPE, None, width=4, depth=2, partial=True, skips=True,
            discriminator="global_local", discriminator_width=4, discriminator_layers=2)
        trainer = Inpainting(g, d, seed=5)
        trainer.compile(sgd["g"], sgd["d"], loss=loss, adversarial_weight=1.0,
                        jit_compile=False)
        data = tf.data.Dataset.from_tensor_slices(module.batches())
    else:
        import test_cyclegan as module

        networks = tfgans.models.get("cyclegan")(
            (16, 16, 1), None, width=4, residual_blocks=1, discriminator_width=4,
            discriminator_layers=1)
        trainer = CycleGAN(**networks, pool_size=module.POOL, seed=3)
        # No identity term: its L1 has a kink that a 1e-7 change of the inputs crosses on
        # one device too (measured: 1.6e-4 on the weights after 2 steps, either way).
        trainer.compile(sgd["ab"], sgd["ba"], sgd["a"], sgd["b"], loss=loss,
                        cycle_weight=0.1, identity_weight=0.0, jit_compile=False)
        a = np.random.default_rng(0).uniform(-0.9, 0.9, (8, 16, 16, 1)).astype("float32")
        data = tf.data.Dataset.from_tensor_slices((a, np.flip(a, axis=2) * 0.5))
    return trainer, data.take(8).batch(4, drop_remainder=True)


@pytest.mark.parametrize("method, loss", [
    ("pix2pix", "relativistic"), ("inpainting", "relativistic"), ("cyclegan", "relativistic"),
    ("cyclegan", "least_squares")])
def test_image_to_image_two_replicas_equal_one(mirrored, method, loss):
    """The image-to-image trainers take the relativistic loss's batch means over the global
    batch (`tfgans.training.gan.adversarial_loss`), so 2 steps under `fit` give the same
    weights on one device and on 2 replicas, to 1e-6; with per-replica means (the old code)
    they differ by 1.3e-5 (pix2pix) and more. CycleGAN, with its default loss too, runs its
    history pool across the replicas (under `fit` the per-replica batch is not static)."""
    import keras
    import tensorflow as tf

    def train(strategy, ref):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            trainer, data = _image_to_image_trainer(method, loss)
            trainer.set_weights(ref)
        trainer.fit(data, epochs=1, verbose=0)
        assert int(trainer.step.numpy()) == 2
        return [np.asarray(v) for v in trainer.network_weights()]

    keras.utils.set_random_seed(0)
    initial, _ = _image_to_image_trainer(method, loss)
    ref = initial.get_weights()
    start = [np.asarray(v) for v in initial.network_weights()]
    one = train(tf.distribute.get_strategy(), ref)
    two = train(mirrored, ref)
    assert max(np.abs(a - b).max() for a, b in zip(one, start, strict=True)) > 1e-3  # moved
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
