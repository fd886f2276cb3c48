"""Entry point of the Claude Desktop bundle (.mcpb): the host runs it with uv from the unpacked bundle folder,
where ``mcp_server`` sits beside it. Settings come from the environment the bundle's ``user_config`` fills."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mcp_server.cli import main

raise SystemExit(main())
