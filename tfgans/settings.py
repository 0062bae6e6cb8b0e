"""Declared settings: what a trainer or preset accepts from a config, typed and documented.

A trainer declares its settings (`Trainer.SETTINGS`) and a preset its model keys, each a
`Setting` that names the config key, the argument it sets and a `Key` (default, type,
range, doc). The config layer (`pipelines.config`) builds its schema from these
declarations, so adding a preset or a trainer setting touches no central schema.

Example:
>>> Key(64, "int", low=1, doc="base number of filters").default
64
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Key:
    """A typed config value.

    Attributes:
        default: the value when nothing sets it. None with `nullable`: "resolved at run
            time" (the effective value is written into the run's config.yaml).
        kind: "int", "float", "bool", "str", "bool_or_auto" or "str_list".
        low, high: bounds (inclusive unless `low_open` / `high_open`).
        choices: the accepted strings.
        nullable: null is accepted (and means what `doc` says).
        path: a file system path (resolved against the config file's folder).
        doc: one line for --help and the docs.
    """

    default: object
    kind: str
    low: float = None
    high: float = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = None
    nullable: bool = False
    path: bool = False
    doc: str = ""


@dataclasses.dataclass(frozen=True)
class Setting:
    """A trainer argument set from a config key: `key` ("section.name") -> `argument`."""

    key: str
    argument: str
    spec: Key
