"""Directory sources are confined (issue 11, hole 5): Zerobyte's own data folder is refused, on a real server.

Pointed at Zerobyte's data folder, a directory volume + a backup + read_snapshot_file handed an operate
agent the app secret that seals every ``encv1:`` value. The data folder is learned from where Zerobyte
keeps a local repository made with its default location.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, make_files, mcp_stdio, refused, unique
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


async def test_an_operate_agent_cannot_make_a_volume_of_zerobytes_data_folder(
    zb: RealZerobyte, data_root: Path
) -> None:
    # The user's own repository, made in the web UI, which prefills Zerobyte's REPOSITORY_BASE as its location.
    base = str(zb.state / "repositories")
    zb.post("/repositories", {"name": unique("default-repo"), "config": {"backend": "local", "path": base}})
    assert (zb.state / "app_secret").is_file()
    fine = make_files(data_root / "photos", {"a.txt": "hello"})
    async with mcp_stdio(zb, data_root / "mcp", McpConfig(access="operate")) as client:
        for source in (zb.state, zb.state / "repositories", zb.state.parent):
            text = await refused(client, "create_volume", name=unique("vol"), backend="directory", source=str(source))
            assert "Zerobyte's own data" in text and "Nothing was sent" in text
        volume = (await call(client, "create_volume", name=unique("vol"), backend="directory", source=str(fine)))[
            "volume"
        ]
        moved = await refused(client, "update_volume", volume_id=volume["id"], source=str(zb.state))
        assert "Zerobyte's own data" in moved
    paths = [v["config"].get("path") for v in zb.get("/volumes")]
    assert paths == [str(fine)]  # only the ordinary folder became a volume, and it still points there


async def test_without_volume_roots_directory_volumes_are_off_but_network_ones_are_not(
    zb: RealZerobyte, data_root: Path
) -> None:
    source = make_files(data_root / "docs", {"a.txt": "x"})
    async with mcp_stdio(zb, data_root / "mcp", McpConfig(access="operate", volume_roots=())) as client:
        text = await refused(client, "create_volume", name=unique("vol"), backend="directory", source=str(source))
    assert "no volume roots are configured" in text and "allowed_roots" in text
    assert str(source) not in [v["config"].get("path") for v in zb.get("/volumes")]
