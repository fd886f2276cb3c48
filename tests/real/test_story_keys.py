"""Rotating the API key of a running MCP server against a real Zerobyte (v0.42).

The administrator makes a second key, puts it in our key file, and revokes the first in the web UI (the
admin's browser session, as API keys cannot manage keys). Our server, still running, keeps answering: after
Zerobyte's 401 it re-reads the key file and retries once. The revocation is checked on the server.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.real.conftest import McpConfig, call, mcp_stdio, unique
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


def status_with(zb: RealZerobyte, key: str) -> int:
    return httpx.get(f"{zb.url}/api/v1/volumes", headers={"x-api-key": key}, timeout=30).status_code


async def test_a_running_server_keeps_working_after_the_key_is_rotated_and_the_old_one_revoked(
    zb: RealZerobyte, tmp_path: Path
) -> None:
    old_key = zb.api_key
    folder = tmp_path / "mcp"
    async with mcp_stdio(zb, folder, McpConfig()) as client:
        before = await call(client, "list_volumes")
        new = zb.create_api_key(unique("rotated"))
        (folder / "api-key").write_text(new["key"] + "\n")
        session = zb.browser_session()
        keys = zb.session_call(session, "GET", "/api/v1/auth/api-keys")
        listed = keys if isinstance(keys, list) else keys.get("apiKeys", keys.get("items", []))
        revoked = [k["id"] for k in listed if k["id"] != new["id"]]
        assert revoked, listed
        for key_id in revoked:
            zb.session_call(session, "DELETE", f"/api/v1/auth/api-keys/{key_id}")
        # On the server: the old key is refused now, the new one accepted.
        assert status_with(zb, old_key) == 401
        assert status_with(zb, new["key"]) == 200
        zb.api_key = new["key"]  # the harness's own direct calls follow the rotation too
        zb.close()
        after = await call(client, "list_volumes")
        info = await call(client, "get_system_info")
    assert after == before
    assert info["runtime"]  # answered with the new key
    assert new["key"] not in str(after) + str(info)
    remaining = zb.session_call(session, "GET", "/api/v1/auth/api-keys")  # sign-ins are rate limited
    remaining = remaining if isinstance(remaining, list) else remaining.get("apiKeys", remaining.get("items", []))
    assert [k["id"] for k in remaining] == [new["id"]]
