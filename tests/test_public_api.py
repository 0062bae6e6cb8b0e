"""The public names of DESIGN.md and README are reachable from `import tfgans` alone."""

import subprocess
import sys

NAMES = [
    "GAN", "GANEstimator", "NonFiniteLossError",
    "losses.wasserstein_discriminator_loss", "losses.wasserstein_generator_loss",
    "losses.minimax_discriminator_loss", "losses.minimax_generator_loss",
    "losses.modified_generator_loss", "losses.wasserstein_hinge_discriminator_loss",
    "losses.wasserstein_hinge_generator_loss", "losses.least_squares_discriminator_loss",
    "losses.least_squares_generator_loss", "losses.relativistic_discriminator_loss",
    "losses.relativistic_generator_loss", "losses.get", "losses.GANLoss",
    "penalties.gradient_norm_penalty", "export.export_generator",
    "metrics.frechet_distance", "models.get", "models.DCGANGenerator",
    "callbacks.GANTensorBoard", "callbacks.SampleGrid",
    "inversion.invert", "inversion.inpaint", "inversion.train_encoder",
]


def test_public_names_resolve_in_a_fresh_process():
    code = (
        "import functools, tfgans\n"
        f"for name in {NAMES!r}:\n"
        "    functools.reduce(getattr, name.split('.'), tfgans)\n"
        "g, d = tfgans.models.get('dcgan')((28, 28, 1), latent_dim=8, width=4)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]
