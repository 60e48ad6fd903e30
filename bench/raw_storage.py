"""How to store the raw layer of a big source: the options, measured on one file.

    .venv/bin/python bench/raw_storage.py [--file data/national/prc-outcomes-...csv]

On the national-scale outcomes file (5.6 million rows; ``make bench`` writes it), each in
a fresh folder, the file read once beforehand so every option starts from the page cache:

- **DuckDB store, Arrow's reader** (what ingest does for a big CSV file): the rows streamed
  by Arrow's multi-threaded CSV reader into the source's raw table in a DuckDB file, as
  text, with their lineage; then the file checkpointed.
- **DuckDB store, DuckDB's reader**: the same rows read by DuckDB's own CSV reader into a
  staging table first (what ingest does for small or irregular files).
- **Parquet store**: the raw table written on from DuckDB to a Parquet file (zstd), the
  extra cost of keeping a store as Parquet beside the checks that run in DuckDB.
- **Typed count columns**: the raw table copied with and without a ``bigint`` beside each
  text count column (``try_cast``), the difference being what typed columns cost a write.
- **Assembling the build** from each store: the source's rows copied into a new build
  file from the attached DuckDB store, or from the Parquet file.

Prints a Markdown table (seconds, and the size of what was written) and writes it to
``bench/results/raw-storage.md``. Only timings: the rows are the ones ingest loads.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hsinsight.ingest import load
from hsinsight.ingest.tables import tables_in
from hsinsight.raw import create_raw_tables

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = (
    PROJECT_ROOT / "data" / "national" / "prc-outcomes-open-data-2014-15-to-2024-25-national-synthetic.csv"
)


@dataclasses.dataclass
class Row:
    option: str
    seconds: float
    bytes: int | None = None
    note: str = ""


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _store(work: Path, name: str, source: Path, *, arrow: bool) -> tuple[float, Path, str, int]:
    """Load ``source`` into a new DuckDB store the way ingest does; (seconds, store, raw table, rows)."""
    store = work / f"{name}.duckdb"
    workdir = work / f"{name}-work"
    workdir.mkdir()
    (table,) = tables_in(source, workdir)
    started = time.monotonic()
    con = duckdb.connect(str(store))
    try:
        create_raw_tables(con)
        con.execute("begin transaction")
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        if arrow:
            rows = load._insert_with_arrow(con, table, "0" * 64, loaded_at)
        else:
            minimum = load.ARROW_MIN_BYTES
            load.ARROW_MIN_BYTES = 1 << 62  # the careful reader, whatever the size
            try:
                rows = load._load_rows(con, table, "0" * 64, loaded_at, workdir)
            finally:
                load.ARROW_MIN_BYTES = minimum
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()
    return time.monotonic() - started, store, table.layout.raw_table, rows


def _timed(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    started = time.monotonic()
    con.execute(sql)
    return time.monotonic() - started


def measure(source: Path) -> list[Row]:
    with open(source, "rb") as handle:  # into the page cache, untimed
        while handle.read(16 << 20):
            pass
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="hsinsight-raw-storage-") as folder:
        work = Path(folder)
        seconds, store, raw_table, count = _store(work, "arrow", source, arrow=True)
        rows.append(
            Row("DuckDB store, Arrow's reader (ingest's way)", seconds, _size(store), f"{count:,} rows")
        )
        seconds, other, _, _ = _store(work, "duckdb", source, arrow=False)
        rows.append(Row("DuckDB store, DuckDB's reader", seconds, _size(other)))
        other.unlink()

        con = duckdb.connect(str(store))
        try:
            parquet = work / f"{raw_table}.parquet"
            seconds = _timed(con, f"copy raw.{raw_table} to '{parquet}' (format parquet, compression zstd)")
            rows.append(
                Row("Parquet store: the raw table written to Parquet (extra)", seconds, _size(parquet))
            )
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'raw' "
                    "and table_name = ? order by ordinal_position",
                    [raw_table],
                ).fetchall()
            ]
            counts = [c for c in columns if c.startswith("outcomes_") or c in ("offences", "value", "count")]
            typed = ", ".join(f"try_cast(replace({c}, ',', '') as bigint) as {c}_n" for c in counts)
            plain = _timed(con, f"create table raw.copy_text as select * from raw.{raw_table}")
            with_typed = _timed(con, f"create table raw.copy_typed as select *, {typed} from raw.{raw_table}")
            rows.append(
                Row(
                    f"typed count columns ({', '.join(counts)}): a copy with them, less one without",
                    with_typed - plain,
                    note=f"copy without {plain:.2f} s, with {with_typed:.2f} s",
                )
            )
        finally:
            con.close()

        for label, origin in (("the DuckDB store", "store"), ("the Parquet file", "parquet")):
            build = work / f"build-{origin}.duckdb"
            con = duckdb.connect(str(build))
            try:
                create_raw_tables(con)
                started = time.monotonic()
                if origin == "store":
                    con.execute(f"attach '{store}' as store (read_only)")
                    con.execute(f"insert into raw.{raw_table} by name select * from store.raw.{raw_table}")
                    con.execute("detach store")
                else:
                    con.execute(
                        f"insert into raw.{raw_table} by name select * from read_parquet('{parquet}')"
                    )
                con.execute("checkpoint")
                seconds = time.monotonic() - started
            finally:
                con.close()
            rows.append(Row(f"assembling a build from {label}", seconds, _size(build)))
    return rows


def markdown(rows: list[Row], source: Path) -> str:
    lines = [
        f"Raw-layer storage options, measured {datetime.now():%Y-%m-%d} on {os.cpu_count()} cores, "
        f"DuckDB {duckdb.__version__}, on `{source.name}` ({_size(source) / 1e9:.2f} GB).",
        "",
        "| option | time | written | note |",
        "| --- | ---: | ---: | --- |",
    ]
    for row in rows:
        written = f"{row.bytes / 1e6:,.0f} MB" if row.bytes else ""
        lines.append(f"| {row.option} | {row.seconds:.2f} s | {written} | {row.note} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the big CSV file to store")
    args = parser.parse_args()
    if not args.file.is_file():
        raise SystemExit(
            f"no file {args.file}: write the national data first (make bench, or hsinsight sample --scale national)"
        )
    text = markdown(measure(args.file), args.file)
    out = PROJECT_ROOT / "bench" / "results" / "raw-storage.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text + f"\nwritten {out}")


if __name__ == "__main__":
    main()
