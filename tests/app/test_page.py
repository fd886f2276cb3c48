"""backups.html on its own (no browser): the size budget, self-containment, text-only rendering, the test ids."""

from __future__ import annotations

import re

from mcp_server.tools.app import app_html

PAGE = app_html()
BUDGET = 60 * 1024

# The data-testid contract the browser test (tests/app/run.mjs) and the docs rely on.
TEST_IDS = [
    "verdict",
    "job-card",
    "job-state",
    "job-last-run",
    "job-next-run",
    "job-size",
    "job-snapshots",
    "sparkline",
    "coverage",
    "repo-row",
    "repo-size",
    "volume-row",
    "timeline",
    "snapshot-point",
    "compare-button",
    "compare-view",
    "compare-added",
    "compare-removed",
    "compare-modified",
    "file-browser",
    "file-row",
    "breadcrumb",
    "versions",
    "version-row",
    "action-run-backup",
    "action-restore",
    "action-delete-snapshot",
    "confirm-panel",
    "confirm-button",
    "cancel-button",
    "error",
]


def test_page_fits_the_size_budget() -> None:
    assert len(PAGE.encode()) < BUDGET, f"backups.html is {len(PAGE.encode())} bytes, budget {BUDGET}"


def test_page_loads_nothing_from_elsewhere() -> None:
    assert not re.search(r"""\s(src|href)\s*=""", PAGE, re.I), "no src/href attribute at all"
    for word in ("fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "@import", "url(", "sendBeacon", "<link"):
        assert word not in PAGE, word
    assert PAGE.count("<script") == 1 and "<script>" in PAGE  # one inline script, no src


def test_page_renders_data_as_text_only() -> None:
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in PAGE, sink


def test_page_has_every_test_id_of_the_contract() -> None:
    missing = [t for t in TEST_IDS if f'"{t}"' not in PAGE]
    assert not missing, missing


def test_page_speaks_the_apps_protocol() -> None:
    for method in (
        "ui/initialize",
        "ui/notifications/initialized",
        "ui/notifications/tool-result",
        "ui/notifications/tool-input",
        "ui/notifications/host-context-changed",
        "ui/notifications/size-changed",
        "tools/call",
    ):
        assert f'"{method}"' in PAGE, method
