"""What users install from must agree with the package: the Claude Desktop bundle's manifest.json, the MCP
Registry's server.json, the changelog and ``--version`` all carry pyproject's name and mcp_server's version.

The schema checks against the published schemas run in CI (.ci/package.sh: ``mcpb validate`` and the registry's
server.schema.json); here the fields that drift when a release bumps one place and forgets another.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mcp_server import __version__
from mcp_server.config.sources import _ENV_VARS

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "https://github.com/zerobyte-mcp/zerobyte-mcp"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project


def test_the_version_lives_in_one_place_and_pyproject_reads_it_from_there() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in data["project"]
    assert data["project"]["dynamic"] == ["version"]
    assert data["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mcp_server.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?", __version__)


def test_the_bundle_manifest_matches_the_package_and_asks_for_url_key_and_access(pyproject: dict[str, Any]) -> None:
    manifest = load("manifest.json")
    assert manifest["name"] == pyproject["name"]
    assert manifest["version"] == __version__
    assert manifest["license"] == pyproject["license"]
    env = manifest["server"]["mcp_config"]["env"]
    config = manifest["user_config"]
    # Each user_config value reaches the server through a variable it reads, and each variable is filled.
    assert set(env) <= set(_ENV_VARS)
    assert {v.removeprefix("${user_config.").removesuffix("}") for v in env.values()} == set(config)
    assert config["api_key"]["sensitive"] is True
    assert config["zerobyte_url"]["required"] is True
    assert config["access"]["default"] == "read-only"
    for choice in ("read-only", "operate", "full"):
        assert choice in config["access"]["description"]


def test_the_registry_entry_matches_the_package_and_names_only_variables_the_server_reads(
    pyproject: dict[str, Any],
) -> None:
    server = load("server.json")
    assert server["version"] == __version__
    assert server["name"] == "io.github.zerobyte-mcp/zerobyte-mcp"
    assert len(server["description"]) <= 100  # the registry's limit
    assert server["repository"]["url"] == REPOSITORY
    (package,) = server["packages"]
    assert package["registryType"] == "pypi"
    assert package["identifier"] == pyproject["name"]
    assert package["version"] == __version__
    assert package["transport"] == {"type": "stdio"}
    variables = {v["name"]: v for v in package["environmentVariables"]}
    assert set(variables) <= set(_ENV_VARS)
    assert variables["ZEROBYTE_URL"]["isRequired"] is True
    assert variables["ZEROBYTE_API_KEY"]["isSecret"] is True
    assert variables["ZEROBYTE_MCP_ACCESS"]["default"] == "read-only"


def test_project_urls_name_one_repository(pyproject: dict[str, Any]) -> None:
    urls = pyproject["urls"]
    assert all(url.startswith(REPOSITORY) for url in urls.values())
    manifest = load("manifest.json")
    assert manifest["repository"]["url"] == REPOSITORY
    assert manifest["homepage"].startswith(REPOSITORY)


def test_the_changelog_has_a_section_for_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE)
    assert f"[{__version__}]: {REPOSITORY}/releases/tag/v{__version__}" in changelog


def test_version_flag_prints_the_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"zerobyte-mcp {__version__}"


def drift(manifest: dict[str, Any], server: dict[str, Any], name: str, version: str) -> list[str]:
    """Where the bundle manifest or the registry entry disagrees with the package's name and version."""
    found = {
        "manifest.json name": manifest.get("name"),
        "manifest.json version": manifest.get("version"),
        "server.json version": server.get("version"),
    }
    for i, package in enumerate(server.get("packages") or []):
        found[f"server.json packages[{i}].identifier"] = package.get("identifier")
        found[f"server.json packages[{i}].version"] = package.get("version")
    want = {k: name if k.endswith(("name", "identifier")) else version for k in found}
    return [f"{k} is {v!r}, pyproject says {want[k]!r}" for k, v in found.items() if v != want[k]]


def test_manifest_and_registry_entry_do_not_drift_from_pyproject(pyproject: dict[str, Any]) -> None:
    assert drift(load("manifest.json"), load("server.json"), pyproject["name"], __version__) == []


def test_a_release_that_bumps_only_the_package_version_is_caught(pyproject: dict[str, Any]) -> None:
    problems = drift(load("manifest.json"), load("server.json"), pyproject["name"], "9.9.9")
    assert problems == [
        f"manifest.json version is {__version__!r}, pyproject says '9.9.9'",
        f"server.json version is {__version__!r}, pyproject says '9.9.9'",
        f"server.json packages[0].version is {__version__!r}, pyproject says '9.9.9'",
    ]
    renamed = drift(load("manifest.json") | {"name": "zerobyte"}, load("server.json"), pyproject["name"], __version__)
    assert renamed == ["manifest.json name is 'zerobyte', pyproject says 'zerobyte-mcp'"]


def test_the_distribution_guide_names_only_real_variables_files_and_commands() -> None:
    from mcp_server.cli import _parser

    guide = (ROOT / "docs" / "distribution.md").read_text(encoding="utf-8")
    variables = set(re.findall(r"\bZEROBYTE_[A-Z_]+\b", guide))
    assert variables
    assert variables <= {*_ENV_VARS, "ZEROBYTE_MCP_CONFIG"}
    for path in [
        *re.findall(r"`((?:packaging|\.ci)/[\w./-]+)`", guide),
        "CHANGELOG.md",
        "manifest.json",
        "server.json",
    ]:
        assert (ROOT / path).exists(), path
    commands = set(re.findall(r"zerobyte-mcp (check|health|snippet|index|serve)\b", guide))
    sub = next(a for a in _parser()._actions if a.dest == "command")
    assert commands and commands <= set(sub.choices or {})


def test_the_compose_snippet_mounts_the_secrets_where_the_image_reads_them() -> None:
    guide = (ROOT / "docs" / "distribution.md").read_text(encoding="utf-8")
    image = (ROOT / "packaging" / "container" / "Containerfile").read_text(encoding="utf-8")
    for name in ("zerobyte_api_key", "zerobyte_mcp_token"):
        assert f"/run/secrets/{name}" in image
        assert f"  {name}:\n    file:" in guide
    assert '"--port", "8765"' in image
    assert '"127.0.0.1:8765:8765"' in guide
    assert "USER 10001" in image and "HEALTHCHECK" in image
