#!/usr/bin/env bash
# Matching benchmark (issue 16): relocation instances written by ../shared/tools/gen_relocation.py
# (its default seed) at 5,000 cases by 25 states and 20,000 by 30, solved by `nansen match solve`
# and by the HiGHS MIP of ../shared/tools/highs_baseline.py in the same run; prints objective,
# bound, gap and seconds side by side with the ratio of times. `seconds` is wall time with the
# file's reading. HIGHS_LARGE=0 leaves HiGHS out of the large instance (it runs for a long time).
# Then a year of weekly batches of the 5,000-case instance (crates/nansen-match/examples/weekly.rs):
# the share of the hindsight optimum's proven bound reached week by week by Nansen's dynamic
# policy (each week solved with an expected future drawn from the arrivals seen so far) and by
# greedy placement.
# Usage: bench/matching.sh [TIME_LIMIT_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=${1:-10}
TOOLS=../shared/tools
WORK=target/bench/matching
mkdir -p "$WORK"
cargo build --release --quiet
cargo build --release --quiet -p nansen-match --example weekly
NANSEN=target/release/nansen
python3 -c "import highspy, numpy" 2>/dev/null || python3 -m pip install --quiet highspy numpy
for size in "5000 25" "20000 30"; do
  set -- $size
  file="$WORK/relocation-$1-$2.json"
  [ -f "$file" ] || python3 "$TOOLS/gen_relocation.py" "$1" "$2" "$file" >/dev/null
  echo "== $1 cases, $2 states"
  start=$(date +%s.%N)
  ours=$("$NANSEN" match solve "$file" --format json --time-limit "$LIMIT" --assignment "$WORK/assignment-$1.csv")
  wall=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
  echo "nansen: $ours (process wall $wall s)"
  if [ "$1" = 20000 ] && [ "${HIGHS_LARGE:-1}" = 0 ]; then
    echo "highs: left out (HIGHS_LARGE=0)"
    continue
  fi
  highs=$(python3 "$TOOLS/highs_baseline.py" "$file" 2>/dev/null | grep -E "^(vars|greedy)")
  echo "highs: $highs"
  python3 - "$ours" "$highs" <<'PY'
import json, re, sys
ours = json.loads(sys.argv[1]); h = sys.argv[2]
obj = float(re.search(r"objective=([0-9.]+)", h).group(1)); secs = float(re.search(r"highs_seconds=([0-9.]+)", h).group(1))
greedy = float(re.search(r"greedy objective=([0-9.]+)", h).group(1))
print(f"{'':14}{'objective':>12}{'bound':>12}{'gap':>10}{'seconds':>10}")
print(f"{'nansen':14}{ours['objective']:12.1f}{ours['bound']:12.1f}{ours['gap']:10.2e}{ours['seconds']:10.2f}")
print(f"{'highs (MIP)':14}{obj:12.1f}{'':12}{'1e-4':>10}{secs:10.2f}")
print(f"{'greedy':14}{greedy:12.1f}")
print(f"nansen / highs objective {ours['objective'] / obj:.5f}; highs time / nansen time {secs / ours['seconds']:.1f}x")
PY
done

echo "== a year of weekly batches: 5000 cases, 25 states, pledges fixed, arrivals unknown in advance"
target/release/examples/weekly "$WORK/relocation-5000-25.json" 52 0.5
