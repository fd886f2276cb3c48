"""Volume routes: CRUD, mount states, file listing, quirks (stale create status, SQLite 500s, zod 400s)."""

from __future__ import annotations

import httpx

from mcp_server.simulator import Simulator
from mcp_server.simulator.testing import World


def test_create_answers_the_pre_mount_status_then_get_shows_mounted(client: httpx.Client) -> None:
    r = client.post("/volumes", json={"name": "data", "config": {"backend": "directory", "path": "/srv/data"}})
    assert r.status_code == 201
    created = r.json()
    assert created["status"] == "unmounted"
    assert created["path"] == "/srv/data"
    assert created["createdAt"] % 1000 == 0
    assert len(created["shortId"]) == 8
    got = client.get(f"/volumes/{created['shortId']}").json()
    assert got["volume"]["status"] == "mounted"
    assert set(got["statfs"]) == {"total", "used", "free"}
    listed = client.get("/volumes").json()
    assert "path" not in listed[0]
    assert listed[0]["organizationId"] and listed[0]["agentId"] == "local"


def test_missing_directory_mounts_with_an_error_and_health_check_still_answers_200(client: httpx.Client) -> None:
    created = client.post(
        "/volumes", json={"name": "missing", "config": {"backend": "directory", "path": "/srv/does-not-exist"}}
    ).json()
    vol = client.get(f"/volumes/{created['shortId']}").json()
    assert vol["volume"]["status"] == "error"
    assert vol["volume"]["lastError"].startswith("ENOENT")
    assert vol["statfs"] == {"total": 0, "used": 0, "free": 0}
    r = client.post(f"/volumes/{created['shortId']}/health-check")
    assert r.status_code == 200
    assert r.json()["status"] == "error"
    mount = client.post(f"/volumes/{created['shortId']}/mount")
    assert mount.status_code == 500
    assert mount.json()["status"] == "error"


def test_duplicate_volume_name_is_a_raw_sqlite_500(client: httpx.Client, world: World) -> None:
    r = client.post("/volumes", json={"name": "sample-files", "config": {"backend": "directory", "path": "/x"}})
    assert r.status_code == 500
    assert r.json() == {"message": "UNIQUE constraint failed: volumes_table.name, volumes_table.organization_id"}


def test_bad_body_is_a_zod_400_echoing_the_input(client: httpx.Client) -> None:
    body = {"name": "x", "config": {"backend": "directory"}}
    r = client.post("/volumes", json=body)
    assert r.status_code == 400
    assert r.json() == {
        "data": body,
        "error": [
            {
                "expected": "string",
                "code": "invalid_type",
                "path": ["config", "path"],
                "message": "Invalid input: expected string, received undefined",
            }
        ],
        "success": False,
    }


def test_unknown_backend_is_a_discriminator_issue(client: httpx.Client) -> None:
    r = client.post("/volumes", json={"name": "x", "config": {"backend": "ftp"}})
    issue = r.json()["error"][0]
    assert issue["code"] == "invalid_union"
    assert issue["path"] == ["config", "backend"]


def test_malformed_json_is_a_500(client: httpx.Client) -> None:
    r = client.post("/volumes", content=b'{"name": "x", ', headers={"content-type": "application/json"})
    assert r.status_code == 500
    assert r.json() == {"message": "Malformed JSON in request body"}


def test_body_without_json_content_type_is_parsed_as_empty(client: httpx.Client) -> None:
    r = client.post("/volumes", content=b'{"name": "x"}', headers={"content-type": "text/plain"})
    assert r.status_code == 400
    assert r.json()["data"] == {}


def test_blank_name_is_rejected(client: httpx.Client) -> None:
    r = client.post("/volumes", json={"name": "  ", "config": {"backend": "directory", "path": "/srv"}})
    assert r.status_code == 400
    assert r.json() == {"message": "Volume name cannot be empty"}


def test_smb_password_comes_back_sealed(client: httpx.Client) -> None:
    config = {"backend": "smb", "server": "nas", "share": "s", "username": "u", "password": "hunter2"}
    created = client.post("/volumes", json={"name": "smb", "config": config}).json()
    assert created["config"]["password"].startswith("encv1:")
    assert created["config"]["username"] == "u"
    assert created["config"]["vers"] == "auto"
    assert "hunter2" not in client.get("/volumes").text


def test_volume_files_list_one_folder_folders_first_with_paging(client: httpx.Client, world: World) -> None:
    r = client.get(f"/volumes/{world.volume}/files")
    assert r.headers["cache-control"].startswith("public, max-age=10")
    body = r.json()
    assert [f["name"] for f in body["files"]] == ["docs", "photos", "hello.txt", "link-to-hello"]
    assert body["files"][2]["size"] == 15
    assert "size" not in body["files"][3]
    assert (body["path"], body["offset"], body["limit"], body["total"], body["hasMore"]) == ("/", 0, 500, 4, False)
    page = client.get(f"/volumes/{world.volume}/files", params={"offset": 1, "limit": 2}).json()
    assert [f["name"] for f in page["files"]] == ["photos", "hello.txt"]
    assert page["hasMore"] is True
    sub = client.get(f"/volumes/{world.volume}/files", params={"path": "/docs"}).json()
    assert sub["path"] == "/docs"
    assert sub["files"][0]["path"] == "/docs/data.json"


def test_volume_files_limit_is_clamped_to_500(sim: Simulator, client: httpx.Client) -> None:
    vol = sim.add_volume("many", path="/srv/many", files={f"f{i:04d}": 1 for i in range(700)})
    body = client.get(f"/volumes/{vol['shortId']}/files", params={"limit": 1000}).json()
    assert body["limit"] == 500
    assert len(body["files"]) == 500
    assert body["total"] == 700
    assert body["hasMore"] is True


def test_volume_files_errors(client: httpx.Client, world: World) -> None:
    assert client.get(f"/volumes/{world.volume}/files", params={"offset": "x"}).status_code == 400
    missing = client.get(f"/volumes/{world.volume}/files", params={"path": "/nope"})
    assert missing.status_code == 500
    assert missing.json()["message"] == "Failed to list files: Directory not found"
    escape = client.get(f"/volumes/{world.volume}/files", params={"path": "/../etc"})
    assert escape.json()["message"] == "Failed to list files: Invalid path"
    client.post(f"/volumes/{world.volume}/unmount")
    r = client.get(f"/volumes/{world.volume}/files")
    assert r.status_code == 500
    assert r.json() == {"message": "Volume is not mounted"}
    assert client.get("/volumes/nope1234/files").json() == {"message": "Volume not found"}


def test_update_with_a_new_config_answers_pre_remount_status(client: httpx.Client, world: World) -> None:
    r = client.put(f"/volumes/{world.volume}", json={"config": {"backend": "directory", "path": "/srv/other"}})
    assert r.status_code == 200
    assert r.json()["status"] == "unmounted"
    assert client.get(f"/volumes/{world.volume}").json()["volume"]["status"] == "mounted"
    renamed = client.put(f"/volumes/{world.volume}", json={"name": "renamed"}).json()
    assert renamed["name"] == "renamed"


def test_deleting_a_volume_cascades_to_its_backup_schedules(client: httpx.Client, world: World) -> None:
    r = client.delete(f"/volumes/{world.volume}")
    assert r.json() == {"message": "Volume deleted"}
    assert client.get("/backups").json() == []
    assert client.get(f"/backups/{world.schedule}").status_code == 404
    assert client.get(f"/volumes/{world.volume}").status_code == 404


def test_test_connection_reports_failures_with_200(client: httpx.Client) -> None:
    ok = client.post("/volumes/test-connection", json={"config": {"backend": "directory", "path": "/srv"}})
    assert ok.json() == {"success": True, "message": "Connection successful"}
    bad = client.post("/volumes/test-connection", json={"config": {"backend": "directory", "path": "/does-not-exist"}})
    assert bad.status_code == 200
    assert bad.json()["success"] is False


def test_filesystem_browse_lists_directories_only(client: httpx.Client, world: World) -> None:
    body = client.get("/volumes/filesystem/browse", params={"path": "/srv"}).json()
    assert body["path"] == "/srv"
    assert {"name": "data", "path": "/srv/data", "type": "directory"}.items() <= body["directories"][0].items()
    assert client.get("/volumes/filesystem/browse", params={"path": "/nowhere"}).status_code == 500


def test_mount_failure_knob(sim: Simulator, client: httpx.Client) -> None:
    sim.mount_errors["nfs-share"] = "mount.nfs: Connection timed out"
    created = client.post(
        "/volumes",
        json={"name": "nfs-share", "config": {"backend": "nfs", "server": "nas", "exportPath": "/x", "version": "4"}},
    ).json()
    vol = client.get(f"/volumes/{created['shortId']}").json()["volume"]
    assert vol["status"] == "error"
    assert vol["lastError"] == "mount.nfs: Connection timed out"
    assert vol["config"]["port"] == 2049
