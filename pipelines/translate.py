"""Image -> image runs: `tfgans translate` (PNG files through a trained run) and the
evaluation of paired runs on held-out pairs.

    tfgans translate MODEL_DIR IN.png --out OUT.png
    tfgans translate MODEL_DIR IN_DIR --out OUT_DIR      (every *.png of IN_DIR)
    tfgans translate MODEL_DIR IN.png --out OUT.png --direction b_to_a   (CycleGAN: F)
    tfgans translate MODEL_DIR IN.png --out OUT.png --mask MASK.png   (inpainting runs)

Unpaired (CycleGAN) runs translate A -> B by default, B -> A with `--direction b_to_a`;
they are evaluated in both directions on held-out images of each domain (sneaker2boot's
"test" split; a folder's testA/testB, else trainA/trainB).

Inpainting runs fill the hole given by `--mask` (a one-channel H x W PNG, white (> 127) =
missing; the same for every input), or the centre H/2 x W/2 square without it; the known
pixels are written back unchanged.

Held-out pairs: the Fashion-MNIST tasks' "test" split (10,000 images never trained on);
a folder dataset's `test/` (else `val/`) sub-folder, and its training images when it has
neither (the evaluation then says so, in `split`).
"""

import os

import numpy as np

from pipelines import data as data_lib
from pipelines.run import EVAL_FILE, RunError, load_run

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: The most files one `translate` call reads.
MAX_FILES = 10_000


def is_paired(config):
    """Whether `config` trains an image -> image model on paired data."""
    return data_lib.dataset_family(config.data.name) == "paired"


def is_unpaired(config):
    """Whether `config` trains an image <-> image model on unpaired data (CycleGAN)."""
    return data_lib.dataset_family(config.data.name) == "unpaired"


def domain_classes(config):
    """The Fashion-MNIST classes of domains A and B of an unpaired task whose domains are
    classes (sneaker2boot: sneaker 7, ankle boot 9), else None."""
    from pipelines.data import fashion_tasks

    return fashion_tasks.SNEAKER2BOOT_CLASSES if config.data.name == "sneaker2boot" else None


def source_shape(config):
    """The (H, W, C) of the images a paired run translates: the run's image size, divided
    by `model.scale` for a super-resolution preset (srgan)."""
    scale = config.model.scale if "scale" in config.model else 1
    size = config.data.image_size // scale
    return (size, size, config.data.channels)


def held_out_split(config):
    """The split of `config`'s data that evaluation reads: "test" for the Fashion-MNIST
    tasks; for folders "test", else "val", else "train"."""
    if not data_lib.dataset_uses_path(config.data.name):
        return "test"
    suffixes = ("A", "B") if is_unpaired(config) else ("",)  # CycleGAN's testA, testB
    for split in ("test", "val"):
        if all(os.path.isdir(os.path.join(config.data.path, split + s)) for s in suffixes):
            return split
    return "train"


def held_out_input_fn(config, batch_size=None):
    """A function building the held-out pairs of `config` (not shuffled, one pass)."""
    from pipelines.run import source_kwargs

    d = config.data
    split = held_out_split(config)
    if batch_size is None:
        batch_size = 1 if data_lib.dataset_uses_path(d.name) else 50

    def fn():
        return data_lib.build_dataset(
            d.name, batch_size, split=split, seed=config.train.seed, data_dir=d.data_dir,
            path=d.path, image_size=d.image_size, shuffle=False, cache=False, repeat=False,
            **source_kwargs(config),
        )

    return fn


def evaluate(model_dir, num_samples=1000, extractor=None, progress=False):
    """Evaluates the paired run in `model_dir` on `num_samples` held-out pairs: PSNR,
    SSIM, L1, FID of the outputs vs the targets, and the identity baseline; an unpaired
    run in both directions on `num_samples` held-out images of each domain: translation
    accuracy (sneaker2boot), cycle error, FID, and the identity's. Appends a record
    (source "evaluate") to `model_dir/eval.json`.

    Returns:
        (metrics dict with "step" and "split", path of eval.json).
    """
    import time

    from tfgans.callbacks import append_history, metrics_record
    from tfgans.files import check_writable

    from pipelines.run import eval_extractor

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 2:
        raise RunError(f"--num-samples must be at least 2. Received: --num-samples {num_samples}")
    config, estimator = load_run(model_dir)
    check_writable(model_dir, "model_dir")
    name = eval_extractor(extractor or config.eval.extractor, estimator.trainer.image_shape)
    start = time.perf_counter()
    try:
        extra = {"classes": domain_classes(config) if name else None} if is_unpaired(
            config) else {}
        metrics = estimator.evaluate(held_out_input_fn(config), num_samples=num_samples,
                                     extractor=name, progress=progress, **extra)
    except ValueError as e:
        raise RunError(str(e)) from None
    split = held_out_split(config)
    step = metrics.pop("step")
    path = os.path.join(model_dir, EVAL_FILE)
    append_history(path, metrics_record(
        step, "evaluate", metrics, num_samples=num_samples, extractor=name or "none",
        split=split, seconds=round(time.perf_counter() - start, 2)))
    return {"step": step, "split": split, **metrics}, path


# --------------------------------------------------------------------------- translate


def _list_inputs(inputs):
    """[(path, name)] of the PNG inputs: one file, or the *.png of a folder (sorted)."""
    if not os.path.exists(inputs):
        raise RunError(f"Input {inputs} does not exist: give a .png file or a folder of them.")
    if os.path.isdir(inputs):
        names = sorted(n for n in os.listdir(inputs) if n.lower().endswith(".png")
                       and os.path.isfile(os.path.join(inputs, n)))
        if not names:
            raise RunError(f"Input folder {inputs} holds no .png files.")
        if len(names) > MAX_FILES:
            raise RunError(f"Input folder {inputs} holds {len(names)} PNGs, more than "
                           f"{MAX_FILES}: split it, or serve the export's translate signature.")
        return [(os.path.join(inputs, n), n) for n in names]
    return [(inputs, os.path.basename(inputs))]


def read_png(path, image_shape, what="image", verb="translates"):
    """A PNG as float32 [H, W, C] in [-1, 1], or one RunError naming the file (`what` it
    is, and what the run `verb`, in the messages). `image_shape` (H, W, C); C None: any."""
    import tensorflow as tf

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise RunError(f"Cannot read {path}: {e.strerror or e}.") from None
    if not data.startswith(_PNG_MAGIC):
        raise RunError(f"{path} is not a PNG file: give the {what} as a .png file.")
    try:
        pixels = tf.io.decode_png(data, channels=0).numpy()
    except tf.errors.OpError:
        raise RunError(f"{path} is not a readable PNG (truncated or corrupt).") from None
    height, width, channels = image_shape  # channels None: any number
    if pixels.shape[:2] != (height, width) or channels not in (None, pixels.shape[2]):
        wanted = "" if channels is None else f" with {channels} channel(s)"
        raise RunError(
            f"{path} is {pixels.shape[0]}x{pixels.shape[1]} with {pixels.shape[2]} channel(s), "
            f"but the run {verb} {height}x{width} images{wanted}: resize or convert it first.")
    return pixels.astype(np.float32) / 127.5 - 1.0


def run_config(model_dir):
    """The resolved config of the run in `model_dir` (load_run's errors when there is none)."""
    from pipelines.run import CONFIG_FILE, load_config

    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        load_run(model_dir)  # raises the RunError that says what is missing
    config = load_config(path)
    if config.data.image_size is None or config.data.channels is None:
        load_run(model_dir)
    return config


def _read_mask(path, shape):
    """A mask PNG as float32 [H, W, 1] (1 = missing: pixels > 127), or one RunError."""
    pixels = read_png(path, (*shape[:2], None), what="mask")  # any channels; its luminance
    return (pixels.mean(axis=-1, keepdims=True) > 127.0 / 127.5 - 1.0).astype(np.float32)


def translate(model_dir, inputs, out, batch_size=64, direction=None, mask=None):
    """Translates a PNG (or every PNG of a folder) with the (EMA) generator of the run in
    `model_dir`. Each output is written atomically.

    Args:
        inputs: a .png file, or a folder of .png files.
        out: a .png file for one input file; a folder (created if missing) for a folder:
            the outputs take the inputs' names.
        direction: unpaired (CycleGAN) runs only: "a_to_b" (None: the default) or "b_to_a".

        mask: inpainting runs: a mask PNG (white = missing) for every input; None: the
            centre mask.

    Returns:
        The paths written.
    """
    from tfgans.callbacks import write_png
    from tfgans.files import check_writable

    files = _list_inputs(inputs)
    folder = os.path.isdir(inputs)
    if folder:
        if os.path.exists(out) and not os.path.isdir(out):
            raise RunError(f"--out {out} is a file: for an input folder, name an output folder.")
        if os.path.abspath(out) == os.path.abspath(inputs):
            raise RunError("--out is the input folder: name another folder (nothing is "
                           "overwritten in place).")
    else:
        if not out.lower().endswith(".png"):
            raise RunError(f"--out must be a .png file for one input file. Received: {out}")
        if os.path.isdir(out):
            raise RunError(f"--out {out} is a folder: name a .png file.")
    config = run_config(model_dir)
    if not (is_paired(config) or is_unpaired(config)):
        raise RunError(f"The run in {model_dir} is not an image -> image run (data.name "
                       f"{config.data.name!r}): use `tfgans generate` for it.")
    options = {}
    if is_unpaired(config):
        options["direction"] = direction or "a_to_b"
        if options["direction"] not in ("a_to_b", "b_to_a"):
            raise RunError(f"--direction must be a_to_b or b_to_a. Received: {direction}")
    elif direction is not None:
        raise RunError(f"--direction applies to unpaired (CycleGAN) runs; the run in "
                       f"{model_dir} translates one way: leave it out.")
    inpainting = "mask" in config.data
    if mask is not None and not inpainting:
        raise RunError(f"--mask is for inpainting runs; the run in {model_dir} "
                       f"({config.model.name}) translates whole images: leave it out.")
    shape = source_shape(config)
    # Every input is checked before the model is built.
    images = np.stack([read_png(path, shape) for path, _ in files])
    extra = ()
    if inpainting:
        from tfgans.models.inpainting import center_mask

        extra = (center_mask(*shape[:2]) if mask is None else _read_mask(mask, shape),)
    _, estimator = load_run(model_dir)
    out_dir = out if folder else os.path.dirname(os.path.abspath(out))
    if folder:
        os.makedirs(out, exist_ok=True)
    check_writable(out_dir, "output folder")
    outputs = estimator.predict(images, *extra, batch_size=batch_size, **options)
    written = []
    for (_, name), image in zip(files, outputs):
        path = os.path.join(out, name) if folder else out
        pixels = np.round((np.clip(image, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
        written.append(write_png(path, pixels))
    return written
