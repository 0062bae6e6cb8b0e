"""Per-step time of two loopback workers (MultiWorkerMirroredStrategy) against one process.

Both train the default DCGAN (28x28x1, latent 128, synchronized batch norm, Wasserstein-GP,
n_critic 5) on the same GLOBAL batch of random images, with the loop `GANEstimator` uses
on several workers (`tfgans.multi_worker.make_train_function`: `strategy.run` over
`GAN.train_step` and one all-reduce of the logs), without XLA (which Keras 3.15 cannot use
under a mirrored strategy) for both. The two workers are two processes on 127.0.0.1, so
the ratio is the collectives' overhead (gradient all-reduces through gRPC, batch-norm
all-reduces, the coordination service) plus the split of the machine's cores, not network
time between machines. The one-process run goes first, then the two workers together.
Prints a markdown table.

    python benchmarks/multi_worker.py [--steps 20] [--warmup 3] [--batch 64] [--width 16]
                                      [--local-bn]   (plain batch norm: no BN all-reduces)
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(args):
    """Runs in a worker (or the single process): prints one JSON line of timings."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    sys.path.insert(0, ROOT)
    import tfgans
    from tfgans import multi_worker
    from tfgans.models import DCGANDiscriminator, DCGANGenerator

    if args.role == "worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    with strategy.scope():
        keras.utils.set_random_seed(0)
        gan = tfgans.GAN(
            DCGANGenerator((28, 28, 1), latent_dim=128, width=args.width,
                           synchronized_bn=not args.local_bn),
            DCGANDiscriminator((28, 28, 1), width=args.width),
            latent_dim=128,
        )
        gan.compile(loss="wasserstein", jit_compile=False)
    images = tf.random.stateless_uniform([args.batch, 28, 28, 1], [0, 0], -1.0, 1.0)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    data = tf.data.Dataset.from_tensors(images).repeat().with_options(options)
    iterator = iter(strategy.experimental_distribute_dataset(data))
    train_function = multi_worker.make_train_function(gan, strategy)
    for _ in range(args.warmup):
        float(train_function(iterator)["d_loss"])
    start = time.perf_counter()
    for _ in range(args.steps):
        float(train_function(iterator)["d_loss"])  # a host sync per step, as in train_loop
    seconds = (time.perf_counter() - start) / args.steps
    print(json.dumps({"seconds_per_step": seconds, "replicas": strategy.num_replicas_in_sync}),
          flush=True)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def spawn(args, role, tf_config=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    command = [sys.executable, os.path.abspath(__file__), "--role", role,
               "--steps", str(args.steps), "--warmup", str(args.warmup),
               "--batch", str(args.batch), "--width", str(args.width)]
    command += ["--local-bn"] if args.local_bn else []
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def result(proc):
    out, _ = proc.communicate(timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"a benchmark process failed (status {proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed first steps")
    parser.add_argument("--batch", type=int, default=64, help="global batch size")
    parser.add_argument("--width", type=int, default=16, help="DCGAN base filters")
    parser.add_argument("--local-bn", action="store_true",
                        help="per-replica batch norm (synchronized by default)")
    parser.add_argument("--role", choices=("main", "one", "worker"), default="main")
    args = parser.parse_args()
    if args.role != "main":
        return child(args)

    one = result(spawn(args, "one"))
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = [spawn(args, "worker", {"cluster": cluster, "task": {"type": "worker", "index": i}})
             for i in range(2)]
    workers = [result(p) for p in procs]
    two = max(w["seconds_per_step"] for w in workers)  # a step ends when the slowest does

    cores = os.cpu_count()
    bn = "per-replica" if args.local_bn else "synchronized"
    print(f"DCGAN width {args.width} ({bn} batch norm), global batch {args.batch}, n_critic 5, "
          f"{args.steps} timed steps after {args.warmup}, {cores} CPU cores, no XLA\n")
    print("| setup | replicas | batch per replica | ms / step | images / s | vs one process |")
    print("|---|---|---|---|---|---|")
    for name, replicas, seconds in [
        ("one process (default strategy)", 1, one["seconds_per_step"]),
        ("2 loopback workers (MultiWorkerMirroredStrategy)", 2, two),
    ]:
        print(f"| {name} | {replicas} | {args.batch // replicas} | {seconds * 1e3:.1f} | "
              f"{args.batch / seconds:.0f} | {seconds / one['seconds_per_step']:.2f}x |")


if __name__ == "__main__":
    main()
