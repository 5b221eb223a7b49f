#!/usr/bin/env python3
"""Query benchmark (issue 3): the four cube queries through Nansen's HTTP API and CLI and in
DuckDB in memory, five runs each with the filter values varied between runs, medians and
ratios printed, each answer checked against DuckDB's.

Usage: bench/query.py CUBE.csv DATA_DIR NANSEN_BINARY   (run by bench/query.sh)"""
import json, os, statistics, subprocess, sys, time, urllib.request
import duckdb

cube, data_dir, nansen = sys.argv[1], sys.argv[2], sys.argv[3]
ISO = {"AT":"AUT","BE":"BEL","BG":"BGR","CY":"CYP","CZ":"CZE","DE":"DEU","DK":"DNK","EE":"EST","EL":"GRC","ES":"ESP","FI":"FIN","FR":"FRA","HR":"HRV","HU":"HUN","IE":"IRL","IT":"ITA","LT":"LTU","LU":"LUX","LV":"LVA","MT":"MLT","NL":"NLD","PL":"POL","PT":"PRT","RO":"ROU","SE":"SWE","SI":"SVN","SK":"SVK","CH":"CHE","NO":"NOR","IS":"ISL","LI":"LIE","UK":"GBR"}

# Five runs per query, each with other filter values, so no cache of answers helps.
SEXES = ["T", "F", "M", "T", "F"]
YEARS = [2010, 2011, 2009, 2012, 2008]
SERIES = [("SY", "DE"), ("AF", "DE"), ("IQ", "SE"), ("SY", "AT"), ("ER", "IT")]

def duck_queries(i):
    s = SEXES[i]
    flt = f"applicant='ASY_APP' and sex='{s}' and age='TOTAL'"
    return {
        "by_geo_year": f"select geo, sum(OBS_VALUE) from obs where {flt} and TIME_PERIOD like '{YEARS[i]}-%' group by geo",
        "top_citizen": f"select citizen, sum(OBS_VALUE) s from obs where {flt} group by citizen order by s desc limit 10",
        "one_series": f"select TIME_PERIOD, OBS_VALUE from obs where citizen='{SERIES[i][0]}' and geo='{SERIES[i][1]}' and sex='T' and age='TOTAL' and applicant='ASY_APP' order by 1",
        "full_groupby": f"select citizen, geo, sum(OBS_VALUE) from obs where {flt} group by citizen, geo",
    }

def nansen_queries(i):
    s = SEXES[i]
    base = [("where", "applicant:ASY_APP"), ("where", f"sex:{s}"), ("where", "age:TOTAL")]
    return {
        "by_geo_year": base + [("period", f"{YEARS[i]}..{YEARS[i]}"), ("group_by", "geo")],
        "top_citizen": base + [("group_by", "origin"), ("top", "10")],
        "one_series": [("where", f"origin:{SERIES[i][0]}"), ("where", f"geo:{SERIES[i][1]}"), ("where", "sex:T"), ("where", "age:TOTAL"), ("where", "applicant:ASY_APP"), ("group_by", "period")],
        "full_groupby": base + [("group_by", "origin,geo")],
    }

def check(name, duck_rows, ours):
    """Compare answers: keyed by destination where codes map one to one, else as value multisets."""
    ours = [r for r in ours if r.get("origin") != "OTHERS"]
    if name == "by_geo_year":
        d = {ISO[g]: float(v) for g, v in duck_rows}
        o = {r["geo"]: r["value"] for r in ours}
        assert d == o, f"{name}: {d} != {o}"
    elif name == "one_series":
        d = [float(v) if v is not None else None for _, v in duck_rows]
        o = [r["value"] for r in ours]
        assert [x for x in d if x is not None] == [x for x in o if x is not None], f"{name}: {d} != {o}"
    else:
        d = sorted(float(r[-1]) for r in duck_rows if r[-1] is not None)
        o = sorted(r["value"] for r in ours if r["value"] is not None)
        if name == "top_citizen":
            d, o = d[-10:], o[-10:]
        assert d == o, f"{name}: answers differ"

print("== DuckDB in memory")
con = duckdb.connect()
t = time.time()
con.execute(f"CREATE TABLE obs AS SELECT * FROM read_csv('{cube}', header=true, all_varchar=false, nullstr=':')")
print(f"load {time.time() - t:.2f} s")
duck_ms, duck_answers = {}, {}
for i in range(5):
    for name, q in duck_queries(i).items():
        t = time.perf_counter(); rows = con.execute(q).fetchall(); ms = (time.perf_counter() - t) * 1000
        duck_ms.setdefault(name, []).append(ms); duck_answers[(name, i)] = rows

# Nansen server: a fresh start, timed until the cube answers.
token = subprocess.run([nansen, "--data-dir", data_dir, "token", "create", "bench@euaa.eu", "--name", "bench"], capture_output=True, text=True, check=True).stdout.strip()
port = 8097
start = time.time()
server = subprocess.Popen([nansen, "--data-dir", data_dir, "serve", "--bind", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
try:
    def get(params):
        url = f"http://127.0.0.1:{port}/api/v1/datasets/euaa/cube/observations?" + "&".join(f"{k}={v}" for k, v in params)
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health"); break
        except Exception:
            time.sleep(0.05)
    get(nansen_queries(0)["one_series"])
    ready = time.time() - start
    http_ms = {}
    for i in range(5):
        for name, params in nansen_queries(i).items():
            t = time.perf_counter(); ans = get(params); ms = (time.perf_counter() - t) * 1000
            http_ms.setdefault(name, []).append(ms)
            check(name, duck_answers[(name, i)], ans["rows"])
    rss = next(int(l.split()[1]) for l in open(f"/proc/{server.pid}/status") if l.startswith("VmHWM")) // 1024
finally:
    server.terminate(); server.wait()

cli_ms = {}
for i in range(5):
    for name, params in nansen_queries(i).items():
        args = [nansen, "--data-dir", data_dir, "--as", "bench@euaa.eu", "query", "euaa/cube", "--format", "json"]
        for k, v in params:
            args += [f"--{k.replace('_', '-')}", v.replace(":", "=", 1) if k == "where" else v]
        t = time.perf_counter(); out = subprocess.run(args, capture_output=True, text=True, check=True).stdout; ms = (time.perf_counter() - t) * 1000
        cli_ms.setdefault(name, []).append(ms)
        check(name, duck_answers[(name, i)], json.loads(out)["rows"])

print(f"\n{'query':14s} {'DuckDB ms':>10s} {'HTTP ms':>9s} {'ratio':>6s} {'CLI ms':>8s}   (medians of 5; every answer checked against DuckDB's)")
worst = 0
for name in duck_ms:
    d, h, c = statistics.median(duck_ms[name]), statistics.median(http_ms[name]), statistics.median(cli_ms[name])
    worst = max(worst, h / d)
    print(f"{name:14s} {d:10.1f} {h:9.1f} {h/d:6.2f} {c:8.0f}")
print(f"\nserver peak resident memory {rss} MB (bar: under 1536 MB)")
print(f"ready after restart         {ready:.2f} s (process start to first answer)")
print(f"slowest HTTP/DuckDB ratio   {worst:.2f} (bar: at most 1.00)")
print("The CLI starts a process and loads the cube from the database for each query.")
