"""``zerobyte-mcp snippet CLIENT``: a block that pastes into each client as is, starts this install, holds no key."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_server.cli.snippets import CLIENTS, render_snippet, server_command

KEY = "zb_literal_key_that_must_not_leak_0001"


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no config file to find, HOME and XDG inside tmp_path."""
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), **extra}


def entry_of(client: str, text: str) -> dict[str, Any]:
    document = json.loads(text)
    servers = document["servers"] if client == "vscode" else document["mcpServers"]
    entry: dict[str, Any] = servers["zerobyte"]
    return entry


@pytest.mark.parametrize("client", ["claude-desktop", "cursor", "vscode"])
def test_json_snippets_name_the_absolute_command_and_a_key_file_never_the_key(
    client: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = environ(tmp_path, ZEROBYTE_URL="https://zb.home.lan", ZEROBYTE_API_KEY=KEY)
    snippet = render_snippet(client, environ=env)
    entry = entry_of(client, snippet.text)
    assert Path(entry["command"]).is_absolute()
    assert entry["command"] == server_command()[0]
    assert entry["env"] == {
        "ZEROBYTE_URL": "https://zb.home.lan",
        "ZEROBYTE_API_KEY_FILE": str(tmp_path / "xdg" / "zerobyte-mcp" / "key"),
    }
    if client == "vscode":
        assert entry["type"] == "stdio"
    assert KEY not in snippet.text
    assert KEY not in " ".join(snippet.notes)
    assert any("zerobyte-mcp/key" in note and "umask 077" in note for note in snippet.notes)
    assert any("everything its Zerobyte user can" in note for note in snippet.notes)


def test_a_config_file_is_passed_by_absolute_path_and_its_settings_are_not_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    (tmp_path / "config.toml").write_text(
        'url = "https://zb.home.lan"\napi_key_file = "key"\naccess = "operate"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    entry = entry_of("claude-desktop", render_snippet("claude-desktop", environ=environ(tmp_path)).text)
    assert entry["args"][-2:] == ["--config", str(tmp_path / "config.toml")]
    assert "env" not in entry


def test_claude_code_gets_one_command_with_the_server_name_before_the_env_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    key_file = tmp_path / "zb.key"
    key_file.write_text(KEY)
    env = environ(tmp_path, ZEROBYTE_URL="https://zb.home.lan", ZEROBYTE_API_KEY_FILE=str(key_file))
    text = render_snippet("claude-code", overrides={"access": "operate"}, environ=env).text
    words = shlex.split(text)
    assert words[:6] == ["claude", "mcp", "add", "zerobyte", "--scope", "user"]
    assert words[6:10] == ["-e", "ZEROBYTE_URL=https://zb.home.lan", "-e", f"ZEROBYTE_API_KEY_FILE={key_file}"]
    separator = words.index("--")
    assert words[separator + 1 :] == [*server_command(), "--access", "operate"]
    assert KEY not in text


def test_the_inspector_lines_pass_each_variable_explicitly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = environ(tmp_path, ZEROBYTE_URL="https://zb.home.lan")
    ui, cli = render_snippet("inspector", environ=env).text.splitlines()
    for line in (ui, cli):
        words = shlex.split(line)
        assert words[:3] == ["npx", "-y", "@modelcontextprotocol/inspector@2.12.0"]
        assert "ZEROBYTE_URL=https://zb.home.lan" in words
        assert words[words.index("--") + 1 :] == server_command()
    assert "--cli" in shlex.split(cli)
    assert "tools/list" in shlex.split(cli)


def test_the_demo_snippet_needs_no_settings_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    entry = entry_of("cursor", render_snippet("cursor", demo=True, environ=environ(tmp_path)).text)
    assert entry["args"][-1] == "--demo"
    assert "env" not in entry


def test_without_settings_the_snippet_has_placeholders_and_says_what_to_fill_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    snippet = render_snippet("claude-desktop", overrides={"access": "operate"}, environ=environ(tmp_path))
    entry = entry_of("claude-desktop", snippet.text)
    assert entry["env"]["ZEROBYTE_URL"] == "https://zerobyte.example.com"
    assert entry["args"][-2:] == ["--access", "operate"]
    assert any("Replace https://zerobyte.example.com" in note for note in snippet.notes)


def test_an_unknown_client_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="claude-desktop, claude-code, cursor, vscode, inspector"):
        render_snippet("notepad")
    assert CLIENTS == ("claude-desktop", "claude-code", "cursor", "vscode", "inspector")


@pytest.mark.slow
def test_the_snippet_command_prints_pasteable_json_and_its_command_really_starts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROBYTE", "XDG_CONFIG"))}
    env.update(XDG_CONFIG_HOME=str(tmp_path), ZEROBYTE_URL="https://zb.home.lan", ZEROBYTE_API_KEY=KEY)
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server", "snippet", "claude-desktop"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entry = entry_of("claude-desktop", proc.stdout)  # stdout is only the JSON
    assert all(line.startswith("# ") for line in proc.stderr.splitlines())
    assert KEY not in proc.stdout + proc.stderr
    version = subprocess.run(
        [entry["command"], *entry["args"], "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert version.stdout.startswith("zerobyte-mcp ")
