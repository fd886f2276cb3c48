"""Authentication and routing answers of the simulator match REAL-BEHAVIOUR.md."""

from __future__ import annotations

import httpx
import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.simulator.testing import http_client

KEY = "zb_test_key_0123456789"
BROWSER_ONLY = [
    ("GET", "/api/v1/auth/api-keys"),
    ("POST", "/api/v1/auth/api-keys"),
    ("DELETE", "/api/v1/auth/api-keys/abc"),
    ("POST", "/api/v1/system/restic-password"),
    ("PUT", "/api/v1/system/registration-status"),
    ("PUT", "/api/v1/system/password-login-status"),
    ("GET", "/api/v1/auth/admin-users"),
    ("GET", "/api/v1/auth/sso-settings"),
    ("POST", "/api/v1/repositories/abc/exec"),
]


def test_missing_key_is_an_invalid_session(anon: httpx.Client) -> None:
    r = anon.get("/api/v1/volumes")
    assert r.status_code == 401
    assert r.json() == {"message": "Invalid or expired session"}


@pytest.mark.parametrize("key", ["zb_wrong", "garbage", ""])
def test_unknown_or_blank_key_is_an_invalid_session(anon: httpx.Client, key: str) -> None:
    r = anon.get("/api/v1/volumes", headers={"x-api-key": key})
    assert r.status_code == 401
    assert r.json() == {"message": "Invalid or expired session"}


def test_header_name_is_case_insensitive(anon: httpx.Client) -> None:
    assert anon.get("/api/v1/volumes", headers={"X-Api-Key": KEY}).status_code == 200


@pytest.mark.parametrize(("method", "path"), BROWSER_ONLY)
def test_browser_only_routes_refuse_a_valid_key(anon: httpx.Client, method: str, path: str) -> None:
    r = anon.request(method, path, headers={"x-api-key": KEY}, json={})
    assert r.status_code == 401
    assert r.json() == {"message": "Browser session required"}


def test_browser_only_route_with_a_bad_key_is_an_invalid_session(anon: httpx.Client) -> None:
    r = anon.get("/api/v1/auth/api-keys", headers={"x-api-key": "nope"})
    assert r.json() == {"message": "Invalid or expired session"}


def test_better_auth_routes_refuse_api_keys(anon: httpx.Client) -> None:
    r = anon.get("/api/auth/get-session", headers={"x-api-key": KEY})
    assert r.status_code == 401
    assert r.json() == {"message": "API key authentication is only supported for API v1 routes"}


def test_auth_status_and_healthcheck_are_public(anon: httpx.Client) -> None:
    assert anon.get("/api/v1/auth/status").json() == {"hasUsers": True}
    assert anon.get("/api/healthcheck").json() == {"status": "ok"}


def test_revoking_a_key_takes_effect_immediately(sim: Simulator, client: httpx.Client) -> None:
    assert client.get("/volumes").status_code == 200
    sim.api_keys.clear()
    r = client.get("/volumes")
    assert r.status_code == 401
    assert r.json()["message"] == "Invalid or expired session"


def test_rotated_key_works(sim: Simulator, anon: httpx.Client) -> None:
    sim.api_keys = {"zb_new_key"}
    assert anon.get("/api/v1/volumes", headers={"x-api-key": "zb_new_key"}).status_code == 200
    assert anon.get("/api/v1/volumes", headers={"x-api-key": KEY}).status_code == 401


def test_removed_org_member_gets_invalid_organization_context(sim: Simulator, client: httpx.Client) -> None:
    sim.org_member_removed = True
    r = client.get("/repositories")
    assert r.status_code == 403
    assert r.json() == {"message": "Invalid organization context"}


def test_unknown_route_is_a_text_404(client: httpx.Client) -> None:
    r = client.get("/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "text/plain; charset=UTF-8"
    assert r.text == "404 Not Found"


def test_trailing_slash_is_a_route_miss(client: httpx.Client) -> None:
    assert client.get("/volumes/").status_code == 404


def test_unknown_route_under_an_authenticated_mount_needs_the_key_first(anon: httpx.Client) -> None:
    assert anon.get("/api/v1/volumes/abc/nope").status_code == 401
    assert anon.get("/api/v1/volumes/abc/nope", headers={"x-api-key": KEY}).status_code == 404


def test_wrong_method_on_a_known_path_is_a_route_miss(client: httpx.Client) -> None:
    r = client.put("/tasks")
    assert r.status_code == 404
    assert r.text == "404 Not Found"


def test_openapi_needs_the_key_on_a_modern_server(anon: httpx.Client) -> None:
    assert anon.get("/api/v1/openapi.json").status_code == 401
    doc = anon.get("/api/v1/openapi.json", headers={"x-api-key": KEY}).json()
    assert doc["info"]["version"] == "1.0.0"
    assert "/api/v1/volumes" in doc["paths"]


def test_openapi_is_public_on_a_legacy_server() -> None:
    sim = Simulator(legacy=True)
    with SimulatorServer(sim) as srv, http_client(srv.url, key=None) as c:
        assert c.get("/api/v1/openapi.json").status_code == 200
    sim.close()


def test_org_members_lists_the_owner(client: httpx.Client) -> None:
    members = client.get("/auth/org-members").json()["members"]
    assert members[0]["role"] == "owner"
    r = client.delete(f"/auth/org-members/{members[0]['id']}")
    assert r.status_code == 403


def test_non_api_paths_serve_the_web_ui_and_unknown_api_paths_are_text_404s(anon: httpx.Client) -> None:
    page = anon.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert anon.get("/api/nope").text == "404 Not Found"
