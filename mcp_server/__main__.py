"""``python -m mcp_server`` runs the same command line as ``zerobyte-mcp``."""

from .cli import main

raise SystemExit(main())
