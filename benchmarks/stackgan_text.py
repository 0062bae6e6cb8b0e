"""Benchmark of StackGAN's text conditioning: does the generated garment show the class the
description names?

    .venv/bin/python benchmarks/stackgan_text.py [--steps 800] [--stage1-steps 400]
                                                 [--width 16] [--batch-size 32]
                                                 [--kl-weight 0.1] [--seeds 0 1 2]

Trains the `stackgan` preset on `fashion_mnist_captions` once per seed and, for each
description below (one per class seen in training, and one per class in a new word order
with words in new combinations, not in the captions), generates `--samples` images and
counts how often the shipped Fashion-MNIST classifier assigns the described class. Prints
a Markdown table (accuracy per description and seed, the mean over seen and over unseen
ones per seed, their mean over the seeds), the chance level (10%) and each run's training
time (wall and process CPU seconds, so a loaded machine's figures can be compared).

`--diagnose` also prints, per seed, where the text's control is lost (`diagnose`): how
well each network's text embedding separates the classes, the size of the conditioning
augmentation's code mean against its noise, how much the images vary with the text
against the noise, and whether the discriminators prefer an image's own description.
"""

import argparse
import os
import sys
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

#: (class id, description not in the shipped captions: new word order / combinations).
UNSEEN = [
    (0, "cotton t-shirt, short-sleeved"),
    (1, "trousers, long and straight"),
    (2, "pullover knitted warm with sleeves long"),
    (3, "dress for summer, long"),
    (4, "coat for winter, heavy with buttons"),
    (5, "sandal with straps, open, for summer"),
    (6, "shirt with a collar, button down"),
    (7, "sneaker with laces, white, sports"),
    (8, "handbag in leather with a handle"),
    (9, "boot for the ankle in leather, low heel"),
]


def cpu_seconds():
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def train(steps, stage1_steps, width, batch_size, kl_weight=0.1, seed=0, verbose=0, lr=2e-4,
          ema=None):
    """Returns the trained `StackGAN`, its training time in seconds and in CPU seconds
    (Adam(`lr`, beta_1 0.5) for the four networks; `ema`: the generators' EMA decay)."""
    import keras

    import tfgans.models
    from pipelines.data import build_dataset, captions
    from tfgans.training import StackGAN

    keras.utils.set_random_seed(seed)
    networks = tfgans.models.get("stackgan")(
        (28, 28, 1), 64, vocabulary=captions.fashion_vocabulary(), width=width)
    trainer = StackGAN(**networks, latent_dim=64, stage1_steps=stage1_steps,
                       sample_texts=[c[0] for c in captions.fashion_captions()],
                       ema_decay=ema, seed=seed)
    adam = [keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.999) for _ in range(4)]
    trainer.compile(*adam, kl_weight=kl_weight)
    dataset = build_dataset("fashion_mnist_captions", batch_size, seed=seed, repeat=True)
    start, cpu = time.perf_counter(), cpu_seconds()
    trainer.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=verbose)
    return trainer, time.perf_counter() - start, cpu_seconds() - cpu


def class_accuracy(trainer, descriptions, samples, seed=0):
    """[(class, description, accuracy)]: how often the shipped classifier finds `class`
    in `samples` images generated for the description."""
    from tfgans.metrics import get_extractor

    extractor = get_extractor("fashion_mnist")
    rows = []
    for cls, text in descriptions:
        images = trainer.sample(samples, seed=seed, text=text)
        predicted = np.argmax(extractor.logits(images), axis=-1)
        rows.append((cls, text, float(np.mean(predicted == cls))))
    return rows


def centroid_accuracy(embeddings, labels):
    """Leave-one-out nearest-class-centroid accuracy of `embeddings` [N, D] (how well
    they separate the classes `labels` [N]; chance 0.1 for 10 balanced classes)."""
    embeddings, labels = np.asarray(embeddings, np.float64), np.asarray(labels)
    correct = 0
    for i in range(len(embeddings)):
        others = np.arange(len(embeddings)) != i
        centroids = np.stack([embeddings[others & (labels == c)].mean(0)
                              for c in np.unique(labels)])
        nearest = np.argmin(((centroids - embeddings[i]) ** 2).sum(-1))
        correct += int(np.unique(labels)[nearest] == labels[i])
    return correct / len(embeddings)


def diagnose(trainer, num_images=200, seed=0):
    """{measure: value} of where the text's control over the class is lost:

    - `*_text_separation`: `centroid_accuracy` of each network's embedding of the 60
      shipped captions (the generators read stage I's; chance 0.1);
    - `code{1,2}_mean_rms`, `code{1,2}_std_rms`: RMS of the conditioning augmentation's
      mean and standard deviation over those captions (a mean much smaller than the std:
      the code is mostly noise);
    - `pixel_var_over_text` / `pixel_var_over_noise`: pixel variance of generated images
      across the 10 first descriptions (same noise) and across 16 noises (same text);
    - `d{1,2}_prefers_own_text`: on `num_images` test images, how often the
      discriminator scores the image's class description above another class's.
    """
    import tensorflow as tf

    from pipelines.data import captions
    from pipelines.data.fashion_tasks import fashion_arrays
    from tfgans.training.stackgan import downsample

    per_class = captions.fashion_captions()
    texts = tf.constant([t for per in per_class for t in per])
    labels = [c for c, per in enumerate(per_class) for _ in per]
    g1, g2 = trainer.stage1_generator, trainer.stage2_generator
    d1, d2 = trainer.stage1_discriminator, trainer.stage2_discriminator
    embedding = g1.embed(texts)
    out = {"g1_text_separation": centroid_accuracy(embedding, labels),
           "d1_text_separation": centroid_accuracy(d1.embed(texts), labels),
           "d2_text_separation": centroid_accuracy(d2.embed(texts), labels)}
    for stage, generator in ((1, g1), (2, g2)):
        mean, log_variance = generator.augment(embedding)
        out[f"code{stage}_mean_rms"] = float(np.sqrt(np.mean(np.square(mean))))
        out[f"code{stage}_std_rms"] = float(np.sqrt(np.mean(np.exp(log_variance))))
    images = np.stack([trainer.sample(16, seed=seed, text=per[0]) for per in per_class])
    out["pixel_var_over_text"] = float(images.var(axis=0).mean())
    out["pixel_var_over_noise"] = float(images.var(axis=1).mean())
    real, classes = fashion_arrays("test")
    real = tf.constant(real[:num_images].astype(np.float32) / 127.5 - 1.0)
    rng = np.random.default_rng(seed)
    own = [per_class[c][rng.integers(len(per_class[c]))] for c in classes[:num_images]]
    other = [per_class[(c + rng.integers(1, 10)) % 10][0] for c in classes[:num_images]]
    for stage, d, x in ((1, d1, downsample(real)), (2, d2, real)):
        s_own = np.asarray(d([x, tf.constant(own)]))[:, 0]
        s_other = np.asarray(d([x, tf.constant(other)]))[:, 0]
        out[f"d{stage}_prefers_own_text"] = float(np.mean(s_own > s_other))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--stage1-steps", type=int, default=400)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--kl-weight", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam's, all four networks")
    parser.add_argument("--ema", type=float, default=None, help="generators' EMA decay")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--diagnose", action="store_true",
                        help="also print `diagnose`'s measures for each seed")
    parser.add_argument("--grid", metavar="FILE.png",
                        help="also write a grid of the first seed's run: one row of 8 "
                        "samples per description")
    args = parser.parse_args(argv)
    from pipelines.data import captions

    seen = [(c, per[0]) for c, per in enumerate(captions.fashion_captions())]
    columns, times = [], []
    for seed in args.seeds:
        trainer, seconds, cpu = train(args.steps, args.stage1_steps, args.width,
                                      args.batch_size, args.kl_weight, seed=seed, lr=args.lr,
                                      ema=args.ema)
        columns.append([acc for _, _, acc in class_accuracy(trainer, seen + UNSEEN,
                                                            args.samples)])
        times.append(f"seed {seed}: {seconds:.0f} s ({cpu:.0f} CPU s)")
        if args.diagnose:
            print(f"seed {seed}: " + ", ".join(
                f"{k} {v:.3f}" for k, v in diagnose(trainer, seed=seed).items()))
        if args.grid and seed == args.seeds[0]:
            from tfgans.callbacks import image_grid, write_png

            texts = [t for _, t in seen + UNSEEN for _ in range(8)]
            write_png(args.grid, image_grid(trainer.sample(len(texts), text=texts), columns=8))
    accuracy = np.array(columns).T  # [description, seed]
    print(f"StackGAN, {args.steps} steps ({args.stage1_steps} of stage I), width "
          f"{args.width}, batch {args.batch_size}, kl_weight {args.kl_weight}, lr {args.lr}, "
          f"EMA {args.ema}, "
          f"{args.samples} samples per description; trained in {'; '.join(times)}\n")
    print("| class | description | seen in training | "
          + " | ".join(f"seed {s}" for s in args.seeds) + " |")
    print("|---|---|---|" + "---|" * len(args.seeds))
    for i, (cls, text) in enumerate(seen + UNSEEN):
        print(f"| {cls} | {text} | {'yes' if i < len(seen) else 'no'} | "
              + " | ".join(f"{a:.2f}" for a in accuracy[i]) + " |")
    seen_mean, unseen_mean = accuracy[:len(seen)].mean(0), accuracy[len(seen):].mean(0)
    for name, means in (("seen", seen_mean), ("unseen", unseen_mean)):
        print(f"\nmean class accuracy, {name}: "
              + ", ".join(f"{m:.3f}" for m in means)
              + f" (mean {means.mean():.3f}, min {means.min():.3f}; chance 0.100)")


if __name__ == "__main__":
    main()
