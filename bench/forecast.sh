#!/usr/bin/env bash
# Forecast skill and speed (issue 5): Eurostat's monthly asylum applications file from
# ../shared/data/eurostat/, imported with `nansen dataset import`; `nansen backtest` with
# H=3 and W=24 on the series ../shared/tools/statsforecast_baseline.py selects; that script
# run with --warmup in the same run. Prints each model's MASE, sMAPE, 80% coverage, MSIS and
# wall time, and auto's MASE against the best of statsforecast's four.
# Then the months of 2014 and 2015 each detection rule flags for Germany, Hungary and Sweden.
#
# Usage: bench/forecast.sh        (needs python3 with pandas and statsforecast)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${NANSEN_SHARED:-../shared}
FILE="$SHARED/data/eurostat/migr_asyappctzm_2008-2015_monthly_by_destination.csv"
WORK=target/bench/forecast
rm -rf "$WORK" && mkdir -p "$WORK"
python3 -c "import pandas, statsforecast" 2>/dev/null || python3 -m pip install --quiet pandas statsforecast
cargo build --release --quiet
NANSEN="target/release/nansen --data-dir $WORK/data"

$NANSEN org add bench --name Bench 2>/dev/null
$NANSEN dataset import "$FILE" --org bench --dataset monthly >/dev/null 2>&1

# The series the reference selects, by its own rule (complete, and over 90% positive), and
# the same history: the file's last month is incomplete and is left out by both.
SERIES=$(python3 - "$FILE" <<'PY'
import sys, pandas as pd
d = pd.read_csv(sys.argv[1], dtype=str)
d = d[(d.CITIZEN == "Total") & (d.SEX == "Total") & (d.AGE == "Total")]
d["y"] = pd.to_numeric(d["Value"].str.replace(",", ""), errors="coerce")
d["ds"] = pd.to_datetime(d["TIME"].str.replace("M", "-") + "-01")
d = d[d.ds < d.ds.max()]
ok = d.groupby("GEO")["y"].apply(lambda s: s.notna().all() and (s > 0).mean() > 0.9)
print(",".join(sorted(ok[ok].index)))
PY
)
LAST=$(python3 -c "import pandas as pd,sys; d=pd.read_csv(sys.argv[1],dtype=str); t=sorted(d.TIME.unique()); print(t[-2].replace('M','-'))" "$FILE")

echo "== statsforecast (reference, warm)"
python3 "$SHARED/tools/statsforecast_baseline.py" "$FILE" --warmup | tee "$WORK/reference.txt"

echo "== Nansen"
START=$(date +%s.%N)
$NANSEN backtest bench/monthly --where "geo=$SERIES" --period "..$LAST" --series-by geo --horizon 3 --windows 24 --model all \
  --details "$WORK/details.csv" > "$WORK/scores.csv" 2> "$WORK/nansen.txt"
END=$(date +%s.%N)
cat "$WORK/nansen.txt"
python3 - "$WORK/reference.txt" "$WORK/nansen.txt" "$START" "$END" <<'PY'
import re, sys
ref = open(sys.argv[1]).read()
ours = open(sys.argv[2]).read()
ref_secs = float(re.search(r"fit_seconds=([\d.]+)", ref).group(1))
ref_mase = {m: float(v) for m, v in re.findall(r"^(\w+)\s+MASE=([\d.]+)", ref, re.M)}
best_name = min(("Naive", "SeasonalNaive", "AutoETS", "AutoTheta", "AutoARIMA"), key=lambda m: ref_mase.get(m, 9e9))
best = min(v for m, v in ref_mase.items() if m in ("AutoETS", "AutoTheta", "AutoARIMA", "SeasonalNaive", "Naive"))
auto = re.search(r"auto\s+MASE ([\d.]+)\s+sMAPE ([\d.]+)\s+coverage80 ([\d.]+)", ours)
secs = float(re.search(r"in ([\d.]+) s", ours).group(1))
wall = float(sys.argv[4]) - float(sys.argv[3])
mase, cov = float(auto.group(1)), float(auto.group(3))
print(f"\nauto MASE {mase:.3f} against the best of statsforecast ({best_name}) {best:.3f}: {100 * (mase / best - 1):+.1f}%  (bar: lower; goal: -10%)")
print(f"auto 80% coverage {cov:.3f}  (bar: 0.78 to 0.85)")
print(f"time: nansen backtest of all six models {secs:.2f} s ({wall:.2f} s with process start and loading); statsforecast warm {ref_secs:.1f} s: {ref_secs / wall:.1f}x faster (bar: 10x)")
PY

echo
echo "== Detection: the months of 2014 and 2015 each rule flags (the file ends at $LAST)"
$NANSEN detect bench/monthly --where geo=DEU,HUN,SWE --period "..$LAST" --series-by geo --from 2014-01 --alarms > "$WORK/detect.csv"
python3 - "$WORK/detect.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for rule in ("c1", "c2", "c3", "farrington", "cusum"):
    print(rule)
    for geo in ("DEU", "HUN", "SWE"):
        months = [r["period"] for r in rows if r["rule"] == rule and r["geo"] == geo]
        print(f"  {geo}: {', '.join(months) if months else 'none'}")
PY
