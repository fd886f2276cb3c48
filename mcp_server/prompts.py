"""Prompts for the common flows (filled in by the read tools)."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer

__all__ = ["register_prompts"]


def register_prompts(server: MCPServer[Any]) -> None:
    """Register the prompts on ``server``."""
