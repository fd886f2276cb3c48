"""Every tool we have: its toolset, its access level and the module that declares it — the one table.

Modelled on github-mcp-server's toolset groups. Tool modules only *declare* tools (``@tool``: title,
hints, arguments, answer); this table places each tool in a toolset and an access level, and its order
(backup_health first, then toolset by toolset, read before operate before full) is the order of
tools/list. A server builds its :class:`~mcp_server.tools.registry.Registry` from it for its own settings,
importing only the modules that hold a tool it offers: a read-only server never imports the write tools
and their machinery.

This module imports nothing of ours, so anything may ask "is this one of our tools, at which level?"
without importing a tool module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["CATALOGUE", "LEVELS", "TOOLSETS", "Entry", "Level", "entry", "level_needed", "unknown_names"]

Level = Literal["read", "operate", "full"]
# Which tool levels each access level (the ``access`` setting) offers.
LEVELS: Final[dict[str, tuple[Level, ...]]] = {
    "read-only": ("read",),
    "operate": ("read", "operate"),
    "full": ("read", "operate", "full"),
}


@dataclass(frozen=True)
class Entry:
    name: str
    toolset: str
    level: Level
    module: str  # below mcp_server.tools


def _toolset(
    name: str,
    *,
    read: dict[str, str] | None = None,
    operate: dict[str, str] | None = None,
    full: dict[str, str] | None = None,
) -> tuple[Entry, ...]:
    """One toolset's tools by level, each as ``tool name: module``."""
    levels: tuple[tuple[Level, dict[str, str] | None], ...] = (("read", read), ("operate", operate), ("full", full))
    return tuple(Entry(tool, name, level, module) for level, tools in levels for tool, module in (tools or {}).items())


CATALOGUE: Final[tuple[Entry, ...]] = (
    # First, as the server's instructions say: one verdict for everything, the usual first question.
    *_toolset("health", read={"backup_health": "health", "drill_backup": "drill"}),
    *_toolset(
        "volumes",
        read={"list_volumes": "volumes", "get_volume": "volumes", "browse_volume_files": "volumes"},
        operate={
            # Only reads; offered beside create_volume, whose path it helps choose.
            "browse_server_filesystem": "volumes",
            "create_volume": "configure.volumes",
            "update_volume": "configure.volumes",
            "mount_volume": "configure.volumes",
        },
        full={"delete_volume": "destroy"},
    ),
    *_toolset(
        "repositories",
        read={"list_repositories": "repositories", "get_repository": "repositories"},
        operate={
            "create_repository": "configure.repositories",
            "update_repository": "configure.repositories",
            "unlock_repository": "configure.repositories",
            "run_doctor": "run",
        },
        full={"delete_repository": "destroy"},
    ),
    *_toolset(
        "snapshots",
        read={
            "list_snapshots": "snapshots.listing",
            "get_snapshot": "snapshots.listing",
            "list_snapshot_files": "snapshots.files",
            "find_file": "snapshots.find",
            "read_snapshot_file": "snapshots.files",
            "compare_snapshots": "snapshots.compare",
        },
        operate={"tag_snapshots": "tagging", "restore": "restore"},
        full={"restore_in_place": "restore", "delete_snapshots": "destroy"},
    ),
    *_toolset(
        "backups",
        read={"list_backup_jobs": "backups", "get_backup_job": "backups", "get_mirror_status": "backups"},
        operate={
            "create_backup_job": "configure.jobs",
            "update_backup_job": "configure.jobs",
            "set_backup_jobs_enabled": "configure.jobs",
            "set_mirror": "configure.mirrors",
            "run_backup": "run",
            "sync_mirror": "run",
        },
        full={"apply_retention": "destroy", "delete_backup_job": "destroy"},
    ),
    *_toolset(
        "notifications",
        read={"list_notification_destinations": "notifications", "get_notification_destination": "notifications"},
        operate={
            "create_notification_destination": "configure.notifications",
            "update_notification_destination": "configure.notifications",
            "route_notifications": "configure.notifications",
        },
        full={"delete_notification_destination": "destroy"},
    ),
    *_toolset(
        "tasks",
        read={"list_active_tasks": "tasks", "get_task": "tasks", "task_history": "tasks"},
        # wait_for_task only reads; offered beside the tools that start tasks.
        operate={"wait_for_task": "task_control", "cancel_task": "task_control"},
    ),
    *_toolset("system", read={"get_system_info": "system"}),
    # MCP App (io.modelcontextprotocol/ui): a host with Apps renders ui://zerobyte/backups.html with them.
    *_toolset("app", read={"show_backups": "app.board", "show_snapshots": "app.board"}),
)
TOOLSETS: Final[tuple[str, ...]] = tuple(dict.fromkeys(e.toolset for e in CATALOGUE))
_BY_NAME: Final[dict[str, Entry]] = {e.name: e for e in CATALOGUE}


def entry(name: str) -> Entry | None:
    """The catalogue entry of tool ``name``; None when it is not one of ours."""
    return _BY_NAME.get(name)


def unknown_names(*, tools: Iterable[str] = (), toolsets: Iterable[str] = ()) -> str | None:
    """What is wrong with tool and toolset names in the allow/deny settings; None when all are ours.

    A misspelt name would otherwise silently offer nothing (allow) or leave a tool in (deny).
    """
    problems = []
    if bad := sorted(set(toolsets) - set(TOOLSETS)):
        problems.append(f"unknown toolset(s) {', '.join(map(repr, bad))} (the toolsets: {', '.join(TOOLSETS)})")
    if bad := sorted(set(tools) - _BY_NAME.keys()):
        problems.append(f"unknown tool(s) {', '.join(map(repr, bad))} (docs/tools.md lists them)")
    return "; ".join(problems) or None


def level_needed(level: Level) -> str:
    """The lowest access level that offers tools of ``level``."""
    return next(access for access, offered in LEVELS.items() if level in offered)
