"""``zerobyte-mcp snippet CLIENT``: print the exact set-up block for an MCP client, ready to paste.

Hand-written client configs fail on the small things: a relative command the client cannot find, a key pasted
into a JSON file that gets synced or shared. The snippet names this installation's absolute command and passes
the key only as a file path (``ZEROBYTE_API_KEY_FILE``), never the key itself.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ..config import ConfigError, Settings, load_settings

__all__ = ["CLIENTS", "Snippet", "render_snippet", "server_command"]

CLIENTS: Final = ("claude-desktop", "claude-code", "cursor", "vscode", "inspector")
SERVER_NAME: Final = "zerobyte"
PLACEHOLDER_URL: Final = "https://zerobyte.example.com"
INSPECTOR_PKG: Final = "@modelcontextprotocol/inspector@2.12.0"

_WHERE: Final = {
    "claude-desktop": (
        "Merge into claude_desktop_config.json (Settings → Developer → Edit Config; macOS: ~/Library/Application "
        "Support/Claude/, Windows: %APPDATA%\\Claude\\), then restart Claude Desktop."
    ),
    "claude-code": "Run this once in a shell; check with: claude mcp list",
    "cursor": "Merge into ~/.cursor/mcp.json (all projects) or .cursor/mcp.json (one project).",
    "vscode": "Merge into .vscode/mcp.json, or run 'MCP: Open User Configuration' for all workspaces.",
    "inspector": "Needs Node.js 22 or newer. The first line opens the Inspector UI; the second lists the tools.",
}


@dataclass
class Snippet:
    text: str  # for stdout: only the block to paste
    notes: list[str] = field(default_factory=list)  # for stderr: where it goes, what to do first


def server_command() -> list[str]:
    """Absolute command that starts this installation: the console script next to this Python, else -m."""
    python = Path(sys.executable)
    for candidate in (python.parent / "zerobyte-mcp", python.parent / "zerobyte-mcp.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    found = shutil.which("zerobyte-mcp")
    if found:
        return [str(Path(found).resolve())]
    return [str(python), "-m", "mcp_server"]


def default_key_file(environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path(environ.get("HOME") or Path.home()) / ".config"
    return base / "zerobyte-mcp" / "key"


def render_snippet(
    client: str,
    *,
    config_path: str | None = None,
    overrides: Mapping[str, object] | None = None,
    demo: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Snippet:
    """The snippet for ``client`` (one of CLIENTS) from the current settings; raises ValueError for others."""
    if client not in CLIENTS:
        raise ValueError(f"unknown client {client!r}; choose one of: {', '.join(CLIENTS)}")
    env_in: Mapping[str, str] = os.environ if environ is None else environ
    notes: list[str] = []
    command = server_command()
    args: list[str] = []
    env: dict[str, str] = {}
    if demo:
        args.append("--demo")
        notes.append("This runs the built-in DEMO (simulated Zerobyte with sample data); drop --demo for yours.")
    else:
        args, env = _arguments(config_path, overrides, env_in, notes)
    notes.insert(0, _WHERE[client])
    text = _RENDER[client](command, args, env)
    notes.append(
        "The API key can do everything its Zerobyte user can (there are no read-only keys); what an agent may do "
        "is limited by this server's access level (read-only unless you pass --access)."
    )
    return Snippet(text=text, notes=notes)


def _arguments(
    config_path: str | None, overrides: Mapping[str, object] | None, environ: Mapping[str, str], notes: list[str]
) -> tuple[list[str], dict[str, str]]:
    args: list[str] = []
    env: dict[str, str] = {}
    settings: Settings | None = None
    try:
        settings = load_settings(config_path=config_path, env=environ, overrides=overrides, require_key=False)
    except ConfigError as exc:
        notes.append(f"Current settings could not be read ({exc}); fill in the values below.")
    if settings is None:
        env["ZEROBYTE_URL"] = PLACEHOLDER_URL
        key_file = default_key_file(environ)
        env["ZEROBYTE_API_KEY_FILE"] = str(key_file)
        notes.append(f"Replace {PLACEHOLDER_URL} with your Zerobyte address.")
        notes.append(_key_file_note(key_file))
        access = (overrides or {}).get("access")
        if access not in (None, "read-only"):
            args += ["--access", str(access)]
        return args, env

    sources = settings.sources

    def from_file(name: str) -> bool:
        return sources.get(name, "").startswith("config file")

    if settings.config_file is not None:
        args += ["--config", str(settings.config_file)]
    if not from_file("url"):
        env["ZEROBYTE_URL"] = settings.url
    if settings.api_key_file is not None:
        if not from_file("api_key_file"):
            env["ZEROBYTE_API_KEY_FILE"] = str(settings.api_key_file)
    elif not from_file("api_key"):
        # A key given literally (ZEROBYTE_API_KEY) is never copied into a client's config file.
        key_file = default_key_file(environ)
        env["ZEROBYTE_API_KEY_FILE"] = str(key_file)
        notes.append(_key_file_note(key_file))
    if settings.access != "read-only" and not from_file("access"):
        args += ["--access", settings.access]
    return args, env


def _key_file_note(key_file: Path) -> str:
    return (
        f"Put your Zerobyte API key (zb_..., from Zerobyte → Settings → API keys) in {key_file} and make it "
        f"private: mkdir -p {shlex.quote(str(key_file.parent))} && (umask 077; cat > {shlex.quote(str(key_file))}), "
        "then paste the key and press Ctrl-D"
    )


def _entry(command: list[str], args: list[str], env: dict[str, str]) -> dict[str, object]:
    entry: dict[str, object] = {"command": command[0], "args": command[1:] + args}
    if env:
        entry["env"] = env
    return entry


def _claude_desktop(command: list[str], args: list[str], env: dict[str, str]) -> str:
    return json.dumps({"mcpServers": {SERVER_NAME: _entry(command, args, env)}}, indent=2)


def _cursor(command: list[str], args: list[str], env: dict[str, str]) -> str:
    return json.dumps({"mcpServers": {SERVER_NAME: _entry(command, args, env)}}, indent=2)


def _vscode(command: list[str], args: list[str], env: dict[str, str]) -> str:
    return json.dumps({"servers": {SERVER_NAME: {"type": "stdio", **_entry(command, args, env)}}}, indent=2)


def _claude_code(command: list[str], args: list[str], env: dict[str, str]) -> str:
    # The server name goes before the -e options: -e is variadic and would swallow it (claude-code#62332).
    parts = ["claude", "mcp", "add", SERVER_NAME, "--scope", "user"]
    for key, value in env.items():
        parts += ["-e", f"{key}={value}"]
    parts += ["--", *command, *args]
    return shlex.join(parts)


def _inspector(command: list[str], args: list[str], env: dict[str, str]) -> str:
    # The Inspector passes only a few safe variables (PATH, HOME...) to the server it starts, so each one is given.
    env_args: list[str] = []
    for key, value in env.items():
        env_args += ["-e", f"{key}={value}"]
    ui = shlex.join(["npx", "-y", INSPECTOR_PKG, *env_args, "--", *command, *args])
    cli = shlex.join(["npx", "-y", INSPECTOR_PKG, "--cli", *env_args, "--method", "tools/list", "--", *command, *args])
    return f"{ui}\n{cli}"


_RENDER: Final = {
    "claude-desktop": _claude_desktop,
    "claude-code": _claude_code,
    "cursor": _cursor,
    "vscode": _vscode,
    "inspector": _inspector,
}
