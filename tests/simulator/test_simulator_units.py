"""Pure helpers of the simulator: cron, restic retention, zod-like validation, ids, file trees."""

from __future__ import annotations

import datetime as dt
import re

from mcp_server.simulator import Simulator, Symlink
from mcp_server.simulator import validation as v
from mcp_server.simulator.cron import is_valid, next_run
from mcp_server.simulator.files import SnapshotTree, build_tree, generated_tree, ls_walk
from mcp_server.simulator.retention import PolicyItem, apply_policy

H = 3_600_000
D = 24 * H


def _ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC).timestamp() * 1000)


def test_cron_next_run_matches_the_recorded_schedule() -> None:
    assert next_run("0 3 * * *", 1795821725000) == 1795834800000  # sample 28
    assert next_run("30 2 * * *", 1795822046494) == 1795833000000  # sample 99


def test_cron_supports_lists_ranges_steps_names_and_macros() -> None:
    assert next_run("*/15 * * * *", _ms(2026, 1, 1, 10, 7)) == _ms(2026, 1, 1, 10, 15)
    assert next_run("0 9 * * mon-fri", _ms(2026, 1, 3, 12)) == _ms(2026, 1, 5, 9)  # Saturday -> Monday
    assert next_run("0 0 1 jan *", _ms(2026, 3, 1)) == _ms(2027, 1, 1)
    assert next_run("@daily", _ms(2026, 1, 1, 5)) == _ms(2026, 1, 2)
    assert next_run("0 0 0 * * *", _ms(2026, 1, 1, 5)) == _ms(2026, 1, 2)
    for bad in ("", "every day", "61 * * * *", "* * *", "0 0 32 * *", "*/0 * * * *"):
        assert not is_valid(bad)


def test_retention_keeps_last_and_bucket_heads_and_the_oldest_when_counts_remain() -> None:
    t0 = _ms(2026, 11, 27, 12)
    items = [PolicyItem("a", t0, "g"), PolicyItem("b", t0 + 1000, "g")]
    assert apply_policy(items, {"keepLast": 5, "keepDaily": 7}) == {"b": ["last", "daily"], "a": ["last", "daily"]}
    days = [PolicyItem(str(i), t0 - i * D, "g") for i in range(10)]
    kept = apply_policy(days, {"keepDaily": 3})
    assert sorted(kept) == ["0", "1", "2"]
    assert apply_policy(days, {"keepLast": 2}) == {"0": ["last"], "1": ["last"]}
    assert len(apply_policy(days, {"keepWithinDuration": "5d"})) == 6
    assert apply_policy(days, None) == {str(i): [] for i in range(10)}
    weekly = apply_policy(days, {"keepWeekly": 10})
    assert all(c == ["weekly"] for c in weekly.values())


def test_validation_issues_have_zod_v4_shapes() -> None:
    _, issues = v.validate(v.VOLUME_CREATE, {"name": 3, "config": {"backend": "directory"}})
    assert issues[0] == {
        "expected": "string",
        "code": "invalid_type",
        "path": ["name"],
        "message": "Invalid input: expected string, received number",
    }
    _, issues = v.validate(v.SNAPSHOT_IDS, {"snapshotIds": []})
    assert issues[0]["message"] == "Too small: expected array to have >=1 items"
    _, issues = v.validate(
        v.SCHEDULE_CREATE,
        {"name": "", "volumeId": 1, "repositoryId": "r", "enabled": True, "cronExpression": "x", "maxRetries": 99},
    )
    assert [i["code"] for i in issues] == ["too_small", "too_big"]
    parsed, issues = v.validate(v.SCHEDULE_UPDATE, {"repositoryId": "r", "cronExpression": "* * * * *"})
    assert not issues
    assert (parsed["maxRetries"], parsed["retryDelay"]) == (2, 15)
    _, issues = v.validate(
        v.NOTIFICATION_CONFIG, {"type": "pushover", "userKey": "u", "apiToken": "t", "priority": True}
    )
    assert issues[0]["code"] == "invalid_value"


def test_ids_have_zerobyte_formats() -> None:
    sim = Simulator(seed=7)
    vol = sim.add_volume("v")
    repo = sim.add_repository("r")
    snap = sim.add_snapshot(repo["shortId"], time_ms=sim.now_ms())
    assert re.fullmatch(r"[A-Za-z0-9_-]{8}", vol["shortId"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7000-[89ab][0-9a-f]{3}-[0-9a-f]{12}", repo["id"])
    assert re.fullmatch(r"[0-9a-f]{64}", snap["id"])
    assert snap["short_id"] == snap["id"][:8]
    again = Simulator(seed=7)
    assert again.add_volume("v")["shortId"] == vol["shortId"]


def test_file_trees_walk_and_skip_whole_subtrees() -> None:
    tree = build_tree({"a": {"x": 1, "y": 2}, "b": b"bb", "c": Symlink("b")}, mtime_ms=_ms(2026, 1, 1))
    view = SnapshotTree(tree, "/srv/data")
    page, total = ls_walk(view, 0, 100)
    assert [n["path"] for n in page] == [
        "/srv",
        "/srv/data",
        "/srv/data/a",
        "/srv/data/a/x",
        "/srv/data/a/y",
        "/srv/data/b",
        "/srv/data/c",
    ]
    assert total == 7
    assert [n["path"] for n in ls_walk(view, 5, 2)[0]] == ["/srv/data/b", "/srv/data/c"]
    big = SnapshotTree(generated_tree(10_000, mtime_ms=0, per_dir=1000), "/x")
    page, total = ls_walk(big, 9_000, 3)
    assert total == 10_000 + 10 + 2
    assert page[0]["path"].startswith("/x/data/dir_0008/")
