"""Restore drills on a real Zerobyte: drill throughput (MiB/s) and requests per file, beside `restic dump` of the
same files, and the server's memory while it hashes a 1 GiB file.

A restic repository is made here with the restic Zerobyte runs (so its password is known and `restic dump` can
read it too), filled with one big file, 20 mid-sized and 200 small ones, and imported into a real Zerobyte.
Our server runs in this process (the SDK's in-memory client) so its resident memory can be sampled while it
streams; its requests are counted at a loopback proxy in front of Zerobyte.

    python -m bench.drill [--big-mib 1024] [--version v0.42]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from bench._common import machine, table
from mcp_server.config import Secret, Settings
from mcp_server.server import create_server
from tests.real import zbserver
from tests.real.counting_proxy import CountingProxy
from tests.real.test_story_drill import restic_binary

MiB = 2**20
PASSWORD = "bench-drill-password"


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler:
    """The highest resident set size seen every 50 ms while running."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.05)

    def __enter__(self) -> Sampler:
        self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def make_source(root: Path, big_mib: int) -> Path:
    source = root / "source"
    (source / "mid").mkdir(parents=True)
    (source / "small").mkdir()
    with (source / "big.bin").open("wb") as f:
        for _ in range(big_mib):
            f.write(os.urandom(MiB))
    for i in range(20):
        (source / "mid" / f"m{i:02}.bin").write_bytes(os.urandom(4 * MiB))
    for i in range(200):
        (source / "small" / f"s{i:03}.txt").write_bytes(os.urandom(4096))
    return source


def restic(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([restic_binary(), *args], env=env, check=True, capture_output=True, **kwargs)


def restic_dump_seconds(env: dict[str, str], paths: list[str]) -> tuple[float, int]:
    """Wall time and bytes of `restic dump latest <path>` for each path, hashed as it streams (as a drill does)."""
    started = time.perf_counter()
    total = 0
    for path in paths:
        with subprocess.Popen([restic_binary(), "dump", "-q", "latest", path], env=env, stdout=subprocess.PIPE) as p:
            assert p.stdout is not None
            digest = hashlib.sha256()
            while chunk := p.stdout.read(65536):
                digest.update(chunk)
                total += len(chunk)
    return time.perf_counter() - started, total


async def drill(url: str, key: str, root: Path, **arguments: Any) -> tuple[dict[str, Any], float, int]:
    settings = Settings(url=url, api_key=Secret(key), catalog_path=root / "catalog.sqlite", log_level="WARNING")
    async with Client(create_server(settings)) as client:
        await client.call_tool("list_repositories", {})  # capability probe and imports out of the figure
        with Sampler() as sampler:
            base = rss_bytes()
            started = time.perf_counter()
            result = await client.call_tool("drill_backup", arguments)
            took = time.perf_counter() - started
        assert not result.is_error, result.content
        return dict(result.structured_content or {}), took, sampler.peak - base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--version", default="v0.42")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-drill-"))
    zb = zbserver.start(args.version, root / "zb")
    try:
        source = make_source(root, args.big_mib)
        env = {**os.environ, "RESTIC_PASSWORD": PASSWORD, "RESTIC_REPOSITORY": str(root / "repo")}
        restic(env, "init", "-q")
        restic(env, "backup", "-q", str(source))
        created = zb.post(
            "/repositories",
            {
                "name": "bench-drill",
                "config": {
                    "backend": "local",
                    "path": str(root / "repo"),
                    "isExistingRepository": True,
                    "customPassword": PASSWORD,
                },
            },
        )
        rid = created["repository"]["shortId"]
        proxy = CountingProxy(zb.url).start()
        rows: list[tuple[object, ...]] = []
        try:
            runs: list[tuple[str, dict[str, Any]]] = [
                ("default budget (256 MiB, 120 s)", {"repository_id": rid, "seed": 1}),
                (
                    f"with big.bin named ({args.big_mib} MiB), 2 GiB budget",
                    {
                        "repository_id": rid,
                        "seed": 1,
                        "paths": [f"{source}/big.bin"],
                        "max_bytes": 2 * 2**30,
                        "max_seconds": 900,
                    },
                ),
            ]
            for label, arguments in runs:
                # A fresh catalog each time: the figure includes indexing the snapshot.
                folder = root / f"mcp-{len(rows)}"
                before = len(proxy.requests)
                answer, took, grew = anyio.run(functools.partial(drill, proxy.url, zb.api_key, folder, **arguments))
                asked = proxy.requests[before:]
                files = [f for s in answer["snapshots"] for f in s["files"] if f["result"] == "ok"]
                file_dumps = sum("/dump?" in r and "kind=file" in r for r in asked)
                restic_s, restic_bytes = restic_dump_seconds(env, [f["path"] for f in files if not f.get("snapshot")])
                rows.append(
                    (
                        label,
                        answer["verdict"],
                        len(files),
                        f"{answer['verified_bytes'] / MiB:.0f}",
                        f"{took:.1f}",
                        f"{answer['bytes_per_second'] / MiB:.0f}",
                        f"{restic_bytes / MiB / restic_s:.0f}",
                        f"{file_dumps / max(len(files), 1):.2f}",
                        len(asked),
                        f"{grew / MiB:.1f}",
                    )
                )
        finally:
            proxy.stop()
    finally:
        zb.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"Zerobyte {args.version} on loopback; {machine()['cpu']}, {machine()['cores']} cores\n")
    print(
        table(
            (
                "drill",
                "verdict",
                "files read",
                "MiB checked",
                "wall s",
                "drill MiB/s",
                "restic dump MiB/s",
                "dumps per file",
                "requests",
                "RSS growth MiB",
            ),
            rows,
        )
    )


if __name__ == "__main__":
    main()
