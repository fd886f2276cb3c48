"""The simulator: ``Simulator``, composed of its parts, and the names the rest of the package imports.

Parts, each in its own module, each importing only those before it: ``model`` (constants, errors, snapshots,
tasks, event frames), ``core`` (every row a Zerobyte remembers, lookups, seeding helpers, the event bus),
``engine`` (task lifecycle on background threads, locks, progress, cancellation, restarts; given the core) and
``runners`` (what each task does, with restic's semantics; given the core and the engine). ``Simulator`` is the
core with both attached. The HTTP layer is ``api.py`` with one route module per resource in ``routes/``.
"""

from __future__ import annotations

from .core import SimulatorCore
from .engine import TaskEngine
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


class Simulator(SimulatorCore):
    """A stateful fake Zerobyte server (``/api/v1``). Serve it with ``create_app``/``SimulatorServer``.

    Thread-safe: every mutation holds ``self.lock``; tasks run on background threads.
    """

    def _attach_parts(self) -> None:
        self.engine = TaskEngine(self)
        self.runners = TaskRunners(self, self.engine)
        # what the routes, seeds and tests call on the simulator itself
        self.active_task = self.engine.active_task
        self.request_cancel = self.engine.request_cancel
        self.restart = self.engine.restart
        self.add_task = self.runners.add_task
        self.add_history = self.runners.add_history
        self.start_backup = self.runners.start_backup
        self.start_forget = self.runners.start_forget
        self.start_mirror_sync = self.runners.start_mirror_sync
        self.start_restore = self.runners.start_restore
        self.start_doctor = self.runners.start_doctor
        self.start_delete_snapshots = self.runners.start_delete_snapshots
        self.start_tag = self.runners.start_tag
