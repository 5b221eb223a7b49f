#!/usr/bin/env python3
"""Load and stampede benchmark (issue 12): 50 readers on the cube before and while versions
land. Run by bench/load.sh.

Usage: bench/load.py CUBE.csv DATA_DIR NANSEN_BINARY SECONDS_PER_PHASE"""
import csv, json, statistics, subprocess, sys, threading, time, urllib.error, urllib.request

cube, data_dir, nansen, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
READERS, PORT = 50, 8098
QUERIES = [
    [("where", "applicant:ASY_APP"), ("where", "sex:T"), ("where", "age:TOTAL"), ("period", "2010..2010"), ("group_by", "geo")],
    [("where", "applicant:ASY_APP"), ("where", "sex:T"), ("where", "age:TOTAL"), ("group_by", "origin"), ("top", "10")],
    [("where", "origin:SY"), ("where", "geo:DE"), ("where", "sex:T"), ("where", "age:TOTAL"), ("where", "applicant:ASY_APP"), ("group_by", "period")],
]

# Deltas that land: each doubles the 2010 German counts of a few origins, so the first
# query's answer for DEU tells which version a reader saw.
with open(cube, newline="") as f:
    rows = csv.reader(f)
    header = next(rows)
    col = {c: i for i, c in enumerate(header)}
    picked = [r for r in rows if r[col["geo"]] == "DE" and r[col["TIME_PERIOD"]].startswith("2010") and r[col["applicant"]] == "ASY_APP"
              and r[col["sex"]] == "T" and r[col["age"]] == "TOTAL" and r[col["OBS_VALUE"]] not in ("", ":")][:600]
deltas = []
for k in range(2):
    path = f"{data_dir}/../delta-{k}.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in picked[k * 300:(k + 1) * 300]:
            r = list(r)
            r[col["OBS_VALUE"]] = str(int(float(r[col["OBS_VALUE"]])) * 2 + 1)
            w.writerow(r)
    deltas.append(path)

token = subprocess.run([nansen, "--data-dir", data_dir, "token", "create", "bench@euaa.eu", "--name", "load"], capture_output=True, text=True, check=True).stdout.strip()
server = subprocess.Popen([nansen, "--data-dir", data_dir, "serve", "--bind", f"127.0.0.1:{PORT}"], stderr=subprocess.DEVNULL)

def get(params):
    url = f"http://127.0.0.1:{PORT}/api/v1/datasets/euaa/cube/observations?" + "&".join(f"{k}={v}" for k, v in params)
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)

def rss_mb():
    return next(int(l.split()[1]) for l in open(f"/proc/{server.pid}/status") if l.startswith("VmRSS")) // 1024

def phase(name, during=None):
    lat, errors, deu = [], [], []
    peak = [rss_mb()]
    # Readers run the phase's length, and while landing until every version has landed and
    # the server has had the length of a phase again to build the new cube.
    stop = [time.time() + seconds]
    lock = threading.Lock()
    def reader(n):
        i = n
        while time.time() < stop[0]:
            q = QUERIES[i % len(QUERIES)]
            t = time.perf_counter()
            try:
                ans = get(q)
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    lat.append(ms)
                    if q is QUERIES[0]:
                        deu.append(next((r["value"] for r in ans["rows"] if r["geo"] == "DEU"), None))
            except Exception as e:
                with lock:
                    errors.append(str(e))
            i += 1
    def sampler():
        while time.time() < stop[0]:
            peak.append(rss_mb()); time.sleep(0.1)
    threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)] + [threading.Thread(target=sampler)]
    for t in threads: t.start()
    started = time.time()
    landed = during() if during else []
    if during:
        stop[0] = max(stop[0], time.time() + seconds)
    for t in threads: t.join()
    elapsed = time.time() - started
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
    print(f"{name:10s} {len(lat) / elapsed:8.1f} req/s   p50 {p(0.5):8.1f} ms   p99 {p(0.99):8.1f} ms   errors {len(errors)}   peak memory {max(peak)} MB")
    for e in errors[:3]: print("   error:", e)
    return p(0.99), errors, deu, landed

try:
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/health"); break
        except Exception:
            time.sleep(0.05)
    # 20 anonymous 100 MB uploads at once: refused before their bodies are read.
    import socket
    def upload(codes):
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(f"POST /api/v1/documents?org=euaa&file_name=x.pdf HTTP/1.1\r\nHost: x\r\nContent-Length: {100 << 20}\r\n\r\n".encode())
        chunk, sent = b"x" * (1 << 20), 0
        try:
            s.settimeout(30)
            while sent < 100 << 20:
                s.sendall(chunk); sent += len(chunk)
        except OSError:
            pass
        try:
            codes.append(s.recv(64).split(b" ")[1].decode())
        except Exception:
            codes.append("closed")
        s.close()
    base_rss, codes = rss_mb(), []
    ups = [threading.Thread(target=upload, args=(codes,)) for _ in range(20)]
    peak = base_rss
    for u in ups: u.start()
    while any(u.is_alive() for u in ups):
        peak = max(peak, rss_mb()); time.sleep(0.05)
    print(f"20 anonymous 100 MB uploads at once: answered {sorted(set(codes))}; server memory {base_rss} MB before, peak {peak} MB (bar: under 600 MB)")
    t = time.time(); get(QUERIES[0]); print(f"first answer after {time.time() - t:.1f} s (the cube built once)")

    print(f"{READERS} readers, {seconds:.0f} s per phase, a private dataset (every read checked and audited)")
    before, e1, deu1, _ = phase("before")
    def land():
        out = []
        for d in deltas:
            time.sleep(seconds / 4)
            t = time.time()
            subprocess.run([nansen, "--data-dir", data_dir, "dataset", "import", d, "--org", "euaa", "--dataset", "cube", "--append"], check=True, capture_output=True)
            out.append(time.time() - t)
        return out
    during, e2, deu2, landed = phase("landing", land)
    final = get(QUERIES[0])
    deu_final = next(r["value"] for r in final["rows"] if r["geo"] == "DEU")
finally:
    server.terminate(); server.wait()

versions = sorted(set(v for v in deu1 + deu2 if v is not None))
print(f"versions landed from another process: {len(landed)} (import {', '.join(f'{s:.1f} s' for s in landed)})")
print(f"distinct answers for DEU 2010 seen: {len(versions)} ({', '.join(f'{v:.0f}' for v in versions)}; at most one per version: {1 + len(landed)}); final {deu_final:.0f}")
print(f"p99 while landing / before: {during / before:.2f} (bar: at most 3.00); errors {len(e1) + len(e2)} (bar: 0)")
ok = during <= 3 * before and not e1 and not e2 and len(versions) <= 1 + len(landed)
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
