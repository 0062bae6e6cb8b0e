"""Presets: named recipes (a trainer, its networks' builder, the paper's settings).

`model.name` in a config picks a preset; from Python, `tfgans.models.get(name)` returns it,
and calling it builds the networks (`get("dcgan")((28, 28, 1), latent_dim=64)`). A preset
declares its own model keys (default, type, range, doc) and the paper's settings of the
other sections, so adding one touches no central schema.

Example:
```python
from tfgans.models.presets import PRESETS, Preset
from tfgans.settings import Key

PRESETS.register("tiny_dcgan", Preset(
    "tiny_dcgan", trainer="gan", build=build_dcgan,
    keys={"width": Key(8, "int", low=1, doc="base filters")},
    defaults={"loss.name": "hinge"}, doc="a small DCGAN with the hinge loss"))
```
"""

import dataclasses
from typing import Callable

from tfgans.registry import Registry


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named recipe.

    Attributes:
        name: the registry name (`model.name`).
        trainer: the registered name of the trainer that trains it
            (`tfgans.training.get_trainer`; its `SETTINGS` and `TRAINED` networks make the
            config's `loss`, `optimizer`, ... keys). A name, so models do not depend on
            the training layer.
        build: `build(image_shape, latent_dim, num_classes=None, **kwargs)` -> the
            networks, in the order of `trainer.TRAINED` (a tuple) or by name (a dict).
        keys: {model key: `tfgans.settings.Key`}: the preset's own config keys.
        defaults: {"section.key": value}: the paper's settings, over the declared defaults.
        to_kwargs: maps {model key: value} to `build`'s keyword arguments (default: the
            same names).
        resolve_model: maps ({model key: value}, num_classes, multi_replica, image_size)
            to the effective values (e.g. the conditioning a conditional model gets when
            none is named, the attention resolution for the image size).
        image_sizes: the square image sizes the networks take (None: any); a config
            asking for another is an error before anything is built.
        doc: one line; reference: the paper.
    """

    name: str
    trainer: str
    build: Callable
    keys: dict
    defaults: dict = dataclasses.field(default_factory=dict)
    to_kwargs: Callable = None
    resolve_model: Callable = None
    image_sizes: tuple = None
    doc: str = ""
    reference: str = ""

    def __call__(self, *args, **kwargs):
        """Builds the networks: `build(image_shape, latent_dim, num_classes, **kwargs)`."""
        return self.build(*args, **kwargs)

    def build_kwargs(self, model_values):
        """`build`'s keyword arguments from the model section's {key: value}."""
        values = {k: v for k, v in model_values.items() if k in self.keys}
        return self.to_kwargs(values) if self.to_kwargs else values

    def networks(self, names, image_shape, latent_dim, num_classes, model_values):
        """Builds the networks for a config: {name: model}, a tuple taken in the order of
        `names` (the trainer's `TRAINED`)."""
        built = self.build(tuple(image_shape), latent_dim, num_classes,
                           **self.build_kwargs(model_values))
        if isinstance(built, dict):
            return built
        return dict(zip(names, built, strict=True))

    def resolve(self, model_values, num_classes, multi_replica=False, image_size=None):
        """The model section with effective values (`image_size`: the images' side)."""
        if self.resolve_model is None:
            return dict(model_values)
        return self.resolve_model(dict(model_values), num_classes, multi_replica, image_size)

    def check_image_size(self, size):
        """Raises ValueError (naming the sizes it takes) for a size the networks cannot
        take."""
        if self.image_sizes is not None and size not in self.image_sizes:
            raise ValueError(
                f"model {self.name!r} takes images of {', '.join(map(str, self.image_sizes))} "
                f"pixels a side. Received: {size}"
            )


PRESETS = Registry("model")
