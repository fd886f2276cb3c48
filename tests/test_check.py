"""`zerobyte-mcp check`: reachability, key, capabilities and exposed tools — and clear failures."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from mcp_server.cli.check import run_check
from mcp_server.config import Secret
from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import TEST_KEY, make_settings, stdio_params


def test_check_reports_reachability_key_capabilities_and_tools(sim_server: SimulatorServer) -> None:
    out = io.StringIO()
    code = run_check(make_settings(sim_server.url), out=out)
    report = out.getvalue()
    assert code == 0, report
    assert f"ok    reachable: {sim_server.url}" in report
    assert "ok    API key accepted" in report
    assert "tasks API: yes; task history: yes" in report
    assert "list_volumes" in report
    assert "Access level: read-only" in report
    assert TEST_KEY not in report


def test_check_with_a_wrong_key_exits_non_zero_with_the_401_advice(sim_server: SimulatorServer) -> None:
    wrong = "zb_wrong_key_000000000"
    out = io.StringIO()
    code = run_check(make_settings(sim_server.url, api_key=Secret(wrong)), out=out)
    report = out.getvalue()
    assert code == 1
    assert "FAIL  API key: API key rejected (401)" in report
    assert wrong not in report


def test_check_against_nothing_says_connection_refused() -> None:
    out = io.StringIO()
    assert run_check(make_settings("http://127.0.0.1:9"), out=out) == 1
    assert "connection refused" in out.getvalue()


def test_check_on_a_legacy_zerobyte_names_what_is_missing() -> None:
    sim = Simulator(api_keys=[TEST_KEY], legacy=True)
    with SimulatorServer(sim) as running:
        out = io.StringIO()
        code = run_check(make_settings(running.url), out=out)
    assert code == 0, out.getvalue()
    assert "task history: no" in out.getvalue()


def test_the_check_command_exits_1_and_never_prints_the_key(sim_server: SimulatorServer, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("zb_revoked_key_1234567\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROBYTE", "XDG_CONFIG"))}
    env.update(ZEROBYTE_URL=sim_server.url, ZEROBYTE_API_KEY_FILE=str(key_file), XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server", "check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "API key rejected (401)" in proc.stdout
    assert "zb_revoked_key_1234567" not in proc.stdout + proc.stderr
    assert "ZEROBYTE_API_KEY_FILE" in proc.stdout  # where the key came from is shown


def test_the_check_command_with_a_config_error_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROBYTE", "XDG_CONFIG"))}
    env.update(XDG_CONFIG_HOME=str(tmp_path), ZEROBYTE_URL="http://127.0.0.1:9", ZEROBYTE_API_KEY="not-a-key")
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server", "check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "zb_" in proc.stderr
    assert "not-a-key" not in proc.stderr


def test_check_warns_when_others_can_read_the_key_or_token_file(sim_server: SimulatorServer, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(TEST_KEY + "\n")
    token_file = tmp_path / "token"
    token_file.write_text("t" * 40 + "\n")
    key_file.chmod(0o644)
    token_file.chmod(0o640)
    settings = make_settings(sim_server.url, api_key_file=key_file, http_token_file=token_file)
    out = io.StringIO()
    run_check(settings, out=out)
    report = out.getvalue()
    assert f"WARN  api_key_file {key_file} can be read by group and others (mode 644): run chmod 600" in report
    assert f"WARN  http token_file {token_file} can be read by group (mode 640)" in report
    key_file.chmod(0o600)
    token_file.chmod(0o600)
    out = io.StringIO()
    run_check(settings, out=out)
    assert "WARN  " not in out.getvalue()


def test_serve_warns_at_start_when_others_can_read_the_key_file(sim_server: SimulatorServer, tmp_path: Path) -> None:
    params = stdio_params(sim_server.url, tmp_path)
    key_file = tmp_path / "api-key"
    key_file.chmod(0o644)
    done = subprocess.run(
        [params.command, *params.args],
        env={**os.environ, **(params.env or {})},
        cwd=params.cwd,
        input="",  # end of input: the stdio server stops right after starting
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert f"api_key_file {key_file} can be read by group and others (mode 644): run chmod 600" in done.stderr
    assert done.stdout == ""  # the warning went to the log, never to the protocol stream


def test_a_misspelt_tool_or_toolset_in_the_allow_deny_lists_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[tools]\ntoolsets_allow = ["snapshot"]\ndeny = ["delete_volumes"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROBYTE", "XDG_CONFIG"))}
    env.update(XDG_CONFIG_HOME=str(tmp_path), ZEROBYTE_URL="http://127.0.0.1:9", ZEROBYTE_API_KEY=TEST_KEY)
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--config", str(config), "check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "unknown toolset(s) 'snapshot'" in proc.stderr and "snapshots" in proc.stderr
    assert "unknown tool(s) 'delete_volumes'" in proc.stderr
