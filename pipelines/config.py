"""Experiment configs: a typed schema with a default for every key, YAML files,
`--set a.b=value` overrides and validation.

A config file names only what differs from the defaults:

```yaml
model: {name: dcgan, latent_dim: 128}
data: {name: fashion_mnist, batch_size: 64}
train: {steps: 20000}
```

Example:
>>> config = load_config("configs/dcgan_fashion_mnist.yaml", ["train.steps=100"])  # doctest: +SKIP
>>> config.train.steps                                                             # doctest: +SKIP
100

Every problem (missing file, invalid YAML, unknown key, wrong type, value out of range,
unknown model / loss / dataset name) raises `ConfigError`, a `ValueError` whose message is
one line naming the key, the value received, where it came from and what is accepted.
"""

import dataclasses
import difflib
import math
import os

import yaml


class ConfigError(ValueError):
    """A bad config: the message is one line that names the key and what is accepted."""

    def __init__(self, message):
        super().__init__(" ".join(str(message).split()))


# Field specs: the type, the accepted values, and whether null is allowed. They live in the
# dataclass fields' metadata, so the schema is the dataclasses below and nothing else.


def _spec(default, kind, *, low=None, high=None, low_open=False, high_open=False,
          choices=None, nullable=False, path=False, doc=""):
    meta = dict(kind=kind, low=low, high=high, low_open=low_open, high_open=high_open,
                choices=choices, nullable=nullable, path=path, doc=doc)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The generator / discriminator pair (`tfgans.models.get(name)` builds it)."""

    name: str = _spec("dcgan", "str", doc="model builder: dcgan, mlp")
    latent_dim: int = _spec(128, "int", low=1)
    width: int = _spec(64, "int", low=1, doc="base number of filters / units")
    spectral_norm: bool = _spec(False, "bool", doc="spectral norm in the discriminator")
    conditioning: str = _spec(None, "str", nullable=True, choices=("concat", "projection", "acgan"),
                              doc="class conditioning of the discriminator; needs data.labels")
    synchronized_bn: bool = _spec(False, "bool", doc="cross-replica batch norm")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The input pipeline (`pipelines.data.build_dataset`)."""

    name: str = _spec("fashion_mnist", "str",
                      doc="fashion_mnist, image_folder, tfds/<name>")
    batch_size: int = _spec(64, "int", low=1, doc="global batch size (all replicas)")
    labels: bool = _spec(False, "bool", doc="feed class labels (conditional models)")
    path: str = _spec(None, "str", nullable=True, path=True, doc="image folder (image_folder)")
    data_dir: str = _spec(None, "str", nullable=True, path=True,
                          doc="TFDS data dir; null: $TFDS_DATA_DIR or ~/tensorflow_datasets")
    image_size: int = _spec(None, "int", low=1, nullable=True, doc="resize to this; null: native")
    shuffle_buffer: int = _spec(10_000, "int", low=1)


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The adversarial loss (`tfgans.losses.get(name)`) and its settings."""

    name: str = _spec("wasserstein", "str",
                      doc="wasserstein, minimax, non_saturating, hinge, least_squares, relativistic")
    gradient_penalty: float = _spec(10.0, "float", low=0.0, nullable=True,
                                    doc="WGAN-GP weight; null: the loss's default")
    n_critic: int = _spec(None, "int", low=1, nullable=True,
                          doc="D updates per G update; null: the loss's default")
    label_smoothing: float = _spec(0.0, "float", low=0.0, high=1.0, high_open=True)


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """Adam for both networks (WGAN-GP's settings by default)."""

    generator_lr: float = _spec(1e-4, "float", low=0.0, low_open=True)
    discriminator_lr: float = _spec(1e-4, "float", low=0.0, low_open=True)
    beta_1: float = _spec(0.0, "float", low=0.0, high=1.0, high_open=True)
    beta_2: float = _spec(0.9, "float", low=0.0, high=1.0, high_open=True)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The training loop."""

    steps: int = _spec(20_000, "int", low=1, doc="generator updates")
    seed: int = _spec(0, "int", low=0)
    ema: float = _spec(0.999, "float", low=0.0, high=1.0, low_open=True, high_open=True,
                       nullable=True, doc="generator weight EMA decay; null: no EMA")
    checkpoint_every: int = _spec(1000, "int", low=1)
    keep_checkpoints: int = _spec(3, "int", low=1)
    sample_every: int = _spec(500, "int", low=1)
    log_every: int = _spec(100, "int", low=1)
    steps_per_execution: int = _spec(1, "int", low=1)
    jit_compile: object = _spec("auto", "bool_or_auto",
                                doc="XLA: true, false or auto (on for one device)")
    mixed_precision: str = _spec(None, "str", nullable=True,
                                 choices=("mixed_float16", "mixed_bfloat16"))


@dataclasses.dataclass(frozen=True)
class DistributeConfig:
    """The `tf.distribute` strategy."""

    strategy: str = _spec("default", "str", choices=("default", "mirrored", "multi_worker", "tpu"))
    devices: tuple = _spec(None, "str_list", nullable=True,
                           doc="mirrored only: device names; null: all GPUs (or the CPU)")
    tpu: str = _spec(None, "str", nullable=True,
                     doc="tpu only: the TPU's name, or local on a Cloud TPU VM; null: $TPU_NAME")
    peer_timeout: float = _spec(600.0, "float", low=0.0, low_open=True,
                                doc="multi_worker: seconds a step may wait for the other "
                                "workers before this one exits (status 75); must exceed "
                                "the chief's evaluation time")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Evaluation during training (`tfgans.callbacks.PeriodicEvaluation`) and the defaults
    of `tfgans evaluate`."""

    every: int = _spec(1000, "int", low=0,
                       doc="evaluate every this many steps while training (and at the end); "
                       "0: never")
    num_samples: int = _spec(1000, "int", low=2,
                             doc="generated and real images per evaluation while training")
    extractor: str = _spec("auto", "str", choices=("auto", "fashion_mnist", "inception", "none"),
                           doc="feature extractor; auto: the Fashion-MNIST classifier for "
                           "28x28x1 images, else none")
    kid_subset_size: int = _spec(1000, "int", low=2, doc="KID's subset size")


@dataclasses.dataclass(frozen=True)
class Config:
    """A whole experiment. Frozen; compare with ==, copy with `apply_overrides`."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    distribute: DistributeConfig = dataclasses.field(default_factory=DistributeConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)

    def to_dict(self):
        """Returns the config as nested plain dicts (lists, not tuples)."""
        return {
            section.name: {
                f.name: _plain(getattr(getattr(self, section.name), f.name))
                for f in dataclasses.fields(section.type)
            }
            for section in dataclasses.fields(self)
        }

    def to_yaml(self):
        """Returns the config as YAML text that `load_config` reads back equal."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False)


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config)}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def schema():
    """Returns {"section.key": (default, kind, doc)} for every key, for docs and --help."""
    return {
        f"{section}.{f.name}": (f.default, f.metadata["kind"], f.metadata["doc"])
        for section, cls in SECTIONS.items()
        for f in dataclasses.fields(cls)
    }


# Loading.


def _origin(origins, key):
    where = origins.get(key)
    return f" (from {where})" if where else ""


def _unknown_key(key, valid, where, scope, name=None):
    close = difflib.get_close_matches(name or key.split(".")[-1], valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"Unknown config key {key!r}{where}. Valid keys {scope}: {', '.join(sorted(valid))}.{hint}"
    )


def _check_duplicate_keys(text, source):
    """YAML itself keeps the last of two equal keys silently; a config must not."""
    def walk(node):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise ConfigError(
                            f"{source}: key {key.value!r} appears twice "
                            f"(line {key.start_mark.line + 1}): keep one."
                        )
                    seen.add(key.value)
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    walk(yaml.compose(text, Loader=yaml.SafeLoader))


def _parse_yaml(text, source):
    try:
        _check_duplicate_keys(text, source)
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}.") from e


def _merge(raw, data, origin, base_dir, origins, bases):
    """Merges a parsed mapping `data` into `raw`, checking sections and keys."""
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
                f"not {values!r} (from {origin})."
            )
        valid = [f.name for f in dataclasses.fields(SECTIONS[section])]
        for key, value in values.items():
            dotted = f"{section}.{key}"
            if key not in valid:
                raise _unknown_key(dotted, valid, f" (from {origin})", f"in {section!r}")
            raw.setdefault(section, {})[key] = value
            origins[dotted] = origin
            bases[dotted] = base_dir


def parse_override(assignment):
    """Parses "a.b=value" into ("a.b", value), the value read as a YAML scalar."""
    if not isinstance(assignment, str) or "=" not in assignment:
        raise ConfigError(
            f"An override must look like section.key=value. Received: {assignment!r}"
        )
    key, text = assignment.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as e:
        raise ConfigError(f"--set {assignment}: the value is not valid YAML.") from e
    return key, value


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
        valid = [f.name for f in dataclasses.fields(SECTIONS[parts[0]])]
        raise _unknown_key(key, valid, f" (from {origin})", f"in {parts[0]!r}")
    else:
        _merge(raw, {parts[0]: {parts[1]: value}}, origin, os.getcwd(), origins, bases)


# Values: check types and ranges.


def _describe(meta):
    kind = meta["kind"]
    if meta["choices"]:
        text = "one of " + ", ".join(meta["choices"])
    elif kind == "bool_or_auto":
        text = "true, false or auto"
    else:
        text = {"int": "an integer", "float": "a number", "bool": "true or false",
                "str": "a string", "str_list": "a list of strings"}[kind]
        bounds = []
        if meta["low"] is not None:
            bounds.append(f"{'>' if meta['low_open'] else '>='} {meta['low']}")
        if meta["high"] is not None:
            bounds.append(f"{'<' if meta['high_open'] else '<='} {meta['high']}")
        if bounds:
            text += " " + " and ".join(bounds)
    return text + (" or null" if meta["nullable"] else "")


def _coerce(meta, value):
    """Returns `value` converted to the field's type, or raises ValueError."""
    kind = meta["kind"]
    if value is None:
        if meta["nullable"]:
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
        if isinstance(value, bool) or not isinstance(value, int):
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
        if meta["choices"] and value not in meta["choices"]:
            raise ValueError
    elif kind == "str_list":
        if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v for v in value
        ):
            raise ValueError
        return tuple(value)
    low, high = meta["low"], meta["high"]
    if low is not None and (value < low or (meta["low_open"] and value == low)):
        raise ValueError
    if high is not None and (value > high or (meta["high_open"] and value == high)):
        raise ValueError
    return value


def _resolve_path(value, base_dir):
    path = os.path.expanduser(value)
    if not os.path.isabs(path):
        path = os.path.join(base_dir or os.getcwd(), path)
    return os.path.normpath(path)


def _build(raw, origins, bases):
    sections = {}
    for section, cls in SECTIONS.items():
        values = {}
        for f in dataclasses.fields(cls):
            key = f"{section}.{f.name}"
            if f.name not in raw.get(section, {}):
                continue
            value = raw[section][f.name]
            try:
                value = _coerce(f.metadata, value)
            except (ValueError, TypeError):
                raise ConfigError(
                    f"Config key {key!r} must be {_describe(f.metadata)}. "
                    f"Received: {key}={value!r}{_origin(origins, key)}."
                ) from None
            if f.metadata["path"] and value is not None:
                value = _resolve_path(value, bases.get(key))
            values[f.name] = value
        sections[section] = cls(**values)
    return Config(**sections)


# Whole-config checks: names and keys that depend on each other.


def _check_name(key, value, get, origins):
    try:
        get(value)
    except ValueError as e:
        raise ConfigError(f"Config key {key!r}{_origin(origins, key)}: {e}") from None


def _check_names(config, origins):
    import tfgans.losses
    import tfgans.models

    from pipelines import data

    _check_name("model.name", config.model.name, tfgans.models.get, origins)
    _check_name("loss.name", config.loss.name, tfgans.losses.get, origins)
    _check_name("data.name", config.data.name, data.check_dataset_name, origins)


def _check_consistency(config, origins):
    d = config.data
    if d.name == "arrays":
        raise ConfigError(
            "Config key 'data.name': the arrays dataset takes in-memory arrays from Python "
            f"(pipelines.data.from_arrays), not a config{_origin(origins, 'data.name')}."
        )
    if d.name == "image_folder" and d.path is None:
        raise ConfigError(
            "Config key 'data.path' is required when data.name is image_folder: "
            "set it to the image folder."
        )
    if d.name != "image_folder" and d.path is not None:
        raise ConfigError(
            f"Config key 'data.path' is only used by data.name=image_folder, not "
            f"{d.name!r}{_origin(origins, 'data.path')}: remove it."
        )
    if config.model.conditioning is not None and not d.labels:
        raise ConfigError(
            f"Config key 'model.conditioning' is {config.model.conditioning!r} but "
            "data.labels is false: a conditional model needs labels (set data.labels: true)."
        )
    e = config.eval
    if e.every and e.extractor != "none" and e.num_samples < e.kid_subset_size:
        raise ConfigError(
            f"Config key 'eval.num_samples' ({e.num_samples}) is smaller than "
            f"eval.kid_subset_size ({e.kid_subset_size}): KID needs that many samples; raise "
            "eval.num_samples or lower eval.kid_subset_size."
        )
    dist = config.distribute
    if dist.devices is not None and dist.strategy != "mirrored":
        raise ConfigError(
            f"Config key 'distribute.devices' is only used with distribute.strategy=mirrored, "
            f"not {dist.strategy!r}{_origin(origins, 'distribute.devices')}."
        )


def config_from_dict(data=None, overrides=(), *, base_dir=None, source="<dict>", check_names=True):
    """Builds a validated `Config` from a mapping (as read from YAML) and overrides.

    Args:
        data: {section: {key: value}}; missing keys take their defaults.
        overrides: "section.key=value" strings (values read as YAML scalars), or
            ("section.key", value) pairs; later ones win.
        base_dir: folder that relative paths in `data` resolve against (paths given in
            overrides resolve against the current directory). None: the current directory.
        source: where `data` came from, for messages.
        check_names: check model / loss / dataset names against their registries
            (imports tfgans and TensorFlow).

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
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
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
    flat_a, flat_b = a.to_dict(), b.to_dict()
    return [
        f"{section}.{key}: {flat_a[section][key]!r} != {flat_b[section][key]!r}"
        for section in flat_a
        for key in flat_a[section]
        if flat_a[section][key] != flat_b[section][key]
    ]


def quick_config(config, steps=20):
    """Shrinks a config for a smoke run (big_vision's `runlocal`): few steps, small
    batches and model, frequent logs, samples and checkpoints."""
    return apply_overrides(
        config,
        {
            "train.steps": steps,
            "train.checkpoint_every": steps,
            "train.sample_every": steps,
            "train.log_every": 1,
            "data.batch_size": min(config.data.batch_size, 16),
            "data.shuffle_buffer": min(config.data.shuffle_buffer, 1000),
            "model.width": min(config.model.width, 16),
        },
        check_names=False,
    )
