"""zerobyte-mcp: an MCP server that lets AI agents operate a Zerobyte backup server safely."""

__all__ = ["__version__"]

__version__ = "0.1.0"
