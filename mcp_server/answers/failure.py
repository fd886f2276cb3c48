"""The one failure type an agent reads as is: a tool-level refusal or failure with an actionable message.

It lives with the answers (not with the tools) because answer builders below the tools raise it too (task views,
task following); ``tools.base`` re-exports it for the tool modules.
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["ToolFailure"]


class ToolFailure(ToolError):
    """A tool-level refusal or failure whose message the agent reads as is."""
