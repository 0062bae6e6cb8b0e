"""Latent inversion and semantic inpainting on a trained Fashion-MNIST GAN, next to their
baselines, measured side by side in one process.

Trains a small DCGAN (non-saturating loss, `--width`, `--steps`) in a run directory (or
reuses `--model-dir` if it holds a run), then on `--num` targets of two kinds, images of
the generator (noise of seed 123: they have an exact inverse) and held-out Fashion-MNIST
test images (they may not), reports the per-image MSE in [-1, 1] units (median) of:
- a random noise vector (the baseline of issue 17's acceptance: inversion <= 0.1x);
- the encoder's guess (`train_encoder`, on (G(z), z) pairs), before any step;
- `invert` from random starts, and from the encoder's guess (+ random restarts);
and, with a centred half-size hole on the test images, the MSE inside the hole of:
- filling with the mean of the known pixels; a random latent's image (pasted);
- `inpaint` with the run's discriminator, pasted and Poisson-blended.

    python -m benchmarks.inversion                          # the table in the README
    python -m benchmarks.inversion --steps 100 --num 4 --inversion-steps 50   # smoke

Prints markdown tables, the load average and the wall times.
"""

import argparse
import os
import tempfile
import time

import numpy as np


def _median_mse(a, b, mask=None):
    mask = np.ones_like(a[..., :1]) if mask is None else mask
    per = (np.square(a - b) * mask).sum(axis=(1, 2, 3)) / (mask.sum(axis=(1, 2, 3)) * a.shape[-1])
    return float(np.median(per))


def _train(model_dir, steps, width, latent_dim):
    from pipelines import config as config_lib
    from pipelines import run

    if os.path.exists(os.path.join(model_dir, run.CONFIG_FILE)):
        return run.load_run(model_dir)
    config = config_lib.config_from_dict({
        "model": {"name": "dcgan", "latent_dim": latent_dim, "width": width},
        "data": {"name": "fashion_mnist", "batch_size": 64},
        "loss": {"name": "non_saturating"},
        "optimizer": {"generator_lr": 2e-4, "discriminator_lr": 2e-4, "beta_1": 0.5},
        "train": {"steps": steps, "checkpoint_every": steps, "sample_every": steps,
                  "log_every": steps, "health": False},
        "eval": {"every": 0}})
    run.train(config, model_dir, verbose=0)
    return run.load_run(model_dir)


def _test_images(num):
    from pipelines import data as data_lib

    dataset = data_lib.build_dataset("fashion_mnist", num, split="test", shuffle=False,
                                     cache=False)
    batch = next(iter(dataset))
    return np.asarray(batch[0] if isinstance(batch, tuple) else batch, np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="a trained noise -> image run to reuse")
    parser.add_argument("--steps", type=int, default=1000, help="GAN training steps")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--num", type=int, default=16, help="targets of each kind")
    parser.add_argument("--inversion-steps", type=int, default=300)
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--encoder-samples", type=int, default=4096)
    args = parser.parse_args(argv)

    from tfgans import inversion

    start = time.perf_counter()
    model_dir = args.model_dir or os.path.join(tempfile.mkdtemp(prefix="inversion_bench_"), "run")
    config, estimator = _train(model_dir, args.steps, args.width, args.latent_dim)
    trainer = estimator.trainer
    trained = time.perf_counter() - start
    generator = trainer.inference_generator
    search = dict(steps=args.inversion_steps, restarts=args.restarts, seed=1)

    t0 = time.perf_counter()
    encoder = inversion.train_encoder(generator, num_samples=args.encoder_samples, epochs=10)
    encoder_s = time.perf_counter() - t0

    targets = {"generated": estimator.predict(num_samples=args.num, seed=123),
               "test images": _test_images(args.num)}
    random_images = estimator.predict(num_samples=args.num, seed=999)
    rows, timings = [], {}
    for kind, x in targets.items():
        t0 = time.perf_counter()
        cold = inversion.invert(generator, x, **search)
        timings[f"invert ({kind})"] = time.perf_counter() - t0
        warm = inversion.invert(generator, x, encoder=encoder, **search)
        guess = inversion.invert(generator, x, encoder=encoder, steps=0, restarts=1)
        rows.append((kind, _median_mse(random_images, x), _median_mse(guess.reconstructions, x),
                     _median_mse(cold.reconstructions, x), _median_mse(warm.reconstructions, x)))

    x = targets["test images"]
    mask = np.zeros((1,) + x.shape[1:3] + (1,), np.float32)
    h, w = x.shape[1:3]
    mask[:, h // 4:h // 4 + h // 2, w // 4:w // 4 + w // 2] = 1.0
    masks = np.broadcast_to(mask, x.shape[:3] + (1,))
    known_mean = (x * (1 - masks)).sum(axis=(1, 2, 3), keepdims=True) / (1 - masks).sum(
        axis=(1, 2, 3), keepdims=True)
    mean_fill = masks * known_mean + (1 - masks) * x
    discriminator = trainer.discriminator
    t0 = time.perf_counter()
    pasted = inversion.inpaint(generator, x, masks, discriminator=discriminator, blend="paste",
                               **search)
    timings["inpaint (test images)"] = time.perf_counter() - t0
    poisson = inversion.inpaint(generator, x, masks, discriminator=discriminator, **search)
    no_critic = inversion.inpaint(generator, x, masks, **search)
    inpaint_rows = [
        ("mean of the known pixels", _median_mse(mean_fill, x, masks)),
        ("random latent (pasted)", _median_mse(random_images, x, masks)),
        ("inpaint, no discriminator, Poisson", _median_mse(no_critic.images, x, masks)),
        ("inpaint, paste", _median_mse(pasted.images, x, masks)),
        ("inpaint, Poisson", _median_mse(poisson.images, x, masks)),
    ]

    print(f"Run {model_dir}: {config.model.name} width {args.width}, latent {args.latent_dim}, "
          f"step {estimator.step}; {args.num} targets each; {args.inversion_steps} Adam steps x "
          f"{args.restarts} restarts; encoder on {args.encoder_samples} pairs.\n")
    print("| targets | random z | encoder guess | invert | invert + encoder |")
    print("|---|---|---|---|---|")
    for kind, *values in rows:
        print(f"| {kind} | " + " | ".join(f"{v:.4f}" for v in values) + " |")
    print("\nMedian MSE per image ([-1, 1] units). Inpainting, centred half-size hole, "
          "test images, MSE inside the hole:\n")
    print("| fill | hole MSE |")
    print("|---|---|")
    for name, value in inpaint_rows:
        print(f"| {name} | {value:.4f} |")
    print(f"\ntraining {trained:.0f} s, encoder {encoder_s:.0f} s, "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
          + f"; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
