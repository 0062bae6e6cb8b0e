"""The zoo at equal wall time on Fashion-MNIST (issues 13, 14, 16): every row is a config
of `configs/` (+ `--set` overrides) trained for the same wall time (`--seconds`) in a fresh
process on this machine, then measured on `--samples` images with the shipped classifier:
FID, KID, IS, precision, recall, with the steps reached and the seconds spent. Each row
leaves a sample grid, `docs/zoo/<row>.png` (< 40 KB), and the markdown tables go to
`docs/zoo/table.md`, which the README's "Zoo" section points to.

    python -m benchmarks.zoo --list                        # the rows and their groups
    python -m benchmarks.zoo                               # every row: hours (600 s each)
    python -m benchmarks.zoo --rows issue13 --seconds 600  # a group; or row names
    python -m benchmarks.zoo --rows dcgan sngan --seconds 20 --samples 500 \\
        --results /tmp/zoo.json --runs /tmp/zoo_runs --grids /tmp/zoo --table /tmp/zoo.md
                                                           # smoke (not for docs/)

Each row runs as `benchmarks._runs` describes (fresh process, `train.max_seconds`, no
evaluation or health monitor while training, results appended after each row so an
interrupted run resumes and finished rows are not re-run). Rows whose config or switch is
not on this branch are skipped with a line saying why. Common overrides (`--set`) apply
to every row (e.g. `--set model.width=16`); a row whose preset lacks the key fails with
that error, recorded.

Rows, by issue:
- 13: the default DCGAN against SNGAN, SAGAN, BigGAN and ProGAN; the discriminator
  normalisations on the SNGAN preset (`model.discriminator_norm`: spectral is the sngan
  row, then weight, layer, orthonormal, none); BigGAN without its (generator) orthogonal
  regularisation.
- 14: the default DCGAN with each stabiliser (configs dcgan_improved, dcgan_diffaugment,
  dcgan_ada; LeCam, bCR on the default; lazy R1 = the ADA config without ADA; label
  flipping on that non-saturating R1 recipe), on all 60,000 images and on a seeded
  1,000-image subset (`data.subset_size=1000`, rows `<name>_1k`). Every row is measured
  against the full data.
- 16: one row per classic-objective / zoo config.
"""

import argparse
import os

from benchmarks import _runs

#: The zoo's "dcgan" row and the base of its stabiliser rows: the default experiment as it
#: was when these tables were measured (WGAN-GP, n_critic 5, Adam 1e-4, unconditional),
#: frozen in benchmarks/recipe_base.yaml; configs/dcgan_fashion_mnist.yaml has moved on to
#: the recipe search's choice.
DEFAULT = "benchmarks/recipe_base.yaml"


def _config(name):
    return f"configs/{name}_fashion_mnist.yaml"


def _rows():
    """{row name: (config, overrides, groups)}, in table order."""
    rows = {}

    def add(name, config, overrides=(), groups=()):
        rows[name] = (config, tuple(overrides), tuple(groups))

    # Issue 13: architectures, then the discriminator normalisations.
    add("dcgan", DEFAULT, groups=("issue13", "issue14"))
    for name in ("sngan", "sagan", "biggan", "progan"):
        add(name, _config(name), groups=("issue13",))
    for norm in ("weight", "layer", "orthonormal", "none"):
        add(f"sngan_d_{norm}", _config("sngan"), [f"model.discriminator_norm={norm}"],
            ("issue13",))
    add("biggan_no_ortho", _config("biggan"), ["model.orthogonal_regularization=0"],
        ("issue13",))
    # Issue 14: stabilisers, on the full data and on 1,000 images.
    lazy_r1 = (_config("dcgan_ada"), ["train.ada=false"])
    stabilisers = [
        ("dcgan", DEFAULT, []),
        ("dcgan_improved", _config("dcgan_improved"), []),
        ("dcgan_diffaugment", _config("dcgan_diffaugment"), []),
        ("dcgan_ada", _config("dcgan_ada"), []),
        ("dcgan_lecam", DEFAULT, ["loss.lecam=0.3"]),
        ("dcgan_bcr", DEFAULT, ["loss.bcr=10"]),
        ("dcgan_lazy_r1", lazy_r1[0], lazy_r1[1]),
        ("dcgan_label_flip", lazy_r1[0], lazy_r1[1] + ["loss.label_flip=0.1"]),
    ]
    for name, config, overrides in stabilisers:
        if name not in rows:
            add(name, config, overrides, ("issue14",))
        add(f"{name}_1k", config, overrides + ["data.subset_size=1000"], ("issue14", "1k"))
    # Issue 16: the classic objectives and the rest of the zoo.
    for name in ("gan_mlp", "wgan_clip", "wgan_gp", "lsgan", "dragan", "hinge",
                 "relativistic", "cgan", "acgan", "projection", "began", "ebgan", "infogan",
                 "ssgan"):
        add(name, _config(name), groups=("issue16",))
    return rows


ROWS = _rows()
#: Rows asked for that cannot be expressed on this branch: {name: why}.
NOT_EXPRESSIBLE = {}
GROUPS = ("issue13", "issue14", "issue16", "1k")


def select(names):
    """Row names from names and group names ("all": every row), in table order."""
    wanted = set()
    for name in names or ["all"]:
        if name == "all":
            wanted |= set(ROWS)
        elif name in GROUPS:
            wanted |= {r for r, (_, _, groups) in ROWS.items() if name in groups}
        elif name in ROWS:
            wanted.add(name)
        elif name in NOT_EXPRESSIBLE:
            print(f"skip {name}: {NOT_EXPRESSIBLE[name]}")
        else:
            raise SystemExit(f"Unknown row or group {name!r}: see --list.")
    return [r for r in ROWS if r in wanted]


def jobs(names, common):
    """`_runs.Job`s of the rows `names` whose config is on this branch (others skipped
    with a line saying why)."""
    out = []
    for name in names:
        config, overrides, _ = ROWS[name]
        if not os.path.exists(config):
            print(f"skip {name}: {config} is not on this branch")
            continue
        out.append(_runs.Job(name, config, tuple(common) + overrides))
    return out


HEADER = ["row", "config + overrides", "steps", "seconds", "FID", "KID", "IS", "precision",
          "recall", "samples"]
SECTIONS = [
    ("Issue 13: architectures and discriminator normalisations", "issue13", None),
    ("Issue 14: stabilisers, all 60,000 images", "issue14", False),
    ("Issue 14: stabilisers, a seeded 1,000-image subset (measured against the full data)",
     "1k", True),
    ("Issue 16: classic objectives and the rest of the zoo", "issue16", None),
]


def row_cells(name, record, grids_link=None):
    config, overrides, _ = ROWS[name]
    base = "dcgan" if config == DEFAULT else os.path.basename(config)  # the old default
    what = base.replace("_fashion_mnist.yaml", "") + (
        " " + " ".join(f"`{o}`" for o in overrides) if overrides else "")
    label = f"[{name}]({grids_link}/{name}.png)" if grids_link and record and record.get(
        "grid") else name
    if record is None:
        state = "pending" if os.path.exists(config) else f"skipped: {config} is not on this branch"
        return [label, what, state] + [""] * (len(HEADER) - 3)
    if "error" in record:
        return [label, what, "failed: " + record["error"].replace("|", "/")] + [""] * (
            len(HEADER) - 3)
    p = record["points"][-1]
    return [label, what, p["steps"], f"{p['seconds']:.0f}", _runs.fmt(p.get("fid"), ".1f"),
            _runs.fmt(p.get("kid"), ".4g"), _runs.fmt(p.get("inception_score"), ".2f"),
            _runs.fmt(p.get("precision"), ".3f"), _runs.fmt(p.get("recall"), ".3f"),
            record.get("num_samples", "")]


def tables(results, names, grids_link=None):
    """The markdown tables of `names` (one section per issue), pending rows included."""
    s = results.settings
    parts = [f"Each row: {s['seconds']:g} s of training (wall time, one process, compiling "
             f"included) on {s['cpu_count']} CPU cores, then {s['samples']} samples against "
             f"{s['samples']} Fashion-MNIST train images on the shipped classifier's features "
             "(`python -m benchmarks.zoo`, `benchmarks/_runs.py`). Common overrides: "
             f"{' '.join(s['common']) or 'none'}. Load averages per row: in the results file."]
    for title, group, subset in SECTIONS:
        rows = [n for n in names if group in ROWS[n][2]
                and (subset is None or n.endswith("_1k") == subset)]
        if rows:
            parts.append(f"### {title}\n\n" + _runs.markdown(
                HEADER, [row_cells(n, results.records.get(n), grids_link) for n in rows]))
    return "\n\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", nargs="+", metavar="ROW|GROUP",
                        help=f"rows or groups ({', '.join(GROUPS)}, all); default all")
    parser.add_argument("--seconds", type=float, default=600.0, help="training wall time per row")
    parser.add_argument("--samples", type=int, default=10_000, help="images measured per row")
    parser.add_argument("--set", dest="common", action="append", default=[],
                        metavar="KEY=VALUE", help="an override for every row (repeatable)")
    parser.add_argument("--results", default="docs/zoo/results.json")
    parser.add_argument("--runs", default="runs/zoo", help="the rows' run directories")
    parser.add_argument("--grids", default="docs/zoo", help="the rows' sample grid PNGs")
    parser.add_argument("--table", default="docs/zoo/table.md")
    parser.add_argument("--retry-failed", action="store_true")
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (config, overrides, groups) in ROWS.items():
            print(f"{name:24s} {','.join(groups):16s} {config} {' '.join(overrides)}")
        for name, why in NOT_EXPRESSIBLE.items():
            print(f"{name:24s} (skipped) {why}")
        return
    if not args.seconds > 0 or args.samples < 2:
        raise SystemExit("--seconds must be > 0 and --samples at least 2.")
    names = select(args.rows)
    results = _runs.Results(args.results, {
        "seconds": args.seconds, "samples": args.samples, "common": args.common,
        "cpu_count": os.cpu_count()})
    _runs.run_jobs(jobs(names, args.common), results, _runs.process_runner(
        args.runs, [args.seconds], args.samples, grid_dir=args.grids),
        retry_failed=args.retry_failed)
    text = tables(results, [n for n in ROWS if n in results.records or n in names],
                  os.path.relpath(args.grids, os.path.dirname(os.path.abspath(args.table))))
    from tfgans.files import atomic_write

    os.makedirs(os.path.dirname(os.path.abspath(args.table)), exist_ok=True)
    atomic_write(args.table, text)
    print(text)


if __name__ == "__main__":
    main()
