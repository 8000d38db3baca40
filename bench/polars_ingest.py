"""Python Polars peer of `auditlens ingest`: one CSV export to one zstd Parquet file, timestamps typed.

Every column is read as text (as auditlens does) and `Date observed` is parsed to a UTC datetime
(the exports mix 0, 3 and 6 fractional digits, which `%.f` accepts).
Usage: python polars_ingest.py INPUT.csv OUTPUT.parquet
"""

import sys

import polars as pl

src, dst = sys.argv[1], sys.argv[2]
(
    pl.scan_csv(src, infer_schema=False)
    .with_columns(
        pl.col("Date observed").str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.fZ", time_unit="ns", time_zone="UTC"
        )
    )
    .sink_parquet(dst, compression="zstd")
)
