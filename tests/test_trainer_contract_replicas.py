"""The second family (tests/contract_family.py) gives the same weights on 1 and 2 replicas,
through `tfgans.Estimator` (which trains under MirroredStrategy with the multi-worker
loop). In its own pytest process, like tests/test_gan.py: several MirroredStrategy
computations in one process clash on collective keys."""

import numpy as np

from test_trainer_contract import dataset, estimator, state


def test_second_family_two_replicas_equal_one(tmp_path, mirrored):
    one, two = estimator(tmp_path / "one"), estimator(tmp_path / "two", strategy=mirrored)
    one.train(dataset, max_steps=4)
    two.train(dataset, max_steps=4)
    assert two.strategy.num_replicas_in_sync == 2
    for a, b in zip(state(one.trainer), state(two.trainer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


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
