"""The audit log's own file: created owner-only, appended one JSON line per call."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from mcp_server.safety.audit import AuditLog


def test_the_audit_file_is_created_owner_only_and_appended(tmp_path: Path) -> None:
    path = tmp_path / "state" / "zerobyte-mcp" / "audit.jsonl"
    log = AuditLog(path, secrets=("zb_secret_key_value_123",))
    log.write(tool="run_backup", arguments={"job_id": "abc"}, outcome="success")
    log.write(tool="delete_volume", arguments={"note": "zb_secret_key_value_123"}, outcome="refused")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["tool"] for line in lines] == ["run_backup", "delete_volume"]
    assert "zb_secret_key_value_123" not in path.read_text()
