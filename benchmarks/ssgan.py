"""Semi-supervised GAN against its supervised baseline: Fashion-MNIST test accuracy with
10 (and 100) labels per class (issue 16's acceptance: with 10 labels per class, the median
over 3 seeds beats the same discriminator trained on those labels alone by >= 5 points).

For each seed and labels-per-class, side by side on the same machine:
- `ssgan`: the `ssgan` preset's networks and trainer (K+1 discriminator, feature matching,
  Adam(3e-4, beta_1 0.5)) on the `data.labeled_per_class` pipeline: every batch half from
  the seeded labelled subset, half unlabelled from all 60,000 training images;
- `supervised`: the same `SSGANDiscriminator` (same width, dropout, initial weights' seed,
  optimizer) trained with cross-entropy on the same labelled subset only, the same number
  of steps with the same number of labelled examples per step (half the batch).
Both report the accuracy on the whole test split (10,000 images) after the last step
(`tfgans.metrics.classifier_accuracy`) and their training time. One line per run, then a
markdown table with the medians over the seeds and the gap in points.

    python -m benchmarks.ssgan                           # 3 seeds, 10 labels/class
    python -m benchmarks.ssgan --per-class 10 100 --steps 1500 --width 32
    python -m benchmarks.ssgan --seeds 0 --steps 100     # smoke
    python -m benchmarks.ssgan --architecture mlp --batch 200 --lr 3e-3 \
        --unsupervised-weight 0.5 --steps 1500 --every 500 --jit   # the paper's MNIST setup

Measured here: see README "SSGAN" (the table this script prints, with its arguments and
the machine's load).
"""

import argparse
import time

import numpy as np


def _test_arrays():
    from pipelines.data import load_fashion_mnist_arrays

    images, labels = load_fashion_mnist_arrays("test")
    return images[..., None].astype(np.float32) / 127.5 - 1.0, labels


def _test_batches(batch=1000):
    images, labels = _test_arrays()
    return [(images[i:i + batch], labels[i:i + batch]) for i in range(0, len(images), batch)]


def _optimizer(lr, steps=None, decay_start=None):
    """Adam(lr, beta_1 0.5); with `decay_start`, its rate falls linearly from there to 0 at
    `steps` (CycleGAN's `LinearDecay`)."""
    import keras

    if decay_start is not None:
        from tfgans.training.cyclegan import LinearDecay

        lr = LinearDecay(lr, decay_start, steps)
    return keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.999)


def _fit_and_measure(model, dataset, steps, every, classify):
    """[(step, test accuracy, training seconds so far)] every `every` steps: one `fit` whose
    epochs are `every` steps long (one iterator over the data throughout), measured at each
    epoch's end (the measuring time is not counted)."""
    import keras

    from tfgans.metrics import classifier_accuracy

    out = []

    class Measure(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds, self.start = 0.0, time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds += time.perf_counter() - self.start
            step = (epoch + 1) * every
            out.append((step, classifier_accuracy(classify, _test_batches())[0], self.seconds))
            self.start = time.perf_counter()

    if steps % every:
        raise SystemExit(f"--steps ({steps}) must be a multiple of --every ({every}).")
    model.fit(dataset, steps_per_epoch=every, epochs=steps // every, verbose=0,
              callbacks=[Measure()])
    return out


def train_ssgan(seed, per_class, steps, width, batch, lr, jit, every, architecture="conv",
                unsupervised_weight=1.0, decay_start=None, entropy_weight=0.0):
    """[(step, test accuracy, training seconds)] of the semi-supervised GAN."""
    import keras

    import tfgans.models
    from pipelines.data import load_fashion_mnist_arrays, semi_supervised
    from tfgans.training import SSGAN

    keras.utils.set_random_seed(seed)
    images, labels = load_fashion_mnist_arrays("train")
    dataset = semi_supervised(images[..., None], labels, per_class, batch, seed, repeat=True)
    g, d = tfgans.models.get("ssgan")((28, 28, 1), 100, 10, width=width,
                                      architecture=architecture)
    gan = SSGAN(g, d, latent_dim=100, num_classes=10, seed=seed)
    gan.compile(_optimizer(lr, steps, decay_start), _optimizer(lr, steps, decay_start),
                unsupervised_weight=unsupervised_weight, entropy_weight=entropy_weight,
                jit_compile=jit)
    return _fit_and_measure(gan, dataset, steps, every, gan.classify)


def train_supervised(seed, per_class, steps, width, batch, lr, jit, every, architecture="conv",
                     unsupervised_weight=None, decay_start=None, entropy_weight=None):
    """[(step, test accuracy, training seconds)] of the same discriminator on the labels
    alone."""
    import keras
    import tensorflow as tf

    import tfgans.models
    from pipelines.data import labelled_subset, load_fashion_mnist_arrays

    keras.utils.set_random_seed(seed)
    images, labels = load_fashion_mnist_arrays("train")
    subset = labelled_subset(labels, per_class, seed)
    x = images[subset][..., None].astype(np.float32) / 127.5 - 1.0
    dataset = (tf.data.Dataset.from_tensor_slices((x, labels[subset]))
               .shuffle(len(subset), seed=seed).repeat().batch(batch // 2, drop_remainder=True))
    _, d = tfgans.models.get("ssgan")((28, 28, 1), 100, 10, width=width,
                                      architecture=architecture)
    if hasattr(d, "initialize_from_data"):  # as SSGAN.fit does, on the images it sees
        d.initialize_from_data(x)
    d.compile(_optimizer(lr, steps, decay_start),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              jit_compile=jit)
    return _fit_and_measure(d, dataset, steps, every, lambda b: d(b, training=False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--per-class", type=int, nargs="+", default=[10])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--jit", action="store_true", help="XLA for both")
    parser.add_argument("--architecture", choices=("conv", "mlp"), default="conv",
                        help="the ssgan preset's networks (mlp: the paper's MNIST ones)")
    parser.add_argument("--unsupervised-weight", type=float, default=1.0,
                        help="loss.unsupervised_weight (0.5: the paper's code)")
    parser.add_argument("--entropy-weight", type=float, default=0.0,
                        help="SSGAN's loss.entropy_weight (entropy minimisation on the "
                        "unlabelled images; 0: the paper's)")
    parser.add_argument("--decay-start", type=int, default=None,
                        help="both methods' learning rates fall linearly from this step to 0 "
                        "at --steps (default: constant)")
    parser.add_argument("--methods", nargs="+", choices=("supervised", "ssgan"),
                        default=["supervised", "ssgan"], help="run only these (the table "
                        "needs both)")
    parser.add_argument("--every", type=int, default=None,
                        help="also measure every this many steps (default: at the end)")
    args = parser.parse_args(argv)
    every = args.every or args.steps
    rows = []
    for per_class in args.per_class:
        for seed in args.seeds:
            for method, fn in (("supervised", train_supervised), ("ssgan", train_ssgan)):
                if method not in args.methods:
                    continue
                for step, accuracy, seconds in fn(seed, per_class, args.steps, args.width,
                                                  args.batch, args.lr, args.jit, every,
                                                  args.architecture,
                                                  args.unsupervised_weight,
                                                  decay_start=args.decay_start,
                                                  entropy_weight=args.entropy_weight):
                    rows.append((per_class, seed, method, step, accuracy))
                    print(f"per_class {per_class} seed {seed} {method:<10} step {step} test "
                          f"accuracy {accuracy:.4f}  train {seconds:.0f} s", flush=True)
    decay = "" if args.decay_start is None else f" decaying linearly from step {args.decay_start}"
    print(f"\n{args.architecture} width {args.width}, batch {args.batch} (half labelled), lr "
          f"{args.lr}{decay}, unsupervised weight {args.unsupervised_weight}, entropy weight "
          f"{args.entropy_weight}, XLA {args.jit}, "
          f"seeds {args.seeds}\n")
    if len(args.methods) < 2:
        return
    print("| labels per class | step | seed | SSGAN | supervised only | gap (points) |")
    print("|---|---|---|---|---|---|")
    for per_class in args.per_class:
        for step in sorted({r[3] for r in rows}):
            accs = {"ssgan": [], "supervised": []}
            for seed in args.seeds:
                a = {m: acc for p, s, m, st, acc in rows
                     if (p, s, st) == (per_class, seed, step)}
                for m in accs:
                    accs[m].append(a[m])
                print(f"| {per_class} | {step} | {seed} | {a['ssgan']:.4f} | "
                      f"{a['supervised']:.4f} | {100 * (a['ssgan'] - a['supervised']):+.1f} |")
            if len(args.seeds) > 1:
                med = {m: float(np.median(v)) for m, v in accs.items()}
                print(f"| {per_class} | {step} | median | {med['ssgan']:.4f} | "
                      f"{med['supervised']:.4f} | "
                      f"{100 * (med['ssgan'] - med['supervised']):+.1f} |")


if __name__ == "__main__":
    main()
