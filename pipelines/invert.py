"""`tfgans invert`: the noise of a trained noise -> image run whose image matches a PNG
(`tfgans.inversion.invert`), or, with a mask, fills the mask's hole (`inpaint`, Yeh et
al. 2017, Poisson-blended).

    tfgans invert MODEL_DIR IMAGE.png [--mask MASK.png] [--steps N] [--restarts R]
                  [--seed S] [--label ID] --out OUT.png

Writes OUT.png: target | reconstruction (| inpainted), side by side, and the noise found
as OUT.npy ([1, latent_dim] float32, NumPy format without pickle). The mask is a PNG of
the image's size: white (> 127 in any channel) marks the missing pixels, black the known.
"""

import io
import os

import numpy as np

from pipelines import config as config_lib
from pipelines.run import RunError, load_run
from pipelines.translate import read_png, run_config

#: The most --steps and --restarts one call takes (a search of hours beyond).
MAX_STEPS = 100_000
MAX_RESTARTS = 256


def _check_count(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RunError(f"{name} must be an integer in [{low}, {high}]. Received: {name} {value!r}")
    return value


def _check_file(path, what, flag):
    if not os.path.exists(path):
        raise RunError(f"{flag}{path} does not exist: give the {what} as a .png file.")
    if not os.path.isfile(path):
        raise RunError(f"{flag}{path} is not a file: give the {what} as a .png file.")


def read_mask(path, height, width):
    """A mask PNG as float32 [H, W, 1], 1 = missing (white), or one RunError."""
    pixels = read_png(path, (height, width, None), what="mask", verb="makes")
    mask = (np.max(pixels, axis=-1, keepdims=True) > 0.0).astype(np.float32)  # > 127
    if not mask.any():
        raise RunError(f"The mask {path} marks no missing pixel: paint the hole white "
                       "(> 127), the known pixels black.")
    if mask.all():
        raise RunError(f"The mask {path} marks every pixel missing: leave the known pixels "
                       "black; to invert the whole image, leave out --mask.")
    return mask


def critic(trainer):
    """The run's discriminator as `inpaint`'s perceptual critic and the generator loss to
    use with it, or (None, None) when the run has no realness-logit discriminator at full
    resolution (auto-encoder discriminators: BEGAN, EBGAN; progressive growing)."""
    import tfgans
    from tfgans.training import ProGAN

    if not isinstance(trainer, tfgans.GAN) or isinstance(trainer, ProGAN):
        return None, None
    loss = getattr(trainer, "gan_loss", None)
    name = "minimax" if loss is None or loss.uses_batch_mean else loss.name
    return trainer.discriminator, name


def invert(model_dir, image, out, mask=None, steps=200, restarts=4, seed=0, label=None):
    """Inverts (or, with `mask`, inpaints) the PNG `image` with the (EMA) generator of the
    noise -> image run in `model_dir`; writes `out` (a PNG row: target, reconstruction and
    the inpainted image) and the noise as `out` with `.npy`, each atomically.

    Returns:
        (`tfgans.inversion.Inversion`, path of the PNG, path of the .npy).
    """
    from tfgans import inversion
    from tfgans.callbacks import image_grid, write_png
    from tfgans.files import atomic_write, check_writable

    _check_count("--steps", steps, 1, MAX_STEPS)
    _check_count("--restarts", restarts, 1, MAX_RESTARTS)
    if isinstance(seed, bool) or not isinstance(seed, int) or not -(2**63) <= seed < 2**63:
        raise RunError(f"The seed must be a 64-bit integer. Received: {seed!r}")
    if not str(out).lower().endswith(".png"):
        raise RunError(f"--out must be a .png file. Received: {out}")
    if os.path.isdir(out):
        raise RunError(f"--out {out} is a folder: name a .png file.")
    latent_path = os.path.splitext(out)[0] + ".npy"
    if os.path.isdir(latent_path):
        raise RunError(f"{latent_path} (where the noise goes) is a folder: pick another --out.")
    _check_file(image, "image", "")
    if mask is not None:
        _check_file(mask, "mask", "--mask ")
    config = run_config(model_dir)
    if config_lib.trainer_class(config).family != "noise_to_image":
        raise RunError(f"The run in {model_dir} does not map noise to images (model.name "
                       f"{config.model.name!r}): tfgans invert needs a noise -> image run.")
    size, channels = config.data.image_size, config.data.channels
    target = read_png(image, (size, size, channels), verb="makes")
    holes = None if mask is None else read_mask(mask, size, size)
    _, estimator = load_run(model_dir)
    trainer = estimator.trainer
    if trainer.export_spec().kind != "noise_to_image":  # InfoGAN: noise and codes
        raise RunError(f"The run in {model_dir} ({config.model.name}) generates from more "
                       "than noise: tfgans invert needs a plain noise -> image run.")
    classes = getattr(trainer, "num_classes", None)
    if label is not None and (classes is None or not 0 <= label < classes):
        raise RunError(
            f"--label {label}: the run in {model_dir} is not conditional; leave out --label."
            if classes is None else
            f"--label must be a class id in [0, {classes - 1}]. Received: --label {label}")
    check_writable(os.path.dirname(os.path.abspath(out)), "output folder")
    search = dict(latent_dim=trainer.latent_dim, num_classes=classes, steps=steps,
                  restarts=restarts, seed=seed, labels=None if label is None else [label])
    generator = trainer.inference_generator
    if holes is None:
        result = inversion.invert(generator, target[None], **search)
        row = [target, result.reconstructions[0]]
    else:
        discriminator, loss = critic(trainer)
        result = inversion.inpaint(generator, target[None], holes[None],
                                   discriminator=discriminator, perceptual_loss=loss or "minimax",
                                   **search)
        row = [target, result.reconstructions[0], result.images[0]]
    buffer = io.BytesIO()
    np.save(buffer, result.latents, allow_pickle=False)
    previous = None
    if os.path.isfile(latent_path):
        with open(latent_path, "rb") as f:
            previous = f.read()
    atomic_write(latent_path, buffer.getvalue())
    try:
        write_png(out, image_grid(np.stack(row), columns=len(row)))
    except BaseException:  # the .npy goes back to what it was: no noise without its picture
        if previous is None:
            os.unlink(latent_path)
        else:
            atomic_write(latent_path, previous)
        raise
    return result, out, latent_path
