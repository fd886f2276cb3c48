"""The same questions asked of a real Zerobyte and of the simulator with its cost model: time and requests.

Builds one world on each (a real Zerobyte v0.42 started with ``tests/real/zbserver.py``, a
``SimulatorServer`` with ``CostModel()``, and one without, as the unit tests run it): a folder of 3,000
files plus 130 others in 2 levels, backed up 3 times by one job (files changed and deleted between), and
24 more jobs on the same volume and repository (25 in all). Then each question is asked twice on each side,
with Zerobyte's cache cleared before each (``POST /snapshots/refresh``, not counted): once through our MCP
server (spawned over stdio, read-only, one session for all questions, as a client would) and once as the
minimal direct ``/api/v1`` sequence that gives the same answer. The number of requests is Zerobyte's own
count: the drop of its ``RateLimit-Remaining`` header across the question (both servers send it; a probe
request before and after is subtracted), background work of our server included.

``calibrate`` measures the restic-backed routes one by one (medians) on each side, which is what
``mcp_server/simulator/costs.py``'s figures come from.

Usage: python -m bench.real_zerobyte [--only real|simulator|bare] [--calibrate-only] [--json FILE]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client, StdioServerParameters

from bench._common import ROOT, compile_package, median, server_command, server_env, table
from mcp_server.simulator import CostModel, Simulator, SimulatorServer
from tests.real import zbserver

KEY = "zb_bench_key_0123456789"
BIG = 3000  # entries of the one big folder
SMALL_DIRS, SMALL_FILES = 13, 10  # 13 folders of 10 files beside it
JOBS = 25
CRON = "0 3 1 1 *"


def version_files(version: int) -> dict[str, str]:
    """The volume's files at backup ``version`` (1..3): a few change, one is deleted after the first."""
    files = {f"big/file-{i:04d}.dat": f"{i}\n" * (1 + i % 7) for i in range(BIG)}
    for d in range(SMALL_DIRS):
        for f in range(SMALL_FILES):
            files[f"docs/part-{d:02d}/note-{f:02d}.md"] = f"# note {d}.{f} v{version if f == 0 else 1}\n"
    files["docs/readme.md"] = f"read me, version {version}\n" * 40
    if version == 1:
        files["docs/old-plan.txt"] = "the plan we dropped\n"
    return files


@dataclass
class World:
    http: httpx.Client
    root: Path
    write: Callable[[dict[str, str]], None]
    repository: str = ""
    job: str = ""
    snapshots: list[str] = field(default_factory=list)

    @property
    def src(self) -> Path:
        return self.root / "src"

    def wait(self, task_id: str) -> None:
        deadline = time.monotonic() + 600
        while self.http.get(f"/tasks/{task_id}").json()["status"] in ("queued", "running", "cancelling"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"task {task_id} did not end")
            time.sleep(0.2)

    def idle(self) -> None:
        time.sleep(0.3)
        while self.http.get("/tasks").json():
            time.sleep(0.3)

    def build(self) -> None:
        self.src.mkdir(parents=True, exist_ok=True)
        volume = self.http.post(
            "/volumes", json={"name": "data", "config": {"backend": "directory", "path": str(self.src)}}
        )
        volume.raise_for_status()
        vid = volume.json()["shortId"]
        repo = self.http.post(
            "/repositories", json={"name": "nas", "config": {"backend": "local", "path": str(self.root / "repo")}}
        )
        repo.raise_for_status()
        self.repository = repo.json()["repository"]["shortId"]
        for n in range(JOBS):
            body = {
                "name": f"job-{n:02d}",
                "volumeId": vid,
                "repositoryId": self.repository,
                "enabled": True,
                "cronExpression": CRON,
                "retentionPolicy": {"keepLast": 10},
            }
            created = self.http.post("/backups", json=body)
            created.raise_for_status()
            if n == 0:
                self.job = created.json()["shortId"]
        for version in (1, 2, 3):
            self.write(version_files(version))
            self.wait(self.http.post(f"/backups/{self.job}/run").json()["taskId"])
            self.idle()
        listed = self.http.get(f"/repositories/{self.repository}/snapshots", params={"backupId": self.job}).json()
        self.snapshots = [s["short_id"] for s in listed]

    # -- measuring --------------------------------------------------------------------------------------------
    def remaining(self) -> tuple[int, int]:
        headers = self.http.get("/system/info").headers
        return int(headers["ratelimit-remaining"]), int(headers["ratelimit-reset"])

    def cold(self) -> None:
        """Clear Zerobyte's cache of this repository (and re-warm its full snapshot list, as refresh does)."""
        self.http.post(f"/repositories/{self.repository}/snapshots/refresh").raise_for_status()

    def walk_pages(self, snapshot: str, path: str | None = None) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        offset = 0
        while True:
            params: dict[str, Any] = {"offset": offset, "limit": 500}
            if path:
                params["path"] = path
            page = self.http.get(f"/repositories/{self.repository}/snapshots/{snapshot}/files", params=params).json()
            entries += page["files"]
            offset += len(page["files"])
            if not page["hasMore"] or not page["files"]:
                return entries


@dataclass
class Question:
    label: str
    tool: str
    arguments: Callable[[World], dict[str, Any]]
    direct: Callable[[World], object]
    follow: str | None = None  # a tool answer's key that asks for another call (paging)


def _direct_walk(world: World) -> object:
    snaps = world.http.get(f"/repositories/{world.repository}/snapshots", params={"backupId": world.job}).json()
    return [len(world.walk_pages(s["short_id"])) for s in snaps]


def _direct_path(world: World) -> object:
    snaps = world.http.get(f"/repositories/{world.repository}/snapshots", params={"backupId": world.job}).json()
    path = str(world.src / "docs" / "readme.md")
    return [
        world.http.get(
            f"/repositories/{world.repository}/snapshots/{s['short_id']}/files", params={"path": path}
        ).json()["total"]
        for s in snaps
    ]


QUESTIONS = [
    Question(
        "find a file by name (in all 3 snapshots)",
        "find_file",
        lambda w: {"pattern": "old-plan.txt", "repository_id": w.repository},
        _direct_walk,
    ),
    Question(
        "find files by glob (**/note-00.md)",
        "find_file",
        lambda w: {"pattern": "**/note-00.md", "repository_id": w.repository},
        _direct_walk,
    ),
    Question(
        "find a file by absolute path",
        "find_file",
        lambda w: {"pattern": str(w.src / "docs" / "readme.md"), "repository_id": w.repository},
        _direct_path,
    ),
    Question(
        f"list a {BIG:,}-entry folder (every page)",
        "list_snapshot_files",
        lambda w: {
            "repository_id": w.repository,
            "snapshot_id": w.snapshots[-1],
            "path": str(w.src / "big"),
            "limit": 500,
        },
        lambda w: len(w.walk_pages(w.snapshots[-1], str(w.src / "big"))),
        follow="next_offset",
    ),
    Question(
        "read a file",
        "read_snapshot_file",
        lambda w: {
            "repository_id": w.repository,
            "snapshot_id": w.snapshots[-1],
            "path": str(w.src / "docs/readme.md"),
        },
        lambda w: len(
            w.http.get(
                f"/repositories/{w.repository}/snapshots/{w.snapshots[-1]}/dump",
                params={"path": str(w.src / "docs/readme.md"), "kind": "file"},
            ).content
        ),
    ),
    Question(
        f"backup_health at {JOBS} jobs", "backup_health", lambda w: {}, lambda w: len(w.http.get("/backups").json())
    ),
    Question(
        f"get_repository at {JOBS} jobs",
        "get_repository",
        lambda w: {"repository_id": w.repository},
        lambda w: (w.http.get(f"/repositories/{w.repository}").json()["name"], len(w.http.get("/backups").json())),
    ),
]


def _params(url: str, key: str) -> StdioServerParameters:
    command = server_command()
    env = server_env(url)
    env["ZEROBYTE_API_KEY"] = key
    return StdioServerParameters(
        command=command[0], args=[*command[1:], "--access", "read-only"], env=env, cwd=str(ROOT)
    )


def _count(world: World, before: tuple[int, int], after: tuple[int, int]) -> int | None:
    """Requests Zerobyte counted between two probes (None if its window was reset meanwhile)."""
    if after[0] > before[0] or after[1] > before[1] + 1:
        return None
    return before[0] - after[0] - 1


async def _ask_ours(world: World, params: StdioServerParameters) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async with Client(params, mode="legacy") as client:
        await client.list_tools()
        for q in QUESTIONS:
            world.cold()
            args = q.arguments(world)
            before = world.remaining()
            started = time.perf_counter()
            calls, note = 0, ""
            while True:
                result = await client.call_tool(q.tool, args)
                calls += 1
                data = result.structured_content or {}
                if result.is_error:
                    note = f"error: {str(result.content)[:120]}"
                    break
                nxt = data.get(q.follow) if q.follow else None
                if nxt is None:
                    break
                args = {**args, "offset": nxt}
            seconds = time.perf_counter() - started
            after = world.remaining()
            if q.tool == "find_file" and not note:
                note = f"{data.get('total_versions')} version(s), complete={data.get('complete')}"
            rows.append(
                {
                    "question": q.label,
                    "seconds": seconds,
                    "requests": _count(world, before, after),
                    "calls": calls,
                    "note": note,
                }
            )
    return rows


def _ask_direct(world: World) -> list[dict[str, Any]]:
    rows = []
    for q in QUESTIONS:
        world.cold()
        before = world.remaining()
        started = time.perf_counter()
        q.direct(world)
        seconds = time.perf_counter() - started
        rows.append({"question": q.label, "seconds": seconds, "requests": _count(world, before, world.remaining())})
    return rows


def calibrate(world: World, repeat: int = 5) -> dict[str, float]:
    """Medians (ms) of the routes the cost model prices."""
    h, repo, snap = world.http, world.repository, world.snapshots[-1]
    files = f"/repositories/{repo}/snapshots/{snap}/files"
    big: dict[str, str | int] = {"path": str(world.src / "big"), "limit": 500}

    def timed(fn: Callable[[], object], prepare: Callable[[], object] | None = None) -> float:
        times = []
        for _ in range(repeat):
            if prepare:
                prepare()
            t0 = time.perf_counter()
            fn()
            times.append(1000 * (time.perf_counter() - t0))
        return round(median(times), 1)

    out = {
        "small route (GET /volumes)": timed(lambda: h.get("/volumes")),
        "files page, uncached": timed(lambda: h.get(files, params=big), world.cold),
        "files page, cached": timed(lambda: h.get(files, params=big)),
        "snapshot list refresh (restic snapshots)": timed(lambda: h.post(f"/repositories/{repo}/snapshots/refresh")),
        "snapshot list of a job, uncached (with forget --dry-run)": timed(
            lambda: h.get(f"/repositories/{repo}/snapshots", params={"backupId": world.job}), world.cold
        ),
        "snapshot list, cached": timed(lambda: h.get(f"/repositories/{repo}/snapshots")),
        "dump a file": timed(
            lambda: h.get(
                f"/repositories/{repo}/snapshots/{snap}/dump",
                params={"path": str(world.src / "docs/readme.md"), "kind": "file"},
            )
        ),
    }

    def six_at_once() -> None:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda off: h.get(files, params={**big, "offset": off}), range(1, 7)))

    out["6 uncached pages at once (wall)"] = timed(six_at_once, world.cold)
    return out


# -- the two sides --------------------------------------------------------------------------------------------


@contextmanager
def real_side(root: Path) -> Iterator[tuple[World, str, str]]:
    server = zbserver.start("v0.42", root / "state")
    try:

        def write(files: dict[str, str]) -> None:
            shutil.rmtree(root / "src", ignore_errors=True)
            for rel, text in files.items():
                path = root / "src" / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)

        yield World(server.http, root, write), server.url, server.api_key
    finally:
        server.stop()


def _nested(files: dict[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for rel, text in files.items():
        *dirs, leaf = rel.split("/")
        node = tree
        for d in dirs:
            node = node.setdefault(d, {})
        node[leaf] = text
    return tree


@contextmanager
def simulator_side(root: Path, costs: bool = True) -> Iterator[tuple[World, str, str]]:
    sim = Simulator(api_keys=[KEY], task_seconds=1.5, progress_interval=1.0, costs=CostModel() if costs else None)
    if not costs:
        sim.rate_limit = 100_000  # no limit to speak of, but the RateLimit-* headers that count requests
    try:
        with (
            SimulatorServer(sim) as server,
            httpx.Client(base_url=f"{server.url}/api/v1", headers={"x-api-key": KEY}, timeout=300) as client,
        ):

            def write(files: dict[str, str]) -> None:
                sim.set_volume_files("data", _nested(files))

            yield World(client, root, write), server.url, KEY
    finally:
        sim.close()


SIDES = ("real", "simulator", "bare")


def _open(name: str, root: Path) -> Any:
    if name == "real":
        return real_side(root)
    return simulator_side(root, costs=name == "simulator")


def measure(sides: tuple[str, ...] = SIDES, calibrate_only: bool = False) -> dict[str, Any]:
    compile_package()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="zb-bench-") as tmp:
        for name in sides:
            root = Path(tmp) / name
            root.mkdir()
            started = time.monotonic()
            with _open(name, root) as (world, url, key):
                world.build()
                side: dict[str, Any] = {"build_seconds": round(time.monotonic() - started, 1)}
                side["calibration_ms"] = calibrate(world)
                if not calibrate_only:
                    side["ours"] = anyio.run(_ask_ours, world, _params(url, key))
                    side["direct"] = _ask_direct(world)
            figures[name] = side
            print(f"{name}: done in {time.monotonic() - started:.0f} s", flush=True)
    return figures


TITLES = {
    "real": "real Zerobyte v0.42 (restic 0.18)",
    "simulator": "simulator with CostModel()",
    "bare": "simulator without a cost model (unit-test settings)",
}


def _cell(row: dict[str, Any]) -> str:
    requests = row["requests"] if row["requests"] is not None else "?"
    return f"{row['seconds']:.2f} s ({requests})"


def render(figures: dict[str, Any]) -> str:
    """Side by side: calibration medians, then each question's time (and Zerobyte requests) per side."""
    names = list(figures)
    routes = list(figures[names[0]]["calibration_ms"])
    calibration = table(
        ["route (median ms)", *[TITLES[n] for n in names]],
        [[r, *[figures[n]["calibration_ms"][r] for n in names]] for r in routes],
    )
    parts = [calibration]
    if all("ours" in figures[n] for n in names):
        headers = ["question"]
        for n in names:
            headers += [f"{TITLES[n]}: ours", "direct"]
        rows = []
        for i, q in enumerate(QUESTIONS):
            row: list[object] = [q.label]
            for n in names:
                row += [_cell(figures[n]["ours"][i]), _cell(figures[n]["direct"][i])]
            rows.append(row)
        parts += ["", table(headers, rows), ""]
        notes = [
            f"- {TITLES[n]}, {figures[n]['ours'][i]['question']}: {figures[n]['ours'][i]['calls']} tool call(s)"
            + (f"; {figures[n]['ours'][i]['note']}" if figures[n]["ours"][i]["note"] else "")
            for n in names
            for i in range(len(QUESTIONS))
            if figures[n]["ours"][i]["calls"] > 1 or figures[n]["ours"][i]["note"]
        ]
        parts.append("\n".join(notes))
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=SIDES)
    parser.add_argument("--calibrate-only", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    if not zbserver.available() and args.only in (None, "real"):
        raise SystemExit(zbserver.ABSENT_REASON)
    sides = (args.only,) if args.only else SIDES
    figures = measure(sides, args.calibrate_only)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    print(render(figures))


if __name__ == "__main__":
    main()
