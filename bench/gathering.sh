#!/usr/bin/env bash
# Data-gathering benchmark (issue 17): a template of 200 origins by 3 sexes by 6 ages by 5
# indicators (18,000 cells a return) for 30 reporters with 60 months of history
# (crates/nansen-app/examples/gathering.rs). Prints the time to make the period's workbook, to
# validate a filled one (filled by openpyxl, as Excel would), to approve it into a version of a
# dataset already holding 29 other reporters' returns, and to compute the completeness matrix
# of 30 reporters by 60 periods; and pandas.read_excel on the same sheet for scale (reading
# only). Runs on SQLite, then on PostgreSQL when NANSEN_BENCH_POSTGRES names a server
# (postgres://USER@HOST:PORT; a database nansen_bench_gathering is made afresh there).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=target/bench/gathering
mkdir -p "$WORK"
python3 -c "import openpyxl, pandas" 2>/dev/null || python3 -m pip install --quiet openpyxl pandas
cargo build --release --quiet -p nansen-app --example gathering
target/release/examples/gathering "$WORK/sqlite"
if [ -n "${NANSEN_BENCH_POSTGRES:-}" ]; then
  psql "$NANSEN_BENCH_POSTGRES/postgres" -qc "DROP DATABASE IF EXISTS nansen_bench_gathering" -c "CREATE DATABASE nansen_bench_gathering"
  target/release/examples/gathering "$WORK/postgres" "$NANSEN_BENCH_POSTGRES/nansen_bench_gathering"
fi
