"""Loading a table's rows into its raw table, as text, numbered as in the file.

A table's rows go straight into its raw table, inside a transaction that is
committed only when every check on them has passed (a refused table leaves
nothing behind). Every later step reads them there, as ``raw.<table> where
<this table>``: the rows of this file and sheet loaded in this run.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import duckdb

from hsinsight.errors import InputFileError
from hsinsight.ingest.keys import _stage_column
from hsinsight.ingest.sql import _quote, _sql_list
from hsinsight.ingest.tables import Table
from hsinsight.ingest.text import _utf8_copy
from hsinsight.raw import _raw_columns

log = logging.getLogger(__name__)


class _ArrowUnreadable(Exception):
    """The fast CSV reader cannot read a file as it is: load it the careful way."""


def _this_table(table: Table, sha256: str, loaded_at: datetime) -> str:
    """SQL condition picking the rows ``table`` loaded in this run out of its raw table."""
    sheet = "_sheet is null" if table.sheet is None else f"_sheet = {_sql_list([table.sheet])}"
    return f"_loaded_at = TIMESTAMP '{loaded_at.isoformat(sep=' ')}' and _sha256 = '{sha256}' and {sheet}"


def _insert_select(table: Table, sha256: str, loaded_at: datetime, source: str, row_number: str) -> str:
    """``insert into raw.<table> ... select ... from source``: the layout's columns from
    the positional columns ``c0, c1, ...`` (or the values taken from the title rows),
    lineage, and ``header row + row_number`` as the file's row number. Blank rows are
    left out (their numbers are not reused)."""
    column_sql = _stage_column(table)
    raw_columns = _raw_columns(table.layout)
    names = ", ".join(_quote(c.name) for c in raw_columns)
    values = ", ".join(column_sql(c.name) or "null" for c in raw_columns)
    width = max(len(table.header), 1)
    blank = " and ".join(f"coalesce(trim(c{i}), '') = ''" for i in range(width))
    sheet = "null" if table.sheet is None else _sql_list([table.sheet])
    where = f"not ({blank})"
    if table.layout.units_row:
        # the units row under the header ("Numbers", "Rate per 1,000 population")
        # names no area or offence: it belongs to the header
        identifiers = [
            f"coalesce(trim(c{table.positions[n]}), '') = ''"
            for n in table.layout.key
            if n in table.positions
        ]
        if identifiers:
            where += f" and not ({row_number} = 1 and {' and '.join(identifiers)})"
    return f"""
        insert into raw.{table.layout.raw_table} ({names}, _file_name, _sheet, _sha256, _loaded_at, _row_number)
        select {values}, {_sql_list([table.file.name])}, {sheet}, '{sha256}',
               TIMESTAMP '{loaded_at.isoformat(sep=" ")}', {table.header_row} + {row_number}
        from {source}
        where {where}
        """


def _load_rows(
    con: duckdb.DuckDBPyConnection, table: Table, sha256: str, loaded_at: datetime, workdir: Path
) -> int:
    """Insert the table's data rows into its raw table (in the open transaction); return how many.

    A big CSV file (``ARROW_MIN_BYTES`` or more) is read by Arrow's multi-threaded CSV
    reader and streamed into DuckDB, numbered as it is read: the fast way for a file
    of millions of rows. Smaller files, and a big one that reader cannot take as it
    is (rows of uneven width, text that is not UTF-8 ...), are read the careful way,
    by DuckDB's own CSV reader into a staging table, which pads short rows, converts
    Windows-1252 text and reports a malformed row in its own words. Both give the
    same rows, numbered alike.
    """
    if table.csv_path.stat().st_size >= ARROW_MIN_BYTES:
        try:
            return _insert_with_arrow(con, table, sha256, loaded_at)
        except _ArrowUnreadable as exc:
            log.info("%s: read with DuckDB's CSV reader (%s)", table.file.name, exc)
            con.execute("rollback")
            con.execute("begin transaction")
    if not table.text_checked:
        table.csv_path = _utf8_copy(table.csv_path, workdir, table.file, table.sheet)
        table.text_checked = True
    _stage(con, table)
    # Row ids of a table made inside a transaction start where the transaction's own
    # storage starts: number the rows from the header's.
    header = con.execute("select min(rowid) from stage").fetchone()[0]
    if header is None:
        return 0
    row_number = f"(rowid - {int(header)})"
    inserted = con.execute(
        _insert_select(table, sha256, loaded_at, "stage", row_number) + f" and rowid > {int(header)}"
    )
    return int(inserted.fetchone()[0])


#: Bytes of CSV text per batch streamed from Arrow's reader into DuckDB.
ARROW_BLOCK_SIZE = 4 << 20


#: Below this size a file is read by DuckDB's CSV reader, which is as quick there and
#: needs neither Arrow nor numpy loaded (measured on the national-scale files).
ARROW_MIN_BYTES = 64 << 20


def _insert_with_arrow(con: duckdb.DuckDBPyConnection, table: Table, sha256: str, loaded_at: datetime) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    width = max(len(table.header), 1)
    names = [f"c{i}" for i in range(width)]
    try:
        reader = pa_csv.open_csv(
            str(table.csv_path),
            # the header row is skipped with the title rows: the columns are positional
            read_options=pa_csv.ReadOptions(
                skip_rows=table.skip_lines + 1, column_names=names, block_size=ARROW_BLOCK_SIZE
            ),
            # as DuckDB reads it: '"' quotes and is doubled inside quotes, values may span
            # lines, empty lines are no rows
            parse_options=pa_csv.ParseOptions(
                delimiter=",", quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=True, ignore_empty_lines=True,
            ),
            # every value as text; an empty value, quoted or not, is NULL (as in DuckDB)
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True, check_utf8=True,
            ),
        )  # fmt: skip
    except (pa.ArrowException, OSError) as exc:
        raise _ArrowUnreadable(str(exc).splitlines()[0]) from exc
    failures: list[BaseException] = []

    def numbered():
        first = 1  # row 0 is the header
        try:
            for batch in reader:
                rows = batch.num_rows
                yield pa.RecordBatch.from_arrays(
                    [*batch.columns, pa.array(np.arange(first, first + rows, dtype=np.int64))],
                    names=[*names, "_n"],
                )
                first += rows
        except pa.ArrowException as exc:
            failures.append(exc)
            raise

    schema = pa.schema([(name, pa.string()) for name in names] + [("_n", pa.int64())])
    con.register("csv_rows", pa.RecordBatchReader.from_batches(schema, numbered()))
    try:
        # Row numbers travel with the rows, so DuckDB may insert them in any order
        # (and on every thread).
        con.execute("set preserve_insertion_order = false")
        inserted = con.execute(_insert_select(table, sha256, loaded_at, "csv_rows", "_n")).fetchone()[0]
    except duckdb.Error as exc:
        if failures:
            raise _ArrowUnreadable(str(failures[0]).splitlines()[0]) from exc
        raise
    finally:
        con.execute("reset preserve_insertion_order")
        con.unregister("csv_rows")
    return int(inserted)


def _stage(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Read ``table.csv_path`` with DuckDB's CSV reader into the temporary table
    ``stage`` (``c0, c1, ...``; row 0 is the header, rowid the row's place)."""
    width = max(len(table.header), 1)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    sql = f"""
        create or replace temp table stage as
        select * from read_csv(?, header = false, auto_detect = false, columns = {columns},
                               delim = ',', quote = '"', escape = '"', skip = ?,
                               null_padding = true__PARALLEL__)
        """
    try:
        try:
            con.execute(sql.replace("__PARALLEL__", ""), [str(table.csv_path), table.skip_lines])
        except duckdb.Error as exc:
            if "parallel scanner" not in str(exc):
                raise
            # a quoted value spans lines: read serially (a failed statement aborts the
            # transaction, so start it again)
            con.execute("rollback")
            con.execute("begin transaction")
            con.execute(
                sql.replace("__PARALLEL__", ", parallel = false"), [str(table.csv_path), table.skip_lines]
            )
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise InputFileError(
            table.file,
            f"cannot be read as a table of {width} columns (a row has more columns than the header, or a "
            f"quoted value is never closed): {first}",
            sheet=table.sheet,
        ) from exc
