"""zerobyte:// resources carry the same compact JSON as the read tools; prompts are runbooks naming real tools."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS, TextContent, TextResourceContents

from mcp_server.config import Settings
from mcp_server.prompts import PROMPTS
from mcp_server.server import create_server
from mcp_server.simulator import Simulator
from mcp_server.tools.registry import Registry
from tests.helpers import TEST_KEY, make_settings

pytestmark = pytest.mark.anyio

HOUR = 3_600_000
STATIC_URIS = {
    "zerobyte://health",
    "zerobyte://backup-jobs",
    "zerobyte://volumes",
    "zerobyte://repositories",
    "zerobyte://tasks/active",
    "zerobyte://drills",
}


def seed(sim: Simulator) -> dict[str, str]:
    vol = sim.add_volume("data")
    repo = sim.add_repository("local-repo")
    now = sim.now_ms()
    job = sim.add_backup_job(
        "photos",
        volume=vol["shortId"],
        repository=repo["shortId"],
        last_status="error",
        last_error="Fatal: unable to create lock in backend: repository is already locked",
        last_backup_at=now - HOUR,
        next_backup_at=now + 20 * HOUR,
    )
    for i in range(60):
        sim.add_snapshot(repo["shortId"], job=job["shortId"], time_ms=now - (60 - i) * HOUR)
    sim.add_task("restore", repository=repo["shortId"], status="running", snapshot_id="5ddc91c0")
    return {"volume": vol["shortId"], "repository": repo["shortId"], "job": job["shortId"]}


async def read_json(mcp: Client, uri: str) -> Any:
    result = await mcp.read_resource(uri)
    [content] = result.contents
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "application/json"
    return json.loads(content.text)


async def test_resources_and_templates_are_listed_with_descriptions_and_json_mime(mcp: Client) -> None:
    resources = (await mcp.list_resources()).resources
    templates = (await mcp.list_resource_templates()).resource_templates

    # Beside the data, the MCP App's page (tests/tools/test_app.py reads it).
    assert {str(r.uri) for r in resources} == STATIC_URIS | {"ui://zerobyte/backups.html"}
    resources = [r for r in resources if str(r.uri) in STATIC_URIS]
    assert {t.uri_template for t in templates} == {
        "zerobyte://backup-jobs/{job_id}",
        "zerobyte://repositories/{repository_id}/snapshots",
    }
    for item in resources:
        assert item.description and len(item.description) >= 20
        assert item.mime_type == "application/json"
    for template in templates:
        assert template.description and len(template.description) >= 20
        assert template.mime_type == "application/json"


async def test_each_static_resource_reads_the_same_data_as_its_tool(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    health = await read_json(mcp, "zerobyte://health")
    jobs = await read_json(mcp, "zerobyte://backup-jobs")
    volumes = await read_json(mcp, "zerobyte://volumes")
    repositories = await read_json(mcp, "zerobyte://repositories")
    active = await read_json(mcp, "zerobyte://tasks/active")

    assert health["verdict"] == "critical"
    assert health["jobs"][0]["name"] == "photos"
    assert jobs["jobs"][0]["id"] == ids["job"]
    assert volumes["volumes"][0]["id"] == ids["volume"]
    assert repositories["repositories"][0]["id"] == ids["repository"]
    assert active["tasks"][0]["target"] == f"repository 'local-repo' ({ids['repository']}), snapshot 5ddc91c0 -> /"
    tool = await mcp.call_tool("list_volumes", {})
    assert isinstance(tool.content[0], TextContent)
    assert json.loads(tool.content[0].text) == volumes


async def test_snapshot_template_lists_newest_first_and_capped(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    data = await read_json(mcp, f"zerobyte://repositories/{ids['repository']}/snapshots")

    times = [s["time"] for s in data["snapshots"]]
    assert data["total"] == 60
    assert len(times) == 50
    assert times == sorted(times, reverse=True)
    assert data["next_cursor"]


async def test_backup_job_template_reads_one_job(sim: Simulator, mcp: Client) -> None:
    ids = seed(sim)

    job = await read_json(mcp, f"zerobyte://backup-jobs/{ids['job']}")

    assert job["id"] == ids["job"]
    assert job["name"] == "photos"
    assert "already locked" in json.dumps(job)


@pytest.mark.both_eras  # a protocol error (JSON-RPC), not a tool result
@pytest.mark.parametrize(
    "uri",
    [
        "zerobyte://backup-jobs/nope1234",
        "zerobyte://repositories/nope1234/snapshots",
        "zerobyte://repositories/bad%20id/snapshots",
        "zerobyte://nothing-here",
    ],
)
async def test_unknown_ids_are_resource_not_found(sim: Simulator, mcp: Client, uri: str) -> None:
    seed(sim)

    with pytest.raises(MCPError) as caught:
        await mcp.read_resource(uri)

    assert caught.value.error.code == INVALID_PARAMS


async def test_zerobyte_failures_surface_as_resource_errors_with_the_message(sim: Simulator) -> None:
    settings = make_settings("http://127.0.0.1:9", connect_timeout=0.5)
    async with Client(create_server(settings)) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("zerobyte://volumes")
    assert caught.value.error.code != INVALID_PARAMS
    assert "127.0.0.1:9" in caught.value.error.message


async def test_prompts_are_listed_with_descriptions_and_arguments(mcp: Client) -> None:
    prompts = {p.name: p for p in (await mcp.list_prompts()).prompts}

    assert set(prompts) == set(PROMPTS)
    for prompt in prompts.values():
        assert prompt.description and len(prompt.description) >= 30
    restore_args = {a.name: a.required for a in prompts["restore_file_as_of"].arguments or []}
    assert restore_args == {"path": True, "date": True, "backup_job": False}
    assert {a.name for a in prompts["plan_backup_job"].arguments or []} == {"source_path", "retention"}


async def test_prompts_registered_on_first_need_list_in_their_order_with_the_capability_announced(
    settings: Settings,
) -> None:
    server = create_server(settings)
    async with Client(server) as client:
        await client.list_tools()
        assert client.server_capabilities.prompts is not None
        names = [p.name for p in (await client.list_prompts()).prompts]
        again = [p.name for p in (await client.list_prompts()).prompts]
    assert names == again == list(PROMPTS)


@pytest.mark.parametrize(
    ("name", "args", "must_say"),
    [
        ("diagnose_failed_backup", {}, ["backup_health", "task_history", "get_task"]),
        ("diagnose_failed_backup", {"backup_job": "photos"}, ["'photos'", "list_backup_jobs"]),
        (
            "restore_file_as_of",
            {"path": "/srv/docs/tax.pdf", "date": "2026-11-23"},
            ["find_file", "list_snapshots", "until='2026-11-23'", "overwrite='never'", "STAGING"],
        ),
        ("morning_health_report", {}, ["backup_health", "OK / WARNING / CRITICAL"]),
        ("plan_backup_job", {"source_path": "/srv/photos"}, ["MIRROR", "TEST RESTORE", "keep 7 daily"]),
        ("prove_restorable", {}, ["drill_backup", "every backup job", "not every pack"]),
        ("prove_restorable", {"backup_job": "photos"}, ["drill_backup backup_job_id='photos'"]),
        ("plan_backup_job", {"source_path": "/srv/photos", "retention": "keep 14 daily"}, ["keep 14 daily"]),
    ],
)
async def test_each_prompt_renders_a_runbook(mcp: Client, name: str, args: dict[str, str], must_say: list[str]) -> None:
    result = await mcp.get_prompt(name, args)

    [message] = result.messages
    assert isinstance(message.content, TextContent)
    text = message.content.text
    for phrase in must_say:
        assert phrase in text, phrase


async def test_prompts_only_name_tools_that_exist() -> None:
    from mcp_server.prompts import (
        diagnose_failed_backup_text,
        morning_health_report_text,
        plan_backup_job_text,
        restore_file_as_of_text,
    )

    tools = Registry.offered(make_settings("http://127.0.0.1:9", access="full")).names
    text = " ".join(
        [
            diagnose_failed_backup_text(),
            diagnose_failed_backup_text("photos"),
            restore_file_as_of_text("/a", "2026-01-01"),
            morning_health_report_text(),
            plan_backup_job_text("/a"),
        ]
    )
    named = set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text))
    fields = {"next_step", "last_status", "last_error", "next_run", "node_modules", "target_path"}
    assert named - fields <= tools
    assert {"backup_health", "find_file", "list_snapshots", "wait_for_task", "unlock_repository"} <= named


async def test_a_prompt_never_echoes_the_api_key_even_when_a_client_passes_it(mcp: Client) -> None:
    result = await mcp.get_prompt("plan_backup_job", {"source_path": f"/srv/{TEST_KEY}"})
    [message] = result.messages
    assert isinstance(message.content, TextContent)
    assert TEST_KEY not in message.content.text and "<redacted>" in message.content.text
