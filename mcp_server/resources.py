"""Read-only ``zerobyte://`` resources for clients that attach context (filled in by the read tools)."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer

__all__ = ["register_resources"]


def register_resources(server: MCPServer[Any]) -> None:
    """Register the zerobyte:// resources on ``server``."""
