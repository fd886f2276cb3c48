"""Where an agent may point a directory volume: under the configured roots, never at Zerobyte's own data.

A directory volume reads any path of the Zerobyte host, and a backup of it can be read back file by
file: pointed at Zerobyte's data folder it hands the agent the app secret that seals every ``encv1:``
value. So directory sources must sit under ``[volumes] allowed_roots`` (none configured: the agent
cannot create or re-point directory volumes), and Zerobyte's data folder is refused whatever the roots
say. The API names no data folder; it is learned from where Zerobyte keeps local repositories
(``<data>/repositories/<id>`` by default) plus the Docker image's ``/var/lib/zerobyte`` and ``/app``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from ..zerobyte import ZerobyteClient
from .base import ToolFailure

__all__ = ["check_directory_source", "zerobyte_folders"]

# The Docker image's data folder and app code (Zerobyte's constants.ts); always refused.
ALWAYS_REFUSED = ("/var/lib/zerobyte", "/app")


def _inside(path: str, folder: str) -> bool:
    base = folder.rstrip("/") or "/"
    return path == base or path.startswith(base + "/") or base == "/"


async def zerobyte_folders(client: ZerobyteClient) -> list[str]:
    """Folders holding Zerobyte's own data, as far as its API shows them."""
    found = list(ALWAYS_REFUSED)
    for repo in await client.list_repositories():
        path = repo.config.get("path") if (repo.type or repo.config.get("backend")) == "local" else None
        if not isinstance(path, str) or not path.startswith("/"):
            continue
        path = posixpath.normpath(path)
        found.append(path)
        parent = posixpath.dirname(path)
        if posixpath.basename(parent) == "repositories":  # Zerobyte's default layout: <data>/repositories/<id>
            found.append(posixpath.dirname(parent))
    return sorted(set(found))


def check_directory_source(path: str, roots: Sequence[str], protected: Iterable[str]) -> str:
    """The normalised source, or a refusal naming the reason (no roots, outside them, Zerobyte's data)."""
    if not roots:
        raise ToolFailure(
            "Directory volumes are off for agents: no volume roots are configured. Ask the administrator to set "
            '[volumes] allowed_roots (e.g. ["/srv/data"]) in config.toml or ZEROBYTE_MCP_VOLUME_ROOTS, or to '
            "add the volume in Zerobyte's web UI. Nothing was sent."
        )
    normal = posixpath.normpath(path)
    for folder in protected:
        if _inside(normal, folder) or _inside(folder, normal):
            raise ToolFailure(
                f"Refused: {normal!r} is or holds Zerobyte's own data ({folder}), which holds the key to every "
                "sealed secret; no agent may back it up. Nothing was sent."
            )
    if not any(_inside(normal, root) for root in roots):
        raise ToolFailure(
            f"Refused: {normal!r} is outside the allowed volume folders ({', '.join(roots)}). Nothing was sent."
        )
    return normal
