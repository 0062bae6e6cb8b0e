"""The `tfgans` command line: train a config, generate from a run.

    tfgans train CONFIG [--set key=value ...] [--model-dir DIR]
    tfgans generate MODEL_DIR --num N --out FILE.png [--seed S] [--labels ID ...]
                    [--truncation T] [--codes C,C,...] [--text DESCRIPTION ...]
    tfgans generate MODEL_DIR --interpolate N [--steps S] --out FILE.png|FILE.gif
    tfgans evaluate MODEL_DIR [--num-samples N] [--seed S] [--extractor NAME]
    tfgans translate MODEL_DIR IN.png|IN_DIR --out OUT.png|OUT_DIR
    tfgans invert MODEL_DIR IMAGE.png [--mask MASK.png] [--steps N] [--restarts R]
                  [--seed S] [--label ID] --out OUT.png
    tfgans export MODEL_DIR --export-dir DIR [--version N] [--overwrite]
    python -m pipelines.cli ...        (the same, without the console script)

Bad input (config, data, arguments, paths) prints one line on stderr and exits with a
non-zero status; nothing already written is lost (files are written to a temporary name,
then renamed). Set TFGANS_DEBUG=1 to get the traceback instead.

Adding a subcommand (evaluate, export): write `_add_<name>(subparsers)` that adds its
parser and sets `func` to a function `(args) -> exit status`, and list it in `COMMANDS`.
"""

import argparse
import os
import sys
import tempfile

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process SIGTERM ended


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus the exit status 2)."""

    def format_help(self):
        epilog = getattr(self, "epilog_fn", None)
        if epilog is not None:  # computed on demand: it imports the presets (TensorFlow)
            self.epilog = epilog()
        return super().format_help()

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _import_tensorflow_quietly():
    """Imports TensorFlow with its C++ start-up lines (CUDA probing, absl's notice) kept
    off stderr, so that an error stays the only line there. TF_CPP_MIN_LOG_LEVEL=0, 1 or 2
    keeps them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] in ("0", "1", "2"):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as buffer:
        os.dup2(buffer.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            buffer.seek(0)
            sys.stderr.write(buffer.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


# ------------------------------------------------------------------------------ train


def _config_keys_help():
    _import_tensorflow_quietly()
    from pipelines.config import flat_schema

    lines = ["config keys of the default preset, dcgan (section.key: default; other presets "
             "add their own model keys):"]
    for key, (default, _, doc) in flat_schema().items():
        lines.append(f"  {key}: {default!r}" + (f"  ({doc})" if doc else ""))
    return "\n".join(lines)


def _add_train(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train (or resume) a GAN from a YAML config",
        description="Trains the experiment of CONFIG in a run directory, resuming it when "
        "the directory already holds that run. Writes config.yaml, checkpoints/, logs/ "
        "(TensorBoard) and samples/ there.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.epilog_fn = _config_keys_help
    parser.add_argument("config", metavar="CONFIG", help="YAML config file (see configs/)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.steps=500 (repeatable)",
    )
    parser.add_argument(
        "--model-dir", metavar="DIR",
        help="run directory (default: runs/<config name>); resumes if it holds the run",
    )
    parser.set_defaults(func=_train)


def _train(args):
    from pipelines import config as config_lib
    from pipelines import run

    config = config_lib.load_config(args.config, args.overrides)
    model_dir = args.model_dir or run.default_model_dir(args.config)
    estimator = run.train(config, model_dir)
    print(run.summary(config, model_dir, estimator))
    return 0


# --------------------------------------------------------------------------- generate


def _add_generate(subparsers):
    parser = subparsers.add_parser(
        "generate",
        help="write a PNG grid of samples from a trained run",
        description="Generates images with the (EMA) generator of the latest checkpoint in "
        "MODEL_DIR and writes them as one PNG grid.",
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a run directory (tfgans train)")
    parser.add_argument("--num", type=int, metavar="N", help="number of images")
    parser.add_argument(
        "--interpolate", type=int, metavar="N",
        help="instead of --num: N latent walks, one row each, spherical interpolation from "
        "the noise of sample 2r to that of 2r+1 of --seed in --steps images; with a .gif "
        "--out, an animation along the walks")
    parser.add_argument("--steps", type=int, default=8, metavar="S",
                        help="--interpolate: images per walk, ends included (default 8)")
    parser.add_argument("--out", required=True, metavar="FILE.png",
                        help="output PNG file (--interpolate: .png or .gif)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument(
        "--labels", type=int, nargs="+", metavar="ID",
        help="class ids for a conditional run: one for all images, or one per image "
        "(default: the classes in turn, one per column)",
    )
    parser.add_argument(
        "--truncation", type=float, metavar="T",
        help="the truncation trick (BigGAN): noise from a normal truncated to [-T, T], T > 0; "
        "smaller T: less variety, higher fidelity (default: no truncation)",
    )
    parser.add_argument(
        "--codes", metavar="C,C,...",
        help="InfoGAN runs: one value per code for every image, the categorical codes' ids "
        "then the continuous values, * for a code drawn per image (quoted, e.g. '3,*,0.5': "
        "category 3, first continuous code drawn, second 0.5; default: all drawn)",
    )
    parser.add_argument(
        "--text", nargs="+", metavar="DESCRIPTION",
        help="a text -> image run (StackGAN): one description for all images, or one per "
        "image (default: the run's sample texts in turn)",
    )
    parser.set_defaults(func=_generate)


def _generate(args):
    from pipelines import run

    if (args.num is None) == (args.interpolate is None):
        raise run.RunError("Give --num N (a grid of samples) or --interpolate N (N latent "
                           "walks), not both and not neither.")
    if args.interpolate is not None:
        if args.truncation is not None or args.codes is not None:
            raise run.RunError("--interpolate walks the plain noise: leave out --truncation "
                               "and --codes.")
        path = run.interpolate(args.model_dir, args.interpolate, args.out, steps=args.steps,
                               seed=args.seed, labels=args.labels)
        print(f"Wrote {args.interpolate} latent walks of {args.steps} images to {path}")
        return 0
    if args.num <= 0:
        raise run.RunError(f"--num must be positive. Received: --num {args.num}")
    path = run.generate(args.model_dir, args.num, args.out, seed=args.seed, labels=args.labels,
                        truncation=args.truncation, codes=args.codes, text=args.text)
    print(f"Wrote {args.num} samples to {path}")
    return 0


# --------------------------------------------------------------------------- evaluate


def _add_evaluate(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a trained run: FID, KID, Inception Score, precision/recall",
        description="Evaluates the (EMA) generator of the latest checkpoint in MODEL_DIR: N "
        "generated images against N images of the run's training data, on the features of "
        "a feature extractor (the committed Fashion-MNIST classifier for 28x28x1 images). "
        "Prints a table and appends the metrics (source \"evaluate\") to MODEL_DIR/eval.json, "
        "the run's metric history, written atomically. Conditional runs also get intra-class "
        "FID and the classifier's accuracy on the requested classes. Read FID against the "
        "real-data floor in saved_models/fashion_mnist_classifier/real_data_floor.json. "
        "Image -> image runs (pix2pix, srgan, inpainting) are measured on N held-out "
        "(source, target) pairs instead: PSNR, SSIM, L1 and FID of the outputs vs the "
        "targets, next to the identity baseline (the source as the output), or bicubic "
        "upsampling's for super-resolution; inpainting runs add L1 and PSNR inside the hole, "
        "next to the mean-fill baseline (the hole filled with the mean of the known pixels). "
        "Unpaired runs (CycleGAN) are measured in both directions on N held-out images of "
        "each domain: translation accuracy (sneaker2boot), cycle L1 and FID, next to the "
        "identity mapping's.",
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a run directory (tfgans train)")
    parser.add_argument(
        "--num-samples", type=int, default=10_000, metavar="N",
        help="generated and real images (default 10000; at least eval.kid_subset_size)",
    )
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument(
        "--extractor", choices=("fashion_mnist", "inception"),
        help="feature extractor (default: the run's eval.extractor; auto picks "
        "fashion_mnist for 28x28x1 images)",
    )
    parser.set_defaults(func=_evaluate)


#: (key, label, format) of the `tfgans evaluate` table, in order.
_TABLE = [
    ("fid", "FID", "{:.3f}"),
    ("kid", "KID", "{:.4g}"),
    ("kid_std", "KID std", "{:.4g}"),
    ("inception_score", "Inception Score", "{:.3f}"),
    ("inception_score_std", "Inception Score std", "{:.3f}"),
    ("precision", "precision", "{:.4f}"),
    ("recall", "recall", "{:.4f}"),
    ("intra_fid", "intra-class FID", "{:.3f}"),
    ("class_accuracy", "class accuracy", "{:.4f}"),
    ("code_nmi", "code/class NMI", "{:.4f}"),
    ("code_classes", "code majority classes", "{:d}"),
    ("test_accuracy", "classifier test accuracy", "{:.4f}"),
    ("num_test", "classifier test images", "{:d}"),
    ("modes", "modes covered", "{:d}"),
    ("high_quality_rate", "high-quality rate", "{:.4f}"),
    ("d_loss", "d_loss", "{:.4f}"),
    ("g_loss", "g_loss", "{:.4f}"),
]


def metrics_table(metrics):
    """The metrics as a two-column text table."""
    rows = [(label, fmt.format(metrics[key])) for key, label, fmt in _TABLE if key in metrics]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"  {label:<{width}}  {value:>10}" for label, value in rows)


def _evaluate(args):
    from pipelines import run

    metrics, path = run.evaluate(
        args.model_dir, args.num_samples, seed=args.seed, extractor=args.extractor
    )
    if "psnr" in metrics:  # an image -> image run: outputs vs targets, and the identity
        print(f"{args.model_dir} at step {metrics['step']}: {metrics['num_pairs']} held-out "
              f"pairs ({metrics['split']} split)")
        print(translation_table(metrics))
        print(f"Appended to {path}")
        return 0
    if "cycle" in metrics:  # an unpaired run: both directions, and the identity
        print(f"{args.model_dir} at step {metrics['step']}: {metrics['num_pairs']} held-out "
              f"images of each domain ({metrics['split']} split)")
        print(cycle_table(metrics))
        print(f"Appended to {path}")
        return 0
    if "modes" in metrics:  # a 2-D points run: mode coverage
        print(f"{args.model_dir} at step {metrics['step']}: {metrics['num_fake']} generated "
              f"points, {metrics['num_modes']} modes (seed {args.seed})")
    else:
        print(f"{args.model_dir} at step {metrics['step']}: {metrics['num_fake']} generated vs "
              f"{metrics['num_real']} real images (seed {args.seed})")
    print(metrics_table(metrics))
    print(f"Appended to {path}")
    return 0


def translation_table(metrics):
    """PSNR, SSIM, L1 (and FID; inpainting: L1 and PSNR in the hole) of the outputs next
    to the baseline's (the identity, bicubic upsampling for super-resolution, mean fill for
    inpainting)."""
    from tfgans.metrics.translation import baseline_label, baseline_name

    base = baseline_name(metrics) or "identity"
    rows = [("", "output", baseline_label(base))]
    for key, label, fmt in [("psnr", "PSNR (dB)", "{:.2f}"), ("ssim", "SSIM", "{:.4f}"),
                            ("l1", "L1", "{:.4f}"), ("hole_l1", "hole L1", "{:.4f}"),
                            ("hole_psnr", "hole PSNR (dB)", "{:.2f}"), ("fid", "FID", "{:.3f}")]:
        if key in metrics:
            baseline = metrics.get(f"{base}_{key}")
            rows.append((label, fmt.format(metrics[key]),
                         "-" if baseline is None else fmt.format(baseline)))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"  {a:<{width}}  {b:>10}  {c:>10}" for a, b, c in rows)


def cycle_table(metrics):
    """Translation accuracy, FID and cycle L1 per direction, next to the identity's."""
    rows = [("", "output", "identity")]
    for direction in ("a_to_b", "b_to_a"):
        label = direction.replace("_to_", " -> ").upper()
        for key, name, fmt in [("accuracy", "accuracy", "{:.4f}"), ("fid", "FID", "{:.3f}")]:
            if f"{key}_{direction}" in metrics:
                rows.append((f"{label} {name}", fmt.format(metrics[f"{key}_{direction}"]),
                             fmt.format(metrics[f"identity_{key}_{direction}"])))
    rows += [(f"cycle L1 {side.upper()}", f"{metrics[f'cycle_{side}']:.4f}", "0")
             for side in "ab"]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"  {a:<{width}}  {b:>10}  {c:>10}" for a, b, c in rows)


# -------------------------------------------------------------------------- translate


def _add_translate(subparsers):
    parser = subparsers.add_parser(
        "translate",
        help="translate PNG images with an image -> image run (pix2pix, CycleGAN, SRGAN, "
        "inpainting)",
        description="Translates IN.png (or every .png in IN_DIR) with the (EMA) generator of "
        "the latest checkpoint in MODEL_DIR and writes OUT.png (or OUT_DIR/<same names>). "
        "Inputs must have the run's image size and channels. Each output is written "
        "atomically.",
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="an image -> image run")
    parser.add_argument("inputs", metavar="IN.png|IN_DIR", help="a PNG file or a folder of PNGs")
    parser.add_argument("--out", required=True, metavar="OUT.png|OUT_DIR",
                        help="the output PNG (one input) or folder (an input folder)")
    parser.add_argument("--direction", choices=("a_to_b", "b_to_a"),
                        help="unpaired (CycleGAN) runs: A -> B with G (the default) or "
                        "B -> A with F")
    parser.add_argument("--mask", metavar="MASK.png",
                        help="inpainting runs: the hole to fill, a PNG of the run's size "
                        "(white = missing), for every input; default: the centre square")
    parser.set_defaults(func=_translate)


def _translate(args):
    from pipelines import translate

    written = translate.translate(args.model_dir, args.inputs, args.out,
                                  direction=args.direction, mask=args.mask)
    where = written[0] if len(written) == 1 else os.path.abspath(args.out)
    print(f"Translated {len(written)} image{'s' if len(written) != 1 else ''} to {where}")
    return 0


# ----------------------------------------------------------------------------- invert


def _add_invert(subparsers):
    parser = subparsers.add_parser(
        "invert",
        help="find the noise of a noise -> image run whose image matches a PNG (or inpaint it)",
        description="Finds the noise whose image under the (EMA) generator of the latest "
        "checkpoint in MODEL_DIR best matches IMAGE.png (Adam on the noise from --restarts "
        "random starts, the best kept) and writes OUT.png, target | reconstruction side by "
        "side, and the noise as OUT.npy (NumPy, [1, latent_dim]). With --mask (a PNG of the "
        "image's size, white = missing pixels): semantic inpainting (Yeh et al. 2017), the "
        "noise that matches the known pixels (weighted by their closeness to the hole) and "
        "that the run's discriminator finds real; the hole is filled from its image by "
        "Poisson blending, shown third. Conditional runs try every class unless --label "
        "is given.",
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a noise -> image run")
    parser.add_argument("image", metavar="IMAGE.png", help="the target, of the run's size")
    parser.add_argument("--mask", metavar="MASK.png", help="white = missing pixels: inpaint")
    parser.add_argument("--steps", type=int, default=200, metavar="N",
                        help="Adam steps on the noise (default 200)")
    parser.add_argument("--restarts", type=int, default=4, metavar="R",
                        help="random starts, the best kept (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the starts (default 0)")
    parser.add_argument("--label", type=int, metavar="ID",
                        help="a conditional run's class (default: every class is tried)")
    parser.add_argument("--out", required=True, metavar="OUT.png",
                        help="the output PNG; the noise goes to OUT.npy beside it")
    parser.set_defaults(func=_invert)


def _invert(args):
    from pipelines import invert

    result, path, latent_path = invert.invert(
        args.model_dir, args.image, args.out, mask=args.mask, steps=args.steps,
        restarts=args.restarts, seed=args.seed, label=args.label)
    what = "target | reconstruction" + (" | inpainted" if args.mask else "")
    label = "" if result.labels is None else f", class {int(result.labels[0])}"
    print(f"Wrote {what} to {path} and the noise to {latent_path} (loss "
          f"{float(result.losses[0]):.4g}{label})")
    return 0


# ----------------------------------------------------------------------------- export


def _add_export(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export the generator of a run as a SavedModel for TF Serving",
        description="Exports the (EMA) generator of the latest checkpoint in MODEL_DIR as "
        "EXPORT_DIR/<version>/ (TF Serving's layout) with the signatures serving_default "
        "(noise [+ labels] -> images in [0, 1]), generate (num_samples or labels, seed -> "
        "images, png_bytes) and generate_truncated (the same + truncation), plus warm-up "
        "requests. The write is atomic: an interrupted "
        "export leaves nothing behind.",
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a run directory (tfgans train)")
    parser.add_argument(
        "--export-dir", required=True, metavar="DIR",
        help="the model's base directory (TF Serving's --model_base_path)",
    )
    parser.add_argument(
        "--version", type=int, metavar="N",
        help="version directory name, an integer >= 0 (default: the next free one)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing version directory"
    )
    parser.set_defaults(func=_export)


def _export(args):
    from pipelines import run

    path = run.export(args.model_dir, args.export_dir, version=args.version,
                      overwrite=args.overwrite)
    base = os.path.abspath(args.export_dir)
    print(f"Exported {args.model_dir} to {path}")
    print(f"  serve: tensorflow_model_server --rest_api_port=8501 "
          f"--model_name={os.path.basename(base)} --model_base_path={base}")
    return 0


#: The subcommands, in --help order.
COMMANDS = [_add_train, _add_generate, _add_evaluate, _add_translate, _add_invert,
            _add_export]


def build_parser():
    parser = _Parser(
        prog="tfgans",
        description="Train GANs from YAML configs, sample from the runs and export them.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for add in COMMANDS:
        add(subparsers)
    return parser


def _user_errors():
    """Exception types that mean bad input: reported in one line, without traceback."""
    import tensorflow as tf

    import tfgans

    return (ValueError, OSError, tfgans.NonFiniteLossError, tf.errors.OpError)


def _one_line(error):
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 1000 else text[:997] + "..."


def main(argv=None):
    """Runs the `tfgans` command line and returns its exit status."""
    args = build_parser().parse_args(argv)
    prog = f"tfgans {args.command}"
    if os.environ.get("TFGANS_DEBUG"):
        return args.func(args)
    try:
        _import_tensorflow_quietly()
        user_errors = _user_errors()
    except ImportError as e:
        print(f"{prog}: error: cannot import TensorFlow ({e}): run `make install`.", file=sys.stderr)
        return EXIT_ERROR
    try:
        return args.func(args)
    except KeyboardInterrupt as e:
        sys.stdout.flush()
        if str(e) == "SIGTERM":  # tfgans.estimator.Terminated
            saved = getattr(e, "saved", None)
            saved = (f"; saved {os.path.basename(saved)}: run the same command to resume"
                     if saved else ": run the same command to resume from the last checkpoint")
            where = " (sent to another worker)" if getattr(e, "peer", False) else ""
            print(f"{prog}: stopped by SIGTERM{where}{saved}.", file=sys.stderr)
            return EXIT_TERMINATED
        print(f"\n{prog}: interrupted; run the same command to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        sys.stdout.flush()
        print(f"{prog}: error: out of memory: ask for less (fewer samples, a smaller batch).",
              file=sys.stderr)
        return EXIT_ERROR
    except user_errors as e:
        sys.stdout.flush()
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
