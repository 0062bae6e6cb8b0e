"""Runs a script in a fresh Python process that can import TensorFlow (and NumPy) only, as
TF Serving loads an export: no keras, no tfgans. The script's arguments are the
site-packages folder, the export's version directory, an .npz of inputs and the folder
where it writes `report.json` and `arrays.npz`."""

import json
import os
import subprocess
import sys
import sysconfig

import numpy as np

#: Before the body: `m` (the loaded export), `inputs` (the arrays given), `report` (with
#: whether tfgans is findable and each signature's input names), `read(path)` and
#: `decode(png_bytes_list)`. The body runs in the work directory.
HEAD = r'''
import importlib.util, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
site_packages, export_dir, inputs_path, out_dir = sys.argv[1:]
sys.path.append(site_packages)
sys.modules["keras"] = None
import numpy as np
import tensorflow as tf
report = {"tfgans_findable": importlib.util.find_spec("tfgans") is not None}
inputs = dict(np.load(inputs_path))
m = tf.saved_model.load(export_dir)
report["signatures"] = {k: sorted(f.structured_input_signature[1]) for k, f in m.signatures.items()}


def read(path):  # a file's bytes (relative paths: the work directory)
    with open(path, "rb") as f:
        return f.read()


def decode(pngs):  # PNG bytes -> uint8 [N, H, W, C]
    return np.stack([tf.io.decode_png(p).numpy() for p in pngs])
'''
#: After the body (which fills `arrays`, a dict of NumPy arrays, and `report`).
FOOT = r'''
report["loaded"] = sorted({k.split(".")[0] for k, v in sys.modules.items() if v is not None})
np.savez(os.path.join(out_dir, "arrays.npz"), **arrays)
with open(os.path.join(out_dir, "report.json"), "w") as f:
    json.dump(report, f)
'''


def run_tf_only(body, export_dir, work_dir, **inputs):
    """Writes `inputs` and the script `HEAD + body + FOOT` into `work_dir`, runs it there
    and returns (its report dict, its arrays dict); fails the test with its stderr when it
    fails. The report also says which top-level modules were loaded ("loaded")."""
    work_dir = str(work_dir)
    np.savez(os.path.join(work_dir, "inputs.npz"), **inputs)
    path = os.path.join(work_dir, "fresh.py")
    with open(path, "w") as f:
        f.write(HEAD + body + FOOT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run(
        [sys.executable, "-I", "-S", path, sysconfig.get_paths()["purelib"], str(export_dir),
         os.path.join(work_dir, "inputs.npz"), work_dir],
        cwd=work_dir, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    with open(os.path.join(work_dir, "report.json")) as f:
        report = json.load(f)
    return report, dict(np.load(os.path.join(work_dir, "arrays.npz")))


_TRANSLATE = r'''
out = m.signatures["serving_default"](images=tf.constant(inputs["images"]))["images"].numpy()
pngs = tf.constant([read(str(path)) for path in inputs["png_paths"]])
arrays = {"out": out, "png": decode(m.signatures["translate"](png_bytes=pngs)["png_bytes"].numpy())}
'''


def check_translator_export(export_dir, work_dir, images, png_paths, translated):
    """Serves a paired translator's export (pix2pix, SRGAN) from a TensorFlow-only process:
    `serving_default` on `images` (float32 in [0, 1]) and `translate` on the PNG files
    `png_paths` (relative to `work_dir`, the same images) agree within 8-bit rounding
    (1.5 / 255), and the last PNG's output equals `translated` (what `tfgans translate`
    wrote for it)."""
    report, arrays = run_tf_only(_TRANSLATE, export_dir, work_dir,
                                 images=np.asarray(images, np.float32),
                                 png_paths=np.array(png_paths))
    assert not {"keras", "tfgans", "pipelines"} & set(report["loaded"]), report["loaded"]
    served, pngs = arrays["out"], arrays["png"]
    assert served.shape == pngs.shape == (len(images), *np.shape(translated))
    np.testing.assert_allclose(pngs / 255.0, served, atol=1.5 / 255)
    np.testing.assert_array_equal(pngs[-1], translated)
