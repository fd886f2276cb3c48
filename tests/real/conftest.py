"""Fixtures of the real-server suite: real Zerobyte servers, our MCP server over stdio (and HTTP) in front.

Every story here creates its own data (temporary folders of files) through our tools, then checks the
state on the real server with direct ``/api/v1`` calls. One server per test module keeps each module well
under Zerobyte's rate limit (1,000 requests per 5 minutes, shared by every loopback client).
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.real import zbserver
from tests.real.zbserver import RealZerobyte

REPO = Path(__file__).resolve().parents[2]
_names = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.real)
            if not zbserver.available():
                item.add_marker(pytest.mark.skip(reason=zbserver.ABSENT_REASON))


class ServerPool:
    """Starts real servers on demand; each fixture stops its own when its scope ends, the rest (a test's own
    server) at the end of the session. Kept until the session ends, a serial run would hold every module's
    server at once: ~40 Zerobyte processes, ~6 GB, each with its scheduler, and a minute to stop them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.running: list[RealZerobyte] = []

    def start(self, version: str = "v0.42") -> RealZerobyte:
        state = self.root / f"{version}-{next(_names)}"
        server = zbserver.start(version, state)
        self.running.append(server)
        return server

    def stop(self, server: RealZerobyte) -> None:
        server.stop()
        self.running.remove(server)

    def serve(self, version: str = "v0.42") -> Iterator[RealZerobyte]:
        """A fixture's server: started, yielded, stopped when the fixture's scope ends."""
        server = self.start(version)
        try:
            yield server
        finally:
            self.stop(server)

    def stop_all(self) -> None:
        for server in self.running:
            server.stop()


@pytest.fixture(scope="session")
def zb_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    if not zbserver.available():
        pytest.skip(zbserver.ABSENT_REASON)
    pool = ServerPool(tmp_path_factory.mktemp("zerobyte-state"))
    yield pool
    pool.stop_all()


@pytest.fixture(scope="module")
def zb(zb_pool: ServerPool) -> Iterator[RealZerobyte]:
    """A fresh real Zerobyte v0.42 (beta) for this module."""
    yield from zb_pool.serve("v0.42")


@pytest.fixture(scope="module")
def zb41(zb_pool: ServerPool) -> Iterator[RealZerobyte]:
    """A fresh real Zerobyte v0.41.0 (the latest stable release) for this module."""
    yield from zb_pool.serve("v0.41")


@pytest.fixture(scope="module", params=["v0.42", "v0.41"])
def zb_any(request: pytest.FixtureRequest, zb_pool: ServerPool) -> Iterator[RealZerobyte]:
    """A fresh real Zerobyte of each version, for stories whose routes differ between them."""
    yield from zb_pool.serve(str(request.param))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the system temp folder's top level, for volumes, repositories and restores."""
    return tmp_path_factory.mktemp("data")


def unique(prefix: str) -> str:
    """A name no other story in this session uses."""
    return f"{prefix}-{os.getpid()}-{next(_names)}"


def make_files(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@dataclass
class McpConfig:
    access: str = "read-only"
    restore_roots: tuple[str, ...] = ()
    volume_roots: tuple[str, ...] | None = None
    confirm_destructive: bool = True
    wait_seconds: float = 120.0
    extra_toml: str = ""


def write_config(zb: RealZerobyte, folder: Path, config: McpConfig, api_key: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "api-key"
    key_file.write_text((api_key or zb.api_key) + "\n")
    key_file.chmod(0o600)
    lines = [
        f"url = {json.dumps(zb.url)}",
        f"api_key_file = {json.dumps(str(key_file))}",
        f"access = {json.dumps(config.access)}",
        f"confirm_destructive = {'true' if config.confirm_destructive else 'false'}",
        f"audit_log = {json.dumps(str(folder / 'audit.jsonl'))}",
        "[restore]",
        f"allowed_roots = {json.dumps(list(config.restore_roots))}",
        "[tasks]",
        f"wait_seconds = {config.wait_seconds}",
    ]
    # Stories keep their sources in the system temp folder; None allows it, () turns directory volumes off.
    roots = [tempfile.gettempdir()] if config.volume_roots is None else list(config.volume_roots)
    lines += ["[volumes]", f"allowed_roots = {json.dumps(roots)}"]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n" + config.extra_toml)
    return path


def stdio_params(
    zb: RealZerobyte, folder: Path, config: McpConfig, api_key: str | None = None
) -> StdioServerParameters:
    config_path = write_config(zb, folder, config, api_key)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),  # this checkout's mcp_server, whatever the venv's editable install points at
        "HOME": str(folder),
        "XDG_CONFIG_HOME": str(folder / "xdg-config"),
        "XDG_CACHE_HOME": str(folder / "xdg-cache"),
        "XDG_STATE_HOME": str(folder / "xdg-state"),
        "ZEROBYTE_MCP_CONFIG": str(config_path),
        "ZEROBYTE_MCP_LOG_LEVEL": "WARNING",
    }
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=env, cwd=str(folder))


@asynccontextmanager
async def mcp_stdio(
    zb: RealZerobyte,
    folder: Path,
    config: McpConfig | None = None,
    *,
    api_key: str | None = None,
    era: str = "auto",
    extensions: list[Any] | None = None,
) -> AsyncIterator[Client]:
    """Our MCP server as a real stdio subprocess in front of ``zb``, with the SDK's client (advertising
    ``extensions``, e.g. MCP Apps)."""
    params = stdio_params(zb, folder, config or McpConfig(), api_key)
    async with Client(params, mode=era, extensions=extensions) as client:
        yield client


@dataclass
class Answer:
    """A tool's answer: error flag, text and structured content."""

    is_error: bool
    text: str
    data: dict[str, Any]


async def ask(client: Client, tool: str, **arguments: Any) -> Answer:
    result = await client.call_tool(tool, arguments)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    return Answer(bool(result.is_error), text, dict(result.structured_content or {}))


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; its structured answer."""
    answer = await ask(client, tool, **arguments)
    assert not answer.is_error, f"{tool}({arguments}) failed: {answer.text}"
    return answer.data


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must answer an error; its text."""
    answer = await ask(client, tool, **arguments)
    assert answer.is_error, f"{tool}({arguments}) should have failed: {answer.text}"
    assert "Error executing tool" not in answer.text
    return answer.text
