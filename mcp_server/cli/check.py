"""``zerobyte-mcp check``: prove the set-up works before an MCP client depends on it.

It prints where each setting came from, reaches Zerobyte, verifies the key, detects what this
Zerobyte supports (and which tools work differently or not at all on an older one) and lists the tools this
configuration exposes. The exit code says what failed:
0 ok, 1 Zerobyte unreachable or refusing the key, 2 configuration error.
"""

from __future__ import annotations

from typing import TextIO

import anyio

from ..config import Settings, secret_file_warnings
from ..zerobyte import ZerobyteError, ZerobyteUnreachable
from ..zerobyte.legacy import differences

__all__ = ["run_check"]


def run_check(settings: Settings, *, out: TextIO) -> int:
    """Run every check, print a report to ``out``, return the exit code."""
    return anyio.run(_check, settings, out)


async def _check(settings: Settings, out: TextIO) -> int:
    from ..server import make_client
    from ..tools.registry import Registry

    offered = Registry.offered(settings)

    def say(line: str = "") -> None:
        print(line, file=out, flush=True)

    say("Settings:")
    for name, value, source in settings.describe():
        say(f"  {name:<28} {value:<40} ({source})")
    say()
    for warning in secret_file_warnings(settings):
        say(f"WARN  {warning}")
    try:
        client = make_client(settings)
    except Exception as exc:  # key file unreadable etc.: configuration problems
        say(f"FAIL  configuration: {exc}")
        return 2
    status = 0
    async with client:
        try:
            await client.auth_status()
            say(f"ok    reachable: {settings.url}")
        except ZerobyteUnreachable as exc:
            say(f"FAIL  reachable: {exc}")
            return 1
        except ZerobyteError as exc:
            say(f"FAIL  reachable: {exc}")
            return 1
        try:
            info = await client.system_info()
            say("ok    API key accepted")
        except ZerobyteError as exc:
            say(f"FAIL  API key: {exc}")
            return 1
        try:
            caps = await client.detect_capabilities()
        except ZerobyteError as exc:
            say(f"FAIL  capabilities: {exc}")
            return 1
        try:
            version: str | None = (await client.system_updates()).currentVersion
        except ZerobyteError:
            version = None
        say(f"ok    Zerobyte version: {version or 'unknown'} (runtime {info.runtime or 'unknown'})")
        yes_no = {True: "yes", False: "no"}
        say(f"      tasks API: {yes_no[caps.tasks_api]}; task history: {yes_no[caps.task_history]}")
        for note in caps.notes:
            say(f"      note: {note}")
        for line in differences(caps, offered.names):
            say(f"      {line}")
        backends = info.capabilities
        if backends:
            say(f"      volume backends: {', '.join(map(str, backends.get('volumeBackends') or [])) or '-'}")
            say(f"      repository backends: {', '.join(map(str, backends.get('repositoryBackends') or [])) or '-'}")
    tools = list(offered)
    say()
    say(f"Access level: {settings.access}; {len(tools)} tools exposed:")
    for spec in sorted(tools, key=lambda s: (s.toolset, s.name)):
        say(f"  {spec.toolset:<14} {spec.name:<32} {spec.level}")
    if not settings.confirm_destructive and settings.access == "full":
        say()
        say("WARNING: confirm_destructive = false: destructive tools act WITHOUT asking a human first.")
    return status
