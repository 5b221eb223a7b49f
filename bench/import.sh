#!/usr/bin/env bash
# Import benchmark (issue 2, DESIGN section 7): a 10-million-row SDMX-CSV cube from
# ../shared/tools/gen_sdmx_cube.py, imported by `nansen dataset import` on the embedded
# default and loaded into DuckDB (../shared/tools/duckdb_baseline.py) in the same run;
# checks both hold the same totals, prints both times, their ratio and Nansen's peak memory,
# and the PostgreSQL time beside it. Then (issue 14) a re-import of the same file, and a
# 50-million-row cube imported into a fresh dataset, with their peak memory: an import's memory
# must not grow with the file (bar: under 1 GB at 50 million rows).
#
# Usage: bench/import.sh [ROWS]        (default 10000000; needs python3 with polars, numpy, duckdb)
#        NANSEN_BENCH_SCALE_ROWS=0 skips the large cube (it takes about 6 GB of disk).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
SHARED=${NANSEN_SHARED:-../shared}
WORK=target/bench
mkdir -p "$WORK"
CUBE="$WORK/cube-$ROWS.csv"
python3 -c "import polars, numpy, duckdb" 2>/dev/null || python3 -m pip install --quiet polars numpy duckdb
[ -f "$CUBE" ] || python3 "$SHARED/tools/gen_sdmx_cube.py" "$ROWS" "$CUBE"
cargo build --release --quiet
NANSEN=target/release/nansen

echo "== DuckDB (reference)"
DUCK=$(python3 "$SHARED/tools/duckdb_baseline.py" "$CUBE" | tee /dev/stderr | awk -F'seconds=' '/^ingest/{print $2}')

run_import() { # $1 label, rest: extra args
  local label=$1; shift
  local dir="$WORK/data-$label"
  rm -rf "$dir"
  $NANSEN --data-dir "$dir" "$@" org add euaa --name "EU Asylum Agency" 2>/dev/null
  sync
  /usr/bin/time -f "%e %M" -o "$WORK/time-$label" $NANSEN --data-dir "$dir" "$@" dataset import "$CUBE" --org euaa --dataset cube >/dev/null 2>"$WORK/log-$label"
  read -r secs kb < "$WORK/time-$label"
  echo "$secs $kb"
}

echo "== Nansen, embedded SQLite"
read -r SQLITE_S SQLITE_KB < <(run_import sqlite)
echo "import seconds=$SQLITE_S peak_rss_mb=$((SQLITE_KB / 1024))"

# Same totals: applications by destination (sex T, age TOTAL, applicant ASY_APP), and the count.
python3 - "$CUBE" > "$WORK/duck-totals.csv" <<'PY'
import sys, duckdb
con = duckdb.connect()
con.execute(f"CREATE TABLE obs AS SELECT * FROM read_csv('{sys.argv[1]}', header=true, all_varchar=false, nullstr=':')")
print("geo,value")
for geo, v in con.execute("select geo, sum(OBS_VALUE) from obs where applicant='ASY_APP' and sex='T' and age='TOTAL' group by geo order by geo").fetchall():
    print(f"{geo},{int(v)}")
# Nansen keeps an observation that has a value or a flag (': p' is provisional and not available).
q = """select count(*) from obs where OBS_VALUE is not null or coalesce(OBS_FLAG, '') <> ''"""
print(f"count,{con.execute(q).fetchone()[0]}")
PY
$NANSEN --data-dir "$WORK/data-sqlite" query euaa/cube --where applicant=ASY_APP --where sex=T --where age=TOTAL --group-by geo > "$WORK/nansen-totals.csv"
COUNT=$($NANSEN --data-dir "$WORK/data-sqlite" dataset list | awk -F'\t' '$1=="euaa/cube"{print $4}')
# Nansen writes alpha-3 codes; map DuckDB's Eurostat codes the same way for the comparison.
python3 - "$WORK/duck-totals.csv" "$WORK/nansen-totals.csv" "$COUNT" <<'PY'
import sys, csv
duck = dict(csv.reader(open(sys.argv[1])))
count = int(duck.pop("count")); duck.pop("geo")
ours = dict(csv.reader(open(sys.argv[2]))); ours.pop("geo")
iso = {"AT":"AUT","BE":"BEL","BG":"BGR","CY":"CYP","CZ":"CZE","DE":"DEU","DK":"DNK","EE":"EST","EL":"GRC","ES":"ESP","FI":"FIN","FR":"FRA","HR":"HRV","HU":"HUN","IE":"IRL","IT":"ITA","LT":"LTU","LU":"LUX","LV":"LVA","MT":"MLT","NL":"NLD","PL":"POL","PT":"PRT","RO":"ROU","SE":"SWE","SI":"SVN","SK":"SVK","CH":"CHE","NO":"NOR","IS":"ISL","LI":"LIE","UK":"GBR"}
duck = {iso[k]: v for k, v in duck.items()}
assert duck == ours, f"totals differ: {set(duck.items()) ^ set(ours.items())}"
assert count == int(sys.argv[3]), f"observations: DuckDB {count}, Nansen {sys.argv[3]}"
print(f"checked: {len(ours)} destination totals and {count} observations agree with DuckDB")
PY

PG_URL=${NANSEN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
PG_S="n/a"
if psql "$PG_URL" -c "select 1" >/dev/null 2>&1; then
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS nansen_bench" -c "CREATE DATABASE nansen_bench" >/dev/null
  read -r PG_S PG_KB < <(run_import postgres --database-url "${PG_URL%/*}/nansen_bench")
  echo "== Nansen, PostgreSQL: import seconds=$PG_S peak_rss_mb=$((PG_KB / 1024))"
fi

# The same file again, into a copy (bench/query.sh reuses data-sqlite as it is): compared
# with the content, nothing changes.
rm -rf "$WORK/data-again" && cp -r "$WORK/data-sqlite" "$WORK/data-again"
/usr/bin/time -f "%e %M" -o "$WORK/time-again" $NANSEN --data-dir "$WORK/data-again" dataset import "$CUBE" --org euaa --dataset cube >/dev/null 2>"$WORK/log-again"
read -r AGAIN_S AGAIN_KB < "$WORK/time-again"
rm -rf "$WORK/data-again"

# A cube larger than any machine should hold. The reference generator keeps every row in
# memory (it is killed past about 20 million rows here), so the large cube is made of
# 10-million-row cubes from it, each moved on in time by the 44 months one spans.
SCALE_ROWS=${NANSEN_BENCH_SCALE_ROWS:-50000000}
SCALE_S="n/a"; SCALE_KB=0
if [ "$SCALE_ROWS" != 0 ]; then
  PIECE="$WORK/cube-10000000.csv"
  [ -f "$PIECE" ] || python3 "$SHARED/tools/gen_sdmx_cube.py" 10000000 "$PIECE"
  BIG="$WORK/cube-$SCALE_ROWS.csv"
  if [ ! -f "$BIG" ]; then
    head -1 "$PIECE" > "$BIG.part"
    for ((k = 0; k * 10000000 < SCALE_ROWS; k++)); do
      awk -F, -v OFS=, -v shift=$((k * 44)) 'NR > 1 { split($10, a, "-"); m = (a[1] - 2008) * 12 + a[2] - 1 + shift; $10 = sprintf("%d-%02d", 2008 + int(m / 12), m % 12 + 1); print }' "$PIECE"
    done | head -n "$SCALE_ROWS" >> "$BIG.part"
    mv "$BIG.part" "$BIG"
  fi
  rm -rf "$WORK/data-scale"
  $NANSEN --data-dir "$WORK/data-scale" org add euaa --name "EU Asylum Agency" 2>/dev/null
  /usr/bin/time -f "%e %M" -o "$WORK/time-scale" $NANSEN --data-dir "$WORK/data-scale" dataset import "$BIG" --org euaa --dataset cube >/dev/null 2>"$WORK/log-scale"
  read -r SCALE_S SCALE_KB < "$WORK/time-scale"
  rm -rf "$WORK/data-scale"
fi

python3 - "$DUCK" "$SQLITE_S" "$SQLITE_KB" "$PG_S" "$ROWS" "$AGAIN_S" "$AGAIN_KB" "$SCALE_ROWS" "$SCALE_S" "$SCALE_KB" <<'PY'
import sys
duck, ours, kb, pg = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
again_s, again_kb = float(sys.argv[6]), int(sys.argv[7])
scale_rows, scale_s, scale_kb = int(sys.argv[8]), sys.argv[9], int(sys.argv[10])
print()
print(f"rows                 {sys.argv[5]}")
print(f"DuckDB read_csv      {duck:.2f} s")
print(f"Nansen import        {ours:.2f} s   ratio {ours/duck:.2f}x DuckDB (bar: at most 2x)")
print(f"Nansen peak memory   {kb/1024:.0f} MB (bar: under 1024 MB)")
print(f"Nansen on PostgreSQL {pg} s")
print(f"Re-import, unchanged {again_s:.2f} s, peak memory {again_kb/1024:.0f} MB (the content is held to compare with)")
if scale_rows:
    verdict = "under the bar" if scale_kb < 1024 * 1024 else "OVER THE BAR"
    print(f"{scale_rows} rows      {scale_s} s, peak memory {scale_kb/1024:.0f} MB ({verdict}: 1024 MB)")
PY
