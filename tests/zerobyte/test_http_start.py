"""What the Zerobyte client skips at start-up, and that skipping it changes nothing an agent or a user sees.

Two cold-start savings (bench/cold_start.py): the TLS trust store is loaded only when a request can make a
TLS handshake (an https:// Zerobyte, or an https:// proxy from the environment in front of an http:// one),
and httpx's command-line client (click, rich, pygments) is never imported. The https:// path itself, with a
CA bundle and without, is proven end to end in tests/reliability/test_faults.py.
"""

from __future__ import annotations

import ssl
import subprocess
import sys

import pytest

from mcp_server.zerobyte.http import HttpCore

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _tls_of(core: HttpCore) -> ssl.SSLContext:
    """The context httpx's connection pool would handshake with (httpx keeps it on the httpcore pool)."""
    context = core._client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert isinstance(context, ssl.SSLContext)
    return context


def _trusted_cas(context: ssl.SSLContext) -> int:
    return int(context.cert_store_stats()["x509_ca"])


def test_an_http_zerobyte_loads_no_trust_store_and_would_refuse_any_certificate() -> None:
    context = _tls_of(HttpCore("http://127.0.0.1:4096", lambda: "zb_key"))
    assert _trusted_cas(context) == 0
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_an_https_zerobyte_trusts_what_httpx_trusts() -> None:
    import httpx

    context = _tls_of(HttpCore("https://zerobyte.example:4096", lambda: "zb_key"))
    assert _trusted_cas(context) == _trusted_cas(httpx.create_ssl_context()) > 0
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_verify_false_is_kept_for_https() -> None:
    context = _tls_of(HttpCore("https://zerobyte.example:4096", lambda: "zb_key", verify=False))
    assert context.verify_mode == ssl.CERT_NONE
    assert not context.check_hostname


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "https_proxy", "ALL_PROXY"])
def test_an_https_proxy_in_front_of_an_http_zerobyte_gets_the_trust_store(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "https://proxy.example:3128")
    assert _trusted_cas(_tls_of(HttpCore("http://127.0.0.1:4096", lambda: "zb_key"))) > 0


def test_an_http_proxy_needs_no_trust_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    assert _trusted_cas(_tls_of(HttpCore("http://127.0.0.1:4096", lambda: "zb_key"))) == 0


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_httpx_comes_without_its_command_line_client() -> None:
    out = _fresh(
        "import sys, mcp_server.zerobyte.http, httpx\n"
        "print(sys.modules['httpx._main'], 'pygments' in sys.modules, httpx.AsyncClient.__name__)"
    )
    assert out == "None False AsyncClient"


def test_an_httpx_imported_earlier_is_left_as_it_is() -> None:
    out = _fresh("import sys, httpx, mcp_server.zerobyte.http\nprint(sys.modules['httpx._main'].__name__)")
    assert out == "httpx._main"
