"""End-to-end runs: config -> strategy -> input pipeline -> preset -> `tfgans.Estimator`
-> train / generate / evaluate / export.

A run directory (`model_dir`) holds `config.yaml` (the resolved config with effective
values: the run's one fingerprint), `checkpoints/`, `logs/` (TensorBoard), `samples/` (PNG
grids) and `eval.json` (the metric history of the periodic evaluation and of
`tfgans evaluate`). Training again with the same model_dir resumes; a config that differs
in anything but the keys of `RESUMABLE_KEYS` (how long and on what it runs) is an error,
not a silent mix.

Example:
```python
from pipelines import config as config_lib, run
config = config_lib.load_config("configs/dcgan_fashion_mnist.yaml", ["train.steps=200"])
estimator = run.train(config, "runs/dcgan")
run.generate("runs/dcgan", num_samples=64, out="samples.png")
```
"""

import math
import os

import numpy as np

from pipelines import config as config_lib
from pipelines import data as data_lib
from pipelines import points_run
from pipelines.config import ConfigError, load_config

CONFIG_FILE = "config.yaml"

#: Keys that may differ when a run resumes: they change how long and where it runs, not
#: what it learns.
RESUMABLE_KEYS = frozenset(
    {
        "train.steps",
        "train.max_seconds",
        "train.checkpoint_every",
        "train.keep_checkpoints",
        "train.sample_every",
        "train.log_every",
        "train.health",
        "train.steps_per_execution",
        "train.jit_compile",
        "distribute.strategy",
        "distribute.devices",
        "distribute.peer_timeout",
        "distribute.tpu",
        "data.data_dir",
        "eval.every",
        "eval.num_samples",
        "eval.extractor",
        "eval.kid_subset_size",
    }
)

_MIRRORED = ("mirrored", "multi_worker")

#: The most images `generate` puts in one PNG grid.
MAX_GENERATE = 10_000
#: The most samples on each side of an evaluation (FID is usually measured on 50000).
MAX_EVAL_SAMPLES = 100_000


class RunError(ValueError):
    """A bad run directory or request: the message is one line saying how to fix it."""


def default_model_dir(config_path):
    """runs/<config file name without extension>."""
    return os.path.join("runs", os.path.splitext(os.path.basename(config_path))[0])


# ---------------------------------------------------------------------------- strategy


def check_train(config):
    """Rejects what cannot run, before any setup: XLA or steps_per_execution > 1 with
    several replicas (`tfgans.training.check_execution`, the one rule), and step counts
    that are not multiples of train.steps_per_execution."""
    from tfgans.training import check_execution

    train = config.train
    check_execution(train.jit_compile, train.steps_per_execution,
                    multi_device=config.distribute.strategy in _MIRRORED)
    for key in ("checkpoint_every", "steps"):
        value = getattr(train, key)
        if value % train.steps_per_execution:
            raise ConfigError(
                f"Config key 'train.{key}' ({value}) must be a multiple of "
                f"train.steps_per_execution ({train.steps_per_execution})."
            )


def make_strategy(distribute_config):
    """Builds the `tf.distribute` strategy named by `distribute.strategy`.

    default: the default (one-device) strategy; mirrored: `MirroredStrategy` over
    `distribute.devices` (None: all GPUs, or the CPU); multi_worker:
    `MultiWorkerMirroredStrategy()` (cluster from TF_CONFIG); tpu:
    `TPUStrategy(TPUClusterResolver(distribute.tpu))` ("local" on a Cloud TPU VM).

    Devices "/cpu:1", "/cpu:2", ... in `distribute.devices` are made as logical CPUs when
    the machine has one CPU device (for testing several replicas without GPUs).
    """
    import tensorflow as tf

    name = distribute_config.strategy
    try:
        if name == "default":
            return tf.distribute.get_strategy()
        if name == "mirrored":
            devices = list(distribute_config.devices) if distribute_config.devices else None
            _make_logical_cpus(devices or [])
            return tf.distribute.MirroredStrategy(devices=devices)
        if name == "multi_worker":
            return tf.distribute.MultiWorkerMirroredStrategy()
        if name == "tpu":
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(distribute_config.tpu)
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            return tf.distribute.TPUStrategy(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        message = " ".join(str(e).split())[:300]
        raise RunError(
            f"Cannot create the {name!r} strategy (distribute.strategy): {message}"
        ) from None
    raise ConfigError(f"Unknown distribute.strategy {name!r}.")


def _make_logical_cpus(devices):
    """Splits the CPU into as many logical CPUs as `devices` names (["/cpu:0", "/cpu:1"]
    needs 2), if TensorFlow has not set up its devices yet."""
    import re

    import tensorflow as tf

    ids = [int(m.group(1)) for d in devices if (m := re.search(r"cpu:(\d+)$", d.lower()))]
    cpus = tf.config.list_physical_devices("CPU")
    if not ids or max(ids) == 0 or len(cpus) != 1:
        return
    if tf.config.get_logical_device_configuration(cpus[0]) is None:
        try:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration()] * (max(ids) + 1)
            )
        except RuntimeError:  # devices already set up: MirroredStrategy names what is missing
            pass


# -------------------------------------------------------------------------- input, models


def source_kwargs(config):
    """The data keys a family declares for its source: inpainting's `data.mask`."""
    return {"mask": config.data.mask} if "mask" in config.data else {}


def input_fn(config, real_side=False):
    """Returns a function building the training pipeline of `config` (repeated, seeded
    with train.seed, the GLOBAL batch size). `real_side`: the real images an evaluation
    compares samples with: the training data without the semi-supervised mix (whose
    labelled half repeats a few images)."""
    d = config.data
    semi = {} if real_side or d.labeled_per_class is None else {
        "labeled_per_class": d.labeled_per_class}

    def fn():
        return data_lib.build_dataset(
            d.name, d.batch_size, labels=d.labels, seed=config.train.seed, data_dir=d.data_dir,
            path=d.path, image_size=d.image_size, shuffle_buffer=d.shuffle_buffer, repeat=True,
            **source_kwargs(config), **semi, **subset_arguments(config),
        )

    return fn


def held_out_input_fn(config, batch_size=500):
    """The labelled held-out data of a semi-supervised run (data.labeled_per_class):
    Fashion-MNIST's test split, whole, in order; None for other runs."""
    d = config.data
    if d.labeled_per_class is None:
        return None

    def fn():
        return data_lib.build_dataset(
            d.name, batch_size, split="test", labels=True, data_dir=d.data_dir,
            image_size=d.image_size, shuffle=False, repeat=False)

    return fn


def subset_arguments(config):
    """{subset_size, subset_seed} of `build_dataset` for data.subset_size, or {}."""
    d = config.data
    if d.subset_size is None:
        return {}
    return {"subset_size": d.subset_size,
            "subset_seed": 0 if d.subset_seed is None else d.subset_seed}


def num_classes(config):
    """Number of classes of the dataset when data.labels is true, else None."""
    d = config.data
    if not d.labels:
        return None
    if d.name == "image_folder":
        return len(data_lib.list_image_folder(d.path, labels=True)[2])
    import tensorflow_datasets as tfds

    if d.name == "fashion_mnist":
        builder = data_lib.prepare_fashion_mnist(d.data_dir)
    else:
        builder = tfds.builder(d.name[len("tfds/") :], data_dir=d.data_dir)
    for feature in builder.info.features.values():
        if isinstance(feature, tfds.features.ClassLabel):
            return feature.num_classes
    raise data_lib.DataError(
        f"data.labels is true, but dataset {d.name!r} has no class labels: set data.labels: false."
    )


def make_estimator(config, model_dir, strategy, verbose="auto"):
    """The `tfgans.Estimator` of a resolved config (see `pipelines.config.resolve`): the
    preset's networks and trainer, each trained network's optimizer from the optimizer
    section, the trainer's declared settings, weights initialised from train.seed."""
    import keras

    import tfgans
    import tfgans.models

    preset = tfgans.models.get(config.model.name)
    trainer_cls = config_lib.trainer_class(config)
    arguments = config_lib.trainer_arguments(config)
    image_shape = points_run.sample_shape(config)  # (size, size, channels); points: (dim,)
    keras.utils.set_random_seed(config.train.seed)

    def trainer_fn():
        latent_dim = config.model.latent_dim if "latent_dim" in config.model else None
        networks = preset.networks(trainer_cls.TRAINED, image_shape, latent_dim,
                                   arguments.get("num_classes"), config.model.to_dict())
        optimizers = {name: make_optimizer(config.optimizer, name) for name in trainer_cls.TRAINED}
        return points_run.prepare_trainer(
            config, trainer_cls.create(networks, optimizers, **arguments))

    train = config.train
    return tfgans.Estimator(
        trainer_fn, model_dir, strategy, config=config.to_dict(), resumable_keys=RESUMABLE_KEYS,
        checkpoint_every=train.checkpoint_every, keep_checkpoints=train.keep_checkpoints,
        sample_every=train.sample_every, log_every=train.log_every,
        jit_compile=train.jit_compile, steps_per_execution=train.steps_per_execution,
        mixed_precision=train.mixed_precision, verbose=verbose,
        peer_timeout=config.distribute.peer_timeout,
        # The class histogram of samples under the shipped classifier, for Fashion-MNIST.
        health=train.health and (
            {"classifier": "fashion_mnist"} if config.data.name == "fashion_mnist" else {}),
    )


def make_optimizer(section, network):
    """The optimizer the optimizer section names for `network` (`optimizer.<network>`:
    adam, rmsprop or sgd, at `optimizer.<network>_lr`)."""
    import keras

    name, lr = getattr(section, network), getattr(section, f"{network}_lr")
    if name == "adam":
        return keras.optimizers.Adam(lr, beta_1=section.beta_1, beta_2=section.beta_2)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=section.momentum)
    return keras.optimizers.SGD(lr, momentum=section.momentum)


# ------------------------------------------------------------------------------ runs


def check_run_dir(model_dir):
    """Rejects a model_dir that is a file, or that holds checkpoints but no config.yaml
    (the estimator compares an existing config.yaml with the config)."""
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise RunError(f"model_dir {model_dir} is a file, not a folder: pick another --model-dir.")
    if not os.path.exists(os.path.join(model_dir, CONFIG_FILE)) and os.path.isdir(
        os.path.join(model_dir, "checkpoints")
    ):
        raise RunError(
            f"model_dir {model_dir} holds checkpoints but no {CONFIG_FILE}: pick another "
            "--model-dir."
        )


def train(config, model_dir, verbose="auto"):
    """Trains (or resumes) the run of `config` in `model_dir` up to train.steps.

    Everything is checked (config, run directory, strategy, data, models) before the
    resolved config, with effective values, is written to `model_dir/config.yaml`.

    Returns:
        The `tfgans.Estimator`.
    """
    check_train(config)
    check_run_dir(model_dir)
    strategy = make_strategy(config.distribute)
    fn = input_fn(config)
    spec = fn().element_spec
    images = spec[0] if isinstance(spec, tuple) else spec
    if data_lib.dataset_family(config.data.name) == "paired":
        images = spec[1]  # (source, target[, mask]): the run's images are the targets
    config_lib.check_image_size(config, images.shape[1], native=config.data.image_size is None)
    config = config_lib.resolve(config, images.shape[1:], num_classes(config))
    if config.eval.every and eval_extractor(config.eval.extractor, images.shape[1:]):
        _check_eval_samples(config.eval.num_samples, config, "eval.num_samples")
    estimator = make_estimator(config, model_dir, strategy, verbose=verbose)
    estimator.train(fn, max_steps=config.train.steps, max_seconds=config.train.max_seconds,
                    callbacks=eval_callbacks(config, model_dir, estimator))
    return estimator


def num_examples(config):
    """The number of training examples of `config`'s data (one pass), or None when the
    source does not say."""
    d = config.data
    dataset = data_lib.build_dataset(
        d.name, 1, labels=d.labels, seed=config.train.seed, data_dir=d.data_dir, path=d.path,
        image_size=d.image_size, shuffle_buffer=1, repeat=False, **source_kwargs(config),
        **subset_arguments(config),
    )
    count = int(dataset.cardinality())
    return count if count >= 0 else None


def _check_eval_samples(num_samples, config, what):
    """Rejects an evaluation of more samples than the data holds (its real side would
    repeat images) or than `MAX_EVAL_SAMPLES`."""
    if num_samples > MAX_EVAL_SAMPLES:
        raise RunError(
            f"{what} {num_samples} is more than {MAX_EVAL_SAMPLES} samples (a run of hours): "
            f"pass at most {MAX_EVAL_SAMPLES}; FID is usually measured on 50000."
        )
    count = num_examples(config)
    if count is not None and num_samples > count:
        raise RunError(
            f"{what} {num_samples} is more than the {count} images of the run's data "
            f"({config.data.path or config.data.name}): the real side would repeat images; "
            f"pass {count} or fewer."
        )


def load_run(model_dir, verbose=0):
    """Returns (config, estimator) of the trained run in `model_dir`, on the default strategy.

    Raises:
        RunError: model_dir holds no run, or no checkpoint.
    """
    hint = f"train one with `tfgans train CONFIG --model-dir {model_dir}`"
    if not os.path.isdir(model_dir):
        raise RunError(f"model_dir {model_dir} does not exist: {hint}.")
    if not os.path.exists(os.path.join(model_dir, CONFIG_FILE)):
        if os.path.isdir(os.path.join(model_dir, "checkpoints")):
            raise RunError(
                f"model_dir {model_dir} holds checkpoints but its {CONFIG_FILE} is missing: "
                f"restore {os.path.join(model_dir, CONFIG_FILE)} (the run's resolved config, "
                "e.g. from a backup or a copy of the run)."
            )
        raise RunError(f"model_dir {model_dir} holds no run (no {CONFIG_FILE}): {hint}.")
    config = load_config(os.path.join(model_dir, CONFIG_FILE))
    if config.data.image_size is None or config.data.channels is None:
        raise RunError(
            f"model_dir {model_dir} holds a {CONFIG_FILE} without the effective image size "
            f"(data.image_size, data.channels): it was not written by `tfgans train`; {hint}."
        )
    import tensorflow as tf

    estimator = make_estimator(config, model_dir, tf.distribute.get_strategy(), verbose=verbose)
    if estimator.latest_checkpoint() is None:
        raise RunError(f"model_dir {model_dir} holds no checkpoint yet: {hint}.")
    return config, estimator


def parse_codes(text):
    """InfoGAN codes from the command line: comma-separated values, one per code (the
    categorical codes' ids, then the continuous values), `*` for "drawn from the prior",
    e.g. "3,*,0.5". Returns a list of floats (NaN for `*`)."""
    values = []
    for item in str(text).split(","):
        item = item.strip()
        if item == "*":
            values.append(float("nan"))
            continue
        try:
            value = float(item)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value):
            raise RunError(
                "--codes takes comma-separated numbers, one per code (categorical ids, then "
                f"continuous values), or * for a code drawn per image, e.g. 3,*,0.5. "
                f"Received: --codes {text}")
        values.append(value)
    return values


def _check_codes(model_dir, codes, num_samples):
    """InfoGAN codes for `generate`, checked against the run's config.yaml before the run is
    loaded: float32 [num_samples, num_codes], NaN for drawn."""
    from tfgans.training.infogan import check_codes

    if isinstance(codes, str):
        codes = parse_codes(codes)
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        return codes  # load_run says what is missing
    model = load_config(path).model
    if "categorical_codes" not in model:
        raise RunError(f"--codes given, but the run in {model_dir} is not an InfoGAN run.")
    try:
        return check_codes(codes, num_samples, model.categorical_codes, model.categories,
                           model.continuous_codes)
    except ValueError as e:
        raise RunError(f"--codes: {e}") from None


def generate(model_dir, num_samples, out, seed=0, labels=None, truncation=None, codes=None,
             text=None):
    """Writes a PNG grid of `num_samples` images of the run in `model_dir` to `out`.

    Args:
        labels: None (conditional runs cycle through the classes, one class per column),
            one class id for every sample, or one id per sample.
        truncation: None, or a threshold > 0: noise truncated to [-t, t] (the truncation
            trick, `GAN.generate(..., truncation=t)`).
        codes: InfoGAN runs: None (drawn), or a string for `parse_codes` ("3,*,0.5") or
            a sequence of one value per code (NaN: drawn), used for every image.
        text: for a text -> image run, None (its sample texts in turn), one description
            for every sample, or one per sample.

    Returns:
        `out`.
    """
    from tfgans.callbacks import image_grid, write_png

    from tfgans.files import check_writable

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
        raise RunError(f"The number of samples must be positive. Received: {num_samples!r}")
    if num_samples > MAX_GENERATE:
        raise RunError(
            f"A PNG grid holds at most {MAX_GENERATE} images. Received: {num_samples}: write "
            "several grids (different --seed), or serve the export's generate signature."
        )
    if not isinstance(seed, int) or not -(2**63) <= seed < 2**63:
        raise RunError(f"The seed must be a 64-bit integer. Received: {seed!r}")
    if not str(out).lower().endswith(".png"):
        raise RunError(f"The output must be a .png file. Received: {out}")
    if os.path.isdir(out):
        raise RunError(f"The output {out} is a folder: name a .png file.")
    if truncation is not None and not (math.isfinite(truncation) and truncation > 0):
        raise RunError(f"--truncation must be a number > 0. Received: --truncation {truncation}")
    extra = {} if truncation is None else {"truncation": float(truncation)}
    if codes is not None:
        extra["codes"] = _check_codes(model_dir, codes, num_samples)
    config, estimator = load_run(model_dir)
    check_writable(os.path.dirname(os.path.abspath(out)), "output folder")
    if points_run.is_points(config):  # 2-D points: a scatter plot, not a grid
        if labels is not None or truncation is not None:
            raise RunError("--labels and --truncation do not apply to a 2-D points run.")
        return points_run.write_scatter(estimator, num_samples, seed, out)
    # The classes the generator is conditioned on (a semi-supervised run's data.num_classes
    # are its classifier's: its generator is unconditional).
    classes = getattr(estimator.trainer, "num_classes", None)
    if labels is not None:
        labels = [int(x) for x in labels]
        if classes is None:
            raise RunError(f"--labels given, but the run in {model_dir} is not conditional.")
        if len(labels) == 1:
            labels = labels * num_samples
        if len(labels) != num_samples:
            raise RunError(
                f"Give one label, or one per sample ({num_samples}). Received {len(labels)} labels."
            )
        bad = [x for x in labels if not 0 <= x < classes]
        if bad:
            raise RunError(f"Labels must be class ids in [0, {classes - 1}]. Received: {bad[0]}")
    if config_lib.trainer_class(config).family == "text_to_image":
        if labels is not None or truncation is not None or codes is not None:
            raise RunError(f"The run in {model_dir} generates from text: use --text, not "
                           "--labels, --truncation or --codes.")
        extra = {"text": _texts(text, num_samples)}
    elif text is not None:
        raise RunError(f"--text given, but the run in {model_dir} is not text -> image.")
    images = estimator.predict(num_samples=num_samples, seed=seed, labels=labels, **extra)
    columns = math.ceil(math.sqrt(num_samples))
    if classes is not None and labels is None and num_samples >= classes:
        columns = classes  # labels cycle 0..C-1: one class per column
    return write_png(out, image_grid(images, columns=columns))


def interpolate(model_dir, rows, out, steps=8, seed=0, labels=None):
    """Writes `rows` latent walks of `steps` images each (`tfgans.latent.interpolation_grid`)
    of the run in `model_dir` to `out`: a PNG grid, one walk per row, or a .gif whose frame
    t shows every walk's image t (forth and back, so it loops smoothly). Returns `out`."""
    import io

    from tfgans import latent
    from tfgans.callbacks import image_grid, write_png
    from tfgans.files import atomic_write, check_writable

    for name, value, low in (("--interpolate", rows, 1), ("--steps", steps, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise RunError(f"{name} must be an integer >= {low}. Received: {name} {value!r}")
    if rows * steps > MAX_GENERATE:
        raise RunError(f"A walk grid holds at most {MAX_GENERATE} images. Received: "
                       f"--interpolate {rows} x --steps {steps}.")
    kind = os.path.splitext(str(out))[1].lower()
    if kind not in (".png", ".gif"):
        raise RunError(f"The output must be a .png or .gif file. Received: {out}")
    if os.path.isdir(out):
        raise RunError(f"The output {out} is a folder: name a .png or .gif file.")
    config, estimator = load_run(model_dir)
    trainer = estimator.trainer
    if not hasattr(trainer, "generate_from_noise"):
        raise RunError(f"The run in {model_dir} does not map noise to images: latent walks "
                       "need a noise -> image run.")
    check_writable(os.path.dirname(os.path.abspath(out)), "output folder")
    classes = getattr(trainer, "num_classes", None)
    if labels is not None:
        if classes is None:
            raise RunError(f"--labels given, but the run in {model_dir} is not conditional.")
        if len(labels) not in (1, rows) or any(not 0 <= x < classes for x in labels):
            raise RunError(f"Give one class id in [0, {classes - 1}], or one per walk "
                           f"({rows}). Received: {list(labels)}")
    images, columns = latent.interpolation_grid(trainer, rows, steps, seed, labels=labels)
    if kind == ".png":
        return write_png(out, image_grid(images, columns=columns))
    from PIL import Image

    walks = images.reshape((rows, steps) + images.shape[1:])
    frames = []
    for t in list(range(steps)) + list(range(steps - 2, 0, -1)):
        grid = image_grid(walks[:, t], columns=math.ceil(math.sqrt(rows)))
        frames.append(Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=120, loop=0)
    atomic_write(out, buffer.getvalue())
    return out


def _texts(text, num_samples):
    """--text: None, one description for all samples, or one per sample."""
    if text is None:
        return None
    texts = [text] if isinstance(text, str) else list(text)
    if len(texts) == 1:
        texts = texts * num_samples
    if len(texts) != num_samples or not all(isinstance(t, str) and t.strip() for t in texts):
        raise RunError(
            f"Give one description, or one per sample ({num_samples}), none empty. Received "
            f"{len(texts)} descriptions.")
    return texts


def export(model_dir, export_dir, version=None, overwrite=False):
    """Exports the (EMA) generator of the run in `model_dir` for TF Serving.

    Writes `export_dir/<version>/` (None: the next free version) atomically; an existing
    version is an error unless `overwrite`. Returns the version directory.
    """
    from tfgans.export import MAX_VERSION

    if version is not None and not 0 <= version <= MAX_VERSION:
        raise RunError(
            f"--version must be an integer in [0, {MAX_VERSION}] (TF Serving reads versions "
            f"as int64). Received: --version {version}"
        )
    _, estimator = load_run(model_dir)
    try:
        return estimator.export_saved_model(export_dir, version=version, overwrite=overwrite)
    except FileExistsError as e:  # tfgans.export.ExportExistsError
        raise RunError(
            f"Version {version} already exists in {export_dir}: pass --overwrite to replace "
            "it, or leave out --version for the next free one."
        ) from e


# -------------------------------------------------------------------------- evaluation

#: The run's metric history: a JSON list of records (step, source, time, num_samples,
#: extractor, seconds, metrics), source "train" from the periodic evaluation and
#: "evaluate" from `tfgans evaluate`.
EVAL_FILE = "eval.json"


def eval_extractor(name, image_shape):
    """The feature extractor to use for `eval.extractor` = `name` (None: none)."""
    if name == "auto":
        return "fashion_mnist" if tuple(image_shape) == (28, 28, 1) else None
    return None if name == "none" else name


def eval_callbacks(config, model_dir, estimator):
    """[`PeriodicEvaluation`] of the eval section (on the chief only), or []."""
    e = config.eval
    extractor = eval_extractor(e.extractor, estimator.trainer.image_shape)
    if e.every and estimator.trainer.family == "unpaired_image_to_image" and getattr(
            estimator, "is_chief", True):
        from pipelines import translate  # held-out a, b: accuracy, cycle, FID, identity
        from tfgans.callbacks import PeriodicCycleEvaluation

        return [PeriodicCycleEvaluation(
            translate.held_out_input_fn(config), classes=translate.domain_classes(config),
            every=e.every, num_samples=e.num_samples, extractor=extractor,
            log_dir=os.path.join(model_dir, "logs", "eval"),
            history_path=os.path.join(model_dir, EVAL_FILE), seed=config.train.seed,
            verbose=estimator.verbose != 0)]
    if e.every and estimator.trainer.family == "image_to_image" and getattr(
            estimator, "is_chief", True):
        from pipelines import translate  # held-out pairs: PSNR, SSIM, L1 (+ FID), baseline
        from tfgans.callbacks import PeriodicTranslationEvaluation

        return [PeriodicTranslationEvaluation(
            translate.held_out_input_fn(config), every=e.every, num_samples=e.num_samples,
            extractor=extractor, log_dir=os.path.join(model_dir, "logs", "eval"),
            history_path=os.path.join(model_dir, EVAL_FILE), seed=config.train.seed,
            verbose=estimator.verbose != 0)]
    if not e.every or extractor is None or not getattr(estimator, "is_chief", True):
        return []
    from tfgans.callbacks import PeriodicEvaluation

    return [
        PeriodicEvaluation(
            input_fn(config, real_side=True), every=e.every, num_samples=e.num_samples, extractor=extractor,
            log_dir=os.path.join(model_dir, "logs", "eval"),
            history_path=os.path.join(model_dir, EVAL_FILE), seed=config.train.seed,
            verbose=estimator.verbose != 0, kid_subset_size=e.kid_subset_size,
            # KID costs 0.1-0.2 s per subset of 1000: 10 subsets while training (100 in
            # `tfgans evaluate`), 1 when there is only one subset to draw.
            kid_num_subsets=1 if e.num_samples == e.kid_subset_size else 10,
        )
    ]


def evaluate(model_dir, num_samples=10_000, seed=0, extractor=None, progress=True):
    """Evaluates the (EMA) generator of the run in `model_dir` against its training data.

    `num_samples` generated images (noise seed `seed`) against `num_samples` images of the
    run's training input, on the features of `extractor` (None: the run's eval.extractor).
    Appends a record (source "evaluate") to `model_dir/eval.json`, atomically.

    Returns:
        (metrics dict, path of eval.json).

    Raises:
        RunError: no run in model_dir, no extractor for its images, or fewer samples than
            KID's subset size (eval.kid_subset_size).
    """
    import time

    from tfgans.callbacks import append_history, metrics_record

    from tfgans.files import check_writable

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 2:
        raise RunError(f"--num-samples must be at least 2. Received: --num-samples {num_samples}")
    if not isinstance(seed, int) or not -(2**63) <= seed < 2**63:
        raise RunError(f"The seed must be a 64-bit integer. Received: {seed!r}")
    if _is_image_to_image_run(model_dir):
        from pipelines import translate

        return translate.evaluate(model_dir, num_samples, extractor=extractor, progress=progress)
    config, estimator = load_run(model_dir)
    check_writable(model_dir, "model_dir")  # eval.json: before an evaluation of hours
    if points_run.is_points(config):  # 2-D points: mode coverage, no feature extractor
        start = time.perf_counter()
        metrics = points_run.evaluate(config, estimator, num_samples, seed)
        path = os.path.join(model_dir, EVAL_FILE)
        append_history(path, metrics_record(
            estimator.step, "evaluate", metrics, num_samples=num_samples, seed=seed,
            extractor="modes", seconds=round(time.perf_counter() - start, 2)))
        return {"step": estimator.step, **metrics}, path
    shape = estimator.trainer.image_shape
    name = eval_extractor(extractor or config.eval.extractor, shape)
    if name is None:
        raise RunError(
            f"No feature extractor for the {'x'.join(map(str, shape))} images of {model_dir} "
            "(the Fashion-MNIST classifier takes 28x28x1): pass --extractor inception (it "
            "needs the ImageNet weights) or fashion_mnist for 28x28x1 images."
        )
    subset = config.eval.kid_subset_size
    if num_samples < subset:
        raise RunError(
            f"--num-samples {num_samples} is too few for KID's subset size {subset} "
            f"(eval.kid_subset_size of the run): pass --num-samples {subset} or more."
        )
    from tfgans.metrics import get_extractor

    # The cheap checks first: images the extractor takes, then enough real images.
    get_extractor(name).check_images(np.zeros([1, *shape], np.float32))
    _check_eval_samples(num_samples, config, "--num-samples")
    start = time.perf_counter()
    metrics = estimator.evaluate(
        input_fn(config, real_side=True), num_samples=num_samples, seed=seed, extractor=name,
        kid_subset_size=subset, progress=progress, held_out=held_out_input_fn(config),
    )
    step = metrics.pop("step")
    path = os.path.join(model_dir, EVAL_FILE)
    append_history(path, metrics_record(
        step, "evaluate", metrics, num_samples=num_samples, seed=seed, extractor=name,
        seconds=round(time.perf_counter() - start, 2),
    ))
    return {"step": step, **metrics}, path


def _is_image_to_image_run(model_dir):
    """Whether model_dir's config.yaml (if readable) names image -> image data, paired or
    unpaired."""
    try:
        config = load_config(os.path.join(model_dir, CONFIG_FILE))
    except ValueError:
        return False  # load_run reports what is wrong
    return data_lib.dataset_family(config.data.name) in ("paired", "unpaired")


def summary(config, model_dir, estimator):
    """The closing note of a training run: where its outputs are."""
    if estimator.stopped_by_time:
        where = (f"Run {model_dir} stopped at step {estimator.step} of {config.train.steps}: "
                 f"the time limit, train.max_seconds={config.train.max_seconds:g}, was reached "
                 "(checkpoint saved). Run the same command to resume for as long again.")
    else:
        where = f"Run {model_dir} is at step {estimator.step} of {config.train.steps}."
    return "\n".join(
        [
            where,
            f"  samples:     {os.path.join(model_dir, 'samples', 'latest.png')} "
            f"(a grid every {config.train.sample_every} steps)",
            f"  logs:        tensorboard --logdir {os.path.join(model_dir, 'logs')}",
            f"  checkpoints: {os.path.join(model_dir, 'checkpoints')}",
            f"  config:      {os.path.join(model_dir, CONFIG_FILE)}",
            f"  translate:   tfgans translate {model_dir} IN.png --out OUT.png"
            + (" [--direction b_to_a]" if data_lib.dataset_family(config.data.name)
               == "unpaired" else "")
            if data_lib.dataset_family(config.data.name) in ("paired", "unpaired") else
            f"  generate:    tfgans generate {model_dir} --num 64 --out samples.png",
        ]
    )
