"""Command line and transports: ``zerobyte-mcp [serve]``, ``check``, ``health``, ``drill``, ``index``, ``--demo``;
``http`` serves streamable HTTP (and ``/status``), ``health`` and ``drill`` give the backup_health verdict and a
restore drill to machines, ``logs`` sends logging to stderr, ``snippets`` prints client set-up.

In stdio mode stdout carries the MCP protocol, so everything human goes to stderr. Heavy modules (the
simulator, uvicorn) are imported only by the commands that use them, to keep the cold start short.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from .. import __version__
from ..config import ConfigError, Settings, load_settings, secret_file_warnings
from .logs import setup_logging

__all__ = ["main"]

log = logging.getLogger("zerobyte_mcp")

DEMO_KEY = "zb_demo_key_not_secret"


def _parser() -> argparse.ArgumentParser:
    # SUPPRESS: options given before or after the sub-command both count (argparse would otherwise let
    # the sub-parser's defaults overwrite what was given before it).
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--config", metavar="PATH", help="TOML settings file (default: ./config.toml, then XDG)")
    common.add_argument(
        "--access", choices=["read-only", "operate", "full"], help="which tools exist (default read-only)"
    )
    common.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level")
    common.add_argument("--log-json", action="store_true", help="log one JSON object per line")
    common.add_argument(
        "--demo", action="store_true", help="run against a built-in simulated Zerobyte with sample data"
    )
    common.add_argument("--transport", choices=["stdio", "http"], help="MCP transport (default stdio)")
    common.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    common.add_argument("--port", type=int, help="HTTP port (default 8765)")

    parser = argparse.ArgumentParser(
        prog="zerobyte-mcp",
        description="MCP server for the Zerobyte backup server.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"zerobyte-mcp {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", parents=[common], help="run the MCP server (the default)")
    sub.add_parser("check", parents=[common], help="check settings, reach Zerobyte, verify the key, list tools")
    health = sub.add_parser(
        "health",
        parents=[common],
        help="print the backup_health verdict; exit 0 ok, 1 warning, 2 critical, 3 unknown (for cron, monitors)",
    )
    health.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    drill = sub.add_parser(
        "drill",
        parents=[common],
        help="restore drill (drill_backup): exit 0 restorable, 1 incomplete, 2 failed, 3 unknown (for cron)",
    )
    drill.add_argument("--job", help="only this backup job (name or short id); default: every job's newest snapshot")
    drill.add_argument("--max-bytes", type=int, help="byte budget (default 256 MiB)")
    drill.add_argument("--max-seconds", type=int, help="time budget (default 120)")
    drill.add_argument("--json", action="store_true", help="print the drill as one JSON object")
    index = sub.add_parser("index", parents=[common], help="fill the snapshot catalog now (for cron)")
    index.add_argument("--repository", action="append", default=[], help="only this repository id (repeatable)")
    snippet = sub.add_parser("snippet", parents=[common], help="print a set-up block for an MCP client")
    snippet.add_argument("client", choices=["claude-desktop", "claude-code", "cursor", "vscode", "inspector"])
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for arg, name in (
        ("access", "access"),
        ("log_level", "log_level"),
        ("log_json", "log_json"),
        ("host", "http_host"),
        ("port", "http_port"),
    ):
        value = getattr(args, arg, None)
        if value is not None:
            out[name] = value
    return out


@contextlib.contextmanager
def _demo_zerobyte(err: TextIO) -> Iterator[tuple[str, str]]:
    """Start the simulator with sample data on a loopback port; yield (url, key)."""
    from ..simulator import Simulator, SimulatorServer, seed_demo

    sim = Simulator(api_keys=[DEMO_KEY], task_seconds=6.0, progress_interval=0.5)
    seed_demo(sim)
    with SimulatorServer(sim) as running:
        print(
            f"zerobyte-mcp DEMO: using a SIMULATED Zerobyte at {running.url} with sample data; "
            "no real backups are touched.",
            file=err,
        )
        yield running.url, DEMO_KEY


def _load(args: argparse.Namespace, demo: tuple[str, str] | None) -> Settings:
    overrides = _overrides(args)
    env = dict(os.environ)
    if demo is not None:
        env["ZEROBYTE_URL"], env["ZEROBYTE_API_KEY"] = demo
        env.pop("ZEROBYTE_API_KEY_FILE", None)
    return load_settings(config_path=getattr(args, "config", None), env=env, overrides=overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "serve"
    err = sys.stderr
    if command == "snippet":
        from .snippets import render_snippet

        snippet = render_snippet(
            args.client,
            config_path=getattr(args, "config", None),
            overrides=_overrides(args),
            demo=getattr(args, "demo", False),
        )
        print(snippet.text)
        for note in snippet.notes:
            print(f"# {note}", file=err)
        return 0
    with contextlib.ExitStack() as stack:
        demo = stack.enter_context(_demo_zerobyte(err)) if getattr(args, "demo", False) else None
        if command in ("health", "drill") and getattr(args, "log_level", None) is None:
            args.log_level = "WARNING"  # cron mails whatever reaches stderr: only what needs reading
        try:
            settings = _load(args, demo)
            _check_tool_names(settings)
        except ConfigError as exc:
            if command == "health":  # no verdict: "unknown" for a monitor, not "critical"
                from .health import run_health

                reason = f"configuration error: {exc}"
                return run_health(None, as_json=getattr(args, "json", False), out=sys.stdout, err=err, reason=reason)
            if command == "drill":
                return _drill(None, args, err, reason=f"configuration error: {exc}")
            print(f"zerobyte-mcp: configuration error: {exc}", file=err)
            return 2
        secrets = _secrets(settings)
        setup_logging(settings.log_level, json=settings.log_json, secrets=lambda: secrets)
        if command == "health":
            from .health import run_health

            return run_health(settings, as_json=getattr(args, "json", False), out=sys.stdout, err=err)
        if command == "drill":
            return _drill(settings, args, err)
        if command == "check":
            from .check import run_check

            return run_check(settings, out=sys.stdout)
        if command == "index":
            return _index(settings, list(getattr(args, "repository", []) or []), err)
        return _serve(settings, args, demo=demo is not None)


def _drill(settings: Settings | None, args: argparse.Namespace, err: TextIO, reason: str = "") -> int:
    from .drill import run_drill_command

    return run_drill_command(
        settings,
        job=getattr(args, "job", None),
        max_bytes=getattr(args, "max_bytes", None),
        max_seconds=getattr(args, "max_seconds", None),
        as_json=getattr(args, "json", False),
        out=sys.stdout,
        err=err,
        reason=reason,
    )


def _check_tool_names(settings: Settings) -> None:
    from ..tools.catalogue import unknown_names

    wrong = unknown_names(
        tools=(*settings.tools_allow, *settings.tools_deny),
        toolsets=(*settings.toolsets_allow, *settings.toolsets_deny),
    )
    if wrong is not None:
        raise ConfigError(f"[tools]: {wrong}")


def _serve(settings: Settings, args: argparse.Namespace, *, demo: bool) -> int:
    from ..server import create_server

    for warning in secret_file_warnings(settings):
        log.warning("%s", warning)
    server = create_server(settings, demo=demo)
    transport = getattr(args, "transport", "stdio") or "stdio"
    log.info("zerobyte-mcp %s serving %s over %s (access: %s)", __version__, settings.url, transport, settings.access)
    if transport == "http":
        from .http import run_http

        return run_http(server, settings)
    server.run("stdio")
    return 0


def _index(settings: Settings, repositories: list[str], err: TextIO) -> int:
    import anyio

    from ..catalog.run import index_catalog
    from ..server import make_client

    async def run() -> int:
        async with make_client(settings) as client:
            return await index_catalog(settings, client, err, repositories)

    return anyio.run(run)


def _secrets(settings: Settings) -> list[str]:
    """The exact secrets the log filter scrubs (read once: the filter runs on every log line, and any
    zb_… key, a rotated one included, is also caught by its pattern)."""
    return [s.reveal() for s in (settings.api_key, settings.http_token) if s is not None]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
