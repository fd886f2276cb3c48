"""The smallest real story: a volume, a repository and a job made through our tools, one backup, checked on Zerobyte."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, make_files, mcp_stdio, unique
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


async def test_a_job_made_through_the_tools_backs_up_on_the_real_server(zb_any: RealZerobyte, data_root: Path) -> None:
    source = make_files(data_root / "src", {"a.txt": "hello", "sub/b.txt": "world", "junk.tmp": "x"})
    async with mcp_stdio(zb_any, data_root / "mcp", McpConfig(access="operate")) as client:
        volume = (await call(client, "create_volume", name=unique("vol"), backend="directory", source=str(source)))[
            "volume"
        ]
        repository = (
            await call(client, "create_repository", name=unique("repo"), backend="local", location=str(data_root / "r"))
        )["repository"]
        job = (
            await call(
                client,
                "create_backup_job",
                name=unique("job"),
                volume_id=volume["id"],
                repository_id=repository["id"],
                schedule="0 3 1 1 *",
                retention="last 5",
                exclude_patterns=["*.tmp"],
            )
        )["job"]
        run = await call(client, "run_backup", job_id=job["id"])
    on_server = zb_any.snapshots(repository["id"])
    assert len(on_server) == 1
    assert run["outcome"] == "success"
    server_job = zb_any.job(job["id"])
    assert server_job["excludePatterns"] == ["*.tmp"]
    assert server_job["lastBackupStatus"] == "success"
