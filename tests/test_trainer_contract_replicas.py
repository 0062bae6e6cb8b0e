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
