"""Shared pieces of the reliability suite: connecting, judging an error message, counting what reached Zerobyte.

The reliability tests all ask the same three questions after a fault or a hostile call: did the agent get a
specific, actionable message (not the SDK's bare "Error executing tool"), did Zerobyte receive nothing it should
not have (no second POST, no stray route), and does the server answer the next call. The answers live here once.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mcp import Client
from mcp.types import CallToolResult

from mcp_server.server import create_server
from mcp_server.simulator import Simulator
from mcp_server.simulator.api import ROUTES
from mcp_server.simulator.routes.common import API
from tests.helpers import make_settings, text

OPAQUE = re.compile(r"^Error executing tool \w+\s*$")


async def wait_until(predicate: Callable[[], bool]) -> None:
    """Poll ``predicate`` until it holds: the simulator's task threads offer no awaitable event to wait on."""
    with anyio.fail_after(10):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.01)


@asynccontextmanager
async def connect(url: str, era: str = "auto", **changes: Any) -> AsyncIterator[Client]:
    """An in-memory MCP client on a server built from the test settings for ``url`` plus ``changes``."""
    async with Client(create_server(make_settings(url, **changes)), mode=era) as client:
        yield client


def problems_with(result: CallToolResult) -> list[str]:
    """Why ``result`` would be a useless error for an agent (empty when it is fine or not an error)."""
    message = text(result)
    found: list[str] = []
    if OPAQUE.match(message) or not message.strip():
        found.append("an opaque 'Error executing tool' with no reason")
    if "Traceback (most recent call last)" in message:
        found.append("a Python traceback")
    if "hit an internal error" in message:
        found.append("a crash inside the tool")
    return found


def assert_actionable(result: CallToolResult, *phrases: str) -> str:
    """``result`` is an error whose text holds every phrase and is not opaque; returns the text."""
    message = text(result)
    assert result.is_error, f"expected an error, got: {message[:300]}"
    assert not problems_with(result), message
    assert not message.startswith("Error executing tool"), message
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} missing from: {message}"
    return message


def sent(sim: Simulator, since: int = 0, *, method: str | None = None, path: str = "") -> list[str]:
    """'METHOD /path' of each request Zerobyte received since ``since``, optionally filtered."""
    return [
        f"{r.method} {r.path}"
        for r in sim.requests[since:]
        if (method is None or r.method == method) and re.search(path, r.path)
    ]


def route_of(method: str, path: str) -> str | None:
    """The Zerobyte route template ('POST /backups/{shortId}/run') a recorded request hit, or None."""
    if not path.startswith(API + "/"):
        return None
    sub = path[len(API) :]
    for route in ROUTES:
        if route.regex.match(sub) and route.method == method:
            return f"{route.method} {route.template}"
    return None


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1/localhost (its own CA) and its key, as PEM files in ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zerobyte.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "zerobyte-cert.pem", folder / "zerobyte-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file
