"""The MCP App (extension ``io.modelcontextprotocol/ui``): one page, ``backups.html``, bound to two tools.

``show_backups`` (the health board) and ``show_snapshots`` (a job's snapshot timeline and browser) answer
every client with data and text; a host that negotiated MCP Apps also renders the page with their results.
The page calls our other tools through the host (``tools/call``), so access levels, previews and
confirmation apply to what it does exactly as to an agent. It is one self-contained document: no script,
style or font from elsewhere, no network (its ``_meta.ui.csp`` allows no outside domain).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp.server.apps import Apps

__all__ = ["APP_URI", "app_html", "backups_app"]

APP_URI = "ui://zerobyte/backups.html"


@functools.cache
def app_html() -> str:
    """The page as shipped in the package."""
    return resources.files(__package__).joinpath("backups.html").read_text(encoding="utf-8")


def backups_app(offered: frozenset[str]) -> Apps | None:
    """The SDK's ``Apps`` extension serving the page, when this server offers one of its tools (else None).

    The tools themselves come from our catalogue (their ``_meta.ui`` is in the manifest); the extension
    contributes the ``ui://`` resource and advertises the capability.
    """
    from ..catalogue import CATALOGUE

    if not offered & {e.name for e in CATALOGUE if e.toolset == "app"}:
        return None
    from mcp.server.apps import Apps, ResourceCsp

    apps = Apps()
    apps.add_html_resource(
        APP_URI,
        app_html(),
        name="backups",
        title="Zerobyte backups",
        description="Health board, snapshot timeline and browser of the Zerobyte backups",
        csp=ResourceCsp(),
        prefers_border=False,
    )
    return apps
