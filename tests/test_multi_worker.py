"""Scaling out on loopback: two `MultiWorkerMirroredStrategy` workers on 127.0.0.1 (one
process each, `TF_CONFIG`), a worker killed mid-run, and `MirroredStrategy` over two
logical CPUs, all through the CLI, all compared with a one-process run of the same config
and seed (issue 6's acceptance tests).

The DCGAN is the default one, narrowed (model.width=8), with the default
`model.synchronized_bn` (true): batch norm over the global batch, on one device as on two
workers. (With per-replica batch norm each replica normalises with its own half of the
batch and the workers' moving statistics differ: issue 11's defect 1, a run that ended in
"weights differ".)
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from pipelines import config as config_lib
from pipelines import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = 6
CONFIG = f"""\
model: {{name: dcgan, latent_dim: 16, width: 8}}  # synchronized_bn: the default
data: {{name: image_folder, path: images, batch_size: 8}}
loss: {{name: wasserstein, n_critic: 2}}
train: {{steps: {STEPS}, checkpoint_every: 2, sample_every: 2, log_every: 2}}
eval: {{every: 0}}
"""
EXIT_PEER_FAILURE = 75
RUN_TIMEOUT = 300  # seconds a whole two-worker run may take on 2 busy cores


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A folder with tiny.yaml and 32 28x28 greyscale PNGs."""
    folder = tmp_path_factory.mktemp("multi_worker")
    os.makedirs(folder / "images")
    rng = np.random.default_rng(0)
    for i in range(32):
        pixels = rng.integers(0, 256, (28, 28, 1), dtype=np.uint8)
        (folder / "images" / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (folder / "tiny.yaml").write_text(CONFIG)
    return folder


@pytest.fixture(scope="module")
def reference(project):
    """Variables of the one-process run (default strategy) at STEPS, from its checkpoint."""
    config = config_lib.load_config(str(project / "tiny.yaml"))
    model_dir = str(project / "reference")
    run.train(config, model_dir, verbose=0)
    return checkpoint_values(model_dir)


def checkpoint_values(model_dir):
    """{name: array} of every variable in the latest checkpoint of a run."""
    path = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    assert path is not None, f"no checkpoint in {model_dir}"
    reader = tf.train.load_checkpoint(path)
    names = [n for n in reader.get_variable_to_shape_map() if n != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    return {n: reader.get_tensor(n) for n in names}


def assert_same_run(values, reference):
    assert sorted(values) == sorted(reference)
    for name in reference:
        np.testing.assert_allclose(values[name], reference[name], atol=1e-5, err_msg=name)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def env(**extra):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT, **extra}


def cli(project, model_dir, *overrides):
    args = [sys.executable, "-m", "pipelines.cli", "train", "tiny.yaml", "--model-dir", model_dir]
    for item in overrides:
        args += ["--set", item]
    return args


# `tfgans train ...` that sends itself signal SIG at the end of global step STEP: a fault
# placed at a deterministic point (pipelines.run.eval_callbacks gets one more callback).
SIGNAL_AT_STEP = """\
import os, signal, sys
import keras
from pipelines import cli, run

class SignalAt(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.step.numpy()) == {step}:
            os.kill(os.getpid(), signal.{sig})

eval_callbacks = run.eval_callbacks
run.eval_callbacks = lambda *args: eval_callbacks(*args) + [SignalAt()]
sys.exit(cli.main(sys.argv[1:]))
"""


def start_workers(project, model_dir, *overrides, trace=None, signal_at=None):
    """Starts the two workers of a multi_worker run; worker 1 under strace when `trace`
    names a log file, or sending itself a signal at a step when `signal_at` is
    (signal name, step). Each worker gets its own TMPDIR: project/tmp<i>."""
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        tmp = project / f"tmp{index}"
        tmp.mkdir(exist_ok=True)
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        args = cli(project, model_dir, "distribute.strategy=multi_worker",
                   "distribute.peer_timeout=45", *overrides)
        if index == 1 and signal_at:
            sig, step = signal_at
            args = [sys.executable, "-c", SIGNAL_AT_STEP.format(sig=sig, step=step)] + args[3:]
        if index == 1 and trace:
            args = ["strace", "-f", "--seccomp-bpf", "-o", trace, "-e",
                    "trace=openat,creat,rename,renameat,renameat2,mkdir,mkdirat,unlink,unlinkat,"
                    "rmdir,truncate"] + args
        procs.append(subprocess.Popen(
            args, cwd=project, env=env(TF_CONFIG=tf_config, TMPDIR=str(tmp)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    return procs


def finish(procs, timeout=RUN_TIMEOUT):
    """Waits for the processes (killing them all past `timeout`); returns [(rc, out, err)]."""
    deadline = time.monotonic() + timeout
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail(f"the workers did not finish within {timeout} s")
        results.append((proc.returncode, out, err))
    return results


def strace_available():
    return shutil.which("strace") is not None and subprocess.run(
        ["strace", "-f", "--seccomp-bpf", "-o", os.devnull, "-e", "trace=openat", "true"],
        capture_output=True,
    ).returncode == 0


def writes_under(trace, folder):
    """The syscalls in an strace log that create, change or remove something in `folder`."""
    folder = os.path.realpath(folder)
    bad = []
    with open(trace) as f:
        for line in f:
            if f'"{folder}' not in line:
                continue
            if "openat(" in line and not any(m in line for m in ("O_WRONLY", "O_RDWR", "O_CREAT")):
                continue
            if "= -1" in line and "ENOENT" in line and "mkdir" not in line:
                continue
            bad.append(line.strip())
    return bad


# ------------------------------------------------------------------------- two workers


def test_two_workers_equal_one_process_and_only_the_chief_writes(project, reference):
    model_dir = str(project / "two_workers")
    trace = str(project / "worker1.strace") if strace_available() else None
    procs = start_workers(project, model_dir, trace=trace)
    results = finish(procs)
    for index, (rc, out, err) in enumerate(results):
        assert rc == 0, f"worker {index} failed ({rc}):\n{out}\n{err}"
    # Both workers end with the same weights: each checks the others' at the end (an
    # all-gather of per-variable sums) and prints the checksum.
    sums = [line.split("checksum ")[1] for _, out, _ in results for line in out.splitlines()
            if "weights identical on all 2 replicas" in line]
    assert len(sums) == 2 and sums[0] == sums[1], [r[1] for r in results]
    # ... equal to the one-process run's, to float32 rounding.
    assert_same_run(checkpoint_values(model_dir), reference)
    # Only the chief wrote the run: one set of TensorBoard files (named with the chief's
    # pid), and worker 1 left nothing in its TMPDIR.
    events = glob.glob(os.path.join(model_dir, "logs", "*", "events.out.tfevents.*"))
    # (train, samples, health)
    assert len(events) == 3 and all(f".{procs[0].pid}." in e for e in events), events
    assert os.listdir(project / "tmp1") == []
    if trace:
        assert writes_under(trace, model_dir) == []
        assert writes_under(trace, str(project / "reference")) == []  # sanity of the filter
    assert sorted(os.listdir(model_dir)) == sorted(os.listdir(project / "reference"))


def test_sigterm_or_a_killed_worker_stops_all_and_a_restart_resumes_exactly(project, reference):
    model_dir = str(project / "killed")
    state = os.path.join(model_dir, "checkpoints", "checkpoint")

    # SIGTERM to worker 1 at the end of step 2: its flag rides step 3's all-reduce, so both
    # workers stop after step 3, save it together (a step no periodic save writes:
    # checkpoint_every is 2) and exit 143. Uncoordinated, the chief would wait for worker 1
    # in step 4's collective until its watchdog ended it (75), unsaved.
    results = finish(start_workers(project, model_dir, signal_at=("SIGTERM", 2)))
    for index, (rc, out, err) in enumerate(results):
        lines = [line for line in err.splitlines() if line.startswith("tfgans")]
        assert rc == 143, f"worker {index}: {rc}\n{out}\n{err}"
        peer = " (sent to another worker)" if index == 0 else ""
        assert lines == [f"tfgans train: stopped by SIGTERM{peer}; saved ckpt-3: run the same "
                         "command to resume."], err
    assert tf.train.latest_checkpoint(os.path.dirname(state)).endswith("ckpt-3")

    # kill -9 of worker 1 at the end of step 4 (after that step's checkpoint): the survivor
    # stops with one line naming the checkpoint to resume from.
    procs = start_workers(project, model_dir, signal_at=("SIGKILL", 4))
    killed = time.monotonic()
    (rc, out, err), _ = finish(procs)
    stopped = time.monotonic() - killed
    assert rc == EXIT_PEER_FAILURE, f"{rc}\n{out}\n{err}"
    assert f"Resuming {model_dir} at step 3" in out
    lines = [line for line in err.splitlines() if line.startswith("tfgans: error:")]
    assert len(lines) == 1, err
    assert "multi-worker training stopped on worker 0 of 2" in lines[0]
    assert "Restart all workers with the same command to resume from the last checkpoint" in lines[0]
    stopped_at = int(tf.train.latest_checkpoint(os.path.dirname(state)).rsplit("-", 1)[1])
    assert stopped_at == 4  # it stopped mid-run
    print(f"survivor exited {stopped:.1f} s after its start, worker 1 killed at step 4")

    results = finish(start_workers(project, model_dir))
    for index, (rc, out, err) in enumerate(results):
        assert rc == 0, f"worker {index} failed on restart ({rc}):\n{out}\n{err}"
    assert f"Resuming {model_dir} at step 4" in results[0][1]
    # The SIGTERM save is one more save than the reference made: only the checkpoint's
    # save counter (bookkeeping, not training state) may differ.
    counter = "save_counter/.ATTRIBUTES/VARIABLE_VALUE"
    values = checkpoint_values(model_dir)
    assert values.pop(counter) == reference[counter] + 1
    assert_same_run(values, {k: v for k, v in reference.items() if k != counter})
    # The killed worker's checkpoint folder is gone too (autograph's files of the killed
    # process are TensorFlow's, not ours).
    assert [n for n in os.listdir(project / "tmp1") if n.startswith("tfgans-")] == []


# --------------------------------------------------------------------------- mirrored


def test_mirrored_over_two_cpus_equals_default(project, reference):
    model_dir = str(project / "mirrored")
    proc = subprocess.run(
        cli(project, model_dir, "distribute.strategy=mirrored",
            "distribute.devices=[/cpu:0, /cpu:1]"),
        cwd=project, env=env(), capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_same_run(checkpoint_values(model_dir), reference)


# --------------------------------------------------------------------------- watchdog


def test_watchdog_reports_a_stalled_section_and_a_failed_collective(capsys):
    from tfgans.multi_worker import PeerFailureError, Watchdog

    lines = []
    with Watchdog(0.3, 5.0, lambda why: lines.append(why) or f"stopped: {why}", exit=False) as dog:
        with dog.guard(first=True):
            time.sleep(0.6)  # under first_timeout: fine
        assert lines == []
        with dog.guard():
            time.sleep(1.0)  # over timeout: reported by the watchdog thread
        assert len(lines) == 1 and "no progress for 0.3 s" in lines[0]
    assert "stopped: no progress" in capsys.readouterr().err
    with Watchdog(60, 60, lambda why: f"stopped: {why}", exit=False) as dog:
        with pytest.raises(PeerFailureError, match="a collective failed .UnavailableError: peer gone"):
            with dog.guard():
                raise tf.errors.UnavailableError(None, None, "peer gone")
        with pytest.raises(ValueError):  # other errors pass through untouched
            with dog.guard():
                raise ValueError("not a peer")
