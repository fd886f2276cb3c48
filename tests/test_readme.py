"""README.md stays true: its tool catalogue lists exactly the registered tools at their access levels, its
budgets are the ones the catalogue test enforces, and the commands it gives exist."""

from __future__ import annotations

import re
from pathlib import Path

from mcp_server.cli import _parser
from mcp_server.tools.catalogue import CATALOGUE
from tests.helpers import BUDGETS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SECTIONS = {"read": "**Read (every access level)**", "operate": "**Operate", "full": "**Destructive"}


def _catalogue() -> dict[str, str]:
    """tool name -> level, as README's catalogue tables list them."""
    start = README.index("## Tool catalogue")
    body = README[start : README.index("**tools/list budget**", start)]
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


def test_the_readme_catalogue_lists_every_tool_at_its_level() -> None:
    assert _catalogue() == {e.name: e.level for e in CATALOGUE}


def test_the_readme_states_the_enforced_budgets() -> None:
    for level, tokens in BUDGETS.items():
        assert re.search(rf"{level} ≤ {tokens:,}", README), level


def test_the_readme_commands_exist() -> None:
    commands = set(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr,arg-type]
    assert {"check", "serve", "snippet"} <= commands
    for flag in ("--demo", "--access", "--transport", "--config"):
        assert flag in README
    assert "python -m pytest" in README
