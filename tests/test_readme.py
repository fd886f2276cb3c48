"""README.md and docs/ stay true: the tool catalogue (docs/tools.md) lists exactly the registered tools at their
access levels, the budgets are the ones the catalogue test enforces, every command they give parses, the client
blocks are what ``zerobyte-mcp snippet`` prints, the test commands are the ones CI runs, and every link lands."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mcp_server.cli import _parser
from mcp_server.cli.snippets import render_snippet, server_command
from mcp_server.tools.catalogue import CATALOGUE
from tests.helpers import BUDGETS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {path.name: path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md"))}
TOOLS = DOCS["tools.md"]
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
SECTIONS = {"read": "**Read (every access level)**", "operate": "**Operate", "full": "**Destructive"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
# How the blocks below write this installation's command and the user's home.
SHOWN_COMMAND = "/home/me/zerobyte-mcp/.venv/bin/zerobyte-mcp"
SHOWN_HOME = "/home/me"


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _blocks(text: str, lang: str | None = None) -> list[str]:
    return [body for kind, body in FENCE.findall(text) if lang is None or kind == lang]


def _catalogue() -> dict[str, str]:
    """tool name -> level, as docs/tools.md's catalogue tables list them."""
    start = TOOLS.index("## Tool catalogue")
    body = TOOLS[start : TOOLS.index("**tools/list budget**", start)]
    found: dict[str, str] = {}
    level = ""
    for line in body.splitlines():
        for name, marker in SECTIONS.items():
            if line.startswith(marker):
                level = name
        match = re.match(r"\| `([a-z_]+)` \|", line)
        if match:
            found[match[1]] = level
    return found


def test_the_catalogue_in_docs_lists_every_tool_at_its_level() -> None:
    assert _catalogue() == {e.name: e.level for e in CATALOGUE}


def test_the_docs_state_the_enforced_budgets() -> None:
    for level, tokens in BUDGETS.items():
        assert re.search(rf"{level} ≤ {tokens:,}", TOOLS), level


def test_the_readme_counts_the_tools_of_each_level() -> None:
    counts = Counter(e.level for e in CATALOGUE)
    said = re.search(
        r"(\d+) tools that read, (\d+) more that run and configure at\s+`--access operate`, and (\d+) that destroy",
        README,
    )
    assert said is not None
    assert tuple(map(int, said.groups())) == (counts["read"], counts["operate"], counts["full"])


def _command_lines() -> list[tuple[str, str]]:
    """(where, argv text after ``zerobyte-mcp``) of every zerobyte-mcp command README and docs/ give."""
    found: list[tuple[str, str]] = []
    for where, text in [("README.md", README), *DOCS.items()]:
        shell = _blocks(text, "bash") + _blocks(text, "sh")
        lines = [line for body in shell for line in body.replace("\\\n", " ").splitlines()]
        # Inline commands, unless they hold a placeholder such as CLIENT or PATH.
        lines += [s for s in re.findall(r"`(zerobyte-mcp[^`]*)`", text) if not re.search(r"\b[A-Z]{3,}\b", s)]
        for line in lines:
            words = shlex.split(line, comments=True)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)  # VAR=value before the command
            if words[:1] == ["uvx"]:
                words = words[3:] if words[1:2] == ["--from"] else words[1:]
            if words[:1] == ["zerobyte-mcp"]:
                found.append((where, shlex.join(words[1:])))
    return found


def test_every_command_in_readme_and_docs_parses() -> None:
    commands = _command_lines()
    assert len(commands) >= 15  # the front door's own, the clients', the configuration's...
    for where, argv in commands:
        try:
            _parser().parse_args(shlex.split(argv))
        except SystemExit:
            pytest.fail(f"{where}: `zerobyte-mcp {argv}` is not a valid command line")
    subcommands = set(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr,arg-type]
    said = {shlex.split(argv)[0] for _, argv in commands if argv and not argv.startswith("-")}
    assert said <= subcommands
    assert {"check", "snippet", "index"} <= said


def test_the_test_command_is_the_one_ci_runs() -> None:
    test = _section(README, "## Test")
    assert "pip install -e '.[test]' && python -m pytest" in _blocks(test, "bash")[0]
    ci_lines = [line.strip() for line in CI_RUN.splitlines() if not line.strip().startswith(("#", "echo"))]
    runs = [line for line in ci_lines if line.startswith("python -m pytest")]
    stated = re.findall(r"`(python -m pytest [^`]+)`", test)
    assert runs, "CI runs no python -m pytest"
    assert sorted(stated) == sorted(runs)  # each CI run is in the README, and the README names no other
    for check in re.findall(r"`((?:ruff|mypy)[^`]*)`", test):
        assert check in ci_lines, check
    assert "ruff format --check ." in test and "mypy" in test


def _snippet(client: str, *, demo: bool, tmp_path: Path) -> str:
    key = tmp_path / ".config" / "zerobyte-mcp" / "key"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("zb_readme_key_0123456789\n")
    key.chmod(0o600)
    environ = {"HOME": str(tmp_path), "ZEROBYTE_URL": "https://zerobyte.example.com", "ZEROBYTE_API_KEY_FILE": str(key)}
    text = render_snippet(client, demo=demo, environ=environ, config_path=str(tmp_path / "none.toml")).text
    # The blocks show /home/me/… for this installation's command and the user's home.
    return text.replace(" ".join(server_command()), SHOWN_COMMAND).replace(str(tmp_path), SHOWN_HOME)


def test_the_client_blocks_are_what_snippet_prints(tmp_path: Path) -> None:
    connect = _section(README, "## Connect a client")
    yours = _section(README, "## Use it with your Zerobyte")
    assert json.loads(_blocks(connect, "json")[0]) == json.loads(
        _snippet("claude-desktop", demo=True, tmp_path=tmp_path)
    )
    assert _snippet("claude-code", demo=True, tmp_path=tmp_path) in _blocks(connect, "bash")[1]
    assert json.loads(_blocks(yours, "json")[0]) == json.loads(
        _snippet("claude-desktop", demo=False, tmp_path=tmp_path)
    )
    assert _snippet("claude-code", demo=False, tmp_path=tmp_path) in _blocks(yours, "bash")[1]
    vscode = [b for b in _blocks(DOCS["clients.md"], "json") if '"type": "stdio"' in b]
    assert [json.loads(b) for b in vscode] == [json.loads(_snippet("vscode", demo=False, tmp_path=tmp_path))]
    desktop = next(b for b in _blocks(DOCS["clients.md"], "json") if '"mcpServers"' in b)
    assert json.loads(desktop) == json.loads(_snippet("claude-desktop", demo=False, tmp_path=tmp_path))


def test_the_demo_check_prints_what_the_readme_shows(tmp_path: Path) -> None:
    shown = _blocks(_section(README, "## Try it on the demo"), "")[0]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ZEROBYTE_")}
    environ.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--demo", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", done.stdout).splitlines()
    for line in shown.splitlines():
        if line != "…":
            assert line in out, line


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of ``text``."""
    headings = re.findall(r"^#+ (.+)$", re.sub(FENCE, "", text), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_lands() -> None:
    pages = {ROOT / "README.md": README, **{ROOT / "docs" / name: text for name, text in DOCS.items()}}
    broken = []
    for page, text in pages.items():
        for target in _LINK.findall(re.sub(FENCE, "", text)):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            if not path.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path.read_text(encoding="utf-8")):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_where_to_go_next_lists_every_docs_page() -> None:
    listed = set(re.findall(r"\(docs/([\w.-]+\.md)\)", _section(README, "## Where to go next")))
    assert listed == set(DOCS)


def test_the_configuration_page_names_every_environment_variable() -> None:
    read = set()
    for path in (ROOT / "mcp_server" / "config").glob("*.py"):
        read |= set(re.findall(r"\"(ZEROBYTE_[A-Z_]+)\"", path.read_text(encoding="utf-8")))
    named = set(
        re.findall(r"ZEROBYTE_[A-Z_]+", DOCS["configuration.md"].replace("(_FILE)", " ZEROBYTE_MCP_HTTP_TOKEN_FILE"))
    )
    assert read and named == read


def _layers_of_test_layers() -> list[set[str]]:
    """tests/test_layers.py's LAYERS, read from its source (test modules do not import one another)."""
    source = (ROOT / "tests" / "test_layers.py").read_text(encoding="utf-8")
    block = source[source.index("LAYERS:") : source.index("BESIDE")]
    return [set(re.findall(r'"(\w+)"', group)) for group in re.findall(r"frozenset\(\{([^}]*)\}\)", block)]


def test_the_architecture_page_draws_the_layers_the_layer_test_enforces() -> None:
    page = DOCS["architecture.md"]
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", page, re.M)
    drawn = [{re.sub(r"(/|\.py)$", "", name) for name in re.findall(r"`([\w/.]+)`", cell)} for _, cell in rows]
    assert [int(n) for n, _ in rows] == list(range(1, len(rows) + 1))
    assert drawn == _layers_of_test_layers()


def test_the_architecture_page_names_only_code_that_exists() -> None:
    package = ROOT / "mcp_server"
    source = "\n".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    files = {p.name for p in package.rglob("*")} | {package.name}
    missing = []
    for name in set(re.findall(r"`([A-Za-z_][\w.]*(?:/|\.py)?)`", re.sub(FENCE, "", DOCS["architecture.md"]))):
        if name.endswith((".py", "/")):
            if name.rstrip("/").split("/")[-1] not in files:
                missing.append(name)
        elif ("_" in name.strip("_") or re.search(r"[a-z][A-Z]", name)) and not re.search(
            rf"\b{re.escape(name.split('.')[-1])}\b", source
        ):
            missing.append(name)
    assert missing == []
