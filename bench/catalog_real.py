"""Issue 13's table redone against a real Zerobyte: find, browse and compare at scale with the snapshot catalog.

Generates a dataset (``--files`` files in ``--folders`` folders, one folder of 3,000 entries, ``config.yml``
in 300 folders, one unique file), backs it up ``--snapshots`` times through our tools with ~1 % of the files
changed, added or removed between backups, then measures through our stdio server behind a counting proxy:

- find a unique name with nothing cached (first answer, what it covers, requests), the time until every
  snapshot is indexed in the background, and the same or another question again;
- find ``config.yml`` in every snapshot; compare the two newest snapshots;
- list the 3,000-entry folder page by page (restic runs = distinct pages Zerobyte computed);
- ``zerobyte-mcp index`` from scratch: time, peak RSS, catalog bytes per distinct file version.

Usage: ``python -m bench.catalog_real [--files 100000 --folders 2000 --snapshots 5] [--write]``.
Needs ``../shared/zerobyte-server`` (the real-server harness of tests/real).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from tests.real import zbserver
from tests.real.conftest import McpConfig, call, mcp_stdio, stdio_params
from tests.real.counting_proxy import CountingProxy
from tests.real.zbserver import RealZerobyte

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
START, END = "<!-- catalog-real:start -->", "<!-- catalog-real:end -->"
NEEDLE = "needle-7f3a.txt"
OTHER = "other-unique-19c2.txt"


@dataclass
class Dataset:
    root: Path
    files: int
    folders: int
    big: Path
    rng: random.Random = field(default_factory=lambda: random.Random(13))
    paths: list[Path] = field(default_factory=list)

    def generate(self) -> None:
        """Files spread over two levels of folders; a big folder; config.yml in 300 folders; two unique names."""
        dirs = [self.root / f"area-{i // 50:02d}" / f"folder-{i:04d}" for i in range(self.folders)]
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
        self.big.mkdir(parents=True, exist_ok=True)
        big = min(3000, self.files // 10)
        for i in range(big):
            self._write(self.big / f"entry-{i:05d}.log", i)
        for d in dirs[: min(300, len(dirs))]:
            self._write(d / "config.yml", 0)
        rest = self.files - big - min(300, len(dirs)) - 2
        for i in range(rest):
            self._write(dirs[i % len(dirs)] / f"file-{i:06d}.txt", i)
        self._write(dirs[len(dirs) // 3] / NEEDLE, 1)
        self._write(dirs[2 * len(dirs) // 3] / OTHER, 2)

    def _write(self, path: Path, seed: int) -> None:
        path.write_text(f"{path.name} {seed} " + "x" * (100 + seed % 400) + "\n")
        self.paths.append(path)

    def mutate(self, generation: int) -> None:
        """Change 1 % of the files, remove 0.5 %, add 0.5 % (never the unique names)."""
        count = max(1, self.files // 100)
        candidates = [p for p in self.paths if p.name not in (NEEDLE, OTHER) and p.exists()]
        for path in self.rng.sample(candidates, count):
            path.write_text(f"changed in generation {generation}: " + "y" * self.rng.randint(10, 500) + "\n")
        for path in self.rng.sample(candidates, count // 2):
            path.unlink(missing_ok=True)
        for i in range(count // 2):
            self._write(self.rng.choice(candidates).parent / f"new-{generation}-{i:05d}.txt", generation)


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    started = time.monotonic()
    result = await fn()
    return result, time.monotonic() - started


def files_requests(proxy: CountingProxy) -> list[str]:
    return [r for r in proxy.requests if "/files" in r]


async def build(zb: RealZerobyte, work: Path, data: Dataset, snapshots: int) -> dict[str, Any]:
    out: dict[str, Any] = {"backups_s": []}
    async with mcp_stdio(zb, work / "mcp-build", McpConfig(access="operate", wait_seconds=1800)) as client:
        volume = await call(client, "create_volume", name="bench-vol", backend="directory", source=str(data.root))
        repo = await call(client, "create_repository", name="bench-repo", backend="local", location=str(work / "repo"))
        job = await call(
            client,
            "create_backup_job",
            name="bench-job",
            volume_id=volume["volume"]["id"],
            repository_id=repo["repository"]["id"],
            schedule="0 3 1 1 *",
        )
        for generation in range(snapshots):
            if generation:
                data.mutate(generation)
            _, seconds = await timed(lambda: call(client, "run_backup", job_id=job["job"]["id"]))
            out["backups_s"].append(round(seconds, 1))
    out["repository"] = repo["repository"]["id"]
    return out


async def measure(zb: RealZerobyte, work: Path, data: Dataset, repository: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    proxy = CountingProxy(zb.url).start()
    through = replace(zb, url=proxy.url)
    folder = work / "mcp-find"
    try:
        async with mcp_stdio(through, folder, McpConfig()) as client:
            started = time.monotonic()
            first, seconds = await timed(lambda: call(client, "find_file", pattern=NEEDLE))
            out["find_cold"] = {
                "seconds": round(seconds, 1),
                "requests": len(proxy.requests),
                "complete": first["complete"],
                "searched": first["snapshots_searched"],
                "in_range": first["snapshots_in_range"],
                "versions": len(first.get("versions") or []),
                "notes": first.get("not_searched"),
            }
            answer = first
            while not answer["complete"] and time.monotonic() - started < 3600:
                await anyio.sleep(5)
                answer = await call(client, "find_file", pattern=NEEDLE)
            out["all_indexed_s"] = round(time.monotonic() - started, 1)
            out["requests_until_indexed"] = len(proxy.requests)
            before = len(proxy.requests)
            _, again = await timed(lambda: call(client, "find_file", pattern=NEEDLE))
            other, other_s = await timed(lambda: call(client, "find_file", pattern=OTHER))
            config, config_s = await timed(lambda: call(client, "find_file", pattern="config.yml", max_results=200))
            compare, compare_s = await timed(
                lambda: call(client, "compare_snapshots", repository_id=repository, snapshot_id="latest")
            )
            out["find_warm_s"] = round(again, 2)
            out["find_other_s"] = round(other_s, 2)
            out["find_other_complete"] = other["complete"]
            out["config"] = {
                "seconds": round(config_s, 2),
                "paths": len({v["path"] for v in config.get("versions") or []}),
                "total_versions": config.get("total_versions"),
                "complete": config["complete"],
            }
            out["compare"] = {
                "seconds": round(compare_s, 2),
                "added": compare.get("added"),
                "removed": compare.get("removed"),
                "modified": compare.get("modified"),
            }
            out["warm_requests"] = len(proxy.requests) - before
        with sqlite3.connect(folder / "xdg-cache" / "zerobyte-mcp" / "catalog.sqlite") as db:
            entries = db.execute("SELECT count(*) FROM entry").fetchone()[0]
        size = sum(p.stat().st_size for p in (folder / "xdg-cache" / "zerobyte-mcp").glob("catalog.sqlite*"))
        out["catalog"] = {"bytes": size, "versions": entries, "bytes_per_version": round(size / max(entries, 1), 1)}

        # Paging the big folder with a fresh catalog (the snapshot is not indexed there): live pages.
        big = str(data.big)
        for limit in (100, 70, 500):
            proxy.requests.clear()
            async with mcp_stdio(through, work / f"mcp-page-{limit}", McpConfig()) as client:
                snap = (await call(client, "list_snapshots", repository_id=repository, limit=1))["snapshots"][0]["id"]
                pages, seconds = await timed(
                    lambda c=client, s=snap, n=limit: page_all(c, repository, s, big, n)  # type: ignore[misc]
                )
            asked = files_requests(proxy)
            out[f"paging_{limit}"] = {
                "seconds": round(seconds, 1),
                "entries": sum(1 for _ in data.big.iterdir()),
                "pages": pages,
                "requests": len(asked),
                "distinct": len(set(asked)),
            }
    finally:
        proxy.stop()
    return out


async def page_all(client: Client, repository: str, snapshot: str, folder: str, limit: int) -> int:
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page = await call(
            client,
            "list_snapshot_files",
            repository_id=repository,
            snapshot_id=snapshot,
            path=folder,
            offset=offset,
            limit=limit,
        )
        pages += 1
        offset = page.get("next_offset")
    return pages


def index_cli(zb: RealZerobyte, work: Path) -> dict[str, Any]:
    folder = work / "mcp-cron"
    params = stdio_params(zb, folder, McpConfig())
    started = time.monotonic()
    err = folder / "index.err"
    with err.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "mcp_server", "index"], env=params.env, cwd=folder, stdout=sink, stderr=sink
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    done = subprocess.CompletedProcess(process.args, process.returncode, "", err.read_text())
    peak_kib = usage.ru_maxrss
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    per = [float(m.group(1)) for line in lines if (m := re.search(r" in ([\d.]+) s$", line))]
    return {
        "exit": done.returncode,
        "seconds": round(seconds, 1),
        "per_snapshot_s": per,
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "lines": lines[-6:],
    }


def table(args: argparse.Namespace, built: dict[str, Any], got: dict[str, Any], cron: dict[str, Any]) -> str:
    cold = got["find_cold"]
    p100, p70, p500 = got["paging_100"], got["paging_70"], got["paging_500"]
    rows = [
        "| question | before (issue 13) | now, catalog (this run) | budget |",
        "|---|---|---|---|",
        f'| find a unique file by name, nothing cached | 94 s, 121 requests, "0 versions", complete:false | '
        f"{cold['seconds']} s, {cold['requests']} requests, {cold['versions']} version(s) in {cold['searched']} of "
        f"{cold['in_range']} snapshots, complete:{str(cold['complete']).lower()} | ≤ 30 s, never a false not-found |",
        f"| all snapshots indexed in the background | — | {got['all_indexed_s']} s "
        f"({got['requests_until_indexed']} requests, polls included) | ≤ 150 s |",
        f"| the same question again / another name | — | {got['find_warm_s']} s / {got['find_other_s']} s, "
        f"{got['warm_requests']} requests for both plus config.yml and compare (lists only) | ≤ 1 s |",
        f"| find `config.yml` ({min(300, args.folders)} copies) | 139 s, 201 requests, 24 of 300, then HTTP 429 | "
        f"{got['config']['seconds']} s, all {got['config']['total_versions']} versions found (the answer shows the "
        f"newest 200, max_results, and says so) | all found |",
        f"| list the {p100['entries']:,}-entry folder, all pages | 45.3 s (3,000 entries), 31 restic runs at the "
        f"default page size | page 100: {p100['seconds']} s, {p100['distinct']} restic runs "
        f"({p100['requests']} requests); "
        f"page 70: {p70['distinct']} runs; page 500: {p500['distinct']} runs | ≤ 7 restic runs |",
        f"| compare the two newest snapshots (in the catalog) | — | {got['compare']['seconds']} s "
        f"(+{got['compare']['added']} −{got['compare']['removed']} ~{got['compare']['modified']}) | ≤ 2 s |",
        f"| catalog size | — | {got['catalog']['bytes']:,} bytes for {got['catalog']['versions']:,} distinct "
        f"versions = {got['catalog']['bytes_per_version']} bytes each | ≤ 60 bytes |",
        f"| `zerobyte-mcp index` from scratch | — | {cron['seconds']} s for {args.snapshots} snapshots "
        f"({', '.join(f'{s:g}' for s in cron['per_snapshot_s'])} s each), peak RSS {cron['peak_rss_mib']} MiB | "
        "RSS ≤ 150 MiB |",
    ]
    head = (
        f"Dataset: {args.files:,} files in {args.folders:,} folders, {args.snapshots} snapshots (~1 % changed, "
        f"0.5 % added, 0.5 % removed between backups; backups took {', '.join(str(b) for b in built['backups_s'])} s). "
        f"Real Zerobyte v0.42.0-beta.1 on loopback, 2 shared cores (other developers' tests running), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
    )
    return head + "\n\n" + "\n".join(rows) + "\n"


def write(section: str) -> None:
    """Replace the table between the markers (the notes under it are kept only when written by hand)."""
    text = RESULTS.read_text()
    block = f"{START}\n## Catalog on a real Zerobyte (issue 13)\n\n{section}\n{END}"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--folders", type=int, default=2_000)
    parser.add_argument("--snapshots", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="add the table to bench/RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if not zbserver.available():
        raise SystemExit(zbserver.ABSENT_REASON)
    work = Path(tempfile.mkdtemp(prefix="bench-catalog-", dir=os.environ.get("BENCH_TMP")))
    data = Dataset(work / "source", args.files, args.folders, work / "source" / "big-folder")
    zb = zbserver.start("v0.42", work / "zerobyte")
    try:
        started = time.monotonic()
        data.generate()
        print(f"generated {len(data.paths):,} files in {time.monotonic() - started:.0f} s", file=sys.stderr)
        built = anyio.run(build, zb, work, data, args.snapshots)
        print(f"backed up: {built['backups_s']}", file=sys.stderr)
        got = anyio.run(measure, zb, work, data, built["repository"])
        cron = index_cli(zb, work)
        print(json.dumps({"built": built, "measured": got, "index": cron}, indent=1), file=sys.stderr)
        section = table(args, built, got, cron)
        print(section)
        if args.write:
            write(section)
    finally:
        zb.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
