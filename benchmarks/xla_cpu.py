"""XLA on or off for one device on a CPU: the first step (tracing + compiling) and the
steady-state step time of the default recipe (DCGAN, WGAN-GP, n_critic 5, batch 64) at the
demo's width (16) and the default width (64), and the break-even step count.

Both variants are built in one process and their steady-state steps interleaved, so
machine load hits both alike. `tfgans.Estimator`'s `jit_compile="auto"` follows this
table (see `tfgans.training.AUTO_JIT_ON_CPU`).

    python benchmarks/xla_cpu.py [--widths 16 64] [--steps 10] [--batch 64]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfgans  # noqa: E402


def make(width, jit):
    keras.utils.set_random_seed(0)
    g, d = tfgans.models.get("dcgan")((28, 28, 1), 128, width=width)
    gan = tfgans.GAN(g, d, latent_dim=128, ema_decay=0.999)
    gan.compile(loss="wasserstein", jit_compile=jit)
    return gan


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    images = np.random.default_rng(0).uniform(-1, 1, (args.batch, 28, 28, 1)).astype("float32")
    rows = []
    for width in args.widths:
        gans, first, steady = {}, {}, {True: [], False: []}
        for jit in (False, True):
            gans[jit] = make(width, jit)
            start = time.perf_counter()
            gans[jit].train_on_batch(images)
            first[jit] = time.perf_counter() - start
        for _ in range(args.steps):  # interleaved
            for jit in (False, True):
                start = time.perf_counter()
                gans[jit].train_on_batch(images)
                steady[jit].append(time.perf_counter() - start)
        off, on = np.median(steady[False]), np.median(steady[True])
        extra = first[True] - first[False]
        saved = off - on
        breakeven = f"{extra / saved:.0f}" if saved > 0 else "never"
        rows.append((width, first[False], first[True], off, on, off / on, breakeven))
    print("| width | first step, XLA off (s) | first step, XLA on (s) | steady step, off (s) "
          "| steady step, on (s) | speed-up on/off | XLA pays off after (steps) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for width, f_off, f_on, off, on, ratio, breakeven in rows:
        print(f"| {width} | {f_off:.2f} | {f_on:.2f} | {off:.3f} | {on:.3f} | {ratio:.2f}x "
              f"| {breakeven} |")


if __name__ == "__main__":
    main()
