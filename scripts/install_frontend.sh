#!/usr/bin/env bash
# Install the JavaScript runtime Reflex builds the frontend with: bun from the npm
# registry into .tools/ (Reflex's own bun download cannot reach its host here, and
# Reflex 0.10 refuses the system Node for its own toolchain). Idempotent and quiet:
# a no-op when .tools/node_modules/.bin/bun already runs.
set -euo pipefail

BUN_VERSION="${BUN_VERSION:-1.4.5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BUN="$TOOLS/node_modules/.bin/bun"

if [[ -x "$BUN" ]] && [[ "$("$BUN" --version 2>/dev/null)" == "$BUN_VERSION" ]]; then
  exit 0
fi

command -v npm >/dev/null || { echo "install_frontend: npm not found on PATH" >&2; exit 1; }

mkdir -p "$TOOLS"
# No --ignore-scripts: bun's postinstall replaces the .bin/bun stub with the real binary.
npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error --no-save "bun@$BUN_VERSION" >/dev/null

if ! "$BUN" --version >/dev/null 2>&1; then
  echo "install_frontend: $BUN is not runnable after install" >&2
  exit 1
fi
echo "install_frontend: bun $("$BUN" --version) in $TOOLS"
