#!/usr/bin/env bash
# Load and stampede benchmark (issue 12): 50 concurrent readers on the 10-million-row cube,
# first alone, then while new versions land from another process (as from another node, so
# this server has to build the new cube itself). Prints throughput, p50/p99, errors and peak
# memory for both phases; the bar is p99 while landing at most 3 times p99 before, no
# errors, every answer the old or the new version.
# Usage: bench/load.sh [ROWS] [SECONDS_PER_PHASE]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
SECONDS_PER_PHASE=${2:-30}
SHARED=${NANSEN_SHARED:-../shared}
WORK=target/bench
CUBE="$WORK/cube-$ROWS.csv"
DATA="$WORK/data-load"
mkdir -p "$WORK"
[ -f "$CUBE" ] || python3 "$SHARED/tools/gen_sdmx_cube.py" "$ROWS" "$CUBE"
cargo build --release --quiet
NANSEN=target/release/nansen
if [ ! -f "$DATA/.cube-$ROWS" ]; then
  rm -rf "$DATA"
  $NANSEN --data-dir "$DATA" org add euaa --name "EU Asylum Agency" 2>/dev/null
  echo "a long bench password" | $NANSEN --data-dir "$DATA" user add bench@euaa.eu --org euaa --role analyst 2>/dev/null
  $NANSEN --data-dir "$DATA" dataset import "$CUBE" --org euaa --dataset cube >/dev/null 2>&1   # private: reads are checked and audited
  touch "$DATA/.cube-$ROWS"
fi
python3 bench/load.py "$CUBE" "$DATA" "$NANSEN" "$SECONDS_PER_PHASE"
