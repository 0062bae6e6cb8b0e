"""SavedModel export for TF Serving: signatures, a fresh TensorFlow-only process, gRPC
requests, warm-up, versioning and atomic writes."""

import base64
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
import tfgans.models
from tfgans import export
from tfgans.training import sample_noise

try:
    from tensorflow_serving.apis import (
        predict_pb2,
        prediction_log_pb2,
        prediction_service_pb2_grpc,
    )
except ImportError:  # the `test` extra installs it; without it those tests are skipped
    predict_pb2 = None

needs_serving_api = pytest.mark.skipif(
    predict_pb2 is None,
    reason="tensorflow-serving-api is not installed (pip install -e '.[test]')",
)

LATENT = 16
SHAPE = (28, 28, 1)
CLASSES = 10
COND_LABELS = [0, 3, 9, 3]


def to_unit(images):
    """`GAN.generate`'s [-1, 1] images as the export returns them, in [0, 1]."""
    return np.clip((np.asarray(images) + 1.0) / 2.0, 0.0, 1.0)


def small_generator(latent_dim=4):
    """A tiny MLP generator of 8x8x1 images, for the tests of the directory handling."""
    generator, _ = tfgans.models.get("mlp")((8, 8, 1), latent_dim, hidden_units=(8,))
    generator(tf.zeros([1, latent_dim]))
    return generator


def hidden_entries(path):
    return [name for name in os.listdir(path) if name.startswith(".")]


def all_files(base):
    """Every file under `base` (hidden temporary directories included), relative."""
    return sorted(
        os.path.relpath(os.path.join(d, f), base) for d, _, files in os.walk(base) for f in files
    )


@pytest.fixture(scope="module")
def uncond(tmp_path_factory):
    """An unconditional DCGAN with EMA whose EMA weights differ from the generator's."""
    generator, discriminator = tfgans.models.get("dcgan")(SHAPE, latent_dim=LATENT, width=8)
    gan = tfgans.GAN(generator, discriminator, latent_dim=LATENT, ema_decay=0.99)
    gan.generator.set_weights([w + 0.05 for w in gan.generator.get_weights()])
    path = export.export_generator(gan, str(tmp_path_factory.mktemp("uncond") / "gen"))
    return gan, path


@pytest.fixture(scope="module")
def cond(tmp_path_factory):
    generator, discriminator = tfgans.models.get("dcgan")(
        SHAPE, latent_dim=LATENT, width=8, num_classes=CLASSES
    )
    gan = tfgans.GAN(generator, discriminator, latent_dim=LATENT, num_classes=CLASSES)
    path = export.export_generator(gan, str(tmp_path_factory.mktemp("cond") / "cgen"))
    return gan, path


# ------------------------------------------------------------- a fresh TensorFlow process

# Run with `python -I -S`: no PYTHONPATH, no user site, no .pth files, so the editable
# install's finder is not there; site-packages is appended by hand for TensorFlow alone.
# keras is made unimportable too: loading and calling must need nothing but TensorFlow.
FRESH_SCRIPT = r'''
import importlib.util, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
site_packages, uncond_dir, cond_dir, inputs_path, out_dir = sys.argv[1:]
sys.path.append(site_packages)
report = {"tfgans_findable": importlib.util.find_spec("tfgans") is not None,
          "pipelines_findable": importlib.util.find_spec("pipelines") is not None}
for name in ("keras", "tf_keras", "tfgans", "pipelines"):
    sys.modules[name] = None  # `import name` raises ImportError from here on
import numpy as np
import tensorflow as tf

inputs = np.load(inputs_path)
arrays, errors = {}, {}

def rejected(fn, **kwargs):
    try:
        fn(**kwargs)
    except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
        return f"{type(e).__name__}: {e}"
    return None

def signature_info(fn):
    _, specs = fn.structured_input_signature
    outputs = fn.structured_outputs
    return {
        "inputs": {k: [v.dtype.name, v.shape.as_list()] for k, v in specs.items()},
        "outputs": {k: [v.dtype.name, v.shape.as_list()] for k, v in outputs.items()},
    }

seed = lambda s: tf.constant(s, tf.int64)
m = tf.saved_model.load(uncond_dir)
serve, generate = m.signatures["serving_default"], m.signatures["generate"]
report["uncond_signatures"] = {k: signature_info(f) for k, f in m.signatures.items()}
arrays["u_serve"] = serve(noise=tf.constant(inputs["noise"]))["images"].numpy()
out = generate(num_samples=tf.constant(5), seed=seed(3))
arrays["u_gen5"] = out["images"].numpy()
pngs = out["png_bytes"].numpy()
arrays["u_png_shapes"] = np.array([tf.io.decode_png(p).shape.as_list() for p in pngs])
arrays["u_png_pixels"] = np.stack([tf.io.decode_png(p).numpy() for p in pngs])
arrays["u_gen2"] = generate(num_samples=tf.constant(2), seed=seed(3))["images"].numpy()
arrays["u_gen5_again"] = generate(num_samples=tf.constant(5), seed=seed(3))["images"].numpy()
errors["u_noise_float64"] = rejected(serve, noise=tf.zeros([1, inputs["noise"].shape[1]], tf.float64))
errors["u_num_samples_int64"] = rejected(generate, num_samples=tf.constant(2, tf.int64), seed=seed(0))
errors["u_seed_int32"] = rejected(generate, num_samples=tf.constant(2), seed=tf.constant(0))
truncated = m.signatures["generate_truncated"]
for t in (0.25, 1.0):
    arrays[f"u_trunc_{t}"] = truncated(num_samples=tf.constant(5), seed=seed(3),
                                       truncation=tf.constant(t))["images"].numpy()
errors["u_truncation_zero"] = rejected(truncated, num_samples=tf.constant(2), seed=seed(0),
                                       truncation=tf.constant(0.0))

m = tf.saved_model.load(cond_dir)
serve, generate = m.signatures["serving_default"], m.signatures["generate"]
report["cond_signatures"] = {k: signature_info(f) for k, f in m.signatures.items()}
labels = tf.constant(inputs["labels"], tf.int32)
arrays["c_serve"] = serve(noise=tf.constant(inputs["noise"]), labels=labels)["images"].numpy()
out = generate(labels=labels, seed=seed(5))
arrays["c_gen"] = out["images"].numpy()
arrays["c_trunc"] = m.signatures["generate_truncated"](
    labels=labels, seed=seed(5), truncation=tf.constant(0.5))["images"].numpy()
arrays["c_png_shapes"] = np.array([tf.io.decode_png(p).shape.as_list() for p in out["png_bytes"].numpy()])
noise = tf.constant(inputs["noise"])
errors["c_labels_float32"] = rejected(serve, noise=noise, labels=tf.cast(labels, tf.float32))
errors["c_labels_int64"] = rejected(serve, noise=noise, labels=tf.cast(labels, tf.int64))
errors["c_gen_labels_float32"] = rejected(generate, labels=tf.cast(labels, tf.float32), seed=seed(5))
errors["c_label_out_of_range"] = rejected(generate, labels=tf.constant([0, 10]), seed=seed(5))
errors["c_label_negative"] = rejected(serve, noise=noise[:1], labels=tf.constant([-1]))

report["errors"] = errors
report["loaded"] = sorted({k.split(".")[0] for k, v in sys.modules.items() if v is not None})
np.savez(os.path.join(out_dir, "arrays.npz"), **arrays)
with open(os.path.join(out_dir, "report.json"), "w") as f:
    json.dump(report, f)
'''


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


@pytest.fixture(scope="module")
def fresh(uncond, cond, tmp_path_factory):
    """Loads both exports in a fresh `python -I -S` process that can import TensorFlow only,
    calls both signatures, and returns (report, arrays, inputs)."""
    work = tmp_path_factory.mktemp("fresh")
    noise = sample_noise(4, LATENT, seed=11).numpy()
    inputs = {"noise": noise, "labels": np.array(COND_LABELS, np.int32)}
    np.savez(work / "inputs.npz", **inputs)
    script = work / "load_and_call.py"
    script.write_text(FRESH_SCRIPT)
    args = [sys.executable, "-I", "-S", str(script), sysconfig.get_paths()["purelib"]]
    args += [uncond[1], cond[1], str(work / "inputs.npz"), str(work)]
    proc = subprocess.run(
        args, cwd=work, env=clean_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((work / "report.json").read_text())
    arrays = dict(np.load(work / "arrays.npz"))
    return report, arrays, inputs


def test_fresh_process_sees_only_tensorflow(fresh):
    report, _, _ = fresh
    assert not report["tfgans_findable"] and not report["pipelines_findable"]
    assert not {"keras", "tf_keras", "tfgans", "pipelines"} & set(report["loaded"])
    assert "tensorflow" in report["loaded"]


def test_fresh_process_serving_default_equals_generator(fresh, uncond):
    _, arrays, inputs = fresh
    gan, _ = uncond
    expected = to_unit(gan.inference_generator(inputs["noise"], training=False))
    np.testing.assert_allclose(arrays["u_serve"], expected, atol=1e-5)
    assert arrays["u_serve"].dtype == np.float32 and arrays["u_serve"].shape == (4, *SHAPE)


def test_fresh_process_generate_equals_gan_generate(fresh, uncond):
    _, arrays, _ = fresh
    gan, _ = uncond
    np.testing.assert_allclose(arrays["u_gen5"], to_unit(gan.generate(5, seed=3)), atol=1e-5)
    # Deterministic for a seed, and image i does not depend on the batch asked for.
    np.testing.assert_array_equal(arrays["u_gen5_again"], arrays["u_gen5"])
    np.testing.assert_allclose(arrays["u_gen2"], arrays["u_gen5"][:2], atol=1e-6)


def test_fresh_process_generate_truncated_equals_gan_generate(fresh, uncond, cond):
    report, arrays, _ = fresh
    gan, _ = uncond
    for t in (0.25, 1.0):
        np.testing.assert_allclose(
            arrays[f"u_trunc_{t}"], to_unit(gan.generate(5, seed=3, truncation=t)), atol=1e-5)
    assert np.abs(arrays["u_trunc_0.25"] - arrays["u_gen5"]).max() > 1e-5  # other noise
    assert "truncation" in report["errors"]["u_truncation_zero"]
    gan, _ = cond
    expected = gan.generate(len(COND_LABELS), seed=5, labels=COND_LABELS, truncation=0.5)
    np.testing.assert_allclose(arrays["c_trunc"], to_unit(expected), atol=1e-5)


def test_ema_weights_are_exported(fresh, uncond):
    _, arrays, inputs = fresh
    gan, _ = uncond
    assert gan.inference_generator is gan.ema_generator
    raw = to_unit(gan.generator(inputs["noise"], training=False))
    assert np.abs(arrays["u_serve"] - raw).max() > 1e-3


def test_fresh_process_png_bytes_decode_to_the_images(fresh):
    _, arrays, _ = fresh
    assert arrays["u_png_shapes"].tolist() == [list(SHAPE)] * 5
    assert arrays["c_png_shapes"].tolist() == [list(SHAPE)] * len(COND_LABELS)
    expected = np.round(arrays["u_gen5"] * 255).astype(np.uint8)
    np.testing.assert_array_equal(arrays["u_png_pixels"], expected)


def test_fresh_process_conditional_export(fresh, cond):
    _, arrays, inputs = fresh
    gan, _ = cond
    expected = to_unit(gan.generate(len(COND_LABELS), seed=5, labels=COND_LABELS))
    np.testing.assert_allclose(arrays["c_gen"], expected, atol=1e-5)
    g_inputs = [inputs["noise"], inputs["labels"]]
    np.testing.assert_allclose(
        arrays["c_serve"], to_unit(gan.inference_generator(g_inputs, training=False)), atol=1e-5
    )


def test_fresh_process_signatures_reject_wrong_dtypes_and_labels(fresh):
    report, _, _ = fresh
    errors = report["errors"]
    unrejected = [name for name, error in errors.items() if error is None]
    assert not unrejected, f"accepted: {unrejected}"
    for name in ("u_noise_float64", "u_num_samples_int64", "u_seed_int32", "c_labels_float32",
                 "c_labels_int64", "c_gen_labels_float32"):
        assert "was expected to be a" in errors[name], errors[name]  # the signature's dtype check
    assert "num_classes=10" in errors["c_label_out_of_range"]
    assert "labels" in errors["c_label_negative"]


def test_signature_specs(fresh):
    report, _, _ = fresh
    images = ["float32", [None, *SHAPE]]
    assert report["uncond_signatures"] == {
        "serving_default": {"inputs": {"noise": ["float32", [None, LATENT]]},
                            "outputs": {"images": images}},
        "generate": {"inputs": {"num_samples": ["int32", []], "seed": ["int64", []]},
                     "outputs": {"images": images, "png_bytes": ["string", [None]]}},
        "generate_truncated": {
            "inputs": {"num_samples": ["int32", []], "seed": ["int64", []],
                       "truncation": ["float32", []]},
            "outputs": {"images": images, "png_bytes": ["string", [None]]}},
    }
    assert report["cond_signatures"] == {
        "serving_default": {
            "inputs": {"noise": ["float32", [None, LATENT]], "labels": ["int32", [None]]},
            "outputs": {"images": images},
        },
        "generate": {"inputs": {"labels": ["int32", [None]], "seed": ["int64", []]},
                     "outputs": {"images": images, "png_bytes": ["string", [None]]}},
        "generate_truncated": {
            "inputs": {"labels": ["int32", [None]], "seed": ["int64", []],
                       "truncation": ["float32", []]},
            "outputs": {"images": images, "png_bytes": ["string", [None]]}},
    }


@pytest.fixture(scope="module")
def cli_output(uncond, cond):
    """`saved_model_cli show --all` (the venv's script) of both exports, run side by side."""
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(cli):
        pytest.skip(f"no saved_model_cli beside {sys.executable}")
    procs = {
        name: subprocess.Popen(
            [cli, "show", "--all", "--dir", path], env=clean_env(), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for name, (_, path) in (("uncond", uncond), ("cond", cond))
    }
    texts = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-4000:]
        texts[name] = out
    return texts


def cli_signature(text, name):
    """The block of `saved_model_cli show --all` describing signature `name`."""
    start = text.index(f"signature_def['{name}']:")
    end = text.find("signature_def[", start + 1)
    block = text[start : end if end >= 0 else len(text)]
    return block.split("Method name is:")[0] + block.split("Method name is:")[1].split("\n")[0]


def tensor_info(kind, key, dtype, shape):
    return f"{kind}['{key}'] tensor_info:\n        dtype: {dtype}\n        shape: {shape}\n"


def test_saved_model_cli_lists_both_signatures(cli_output):
    text = cli_output["cond"]
    serve = cli_signature(text, "serving_default")
    image_shape = "(-1, 28, 28, 1)"
    assert tensor_info("inputs", "noise", "DT_FLOAT", f"(-1, {LATENT})") in serve
    assert tensor_info("inputs", "labels", "DT_INT32", "(-1)") in serve
    assert tensor_info("outputs", "images", "DT_FLOAT", image_shape) in serve
    assert serve.count("tensor_info") == 3
    generate = cli_signature(text, "generate")
    assert tensor_info("inputs", "labels", "DT_INT32", "(-1)") in generate
    assert tensor_info("inputs", "seed", "DT_INT64", "()") in generate
    assert tensor_info("outputs", "images", "DT_FLOAT", image_shape) in generate
    assert tensor_info("outputs", "png_bytes", "DT_STRING", "(-1)") in generate
    assert generate.count("tensor_info") == 4
    assert "tensorflow/serving/predict" in serve and "tensorflow/serving/predict" in generate


def test_saved_model_cli_unconditional(cli_output):
    text = cli_output["uncond"]
    serve, generate = cli_signature(text, "serving_default"), cli_signature(text, "generate")
    assert tensor_info("inputs", "noise", "DT_FLOAT", f"(-1, {LATENT})") in serve
    assert serve.count("tensor_info") == 2
    assert tensor_info("inputs", "num_samples", "DT_INT32", "()") in generate
    assert tensor_info("inputs", "seed", "DT_INT64", "()") in generate
    assert tensor_info("outputs", "png_bytes", "DT_STRING", "(-1)") in generate


# ------------------------------------------------------------------- gRPC and warm-up


def serve_request(loaded, request):
    """What TF Serving does with a PredictRequest: TensorProtos to tensors, the signature,
    tensors back to TensorProtos in a PredictResponse."""
    signature = loaded.signatures[request.model_spec.signature_name or "serving_default"]
    inputs = {key: tf.constant(tf.make_ndarray(proto)) for key, proto in request.inputs.items()}
    response = predict_pb2.PredictResponse(model_spec=request.model_spec)
    for key, value in signature(**inputs).items():
        response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
    return response


def grpc_request(signature, **inputs):
    """A client's PredictRequest, as in README.md ("Serving with TF Serving")."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "generator"
    request.model_spec.signature_name = signature
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


@needs_serving_api
def test_grpc_predict_requests_give_the_same_images(uncond, cond):
    gan, path = uncond
    loaded = tf.saved_model.load(path)
    noise = sample_noise(3, LATENT, seed=2).numpy()
    response = serve_request(loaded, grpc_request("serving_default", noise=noise))
    images = tf.make_ndarray(response.outputs["images"])
    np.testing.assert_allclose(images, to_unit(gan.inference_generator(noise)), atol=1e-5)
    request = grpc_request("generate", num_samples=np.int32(3), seed=np.int64(7))
    response = serve_request(loaded, request)
    np.testing.assert_allclose(
        tf.make_ndarray(response.outputs["images"]), to_unit(gan.generate(3, seed=7)), atol=1e-5
    )
    pngs = tf.make_ndarray(response.outputs["png_bytes"])
    assert [tf.io.decode_png(p).shape.as_list() for p in pngs] == [list(SHAPE)] * 3

    gan, path = cond
    loaded = tf.saved_model.load(path)
    labels = np.array([1, 2, 2], np.int32)
    response = serve_request(loaded, grpc_request("generate", labels=labels, seed=np.int64(7)))
    np.testing.assert_allclose(
        tf.make_ndarray(response.outputs["images"]),
        to_unit(gan.generate(3, seed=7, labels=labels)),
        atol=1e-5,
    )
    # A client sending int64 labels (numpy's default) is refused by the signature.
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        request = grpc_request("generate", labels=labels.astype(np.int64), seed=np.int64(7))
        serve_request(loaded, request)


def read_warmup(path):
    logs = []
    for record in tf.data.TFRecordDataset(os.path.join(path, export.WARMUP_FILE)):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    return logs


@needs_serving_api
@pytest.mark.parametrize("which", ["uncond", "cond"])
def test_warmup_file_is_parseable_and_runs(which, request):
    _, path = request.getfixturevalue(which)
    logs = read_warmup(path)
    assert [log.WhichOneof("log_type") for log in logs] == ["predict_log"] * 3
    requests = [log.predict_log.request for log in logs]
    assert [r.model_spec.signature_name for r in requests] == [
        "serving_default", "generate", "generate_truncated"]
    expected = {
        "uncond": [{"noise"}, {"num_samples", "seed"}, {"num_samples", "seed", "truncation"}],
        "cond": [{"noise", "labels"}, {"labels", "seed"}, {"labels", "seed", "truncation"}],
    }
    assert [set(r.inputs) for r in requests] == expected[which]
    loaded = tf.saved_model.load(path)
    for r in requests:
        response = serve_request(loaded, r)
        assert tf.make_ndarray(response.outputs["images"]).shape == (1, *SHAPE)


def test_export_without_serving_api_skips_warmup(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(export, "_serving_apis", lambda: None)
    with caplog.at_level(logging.WARNING, logger="tfgans.export"):
        path = export.export_generator(small_generator(), tmp_path / "m", latent_dim=4)
    assert os.path.exists(os.path.join(path, "saved_model.pb"))
    assert not os.path.exists(os.path.join(path, export.WARMUP_FILE))
    assert "Skipped the TF Serving warm-up file" in caplog.text


# ------------------------------------------------------------- versions, atomic writes


def test_next_free_version_and_explicit_version(tmp_path):
    generator, base = small_generator(), tmp_path / "m"
    assert export.export_generator(generator, base, latent_dim=4) == str(base / "1")
    assert export.export_generator(generator, base, latent_dim=4) == str(base / "2")
    assert export.export_generator(generator, base, version=7, latent_dim=4) == str(base / "7")
    # Next free is one more than the highest, so the newest export is TF Serving's latest.
    assert export.export_generator(generator, base, latent_dim=4) == str(base / "8")
    assert export.existing_versions(base) == [1, 2, 7, 8]
    assert not hidden_entries(base)
    loaded = tf.saved_model.load(str(base / "8"))
    out = loaded.signatures["generate"](num_samples=tf.constant(2), seed=tf.constant(0, tf.int64))
    assert out["images"].shape == (2, 8, 8, 1)


def test_existing_version_is_refused_then_replaced_with_overwrite(tmp_path):
    generator, base = small_generator(), tmp_path / "m"
    path = export.export_generator(generator, base, version=3, latent_dim=4)
    stale = os.path.join(path, "stale.txt")
    open(stale, "w").close()
    with pytest.raises(ValueError, match=r"Version 3 already exists.*overwrite=True") as info:
        export.export_generator(generator, base, version=3, latent_dim=4)
    assert isinstance(info.value, FileExistsError)
    assert os.path.exists(stale) and sorted(os.listdir(base)) == ["3"]

    other = small_generator()
    assert export.export_generator(other, base, version=3, overwrite=True, latent_dim=4) == path
    assert not os.path.exists(stale), "an overwritten version keeps no stale files"
    assert sorted(os.listdir(base)) == ["3"]
    noise = sample_noise(2, 4, seed=0)
    served = tf.saved_model.load(path).signatures["serving_default"](noise=noise)["images"]
    np.testing.assert_allclose(served, to_unit(other(noise)), atol=1e-6)


def test_crash_during_export_leaves_previous_version_intact(tmp_path, monkeypatch):
    generator, base = small_generator(), tmp_path / "m"
    path = export.export_generator(generator, base, latent_dim=4)
    before = all_files(base)

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(export, "_write_warmup", crash)
    for kwargs in ({}, {"version": 1, "overwrite": True}, {"version": 5}):
        with pytest.raises(RuntimeError, match="simulated crash"):
            export.export_generator(generator, base, latent_dim=4, **kwargs)
        assert all_files(base) == before and sorted(os.listdir(base)) == ["1"], kwargs
    tf.saved_model.load(path)  # still loads


def test_crash_while_swapping_in_an_overwrite_restores_the_old_version(tmp_path, monkeypatch):
    generator, base = small_generator(), tmp_path / "m"
    path = export.export_generator(generator, base, latent_dim=4)
    marker = os.path.join(path, "marker")
    open(marker, "w").close()
    calls = []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # old moved aside; the new one fails to move in
            raise OSError("simulated crash at rename")
        os.rename(src, dst)

    monkeypatch.setattr(export, "_rename", rename)
    with pytest.raises(OSError, match="simulated crash"):
        export.export_generator(generator, base, version=1, overwrite=True, latent_dim=4)
    assert os.path.exists(marker) and sorted(os.listdir(base)) == ["1"]


def test_failed_export_into_a_new_directory_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "_write_warmup", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        export.export_generator(small_generator(), tmp_path / "new", latent_dim=4)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        ({"version": -1}, "version"),
        ({"version": "2"}, "version"),
        ({"version": 1.5}, "version"),
        ({"version": True}, "version"),
        ({"overwrite": "yes"}, "overwrite"),
        ({"max_num_samples": 0}, "max_num_samples"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"num_classes": 1}, "num_classes"),
    ],
)
def test_bad_arguments_are_named(tmp_path, kwargs, argument):
    kwargs = {"latent_dim": 4, **kwargs}
    with pytest.raises(ValueError, match=f"`{argument}`.*Received: {argument}="):
        export.export_generator(small_generator(), tmp_path / "m", **kwargs)
    assert not os.path.exists(tmp_path / "m")


def test_bare_generator_takes_latent_dim_from_the_model_or_the_argument(tmp_path):
    generator = small_generator()
    path = export.export_generator(generator, tmp_path / "m")  # generator.latent_dim
    served = tf.saved_model.load(path).signatures["serving_default"]
    assert served.structured_input_signature[1]["noise"].shape.as_list() == [None, 4]
    plain = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Reshape((2, 2, 1))]
    )
    with pytest.raises(ValueError, match="needs `latent_dim`.*Received: latent_dim=None"):
        export.export_generator(plain, tmp_path / "p")
    path = export.export_generator(plain, tmp_path / "p", latent_dim=3)
    assert tf.saved_model.load(path).signatures["serving_default"](noise=tf.zeros([2, 3]))[
        "images"
    ].shape == (2, 2, 2, 1)


def test_bad_model_and_export_dir_are_named(tmp_path, uncond):
    gan, _ = uncond
    with pytest.raises(ValueError, match="`gan` must be"):
        export.export_generator("generator.keras", tmp_path / "m", latent_dim=4)
    with pytest.raises(ValueError, match="`latent_dim` differs from the GAN's"):
        export.export_generator(gan, tmp_path / "m", latent_dim=LATENT + 1)
    with pytest.raises(ValueError, match="`export_dir` must be a non-empty path"):
        export.export_generator(gan, "")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="`export_dir` must be a directory"):
        export.export_generator(gan, tmp_path / "file")


def test_generate_refuses_too_many_samples(tmp_path):
    path = export.export_generator(
        small_generator(), tmp_path / "m", latent_dim=4, max_num_samples=8
    )
    generate = tf.saved_model.load(path).signatures["generate"]
    seed = tf.constant(0, tf.int64)
    assert generate(num_samples=tf.constant(8), seed=seed)["images"].shape[0] == 8
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_num_samples=8"):
        generate(num_samples=tf.constant(9), seed=seed)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples"):
        generate(num_samples=tf.constant(-1), seed=seed)


# ------------------------------------------------------------ a real TF Serving, if any


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(
    shutil.which("tensorflow_model_server") is None,
    reason="tensorflow_model_server is not on PATH (TF Serving's binary cannot be installed "
    "on these machines; see README.md, Serving with TF Serving, to run it)",
)
@needs_serving_api
def test_real_tensorflow_model_server(uncond, tmp_path):
    import grpc

    gan, path = uncond
    base, name = os.path.dirname(path), "generator"
    rest, port = free_port(), free_port()
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [
            "tensorflow_model_server", f"--port={port}", f"--rest_api_port={rest}",
            f"--model_name={name}", f"--model_base_path={base}", "--enable_model_warmup=true",
        ],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{rest}/v1/models/{name}"
        for _ in range(120):
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if "AVAILABLE" in r.read().decode():
                        break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.5)
        body = json.dumps({"signature_name": "generate", "inputs": {"num_samples": 2, "seed": 7}})
        req = urllib.request.Request(f"{url}:predict", data=body.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            outputs = json.loads(r.read())["outputs"]
        expected = to_unit(gan.generate(2, seed=7))
        np.testing.assert_allclose(np.array(outputs["images"]), expected, atol=1e-5)
        png = base64.b64decode(outputs["png_bytes"][0]["b64"])
        assert tf.io.decode_png(png).shape == SHAPE

        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = grpc_request("generate", num_samples=np.int32(2), seed=np.int64(7))
        request.model_spec.name = name
        response = stub.Predict(request, timeout=60)
        np.testing.assert_allclose(tf.make_ndarray(response.outputs["images"]), expected, atol=1e-5)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
