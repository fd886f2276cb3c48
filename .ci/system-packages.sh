#!/usr/bin/env bash
# Debian packages the later CI steps need and a fresh machine lacks: podman, runc and debootstrap for the
# container check (.ci/container.sh), chromium for the MCP App browser tests (tests/app). Installed only when
# missing, only as root with apt-get; otherwise it says why and the steps that need them skip with their own reason.
# Run in the background by .ci/run while pip works.
set -euo pipefail
want=(podman runc debootstrap chromium)
missing=()
for p in "${want[@]}"; do command -v "$p" >/dev/null || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && { echo "system packages: all present (${want[*]})"; exit 0; }
command -v apt-get >/dev/null || { echo "system packages: no apt-get; missing ${missing[*]}"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "system packages: not root; missing ${missing[*]}"; exit 0; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
