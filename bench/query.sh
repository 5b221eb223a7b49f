#!/usr/bin/env bash
# Query benchmark (issue 3): imports the 10M-row cube as a private dataset (reusing
# bench/import.sh's data directory when it is there), then runs bench/query.py.
# Usage: bench/query.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
SHARED=${NANSEN_SHARED:-../shared}
WORK=target/bench
CUBE="$WORK/cube-$ROWS.csv"
DATA="$WORK/data-query"
mkdir -p "$WORK"
python3 -c "import polars, numpy, duckdb" 2>/dev/null || python3 -m pip install --quiet polars numpy duckdb
[ -f "$CUBE" ] || python3 "$SHARED/tools/gen_sdmx_cube.py" "$ROWS" "$CUBE"
cargo build --release --quiet
NANSEN=target/release/nansen
if [ ! -f "$DATA/.cube-$ROWS" ]; then
  rm -rf "$DATA"
  $NANSEN --data-dir "$DATA" org add euaa --name "EU Asylum Agency" 2>/dev/null
  echo "a long bench password" | $NANSEN --data-dir "$DATA" user add bench@euaa.eu --org euaa --role analyst 2>/dev/null
  $NANSEN --data-dir "$DATA" dataset import "$CUBE" --org euaa --dataset cube >/dev/null 2>&1   # private by default
  touch "$DATA/.cube-$ROWS"
fi
python3 bench/query.py "$CUBE" "$DATA" "$NANSEN"
