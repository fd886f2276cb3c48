"""The MCP App in a real browser: backups.html rendered by a test host built on the official ext-apps AppBridge.

Our server runs over streamable HTTP (bearer token; the demo simulator, or a real Zerobyte for the ``real``
test); the Node host (tests/app/run.mjs) reads the ``ui://`` resource, renders it in a sandboxed iframe in
headless Chromium, delivers show_backups' result and checks what the page shows against the tools' own
answers. Each test is one scenario of run.mjs; its output lists every check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app import harness

pytestmark = [pytest.mark.browser, pytest.mark.skipif(harness.missing() is not None, reason=str(harness.missing()))]


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Served]:
    with harness.serve(tmp_path_factory.mktemp("app-full"), access="full") as served:
        yield served


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Served]:
    with harness.serve(tmp_path_factory.mktemp("app-ro"), access="read-only") as served:
        yield served


def run(served: harness.Served, *scenarios: str) -> str:
    done = harness.node("run.mjs", *scenarios, served=served)
    assert done.returncode == 0, f"browser scenario failed:\n{done.stdout}\n{done.stderr}"
    assert "FAIL" not in done.stdout
    return done.stdout


def test_board_numbers_match_the_api(full: harness.Served) -> None:
    out = run(full, "board")
    assert "job cards: state, snapshot count, repository size (= list_repositories)" in out
    assert "no CSP violation, no request, no console error" in out


def test_timeline_snapshot_folder_file_versions_and_compare(full: harness.Served) -> None:
    out = run(full, "drilldown")
    assert "= find_file" in out and "= compare_snapshots" in out


def test_delete_shows_the_preview_and_deletes_only_after_confirm(full: harness.Served) -> None:
    out = run(full, "delete")
    assert "still exists" in out and "deleted on the server" in out


def test_show_snapshots_opens_the_timeline_at_the_snapshot_asked(full: harness.Served) -> None:
    assert "opened at" in run(full, "snapshots")


def test_run_backup_and_restore_go_through_the_tools(full: harness.Served) -> None:
    out = run(full, "actions")
    assert "run_backup" in out and "restore" in out


def test_hostile_text_renders_as_text_and_tool_errors_show(full: harness.Served) -> None:
    assert "render as text" in run(full, "safety")


def test_read_only_shows_no_action_button(read_only: harness.Served) -> None:
    out = run(read_only, "readonly")
    assert "read-only: no action buttons" in out


def test_theme_follows_the_host_and_the_keyboard_works(full: harness.Served) -> None:
    out = run(full, "theme")
    assert "theme light" in out and "visible outline" in out


def test_readable_at_360_px(full: harness.Served) -> None:
    assert "no horizontal overflow" in run(full, "narrow")


@pytest.mark.real
def test_board_and_delete_against_a_real_zerobyte(tmp_path: Path) -> None:
    from tests.real import zbserver

    if not zbserver.available():
        pytest.skip(zbserver.ABSENT_REASON)
    from tests.real.conftest import McpConfig, write_config
    from tests.real.seed import backed_up_job

    zb = zbserver.start("v0.42", tmp_path / "zerobyte")
    try:
        seeded = backed_up_job(
            zb, tmp_path / "data", {"docs/a.txt": "alpha", "docs/deep/b.txt": "beta", "c.txt": "gamma"}, runs=3
        )
        config = write_config(
            zb, tmp_path / "mcp", McpConfig(access="full", restore_roots=(str(tmp_path / "restores"),))
        )
        env = {"ZEROBYTE_MCP_CONFIG": str(config), "ZEROBYTE_MCP_LOG_LEVEL": "INFO"}
        with harness.serve(tmp_path / "mcp", demo=False, env=env) as served:
            out = run(served, "board", "drilldown", "delete")
        victim = re.search(r"; (\w+) deleted on the server", out)
        assert victim, out
        left = [s["short_id"] for s in zb.snapshots(seeded.repository_id)]
        assert victim.group(1) not in left and len(left) == 2, left  # Zerobyte itself no longer has it
    finally:
        zb.stop()
