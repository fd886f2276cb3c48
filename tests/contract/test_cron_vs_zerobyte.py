"""Our cron (``mcp_server.cron``) against the cron parser Zerobyte itself runs.

Zerobyte validates a schedule and times its runs with cron-parser (``isValidCron``, ``calculateNextRun``
and its scheduler); the production builds in ``../shared/zerobyte-server`` ship it as one bundle, which
Node runs here unchanged. Generated expressions (valid and invalid, every syntax we accept, and some we
refuse) must be accepted or refused alike, and valid ones must give the same next runs (UTC, Zerobyte's
default time zone). Where we refuse what cron-parser accepts, the difference is listed and explained in
``REFUSED_ON_PURPOSE``; nothing else may differ.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mcp_server.cron import CronError, parse_cron, version_difference
from tests.helpers import shared_dir

RUNS = 3
EXAMPLES = 2500

NODE_SCRIPT = """
import { readFileSync } from "node:fs";
const bundle = await import(process.argv[2]);
const { CronExpressionParser } = bundle.t();
const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map(([expression, start, count]) => {
  try {
    const it = CronExpressionParser.parse(expression, { currentDate: new Date(start), tz: "UTC" });
    const runs = [];
    for (let i = 0; i < count; i++) runs.push(it.next().toDate().toISOString());
    return runs;
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
});
process.stdout.write(JSON.stringify(out));
"""

# Syntax cron-parser accepts that we refuse, on purpose: a schedule we cannot evaluate would make
# backup_health guess, so the agent is told to write it another way instead.
REFUSED_ON_PURPOSE = {
    "H": "cron-parser's H (a random value per expression) has no fixed next run to report",
}


def _bundles() -> list[Path]:
    root = shared_dir().parent / "zerobyte-server"
    found = sorted(root.glob("v*/app/server/_libs/cron-parser*.mjs"))
    if not found:
        pytest.skip(f"no Zerobyte build with a cron-parser bundle under {root}")
    if shutil.which("node") is None:
        pytest.skip("node is not installed: cannot run Zerobyte's cron-parser")
    return found


MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MACROS = (
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@hourly",
    "@minutely",
    "@weekdays",
    "@weekends",
    "@midnight",
    "@reboot",
    "@DAILY",
)


def _numeric(rng: random.Random, lo: int, hi: int, *, slack: int = 0) -> str:
    """A field of numbers; ``slack`` lets values fall outside the range (to be refused)."""

    def value() -> int:
        return rng.randint(lo - slack, hi + slack)

    kind = rng.randrange(8)
    if kind == 0:
        return "*"
    if kind == 1:
        return str(value())
    if kind == 2:
        a, b = sorted((value(), value()))
        return f"{a}-{b}"
    if kind == 3:
        a, b = sorted((value(), value()))
        return f"{a}-{b}/{rng.randint(1, max(1, (hi - lo) // 2))}"
    if kind == 4:
        return f"*/{rng.randint(1, hi - lo + 1)}"
    if kind == 5:
        return f"{value()}/{rng.randint(1, max(1, (hi - lo) // 3))}"
    return ",".join(str(v) for v in rng.sample(range(lo, hi + 1), rng.randint(2, min(4, hi - lo + 1))))


def _dom(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind == 0:
        return "L"
    if kind == 1:
        return "?"
    if kind == 2:
        return f"{rng.randint(1, 28)},L"
    return _numeric(rng, 1, 31, slack=1 if kind == 3 else 0)


def _month(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(MONTHS).upper()
    if kind == 1:
        return f"{rng.choice(MONTHS[:6])}-{rng.choice(MONTHS[6:])}"
    return _numeric(rng, 1, 12, slack=1 if kind == 2 else 0)


def _dow(rng: random.Random) -> str:
    kind = rng.randrange(12)
    if kind == 0:
        return f"{rng.randint(0, 7)}#{rng.randint(1, 5)}"
    if kind == 1:
        return f"{rng.randint(0, 6)}L"
    if kind == 2:
        return rng.choice(DAYS) + rng.choice(("", "-fri", "-sat"))
    if kind == 3:
        return "?"
    if kind == 4:
        return f"{rng.choice(DAYS).upper()}#{rng.randint(1, 5)}"
    return _numeric(rng, 0, 7)


def _expression(rng: random.Random) -> str:
    kind = rng.randrange(40)
    if kind == 0:
        return rng.choice(MACROS)
    if kind == 1:
        return rng.choice(("H 3 * * *", "0 0 LW * *", "0 0 15W * *", "*/0 * * * *", "0 0 1,,2 * *", "0 0 * *"))
    fields = [
        _numeric(rng, 0, 59),
        _numeric(rng, 0, 23, slack=1 if kind == 2 else 0),
        _dom(rng),
        _month(rng),
        _dow(rng),
    ]
    if kind == 3:
        fields.insert(0, _numeric(rng, 0, 59))
    return " ".join(fields)


def _ours(expression: str, start: datetime) -> list[str] | None:
    try:
        schedule = parse_cron(expression)
    except CronError:
        return None
    runs, at = [], start
    for _ in range(RUNS):
        try:
            at = schedule.next_after(at)
        except CronError:  # no run within our 8-year search window
            break
        runs.append(at.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    return runs


def _theirs(bundle: Path, cases: list[tuple[str, str, int]], tmp_path: Path) -> list[object]:
    script = tmp_path / "cron_parser.mjs"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        ["node", str(script), bundle.as_uri()],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers: list[object] = json.loads(done.stdout)
    return answers


def _differences(cases: list[tuple[str, str, int]], theirs: list[object]) -> list[tuple[str, str]]:
    """(expression, how ours and cron-parser differ) for each case where they do."""
    found = []
    for (expression, start, _), answer in zip(cases, theirs, strict=True):
        ours = _ours(expression, datetime.fromisoformat(start))
        if isinstance(answer, dict):
            if ours is not None:
                found.append((expression, f"ours runs {ours[:1]}, cron-parser refuses ({answer['error']})"))
        elif ours is None:
            if not any(mark in expression for mark in REFUSED_ON_PURPOSE):
                found.append((expression, f"ours refuses, cron-parser runs {answer}"))
        elif ours != answer:
            found.append((expression, f"from {start}: ours {ours}, cron-parser {answer}"))
    return found


def _cases() -> list[tuple[str, str, int]]:
    rng = random.Random(20261202)
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    cases = []
    for _ in range(EXAMPLES):
        start = epoch + timedelta(seconds=rng.randrange(5 * 366 * 86400))
        cases.append((_expression(rng), start.isoformat().replace("+00:00", "Z"), RUNS))
    return cases


def test_our_cron_accepts_refuses_and_times_runs_like_zerobytes_cron_parser(tmp_path: Path) -> None:
    """v0.42 (whose cron-parser we follow): no difference. v0.41.0: only those version_difference names, which
    the job tools refuse (so a schedule we accept runs on the same days on either release)."""
    cases = _cases()
    valid = 0
    for bundle in _bundles():
        version = bundle.parts[-5]
        theirs = _theirs(bundle, cases, tmp_path)
        valid = sum(not isinstance(answer, dict) for answer in theirs)
        differences = _differences(cases, theirs)
        if version.startswith("v0.41"):
            explained = [e for e, _ in differences if _version_difference(e) is not None]
            assert explained, "v0.41 was expected to differ where version_difference says it does"
            differences = [(e, why) for e, why in differences if _version_difference(e) is None]
        assert differences == [], f"{version}: {len(differences)} differ, e.g. {differences[:8]}"
    # The comparison means something only if most generated schedules are valid.
    assert valid > EXAMPLES // 2, valid


def _version_difference(expression: str) -> str | None:
    try:
        return version_difference(expression)
    except CronError:
        return None
