"""The unrolled-GAN paper's ring of 8 Gaussians: modes covered and high-quality rate of the
GAN, the unrolled GAN and WGAN-GP, same networks, 3 seeds, median (issue 16's table).

Each run is the config's trainer (`configs/gan_ring8.yaml`, `configs/unrolled_ring8.yaml`;
WGAN-GP: the same networks with the wasserstein loss, penalty 10, 5 critic steps and
WGAN-GP's Adam(1e-4, 0, 0.9)), built through the resolved config and trained with
`fit` on the ring's stream (`--chunk` steps per execution; XLA with `--jit`: on a loaded
2-core CPU its compile time costs more than it saves at this size). After training, 2,500
samples of the generator are scored (`tfgans.metrics.mode_coverage`: within 3 std of a
mode is high quality; a mode with >= 20 of them is covered, PacGAN's rule).

    python -m benchmarks.ring --verbose --plots runs/ring   # the README's table
    python -m benchmarks.ring --steps 25000 --batch 512 --lr-scale 1 --unrolled-steps 10
                                                             # the paper's settings
    python -m benchmarks.ring --steps 200 --seeds 1          # smoke

Scaled down (the defaults): the paper trains 25,000 steps at learning rate 1e-4, batch
512, 10 unrolling steps; on 2 shared CPU cores 9 such runs take hours, so the defaults are
500 steps, batch 256, learning rates x20 (`--lr-scale`: 2e-3) so that the runs travel
further per step, and 5 unrolling steps. At that scale no method places samples within
3 std (0.06) of the modes yet: the table's numbers are not the paper's result (see README,
"2-D: ring of 8 Gaussians"); `--plots` writes each run's scatter plot.
"""

import argparse
import statistics
import time

METHODS = {
    "GAN": ("configs/gan_ring8.yaml", []),
    "unrolled GAN": ("configs/unrolled_ring8.yaml", []),
    "WGAN-GP": ("configs/gan_ring8.yaml", [
        "loss.name=wasserstein", "loss.gradient_penalty=10.0", "loss.n_critic=5",
        "optimizer.beta_1=0.0", "optimizer.beta_2=0.9"]),
}


def train_one(method, seed, args):
    import keras

    from pipelines import config as config_lib
    from pipelines import points_run, run
    from pipelines.data import points as points_lib
    from tfgans.metrics import mode_coverage

    path, overrides = METHODS[method]
    lr = 1e-4 * args.lr_scale
    overrides = overrides + [
        f"train.seed={seed}", f"train.steps={args.steps}", f"data.batch_size={args.batch}",
        f"optimizer.generator_lr={lr}", f"optimizer.discriminator_lr={lr}"]
    if method == "unrolled GAN":
        overrides.append(f"loss.unrolled_steps={args.unrolled_steps}")
    config = config_lib.load_config(path, overrides)
    config = config_lib.resolve(config, (2,), None)
    keras.utils.set_random_seed(seed)
    import tfgans.models

    preset = tfgans.models.get(config.model.name)
    trainer_cls = config_lib.trainer_class(config)
    networks = preset.networks(trainer_cls.TRAINED, (2,), config.model.latent_dim, None,
                               config.model.to_dict())
    optimizers = {n: run.make_optimizer(config.optimizer, n) for n in trainer_cls.TRAINED}
    trainer = trainer_cls.create(networks, optimizers,
                                 **config_lib.trainer_arguments(config))
    trainer.set_execution(jit_compile=args.jit, steps_per_execution=args.chunk)
    dataset = points_lib.points_dataset("ring_of_gaussians", args.batch, seed=seed)
    start = time.perf_counter()
    trainer.fit(dataset, steps_per_epoch=args.chunk, epochs=1, verbose=0, check=False)
    first = time.perf_counter() - start  # the first chunk: tracing and compiling included
    if args.steps > args.chunk:
        trainer.fit(dataset, steps_per_epoch=args.steps - args.chunk, epochs=1, verbose=0,
                    check=False)
    seconds = time.perf_counter() - start
    if args.verbose:
        rest = (seconds - first) / max(args.steps - args.chunk, 1)
        print(f"  {method} seed {seed}: first chunk {first:.1f} s, then {1000 * rest:.1f} ms "
              "per step", flush=True)
    centers, std = points_lib.mixture("ring_of_gaussians")
    points = trainer.generate(num_samples=2500, seed=1000 + seed)
    result = mode_coverage(points, centers, std, min_count=points_run.min_count(2500))
    if args.plots:
        from tfgans.callbacks import write_png

        trainer.reference_points = points_lib.reference_points("ring_of_gaussians")
        name = method.lower().replace(" ", "_").replace("-", "_")
        write_png(f"{args.plots}/{name}_seed{seed}.png", trainer.scatter(points))
    return result.modes, result.high_quality_rate, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr-scale", type=float, default=20.0)
    parser.add_argument("--unrolled-steps", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    parser.add_argument("--plots", default=None, help="a folder for the scatter plots")
    parser.add_argument("--jit", action="store_true", help="XLA (jit_compile=True)")
    parser.add_argument("--verbose", action="store_true", help="time each run's steps")
    args = parser.parse_args(argv)
    if args.steps % args.chunk:
        parser.error("--steps must be a multiple of --chunk")
    begin = time.perf_counter()
    rows = []
    for method in args.methods:
        results = [train_one(method, seed, args) for seed in range(args.seeds)]
        modes = [r[0] for r in results]
        rates = [r[1] for r in results]
        rows.append((method, statistics.median(modes), modes,
                     statistics.median(rates), rates, sum(r[2] for r in results)))
        print(f"{method}: modes {modes}, high-quality rate {[round(r, 3) for r in rates]}, "
              f"{rows[-1][-1]:.0f} s", flush=True)
    print(f"\nRing of 8 Gaussians, {args.steps} steps, batch {args.batch}, learning rates "
          f"{1e-4 * args.lr_scale:g}, unrolled steps {args.unrolled_steps}, seeds 0-"
          f"{args.seeds - 1}, 2,500 samples each:\n")
    print("| method | modes covered (median of 8) | per seed | high-quality rate (median) "
          "| per seed | train s (all seeds) |")
    print("|---|---|---|---|---|---|")
    for method, m, modes, r, rates, seconds in rows:
        print(f"| {method} | {m:g} | {', '.join(map(str, modes))} | {r:.3f} | "
              f"{', '.join(f'{x:.3f}' for x in rates)} | {seconds:.0f} |")
    print(f"\nTotal {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
