#!/usr/bin/env python3
"""Read an auditlens store with independent Parquet readers (DuckDB and pyarrow) and check it.

What the store promises to any reader, checked here without auditlens' own code:

* `events/**/*.parquet` with hive partitioning holds exactly the rows the manifest lists
  (`_auditlens/manifest.json`, the sum of `parts[].rows`), in both readers;
* the hive `date` of every row is the UTC date of its `timestamp`;
* `timestamp` is a UTC timestamp in microseconds and equals `timestamp_ns` floor-divided by 1000;
* a sample of events, looked up by `event_id`, has identical values in both readers, and every id is
  there once;
* the quarantine parts read and hold the manifest's quarantine row count;
* `findings/findings.parquet` reads with the ten finding columns, and as many rows as
  `auditlens analyze --format jsonl` printed (given as a file or a number), with the same analyses,
  severities, actors, counts and evidence; evidence ids are events of the store.

Usage:
    auditlens analyze --store STORE --format jsonl > findings.jsonl
    python3 scripts/interop_check.py STORE --findings-jsonl findings.jsonl
    python3 scripts/interop_check.py STORE --findings-rows 12 --sample 100
    python3 scripts/interop_check.py STORE --no-findings      # a store nothing was analysed in

Needs `pip install duckdb pyarrow`. Exits 0 when every check passes, 1 with one line per failed
check otherwise, 2 on bad arguments or a store that is not there.
"""

import argparse
import datetime as dt
import json
import os
import sys

FINDING_COLUMNS = [
    "analysis",
    "severity",
    "actor",
    "subject",
    "ip",
    "first_seen",
    "last_seen",
    "count",
    "summary",
    "event_ids",
]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
US = dt.timedelta(microseconds=1)


class Checks:
    """Collects failures so that one run reports every mismatch, not only the first."""

    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print(f"ok    {what}")
        else:
            self.failures.append(what)
            print(f"FAIL  {what}")
        return ok


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def as_epoch_us(v):
    """A timestamp value from either reader as integer microseconds since the epoch (exact)."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.timezone.utc)
        return (v - EPOCH) // US
    return int(v)


def iso_to_us(text):
    """auditlens' printed time (`2026-04-13T10:00:00.123456789Z`) as microseconds since the epoch."""
    base = dt.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    frac = text[19:].rstrip("Z").lstrip(".")
    ns = int((frac + "000000000")[:9]) if frac else 0
    return (base - EPOCH) // US + ns // 1000


def normalise(v):
    """Make values of both readers comparable (dates, timestamps, lists)."""
    if isinstance(v, dt.datetime):
        return ("ts", as_epoch_us(v))
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [normalise(x) for x in v]
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", help="the store directory (holds _auditlens/manifest.json)")
    ap.add_argument("--sample", type=int, default=50, help="events to compare value by value (default 50)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--findings-jsonl", metavar="FILE", help="output of `auditlens analyze --format jsonl`")
    g.add_argument("--findings-rows", metavar="N", type=int, help="expected number of findings")
    g.add_argument("--no-findings", action="store_true", help="do not check findings/findings.parquet")
    args = ap.parse_args()

    try:
        import duckdb
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq
    except ImportError as e:
        print(f"interop_check: {e}; install the readers with `pip install duckdb pyarrow`", file=sys.stderr)
        return 2

    store = os.path.abspath(args.store)
    manifest_path = os.path.join(store, "_auditlens", "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError as e:
        print(f"interop_check: {manifest_path}: {e}", file=sys.stderr)
        return 2

    c = Checks()
    con = duckdb.connect()
    events_dir = os.path.join(store, "events")
    events_glob = sql_str(os.path.join(events_dir, "**", "*.parquet"))
    expected = sum(p["rows"] for p in manifest["parts"])
    print(f"store {store}: manifest lists {len(manifest['parts'])} part(s), {expected} event(s)")

    on_disk = []
    for root, _dirs, files in os.walk(events_dir):
        on_disk += [os.path.join(root, n) for n in files if n.endswith(".parquet")]
    listed = {os.path.join(store, p["path"]) for p in manifest["parts"]}
    c.check(
        set(on_disk) == listed,
        f"the *.parquet files under events/ are exactly the manifest's parts "
        f"({len(on_disk)} on disk, {len(listed)} listed)",
    )

    if expected == 0:
        c.check(not on_disk, "an empty store has no event files")
    else:
        src = f"read_parquet({events_glob}, hive_partitioning = true)"
        # --- row counts
        n_duck = con.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0]
        c.check(n_duck == expected, f"DuckDB reads {n_duck} events, the manifest lists {expected}")
        dataset = ds.dataset(events_dir, format="parquet", partitioning="hive")
        n_arrow = dataset.count_rows()
        c.check(n_arrow == expected, f"pyarrow reads {n_arrow} events, the manifest lists {expected}")

        # --- types
        types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {src})").fetchall())
        c.check(
            types.get("timestamp") == "TIMESTAMP WITH TIME ZONE",
            f"DuckDB: timestamp is TIMESTAMP WITH TIME ZONE (is {types.get('timestamp')})",
        )
        c.check(types.get("timestamp_ns") == "BIGINT", f"DuckDB: timestamp_ns is BIGINT (is {types.get('timestamp_ns')})")
        ts_type = dataset.schema.field("timestamp").type
        c.check(
            pa.types.is_timestamp(ts_type) and ts_type.unit == "us" and ts_type.tz in ("UTC", "+00:00", "Etc/UTC"),
            f"pyarrow: timestamp is timestamp[us, tz=UTC] (is {ts_type})",
        )
        # The Parquet logical type itself (what readers without Arrow metadata, Spark say, go by).
        for part in sorted(listed)[:3] + sorted(listed)[-3:]:
            pf = pq.ParquetFile(part)
            column = pf.schema.column(pf.schema.names.index("timestamp"))
            logical = json.loads(column.logical_type.to_json())
            wanted = {"Type": "Timestamp", "isAdjustedToUTC": True, "timeUnit": "microseconds"}
            got = {k: logical.get(k) for k in wanted}
            c.check(
                got == wanted and column.physical_type == "INT64",
                f"{os.path.relpath(part, store)}: timestamp is an INT64 UTC microsecond timestamp in Parquet ({got})",
            )

        # The two long text columns are DELTA_LENGTH_BYTE_ARRAY (auditlens writes those pages
        # itself, src/store/pages/delta_length.rs), without a dictionary, in every row group.
        for part in sorted(listed)[:3] + sorted(listed)[-3:]:
            meta = pq.ParquetFile(part).metadata
            names = [meta.schema.column(i).path for i in range(meta.num_columns)]
            for name in ("event_id", "details"):
                encodings = {
                    e
                    for g in range(meta.num_row_groups)
                    for e in meta.row_group(g).column(names.index(name)).encodings
                }
                c.check(
                    "DELTA_LENGTH_BYTE_ARRAY" in encodings and not any("DICTIONARY" in e for e in encodings),
                    f"{os.path.relpath(part, store)}: {name} is DELTA_LENGTH_BYTE_ARRAY ({sorted(encodings)})",
                )
        # Every value of those columns reads the same in both readers: count and total UTF-8 bytes.
        duck_sizes = con.execute(
            f"SELECT count(event_id), sum(strlen(event_id)), count(details), sum(strlen(details)) FROM {src}"
        ).fetchall()[0]
        texts = dataset.to_table(columns=["event_id", "details"])
        arrow_sizes = []
        for name in ("event_id", "details"):
            values = texts.column(name).cast(pa.large_string())
            arrow_sizes += [len(values) - values.null_count, pc.sum(pc.binary_length(values)).as_py() or 0]
        c.check(
            tuple(duck_sizes) == tuple(arrow_sizes),
            f"event_id and details: the same counts and bytes in DuckDB and pyarrow ({duck_sizes} vs {arrow_sizes})",
        )

        # --- hive date = UTC date of timestamp; timestamp = floor(timestamp_ns / 1000)
        bad_date = con.execute(
            f"""SELECT count(*) FROM {src}
                WHERE CAST(date AS DATE) - DATE '1970-01-01'
                      <> CAST(floor(epoch_us("timestamp") / 86400000000.0) AS BIGINT)"""
        ).fetchall()[0][0]
        c.check(bad_date == 0, f"DuckDB: the hive date is the UTC date of timestamp ({bad_date} rows differ)")
        # DuckDB's // truncates towards zero; auditlens floors (instants before 1970).
        bad_us = con.execute(
            f"""SELECT count(*) FROM {src}
                WHERE epoch_us("timestamp")
                      <> timestamp_ns // 1000 - CASE WHEN timestamp_ns % 1000 < 0 THEN 1 ELSE 0 END"""
        ).fetchall()[0][0]
        c.check(bad_us == 0, f"DuckDB: timestamp = timestamp_ns // 1000 in µs ({bad_us} rows differ)")
        bad_arrow = 0
        bad_arrow_date = 0
        table = dataset.to_table(columns=["timestamp", "timestamp_ns", "date"])
        ts_us = table.column("timestamp").cast(pa.int64()).to_pylist()
        ts_ns = table.column("timestamp_ns").to_pylist()
        dates = table.column("date").to_pylist()
        for us, ns, d in zip(ts_us, ts_ns, dates):
            if us != ns // 1000:
                bad_arrow += 1
            if str(d) != (EPOCH + dt.timedelta(microseconds=us)).date().isoformat():
                bad_arrow_date += 1
        c.check(bad_arrow == 0, f"pyarrow: timestamp = timestamp_ns // 1000 in µs ({bad_arrow} rows differ)")
        c.check(bad_arrow_date == 0, f"pyarrow: the hive date is the UTC date of timestamp ({bad_arrow_date} rows differ)")

        # --- a sample of events: same values in both readers
        all_ids = sorted(r[0] for r in con.execute(f"SELECT event_id FROM {src}").fetchall())
        c.check(len(set(all_ids)) == len(all_ids), f"event ids are unique ({len(all_ids) - len(set(all_ids))} repeated)")
        step = max(1, len(all_ids) // max(1, args.sample))
        sample = all_ids[::step][: args.sample]
        id_list = ", ".join(sql_str(i) for i in sample)
        duck_cur = con.execute(f"SELECT * FROM {src} WHERE event_id IN ({id_list})")
        cols = [d[0] for d in duck_cur.description]
        duck_rows = {}
        for row in duck_cur.fetchall():
            rec = dict(zip(cols, row))
            duck_rows.setdefault(rec["event_id"], []).append(rec)
        # pyarrow reads auditlens' strings as string_view (polars records that Arrow type in the
        # file), which pyarrow 26's filter kernels do not take: match the ids batch by batch instead.
        arrow_rows = {}
        wanted = pa.array(sample, type=pa.string())
        for batch in dataset.to_batches():
            hits = pc.is_in(batch.column("event_id").cast(pa.string()), value_set=wanted)
            for i, hit in enumerate(hits.to_pylist()):
                if hit:
                    rec = batch.slice(i, 1).to_pylist()[0]
                    arrow_rows.setdefault(rec["event_id"], []).append(rec)
        mismatches = []
        for i in sample:
            d, a = duck_rows.get(i, []), arrow_rows.get(i, [])
            if len(d) != 1 or len(a) != 1:
                mismatches.append(f"{i}: DuckDB has {len(d)} row(s), pyarrow {len(a)}")
                continue
            d, a = d[0], a[0]
            if set(d) != set(a):
                mismatches.append(f"{i}: columns differ: {sorted(set(d) ^ set(a))}")
                continue
            for k in d:
                if normalise(d[k]) != normalise(a[k]):
                    mismatches.append(f"{i}.{k}: DuckDB {d[k]!r} vs pyarrow {a[k]!r}")
        for m in mismatches[:10]:
            print(f"      {m}")
        c.check(
            not mismatches and bool(sample),
            f"{len(sample)} sampled events have identical values in DuckDB and pyarrow ({len(mismatches)} differences)",
        )

    # --- quarantine
    q_expected = sum(q["rows"] for q in manifest["quarantine"])
    q_paths = [os.path.join(store, q["path"]) for q in manifest["quarantine"]]
    if q_paths:
        q_list = "[" + ", ".join(sql_str(p) for p in q_paths) + "]"
        n_duck = con.execute(f"SELECT count(*) FROM read_parquet({q_list})").fetchall()[0][0]
        n_arrow = sum(pq.ParquetFile(p).metadata.num_rows for p in q_paths)
        t = pq.read_table(q_paths[0])
        c.check(
            n_duck == q_expected and n_arrow == q_expected,
            f"quarantine: DuckDB reads {n_duck}, pyarrow {n_arrow}, the manifest lists {q_expected}",
        )
        c.check(
            t.schema.names == ["source_file", "line", "column", "reason", "raw"],
            f"quarantine columns are source_file, line, column, reason, raw ({t.schema.names})",
        )
    else:
        c.check(q_expected == 0, "no quarantine parts, no quarantined rows")

    # --- findings
    if not args.no_findings:
        path = os.path.join(store, "findings", "findings.parquet")
        if not os.path.exists(path):
            c.check(False, f"{path} exists")
        else:
            t = pq.read_table(path)
            c.check(t.schema.names == FINDING_COLUMNS, f"findings columns are the ten of a finding ({t.schema.names})")
            n_duck = con.execute(f"SELECT count(*) FROM read_parquet({sql_str(path)})").fetchall()[0][0]
            c.check(n_duck == t.num_rows, f"findings: DuckDB reads {n_duck} rows, pyarrow {t.num_rows}")
            for name in ("first_seen", "last_seen"):
                ty = t.schema.field(name).type
                c.check(
                    pa.types.is_timestamp(ty) and ty.unit == "us" and ty.tz in ("UTC", "+00:00", "Etc/UTC"),
                    f"findings: {name} is timestamp[us, tz=UTC] (is {ty})",
                )
            rows = t.to_pylist()
            if args.findings_jsonl:
                with open(args.findings_jsonl, encoding="utf-8") as f:
                    printed = [json.loads(line) for line in f if line.strip()]
                c.check(len(printed) == len(rows), f"findings: {len(rows)} rows, analyze printed {len(printed)}")
                key = lambda r: (r["analysis"], r["severity"], r["actor"], r["subject"], r["ip"], r["count"], r["summary"], list(r["event_ids"]))
                c.check(
                    sorted(map(key, rows)) == sorted(map(key, printed)),
                    "findings: the Parquet rows are the findings analyze printed",
                )
                # The times analyze printed (ISO text, ns precision) are those in the Parquet (µs).
                times = lambda r: (r["analysis"], r["actor"], r["subject"], list(r["event_ids"]))
                parquet_times = sorted((times(r), as_epoch_us(r["first_seen"]), as_epoch_us(r["last_seen"])) for r in rows)
                printed_times = sorted((times(r), iso_to_us(r["first_seen"]), iso_to_us(r["last_seen"])) for r in printed)
                c.check(parquet_times == printed_times, "findings: first_seen and last_seen match what analyze printed")
            elif args.findings_rows is not None:
                c.check(len(rows) == args.findings_rows, f"findings: {len(rows)} rows, expected {args.findings_rows}")
            evidence = sorted({i for r in rows for i in r["event_ids"]})
            if evidence and expected:
                src = f"read_parquet({events_glob}, hive_partitioning = true)"
                con.register("evidence", pa.table({"event_id": evidence}))
                missing = con.execute(
                    f"SELECT count(*) FROM evidence e WHERE NOT EXISTS (SELECT 1 FROM {src} s WHERE s.event_id = e.event_id)"
                ).fetchall()[0][0]
                c.check(missing == 0, f"findings: all {len(evidence)} evidence ids are events of the store ({missing} missing)")

    print(f"{c.passed} check(s) passed, {len(c.failures)} failed")
    if c.failures:
        print("interop_check: FAILED:", file=sys.stderr)
        for f in c.failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
