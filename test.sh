#!/usr/bin/env bash
# The whole test suite: every crate, store tests on SQLite and (when a server answers, and
# always under CI) on PostgreSQL, and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")"
# The page assets (charts, maps) and axe-core for the accessibility checks, from the npm
# registry by the lock file.
if command -v npm >/dev/null; then
  [ -d web/node_modules ] || npm --prefix web ci --no-audit --no-fund
  npm --prefix web run build --silent
fi
cargo test --workspace "$@"
