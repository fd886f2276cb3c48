"""Which organization events mean "a backup just made a snapshot" (v0.42 task history, v0.41 backup events)."""

from __future__ import annotations

import json

from mcp_server.catalog.watch import _finished_backup


def test_a_succeeded_backup_task_on_v042_names_its_task() -> None:
    item = {"id": "01a2", "kind": "backup", "status": "succeeded", "outcome": "success"}
    assert _finished_backup("task:history-changed", json.dumps({"item": item})) == "task:01a2"


def test_a_running_backup_or_another_task_kind_is_not_a_new_snapshot() -> None:
    running = {"id": "01a2", "kind": "backup", "status": "running"}
    forget = {"id": "01a3", "kind": "forget", "status": "succeeded"}
    assert _finished_backup("task:history-changed", json.dumps({"item": running})) is None
    assert _finished_backup("task:history-changed", json.dumps({"item": forget})) is None
    assert _finished_backup("heartbeat", "{}") is None
    assert _finished_backup("task:history-changed", "not json") is None


def test_a_completed_backup_on_v041_names_its_schedule_unless_it_failed() -> None:
    assert _finished_backup("backup:completed", json.dumps({"scheduleId": "dl2FvHvs", "status": "success"})) == (
        "dl2FvHvs"
    )
    assert _finished_backup("backup:completed", json.dumps({"scheduleId": "dl2FvHvs", "status": "error"})) is None
