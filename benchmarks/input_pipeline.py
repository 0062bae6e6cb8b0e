"""Benchmark of the input pipeline: images/s the fashion_mnist pipeline delivers.

    .venv/bin/python benchmarks/input_pipeline.py [--batch-sizes 64 128] [--data-dir DIR]

Prints a Markdown table: for each batch size, the images/s of the first epoch (TFDS read,
PNG decode, filling the in-memory cache) and of later epochs (from the cache), measured
by `measure_pipeline`, next to the images/s the default experiment's training step
consumes (Wasserstein-GP DCGAN, `--width` 64 as in configs/dcgan_fashion_mnist.yaml, fed
from one batch held in memory, so that the input costs nothing there) and the ratio
pipeline / training. The goal (issue 3) is a pipeline that delivers at least 10x what a
training step consumes. The first run prepares fashion_mnist in the TFDS data dir from
Debian's files (once, ~20-60 s).
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

from pipelines import data  # noqa: E402

TRAIN_EXAMPLES = 60_000


def measure_pipeline(dataset, steps, warmup=0):
    """Measures how fast `dataset` delivers batches to a Python loop (as `fit` pulls them).

    Args:
        dataset: a `tf.data.Dataset` of `images` or `(images, labels)` batches; it must
            yield at least `warmup + steps` batches (build it with `repeat=True`).
        steps: batches to time.
        warmup: batches to pull first, untimed (e.g. one epoch, to time the cached state).

    Returns:
        {"images_per_s", "batches_per_s", "seconds", "steps", "images"}.
    """
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    images = 0
    start = time.perf_counter()
    for _ in range(steps):
        batch = next(iterator)
        images += int(tf.nest.flatten(batch)[0].shape[0])
    seconds = time.perf_counter() - start
    return {
        "images_per_s": images / seconds,
        "batches_per_s": steps / seconds,
        "seconds": seconds,
        "steps": steps,
        "images": images,
    }


def measure_training(batch_size, width, steps=20, jit_compile=True):
    """Images/s `fit` consumes with the default experiment's trainer (after a warm-up)."""
    import keras

    import tfgans

    keras.utils.set_random_seed(0)
    generator, discriminator = tfgans.models.get("dcgan")((28, 28, 1), latent_dim=128, width=width)
    gan = tfgans.GAN(generator, discriminator, latent_dim=128, ema_decay=0.999)
    gan.compile(loss="wasserstein", jit_compile=jit_compile)
    images = tf.random.uniform((batch_size, 28, 28, 1), -1.0, 1.0)
    dataset = tf.data.Dataset.from_tensors(images).repeat()
    gan.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)  # tracing, compilation
    start = time.perf_counter()
    gan.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return batch_size * steps / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--data-dir", default=None, help="TFDS data dir (default: TFDS's)")
    parser.add_argument("--labels", action="store_true", help="yield (images, labels)")
    parser.add_argument("--width", type=int, default=64, help="DCGAN width of the trainer")
    parser.add_argument("--train-steps", type=int, default=20, help="timed training steps")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data.prepare_fashion_mnist(args.data_dir)
    prepare_seconds = time.perf_counter() - start

    rows = []
    for batch_size in args.batch_sizes:
        epoch = TRAIN_EXAMPLES // batch_size

        def build(batch_size=batch_size):
            return data.build_dataset(
                "fashion_mnist", batch_size, labels=args.labels, data_dir=args.data_dir,
                repeat=True,
            )

        first = measure_pipeline(build(), epoch)
        cached = measure_pipeline(build(), epoch, warmup=epoch)
        train = measure_training(batch_size, args.width, args.train_steps)
        rows.append((batch_size, first["images_per_s"], cached["images_per_s"],
                     1000 / cached["batches_per_s"], train))

    print(f"\nfashion_mnist input pipeline ({os.cpu_count()} CPU cores; "
          f"prepare/open: {prepare_seconds:.1f} s)\n")
    print("| batch | first epoch images/s | cached epochs images/s | ms/batch (cached) "
          f"| training consumes images/s (DCGAN width {args.width}, XLA) "
          "| first epoch / training | cached / training |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for batch_size, first, cached, ms, train in rows:
        print(f"| {batch_size} | {first:,.0f} | {cached:,.0f} | {ms:.2f} | {train:,.0f} "
              f"| {first / train:,.1f}x | {cached / train:,.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
