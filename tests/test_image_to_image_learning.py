"""Issue 17's learning criteria, each a short in-process run of a shipped config (narrowed
to fit CI) on the built-in Fashion-MNIST tasks, measured on held-out test pairs.

Budgets (2 idle CPU cores, one xdist worker each, no XLA), measured with
`python -m benchmarks.image_to_image` at the same settings: pix2pix 600 steps (~20 s),
SRGAN 300 MSE steps + 100 adversarial steps (~60 s), CycleGAN 600 steps of an 800-step schedule (~45 s).
Inpainting's criterion is `test_inpainting.test_learns_to_fill_the_centre_better_than_the_
mean_fill`, inversion's `test_inversion.test_inversion_beats_random_noise_tenfold`.
"""

import keras

from pipelines import config as config_lib
from pipelines import run
from tfgans.metrics import evaluate_translation


def trainer_of(path, overrides, tmp_path):
    """The trainer `tfgans train` would build for `path` with `overrides`, no XLA."""
    config = config_lib.resolve(config_lib.load_config(path, overrides), (28, 28, 1), None)
    keras.utils.set_random_seed(config.train.seed)
    estimator = run.make_estimator(config, str(tmp_path), None, verbose=0)
    trainer = estimator.trainer
    trainer.set_execution(jit_compile=False)
    return config, trainer


def fit(trainer, data, steps):
    trainer.fit(data.skip(int(trainer.step.numpy())), steps_per_epoch=steps, epochs=1,
                verbose=0, check=False)


def test_pix2pix_l1_falls_below_half_the_inputs(tmp_path):
    """pix2pix (width 8, batch 16) after 600 steps on edges2fashion: its L1 to the target
    on 200 held-out pairs is below half the identity's (the edge map as the output)."""
    from pipelines.data import edges2fashion

    config, trainer = trainer_of("configs/pix2pix_edges2fashion.yaml",
                                 ["model.width=8", "model.discriminator_width=8",
                                  "data.batch_size=16", "train.steps=600"], tmp_path)
    fit(trainer, edges2fashion(16, seed=config.train.seed, repeat=True), 600)
    m = evaluate_translation(trainer.sample, edges2fashion(200, split="test", shuffle=False),
                             200)
    assert m["l1"] < 0.5 * m["identity_l1"], m


def test_srresnet_beats_bicubic_by_1db_and_the_adversarial_phase_lowers_fid(tmp_path):
    """SRGAN (width 16, 2 residual blocks, batch 16, both learning rates 1e-3) on
    fashion_x4: after 300 MSE-pretraining steps the SRResNet's PSNR on 200 held-out pairs is
    at least bicubic upsampling's + 1 dB; 100 adversarial steps later the FID of its
    outputs (classifier features) is lower than the pretrained-only model's."""
    from pipelines.data import fashion_x4

    config, trainer = trainer_of(
        "configs/srgan_fashion_x4.yaml",
        ["model.width=16", "model.discriminator_width=16", "model.residual_blocks=2",
         "data.batch_size=16", "train.pretrain_steps=300", "train.steps=400",
         "optimizer.generator_lr=0.001", "optimizer.discriminator_lr=0.001"], tmp_path)
    train = fashion_x4(16, seed=config.train.seed, repeat=True)
    held_out = fashion_x4(200, split="test", shuffle=False)

    def measure():
        return evaluate_translation(trainer.sample, held_out, 200, extractor="fashion_mnist")

    fit(trainer, train, 300)
    pretrained = measure()
    assert pretrained["psnr"] >= pretrained["bicubic_psnr"] + 1.0, pretrained
    fit(trainer, train, 100)
    adversarial = measure()
    assert int(trainer.step.numpy()) == 400
    assert adversarial["fid"] < pretrained["fid"], (pretrained, adversarial)


def test_cyclegan_translates_sneakers_and_boots(tmp_path):
    """CycleGAN (width 8, 2 residual blocks, batch 4; an 800-step schedule, so the decay
    starts at step 400) on sneaker2boot: after 600 steps the committed classifier assigns
    the target class to at least 60% of 200 held-out images per domain (the mean of both
    directions), above the identity mapping's (measured: 0.98 A -> B, 0.62 B -> A)."""
    from pipelines.data import sneaker2boot
    from pipelines.data.fashion_tasks import SNEAKER2BOOT_CLASSES
    from tfgans.metrics import evaluate_cycle

    config, trainer = trainer_of(
        "configs/cyclegan_sneaker2boot.yaml",
        ["model.width=8", "model.discriminator_width=8", "model.residual_blocks=2",
         "data.batch_size=4", "train.steps=800"], tmp_path)
    fit(trainer, sneaker2boot(4, seed=config.train.seed, repeat=True), 600)
    m = evaluate_cycle(trainer.sample, sneaker2boot(200, split="test", shuffle=False), 200,
                       extractor="fashion_mnist", classes=SNEAKER2BOOT_CLASSES)
    assert m["accuracy"] >= 0.6 and m["accuracy"] > m["identity_accuracy"], m
