"""Tool modules, one per Zerobyte domain. :func:`load` imports them all, which declares every tool.

The package itself imports nothing, so a helper module (``follow``, ``resources``) can import one tool
module without pulling in (and cycling through) all the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

__all__ = ["MODULES", "MODULE_LEVELS", "load"]

# The access levels each module declares tools at. A server loads only the modules that can contribute
# tools at its level: at read-only, importing the operations module (and the confirmation and task
# following machinery it needs) was a measurable share of the cold start for no tool at all.
# tests/test_startup.py checks this table against the @tool declarations. Import order is registry order,
# which is the order of tools/list (a module imported by another one registers its tools first).
MODULE_LEVELS: dict[str, tuple[str, ...]] = {
    "backups": ("read",),
    "configure": ("operate",),
    "tasks": ("read",),
    "health": ("read",),
    "notifications": ("read",),
    "operations": ("operate", "full"),
    "repositories": ("read",),
    "snapshots": ("read",),
    "system": ("read",),
    "volumes": ("read", "operate"),
}
MODULES = tuple(MODULE_LEVELS)


def load(levels: Iterable[str] | None = None) -> None:
    """Import the tool modules (idempotent); the ``@tool`` decorators fill the registry.

    With ``levels``, only modules that declare tools at one of those levels; without, every module.
    """
    wanted = None if levels is None else set(levels)
    for name, declared in MODULE_LEVELS.items():
        if wanted is None or wanted.intersection(declared):
            importlib.import_module(f"{__name__}.{name}")
