"""``Config``: a dict with attribute access that can be frozen (``keras.utils.Config``).

Example:
    >>> from callax.utils import Config
    >>> config = Config(learning_rate=0.1, layers=2)
    >>> config.learning_rate, config["layers"]
    (0.1, 2)
    >>> config.freeze()
    >>> config.layers = 3
    Traceback (most recent call last):
    ...
    ValueError: Config is frozen: cannot set 'layers'; call unfreeze() first.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any


class Config:
    """Settings held as attributes and items: ``config.x`` is ``config["x"]``.

    ``freeze()`` makes it read-only (``unfreeze()`` undoes it); ``as_dict()``
    and ``to_json()`` export it.
    """

    def __init__(self, **kwargs: Any):
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        object.__setattr__(self, "_frozen", False)

    def _check_mutable(self, what: str) -> None:
        if self._frozen:
            raise ValueError(f"Config is frozen: cannot {what}; call unfreeze() first.")

    def as_dict(self) -> dict:
        return copy.copy(self._config)

    def to_json(self) -> str:
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self._config.get(key, default)

    def pop(self, *args: Any) -> Any:
        self._check_mutable(f"pop {args[0]!r}" if args else "pop")
        return self._config.pop(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._check_mutable("update it")
        self._config.update(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self.__dict__["_config"][name]
        except KeyError:
            raise AttributeError(f"Config has no key {name!r}.") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._check_mutable(f"set {name!r}")
        self._config[name] = value

    def __delattr__(self, name: str) -> None:
        self._check_mutable(f"delete {name!r}")
        try:
            del self._config[name]
        except KeyError:
            raise AttributeError(f"Config has no key {name!r}.") from None

    def __getitem__(self, key: str) -> Any:
        return self._config[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_mutable(f"set {key!r}")
        self._config[key] = value

    def __delitem__(self, key: str) -> None:
        self._check_mutable(f"delete {key!r}")
        del self._config[key]

    def __contains__(self, key: object) -> bool:
        return key in self._config

    def __len__(self) -> int:
        return len(self._config)

    def __iter__(self) -> Iterator[str]:
        return iter(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config}>"

    def __getstate__(self) -> dict:
        return {"_config": self._config, "_frozen": self._frozen}

    def __setstate__(self, state: dict) -> None:
        object.__setattr__(self, "_config", state["_config"])
        object.__setattr__(self, "_frozen", state["_frozen"])
