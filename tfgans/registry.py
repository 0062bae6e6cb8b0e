"""A name -> object registry that rejects duplicates, so configs can name things."""


class Registry:
    """Maps names to objects (functions, classes) for lookup from configs.

    Args:
        kind: what is registered, used in error messages ("loss", "model", ...).

    Example:
    >>> models = Registry("model")
    >>> @models.register("mlp")
    ... def build_mlp(): ...
    >>> models.get("mlp") is build_mlp
    True
    """

    def __init__(self, kind):
        self.kind = kind
        self._items = {}

    def register(self, name, obj=None):
        """Registers `obj` under `name`; usable as a decorator when `obj` is None."""

        def add(o):
            if name in self._items:
                raise ValueError(f"A {self.kind} named {name!r} is already registered.")
            self._items[name] = o
            return o

        return add if obj is None else add(obj)

    def get(self, name):
        if name not in self._items:
            raise ValueError(
                f"Unknown {self.kind} {name!r}. Valid {self.kind} names: {', '.join(self.names())}."
            )
        return self._items[name]

    def names(self):
        return sorted(self._items)

    def __contains__(self, name):
        return name in self._items
