"""Experiment configs: a typed schema with a default for every key, YAML files,
`--set a.b=value` overrides and validation.

The schema is assembled from declarations, not written here once for all: the pipeline's
own sections (`data`, `train`, `distribute`, `eval`), the settings the preset's trainer
declares (`tfgans.GAN.SETTINGS`: `loss.*`, `model.latent_dim`, `train.ema`, ...), one
optimizer per network it trains (`optimizer.<network>`, `optimizer.<network>_lr`, ...),
and the model keys the preset declares (`model.width`, ...). `model.name` picks the preset.

Precedence, lowest first: the declared defaults, the preset's (the paper's settings:
`model.name: sngan` brings hinge and no gradient penalty), the config file, `--set`.

```yaml
model: {name: dcgan, latent_dim: 128}
data: {name: fashion_mnist, batch_size: 64}
train: {steps: 20000}
```

Example:
>>> config = load_config("configs/dcgan_fashion_mnist.yaml", ["train.steps=100"])  # doctest: +SKIP
>>> config.train.steps                                                             # doctest: +SKIP
100

A key whose default is null is resolved when a run starts (`resolve`): the run's
`config.yaml` holds the effective values (the loss' penalty weight, the image size, ...),
never null for "the default".

Every problem (missing file, invalid YAML, unknown key, wrong type, value out of range,
unknown model / loss / dataset name) raises `ConfigError`, a `ValueError` whose message is
one line naming the key, the value received, where it came from and what is accepted.
"""

import difflib
import math
import os
import reprlib

import yaml

from tfgans.settings import Key


class ConfigError(ValueError):
    """A bad config: the message is one line that names the key and what is accepted."""

    def __init__(self, message):
        super().__init__(" ".join(str(message).split()))


# ------------------------------------------------------------------- the pipeline's keys

DATA = {
    "name": Key("fashion_mnist", "str", doc="fashion_mnist, image_folder, tfds/<name>; 2-D "
                "points: ring_of_gaussians, grid_of_gaussians"),
    "batch_size": Key(64, "int", low=1, doc="global batch size (all replicas)"),
    "labels": Key(False, "bool", doc="feed class labels (conditional models)"),
    "path": Key(None, "str", nullable=True, path=True,
                 doc="the folder of image_folder, ab_folder, paired_folder, unpaired_folder"),
    "data_dir": Key(None, "str", nullable=True, path=True,
                    doc="TFDS data dir; null: $TFDS_DATA_DIR or ~/tensorflow_datasets"),
    "image_size": Key(None, "int", low=1, nullable=True,
                      doc="resize to this; null: the data's own size"),
    "channels": Key(None, "int", low=1, high=4, nullable=True,
                    doc="image channels; null: the data's (set when the run starts)"),
    "shuffle_buffer": Key(10_000, "int", low=1),
    "labeled_per_class": Key(None, "int", low=1, nullable=True,
                             doc="semi-supervised: keep the labels of a seeded, balanced "
                             "subset of this many examples per class (fashion_mnist); half "
                             "of each batch is drawn from it, half from all images with "
                             "label -1; null: every label"),
    "subset_size": Key(None, "int", low=1, nullable=True,
                       doc="train on a seeded random subset of this many examples (data-limited "
                       "runs, e.g. 1000); null: all of them"),
    "subset_seed": Key(None, "int", low=0, nullable=True,
                       doc="the seed that picks data.subset_size's examples; null: 0 when "
                       "data.subset_size is set"),
}
TRAIN = {
    "steps": Key(20_000, "int", low=1, doc="training steps"),
    "max_seconds": Key(None, "float", low=0.0, low_open=True, nullable=True,
                       doc="stop after this many seconds of training (the step in progress "
                       "ends; checkpoint, samples and evaluation are written); the same "
                       "command resumes for as long again; null: no limit"),
    "checkpoint_every": Key(1000, "int", low=1),
    "keep_checkpoints": Key(3, "int", low=1),
    "sample_every": Key(500, "int", low=1),
    "log_every": Key(100, "int", low=1),
    "steps_per_execution": Key(1, "int", low=1),
    "jit_compile": Key("auto", "bool_or_auto", doc="XLA: true, false or auto (on for one device)"),
    "mixed_precision": Key("float32", "str", nullable=True,
                           choices=("float32", "mixed_float16", "mixed_bfloat16"),
                           doc="dtype policy; null: float32"),
    "health": Key(True, "bool", doc="watch training health (tfgans.callbacks.TrainingHealth): "
                  "one-line warnings, health/* in TensorBoard, health.json"),
}
DISTRIBUTE = {
    "strategy": Key("default", "str", choices=("default", "mirrored", "multi_worker", "tpu")),
    "devices": Key(None, "str_list", nullable=True,
                   doc="mirrored only: device names; null: all GPUs (or the CPU)"),
    "tpu": Key(None, "str", nullable=True,
               doc="tpu only: the TPU's name, or local on a Cloud TPU VM; null: $TPU_NAME"),
    "peer_timeout": Key(600.0, "float", low=0.0, low_open=True,
                        doc="multi_worker: seconds a step may wait for the other workers "
                        "before this one exits (status 75); must exceed the chief's "
                        "evaluation time"),
}
EVAL = {
    "every": Key(1000, "int", low=0,
                 doc="evaluate every this many steps while training (and at the end); 0: never"),
    "num_samples": Key(1000, "int", low=2,
                       doc="generated and real images per evaluation while training"),
    "extractor": Key("auto", "str", choices=("auto", "fashion_mnist", "inception", "none"),
                     doc="feature extractor; auto: the Fashion-MNIST classifier for 28x28x1 "
                     "images, else none"),
    "kid_subset_size": Key(1000, "int", low=2, doc="KID's subset size"),
}
OPTIMIZERS = ("adam", "rmsprop", "sgd")
#: The optimizer keys shared by the networks (each network has `<net>` and `<net>_lr`).
OPTIMIZER_SHARED = {
    "beta_1": Key(0.0, "float", low=0.0, high=1.0, high_open=True, doc="Adam's beta_1"),
    "beta_2": Key(0.9, "float", low=0.0, high=1.0, high_open=True, doc="Adam's beta_2"),
    "momentum": Key(0.0, "float", low=0.0, high=1.0, high_open=True,
                    doc="SGD's and RMSprop's momentum"),
}
#: Sections in file order.
SECTIONS = ("model", "data", "loss", "optimizer", "train", "distribute", "eval")


def _preset(name):
    import tfgans.models

    return tfgans.models.get(name)


def trainer_class(config_or_name):
    """The trainer class of a config's (or a model name's) preset."""
    import tfgans.training

    name = config_or_name if isinstance(config_or_name, str) else config_or_name.model.name
    return tfgans.training.get_trainer(_preset(name).trainer)


def schema(model_name="dcgan"):
    """{section: {key: Key}} for the preset `model_name`, with the preset's defaults."""
    preset = _preset(model_name)
    trainer = trainer_class(model_name)
    sections = {
        "model": {"name": Key("dcgan", "str", doc="the preset: " + ", ".join(_preset_names()))},
        "data": dict(DATA), "loss": {}, "optimizer": {}, "train": dict(TRAIN),
        "distribute": dict(DISTRIBUTE), "eval": dict(EVAL),
    }
    for setting in trainer.SETTINGS:
        section, key = setting.key.split(".")
        sections[section][key] = setting.spec
    for network in trainer.TRAINED:
        sections["optimizer"][network] = Key("adam", "str", choices=OPTIMIZERS,
                                             doc=f"the {network}'s optimizer")
        sections["optimizer"][f"{network}_lr"] = Key(1e-4, "float", low=0.0, low_open=True,
                                                     doc=f"the {network}'s learning rate")
    sections["optimizer"].update(OPTIMIZER_SHARED)
    sections["model"].update(preset.keys)
    for dotted, value in preset.defaults.items():
        section, key = dotted.split(".")
        sections[section][key] = _with_default(sections[section][key], value)
    return sections


def _with_default(spec, value):
    import dataclasses

    return dataclasses.replace(spec, default=value)


def _preset_names():
    import tfgans.models

    return tfgans.models.PRESETS.names()


def flat_schema(model_name="dcgan"):
    """{"section.key": (default, kind, doc)} for every key, for docs and --help."""
    return {
        f"{section}.{key}": (spec.default, spec.kind, spec.doc)
        for section, keys in schema(model_name).items()
        for key, spec in keys.items()
    }


# ---------------------------------------------------------------------------- the config


class Section:
    """The frozen values of one config section: `config.train.steps`."""

    def __init__(self, values):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"This config has no key {name!r}.") from None

    def __setattr__(self, name, value):
        raise AttributeError("Configs are frozen: use apply_overrides to change a key.")

    def __eq__(self, other):
        return isinstance(other, Section) and self._values == other._values

    def __contains__(self, name):
        return name in self._values

    def to_dict(self):
        return dict(self._values)

    def __repr__(self):
        return f"Section({self._values!r})"


class Config:
    """A whole experiment: `config.<section>.<key>`. Frozen; compare with ==, copy with
    `apply_overrides`. `Config()` is the default experiment."""

    def __init__(self, values=None):
        if values is None:
            values = config_from_dict({}).to_dict(include_null=True)
        object.__setattr__(self, "_sections", {s: Section(values.get(s, {})) for s in SECTIONS})

    def __getattr__(self, name):
        try:
            return self._sections[name]
        except KeyError:
            raise AttributeError(f"A config has no section {name!r}.") from None

    def __setattr__(self, name, value):
        raise AttributeError("Configs are frozen: use apply_overrides to change a key.")

    def __eq__(self, other):
        return isinstance(other, Config) and self.to_dict(True) == other.to_dict(True)

    def to_dict(self, include_null=False):
        """The config as nested plain dicts (lists, not tuples). Keys whose value is null
        (not used, or resolved when a run starts) are left out unless `include_null`."""
        return {
            section: {
                key: _plain(value) for key, value in values._values.items()
                if include_null or value is not None
            }
            for section, values in self._sections.items()
        }

    def to_yaml(self):
        """The config as YAML text that `load_config` reads back equal."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


# ----------------------------------------------------------------------------- loading


def _origin(origins, key):
    where = origins.get(key)
    return f" (from {where})" if where else ""


def _unknown_key(key, valid, where, scope, name=None):
    close = difflib.get_close_matches(name or key.split(".")[-1], list(valid), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"Unknown config key {key!r}{where}. Valid keys {scope}: {', '.join(sorted(valid))}.{hint}"
    )


#: The most values a config may hold once YAML aliases are expanded: a few kilobytes of
#: nested aliases (a "billion laughs" file) would otherwise expand to billions.
MAX_YAML_VALUES = 100_000
#: The deepest nesting of lists and mappings a config may have.
MAX_YAML_DEPTH = 50
_MAX_TEXT = 1 << 20


def _check_yaml_tree(text, source):
    """Checks the YAML node tree before anything is built from it: no key twice in a
    mapping (YAML keeps the last silently), at most `MAX_YAML_DEPTH` levels and
    `MAX_YAML_VALUES` values with aliases expanded. Each node is visited once."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    sizes = {}  # id(node) -> values under it, aliases expanded
    stack = [(root, 0, False)] if root is not None else []
    while stack:
        node, depth, done = stack.pop()
        children = ([v for pair in node.value for v in pair]
                    if isinstance(node, yaml.MappingNode) else
                    node.value if isinstance(node, yaml.SequenceNode) else [])
        if done:
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_YAML_VALUES:
                raise ConfigError(
                    f"{source}: the YAML expands to more than {MAX_YAML_VALUES} values (nested "
                    "aliases?): a config holds a few dozen keys; remove the aliases."
                )
            continue
        if id(node) in sizes:
            continue
        if depth > MAX_YAML_DEPTH:
            raise ConfigError(
                f"{source}: the YAML is nested more than {MAX_YAML_DEPTH} levels deep (line "
                f"{node.start_mark.line + 1}): a config is sections of keys."
            )
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise ConfigError(
                            f"{source}: key {key.value!r} appears twice "
                            f"(line {key.start_mark.line + 1}): keep one."
                        )
                    seen.add(key.value)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


def _parse_yaml(text, source):
    if len(text) > _MAX_TEXT:
        raise ConfigError(
            f"{source}: more than {_MAX_TEXT} characters is too long for a config."
        )
    try:
        _check_yaml_tree(text, source)
        return yaml.safe_load(text)
    except RecursionError:
        raise ConfigError(
            f"{source}: the YAML is nested too deeply to read: a config is sections of keys."
        ) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}.") from None


def _merge(raw, data, origin, base_dir, origins, bases):
    """Merges a parsed mapping `data` into `raw` (keys are checked once the schema, which
    depends on model.name, is known)."""
    if data is None:
        return
    if not isinstance(data, dict):
        raise ConfigError(
            f"A config must be a mapping of sections ({', '.join(SECTIONS)}), "
            f"not a {type(data).__name__} (from {origin})."
        )
    for section, values in data.items():
        if section not in SECTIONS:
            raise _unknown_key(str(section), SECTIONS, f" (from {origin})", "at the top level")
        if values is None:
            continue
        if not isinstance(values, dict):
            raise ConfigError(
                f"Config key {section!r} is a section: it must be a mapping of keys, "
                f"not {_bounded_repr(values)} (from {origin})."
            )
        for key, value in values.items():
            raw.setdefault(section, {})[str(key)] = value
            origins[f"{section}.{key}"] = origin
            bases[f"{section}.{key}"] = base_dir


def parse_override(assignment):
    """Parses "a.b=value" into ("a.b", value), the value read as a YAML scalar."""
    if not isinstance(assignment, str) or "=" not in assignment:
        raise ConfigError(
            f"An override must look like section.key=value. Received: {assignment!r}"
        )
    key, text = assignment.split("=", 1)
    key = key.strip()
    value = _parse_yaml(text, f"--set {_bounded_repr(assignment)}") if text.strip() else None
    return key, value


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlevel = 3


def _bounded_repr(value):
    """repr(value), cut short: a hostile value (deep, huge, aliased) prints in bounded time."""
    return _REPR.repr(value)


def _apply_override(assignment, raw, origins, bases):
    if isinstance(assignment, tuple):
        key, value = assignment
        origin = f"override {key}={value!r}"
    else:
        key, value = parse_override(assignment)
        origin = f"--set {assignment}"
    parts = key.split(".")
    if len(parts) == 1 and parts[0] in SECTIONS:
        _merge(raw, {parts[0]: value}, origin, os.getcwd(), origins, bases)
    elif parts[0] not in SECTIONS:
        raise _unknown_key(key, SECTIONS, f" (from {origin})", "at the top level", parts[0])
    elif len(parts) != 2:
        raise ConfigError(
            f"Unknown config key {key!r} (from {origin}): keys are section.key, with one dot."
        )
    else:
        _merge(raw, {parts[0]: {parts[1]: value}}, origin, os.getcwd(), origins, bases)


# Values: check types and ranges.


def _describe(spec):
    if spec.choices:
        text = "one of " + ", ".join(spec.choices)
    elif spec.kind == "bool_or_auto":
        text = "true, false or auto"
    else:
        text = {"int": "an integer", "float": "a number", "bool": "true or false",
                "str": "a string", "str_list": "a list of strings"}[spec.kind]
        bounds = []
        if spec.low is not None:
            bounds.append(f"{'>' if spec.low_open else '>='} {float(spec.low) if spec.kind == 'float' else spec.low}")
        if spec.high is not None:
            bounds.append(f"{'<' if spec.high_open else '<='} {float(spec.high) if spec.kind == 'float' else spec.high}")
        if bounds:
            text += " " + " and ".join(bounds)
    return text + (" or null" if spec.nullable else "")


def _coerce(spec, value):
    """Returns `value` converted to the key's type, or raises ValueError."""
    kind = spec.kind
    if value is None:
        if spec.nullable:
            return None
        raise ValueError
    if kind == "bool" or (kind == "bool_or_auto" and not isinstance(value, str)):
        if not isinstance(value, bool):
            raise ValueError
        return value
    if kind == "bool_or_auto":
        if value != "auto":
            raise ValueError
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
            raise ValueError
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError
        value = float(value)  # also reads "1e-4", which YAML 1.1 leaves a string
        if not math.isfinite(value):
            raise ValueError
    elif kind == "str":
        if not isinstance(value, str) or not value:
            raise ValueError
        if spec.choices and value not in spec.choices:
            raise ValueError
    elif kind == "str_list":
        if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v for v in value
        ):
            raise ValueError
        return tuple(value)
    low, high = spec.low, spec.high
    if low is not None and (value < low or (spec.low_open and value == low)):
        raise ValueError
    if high is not None and (value > high or (spec.high_open and value == high)):
        raise ValueError
    return value


def _resolve_path(value, base_dir):
    path = os.path.expanduser(value)
    if not os.path.isabs(path):
        path = os.path.join(base_dir or os.getcwd(), path)
    return os.path.normpath(path)


def _model_name(raw, origins):
    name = raw.get("model", {}).get("name", "dcgan")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"Config key 'model.name' must be a string. Received: model.name={_bounded_repr(name)}"
            f"{_origin(origins, 'model.name')}."
        )
    try:
        _preset(name)
    except ValueError as e:
        raise ConfigError(f"Config key 'model.name'{_origin(origins, 'model.name')}: {e}") from None
    return name


def _build(raw, origins, bases):
    sections = schema(_model_name(raw, origins))
    for section, values in raw.items():
        for key in values:
            if key not in sections[section]:
                raise _unknown_key(f"{section}.{key}", sections[section],
                                   _origin(origins, f"{section}.{key}"), f"in {section!r}")
    out = {}
    for section, keys in sections.items():
        out[section] = {}
        for key, spec in keys.items():
            dotted = f"{section}.{key}"
            value = raw.get(section, {}).get(key, spec.default)
            try:
                value = _coerce(spec, value)
            except (ValueError, TypeError):
                raise ConfigError(
                    f"Config key {dotted!r} must be {_describe(spec)}. "
                    f"Received: {dotted}={_bounded_repr(value)}{_origin(origins, dotted)}."
                ) from None
            if spec.path and value is not None:
                value = _resolve_path(value, bases.get(dotted))
            out[section][key] = value
    return Config(out)


# Whole-config checks: names and keys that depend on each other.


def _check_names(config, origins):
    from pipelines import data

    try:
        data.check_dataset_name(config.data.name)
    except ValueError as e:
        raise ConfigError(f"Config key 'data.name'{_origin(origins, 'data.name')}: {e}") from None
    if config.data.subset_size is not None and (
            data.dataset_family(config.data.name) != "noise_to_image"):
        raise ConfigError(
            f"Config key 'data.subset_size'{_origin(origins, 'data.subset_size')} applies to "
            f"image datasets (fashion_mnist, image_folder, tfds/<name>), not "
            f"{config.data.name!r}: remove it."
        )
    if trainer_class(config).family == "image_to_image" and (
            data.dataset_family(config.data.name) != "paired"):
        raise ConfigError(
            f"Config key 'data.name'{_origin(origins, 'data.name')}: model {config.model.name!r} "
            f"trains on paired (source, target) data, and {config.data.name!r} is not paired: "
            "use edges2fashion, fashion_x4, fashion_inpaint, ab_folder or paired_folder."
        )
    if trainer_class(config).family == "unpaired_image_to_image" and (
            data.dataset_family(config.data.name) != "unpaired"):
        raise ConfigError(
            f"Config key 'data.name'{_origin(origins, 'data.name')}: model {config.model.name!r} "
            f"trains on unpaired (a, b) data, and {config.data.name!r} is not unpaired: use "
            "sneaker2boot or unpaired_folder."
        )


def _check_consistency(config, origins):
    d = config.data
    if d.name == "arrays":
        raise ConfigError(
            "Config key 'data.name': the arrays dataset takes in-memory arrays from Python "
            f"(pipelines.data.from_arrays), not a config{_origin(origins, 'data.name')}."
        )
    from pipelines.data.build import PATH_DATASETS

    if d.name in PATH_DATASETS and d.path is None:
        raise ConfigError(
            f"Config key 'data.path' is required when data.name is {d.name}: "
            "set it to the " + ("image folder." if d.name == "image_folder" else
                                "dataset's folder.")
        )
    if d.name not in PATH_DATASETS and d.path is not None:
        raise ConfigError(
            f"Config key 'data.path' is only used by data.name={', '.join(PATH_DATASETS)}, "
            f"not {d.name!r}{_origin(origins, 'data.path')}: remove it."
        )
    if "mask" in d and d.name != "fashion_inpaint":
        raise ConfigError(
            f"Config key 'data.name'{_origin(origins, 'data.name')}: model {config.model.name!r} "
            "trains on (source, target, mask) batches: use data.name fashion_inpaint."
        )
    if "conditioning" in config.model and config.model.conditioning is not None and not d.labels:
        raise ConfigError(
            f"Config key 'model.conditioning' is {config.model.conditioning!r} but "
            "data.labels is false: a conditional model needs labels (set data.labels: true)."
        )
    if "num_classes" in config.data and config.data.num_classes is not None and not d.labels:
        raise ConfigError(
            "Config key 'data.num_classes' is set but data.labels is false: set "
            "data.labels: true for a conditional model, or remove data.num_classes."
        )
    if d.labeled_per_class is not None:
        where = _origin(origins, "data.labeled_per_class")
        if not d.labels or d.name != "fashion_mnist":
            raise ConfigError(
                f"Config key 'data.labeled_per_class'{where} keeps some of the labels of "
                "fashion_mnist: it needs data.name: fashion_mnist and data.labels: true "
                f"(received data.name={d.name}, data.labels={str(d.labels).lower()}).")
        if d.batch_size % 2:
            raise ConfigError(
                f"Config key 'data.batch_size' ({d.batch_size}) must be even with "
                "data.labeled_per_class: half of each batch is labelled.")
    if d.image_size is not None:
        check_image_size(config, d.image_size)
    e = config.eval
    if e.every and e.extractor != "none" and e.num_samples < e.kid_subset_size:
        raise ConfigError(
            f"Config key 'eval.num_samples' ({e.num_samples}) is smaller than "
            f"eval.kid_subset_size ({e.kid_subset_size}): KID needs that many samples; raise "
            "eval.num_samples or lower eval.kid_subset_size."
        )
    if d.subset_seed is not None and d.subset_size is None:
        raise ConfigError(
            f"Config key 'data.subset_seed' is set but data.subset_size is null"
            f"{_origin(origins, 'data.subset_seed')}: set data.subset_size too, or remove it."
        )
    dist = config.distribute
    if config.train.max_seconds is not None and dist.strategy == "multi_worker":
        raise ConfigError(
            f"Config key 'train.max_seconds' cannot be used with distribute.strategy="
            f"multi_worker{_origin(origins, 'train.max_seconds')}: each worker's clock would "
            "stop it at a different step; limit train.steps instead."
        )
    if dist.devices is not None and dist.strategy != "mirrored":
        raise ConfigError(
            f"Config key 'distribute.devices' is only used with distribute.strategy=mirrored, "
            f"not {dist.strategy!r}{_origin(origins, 'distribute.devices')}."
        )


def config_from_dict(data=None, overrides=(), *, base_dir=None, source="<dict>", check_names=True):
    """Builds a validated `Config` from a mapping (as read from YAML) and overrides.

    Args:
        data: {section: {key: value}}; missing keys take their defaults (the preset's,
            else the declared ones).
        overrides: "section.key=value" strings (values read as YAML scalars), or
            ("section.key", value) pairs; later ones win.
        base_dir: folder that relative paths in `data` resolve against (paths given in
            overrides resolve against the current directory). None: the current directory.
        source: where `data` came from, for messages.
        check_names: check the dataset name against its registry.

    Raises:
        ConfigError: see the module docstring.
    """
    raw, origins, bases = {}, {}, {}
    _merge(raw, data, source, base_dir, origins, bases)
    for assignment in overrides:
        _apply_override(assignment, raw, origins, bases)
    config = _build(raw, origins, bases)
    _check_consistency(config, origins)
    if check_names:
        _check_names(config, origins)
    return config


def load_config(path, overrides=(), *, check_names=True):
    """Reads a YAML config file (`yaml.safe_load`), applies overrides and validates.

    Relative paths in the file (data.path, data.data_dir) resolve against the file's
    folder, and are normalised.

    Args:
        path: the YAML file.
        overrides: "section.key=value" strings, as from `--set`.
        check_names: see `config_from_dict`.

    Returns:
        The `Config`.

    Raises:
        ConfigError: a missing or unreadable file, or see the module docstring.
    """
    if os.path.exists(path) and not os.path.isfile(path):  # a folder; a FIFO would hang
        raise ConfigError(f"Cannot read config file {path}: it is not a regular file.")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(_MAX_TEXT + 1)
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"Cannot read config file {path}: {e}") from None
    data = _parse_yaml(text, path)
    base_dir = os.path.dirname(os.path.abspath(path))
    return config_from_dict(
        data, overrides, base_dir=base_dir, source=path, check_names=check_names
    )


def apply_overrides(config, overrides, *, check_names=True):
    """Returns a copy of `config` with overrides ("a.b=value" or {"a.b": value}) applied."""
    if isinstance(overrides, dict):
        overrides = list(overrides.items())
    return config_from_dict(config.to_dict(), overrides, check_names=check_names)


def save_config(config, path):
    """Writes `config` as YAML to `path` atomically (a temporary file, then a rename)."""
    from tfgans.files import atomic_write

    atomic_write(path, config.to_yaml())


def config_diff(a, b):
    """Returns ["section.key: a_value != b_value", ...] for the keys where a and b differ."""
    flat_a, flat_b = a.to_dict(True), b.to_dict(True)
    return [
        f"{section}.{key}: {flat_a[section].get(key)!r} != {flat_b[section].get(key)!r}"
        for section in flat_a
        for key in sorted(set(flat_a[section]) | set(flat_b[section]), key=list(
            {**flat_a[section], **flat_b[section]}).index)
        if flat_a[section].get(key) != flat_b[section].get(key)
    ]


# ------------------------------------------------------------------- effective values


def resolve(config, image_shape, num_classes):
    """The config with every null that stands for "the default" replaced by the value the
    run uses: the trainer's effective settings (its `resolve_settings`: a loss' penalty
    weight and n_critic), the preset's (`Preset.resolve`: the conditioning a conditional
    model gets), the data's image size, channels and classes, the dtype policy.

    Args:
        image_shape: (height, width, channels) of the training images.
        num_classes: the dataset's classes when data.labels is true, else None.
    """
    preset = _preset(config.model.name)
    trainer = trainer_class(config)
    values = config.to_dict(include_null=True)
    args = trainer_arguments(config)
    args.pop("num_classes", None)
    effective = trainer.resolve_settings(
        **{k: v for k, v in args.items() if k in _resolvable(trainer)}
    )
    for setting in trainer.SETTINGS:
        if setting.argument in effective:
            section, key = setting.key.split(".")
            values[section][key] = effective[setting.argument]
    data = values["data"]
    data["image_size"] = int(image_shape[0])
    data["channels"] = int(image_shape[-1])
    if "num_classes" in data:
        data["num_classes"] = num_classes
    if "ema" in values["train"] and values["train"]["ema"] is None:
        values["train"]["ema"] = 0.0
    if data["subset_size"] is not None and data["subset_seed"] is None:
        data["subset_seed"] = 0
    if values["train"]["mixed_precision"] is None:
        values["train"]["mixed_precision"] = "float32"
    if data["data_dir"] is None and data["name"] != "image_folder":
        from pipelines.data import default_data_dir

        data["data_dir"] = default_data_dir()
    if "vocabulary" in values["model"]:  # text -> image: the data's words and samples
        from pipelines.data.captions import resolve_text_keys

        values["model"] = resolve_text_keys(data["name"], data["path"], values["model"])
    values["model"] = preset.resolve(values["model"], num_classes,
                                     multi_replica=config.distribute.strategy != "default",
                                     image_size=int(image_shape[0]))
    return Config(values)


def check_image_size(config, size, native=False):
    """The preset's networks must take `size` (data.image_size, or the data's own size):
    a ConfigError naming the key, before anything is built."""
    try:
        _preset(config.model.name).check_image_size(size)
    except ValueError as e:
        where = (f"the data's own size (data.image_size is null): set data.image_size to "
                 "one of them to resize" if native else "set data.image_size to one of them")
        raise ConfigError(f"Config key 'data.image_size': {e}; {where}.") from None


def _resolvable(trainer):
    import inspect

    return set(inspect.signature(trainer.resolve_settings).parameters)


def trainer_arguments(config):
    """{argument: value} of the preset trainer's declared settings (`SETTINGS`)."""
    trainer = trainer_class(config)
    out = {}
    for setting in trainer.SETTINGS:
        section, key = setting.key.split(".")
        out[setting.argument] = getattr(getattr(config, section), key)
    return out


def quick_config(config, steps=20):
    """Shrinks a config for a smoke run (big_vision's `runlocal`): few steps, small
    batches and model, frequent logs, samples and checkpoints."""
    overrides = {
        "train.steps": steps,
        "train.checkpoint_every": steps,
        "train.sample_every": steps,
        "train.log_every": 1,
        "data.batch_size": min(config.data.batch_size, 16),
        "data.shuffle_buffer": min(config.data.shuffle_buffer, 1000),
    }
    if "width" in config.model:
        overrides["model.width"] = min(config.model.width, 16)
    return apply_overrides(config, overrides, check_names=False)
