"""The whole path, end to end: MCP client -> server -> Zerobyte client -> simulator over HTTP."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp.types import TextContent

from mcp_server.server import INSTRUCTIONS, create_server
from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import TEST_KEY, make_settings

pytestmark = [pytest.mark.anyio, pytest.mark.both_eras]


def _text(result: object) -> str:
    content = getattr(result, "content", [])
    return " ".join(c.text for c in content if isinstance(c, TextContent))


async def test_list_volumes_returns_each_volume_with_its_status_and_source(sim: Simulator, mcp: Client) -> None:
    sim.add_volume("photos", path="/srv/photos")
    sim.add_volume("docs", path="/srv/docs", status="error", last_error="mount failed: no such directory")
    result = await mcp.call_tool("list_volumes", {})
    assert not result.is_error, _text(result)
    data = result.structured_content
    assert data is not None
    assert data["total"] == 2
    by_name = {v["name"]: v for v in data["volumes"]}
    assert by_name["photos"]["status"] == "mounted"
    assert by_name["photos"]["source"] == "/srv/photos"
    assert by_name["docs"]["status"] == "error"
    assert "no such directory" in by_name["docs"]["last_error"]
    text = _text(result)
    assert "\n" not in text and json.loads(text)["total"] == 2  # compact JSON, no indentation


async def test_list_repositories_and_backup_jobs_name_their_links(sim: Simulator, mcp: Client) -> None:
    volume = sim.add_volume("photos", path="/srv/photos")
    repo = sim.add_repository("local-nas")
    sim.add_backup_job("photos-daily", volume=volume["shortId"], repository=repo["shortId"], cron="0 2 * * *")
    repos = await mcp.call_tool("list_repositories", {})
    assert not repos.is_error, _text(repos)
    assert repos.structured_content is not None
    assert [r["name"] for r in repos.structured_content["repositories"]] == ["local-nas"]
    jobs = await mcp.call_tool("list_backup_jobs", {})
    assert not jobs.is_error, _text(jobs)
    assert jobs.structured_content is not None
    job = jobs.structured_content["jobs"][0]
    assert job["name"] == "photos-daily"
    assert job["cron"] == "0 2 * * *"
    assert repo["shortId"] in job["repository"] and "photos" in job["volume"]


async def test_a_rejected_key_gives_the_401_advice_without_the_key(sim: Simulator, era: str) -> None:
    with SimulatorServer(sim) as running:
        settings = make_settings(running.url)
        sim.api_keys.clear()  # the key was revoked in Zerobyte
        async with Client(create_server(settings), mode=era) as client:
            result = await client.call_tool("list_volumes", {})
    text = _text(result)
    assert result.is_error
    assert text.startswith("API key rejected (401)")
    assert "Settings → API keys" in text
    assert TEST_KEY not in text


async def test_an_unreachable_zerobyte_names_the_url_and_the_next_step(era: str) -> None:
    settings = make_settings("http://127.0.0.1:9")  # nothing listens on the discard port
    async with Client(create_server(settings), mode=era) as client:
        result = await client.call_tool("list_volumes", {})
    text = _text(result)
    assert result.is_error
    assert "http://127.0.0.1:9" in text and "refused" in text
    assert "Error executing tool" not in text


async def test_the_server_teaches_zerobytes_model_in_its_instructions(era: str) -> None:
    async with Client(create_server(make_settings("http://127.0.0.1:9")), mode=era) as client:
        assert client.instructions == INSTRUCTIONS
    assert all(word in INSTRUCTIONS for word in ("volumes", "repositories", "snapshot", "task"))
    async with Client(create_server(make_settings("http://127.0.0.1:9"), demo=True), mode=era) as client:
        assert "simulator" in (client.instructions or "")


async def test_bad_arguments_come_back_as_field_problems_without_the_rejected_values(
    sim: Simulator, mcp: Client
) -> None:
    repo = sim.add_repository("nas")
    result = await mcp.call_tool(
        "list_snapshots", {"repository_id": repo["shortId"], "limit": 100000, "cursor": ["zb_planted_secret_value"]}
    )
    text = _text(result)
    assert result.is_error
    assert text.startswith("Invalid arguments for list_snapshots (nothing was sent): ")
    assert "limit: " in text
    assert "cursor: " in text
    assert "zb_planted_secret_value" not in text
    assert "100000" not in text
    assert "Error executing tool" not in text
    assert not [r for r in sim.requests if "snapshots" in r.path]


async def test_a_refusal_raised_before_the_tool_runs_reads_as_its_own_sentence(
    sim_server: SimulatorServer, era: str
) -> None:
    server = create_server(make_settings(sim_server.url, access="full"))
    async with Client(server, mode=era) as client:
        result = await client.call_tool("delete_snapshots", {"repository_id": "nope1234", "snapshot_ids": ["deadbeef"]})
    text = _text(result)
    assert result.is_error
    assert not text.startswith("Error executing tool")
    assert "nope1234" in text


async def test_a_next_step_naming_a_tool_this_access_level_lacks_says_so(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    volume = sim.add_volume("photos", path="/srv/photos")
    repo = sim.add_repository("nas")
    sim.add_backup_job(
        "photos-daily",
        volume=volume["shortId"],
        repository=repo["shortId"],
        last_status="error",
        last_error="unable to create lock in backend: repository is already locked",
    )
    answers = {}
    for access in ("read-only", "operate"):
        async with Client(create_server(make_settings(sim_server.url, access=access)), mode=era) as client:
            result = await client.call_tool("backup_health", {})
        assert not result.is_error, _text(result)
        assert result.structured_content is not None
        answers[access] = result.structured_content
    note = answers["read-only"]["unavailable_tools"]
    assert note.startswith("run_doctor, unlock_repository: not offered at access level read-only")
    assert "unlock_repository" in _text_of(answers["read-only"])
    assert "unavailable_tools" not in answers["operate"]


def _text_of(data: object) -> str:
    return json.dumps(data)
