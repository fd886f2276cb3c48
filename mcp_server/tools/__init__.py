"""Tool modules, one per Zerobyte domain; importing this package declares every tool in the registry."""

from . import backups, repositories, volumes

__all__ = ["backups", "repositories", "volumes"]
