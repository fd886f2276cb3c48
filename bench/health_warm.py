"""backup_health asked again and again in one session, against a real Zerobyte: the requests each report costs
(counted by a loopback proxy in front of the server) and its latency, cold and warm, for N jobs.

The first report reads every list (and the session's first call probes capabilities); later ones re-read the
backup jobs and the newest task-history page (v0.41: the active tasks). Halfway, one job's run fails (sent
straight to Zerobyte): the next report must say so with the same two requests.

    python -m bench.health_warm [--jobs 5] [--calls 6] [--version v0.42]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import anyio

from bench._common import table
from tests.real import zbserver
from tests.real.conftest import call, mcp_stdio
from tests.real.counting_proxy import CountingProxy
from tests.real.story_world import arrange_job, backup_directly


async def measure(
    zb: zbserver.RealZerobyte, root: Path, calls: int, fail_job: str, fail_repo: str
) -> list[tuple[object, ...]]:
    proxy = CountingProxy(zb.url).start()
    rows: list[tuple[object, ...]] = []
    try:
        async with mcp_stdio(replace(zb, url=proxy.url), root / "mcp") as client:
            for i in range(calls):
                if i == calls // 2:  # a failure in between, straight on Zerobyte
                    repo = zb.get(f"/repositories/{fail_repo}")
                    shutil.rmtree((repo.get("repository") or repo)["config"]["path"])
                    zb.post(f"/backups/{fail_job}/run")
                    await anyio.to_thread.run_sync(_wait_failed, zb, fail_job)
                before = len(proxy.requests)
                start = time.perf_counter()
                report = await call(client, "backup_health")
                took = time.perf_counter() - start
                asked = proxy.requests[before:]
                rows.append(
                    (
                        i + 1,
                        "cold" if i == 0 else "warm",
                        len(asked),
                        f"{1000 * took:.0f}",
                        report["verdict"],
                        ", ".join(sorted(r.split(" ", 1)[1].removeprefix("/api/v1") for r in asked)),
                    )
                )
    finally:
        proxy.stop()
    return rows


def _wait_failed(zb: zbserver.RealZerobyte, job_id: str) -> None:
    deadline = time.monotonic() + 60
    while zb.job(job_id)["lastBackupStatus"] != "error" and time.monotonic() < deadline:
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--version", default="v0.42")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-health-warm-"))
    zb = zbserver.start(args.version, root / "zb")
    try:
        jobs = [arrange_job(zb, root / f"job{i}", {"a.txt": str(i)}) for i in range(args.jobs)]
        for job in jobs:
            backup_directly(zb, job.job_id, job.repository_id)
        rows = anyio.run(measure, zb, root, args.calls, jobs[0].job_id, jobs[0].repository_id)
    finally:
        zb.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"Zerobyte {args.version}, {args.jobs} jobs, one stdio session:\n")
    print(table(("call", "cache", "requests", "ms", "verdict", "what was asked"), rows))
    warm = [int(str(r[3])) for r in rows[1:]]
    print(f"\nwarm median {statistics.median(warm):.0f} ms")


if __name__ == "__main__":
    main()
