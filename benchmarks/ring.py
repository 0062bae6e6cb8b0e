"""The unrolled-GAN paper's ring of 8 Gaussians: modes covered and high-quality rate of the
GAN, the unrolled GAN and WGAN-GP, same networks, 3 seeds, median (issue 16's table).

Each run is the config's trainer at the config's settings (`configs/gan_ring8.yaml`,
`configs/unrolled_ring8.yaml`: the paper's appendix A, 25,000 steps, batch 512, Adam 1e-4;
WGAN-GP: the same networks with the wasserstein loss, penalty 10, 5 critic steps and
WGAN-GP's Adam(1e-4, 0, 0.9)), built through the resolved config and trained with `fit`
on the ring's fresh stream (batch b a function of (seed, b), never repeated). Every
`--every` steps, 2,500 samples of the generator are scored (`tfgans.metrics.mode_coverage`:
within 3 std of a mode is high quality; a mode with >= 20 of them is covered, PacGAN's
rule), so each run prints its trajectory; the table holds the last evaluation.

    python -m benchmarks.ring --jobs 9 --plots runs/ring    # the README's table (9 runs)
    python -m benchmarks.ring --methods GAN --seeds 0 --steps 2000 --every 1000   # smoke

`--jobs N` trains N runs at once, each in its own process (the networks are tiny: a step
is a few ms of one core, so runs scale with cores, not with threads). `--steps`,
`--batch`, `--lr` and `--unrolled-steps` override the configs (for quick looks; the
README's table uses none of them).
"""

import argparse
import multiprocessing
import statistics
import time

METHODS = {
    "GAN": ("configs/gan_ring8.yaml", []),
    "unrolled GAN": ("configs/unrolled_ring8.yaml", []),
    "WGAN-GP": ("configs/gan_ring8.yaml", [
        "loss.name=wasserstein", "loss.gradient_penalty=10.0", "loss.n_critic=5",
        "optimizer.beta_1=0.0", "optimizer.beta_2=0.9"]),
}
NUM_SAMPLES = 2500


def overrides_for(method, seed, args):
    """The `--set` overrides of one run: the method's, the seed, and the command line's."""
    _, overrides = METHODS[method]
    overrides = overrides + [f"train.seed={seed}"]
    if args.steps:
        overrides.append(f"train.steps={args.steps}")
    if args.batch:
        overrides.append(f"data.batch_size={args.batch}")
    if args.lr:
        overrides += [f"optimizer.generator_lr={args.lr}",
                      f"optimizer.discriminator_lr={args.lr}"]
    if method == "unrolled GAN" and args.unrolled_steps is not None:
        overrides.append(f"loss.unrolled_steps={args.unrolled_steps}")
    return overrides


def train_one(method, seed, args):
    """Trains one run; returns (method, seed, [(step, modes, high-quality rate)], seconds,
    the resolved config's (steps, batch, generator lr, discriminator lr, unrolled steps))."""
    import keras

    import tfgans.models
    from pipelines import config as config_lib
    from pipelines import points_run, run
    from pipelines.data import points as points_lib
    from tfgans.metrics import mode_coverage

    path, _ = METHODS[method]
    config = config_lib.load_config(path, overrides_for(method, seed, args))
    config = config_lib.resolve(config, (2,), None)
    keras.utils.set_random_seed(seed)
    preset = tfgans.models.get(config.model.name)
    trainer_cls = config_lib.trainer_class(config)
    networks = preset.networks(trainer_cls.TRAINED, (2,), config.model.latent_dim, None,
                               config.model.to_dict())
    optimizers = {n: run.make_optimizer(config.optimizer, n) for n in trainer_cls.TRAINED}
    trainer = trainer_cls.create(networks, optimizers,
                                 **config_lib.trainer_arguments(config))
    trainer.set_execution(jit_compile=args.jit, steps_per_execution=args.chunk)
    steps, batch = config.train.steps, config.data.batch_size
    dataset = points_lib.points_dataset(config.data.name, batch, seed=seed)
    centers, std = points_lib.mixture(config.data.name)
    every = min(args.every or steps, steps)
    trajectory, seconds, done = [], 0.0, 0
    while done < steps:
        chunk = min(every, steps - done)
        start = time.perf_counter()
        # skip(done): each fit makes a new iterator; the stream goes on where it stopped.
        trainer.fit(dataset.skip(done), steps_per_epoch=chunk, epochs=1, verbose=0,
                    check=False)
        seconds += time.perf_counter() - start
        done += chunk
        points = trainer.generate(num_samples=NUM_SAMPLES, seed=1000 + seed)
        result = mode_coverage(points, centers, std,
                               min_count=points_run.min_count(NUM_SAMPLES))
        trajectory.append((done, result.modes, result.high_quality_rate))
        print(f"  {method} seed {seed} step {done}: modes {result.modes}, high-quality rate "
              f"{result.high_quality_rate:.3f} ({seconds:.0f} s)", flush=True)
        if args.plots:
            from tfgans.callbacks import write_png

            trainer.reference_points = points_lib.reference_points(config.data.name)
            name = method.lower().replace(" ", "_").replace("-", "_")
            write_png(f"{args.plots}/{name}_seed{seed}_step{done}.png",
                      trainer.scatter(points))
    settings = (steps, batch, config.optimizer.generator_lr, config.optimizer.discriminator_lr,
                config.loss.unrolled_steps)
    return method, seed, trajectory, seconds, settings


def _job(job):
    return train_one(*job)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--every", type=int, default=5000,
                        help="evaluate every this many steps (0: at the end only)")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    parser.add_argument("--steps", type=int, help="override train.steps")
    parser.add_argument("--batch", type=int, help="override data.batch_size")
    parser.add_argument("--lr", type=float, help="override both learning rates")
    parser.add_argument("--unrolled-steps", type=int, help="override loss.unrolled_steps")
    parser.add_argument("--chunk", type=int, default=100, help="steps per execution")
    parser.add_argument("--plots", default=None, help="a folder for the scatter plots")
    parser.add_argument("--jit", action="store_true", help="XLA (jit_compile=True)")
    args = parser.parse_args(argv)
    begin = time.perf_counter()
    jobs = [(m, s, args) for m in args.methods for s in args.seeds]
    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(min(args.jobs, len(jobs))) as pool:
            results = pool.map(_job, jobs, chunksize=1)
    else:
        results = [_job(job) for job in jobs]
    print(f"\nRing of 8 Gaussians, {NUM_SAMPLES:,} samples per evaluation, seeds "
          f"{', '.join(map(str, args.seeds))}; modes and rates at the last step:\n")
    print("| method | steps | batch | lr G / D | modes covered (median of 8) | per seed "
          "| high-quality rate (median) | per seed | train s per run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for method in args.methods:
        rows = [r for r in results if r[0] == method]
        modes = [r[2][-1][1] for r in rows]
        rates = [r[2][-1][2] for r in rows]
        steps, batch, g_lr, d_lr, k = rows[0][4]
        name = f"{method} (k = {k})" if k else method
        print(f"| {name} | {steps} | {batch} | {g_lr:g} / {d_lr:g} | "
              f"{statistics.median(modes):g} | {', '.join(map(str, modes))} | "
              f"{statistics.median(rates):.3f} | {', '.join(f'{x:.3f}' for x in rates)} | "
              f"{statistics.median(r[3] for r in rows):.0f} |")
    if args.every:
        print("\nModes covered by step (seeds in order):\n")
        steps = sorted({t[0] for r in results for t in r[2]})
        print("| method | " + " | ".join(map(str, steps)) + " |")
        print("|---|" + "---|" * len(steps))
        for method in args.methods:
            rows = [r for r in results if r[0] == method]
            cells = []
            for step in steps:
                found = [dict((t[0], t[1]) for t in r[2]).get(step) for r in rows]
                cells.append("/".join("-" if f is None else str(f) for f in found))
            print(f"| {method} | " + " | ".join(cells) + " |")
    print(f"\nTotal {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
