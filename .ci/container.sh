#!/usr/bin/env bash
# Build packaging/container/Containerfile with podman and run the image as compose would: the API key and the
# bearer token as files under /run/secrets, HTTP on 8765, the HEALTHCHECK, /status with the token, non-root.
# Base images may come only from Debian here, so the base is made with debootstrap (python3, python3-venv) and
# `podman import`, cached in $CI_CONTAINER_DIR. Skips, saying why, when podman, runc or debootstrap cannot run
# (.ci/package.sh has already run the image's exact entry command from the wheel).
# On these machines podman needs: runc (crun refuses hybrid cgroups) and no default ulimits (no CAP_SYS_RESOURCE).
# Env: WHEEL (the built wheel), CI_CONTAINER_DIR (cache), PODMAN (command).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${CI_CONTAINER_DIR:-$ROOT/.ci-container}
PODMAN=${PODMAN:-podman}
BASE=localhost/zerobyte-mcp-ci-base:bookworm
IMAGE=localhost/zerobyte-mcp-ci:latest

skip() { echo "SKIP container: $1 (the image's entry command was tested from the wheel instead)"; exit 0; }
command -v "$PODMAN" >/dev/null || skip "no podman here (Debian: apt-get install podman runc debootstrap)"
command -v runc >/dev/null || skip "no runc (Debian: apt-get install runc)"
mkdir -p "$CACHE"
export CONTAINERS_CONF=$CACHE/containers.conf
printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n' >"$CONTAINERS_CONF"
run() { timeout "${TIMEOUT:-300}" "$PODMAN" "$@"; }

echo "== container: podman $("$PODMAN" --version | awk '{print $3}') with runc"
if ! run image exists "$BASE" 2>/dev/null; then
  command -v debootstrap >/dev/null || skip "no debootstrap to make a Debian base image"
  [ "$(id -u)" = 0 ] || skip "debootstrap needs root"
  echo "   making the Debian base image (debootstrap bookworm: python3, python3-venv; once per cache)"
  rm -rf "$CACHE/rootfs"
  TIMEOUT=900 timeout 900 debootstrap --variant=minbase --include=python3,python3-venv,passwd bookworm "$CACHE/rootfs" \
    http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log" >&2; skip "debootstrap failed"; }
  rm -rf "$CACHE/rootfs"/var/cache/apt/archives/*.deb "$CACHE/rootfs"/var/lib/apt/lists/*
  tar -C "$CACHE/rootfs" -c . | run import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$CACHE/rootfs"
fi
run run --rm "$BASE" /bin/true 2>"$CACHE/run.err" || skip "podman cannot run a container here: $(tail -1 "$CACHE/run.err")"

CONTEXT=$(mktemp -d)
CID=
cleanup() {
  [ -n "$CID" ] && "$PODMAN" rm -f "$CID" >/dev/null 2>&1 || true
  rm -rf "$CONTEXT"
}
trap cleanup EXIT
mkdir -p "$CONTEXT/dist" "$CONTEXT/packaging/container" "$CONTEXT/secrets"
PY=$(dirname "$(dirname "$WHEEL")")/venv/bin/python # package.sh's fresh venv (it has the simulator)
[ -x "$PY" ] || PY=python
# An offline build: the wheel and its dependencies (for this Python, as the base has the same 3.11) in dist/.
"$PY" -m pip download --quiet --disable-pip-version-check -d "$CONTEXT/dist" "${WHEEL:?set WHEEL to the built wheel}" \
  >"$CACHE/download.log" 2>&1 || { cat "$CACHE/download.log" >&2; echo "FAIL: pip download" >&2; exit 1; }
cp packaging/container/Containerfile "$CONTEXT/packaging/container/"
echo "   building the image from the wheel"
run build --quiet --format docker --network none --build-arg PYTHON_IMAGE="$BASE" --build-arg PIP_NO_INDEX=1 -f packaging/container/Containerfile \
  -t "$IMAGE" "$CONTEXT" >"$CACHE/build.log" 2>&1 || { tail -30 "$CACHE/build.log" >&2; echo "FAIL container build" >&2; exit 1; }

# A simulated Zerobyte on the host's loopback (the container shares the host network here).
KEY=zb_container_ci_key_0123456789 TOKEN=container-ci-token-0123456789abcdef
printf '%s\n' "$KEY" >"$CONTEXT/secrets/zerobyte_api_key"
printf '%s\n' "$TOKEN" >"$CONTEXT/secrets/zerobyte_mcp_token"
chmod 644 "$CONTEXT/secrets/"* # read by uid 10001 inside
"$PY" - "$KEY" >"$CONTEXT/sim.url" 2>"$CONTEXT/sim.log" <<'EOF' &
import sys, time
from mcp_server.simulator import Simulator, SimulatorServer, seed_demo
sim = Simulator(api_keys=[sys.argv[1]])
seed_demo(sim)
with SimulatorServer(sim) as running:
    print(running.url, flush=True)
    time.sleep(600)
EOF
SIM=$!
trap 'kill $SIM 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -s "$CONTEXT/sim.url" ] && break; sleep 0.1; done
URL=$(cat "$CONTEXT/sim.url")
[ -n "$URL" ] || { cat "$CONTEXT/sim.log" >&2; echo "FAIL: the simulator did not start" >&2; exit 1; }
PORT=8765 # the image's port, which its HEALTHCHECK probes; the container shares the host's network here
if "$PY" -c 'import socket,sys; sys.exit(socket.socket().connect_ex(("127.0.0.1", 8765)) != 0)'; then
  echo "FAIL: port 8765 (the image's) is in use on this machine" >&2
  exit 1
fi

# (podman logs "unable to get systemd connection" for the health timer here: `healthcheck run` below needs none)
CID=$(run run -d --network host -e ZEROBYTE_URL="$URL" \
  -v "$CONTEXT/secrets:/run/secrets:ro" "$IMAGE" 2>"$CACHE/run.err") || { cat "$CACHE/run.err" >&2; exit 1; }
status=starting
for _ in $(seq 60); do
  if run healthcheck run "$CID" >/dev/null 2>&1; then status=healthy; break; fi
  sleep 0.5
done
[ "$status" = healthy ] || { run logs "$CID" >&2; echo "FAIL: the container's HEALTHCHECK never passed" >&2; exit 1; }
user=$(run exec "$CID" id -u)
[ "$user" = 10001 ] || { echo "FAIL: the server runs as uid $user, not 10001" >&2; exit 1; }
"$PY" - "http://127.0.0.1:$PORT" "$TOKEN" "$KEY" <<'EOF'
import json, sys, urllib.error, urllib.request
base, token, key = sys.argv[1:]
try:
    urllib.request.urlopen(f"{base}/status", timeout=10)
    sys.exit("FAIL: /status answered without the token")
except urllib.error.HTTPError as exc:
    assert exc.code == 401, exc.code
body = urllib.request.urlopen(
    urllib.request.Request(f"{base}/status", headers={"Authorization": f"Bearer {token}"}), timeout=30
).read().decode()
verdict = json.loads(body)["verdict"]
assert verdict in ("ok", "warning", "critical"), body[:300]
assert key not in body and token not in body
print(f"ok   container: healthy, runs as uid 10001, key and token from /run/secrets, /status says {verdict!r}")
EOF
if run logs "$CID" 2>&1 | grep -qF -e "$KEY" -e "$TOKEN"; then
  echo "FAIL: the container logged a secret" >&2
  exit 1
fi
