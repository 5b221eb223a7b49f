#!/usr/bin/env bash
# The whole test suite: every crate, store tests on SQLite and (when a server answers, and
# always under CI) on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace "$@"
