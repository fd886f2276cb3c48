"""No secret reaches the agent (issue 11, holes 3 and 4), on a real Zerobyte.

A failed notification test stores the sender's error, and a backed-up home holds zerobyte-mcp's own key
file; both are real places a secret sits in data the agent may read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, ServerPool, ask, call, mcp_stdio, unique
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

# shoutrrr (Zerobyte's notification sender) is not installed here, so a failed send would only say
# "Executable not found". This stand-in does what shoutrrr does for a generic webhook: it really POSTs to
# the URL and, on failure, prints Go's error, which quotes the URL, for Zerobyte to store as lastError.
SHOUTRRR = """#!/usr/bin/env python3
import sys, urllib.request
url = sys.argv[sys.argv.index("--url") + 1]
scheme, rest = url.split("://", 1)
target = ("http" if "disabletls=yes" in rest else "https") + "://" + rest.split("?")[0]
try:
    urllib.request.urlopen(urllib.request.Request(target, data=b"{}", method="POST"), timeout=5)
except Exception as exc:
    print(f'failed to send: Post "{target}": {exc}', file=sys.stderr)
    sys.exit(1)
"""


@pytest.fixture(scope="module")
def zb(zb_pool: ServerPool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealZerobyte]:
    """A real Zerobyte v0.42 that finds a ``shoutrrr`` on its PATH."""
    bin_dir = tmp_path_factory.mktemp("bin")
    (bin_dir / "shoutrrr").write_text(SHOUTRRR)
    (bin_dir / "shoutrrr").chmod(0o755)
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{bin_dir}:{path}"
    try:
        server = zb_pool.start("v0.42")
    finally:
        os.environ["PATH"] = path
    yield server
    zb_pool.stop(server)


SLACK_SECRET = "Xq9vL2mT7rB4nK8pZ3wY6cJ1"


async def test_a_failed_webhook_test_quoting_its_secret_url_is_redacted(zb: RealZerobyte, data_root: Path) -> None:
    url = f"http://127.0.0.1:9/services/T0AB12CD/B0XY34ZW/{SLACK_SECRET}"
    async with mcp_stdio(zb, data_root / "mcp", McpConfig(access="operate")) as client:
        created = await call(client, "create_notification_destination", name=unique("hook"), type="generic", url=url)
        did = created["destination"]["id"]
        tested = await ask(client, "update_notification_destination", destination_id=did, test=True)
        shown = await ask(client, "get_notification_destination", destination_id=did)
        listed = await ask(client, "list_notification_destinations")
    stored = zb.get(f"/notifications/destinations/{did}")
    assert stored["lastError"], "the test failed on the server and its error was stored"
    assert SLACK_SECRET in stored["lastError"]  # the sender's error quotes the URL...
    for answer in (created, tested.data, shown.data, listed.data):
        assert SLACK_SECRET not in json.dumps(answer)  # ...and no answer of ours shows it
    for text in (tested.text, shown.text, listed.text):
        assert SLACK_SECRET not in text
    assert "127.0.0.1" in shown.text  # the host stays, to tell which server it calls


async def test_the_api_key_cannot_be_read_back_from_a_snapshot_of_the_folder_holding_it(
    zb: RealZerobyte, data_root: Path
) -> None:
    home = data_root / "home"  # our server's folder: its api-key file is backed up below
    async with mcp_stdio(zb, home, McpConfig(access="operate")) as client:
        volume = await call(client, "create_volume", name=unique("vol"), backend="directory", source=str(home))
        repository = await call(
            client, "create_repository", name=unique("repo"), backend="local", location=str(data_root / "r")
        )
        job = await call(
            client,
            "create_backup_job",
            name=unique("job"),
            volume_id=volume["volume"]["id"],
            repository_id=repository["repository"]["id"],
            schedule="0 3 1 1 *",
        )
        assert (await call(client, "run_backup", job_id=job["job"]["id"]))["outcome"] == "success"
        rid = repository["repository"]["id"]
        key_path = str(home / "api-key")
        answers = [
            await ask(client, "read_snapshot_file", repository_id=rid, snapshot_id="latest", path=key_path),
            await ask(
                client, "read_snapshot_file", repository_id=rid, snapshot_id="latest", path=key_path, max_bytes=12
            ),
        ]
        snapshot = zb.snapshots(rid)[0]["short_id"]
        listing = await ask(client, "list_snapshot_files", repository_id=rid, snapshot_id=snapshot, path=str(home))
    dumped = zb.request(
        "GET", f"/repositories/{rid}/snapshots/{snapshot}/dump", params={"path": key_path, "kind": "file"}
    )
    assert zb.api_key in dumped.text  # the key really is in the snapshot
    for answer in answers:
        assert answer.is_error and "API key or HTTP token" in answer.text
        assert zb.api_key[:12] not in answer.text
    assert not listing.is_error and "api-key" in listing.text and zb.api_key not in listing.text
