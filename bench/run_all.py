"""Run every benchmark, print the tables and PASS/FAIL against the budgets (exit code 0 regardless).

These are measurements, not tests: timings move with the machine and its load, so nothing here fails a
build. Budgets: cold start adds <= 10% to a bare MCPServer's; <= 2 ms median added per read call over
stdio; tools/list at read-only <= 3,500 tokens. ``--write`` replaces the generated part of
bench/RESULTS.md (between its markers), keeping the hand-written notes around it.

Usage: python -m bench.run_all [--quick] [--write] [--baseline-tree DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

import anyio

from bench import cold_start, per_call, scale, startup_phases, token_cost
from bench._common import ROOT, machine, table

RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run(quick: bool, baseline_tree: Path | None) -> dict[str, Any]:
    runs, calls, repeat = (10, 150, 2) if quick else (20, 300, 3)
    figures: dict[str, Any] = {"machine": machine(), "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
    started = time.monotonic()
    print("cold start ...", flush=True)
    figures["cold_start"] = [cold_start.measure(runs, mode, baseline_tree) for mode in ("legacy", "auto")]
    print("start-up phases ...", flush=True)
    figures["phases"] = startup_phases.measure(9 if quick else 15)
    print("per-call overhead ...", flush=True)
    figures["per_call"] = per_call.measure(calls)
    print("token cost ...", flush=True)
    figures["catalogue"] = anyio.run(token_cost.catalogue)
    figures["answers"] = token_cost.answers()
    print("scale and memory ...", flush=True)
    figures["scale"] = scale.measure(repeat)
    figures["seconds"] = round(time.monotonic() - started)
    return figures


def budgets(figures: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for r in figures["cold_start"]:
        ok = r["added_pct"] <= cold_start.BUDGET_PCT
        rows.append(
            (
                f"cold start ({r['mode']} client): added to a bare MCPServer",
                f"<= {cold_start.BUDGET_PCT:g}%",
                f"{r['added_pct']:+.1f}% ({r['added_ms']:+d} ms on {r['bare_median_ms']} ms)",
                verdict(ok),
            )
        )
    for r in figures["per_call"]:
        ok = r["added_median_ms"] <= per_call.BUDGET_MS
        rows.append(
            (
                f"per read call over stdio ({r['mode']} client): added vs direct httpx",
                f"<= {per_call.BUDGET_MS:g} ms median",
                f"{r['added_median_ms']:.2f} ms (SDK floor {r['sdk_floor_median_ms']:.2f} ms)",
                verdict(ok),
            )
        )
    read_only = next(r for r in figures["catalogue"] if r["level"] == "read-only")
    rows.append(
        (
            "tools/list at read-only",
            f"<= {token_cost.BUDGET_TOKENS:,} tokens",
            f"{read_only['tokens']:,} tokens ({read_only['chars']:,} chars)",
            verdict(read_only["tokens"] <= token_cost.BUDGET_TOKENS),
        )
    )
    return rows


def render(figures: dict[str, Any]) -> str:
    m = figures["machine"]
    parts = [
        f"Measured {figures['started']} in {figures['seconds']} s on: {m['cpu']}, {m['cores']} cores, {m['os']}; "
        f"Python {m['python']}, mcp {m['mcp']}, pydantic {m['pydantic']}, httpx {m['httpx']}, "
        f"zerobyte-mcp {m['zerobyte-mcp']}.",
        "### Budgets",
        table(("budget", "limit", "measured", "verdict"), budgets(figures)),
        "### Cold start (spawn over stdio -> initialize -> tools/list complete; medians)",
        cold_start.render(figures["cold_start"]),
        "### Where the cold start goes (medians over fresh interpreters)",
        startup_phases.render(figures["phases"]),
        "### Per-call overhead (read tool over stdio vs the same request with httpx)",
        per_call.render(figures["per_call"]),
        "### Token cost: tools/list",
        token_cost.render_catalogue(figures["catalogue"]),
        "### Token cost: answers at scale (5,000 snapshots of 100,000 files, 500 history entries)",
        token_cost.render_answers(figures["answers"]),
        "### Scale: latency (median) and server memory (VmHWM) as Zerobyte grows",
        scale.render(figures["scale"]),
    ]
    return "\n\n".join(parts)


def write(body: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    RESULTS.write_text(pattern.sub(lambda _: f"{BEGIN}\n{body}\n{END}", text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (noisier)")
    parser.add_argument("--write", action="store_true", help=f"update {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--baseline-tree", type=Path, help="also time an older source tree's cold start")
    args = parser.parse_args()
    figures = run(args.quick, args.baseline_tree)
    body = render(figures)
    print()
    print(body)
    if args.write:
        write(body)
        print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
