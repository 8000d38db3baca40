"""DuckDB peer of `auditlens ingest`: one CSV export to one zstd Parquet file, timestamps typed.

Every column is read as text (as auditlens does) and `Date observed` is cast to TIMESTAMPTZ.
Usage: python duckdb_ingest.py INPUT.csv OUTPUT.parquet
"""

import sys

import duckdb

src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(
    f"""
    COPY (
        SELECT * REPLACE (CAST("Date observed" AS TIMESTAMPTZ) AS "Date observed")
        FROM read_csv('{src}', header = true, all_varchar = true)
    ) TO '{dst}' (FORMAT parquet, COMPRESSION zstd)
    """
)
