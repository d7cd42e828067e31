#!/usr/bin/env bash
# Installs the real servers and tools the protocol tests capture (idempotent, Debian, as root).
# On the test path only: the demo never waits for these. ../shared/docs/test-servers.md says
# how each is started; tests start them on their own ports in temporary directories.
set -euo pipefail
need=()
for pkg in redis-server postgresql mariadb-server mariadb-client rabbitmq-server \
           nghttp2-server nghttp2-client curl openssl iputils-ping; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-test-servers: installing ${need[*]} from Debian" >&2
  apt-get update -qq
  # No systemd here: the packages' own service starts are refused (policy-rc.d), which is fine.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
