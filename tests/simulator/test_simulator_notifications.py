"""Notification destination routes: CRUD, sealed secrets, plaintext webhooks, parseInt ids, test sends."""

from __future__ import annotations

import httpx

from mcp_server.simulator import Simulator


def test_destinations_crud_with_sealed_secrets(client: httpx.Client) -> None:
    r = client.post(
        "/notifications/destinations",
        json={"name": "tg", "config": {"type": "telegram", "botToken": "123:abc", "chatId": "-100"}},
    )
    assert r.status_code == 201
    created = r.json()
    assert created["config"]["botToken"].startswith("encv1:")
    assert created["config"]["chatId"] == "-100"
    assert (created["status"], created["enabled"], created["lastChecked"]) == ("unknown", True, None)
    dest_id = created["id"]
    assert client.get(f"/notifications/destinations/{dest_id}").json() == created
    assert client.get(f"/notifications/destinations/{dest_id}abc").json()["id"] == dest_id  # parseInt
    assert client.get("/notifications/destinations/abc").status_code == 404
    patched = client.patch(f"/notifications/destinations/{dest_id}", json={"enabled": False, "name": "telegram"}).json()
    assert (patched["enabled"], patched["name"]) == (False, "telegram")
    echoed = client.patch(f"/notifications/destinations/{dest_id}", json={"config": patched["config"]}).json()
    assert echoed["config"]["botToken"] == created["config"]["botToken"]
    assert client.delete(f"/notifications/destinations/{dest_id}").json() == {
        "message": "Notification destination deleted"
    }
    assert client.get(f"/notifications/destinations/{dest_id}").status_code == 404


def test_generic_webhook_url_and_headers_stay_plaintext(client: httpx.Client) -> None:
    config = {
        "type": "generic",
        "url": "https://hooks.example.net/x?token=abc",
        "method": "POST",
        "headers": ["Authorization: Bearer secret-token"],
    }
    created = client.post("/notifications/destinations", json={"name": "hook", "config": config}).json()
    assert created["config"]["url"] == config["url"]
    assert created["config"]["headers"] == config["headers"]


def test_destinations_are_listed_by_name_and_validated(client: httpx.Client) -> None:
    for name in ("zeta", "alpha"):
        client.post(
            "/notifications/destinations", json={"name": name, "config": {"type": "custom", "shoutrrrUrl": "x://y"}}
        )
    assert [d["name"] for d in client.get("/notifications/destinations").json()] == ["alpha", "zeta"]
    bad = client.post("/notifications/destinations", json={"name": "x", "config": {"type": "pager"}})
    assert bad.status_code == 400
    assert bad.json()["error"][0]["note"] == "No matching discriminator"
    blank = client.post(
        "/notifications/destinations", json={"name": " ", "config": {"type": "custom", "shoutrrrUrl": "x"}}
    )
    assert blank.json() == {"message": "Name cannot be empty"}


def test_sending_a_test_updates_the_status(sim: Simulator, client: httpx.Client) -> None:
    dest = sim.add_notification_destination("hook")
    assert client.post(f"/notifications/destinations/{dest['id']}/test").json() == {"success": True}
    assert client.get(f"/notifications/destinations/{dest['id']}").json()["status"] == "healthy"
    sim.notification_test_error = "dial tcp: connection refused"
    r = client.post(f"/notifications/destinations/{dest['id']}/test")
    assert r.status_code == 500
    assert r.json() == {"message": "Failed to send test notification: dial tcp: connection refused"}
    after = client.get(f"/notifications/destinations/{dest['id']}").json()
    assert (after["status"], after["lastError"]) == ("error", "dial tcp: connection refused")


def test_deleting_a_destination_removes_its_assignments(sim: Simulator, client: httpx.Client) -> None:
    vol = sim.add_volume("v")
    repo = sim.add_repository("r")
    job = sim.add_backup_job("j", volume=vol["shortId"], repository=repo["shortId"])
    dest = sim.add_notification_destination("hook")
    sim.assign_notification(job["shortId"], dest["id"])
    assert len(client.get(f"/backups/{job['shortId']}/notifications").json()) == 1
    client.delete(f"/notifications/destinations/{dest['id']}")
    assert client.get(f"/backups/{job['shortId']}/notifications").json() == []
