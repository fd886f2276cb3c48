"""The simulator: ``Simulator``, assembled from its layers, and the names the rest of the package imports.

Layers, each in its own module: ``model`` (constants, errors, snapshots, tasks, event frames), ``core``
(every row a Zerobyte remembers, lookups, seeding helpers, the event bus), ``engine`` (task lifecycle on
background threads, locks, progress, cancellation, restarts) and ``runners`` (what each task does, with
restic's semantics). The HTTP layer is ``api.py`` with one route module per resource in ``routes/``.
"""

from __future__ import annotations

from .model import (
    DEFAULT_LOCK_ERROR,
    DEFAULT_WARNING_DETAILS,
    ApiError,
    RecordedRequest,
    Snapshot,
    Task,
)
from .runners import TaskRunners, diff_trees

# What the rest of the package (and tests) import from here; each name lives in the module above.
__all__ = [
    "DEFAULT_LOCK_ERROR",
    "DEFAULT_WARNING_DETAILS",
    "ApiError",
    "RecordedRequest",
    "Simulator",
    "Snapshot",
    "Task",
    "diff_trees",
]


class Simulator(TaskRunners):
    """A stateful fake Zerobyte server (``/api/v1``). Serve it with ``create_app``/``SimulatorServer``.

    Thread-safe: every mutation holds ``self.lock``; tasks run on background threads.
    """
