"""Image -> image families at a stated budget, next to their simple baselines.

pix2pix (configs/pix2pix_edges2fashion.yaml, edges -> garments), trained in-process with
`Pix2Pix.fit` in chunks of `--chunk` steps up to `--steps` (or `--seconds` of training,
whichever comes first); after each chunk its outputs are measured on `--num-samples`
held-out pairs of the test split (never trained on): PSNR, SSIM, L1 and, at the end, FID
on the committed Fashion-MNIST classifier, next to the identity baseline (the edge map
itself as the output). It reports the first measured step at which pix2pix's L1 to the
target is below half the identity's (issue 17's learning criterion). Evaluation time is
not charged to the budget.

    python -m benchmarks.image_to_image                       # the table below
    python -m benchmarks.image_to_image --steps 60 --chunk 20  # smoke

Prints a markdown table per family, the machine's load average and the wall times.
Inpainting (`--family inpainting`, configs/inpainting_fashion.yaml, centre hole) is
measured the same way against the mean-fill baseline, on L1 and PSNR inside the hole.

    python -m benchmarks.image_to_image --family inpainting --grid docs/inpainting_grid.png

CycleGAN and SRGAN get their rows when those families land.
"""

import argparse
import os
import time

import numpy as np


def load_average():
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return None


def _table(rows):
    head = "| budget | model | PSNR (dB) | SSIM | L1 | FID |"
    lines = [head, "|---|---|---|---|---|---|"]
    for budget, name, m in rows:
        fid = f"{m['fid']:.2f}" if "fid" in m else "-"
        lines.append(f"| {budget} | {name} | {m['psnr']:.2f} | {m['ssim']:.4f} | "
                     f"{m['l1']:.4f} | {fid} |")
    return "\n".join(lines)


def pix2pix(args):
    import keras

    import tfgans.models
    from pipelines import config as config_lib
    from pipelines.data import edges2fashion
    from tfgans.metrics import evaluate_translation
    from tfgans.training import Pix2Pix

    config = config_lib.load_config(
        "configs/pix2pix_edges2fashion.yaml",
        [f"model.width={args.width}", f"model.discriminator_width={args.width}",
         f"data.batch_size={args.batch_size}"])
    keras.utils.set_random_seed(config.train.seed)
    values = config.model.to_dict()
    generator, discriminator = tfgans.models.get("pix2pix")(
        (28, 28, 1), None, **{k: v for k, v in values.items() if k != "name"})
    trainer = Pix2Pix(generator, discriminator, seed=config.train.seed)
    o = config.optimizer
    trainer.compile(
        keras.optimizers.Adam(o.generator_lr, beta_1=o.beta_1, beta_2=o.beta_2),
        keras.optimizers.Adam(o.discriminator_lr, beta_1=o.beta_1, beta_2=o.beta_2),
        loss=config.loss.name, l1_weight=config.loss.l1_weight, jit_compile=args.jit)
    train = edges2fashion(config.data.batch_size, seed=config.train.seed, repeat=True)
    held_out = edges2fashion(250, split="test", shuffle=False)
    trainer.check_data(train)

    def measure(extractor=None):
        return evaluate_translation(trainer.sample, held_out, args.num_samples,
                                    extractor=extractor)

    state = {"first_half": None, "identity": None, "eval_seconds": 0.0, "step": 0}

    class Measure(keras.callbacks.Callback):
        """After each chunk (an epoch of `--chunk` steps; one iterator across epochs)."""

        def on_epoch_end(self, epoch, logs=None):
            begin = time.perf_counter()
            m = measure()
            state["eval_seconds"] += time.perf_counter() - begin
            step = state["step"] = int(trainer.step.numpy())
            identity = state["identity"] = state["identity"] or {
                k[len("identity_"):]: v for k, v in m.items() if k.startswith("identity_")}
            trained = time.perf_counter() - state["start"] - state["eval_seconds"]
            print(f"  step {step:5d} ({trained:7.1f} s): L1 {m['l1']:.4f} (identity "
                  f"{identity['l1']:.4f}), PSNR {m['psnr']:.2f}, SSIM {m['ssim']:.4f}",
                  flush=True)
            if state["first_half"] is None and m["l1"] < 0.5 * identity["l1"]:
                state["first_half"] = step
            if trained >= args.seconds:
                self.model.stop_training = True

    print(f"pix2pix: width {args.width}, batch {config.data.batch_size}, load {load_average()}",
          flush=True)
    state["start"] = time.perf_counter()
    trainer.fit(train, steps_per_epoch=args.chunk, epochs=max(1, args.steps // args.chunk),
                verbose=0, check=False, callbacks=[Measure()])
    trained = time.perf_counter() - state["start"] - state["eval_seconds"]
    step, first_half = state["step"], state["first_half"]
    final = measure("fashion_mnist")
    identity = {k[len("identity_"):]: v for k, v in final.items() if k.startswith("identity_")}
    budget = f"{step} steps, {trained:.0f} s"
    print()
    print(_table([(budget, "pix2pix", final), ("-", "identity (edges as output)", identity)]))
    print(f"\nL1 below half the identity's: "
          f"{'at step ' + str(first_half) if first_half else 'not reached'} "
          f"(measured every {args.chunk} steps on {args.num_samples} held-out pairs); "
          f"load average {load_average()}")


def inpainting(args):
    """The context encoder (configs/inpainting_fashion.yaml, centre 14x14 hole) at
    `--width`, against the mean fill: L1 and PSNR inside the hole on held-out test
    examples, measured every `--chunk` steps; the first step at which its hole L1 is
    below the mean fill's. Writes the masked | output | target grid with `--grid`."""
    import keras

    import tfgans.models
    from pipelines import config as config_lib
    from pipelines.data import fashion_inpaint
    from tfgans.metrics import evaluate_translation
    from tfgans.training import Inpainting

    config = config_lib.load_config(
        "configs/inpainting_fashion.yaml",
        [f"model.width={args.width}", f"model.discriminator_width={args.width}",
         f"data.batch_size={args.batch_size}"])
    keras.utils.set_random_seed(config.train.seed)
    names = tfgans.models.get("inpainting").keys
    generator, discriminator = tfgans.models.get("inpainting")(
        (28, 28, 1), None, **{k: v for k, v in config.model.to_dict().items() if k in names})
    trainer = Inpainting(generator, discriminator, seed=config.train.seed)
    o, loss = config.optimizer, config.loss
    trainer.compile(
        keras.optimizers.Adam(o.generator_lr, beta_1=o.beta_1, beta_2=o.beta_2),
        keras.optimizers.Adam(o.discriminator_lr, beta_1=o.beta_1, beta_2=o.beta_2),
        loss=loss.name, adversarial_weight=loss.adversarial_weight,
        reconstruction=loss.reconstruction, jit_compile=args.jit)
    train = fashion_inpaint(config.data.batch_size, seed=config.train.seed, repeat=True)
    held_out = fashion_inpaint(250, split="test", shuffle=False)
    trainer.check_data(train)
    state = {"first_below": None, "eval_seconds": 0.0, "step": 0}

    class Measure(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            begin = time.perf_counter()
            m = evaluate_translation(trainer.sample, held_out, args.num_samples)
            state["eval_seconds"] += time.perf_counter() - begin
            step = state["step"] = int(trainer.step.numpy())
            trained = time.perf_counter() - state["start"] - state["eval_seconds"]
            print(f"  step {step:5d} ({trained:7.1f} s): hole L1 {m['hole_l1']:.4f} (mean fill "
                  f"{m['meanfill_hole_l1']:.4f}), hole PSNR {m['hole_psnr']:.2f} "
                  f"({m['meanfill_hole_psnr']:.2f})", flush=True)
            if state["first_below"] is None and m["hole_l1"] < m["meanfill_hole_l1"]:
                state["first_below"] = step
            if trained >= args.seconds:
                self.model.stop_training = True

    print(f"inpainting: width {args.width}, batch {config.data.batch_size}, load "
          f"{load_average()}", flush=True)
    state["start"] = time.perf_counter()
    trainer.fit(train, steps_per_epoch=args.chunk, epochs=max(1, args.steps // args.chunk),
                verbose=0, check=False, callbacks=[Measure()])
    trained = time.perf_counter() - state["start"] - state["eval_seconds"]
    final = evaluate_translation(trainer.sample, held_out, args.num_samples,
                                 extractor="fashion_mnist")
    fill = {k[len("meanfill_"):]: v for k, v in final.items() if k.startswith("meanfill_")}
    print()
    rows = [(f"{state['step']} steps, {trained:.0f} s", "context encoder", final),
            ("-", "mean fill (hole = mean of known pixels)", fill)]
    print(_table(rows))
    print("\n| model | hole L1 | hole PSNR (dB) |\n|---|---|---|")
    for _, name, m in rows:
        print(f"| {name} | {m['hole_l1']:.4f} | {m['hole_psnr']:.2f} |")
    print(f"\nhole L1 below the mean fill's: "
          f"{'at step ' + str(state['first_below']) if state['first_below'] else 'not reached'}"
          f" (measured every {args.chunk} steps on {args.num_samples} held-out examples); "
          f"load average {load_average()}")
    if args.grid:
        from tfgans.callbacks import image_grid, write_png

        source, target, mask = (x.numpy()[:8] for x in next(iter(held_out)))
        grid = np.stack([source, trainer.sample(source, mask), target], 1).reshape(-1, 28, 28, 1)
        write_png(args.grid, image_grid(grid, 3))
        print(f"grid (masked | output | target): {args.grid}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=240.0,
                        help="training wall-time budget (evaluation not counted)")
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-samples", type=int, default=500)
    parser.add_argument("--jit", action="store_true", help="XLA (off by default on CPUs)")
    parser.add_argument("--family", choices=("pix2pix", "inpainting"), default="pix2pix")
    parser.add_argument("--grid", help="inpainting: write masked | output | target here")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    {"pix2pix": pix2pix, "inpainting": inpainting}[args.family](args)


if __name__ == "__main__":
    main()
