#!/usr/bin/env bash
# Cases benchmark (issue 15): 100,000 generated households registered by `nansen case import`,
# then list, open, register-with-duplicate-check and pipeline timings over HTTP, on SQLite and,
# when a server answers, on PostgreSQL (a database of its own, made and dropped here).
# Usage: bench/cases.sh [HOUSEHOLDS]
set -euo pipefail
cd "$(dirname "$0")/.."
HOUSEHOLDS=${1:-100000}
WORK=target/bench
PG=${NANSEN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
mkdir -p "$WORK"
cargo build --release --quiet
NANSEN=target/release/nansen
python3 bench/cases.py "$NANSEN" "$WORK" "$HOUSEHOLDS"
if psql "$PG/postgres" -qAtc "select 1" >/dev/null 2>&1; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS nansen_bench_cases" >/dev/null
  psql "$PG/postgres" -qc "CREATE DATABASE nansen_bench_cases" >/dev/null
  python3 bench/cases.py "$NANSEN" "$WORK" "$HOUSEHOLDS" "$PG/nansen_bench_cases"
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS nansen_bench_cases" >/dev/null
else
  echo "PostgreSQL does not answer at $PG: its half skipped"
fi
