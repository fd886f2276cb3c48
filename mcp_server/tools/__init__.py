"""Tool modules, one per Zerobyte domain; importing this package declares every tool in the registry."""

from . import backups, configure, health, notifications, operations, repositories, snapshots, system, tasks, volumes

__all__ = [
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
]
