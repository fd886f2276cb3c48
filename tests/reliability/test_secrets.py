"""Secret hygiene, measured: plant every kind of credential Zerobyte holds, touch everything, find none of them.

Zerobyte returns sealed fields as ``encv1:`` ciphertext but webhook headers, generic webhook URLs, backup hook
bodies and REST URLs in plain text (REAL-BEHAVIOUR.md, "Secrets in responses"). This test plants one of each,
plus an API key that does not look like ``zb_…`` (so only exact-string scrubbing can catch it), then calls every
tool (write tools with planted secrets of their own), reads every resource, gets every prompt and walks the
error paths (401, 404, a 500 whose restic details carry ``password=``). It scans the text AND structured content
of every answer, every error, the audit log file, the log records and everything written to stderr.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import CallToolResult

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import World, seed_world, text
from tests.reliability.helpers import assert_actionable, connect

pytestmark = pytest.mark.anyio

PLANTED_KEY = "Kq7vR2-planted-nonobvious-key-4e1f0b9c"  # not shaped like zb_…: no pattern would catch it
S3_KEY_ID = "AKIAPLANTED0KEY0ID001"
S3_SECRET = "planted/S3+secret/access+key+0000000001"
WEBHOOK_BEARER = "planted-webhook-bearer-token-0001"
WEBHOOK_PATH = "planted-capability-path-0001"
REST_USER = "planteduser"
REST_PASS = "planted-rest-pass-0001"
TELEGRAM_TOKEN = "7123456789:AAPlantedTelegramBotTokenValue000001"
SMB_PASS = "planted-smb-pass-0001"
HOOK_BODY_TOKEN = "planted-hook-body-token-0001"
RESTIC_PASSWORD = "planted-restic-password-0001"
NEW_SECRET = "planted-new-secret-given-by-agent-0001"
NEW_KEY_ID = "AKIAPLANTEDNEWKEYID002"

SECRETS = [
    PLANTED_KEY,
    S3_KEY_ID,
    S3_SECRET,
    WEBHOOK_BEARER,
    WEBHOOK_PATH,
    REST_PASS,
    f"{REST_USER}:{REST_PASS}",
    TELEGRAM_TOKEN,
    TELEGRAM_TOKEN.split(":")[1],
    SMB_PASS,
    HOOK_BODY_TOKEN,
    RESTIC_PASSWORD,
    NEW_SECRET,
    NEW_KEY_ID,
    "encv1:",
]


def plant(sim: Simulator) -> tuple[World, dict[str, str]]:
    """The operations test world plus one object holding each kind of secret; returns extra ids."""
    world = seed_world(sim)
    s3 = sim.add_repository(
        "offsite-s3",
        backend="s3",
        config={
            "endpoint": "https://s3.example.com",
            "bucket": "planted-bucket",
            "accessKeyId": S3_KEY_ID,
            "secretAccessKey": S3_SECRET,
        },
    )
    rest = sim.add_repository(
        "rest-server",
        backend="rest",
        config={"url": f"https://{REST_USER}:{REST_PASS}@rest.example.com/zerobyte", "password": REST_PASS},
    )
    smb = sim.add_volume(
        "nas-share",
        backend="smb",
        config={"backend": "smb", "server": "nas.lan", "share": "photos", "username": "me", "password": SMB_PASS},
    )
    hook = sim.add_notification_destination(
        "ops-hook",
        type="generic",
        config={
            "url": f"https://hooks.example.net/T0/{WEBHOOK_PATH}",
            "method": "POST",
            "headers": [f"Authorization: Bearer {WEBHOOK_BEARER}", "Content-Type: application/json"],
        },
    )
    telegram = sim.add_notification_destination(
        "phone", type="telegram", config={"botToken": TELEGRAM_TOKEN, "chatId": "42"}
    )
    job = sim.add_backup_job(
        "nas-nightly",
        volume=smb["shortId"],
        repository=s3["shortId"],
        backup_webhooks={
            "pre": {
                "url": f"https://hc.example.com/ping/{WEBHOOK_PATH}/start",
                "headers": [f"Authorization: Bearer {WEBHOOK_BEARER}"],
                "body": f'{{"token": "{HOOK_BODY_TOKEN}"}}',
            },
            "post": None,
        },
    )
    sim.assign_notification(job["shortId"], hook["id"])
    sim.assign_notification(job["shortId"], telegram["id"])
    sim.add_snapshot(s3["shortId"], job=job["shortId"], time_ms=sim.now_ms() - 3_600_000)
    sim.add_snapshot(rest["shortId"], time_ms=sim.now_ms() - 7_200_000)
    return world, {
        "s3": s3["shortId"],
        "rest": rest["shortId"],
        "smb": smb["shortId"],
        "job": job["shortId"],
        "hook": str(hook["id"]),
        "telegram": str(telegram["id"]),
    }


def _arguments(schema: dict[str, Any], world: World, ids: dict[str, str], task_id: str) -> dict[str, Any]:
    """Real ids for every id argument (the secret-holding objects first), planted secrets for secret arguments."""
    samples: dict[str, Any] = {
        "volume_id": ids["smb"],
        "repository_id": ids["rest"],
        "mirror_repository_id": ids["s3"],
        "job_id": ids["job"],
        "backup_job_id": ids["job"],
        "snapshot_id": "latest",
        "snapshot_ids": [world.snapshots[0]],
        "destination_id": int(ids["hook"]),
        "task_id": task_id,
        "path": "/srv/photos/n.txt",
        "paths": ["/srv/photos/n.txt"],
        "target_path": "/srv/restore/x",
        "pattern": "*.jpg",
        "secret": NEW_SECRET,
        "access_key_id": NEW_KEY_ID,
        "custom_password": NEW_SECRET,
        "headers": [f"Authorization: Bearer {NEW_SECRET}"],
        "url": f"https://user:{NEW_SECRET}@hooks.example.org/x?token={NEW_SECRET}",
        "name": "planted-object",
        "schedule": "0 4 * * *",
        "events": ["failure"],
    }
    out: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name in samples:
            out[name] = samples[name]
        elif name in schema.get("required", []):
            out[name] = prop["enum"][0] if "enum" in prop else 1 if prop.get("type") == "integer" else "x"
    if "backend" in out and "source" in out:  # create_volume: a backend that takes a secret
        out.update(backend="smb", source="//nas.lan/share", username="me")
    if "backend" in out and "location" in out:  # create_repository
        out.update(backend="s3", location="https://s3.example.com/new-bucket")
    if out.get("type") == "generic":
        out["url"] = f"https://hooks.example.org/{NEW_SECRET}"
    return out


class Seen:
    """Everything an agent (or a log reader) was shown."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def result(self, label: str, result: CallToolResult) -> CallToolResult:
        self.texts.append(f"{label}: {text(result)}")
        self.texts.append(f"{label} structured: {json.dumps(result.structured_content, ensure_ascii=False)}")
        return result

    def add(self, label: str, value: Any) -> None:
        self.texts.append(f"{label}: {value if isinstance(value, str) else json.dumps(value, default=str)}")


def leaks(haystack: str) -> list[str]:
    """Each planted secret found, with 80 characters of context around its first occurrence."""
    found: list[str] = []
    for secret in SECRETS:
        at = haystack.find(secret)
        if at >= 0:
            found.append(f"{secret!r} in …{haystack[max(0, at - 80) : at + len(secret) + 40]}…")
    return found


async def _touch_everything(client: Client, sim: Simulator, seen: Seen, world: World, ids: dict[str, str]) -> int:
    task_id = sim.add_task("backup", job=ids["job"])["id"]
    tools = (await client.list_tools()).tools
    for tool in tools:
        arguments = _arguments(tool.input_schema, world, ids, task_id)
        seen.result(tool.name, await client.call_tool(tool.name, arguments))
    for resource in (await client.list_resources()).resources:
        seen.add(str(resource.uri), (await client.read_resource(str(resource.uri))).model_dump(mode="json"))
    for uri in (
        f"zerobyte://backup-jobs/{ids['job']}",
        f"zerobyte://repositories/{ids['rest']}/snapshots",
        f"zerobyte://repositories/{ids['s3']}/snapshots",
    ):
        seen.add(uri, (await client.read_resource(uri)).model_dump(mode="json"))
    for prompt in (await client.list_prompts()).prompts:
        arguments = {a.name: ids["job"] if "job" in a.name else "/srv/photos/n.txt" for a in prompt.arguments or []}
        seen.add(prompt.name, (await client.get_prompt(prompt.name, arguments)).model_dump(mode="json"))
    return len(tools)


async def _error_paths(client: Client, sim: Simulator, seen: Seen, ids: dict[str, str]) -> None:
    restic = (
        f"Fatal: unable to open repository at rest:https://{REST_USER}:{REST_PASS}@rest.example.com/zerobyte: "
        f"exec: restic --password={RESTIC_PASSWORD} snapshots; RESTIC_PASSWORD={RESTIC_PASSWORD}"
    )
    sim.faults.add(
        method="GET",
        path=r"^/api/v1/repositories/[^/]+$",
        times=1,
        status=500,
        body={"message": f"restic failed: password: {RESTIC_PASSWORD}", "details": restic},
    )
    failed = seen.result("500", await client.call_tool("get_repository", {"repository_id": ids["rest"]}))
    assert_actionable(failed, "Zerobyte failed (500)", "restic said")
    missing = seen.result("404", await client.call_tool("get_volume", {"volume_id": "nOsUcH01"}))
    assert_actionable(missing, "nOsUcH01", "not found")
    with sim.lock:
        sim.api_keys = {"zb_somebody_else_0000000000000"}
    refused = seen.result("401", await client.call_tool("list_volumes", {}))
    assert_actionable(refused, "API key rejected (401)", "Settings → API keys")
    seen.result("401 write", await client.call_tool("run_backup", {"job_id": ids["job"]}))
    try:
        seen.add("resource 401", (await client.read_resource("zerobyte://health")).model_dump(mode="json"))
    except MCPError as exc:
        seen.add("resource 401 error", str(exc))


async def test_no_planted_secret_appears_in_any_answer_error_audit_line_or_log(
    sim: Simulator,
    sim_server: SimulatorServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    world, ids = plant(sim)
    with sim.lock:
        sim.api_keys = {PLANTED_KEY}
    audit = tmp_path / "audit.jsonl"
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    async with connect(
        sim_server.url,
        access="full",
        api_key=_secret(PLANTED_KEY),
        audit_log=audit,
        log_level="DEBUG",
        restore_allowed_roots=("/srv/restore",),
    ) as client:
        tool_count = await _touch_everything(client, sim, seen, world, ids)
        await _error_paths(client, sim, seen, ids)
    out, err = capfd.readouterr()
    shown = "\n".join(seen.texts)
    audit_lines = audit.read_text()
    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)

    # The plants are really there: Zerobyte holds them, and the calls really reached the objects holding them.
    assert tool_count >= 40 and len(audit_lines.splitlines()) >= 15
    assert any(r.headers.get("x-api-key") == "<redacted>" for r in sim.requests)
    assert "planted-bucket" in shown and "nas-nightly" in shown and "ops-hook" in shown and "rest.example.com" in shown
    assert "<redacted>" in shown
    assert "restic said" in shown and "401" in logs  # the error paths ran and were logged

    assert leaks(shown) == [], "shown to the agent"
    assert leaks(audit_lines) == [], "written to the audit log"
    assert leaks(logs) == [], "logged"
    assert leaks(out + err) == [], "written to stdout/stderr"


def _secret(value: str) -> Any:
    from mcp_server.config import Secret

    return Secret(value)
