"""Tool modules, one per Zerobyte domain. :func:`load` imports them all, which declares every tool.

The package itself imports nothing, so a helper module (``follow``, ``resources``) can import one tool
module without pulling in (and cycling through) all the others.
"""

from __future__ import annotations

import importlib

__all__ = ["MODULES", "load"]

MODULES = (
    "backups",
    "configure",
    "health",
    "notifications",
    "operations",
    "repositories",
    "snapshots",
    "system",
    "tasks",
    "volumes",
)


def load() -> None:
    """Import every tool module (idempotent); the ``@tool`` decorators fill the registry."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
