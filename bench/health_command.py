"""``zerobyte-mcp health --json`` against a real Zerobyte: wall time per run (as cron spawns it) and the requests
that reached Zerobyte (counted by a loopback proxy in front of it), for a small organization of N jobs.

    python -m bench.health_command [--jobs 3] [--runs 5] [--version v0.42]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.real import zbserver
from tests.real.conftest import McpConfig, stdio_params
from tests.real.counting_proxy import CountingProxy
from tests.real.story_world import arrange_job, backup_directly


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--version", default="v0.42")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-health-"))
    zb = zbserver.start(args.version, root / "zb")
    try:
        for i in range(args.jobs):
            job = arrange_job(zb, root / f"job{i}", {"a.txt": str(i)})
            backup_directly(zb, job.job_id, job.repository_id)
        proxy = CountingProxy(zb.url).start()
        try:
            proxied = zbserver.RealZerobyte(
                url=proxy.url,
                api_key=zb.api_key,
                admin_user=zb.admin_user,
                admin_password=zb.admin_password,
                state=zb.state,
                version=zb.version,
                home=zb.home,
            )
            env = dict(stdio_params(proxied, root / "mcp", McpConfig()).env or {})
            times, per_run = [], []
            for _ in range(args.runs):
                before = len(proxy.requests)
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "mcp_server", "health", "--json"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                times.append(time.perf_counter() - start)
                per_run.append(proxy.requests[before:])
                assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
        finally:
            proxy.stop()
        paths = Counter(per_run[-1])
        print(f"Zerobyte {zb.version}, {args.jobs} healthy jobs, {args.runs} runs of `zerobyte-mcp health --json`")
        print(f"wall time: median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s")
        print(f"requests to Zerobyte per run: {len(per_run[-1])}: " + ", ".join(f"{p} x{n}" for p, n in paths.items()))
    finally:
        zb.stop()


if __name__ == "__main__":
    main()
