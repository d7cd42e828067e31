#!/usr/bin/env bash
# Installs what the VS Code e2e suite needs (docs/extension.md, shared vscode-e2e-offline doc):
# Debian's chromium & co, and code-server@4.100.3 from npm into a cache OUTSIDE the checkout.
# Idempotent: a second run finds everything in place and returns in well under a second.
# Prints the code-server folder on stdout (the e2e runner reads it).
set -euo pipefail

CS_VERSION=4.100.3
CACHE_ROOT="${WIREHOOK_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wirehook}"
CS_DIR="$CACHE_ROOT/code-server-$CS_VERSION"
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"

need=()
for pkg in chromium libkrb5-dev pkg-config ripgrep build-essential python3 tcpdump; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-e2e: installing ${need[*]} from Debian" >&2
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -f "$CS_ENTRY" ] && [ -d "$CS_DIR/node_modules/code-server/lib/vscode/node_modules" ]; then
  echo "$CS_DIR/node_modules/code-server"
  exit 0
fi

echo "setup-e2e: installing code-server@$CS_VERSION into $CS_DIR (about a minute)" >&2
mkdir -p "$CS_DIR"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# @vscode/ripgrep's postinstall looks in os.tmpdir() for its download before fetching from the
# internet: hand it Debian's rg in the tarball shape it expects.
rgcache="$tmp/vscode-ripgrep-cache-1.15.11"
mkdir -p "$rgcache/pack"
cp /usr/bin/rg "$rgcache/pack/rg"
tar -czf "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$rgcache/pack" rg
[ -f "$CS_DIR/package.json" ] || echo '{"name":"wirehook-e2e-cache","private":true}' > "$CS_DIR/package.json"
(
  cd "$CS_DIR"
  # unsafe_perm: its postinstall refuses root otherwise; yes: node-pty runs `npx node-gyp`;
  # nodedir: node-gyp builds against the local headers instead of downloading them.
  TMPDIR="$tmp" npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr \
    npm install --no-audit --no-fund --no-save "code-server@$CS_VERSION" >&2
)
if [ ! -d "$CS_DIR/node_modules/code-server/lib/vscode/node_modules" ]; then
  echo "setup-e2e: code-server's postinstall did not complete (lib/vscode/node_modules missing)" >&2
  exit 1
fi
echo "$CS_DIR/node_modules/code-server"
