"""Package namespaces whose names are imported on first use (PEP 562), for a fast start-up.

`desktop_app.cache` and `desktop_app.api` re-export their parts; importing the package must not
import every part (SQLModel, httpx) when a caller only needs a light one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` resolving `name` from `package.<homes[name]>` on first use."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        namespace[name] = value  # once resolved, a plain module attribute
        return value

    return __getattr__
