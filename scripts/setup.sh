#!/usr/bin/env bash
# Installs everything Wirehook's demo and tests need on a fresh Debian machine (as root).
# Idempotent: packages already present are skipped, node_modules is reused when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libpcap-dev tshark tcpdump dnsutils unzip; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} from Debian" >&2
  apt-get update -qq
  # tshark otherwise stops on a debconf question about non-root capture.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# node-gyp (for the optional `cap` live-capture addon) must build against the local headers.
export npm_config_nodedir=/usr
stamp=node_modules/.wirehook-lock-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >/dev/null
  touch "$stamp"
fi
