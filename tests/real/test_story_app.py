"""Story: "show me my backups" in a host that renders MCP Apps, against a real Zerobyte (v0.42 and v0.41.0).

What the board and the timeline give the page is checked against Zerobyte's own listings (snapshot ids, sizes,
counts, repository stats), the requests are counted at a proxy (only reads; one snapshot listing per
repository), and a client without Apps gets the same board as data. The page itself is driven in a browser by
tests/app.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from mcp.client.extension import advertise

from mcp_server.tools.app import APP_URI, app_html
from tests.real.conftest import McpConfig, ask, call, mcp_stdio, unique
from tests.real.counting_proxy import CountingProxy
from tests.real.story_world import Arranged, arrange_job, backup_directly
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

APP_MIME = "text/html;profile=mcp-app"


@dataclass
class Shown:
    root: Path
    photos: Arranged  # three snapshots
    docs: Arranged  # one snapshot


@pytest.fixture(scope="module")
def world(zb_any: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Shown:
    root = tmp_path_factory.mktemp("app")
    photos = arrange_job(zb_any, root, {"2026/a.jpg": "a" * 5000, "2026/b.jpg": "b" * 7000})
    for n in range(3):
        (photos.source / f"2026/new-{n}.jpg").write_text(str(n) * (3000 * (n + 1)))
        backup_directly(zb_any, photos.job_id, photos.repository_id)
    docs = arrange_job(zb_any, root, {"tax.pdf": "tax" * 900})
    backup_directly(zb_any, docs.job_id, docs.repository_id)
    return Shown(root, photos, docs)


def apps() -> Any:
    return advertise("io.modelcontextprotocol/ui", {"mimeTypes": [APP_MIME]})


async def _board(zb: RealZerobyte, world: Shown, *, in_app: bool) -> tuple[Any, list[str]]:
    proxy = CountingProxy(zb.url).start()
    try:
        async with mcp_stdio(
            replace(zb, url=proxy.url), world.root / unique("mcp"), McpConfig(), extensions=[apps()] if in_app else None
        ) as client:
            answer = await ask(client, "show_backups")
            assert not answer.is_error, answer.text
            return answer, list(proxy.requests)
    finally:
        proxy.stop()


async def test_the_board_shows_what_zerobyte_lists_and_only_reads(zb_any: RealZerobyte, world: Shown) -> None:
    answer, requests = await _board(zb_any, world, in_app=True)
    board = answer.data
    assert answer.text.startswith("Shown to the user"), answer.text
    cards = {j["id"]: j for j in board["jobs"]}
    repositories = {r["shortId"]: r for r in zb_any.get("/repositories")}
    for job in (world.photos, world.docs):
        card = cards[job.job_id]
        listed = sorted(
            (s for s in zb_any.snapshots(job.repository_id) if job.job_id in s.get("tags", [])),
            key=lambda s: -s["time"],
        )
        assert card["snapshots_total"] == len(listed)
        assert [p["id"] for p in card["snapshots"]] == [s["short_id"] for s in listed]
        assert [p.get("size") for p in card["snapshots"]] == [int(s["size"]) for s in listed]
        assert card["repository"]["id"] == job.repository_id
        assert card["state"] == "ok", card
        assert card["last_status"] == "success"
    assert cards[world.photos.job_id]["snapshots_total"] == 3
    shown = {r["id"]: r for r in board["repositories"]}
    for rid in (world.photos.repository_id, world.docs.repository_id):
        stats = repositories[rid].get("stats") or {}
        if stats.get("total_size"):
            assert shown[rid]["stored_bytes"] == int(stats["total_size"])
            assert shown[rid]["stored_bytes_text"]
        else:
            assert "stored_bytes" not in shown[rid]  # unknown is absent, never 0
    assert board["access"] == "read-only"
    assert "actions" not in board  # read-only: the page offers no write
    assert {r.split()[0] for r in requests} == {"GET"}, requests
    # One snapshot listing per repository a job writes to, whatever the number of jobs.
    listings = [r for r in requests if r.split()[1].split("?")[0].endswith("/snapshots")]
    job_repositories = {j["repository"]["id"] for j in board["jobs"] if j.get("repository")}
    assert len(listings) == len(job_repositories), listings


async def test_without_apps_the_board_is_data_without_the_series(zb_any: RealZerobyte, world: Shown) -> None:
    answer, requests = await _board(zb_any, world, in_app=False)
    cards = {j["id"]: j for j in answer.data["jobs"]}
    assert answer.text.startswith('{"view":"board"')
    assert "snapshots" not in cards[world.photos.job_id]
    assert cards[world.photos.job_id]["state"] == "ok"
    assert not [r for r in requests if r.split()[1].split("?")[0].endswith("/snapshots")]


async def test_the_timeline_and_the_page_over_stdio(zb_any: RealZerobyte, world: Shown) -> None:
    async with mcp_stdio(zb_any, world.root / unique("mcp"), McpConfig(), extensions=[apps()]) as client:
        view = await call(client, "show_snapshots", backup_job_id=world.photos.job_id)
        listed = sorted(
            (s for s in zb_any.snapshots(world.photos.repository_id) if world.photos.job_id in s.get("tags", [])),
            key=lambda s: -s["time"],
        )
        assert view["total"] == len(listed) == 3
        assert [p["id"] for p in view["snapshots"]] == [s["short_id"] for s in listed]
        assert view["selected"] == listed[0]["short_id"]
        assert view["job"]["id"] == world.photos.job_id
        # The page the host renders: listed and read with the app MIME type, the bytes the package ships.
        resources = {str(r.uri): r for r in (await client.list_resources()).resources}
        assert resources[APP_URI].mime_type == APP_MIME
        (content,) = (await client.read_resource(APP_URI)).contents
        assert content.mime_type == APP_MIME
        assert getattr(content, "text", None) == app_html()
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert (tools["show_backups"].meta or {})["ui"]["resourceUri"] == APP_URI
