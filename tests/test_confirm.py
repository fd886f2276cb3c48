"""Confirmation of destructive actions, both ways: asking the human (elicitation) and the token handshake.

Driven through the real server and the SDK's in-memory client on both protocol eras, with and without
an ``elicitation_callback``; the simulator shows whether anything was actually deleted.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest

from mcp_server.safety import tokens
from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.tools import destroy
from mcp_server.tools.confirm import ConfirmationStore, Preview, PreviewItem, TokenRejected
from tests.helpers import answering, connect, data, seed_world, text, writes

pytestmark = [pytest.mark.anyio, pytest.mark.both_eras]


async def test_a_client_with_elicitation_is_asked_naming_the_object_and_its_cascade(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    seen: list[str] = []
    async with connect(sim_server, era, elicit=answering("accept", seen=seen)) as client:
        result = data(await client.call_tool("delete_repository", {"repository_id": world.offsite}))
    (question,) = seen
    assert question.startswith(f"Delete repository 'offsite-b2' ({world.offsite})?")
    assert "'docs-daily'" in question and "will be deleted" in question and "restic data stays in" in question
    assert result["outcome"] == "done" and "Deleted repository 'offsite-b2'" in result["message"]
    assert "confirm_token" not in result
    assert world.offsite not in {r["shortId"] for r in sim.repositories.values()}
    assert writes(sim) == [f"DELETE /api/v1/repositories/{world.offsite}"]


@pytest.mark.parametrize(
    ("action", "confirm_box", "why"),
    [("decline", True, "declined"), ("cancel", True, "dismissed"), ("accept", False, "did not tick")],
)
async def test_a_user_who_does_not_confirm_gets_a_not_done_result_and_nothing_changes(
    sim: Simulator,
    sim_server: SimulatorServer,
    era: str,
    action: Literal["accept", "decline", "cancel"],
    confirm_box: bool,
    why: str,
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, elicit=answering(action, confirm=confirm_box)) as client:
        result = await client.call_tool("delete_volume", {"volume_id": world.volume})
    body = data(result)  # a normal result the agent reads, not an error
    assert body["outcome"] == "declined" and why in body["message"] and "Nothing was changed" in body["message"]
    assert writes(sim) == []


async def test_without_elicitation_the_first_call_previews_and_only_the_token_acts(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era) as client:
        first = data(await client.call_tool("delete_notification_destination", {"destination_id": world.destination}))
        assert writes(sim) == []
        second = data(
            await client.call_tool(
                "delete_notification_destination",
                {"destination_id": world.destination, "confirm_token": first["confirm_token"]},
            )
        )
    assert first["outcome"] == "confirmation_required" and first["expires_at"].endswith("Z")
    assert "confirm_token" in first["message"] and "Show the user" in first["message"]
    assert first["preview"]["items"] == [
        {"kind": "backup_job", "id": world.job, "name": "photos-daily", "note": "loses this destination"}
    ]
    assert second["outcome"] == "done" and sim.destinations == {}


async def _preview_token(client: Any, tool: str, arguments: dict[str, Any]) -> str:
    token: str = data(await client.call_tool(tool, arguments))["confirm_token"]
    return token


async def test_a_token_cannot_be_reused_moved_to_other_arguments_or_another_tool_or_forged(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era) as client:
        token = await _preview_token(client, "delete_volume", {"volume_id": world.docs_volume})
        other_args = await client.call_tool("delete_volume", {"volume_id": world.volume, "confirm_token": token})
        other_tool = await client.call_tool("delete_repository", {"repository_id": world.repo, "confirm_token": token})
        prefix, expires, nonce, mac = token.split(".")
        forged = await client.call_tool(
            "delete_volume",
            {"volume_id": world.docs_volume, "confirm_token": f"{prefix}.{int(expires) + 3600}.{nonce}.{mac}"},
        )
        garbage = await client.call_tool("delete_volume", {"volume_id": world.docs_volume, "confirm_token": "yes"})
        assert writes(sim) == []
        used = data(await client.call_tool("delete_volume", {"volume_id": world.docs_volume, "confirm_token": token}))
        # A restore leaves its objects in place, so a second use reaches the token check.
        restore = {"repository_id": world.repo, "snapshot_id": world.snapshots[-1], "paths": ["/srv/photos/n.txt"]}
        restore_token = await _preview_token(client, "restore_in_place", restore)
        restored = data(await client.call_tool("restore_in_place", {**restore, "confirm_token": restore_token}))
        reused = await client.call_tool("restore_in_place", {**restore, "confirm_token": restore_token})
    assert other_args.is_error and "other arguments" in text(other_args)
    assert other_tool.is_error and "issued for delete_volume" in text(other_tool)
    assert forged.is_error and "not valid" in text(forged)
    assert garbage.is_error and "not a token this server issued" in text(garbage)
    assert used["outcome"] == "done" and restored["outcome"] == "success"
    assert reused.is_error and "already used" in text(reused)
    assert writes(sim) == [
        f"DELETE /api/v1/volumes/{world.docs_volume}",
        f"POST /api/v1/repositories/{world.repo}/restore",
    ]


async def test_an_expired_token_asks_for_a_new_preview(
    sim: Simulator, sim_server: SimulatorServer, era: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, confirm_ttl_seconds=60) as client:
        token = await _preview_token(client, "delete_backup_job", {"job_id": world.job})
        real = tokens.now
        monkeypatch.setattr(tokens, "now", lambda: real() + 61)
        result = await client.call_tool("delete_backup_job", {"job_id": world.job, "confirm_token": token})
    assert result.is_error and "expired" in text(result) and "without confirm_token" in text(result)
    assert writes(sim) == []


async def test_a_token_no_longer_fits_when_the_previewed_effect_changed(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era) as client:
        token = await _preview_token(client, "delete_repository", {"repository_id": world.repo})
        sim.add_backup_job("late-job", volume=world.docs_volume, repository=world.repo)
        result = await client.call_tool("delete_repository", {"repository_id": world.repo, "confirm_token": token})
    assert result.is_error and "changed since the preview" in text(result)
    assert world.repo in {r["shortId"] for r in sim.repositories.values()}


async def test_confirm_destructive_off_acts_at_once(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, confirm_destructive=False) as client:
        result = data(await client.call_tool("delete_volume", {"volume_id": world.docs_volume}))
    assert result["outcome"] == "done" and "'docs-daily'" in result["message"]


async def test_a_preview_failure_is_a_clear_error_and_nothing_is_sent(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    seed_world(sim)
    for elicit in (None, answering("accept")):
        async with connect(sim_server, era, elicit=elicit) as client:
            result = await client.call_tool("delete_volume", {"volume_id": "nosuchvol"})
        assert result.is_error and "'nosuchvol'" in text(result) and "list_volumes" in text(result)
        assert not text(result).startswith("Error executing tool")
    assert writes(sim) == []


async def test_a_preview_that_finds_nothing_to_forget_refuses_instead_of_acting_unasked(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, confirm_destructive=True) as client:
        loose = await client.call_tool("update_backup_job", {"job_id": world.job, "retention": "last 50"})
        assert not loose.is_error, text(loose)
        before = len(writes(sim))
        for elicit in (None, answering("accept")):
            async with connect(sim_server, era, elicit=elicit) as other:
                result = await other.call_tool("apply_retention", {"job_id": world.job})
            assert result.is_error and "Nothing to forget" in text(result) and "keeps all 4" in text(result)
    assert writes(sim)[before:] == []  # no POST /forget: an empty preview never opens the gate


async def test_a_preview_that_crashes_refuses_with_a_reason_and_sends_nothing(
    sim: Simulator, sim_server: SimulatorServer, era: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = seed_world(sim)

    async def broken(*_: Any) -> dict[str, list[str]]:
        raise RuntimeError("boom")

    # A step inside delete_volume's preview fails unexpectedly (not a Zerobyte error).
    monkeypatch.setattr(destroy, "_mirrors_of", broken)
    for elicit in (None, answering("accept")):
        async with connect(sim_server, era, elicit=elicit) as client:
            result = await client.call_tool("delete_volume", {"volume_id": world.volume})
        assert result.is_error and "Could not build the preview of delete_volume" in text(result)
        assert "nothing was changed" in text(result)
    assert writes(sim) == []


def _preview(n: int = 1) -> Preview:
    return Preview(
        action="Delete x", effects=["gone"], items=[PreviewItem(kind="snapshot", id=f"{i:08x}") for i in range(n)]
    )


def test_store_tokens_are_bound_to_tool_arguments_and_preview() -> None:
    store = ConfirmationStore(300)
    token, _ = store.issue(tool="t", arguments={"a": 1, "b": [1, 2]}, preview=_preview())
    assert token.startswith("zbc1.")
    with pytest.raises(TokenRejected, match="other arguments"):
        store.redeem(token, tool="t", arguments={"a": 1, "b": [2, 1]}, preview=_preview())
    with pytest.raises(TokenRejected, match="changed since the preview"):
        store.redeem(token, tool="t", arguments={"a": 1, "b": [1, 2]}, preview=_preview(2))
    store.redeem(token, tool="t", arguments={"b": [1, 2], "a": 1}, preview=_preview())  # key order is irrelevant
    other = ConfirmationStore(300)  # another process: another key
    with pytest.raises(TokenRejected, match="not valid"):
        other.redeem(token, tool="t", arguments={"a": 1, "b": [1, 2]}, preview=_preview())


def test_the_elicitation_question_lists_items_and_says_how_many_more() -> None:
    question = _preview(20).question()
    assert question.splitlines()[0] == "Delete x?" and "- snapshot 00000000" in question
    assert question.splitlines()[-1] == "- … and 5 more"
