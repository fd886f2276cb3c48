"""The simulator: ``Simulator``, assembled from its layers, and the names the rest of the package imports.

Layers, each in its own module: ``model`` (constants, errors, snapshots, tasks, event frames), ``core``
(every row a Zerobyte remembers, lookups, seeding helpers, the event bus), ``engine`` (task lifecycle on
background threads, locks, progress, cancellation, restarts) and ``runners`` (what each task does, with
restic's semantics). The HTTP layer is ``api.py`` with one route module per resource in ``routes/``.
"""

from __future__ import annotations

from .core import SimulatorCore
from .model import (
    ACTIVE_STATUSES,
    BLOCKED_RESTORE_PREFIXES,
    CANCEL_MESSAGES,
    CANCELLABLE_KINDS,
    DEFAULT_LOCK_ERROR,
    DEFAULT_WARNING_DETAILS,
    ORG_OWNER_USER_ID,
    RESTART_BACKUP_ERROR,
    RESTART_TASK_ERROR,
    TERMINAL_STATUSES,
    ApiError,
    RateState,
    RecordedRequest,
    Snapshot,
    Task,
    fail,
    sse_frame,
)
from .runners import TaskRunners, diff_trees, graft, restore_summary

__all__ = [
    "ACTIVE_STATUSES",
    "BLOCKED_RESTORE_PREFIXES",
    "CANCELLABLE_KINDS",
    "CANCEL_MESSAGES",
    "DEFAULT_LOCK_ERROR",
    "DEFAULT_WARNING_DETAILS",
    "ORG_OWNER_USER_ID",
    "RESTART_BACKUP_ERROR",
    "RESTART_TASK_ERROR",
    "TERMINAL_STATUSES",
    "ApiError",
    "RateState",
    "RecordedRequest",
    "Simulator",
    "SimulatorCore",
    "Snapshot",
    "Task",
    "diff_trees",
    "fail",
    "graft",
    "restore_summary",
    "sse_frame",
]


class Simulator(TaskRunners):
    """A stateful fake Zerobyte server (``/api/v1``). Serve it with ``create_app``/``SimulatorServer``.

    Thread-safe: every mutation holds ``self.lock``; tasks run on background threads.
    """
