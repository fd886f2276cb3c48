"""What this Zerobyte cannot do is said up front: tools/list, get_system_info and ``zerobyte-mcp check`` agree.

Zerobyte v0.41.0 has no ``/tasks/history``: task_history is left out of tools/list (capabilities are detected on
the first listing, so the list never changes under the client, in either protocol era), get_system_info and
``check`` name every tool that works differently, and get_task's not-found answer does not send the agent to a
tool that is not there. On v0.42 the same calls list everything and name no difference.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, mcp_stdio, refused, stdio_params
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_tools_list_and_system_info_say_what_this_zerobyte_cannot_do(
    zb_any: RealZerobyte, data_root: Path, era: str
) -> None:
    has_history = zb_any.request("GET", "/tasks/history").status_code == 200  # the server itself is the judge
    assert has_history is not zb_any.legacy
    async with mcp_stdio(zb_any, data_root / "mcp", McpConfig(access="full"), era=era) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        info = await call(client, "get_system_info")
        missing_task = await refused(client, "get_task", task_id=str(uuid.uuid4()))
        not_followed = await refused(client, "wait_for_task", task_id=str(uuid.uuid4()), wait_seconds=5)
        history = await client.call_tool("task_history", {})  # not listed on v0.41, still answers plainly
    notes = "\n".join(info.get("notes", []))
    history_text = " ".join(getattr(c, "text", "") for c in history.content)
    assert {"run_backup", "get_task", "cancel_task", "list_active_tasks"} <= names
    assert "under way" not in not_followed and "wait_for_task" not in not_followed  # no loop on a task that is not
    assert "list_active_tasks" in not_followed
    if has_history:
        assert "task_history" in names
        assert "works differently" not in notes
        assert "task_history" in missing_task
        assert not history.is_error
    else:
        assert "task_history" not in names
        assert "task_history: NOT AVAILABLE" in notes
        for tool in ("run_backup", "cancel_task", "apply_retention", "sync_mirror", "backup_health"):
            assert f"{tool}: works differently" in notes, notes
        assert "task_history" not in missing_task
        assert "list_active_tasks" in missing_task
        assert history.is_error and "no task history" in history_text


def test_check_lists_every_difference_that_matters(zb_any: RealZerobyte, data_root: Path) -> None:
    params = stdio_params(zb_any, data_root / "check", McpConfig(access="full"))
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server", "check"],
        env=params.env,
        cwd=params.cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout
    assert zb_any.api_key not in report + done.stderr
    if zb_any.legacy:
        assert "task history: no" in report
        assert "task_history: NOT AVAILABLE" in report
        for tool in ("run_backup", "cancel_task", "apply_retention", "sync_mirror", "list_active_tasks"):
            assert f"{tool}: works differently" in report, report
        assert "cannot be followed" not in report
    else:
        assert "task history: yes" in report
        assert "NOT AVAILABLE" not in report and "works differently" not in report
