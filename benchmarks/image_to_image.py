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
    python -m benchmarks.image_to_image --family cyclegan --steps 1000 --chunk 100 \
        --batch-size 4 --grid docs/cyclegan_sneaker2boot.png

CycleGAN (configs/cyclegan_sneaker2boot.yaml, sneakers <-> ankle boots, unpaired), with
`--family cyclegan`: trained the same way, measured after each chunk on `--num-samples`
held-out images of each domain (the test split): the translation accuracy (the committed
Fashion-MNIST classifier assigns the target class: boot for A -> B, sneaker for B -> A)
next to the identity mapping's, and at the end the cycle L1 and FID of each direction.
It reports the first measured step at which the mean accuracy is at least 60% and above the
identity's (issue 17's learning criterion), and `--grid PATH` writes a PNG grid of held-out
sneakers -> boots (rows of a | G(a) | F(G(a))).

SRGAN (`--family srgan`, configs/srgan_fashion_x4.yaml, 7x7 -> 28x28): the generator is
pretrained on the MSE for `--pretrain-steps` (SRResNet) and measured; then it trains
adversarially (content + 1e-3 adversarial) for `--adversarial-steps` and is measured again,
both on `--num-samples` held-out pairs next to bicubic upsampling. Issue 17's criteria:
SRResNet's PSNR at least bicubic's + 1 dB; the adversarial phase lowers the FID (the
Fashion-MNIST classifier's features) of the outputs vs the pretrained-only model.
`--grid FILE.png` writes held-out rows of low-res | bicubic | SRGAN | target.

Inpainting (`--family inpainting`, configs/inpainting_fashion.yaml, centre hole) is
measured the same way against the mean-fill baseline, on L1 and PSNR inside the hole.

    python -m benchmarks.image_to_image --family inpainting --grid docs/inpainting_grid.png

Prints a markdown table per family, the machine's load average and the wall times.
"""

import argparse
import os
import tempfile
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


def _write_paired_grid(trainer, pairs, path):
    """A PNG of the trainer's grid columns (source | output | target, ...) for the first
    batch of held-out `(source, target)` pairs."""
    from tfgans.callbacks import image_grid, write_png

    sources, targets = (x.numpy() for x in next(iter(pairs)))
    columns = trainer.grid_columns(sources, trainer.sample(sources), targets)
    write_png(path, image_grid(np.stack(columns, axis=1).reshape(-1, 28, 28, 1),
                               columns=len(columns)))


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
    if args.grid:
        _write_paired_grid(trainer, edges2fashion(8, split="test", shuffle=False), args.grid)
        print(f"Grid (edges | pix2pix | target): {args.grid}")


def cyclegan(args):
    import keras

    from pipelines import config as config_lib
    from pipelines import run
    from pipelines.data import sneaker2boot
    from pipelines.data.fashion_tasks import SNEAKER2BOOT_CLASSES
    import tfgans.models
    from tfgans.metrics import evaluate_cycle
    from tfgans.training import CycleGAN

    steps = args.steps
    config = config_lib.load_config(
        "configs/cyclegan_sneaker2boot.yaml",
        [f"model.width={args.width}", f"model.discriminator_width={args.width}",
         f"data.batch_size={args.batch_size}", f"train.steps={steps}",
         f"model.residual_blocks={args.residual_blocks}"])
    config = config_lib.resolve(config, (28, 28, 1), None)
    keras.utils.set_random_seed(config.train.seed)
    networks = tfgans.models.get("cyclegan").networks(
        CycleGAN.TRAINED, (28, 28, 1), None, None, config.model.to_dict())
    optimizers = {name: run.make_optimizer(config.optimizer, name) for name in CycleGAN.TRAINED}
    trainer = CycleGAN.create(networks, optimizers, **config_lib.trainer_arguments(config),
                              jit_compile=args.jit)
    train = sneaker2boot(config.data.batch_size, seed=config.train.seed, repeat=True)
    held_out = sneaker2boot(250, split="test", shuffle=False)
    trainer.check_data(train)

    def measure(extractor="fashion_mnist"):
        return evaluate_cycle(trainer.sample, held_out, args.num_samples, extractor=extractor,
                              classes=SNEAKER2BOOT_CLASSES)

    state = {"reached": None, "eval_seconds": 0.0, "step": 0}

    class Measure(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            begin = time.perf_counter()
            m = measure()
            state["eval_seconds"] += time.perf_counter() - begin
            step = state["step"] = int(trainer.step.numpy())
            trained = time.perf_counter() - state["start"] - state["eval_seconds"]
            print(f"  step {step:5d} ({trained:7.1f} s): accuracy A->B {m['accuracy_a_to_b']:.3f}"
                  f" B->A {m['accuracy_b_to_a']:.3f} (identity {m['identity_accuracy']:.3f}), "
                  f"cycle L1 {m['cycle']:.4f}", flush=True)
            if state["reached"] is None and m["accuracy"] >= 0.6 and (
                    m["accuracy"] > m["identity_accuracy"]):
                state["reached"] = step
            if trained >= args.seconds:
                self.model.stop_training = True

    print(f"cyclegan: width {args.width}, {args.residual_blocks} residual blocks, batch "
          f"{config.data.batch_size}, lr decay from step {config.optimizer.decay_start} to "
          f"{steps}, load {load_average()}", flush=True)
    state["start"] = time.perf_counter()
    trainer.fit(train, steps_per_epoch=args.chunk, epochs=max(1, steps // args.chunk),
                verbose=0, check=False, callbacks=[Measure()])
    trained = time.perf_counter() - state["start"] - state["eval_seconds"]
    m = measure()
    print()
    print("| budget | model | accuracy A->B | accuracy B->A | FID A->B | FID B->A | cycle L1 |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {state['step']} steps, {trained:.0f} s | cyclegan | {m['accuracy_a_to_b']:.3f} | "
          f"{m['accuracy_b_to_a']:.3f} | {m['fid_a_to_b']:.2f} | {m['fid_b_to_a']:.2f} | "
          f"{m['cycle']:.4f} |")
    print(f"| - | identity | {m['identity_accuracy_a_to_b']:.3f} | "
          f"{m['identity_accuracy_b_to_a']:.3f} | {m['identity_fid_a_to_b']:.2f} | "
          f"{m['identity_fid_b_to_a']:.2f} | 0 |")
    reached = state["reached"]
    print(f"\nMean accuracy >= 60% and above the identity's: "
          f"{'at step ' + str(reached) if reached else 'not reached'} (measured every "
          f"{args.chunk} steps on {args.num_samples} held-out images per domain); load "
          f"average {load_average()}")
    if args.grid:
        from tfgans.callbacks import image_grid, write_png

        a = next(iter(held_out))[0].numpy()[:8]
        fake = trainer.sample(a)
        rows = np.stack([a, fake, trainer.sample(fake, "b_to_a")], axis=1)
        write_png(args.grid, image_grid(rows.reshape(-1, 28, 28, 1), columns=3))
        print(f"Grid (a | G(a) | F(G(a))): {args.grid}")


def srgan(args):
    from pipelines import config as config_lib
    from pipelines import run
    from pipelines.data import fashion_x4
    from tfgans.metrics import evaluate_translation

    steps = args.pretrain_steps + args.adversarial_steps
    config = config_lib.load_config(
        "configs/srgan_fashion_x4.yaml",
        [f"model.width={args.width}", f"model.discriminator_width={args.width}",
         f"model.residual_blocks={args.blocks}", f"data.batch_size={args.batch_size}",
         f"train.pretrain_steps={args.pretrain_steps}", f"train.steps={steps}",
         f"optimizer.generator_lr={args.lr}", f"optimizer.discriminator_lr={args.lr}"])
    config = config_lib.resolve(config, (28, 28, 1), None)
    estimator = run.make_estimator(config, tempfile.mkdtemp(prefix="srgan_benchmark_"),
                                   None, verbose=0)
    trainer = estimator.trainer  # the config's networks, optimizers and settings
    trainer.set_execution(jit_compile=args.jit)
    train = fashion_x4(config.data.batch_size, seed=config.train.seed, repeat=True)
    held_out = fashion_x4(250, split="test", shuffle=False)
    trainer.check_data(train)
    rows, times = [], {}
    for name, count in (("SRResNet (MSE pretraining)", args.pretrain_steps),
                        ("SRGAN (+ adversarial)", args.adversarial_steps)):
        start = time.perf_counter()
        trainer.fit(train.skip(int(trainer.step.numpy())), steps_per_epoch=count, epochs=1,
                    verbose=0, check=False)
        times[name] = time.perf_counter() - start
        step = int(trainer.step.numpy())
        m = evaluate_translation(trainer.sample, held_out, args.num_samples,
                                 extractor="fashion_mnist")
        rows.append((f"{step} steps, {times[name]:.0f} s", name, m))
        print(f"  {name}: step {step}, {times[name]:.0f} s, load {load_average()}", flush=True)
    bicubic = {k[len("bicubic_"):]: v for k, v in m.items() if k.startswith("bicubic_")}
    rows.append(("-", "bicubic upsampling", bicubic))
    print()
    print(_table(rows))
    pretrained, final = rows[0][2], rows[1][2]
    lower = "lower" if final["fid"] < pretrained["fid"] else "NOT lower"
    print(f"\nSRResNet PSNR - bicubic PSNR: {pretrained['psnr'] - bicubic['psnr']:+.2f} dB "
          f"(criterion: >= +1 dB); FID after the adversarial phase {final['fid']:.2f} vs "
          f"{pretrained['fid']:.2f} pretrained-only ({lower}); {args.num_samples} held-out "
          f"pairs; load average {load_average()}")
    if args.grid:
        _write_paired_grid(trainer, fashion_x4(8, split="test", shuffle=False), args.grid)
        print(f"grid: {args.grid}")


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
    parser.add_argument("--family", choices=("pix2pix", "cyclegan", "srgan", "inpainting"),
                        default="pix2pix")
    parser.add_argument("--residual-blocks", type=int, default=3, help="cyclegan's")
    parser.add_argument("--pretrain-steps", type=int, default=1000, help="srgan")
    parser.add_argument("--adversarial-steps", type=int, default=500, help="srgan")
    parser.add_argument("--blocks", type=int, default=4, help="srgan: residual blocks")
    parser.add_argument("--lr", type=float, default=1e-4, help="srgan: both learning rates")
    parser.add_argument("--grid", help="pix2pix: held-out edges | output | target; "
                        "cyclegan: a PNG grid of held-out sneakers -> boots; "
                        "srgan: a held-out grid PNG; inpainting: masked | output | "
                        "target")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    {"pix2pix": pix2pix, "cyclegan": cyclegan, "srgan": srgan,
     "inpainting": inpainting}[args.family](args)


if __name__ == "__main__":
    main()
