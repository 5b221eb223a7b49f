#!/usr/bin/env python3
"""Cases benchmark (issue 15): 100,000 generated households (about 300,000 persons, no real
person) registered in one programme by `nansen case import`, then, over real HTTP, the p50 and
p95 of a filtered case list, of opening a case (decryption and its audit entry), of
registering a case with its duplicate check, of the programme's pipeline query and of its
dashboard.

Usage: bench/cases.py NANSEN_BINARY WORK_DIR HOUSEHOLDS [POSTGRES_URL]   (run by bench/cases.sh)"""
import json, os, random, shutil, signal, socket, statistics, subprocess, sys, time, urllib.request

nansen, work, households = sys.argv[1], sys.argv[2], int(sys.argv[3])
pg_url = sys.argv[4] if len(sys.argv) > 4 else None
RUNS = 60

GIVEN_F = ["Amina", "Zarifa", "Huda", "Maryam", "Selam", "Fatima", "Nour", "Rahel", "Samira", "Layla", "Aster", "Hawa", "Khadija", "Mina", "Soraya"]
GIVEN_M = ["Ahmad", "Yonas", "Omar", "Dawit", "Hassan", "Karim", "Bilal", "Tesfay", "Yusuf", "Rahim", "Ali", "Mehdi", "Abdullah", "Idris", "Samuel"]
FAMILY = ["Haddad", "Ahmadi", "Tesfay", "Mohammadi", "Hussaini", "Abdi", "Rahimi", "Gebremariam", "Karimi", "Osman", "Nouri", "Hashemi", "Sultani", "Kebede", "Warsame", "Jaber", "Noorzai", "Habte", "Qasemi", "Mansour"]
NATIONALITIES = ["AFG", "SYR", "IRQ", "ERI", "SOM", "COD", "SDN", "YEM", "PSE", "IRN"]
NEEDS = ["SC-UC", "SM-CI", "SM-MI", "DS-PM", "SP-PT", "WR-WR", "SV-VA", "LP-ND"]


def generate(path, n):
    """Households of one to six persons; names and dates drawn from a fixed seed."""
    rnd = random.Random(15)
    persons = 0
    with open(path, "w") as f:
        f.write("household,given_name,family_name,birth_date,sex,nationality,relationship,needs,consents\n")
        for h in range(n):
            family = rnd.choice(FAMILY)
            nat = rnd.choice(NATIONALITIES)
            size = rnd.choice([1, 1, 2, 3, 3, 4, 5, 6])
            need = rnd.choice(NEEDS) if rnd.random() < 0.3 else ""
            for m in range(size):
                rel, year = ("principal", rnd.randint(1955, 2004)) if m == 0 else (("spouse", rnd.randint(1958, 2004)) if m == 1 else ("child", rnd.randint(2006, 2025)))
                female = rnd.random() < 0.5
                given = rnd.choice(GIVEN_F if female else GIVEN_M)
                f.write(f"b{h},{given},{family},{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d},{'F' if female else 'M'},{nat},{rel},{need if m == 0 else ''},{'referral:iom' if m == 0 else ''}\n")
                persons += 1
    return persons


def run(*args, stdin=None):
    cmd = [nansen, "--data-dir", data] + (["--database-url", pg_url] if pg_url else []) + list(args)
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(method, url, token, body=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        payload = r.read()
    return (time.perf_counter() - t) * 1000, json.loads(payload)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


store = "postgres" if pg_url else "sqlite"
table = os.path.join(work, f"households-{households}.csv")
if not os.path.exists(table):
    persons = generate(table, households)
else:
    persons = sum(1 for _ in open(table)) - 1
data = os.path.join(work, f"data-cases-{store}")
shutil.rmtree(data, ignore_errors=True)
run("org", "add", "euaa", "--name", "EU Asylum Agency")
run("org", "add", "iom", "--name", "IOM")
run("user", "add", "cw@euaa.eu", "--org", "euaa", "--role", "caseworker", "--supervisor", stdin="a long bench password\n")
run("user", "add", "po@euaa.eu", "--org", "euaa", "--role", "protection", stdin="a long bench password\n")
run("programme", "add", "euaa/bench", "--type", "relocation", "--title", "Bench", "--partner", "iom")
t = time.time()
imported = run("--as", "cw@euaa.eu", "case", "import", "euaa/bench", table)
took = time.time() - t
ids = imported.stdout.split()
print(f"== {store}: {len(ids)} cases, {persons} persons")
print(f"bulk import: {took:.1f} s, {len(ids) / took:.0f} cases per second (checks, duplicate search, sealing, one transaction)")
token = run("token", "create", "cw@euaa.eu", "--name", "bench").stdout.strip()
port = free_port()
server = subprocess.Popen([nansen, "--data-dir", data] + (["--database-url", pg_url] if pg_url else []) + ["serve", "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}/api/v1"
try:
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health")
            break
        except Exception:
            time.sleep(0.2)
    rnd = random.Random(7)
    results = {}
    # A caseworker's list: one stage, 50 a page, most recently changed first, at varied offsets.
    results["filtered list (stage, 50 a page)"] = [call("GET", f"{base}/programmes/euaa/bench/cases?stage=identified&limit=50&offset={rnd.randint(0, 5000)}", token)[0] for _ in range(RUNS)]
    results["list found by name and birth date"] = []
    sample = rnd.sample(range(1, persons), RUNS)
    rows = open(table).read().splitlines()
    for i in sample:
        cells = rows[i].split(",")
        results["list found by name and birth date"].append(call("GET", f"{base}/programmes/euaa/bench/cases?name={cells[1]}+{cells[2]}&born={cells[3]}", token)[0])
    results["open a case (decrypt, audit)"] = [call("GET", f"{base}/cases/{rnd.choice(ids)}", token)[0] for _ in range(RUNS)]
    dup = []
    for i in rnd.sample(range(1, persons), RUNS):
        cells = rows[i].split(",")
        body = {"members": [{"given_name": cells[1], "family_name": cells[2], "birth_date": cells[3], "sex": cells[4], "nationality": cells[5], "relationship": "principal"}]}
        ms, answer = call("POST", f"{base}/programmes/euaa/bench/cases", token, body)
        assert answer["possible_duplicates"], "the same person is found again"
        dup.append(ms)
    results["register with duplicate check"] = dup
    q = f"{base}/datasets/euaa/bench-pipeline/observations?where=indicator:persons_entered_stage&group_by=stage"
    first, _ = call("GET", q, token)
    results["pipeline by stage (steady)"] = [call("GET", q, token)[0] for _ in range(RUNS)]
    print(f"pipeline by stage, first read after the registrations (lands a version): {first:.0f} ms")
    results["programme dashboard (/pipeline)"] = [call("GET", f"{base}/programmes/euaa/bench/pipeline", token)[0] for _ in range(RUNS)]
    results["longest waiting first (50 a page)"] = [call("GET", f"{base}/programmes/euaa/bench/cases?order=waiting&limit=50", token)[0] for _ in range(RUNS)]
    for name, xs in results.items():
        print(f"{name:<40} p50 {pct(xs, 50):7.1f} ms   p95 {pct(xs, 95):7.1f} ms")
finally:
    server.send_signal(signal.SIGINT)
    server.wait(timeout=30)
