"""How fast InfoGAN's categorical code finds Fashion-MNIST's classes: NMI and distinct
majority classes against training steps (issue 16's acceptance: NMI >= 0.3 and >= 7
distinct classes after a short run).

Trains the `infogan` preset (the paper's settings: Adam D 2e-4 / G 1e-3, beta_1 0.5,
non-saturating, batch norm, lambda 1 / 0.1) with small networks on the real Fashion-MNIST
training images, and every `--every` steps generates `--num-samples` images with the
categorical code's values in turn, labels them with the committed Fashion-MNIST
classifier and prints the code/class NMI and the number of distinct majority classes over
the 10 code values (`InfoGAN.evaluation_metrics`), with the training time so far
(evaluation time not counted). One line per seed and evaluation, then a markdown table.

    python -m benchmarks.infogan_nmi --jit                 # width 16, batch 64, 3 seeds
    python -m benchmarks.infogan_nmi --steps 250 --seeds 0  # smoke
    python -m benchmarks.infogan_nmi --jit --seeds 0 --grids /tmp/grids   # + sample grids

Measured here (2 shared CPU cores under load 10-20, XLA, seed 0 only; train s excludes
the evaluations and includes ~200 s of first-step compilation under that load):

| seed | step | train s | NMI | distinct classes |
|---|---|---|---|---|
| 0 | 250 | 320.7 | 0.004 | 1 |
| 0 | 500 | 402.7 | 0.017 | 1 |
| 0 | 750 | 486.9 | 0.014 | 1 |
| 0 | 1000 | 629.7 | 0.412 | 6 |
| 0 | 1250 | 832.6 | 0.555 | 7 |
| 0 | 1500 | 1094.8 | 0.641 | 6 |
| 0 | 1750 | 1236.9 | 0.696 | 8 |
| 0 | 2000 | 1439.1 | 0.691 | 7 |

The acceptance (NMI >= 0.3 and >= 7 distinct classes) is first met at 1250 steps: minutes
of training even on an idle machine, too long for a test, so it is this benchmark.
"""

import argparse
import time

import numpy as np


def train_and_measure(seed, steps, every, width, batch, latent, num_samples, jit, grids=None):
    import keras
    import tensorflow as tf

    import tfgans.models
    from pipelines.data import load_fashion_mnist_arrays
    from tfgans.metrics import get_extractor
    from tfgans.training import InfoGAN

    keras.utils.set_random_seed(seed)
    images, _ = load_fashion_mnist_arrays("train")
    images = (images[..., None].astype(np.float32) / 127.5 - 1.0)
    dataset = (tf.data.Dataset.from_tensor_slices(images).shuffle(10_000, seed=seed)
               .repeat().batch(batch, drop_remainder=True).prefetch(2))
    generator, discriminator = tfgans.models.get("infogan")((28, 28, 1), latent, width=width)
    gan = InfoGAN(generator, discriminator, latent_dim=latent, seed=seed)
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.999),
                keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999),
                loss="non_saturating", jit_compile=jit)
    extractor = get_extractor("fashion_mnist")
    rows, trained = [], 0.0
    for done in range(every, steps + 1, every):
        start = time.perf_counter()
        history = gan.fit(dataset, steps_per_epoch=every, epochs=1, verbose=0, check=False)
        trained += time.perf_counter() - start
        metrics = gan.evaluation_metrics(extractor, num_samples, seed=1234)
        rows.append((seed, done, trained, metrics["code_nmi"], metrics["code_classes"]))
        losses = {k: v[-1] for k, v in history.history.items()}
        if grids:
            from tfgans.callbacks import image_grid, write_png

            images, columns = gan.sample_grid(100, seed=seed)
            write_png(f"{grids}/seed{seed}_step{done}.png", image_grid(images, columns=columns))
        print(f"seed {seed} step {done:5d}  train {trained:7.1f} s  NMI "
              f"{metrics['code_nmi']:.3f}  distinct classes {metrics['code_classes']}  "
              f"d_loss {losses['d_loss']:.3f}  g_loss {losses['g_loss']:.3f}  "
              f"categorical_loss {losses['categorical_loss']:.3f}", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--latent", type=int, default=62)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jit", action="store_true", help="XLA (faster on small networks)")
    parser.add_argument("--grids", metavar="DIR", help="write each evaluation's sample grid")
    args = parser.parse_args(argv)
    rows = []
    for seed in args.seeds:
        rows += train_and_measure(seed, args.steps, args.every, args.width, args.batch,
                                  args.latent, args.num_samples, args.jit, args.grids)
    print(f"\nInfoGAN on Fashion-MNIST, width {args.width}, batch {args.batch}, noise "
          f"{args.latent}, {args.num_samples} samples per evaluation, XLA {args.jit}\n")
    print("| seed | step | train s | NMI | distinct classes |")
    print("|---|---|---|---|---|")
    for seed, step, seconds, nmi, distinct in rows:
        print(f"| {seed} | {step} | {seconds:.1f} | {nmi:.3f} | {distinct} |")


if __name__ == "__main__":
    main()
