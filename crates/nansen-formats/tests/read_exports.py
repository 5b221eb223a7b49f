"""Reads Nansen's exports with independent tools and prints, per format: rows, the sum of
values, and the text of the first cell that a spreadsheet would run (as the reader sees it).
Usage: read_exports.py FORMAT=PATH ..."""
import json, sys
import hxl, openpyxl, pandas as pd, pyarrow.parquet as pq

HOSTILE = '=HYPERLINK("http://example.org","x")'

def report(fmt, rows, values, origins):
    hostile = next(o for o in origins if isinstance(o, str) and o.endswith(HOSTILE))
    print(f"{fmt}\t{rows}\t{sum(v for v in values if v == v and v is not None)}\t{hostile}")

for arg in sys.argv[1:]:
    fmt, path = arg.split("=", 1)
    if fmt == "csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        report(fmt, len(df), [float(v) for v in df["value"] if v != ""], list(df["origin"]))
    elif fmt == "hxl.csv":
        data = hxl.data(path, hxl.InputOptions(allow_local=True))
        rows = list(data)
        report(fmt, len(rows), [float(r.get("#value")) for r in rows if r.get("#value")], [r.get("#country+code+origin") for r in rows])
    elif fmt == "sdmx.csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        report(fmt, len(df), [float(v) for v in df["OBS_VALUE"] if v != ""], list(df["origin"]))
    elif fmt == "json":
        recs = json.load(open(path))
        report(fmt, len(recs), [r["value"] for r in recs if r["value"] is not None], [r["origin"] for r in recs])
    elif fmt == "xlsx":
        ws = openpyxl.load_workbook(path, read_only=True).active
        rows = list(ws.iter_rows(values_only=True))
        h = list(rows[0])
        body = rows[1:]
        report(fmt, len(body), [r[h.index("value")] for r in body if r[h.index("value")] is not None], [r[h.index("origin")] for r in body])
    elif fmt == "parquet":
        t = pq.read_table(path).to_pandas()
        report(fmt, len(t), list(t["value"].dropna()), list(t["origin"]))
