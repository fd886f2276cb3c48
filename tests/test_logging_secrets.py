"""No secret in any log line: the real stdio and HTTP servers at DEBUG, through successes and 401s.

The key (and the HTTP token) pass through headers, error texts and URLs that DEBUG logging of httpx, uvicorn and
the SDK would happily print; these tests run the real processes and scan everything they wrote to stderr.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.abc import Process
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import TEST_KEY, stdio_params

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOKEN = "http-token-for-the-log-test-42"
OTHER_KEY = "zb_somebody_elses_key_000000"


def revoke_test_key(sim: Simulator) -> None:
    with sim.lock:
        sim.api_keys = {OTHER_KEY}


async def test_the_stdio_server_at_debug_never_logs_the_key_even_on_a_401(
    sim: Simulator, sim_server: SimulatorServer, tmp_path: Path
) -> None:
    sim.add_volume("photos", path="/srv/photos")
    params = stdio_params(sim_server.url, tmp_path, "--log-level", "DEBUG")
    log_path = tmp_path / "stderr.log"
    with log_path.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            ok = await client.call_tool("list_volumes", {})
            revoke_test_key(sim)
            refused = await client.call_tool("list_volumes", {})
    log = log_path.read_text()
    assert not ok.is_error
    assert refused.is_error
    assert "401" in refused.content[0].text  # type: ignore[union-attr]
    assert " DEBUG " in log  # DEBUG logging really was on
    assert "401" in log
    assert TEST_KEY not in log
    assert TEST_KEY[3:] not in log  # not even without its zb_ prefix


async def _serving_url(proc: Process, log_path: Path) -> str:
    """The URL the server logs once it listens (it was started with --port 0: the OS picks a free port)."""
    with anyio.fail_after(30):
        while True:
            if proc.returncode is not None:
                raise AssertionError(f"the HTTP server exited with {proc.returncode}")
            for line in (await anyio.Path(log_path).read_text()).splitlines():
                found = re.search(r"MCP over streamable HTTP at (http://127\.0\.0\.1:\d+)/mcp", line)
                if found:
                    return found.group(1)
            await anyio.sleep(0.05)  # a log file offers nothing to wait on


async def test_the_http_server_at_debug_with_json_logs_never_logs_the_key_or_the_token(
    sim: Simulator, sim_server: SimulatorServer, tmp_path: Path
) -> None:
    sim.add_volume("photos", path="/srv/photos")
    params = stdio_params(sim_server.url, tmp_path)
    env = {**os.environ, **(params.env or {}), "ZEROBYTE_MCP_HTTP_TOKEN": TOKEN}
    log_path = tmp_path / "stderr.log"
    cmd = [sys.executable, "-m", "mcp_server", "--transport", "http", "--port", "0", "--log-level", "DEBUG"]
    with log_path.open("w") as errlog:
        proc = await anyio.open_process(
            [*cmd, "--log-json"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=errlog
        )
        try:
            url = await _serving_url(proc, log_path)
            async with httpx.AsyncClient() as http:
                wrong = await http.post(f"{url}/mcp", json={}, headers={"Authorization": "Bearer guessed-wrong-token"})
            async with (
                create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http2,
                Client(streamable_http_client(f"{url}/mcp", http_client=http2), mode="auto") as client,
            ):
                ok = await client.call_tool("list_volumes", {})
                revoke_test_key(sim)
                refused = await client.call_tool("list_volumes", {})
            async with httpx.AsyncClient() as http:
                deep = await http.get(f"{url}/healthz?deep=1", headers={"Authorization": f"Bearer {TOKEN}"})
        finally:
            proc.terminate()
            with anyio.fail_after(30):
                await proc.wait()
            await proc.aclose()
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    log = "\n".join(lines)
    assert wrong.status_code == 401
    assert not ok.is_error
    assert refused.is_error
    assert deep.status_code == 503
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it captured (exit status 143, as supervisors expect).
    assert proc.returncode in (0, -signal.SIGTERM)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(r["level"] == "DEBUG" for r in records)
    assert any("MCP over streamable HTTP" in r["message"] for r in records)
    assert any("wrong bearer token" in r["message"] for r in records)
    assert any("Finished server process" in r["message"] for r in records)
    for secret in (TEST_KEY, TEST_KEY[3:], TOKEN, "guessed-wrong-token"):
        assert secret not in log, secret
