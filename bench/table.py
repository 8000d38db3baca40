"""Turn bench/out/results.tsv (written by bench/run.sh) into the results table.

Prints the table and writes bench/RESULTS.md with the machine description, followed by the
hand-written bench/NOTES.md (analysis that a rerun should keep). Ratios are auditlens's
figure divided by the peer's on the same file (below 1.00 means auditlens is faster or smaller).
"""

import os
import sys
from collections import defaultdict

out_dir, results_md = sys.argv[1], sys.argv[2]
rows = []
with open(os.path.join(out_dir, "results.tsv")) as f:
    for line in f:
        step, tool, size, wall, cpu, rss_kb, target = line.rstrip("\n").split("\t")
        rows.append(
            dict(
                step=step,
                tool=tool,
                size=size,
                wall=float(wall),
                cpu=float(cpu),
                rss=int(rss_kb) / 1024,
                target=target,
            )
        )

by_key = defaultdict(dict)
for r in rows:
    by_key[(r["step"], r["size"])][r["tool"]] = r


def ratio(a, b):
    return f"{a / b:.2f}" if b > 0 else "-"


def check(r, key):
    """Targets: `<=peers` (ingest wall), `rss<=MiB`, `<=S` (seconds)."""
    t = r["target"]
    if not t:
        return ""
    verdicts = []
    for part in t.split(","):
        if part == "<=peers":
            peers = [p for n, p in by_key[key].items() if n in ("duckdb", "polars")]
            best = min((p["wall"] for p in peers), default=None)
            if best is not None:
                verdicts.append(("yes" if r["wall"] <= best else "no") + f" (wall <= {best:.2f})")
        elif part.startswith("rss<="):
            lim = float(part[5:])
            verdicts.append(("yes" if r["rss"] <= lim else "no") + f" (RSS <= {lim:.0f} MiB)")
        elif part.startswith("<="):
            lim = float(part[2:])
            verdicts.append(("yes" if r["wall"] <= lim else "no") + f" (wall <= {lim:g} s)")
    return "; ".join(verdicts)


header = (
    "| step | input | tool | wall s (best) | CPU s | peak RSS MiB | wall vs DuckDB | wall vs Polars "
    "| RSS vs DuckDB | RSS vs Polars | target met |"
)
lines = [header, "|" + "---|" * 11]
for r in rows:
    key = (r["step"], r["size"])
    peers = by_key[key]
    vs = []
    if r["tool"] == "auditlens":
        for peer in ("duckdb", "polars"):
            p = peers.get(peer)
            vs.append(ratio(r["wall"], p["wall"]) if p else "")
        for peer in ("duckdb", "polars"):
            p = peers.get(peer)
            vs.append(ratio(r["rss"], p["rss"]) if p else "")
    else:
        vs = ["", "", "", ""]
    lines.append(
        f"| {r['step']} | {r['size']} | {r['tool']} | {r['wall']:.2f} | {r['cpu']:.2f} | "
        f"{r['rss']:.0f} | {vs[0]} | {vs[1]} | {vs[2]} | {vs[3]} | {check(r, key)} |"
    )

def count(size):
    """'20k' -> 20000, '5M' -> 5000000."""
    mult = {"k": 1_000, "M": 1_000_000}.get(size[-1], 1)
    return int(size.rstrip("kM")) * mult


# RSS growth from the smallest to the largest ingest (should be no worse than linear).
ingest = sorted(
    (r for r in rows if r["step"] == "ingest" and r["tool"] == "auditlens"),
    key=lambda r: count(r["size"]),
)
growth = ""
if len(ingest) >= 2:
    a, b = ingest[0], ingest[-1]
    na, nb = count(a["size"]), count(b["size"])
    growth = (
        f"auditlens ingest peak RSS grows {b['rss'] / a['rss']:.2f}x from {a['size']} to "
        f"{b['size']} rows ({nb / na:.0f}x the rows)."
    )

table = "\n".join(lines)
print(table)
if growth:
    print()
    print(growth)

with open(os.path.join(out_dir, "machine.md")) as f:
    machine = f.read()
with open(results_md, "w") as f:
    f.write("# Benchmark results\n\n")
    f.write("Written by `bench/run.sh` (rerun it to refresh this file). Wall is the best of the runs,\n")
    f.write("CPU (user + system) and peak RSS are from that same run, measured with `/usr/bin/time -v`.\n")
    f.write("Ratios divide auditlens's figure by the peer's on the same file: below 1.00 is better.\n\n")
    f.write(machine)
    f.write("\n## Results\n\n")
    f.write(table + "\n")
    if growth:
        f.write("\n" + growth + "\n")
    notes = os.path.join(os.path.dirname(os.path.abspath(results_md)), "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as n:
            f.write("\n" + n.read())
