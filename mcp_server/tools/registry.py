"""The tools one server offers, built for its settings from the catalogue.

:func:`spec` binds a catalogue entry to the function its module declares (importing that module on first
need; a bound spec is immutable and shared by every server of the process, so its SDK ``Tool`` is built
once). :meth:`Registry.offered` picks by name, importing nothing, what a configuration offers: access level
first, then the toolset and tool allow/deny lists, in catalogue order.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .catalogue import CATALOGUE, LEVELS, entry

if TYPE_CHECKING:
    from ..config import Settings
    from .base import ToolSpec

__all__ = ["Registry", "spec"]


@functools.cache
def spec(name: str) -> ToolSpec:
    """Tool ``name`` bound to its declaring function; KeyError when it is not one of ours."""
    found = entry(name)
    if found is None:
        raise KeyError(name)
    from .base import bind  # with a tool's module: listing a tool needs neither (see listing.py)

    module = importlib.import_module(f"{__package__}.{found.module}")
    return bind(found.name, found.toolset, found.level, getattr(module, found.name))


class Registry:
    """An ordered, read-only set of tools: what one server offers. Names only; a tool's module is imported
    when its spec is first asked for (a call), never to list it (see listing.py)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._names = tuple(dict.fromkeys(names))

    @classmethod
    def offered(cls, settings: Settings) -> Registry:
        levels = LEVELS[settings.access]
        return cls(
            e.name
            for e in CATALOGUE
            if e.level in levels
            and (not settings.toolsets_allow or e.toolset in settings.toolsets_allow)
            and e.toolset not in settings.toolsets_deny
            and (not settings.tools_allow or e.name in settings.tools_allow)
            and e.name not in settings.tools_deny
        )

    @classmethod
    def everything(cls) -> Registry:
        """Every tool of the catalogue."""
        return cls(e.name for e in CATALOGUE)

    def get(self, name: str) -> ToolSpec | None:
        return spec(name) if name in self._names else None

    def __iter__(self) -> Iterator[ToolSpec]:
        """The specs, in catalogue order (imports their modules)."""
        return (spec(n) for n in self._names)

    @property
    def ordered(self) -> tuple[str, ...]:
        return self._names

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._names)
