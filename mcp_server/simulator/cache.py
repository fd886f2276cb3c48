"""Zerobyte's server-side cache of restic answers (``app/server/utils/cache.ts``), on the simulator's clock.

Exists because what the real server answers depends on it: ``retentionCategories`` come from a
``forget --dry-run`` cached per (repository, schedule) for a day and are *not* recomputed after a policy
change, only when something clears the repository's entries (a finished backup, a forget, a mirror copy
into it, deleting or tagging snapshots, a snapshot refresh, a repository config change, a restart). The
cost model also reads it: a cached snapshot list or file page answers in milliseconds, an uncached one
runs restic. Keys are Zerobyte's own (``repo:<id>:snapshots:<backupId|all>``,
``repo:<id>:ls:<snapshot>:<path|root>:<offset>:<limit>``, ``repo:<id>:retention:<schedule>``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

ONE_DAY_MS = 86_400_000


def repo_prefix(repository_id: str) -> str:
    return f"repo:{repository_id}:"


def snapshots_key(repository_id: str, backup_id: str | None) -> str:
    return f"repo:{repository_id}:snapshots:{backup_id or 'all'}"


def ls_key(repository_id: str, snapshot_id: str, path: str | None, offset: int, limit: int) -> str:
    return f"repo:{repository_id}:ls:{snapshot_id}:{path or 'root'}:{offset}:{limit}"


def retention_key(repository_id: str, schedule_short_id: str) -> str:
    return f"repo:{repository_id}:retention:{schedule_short_id}"


class ServerCache:
    """Key → value with a one-day expiry (``now_ms`` is the simulator's clock)."""

    def __init__(self, now_ms: Callable[[], int]) -> None:
        self._now_ms = now_ms
        self._entries: dict[str, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < self._now_ms():
                del self._entries[key]
                return None
            return entry[1]

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def set(self, key: str, value: Any = True, ttl_ms: int = ONE_DAY_MS) -> None:
        with self._lock:
            self._entries[key] = (self._now_ms() + ttl_ms, value)

    def del_prefix(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k.startswith(prefix)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
