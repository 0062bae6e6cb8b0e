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
    python -m benchmarks.infogan_nmi --quick --steps 1500  # the test's dense recipe

`--quick` is the cheapest recipe found (tests/test_infogan.py trains it 1000 steps):
`build_infogan_mlp` networks of 512 units, 16 noise variables, one 10-way code and no
continuous ones, lambda 2, Adam G 3e-3 / D 2e-3, batch 64. Measured (load ~40, seeds
0 / 1 / 2, 1000 steps, ~33 s of CPU each): NMI 0.606 / 0.606 / 0.687, distinct classes
8 / 6 / 9 (README, "InfoGAN", has every step).

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

With the preset's convolutional networks the acceptance (NMI >= 0.3 and >= 7 distinct
classes) is first met at 1250 steps: minutes of training even on an idle machine, too long
for a test; the `--quick` dense recipe meets it at 500-1000 steps.
"""

import argparse
import time

import numpy as np


def build(args):
    """The networks and the trainer's code and optimizer settings of `args.arch`."""
    import tfgans.models
    from tfgans.models.infogan import build_infogan_mlp

    if args.arch == "mlp":
        networks = build_infogan_mlp((28, 28, 1), args.latent, hidden_units=(args.width,),
                                     continuous_codes=args.continuous_codes)
    else:
        networks = tfgans.models.get("infogan")((28, 28, 1), args.latent, width=args.width,
                                                continuous_codes=args.continuous_codes)
    return networks


def train_and_measure(seed, args, grids=None):
    steps, every, batch, latent = args.steps, args.every, args.batch, args.latent
    num_samples, jit = args.num_samples, args.jit
    import keras
    import tensorflow as tf

    from pipelines.data import load_fashion_mnist_arrays
    from tfgans.metrics import get_extractor
    from tfgans.training import InfoGAN

    keras.utils.set_random_seed(seed)
    images, _ = load_fashion_mnist_arrays("train")
    images = (images[..., None].astype(np.float32) / 127.5 - 1.0)
    dataset = (tf.data.Dataset.from_tensor_slices(images).shuffle(10_000, seed=seed)
               .repeat().batch(batch, drop_remainder=True).prefetch(2))
    generator, discriminator = build(args)
    gan = InfoGAN(generator, discriminator, latent_dim=latent,
                  continuous_codes=args.continuous_codes, seed=seed)
    gan.compile(keras.optimizers.Adam(args.generator_lr, beta_1=0.5, beta_2=0.999),
                keras.optimizers.Adam(args.discriminator_lr, beta_1=0.5, beta_2=0.999),
                loss="non_saturating", info_weight=args.info_weight, jit_compile=jit,
                steps_per_execution=args.chunk)
    cpu = time.process_time()
    extractor = get_extractor("fashion_mnist")
    rows, trained = [], 0.0
    for done in range(every, steps + 1, every):
        start = time.perf_counter()
        history = gan.fit(dataset, steps_per_epoch=every, epochs=1, verbose=0, check=False)
        trained += time.perf_counter() - start
        metrics = gan.evaluation_metrics(extractor, num_samples, seed=1234)
        rows.append((seed, done, trained, time.process_time() - cpu, metrics["code_nmi"],
                     metrics["code_classes"]))
        losses = {k: v[-1] for k, v in history.history.items()}
        if grids:
            from tfgans.callbacks import image_grid, write_png

            images, columns = gan.sample_grid(100, seed=seed)
            write_png(f"{grids}/seed{seed}_step{done}.png", image_grid(images, columns=columns))
        print(f"seed {seed} step {done:5d}  train {trained:7.1f} s  CPU {rows[-1][3]:7.1f} s  NMI "
              f"{metrics['code_nmi']:.3f}  distinct classes {metrics['code_classes']}  "
              f"d_loss {losses['d_loss']:.3f}  g_loss {losses['g_loss']:.3f}  "
              f"categorical_loss {losses['categorical_loss']:.3f}", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=["conv", "mlp"], default="conv",
                        help="conv: the infogan preset's networks at --width; mlp: "
                        "build_infogan_mlp with one hidden layer of --width units")
    parser.add_argument("--quick", action="store_true",
                        help="the test's recipe: --arch mlp --width 512 --latent 16 "
                        "--continuous-codes 0 --info-weight 2 --generator-lr 3e-3 "
                        "--discriminator-lr 2e-3 (other flags still apply)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--latent", type=int, default=62)
    parser.add_argument("--continuous-codes", type=int, default=2)
    parser.add_argument("--info-weight", type=float, default=1.0)
    parser.add_argument("--generator-lr", type=float, default=1e-3)
    parser.add_argument("--discriminator-lr", type=float, default=2e-4)
    parser.add_argument("--chunk", type=int, default=50, help="steps per execution")
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jit", action="store_true", help="XLA (faster on small networks)")
    parser.add_argument("--grids", metavar="DIR", help="write each evaluation's sample grid")
    args = parser.parse_args(argv)
    if args.quick:
        args.arch, args.width, args.latent, args.continuous_codes = "mlp", 512, 16, 0
        args.info_weight, args.generator_lr, args.discriminator_lr = 2.0, 3e-3, 2e-3
    if args.every <= 0 or args.steps % args.every or args.every % args.chunk:
        parser.error("--steps must be a multiple of --every, and --every of --chunk")
    rows = []
    for seed in args.seeds:
        rows += train_and_measure(seed, args, args.grids)
    print(f"\nInfoGAN on Fashion-MNIST, {args.arch} width {args.width}, batch {args.batch}, "
          f"noise {args.latent}, continuous codes {args.continuous_codes}, lambda "
          f"{args.info_weight:g}, Adam G {args.generator_lr:g} / D {args.discriminator_lr:g}, "
          f"{args.num_samples} samples per evaluation, XLA {args.jit}\n")
    print("| seed | step | train s | CPU s | NMI | distinct classes |")
    print("|---|---|---|---|---|---|")
    for seed, step, seconds, cpu, nmi, distinct in rows:
        print(f"| {seed} | {step} | {seconds:.1f} | {cpu:.1f} | {nmi:.3f} | {distinct} |")


if __name__ == "__main__":
    main()
