"""SavedModel export of a generator, in the layout and with the signatures TF Serving serves.

`export_generator(gan, "saved_models/x")` writes `saved_models/x/<version>/` (`saved_model.pb`,
`variables/`, `assets.extra/tf_serving_warmup_requests`) with three signatures:

- `serving_default`: `noise` float32 [None, latent_dim] (+ `labels` int32 [None] when
  conditional) -> `images` float32 [None, H, W, C] in [0, 1].
- `generate`: `num_samples` int32 scalar (unconditional) or `labels` int32 [None]
  (conditional), and `seed` int64 scalar -> `images` as above and `png_bytes` string [None],
  one PNG per image. The same seed gives the same images as `GAN.generate(n, seed, labels)`
  (mapped to [0, 1]): image i depends only on (seed, i) and its label.
- `generate_truncated`: the inputs of `generate` plus `truncation` float32 scalar > 0 ->
  the same outputs, from noise truncated to [-truncation, truncation] (BigGAN's truncation
  trick), equal to `GAN.generate(n, seed, labels, truncation=truncation)`.

The graph holds only TensorFlow ops (the noise is Philox bits and Box-Muller, see
`tfgans.training.noise`), so `tf.saved_model.load` in a process that imports nothing but
TensorFlow calls it, as TF Serving does. A version directory appears whole or not at all:
it is written to a hidden temporary directory beside it and renamed into place.
"""

import importlib.util
import logging
import numbers
import os
import re
import shutil
import tempfile

import keras
import tensorflow as tf

from tfgans import files
from tfgans.export_inpainting import inpainting_archive
from tfgans.export_text import text_to_image_archive
from tfgans.training import ExportSpec, Trainer, sample_noise

logger = logging.getLogger(__name__)

#: Where TF Serving looks for warm-up requests, relative to the version directory.
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")

_VERSION_RE = re.compile(r"^\d+$")
#: The largest version TF Serving reads (it parses version directory names as int64).
MAX_VERSION = 2**63 - 1
_TMP_PREFIX = ".tmp-export-"
_OLD_PREFIX = ".old-export-"

# Indirection so that tests can simulate a crash at the rename.
_rename = os.rename


class ExportExistsError(FileExistsError, ValueError):
    """The version directory exists and `overwrite` is False."""


def export_generator(
    gan,
    export_dir,
    version=None,
    overwrite=False,
    *,
    latent_dim=None,
    num_classes=None,
    max_num_samples=1024,
    warmup=True,
    model_name=None,
):
    """Exports a generator as a versioned SavedModel for TF Serving.

    Args:
        gan: a `tfgans.GAN` (its `inference_generator` is exported: the EMA copy when EMA is
            on), or a bare generator `keras.Model` (then pass `latent_dim`, and
            `num_classes` when it is conditional).
        export_dir: the model's base directory (TF Serving's `--model_base_path`); created
            if missing.
        version: the version directory name, an integer >= 0; None takes the next free one
            (one more than the highest existing version, 1 for an empty directory).
        overwrite: replace an existing version directory. Without it an existing version is
            an error and nothing is written.
        latent_dim: the noise size, for a bare generator (checked against a GAN's).
        num_classes: the number of classes of a conditional bare generator, else None.
        max_num_samples: the largest batch the `generate` signature accepts (its request
            is a few bytes; its response is not).
        warmup: write `assets.extra/tf_serving_warmup_requests` (one request per signature)
            when `tensorflow-serving-api` is installed; skipped, with a log line, otherwise.
        model_name: the model name in the warm-up requests (TF Serving ignores it); default
            the base name of `export_dir`.

    Returns:
        The version directory, `export_dir/<version>`.

    Raises:
        ValueError: for a bad argument, naming it. `ExportExistsError` (a `ValueError` and
            a `FileExistsError`) when the version exists and `overwrite` is False.

    Example:
    ```python
    path = tfgans.export.export_generator(gan, "saved_models/fmnist")   # .../1
    served = tf.saved_model.load(path)
    out = served.signatures["generate"](num_samples=tf.constant(4),
                                        seed=tf.constant(0, tf.int64))
    out["images"].shape, out["png_bytes"].shape     # (4, 28, 28, 1), (4,)
    ```
    """
    if isinstance(gan, Trainer):
        options = gan.export_spec().options
        for name, given in (("latent_dim", latent_dim), ("num_classes", num_classes)):
            if given is not None and given != options.get(name):
                raise ValueError(
                    f"`{name}` differs from the GAN's ({options.get(name)}); leave it out when "
                    f"exporting a GAN. Received: {name}={given!r}"
                )
        return export_trainer(gan, export_dir, version, overwrite,
                              max_num_samples=max_num_samples, warmup=warmup,
                              model_name=model_name)
    generator, latent_dim, num_classes = _resolve_model(gan, latent_dim, num_classes)
    spec = ExportSpec("noise_to_image", generator,
                      {"latent_dim": latent_dim, "num_classes": num_classes})
    return _export(spec, export_dir, version, overwrite, max_num_samples, warmup, model_name)


def export_trainer(trainer, export_dir, version=None, overwrite=False, *, max_num_samples=1024,
                   warmup=True, model_name=None):
    """Exports what a trainer serves (its `export_spec()`: the EMA copy when EMA is on) as a
    versioned SavedModel for TF Serving, with the signatures of its family (DESIGN.md):

    - noise -> image: `serving_default` (`noise` [+ `labels`] -> `images` in [0, 1]) and
      `generate` (`num_samples` or `labels`, `seed` -> `images`, `png_bytes`);
    - image -> image: `serving_default` (`images` in [0, 1] -> `images` in [0, 1]) and
      `translate` (`png_bytes` string [N] -> `png_bytes`); CycleGAN adds the B -> A
      direction as `serving_default_b_to_a` and `translate_b_to_a`;
    - 2-D points: `serving_default` (`noise` -> `points`);
    - inpainting: `serving_default` (`images` + `masks` -> `images`), `translate` (PNGs,
      the centre mask) and `translate_masked` (+ `mask_png_bytes`): `tfgans.export_inpainting`;
    - semi-supervised: the noise -> image signatures and `classify` (`images` in [0, 1] ->
      `class_logits`, `classes`).

    Args and returns: as `export_generator`; `max_num_samples` bounds `generate`.
    """
    if not isinstance(trainer, Trainer):
        raise ValueError(
            f"`trainer` must be a tfgans.training.Trainer. Received: {type(trainer).__name__}"
        )
    spec = trainer.export_spec()
    if spec.kind not in _BUILDERS:
        raise ValueError(
            f"Unknown export kind {spec.kind!r} of {type(trainer).__name__}. Known kinds: "
            f"{', '.join(sorted(_BUILDERS))}."
        )
    return _export(spec, export_dir, version, overwrite, max_num_samples, warmup, model_name)


def _export(spec, export_dir, version, overwrite, max_num_samples, warmup, model_name):
    """Checks the arguments, builds the signatures of `spec` and writes the version
    directory atomically."""
    if not isinstance(export_dir, (str, os.PathLike)) or not os.fspath(export_dir):
        raise ValueError(
            f"`export_dir` must be a non-empty path. Received: export_dir={export_dir!r}"
        )
    export_dir = os.path.abspath(os.fspath(export_dir))
    if os.path.exists(export_dir) and not os.path.isdir(export_dir):
        raise ValueError(
            f"`export_dir` must be a directory, and {export_dir} is a file. "
            f"Received: export_dir={export_dir!r}"
        )
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, numbers.Integral) or version < 0
        or version > MAX_VERSION
    ):
        raise ValueError(
            f"`version` must be an integer in [0, {MAX_VERSION}] (TF Serving reads versions as "
            f"int64) or None (next free). Received: version={version!r}"
        )
    if not isinstance(overwrite, bool):
        raise ValueError(f"`overwrite` must be True or False. Received: overwrite={overwrite!r}")
    if isinstance(max_num_samples, bool) or not isinstance(max_num_samples, numbers.Integral) or (
        max_num_samples < 1
    ):
        raise ValueError(
            "`max_num_samples` must be a positive integer. "
            f"Received: max_num_samples={max_num_samples!r}"
        )
    if version is not None:
        _check_free(export_dir, int(version), overwrite)

    archive, examples = _BUILDERS[spec.kind](spec.model, max_num_samples=max_num_samples,
                                             **spec.options)
    created = not os.path.isdir(export_dir)
    files.check_writable(export_dir, "export directory")
    tmp = tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=export_dir)
    try:
        # mkdtemp makes an owner-only folder: give the version directory the umask's mode,
        # so that a TF Serving process running as another user can read it.
        os.chmod(tmp, files.default_mode(folder=True))
        archive.write_out(tmp, verbose=False)
        if warmup:
            _write_warmup(tmp, model_name or os.path.basename(export_dir), examples)
        version = None if version is None else int(version)
        files.fault_point("export", tmp)
        return _move_into_place(tmp, export_dir, version, overwrite)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if created and not os.listdir(export_dir):
            os.rmdir(export_dir)
        if isinstance(e, (files.WriteError, FileExistsError)):
            raise
        raise files.write_error(export_dir, e, "export into") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created and not os.listdir(export_dir):
            os.rmdir(export_dir)
        raise


def existing_versions(export_dir):
    """The integer version directories under `export_dir`, sorted (TF Serving's view)."""
    if not os.path.isdir(export_dir):
        return []
    return sorted(
        int(name) for name in os.listdir(export_dir)
        if _VERSION_RE.match(name) and int(name) <= MAX_VERSION
    )


# ------------------------------------------------------------------------------ the model


def _resolve_model(gan, latent_dim, num_classes):
    """Returns (generator, latent_dim, num_classes) of a bare generator."""
    if not isinstance(gan, keras.Model):
        raise ValueError(
            "`gan` must be a tfgans.GAN or a generator keras.Model. "
            f"Received: gan={type(gan).__name__}"
        )
    latent_dim = latent_dim if latent_dim is not None else getattr(gan, "latent_dim", None)
    if num_classes is None:
        num_classes = getattr(gan, "num_classes", None)
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, numbers.Integral) or (
        latent_dim < 1
    ):
        raise ValueError(
            "Exporting a bare generator needs `latent_dim`, a positive integer. "
            f"Received: latent_dim={latent_dim!r}"
        )
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral)
        or num_classes < 2
    ):
        raise ValueError(
            f"`num_classes` must be None or an integer >= 2. Received: num_classes={num_classes!r}"
        )
    return gan, int(latent_dim), None if num_classes is None else int(num_classes)


def _noise_to_image_archive(generator, latent_dim, num_classes, max_num_samples):
    """Returns (`keras.export.ExportArchive` with its endpoints traced, warm-up inputs)."""
    conditional = num_classes is not None

    def images_from(noise, labels):
        noise = tf.debugging.assert_all_finite(
            noise, "`noise` must be finite (no NaN or Inf): the images would be NaN"
        )
        inputs = [noise, labels] if conditional else noise
        images = tf.cast(generator(inputs, training=False), tf.float32)
        images = tf.debugging.assert_all_finite(
            images, "the generator returned NaN or Inf for this `noise` (too large?)"
        )
        return tf.clip_by_value((images + 1.0) * 0.5, 0.0, 1.0)

    def check_labels(labels):
        return [
            tf.debugging.assert_non_negative(
                labels, message="`labels` must be class ids >= 0"
            ),
            tf.debugging.assert_less(
                labels,
                tf.constant(num_classes, tf.int32),
                message=f"`labels` must be class ids < num_classes={num_classes}",
            ),
        ]

    def generate_from(num_samples, labels, seed, truncation=None):
        checks = [
            tf.debugging.assert_non_negative(
                num_samples, message="`num_samples` must be >= 0"
            ),
            tf.debugging.assert_less_equal(
                num_samples,
                tf.constant(max_num_samples, tf.int32),
                message=f"`num_samples` must be <= max_num_samples={max_num_samples}",
            ),
        ]
        if truncation is not None:
            checks.append(tf.debugging.assert_positive(
                truncation, message="`truncation` must be > 0"))
        with tf.control_dependencies(checks):
            noise = sample_noise(num_samples, latent_dim, seed, truncation)
        images = images_from(noise, labels)
        pixels = tf.cast(tf.round(images * 255.0), tf.uint8)
        png = tf.map_fn(
            tf.io.encode_png, pixels, fn_output_signature=tf.TensorSpec([], tf.string)
        )
        return {"images": images, "png_bytes": png}

    noise_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="noise")
    labels_spec = tf.TensorSpec([None], tf.int32, name="labels")
    num_spec = tf.TensorSpec([], tf.int32, name="num_samples")
    seed_spec = tf.TensorSpec([], tf.int64, name="seed")
    archive = keras.export.ExportArchive()
    archive.track(generator)
    if conditional:

        def serve(noise, labels):
            with tf.control_dependencies(check_labels(labels)):
                return {"images": images_from(noise, labels)}

        def generate(labels, seed):
            with tf.control_dependencies(check_labels(labels)):
                return generate_from(tf.shape(labels)[0], labels, seed)

        def generate_truncated(labels, seed, truncation):
            with tf.control_dependencies(check_labels(labels)):
                return generate_from(tf.shape(labels)[0], labels, seed, truncation)

        serve_specs, generate_specs = [noise_spec, labels_spec], [labels_spec, seed_spec]
    else:

        def serve(noise):
            return {"images": images_from(noise, None)}

        def generate(num_samples, seed):
            return generate_from(num_samples, None, seed)

        def generate_truncated(num_samples, seed, truncation):
            return generate_from(num_samples, None, seed, truncation)

        serve_specs, generate_specs = [noise_spec], [num_spec, seed_spec]
    serve_fn = archive.add_endpoint("serving_default", serve, serve_specs)
    shape = serve_fn.get_concrete_function().structured_outputs["images"].shape
    if shape.rank != 4 or shape[-1] not in (1, 2, 3, 4):
        raise ValueError(
            "The generator must return images [batch, height, width, channels] with 1 to 4 "
            f"channels (PNG). Received outputs of shape {shape}."
        )
    archive.add_endpoint("generate", generate, generate_specs)
    truncation_spec = tf.TensorSpec([], tf.float32, name="truncation")
    archive.add_endpoint("generate_truncated", generate_truncated,
                         generate_specs + [truncation_spec])
    return archive, _noise_to_image_examples(latent_dim, num_classes)


def _noise_to_image_examples(latent_dim, num_classes):
    """One example request per signature (batch 1), for the warm-up file."""
    serve = {"noise": tf.zeros([1, latent_dim], tf.float32)}
    if num_classes is None:
        generate = {"num_samples": tf.constant(1, tf.int32)}
    else:
        serve["labels"] = tf.zeros([1], tf.int32)
        generate = {"labels": tf.zeros([1], tf.int32)}
    generate["seed"] = tf.constant(0, tf.int64)
    truncated = {**generate, "truncation": tf.constant(0.5, tf.float32)}
    return {"serving_default": serve, "generate": generate, "generate_truncated": truncated}


def _image_to_image_archive(model, image_shape, max_num_samples, reverse_model=None):
    """Signatures of an image -> image model (inputs and outputs in [-1, 1] inside):
    `serving_default`: `images` float32 [None, H, W, C] in [0, 1] -> `images` in [0, 1];
    `translate`: `png_bytes` string [None] (PNGs of H x W x C) -> `png_bytes`.
    With `reverse_model` (CycleGAN's B -> A generator), the same two for it:
    `serving_default_b_to_a` and `translate_b_to_a`."""
    archive = keras.export.ExportArchive()
    examples = {}
    for suffix, served in (("", model), ("_b_to_a", reverse_model)):
        if served is not None:
            archive.track(served)
            examples.update(_add_translation_endpoints(
                archive, served, image_shape, max_num_samples, suffix))
    return archive, examples


def _add_translation_endpoints(archive, model, image_shape, max_num_samples, suffix=""):
    """Adds `serving_default<suffix>` and `translate<suffix>` for `model` to `archive`;
    returns their warm-up inputs."""
    height, width, channels = (int(s) for s in image_shape)

    def translate_images(images):
        images = tf.debugging.assert_all_finite(
            tf.cast(images, tf.float32), "`images` must be finite (no NaN or Inf), in [0, 1]"
        )
        out = tf.cast(model(images * 2.0 - 1.0, training=False), tf.float32)
        return tf.clip_by_value((out + 1.0) * 0.5, 0.0, 1.0)

    def serve(images):
        return {"images": translate_images(images)}

    def translate(png_bytes):
        with tf.control_dependencies([tf.debugging.assert_less_equal(
                tf.size(png_bytes), max_num_samples,
                message=f"at most max_num_samples={max_num_samples} images per request")]):
            decoded = tf.map_fn(
                lambda b: tf.io.decode_png(b, channels=channels), png_bytes,
                fn_output_signature=tf.TensorSpec([None, None, channels], tf.uint8),
            )
        decoded = tf.ensure_shape(decoded, [None, height, width, channels])
        out = translate_images(tf.cast(decoded, tf.float32) / 255.0)
        pixels = tf.cast(tf.round(out * 255.0), tf.uint8)
        return {"png_bytes": tf.map_fn(
            tf.io.encode_png, pixels, fn_output_signature=tf.TensorSpec([], tf.string))}

    archive.add_endpoint(
        f"serving_default{suffix}", serve,
        [tf.TensorSpec([None, height, width, channels], tf.float32, name="images")],
    )
    archive.add_endpoint(f"translate{suffix}", translate,
                         [tf.TensorSpec([None], tf.string, name="png_bytes")])
    blank = tf.io.encode_png(tf.zeros([height, width, channels], tf.uint8))
    return {
        f"serving_default{suffix}": {"images": tf.zeros([1, height, width, channels], tf.float32)},
        f"translate{suffix}": {"png_bytes": tf.reshape(blank, [1])},
    }


def _infogan_archive(model, **options):
    """InfoGAN's signatures (`noise` + `codes`; see `tfgans.export_infogan`)."""
    from tfgans.export_infogan import infogan_archive

    return infogan_archive(model, **options)


def _noise_to_points_archive(generator, latent_dim, dim, max_num_samples):
    """The 2-D points family's one signature (DESIGN.md: no PNG output):
    `serving_default`: `noise` float32 [None, latent_dim] -> `points` float32 [None, dim]."""

    def serve(noise):
        noise = tf.debugging.assert_all_finite(
            noise, "`noise` must be finite (no NaN or Inf): the points would be NaN")
        return {"points": tf.cast(generator(noise, training=False), tf.float32)}

    archive = keras.export.ExportArchive()
    archive.track(generator)
    serve_fn = archive.add_endpoint(
        "serving_default", serve, [tf.TensorSpec([None, latent_dim], tf.float32, name="noise")])
    shape = serve_fn.get_concrete_function().structured_outputs["points"].shape
    if shape.rank != 2 or shape[-1] != dim:
        raise ValueError(f"The generator must return points [batch, {dim}]. Received {shape}.")
    return archive, {"serving_default": {"noise": tf.zeros([1, latent_dim], tf.float32)}}


def _semi_supervised_archive(generator, latent_dim, classifier, num_classes, image_shape,
                             max_num_samples):
    """The semi-supervised GAN's signatures: the noise -> image ones of its generator, and
    `classify`: `images` float32 [None, H, W, C] in [0, 1] (the served images' range) ->
    `class_logits` float32 [None, K] and `classes` int32 [None], the arg-max."""
    archive, examples = _noise_to_image_archive(generator, latent_dim, None, max_num_samples)
    height, width, channels = (int(s) for s in image_shape)

    def classify(images):
        images = tf.debugging.assert_all_finite(
            tf.cast(images, tf.float32), "`images` must be finite (no NaN or Inf), in [0, 1]")
        logits = tf.cast(classifier(images * 2.0 - 1.0, training=False), tf.float32)
        return {"class_logits": logits, "classes": tf.argmax(logits, -1, output_type=tf.int32)}

    archive.track(classifier)
    fn = archive.add_endpoint("classify", classify, [
        tf.TensorSpec([None, height, width, channels], tf.float32, name="images")])
    shape = fn.get_concrete_function().structured_outputs["class_logits"].shape
    if shape.rank != 2 or shape[-1] != num_classes:
        raise ValueError(
            f"The classifier must return class logits [batch, {num_classes}]. Received {shape}.")
    examples["classify"] = {"images": tf.zeros([1, height, width, channels], tf.float32)}
    return archive, examples


#: Signature builders by `ExportSpec.kind`: (model, **options, max_num_samples) ->
#: (archive, {signature: example inputs}).
_BUILDERS = {
    "noise_to_image": _noise_to_image_archive,
    "image_to_image": _image_to_image_archive,
    "infogan": _infogan_archive,
    "text_to_image": text_to_image_archive,
    "inpainting": inpainting_archive,
    "noise_to_points": _noise_to_points_archive,
    "semi_supervised": _semi_supervised_archive,
}


# ------------------------------------------------------------------------------- warm-up


def _serving_apis():
    """Returns (predict_pb2, prediction_log_pb2, model_pb2), or None without
    tensorflow-serving-api."""
    if importlib.util.find_spec("tensorflow_serving") is None:
        return None
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    return predict_pb2, prediction_log_pb2, model_pb2


def warmup_requests(latent_dim, num_classes=None, model_name="generator"):
    """The PredictRequests of a noise -> image export's warm-up file: one per signature,
    batch 1.

    Returns:
        A list of `tensorflow_serving.apis.predict_pb2.PredictRequest`, or None when
        `tensorflow-serving-api` is not installed.
    """
    return _requests(_noise_to_image_examples(latent_dim, num_classes), model_name)


def _requests(examples, model_name):
    """PredictRequests of {signature: {input: tensor}}, or None without the serving API."""
    apis = _serving_apis()
    if apis is None:
        return None
    predict_pb2, _, model_pb2 = apis
    requests = []
    for signature, inputs in examples.items():
        request = predict_pb2.PredictRequest(
            model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature)
        )
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        requests.append(request)
    return requests


def _write_warmup(version_dir, model_name, examples):
    requests = _requests(examples, model_name)
    if requests is None:
        logger.warning(
            "Skipped the TF Serving warm-up file (%s): tensorflow-serving-api is not "
            "installed (pip install 'tfgans[serving]'). The export works without it; the "
            "first requests are slower.",
            WARMUP_FILE,
        )
        return None
    _, prediction_log_pb2, _ = _serving_apis()
    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


# ------------------------------------------------------------------------- atomic writes


def _check_free(export_dir, version, overwrite):
    target = os.path.join(export_dir, str(version))
    if os.path.lexists(target) and not overwrite:
        raise ExportExistsError(
            f"Version {version} already exists in {export_dir}: pass overwrite=True to "
            f"replace it, or version=None for the next free one. Received: version={version}"
        )


def _move_into_place(tmp, export_dir, version, overwrite):
    """Renames the written `tmp` to `export_dir/<version>`; returns that path."""
    if version is None:
        # Next free: one more than the highest, so the new export is TF Serving's latest.
        # A concurrent export taking the same number makes the rename fail: try the next.
        for _ in range(100):
            free = max(existing_versions(export_dir), default=0) + 1
            if free > MAX_VERSION:
                raise ValueError(
                    f"{export_dir} already holds version {MAX_VERSION}, the largest TF Serving "
                    "reads: pass a free --version, or remove that version."
                )
            target = os.path.join(export_dir, str(free))
            try:
                _rename(tmp, target)
                return target
            except OSError:
                if not os.path.lexists(target):
                    raise
        raise RuntimeError(f"Could not find a free version in {export_dir}.")
    target = os.path.join(export_dir, str(version))
    if not os.path.lexists(target):
        _rename(tmp, target)  # fails on a non-empty directory created meanwhile
        return target
    _check_free(export_dir, version, overwrite)
    # Replace: move the old version aside, rename the new one in, then delete the old one;
    # if the second rename fails, the old version is put back.
    old = tempfile.mkdtemp(prefix=_OLD_PREFIX, dir=export_dir)
    aside = os.path.join(old, str(version))
    _rename(target, aside)
    try:
        _rename(tmp, target)
    except BaseException:
        _rename(aside, target)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return target
