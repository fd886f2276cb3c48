#!/usr/bin/env bash
# Pack the Claude Desktop bundle: packaging/mcpb/pack.sh [OUT_DIR]  ->  OUT_DIR/zerobyte-mcp-VERSION.mcpb
# Server type "uv": the bundle carries the package's source and a pyproject.toml with its dependencies; Claude
# Desktop installs Python and those dependencies itself. Needs the mcpb CLI (npm: @anthropic-ai/mcpb) on PATH
# or in $MCPB.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$(realpath -m "${1:-dist}")
MCPB=${MCPB:-mcpb}
PY=${PYTHON:-python3}
command -v "$MCPB" >/dev/null || { echo "pack.sh: no mcpb CLI (npm install -g @anthropic-ai/mcpb, or set MCPB)" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
version=$("$PY" -c 'import re,sys; print(re.search(r"__version__ = \"([^\"]+)\"", open("mcp_server/__init__.py").read())[1])')
git ls-files mcp_server | while read -r f; do mkdir -p "$STAGE/$(dirname "$f")"; cp "$f" "$STAGE/$f"; done
cp manifest.json LICENSE README.md packaging/mcpb/server.py "$STAGE/"
# The bundle's pyproject: the package's own dependencies, nothing to build (server.py imports the copied source).
"$PY" - "$STAGE/pyproject.toml" "$version" <<'PYEOF'
import json, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
deps = ",\n".join(f"    {json.dumps(d)}" for d in project["dependencies"])
open(sys.argv[1], "w").write(
    f'[project]\nname = "{project["name"]}-bundle"\nversion = "{sys.argv[2]}"\n'
    f'description = "Claude Desktop bundle of {project["name"]}"\nrequires-python = "{project["requires-python"]}"\n'
    f"dependencies = [\n{deps},\n]\n\n[tool.uv]\npackage = false\n"
)
PYEOF
printf '.venv/\n__pycache__/\n*.pyc\n' >"$STAGE/.mcpbignore"
"$MCPB" validate "$STAGE/manifest.json"
mkdir -p "$OUT"
"$MCPB" pack "$STAGE" "$OUT/zerobyte-mcp-$version.mcpb" >/dev/null
echo "$OUT/zerobyte-mcp-$version.mcpb"
