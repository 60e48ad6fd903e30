"""Load the official files into the warehouse's ``raw`` schema.

Files are recognised by their header row (searched for in the first rows of a CSV
file or of each workbook sheet), never by their names. Values land exactly as they
are written, as text, under canonical column names, with the file name, its SHA-256,
the load time and the row number beside them; every file is listed in
``raw._files``. A file that cannot be accepted stops the run with an
:class:`~hsinsight.errors.InputFileError` naming the file, the row and the column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hsinsight.config import Settings
from hsinsight.errors import InputFileError, UnrecognisedFileError
from hsinsight.sources.base import (
    SUPPRESSION_MARKERS,
    SYNTHETIC_MARKER,
    WHOLE_NUMBER,
    Layout,
    normalise_header,
)
from hsinsight.sources.home_office import LAYOUTS

log = logging.getLogger(__name__)

#: File types the ingest reads; anything else in a raw folder (a README, notes) is
#: listed as skipped and left alone.
DATA_SUFFIXES = (".csv", ".ods", ".xlsx")
#: How far down a file or sheet the header row is looked for (title and notes rows
#: sit above the table in the publishers' workbooks).
HEADER_SEARCH_ROWS = 30
#: Bad rows named in an error message before the rest are counted.
MANIFEST_TABLE = "_files"


@dataclass
class Table:
    """A recognised table: where its header is and how its columns map."""

    file: Path
    sheet: str | None
    layout: Layout
    header_row: int  # 1-based row number of the header within the file or sheet
    header: list[str]
    positions: dict[str, int]
    preamble: list[str]
    csv_path: Path  # UTF-8 CSV that DuckDB reads (the file itself, or a converted copy)
    skip_lines: int  # lines before the header in csv_path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(raw_dir: Path) -> tuple[list[Path], list[Path]]:
    """The data files in ``raw_dir`` (sorted) and the other files that are skipped."""
    if raw_dir.is_file():
        return [raw_dir], []
    if not raw_dir.is_dir():
        raise InputFileError(raw_dir, "no such file or folder")
    data, skipped = [], []
    for path in sorted(p for p in raw_dir.iterdir() if p.is_file() and not p.name.startswith(".")):
        (data if path.suffix.lower() in DATA_SUFFIXES else skipped).append(path)
    if not data:
        raise InputFileError(raw_dir, f"no data files ({', '.join(DATA_SUFFIXES)}) to ingest in this folder")
    return data, skipped


# --------------------------------------------------------------------------- text


def _utf8_copy(path: Path, workdir: Path) -> Path:
    """The file itself when it is plain UTF-8; otherwise a UTF-8 copy in ``workdir``.

    A UTF-8 byte-order mark is dropped and a file that is not valid UTF-8 is read as
    Windows-1252 (the encoding of CSV files saved from Excel on Windows).
    """
    with open(path, "rb") as handle:
        has_bom = handle.read(3) == codecs.BOM_UTF8
    encoding = "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        encoding = "cp1252"
    if encoding == "utf-8-sig" and not has_bom:
        return path
    target = workdir / f"{path.stem}.utf8.csv"
    try:
        with (
            open(path, encoding=encoding, newline="") as src,
            open(target, "w", encoding="utf-8", newline="") as dst,
        ):
            for chunk in iter(lambda: src.read(1 << 20), ""):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path, f"cannot be read as UTF-8 or Windows-1252 text (byte {exc.start}); expected a CSV file"
        ) from exc
    return target


def _head_rows(csv_path: Path, limit: int) -> list[list[str]]:
    rows = []
    with open(csv_path, encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            rows.append(row)
            if len(rows) >= limit:
                break
    return rows


# ---------------------------------------------------------------------- recognition


def recognise(
    rows: list[list[str]], file: Path, sheet: str | None = None
) -> tuple[Layout, int, dict[str, int]]:
    """Find the header row among ``rows`` and the layout it belongs to.

    Returns the layout, the 0-based index of the header row and the column
    positions. A header that matches most of a layout but lacks a column raises an
    error naming that column.
    """
    best: tuple[int, int, Layout, list] | None = None  # (matched, row index, layout, missing)
    for index, row in enumerate(rows):
        cells = [normalise_header(c) for c in row]
        if not any(cells):
            continue
        for layout in LAYOUTS:
            positions, missing = layout.locate(row)
            if not missing:
                return layout, index, positions
            matched = len(positions)
            if matched >= 3 and (best is None or matched > best[0]):
                best = (matched, index, layout, missing)
    if not any(any(c.strip() for c in row) for row in rows):
        raise InputFileError(file, "the file is empty: no header row and no data", row=1, sheet=sheet)
    if best is not None:
        _, index, layout, missing = best
        names = ", ".join(repr(c.headers[0]) for c in missing)
        raise InputFileError(
            file,
            f"missing required column{'s' if len(missing) > 1 else ''} {names}: the header looks like "
            f"the {layout.description} ({layout.layout}), which needs "
            + ", ".join(repr(c.headers[0]) for c in layout.columns if c.required),
            row=index + 1,
            column=missing[0].headers[0],
            sheet=sheet,
        )
    expected = "; ".join(
        f"{layout.description}: " + ", ".join(c.headers[0] for c in layout.columns if c.required)
        for layout in LAYOUTS
    )
    raise UnrecognisedFileError(
        file,
        f"no header row of a known layout in the first {HEADER_SEARCH_ROWS} rows (expected {expected})",
        row=1,
        sheet=sheet,
    )


def _table_from_rows(
    file: Path, sheet: str | None, rows: list[list[str]], csv_path: Path, line_offset: int = 0
) -> Table:
    layout, index, positions = recognise(rows, file, sheet)
    preamble = [" ".join(c for c in row if c.strip()) for row in rows[:index]]
    return Table(
        file=file,
        sheet=sheet,
        layout=layout,
        header_row=index + 1,
        header=rows[index],
        positions=positions,
        preamble=[p for p in preamble if p],
        csv_path=csv_path,
        skip_lines=index + line_offset,
    )


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export would hold (12.0 -> '12')."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN: an empty cell
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value)


def _workbook_sheets(path: Path):
    """Yield (sheet name, rows as text) for every sheet of an XLSX or ODS workbook."""
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError ... all mean: not a workbook
            raise InputFileError(path, f"cannot be opened as an XLSX workbook: {exc}") from exc
        try:
            for sheet in book.worksheets:
                yield sheet.title, [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    else:
        import pandas as pd

        try:
            frames = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="odf")
        except Exception as exc:
            raise InputFileError(path, f"cannot be opened as an ODS workbook: {exc}") from exc
        for name, frame in frames.items():
            yield str(name), [[_cell_text(v) for v in row] for row in frame.itertuples(index=False)]


def tables_in(path: Path, workdir: Path) -> list[Table]:
    """Recognise the table(s) a file holds: one for a CSV file, one per data sheet of a workbook."""
    if path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty (0 bytes)", row=1)
    if path.suffix.lower() == ".csv":
        csv_path = _utf8_copy(path, workdir)
        try:
            rows = _head_rows(csv_path, HEADER_SEARCH_ROWS)
        except csv.Error as exc:
            raise InputFileError(path, f"is not a readable CSV file: {exc}") from exc
        return [_table_from_rows(path, None, rows, csv_path)]
    tables, refused = [], []
    for sheet, rows in _workbook_sheets(path):
        try:
            table = _table_from_rows(path, sheet, rows[:HEADER_SEARCH_ROWS], Path())
        except UnrecognisedFileError as exc:
            refused.append(exc)  # a notes or contents sheet: not a table
            continue
        except InputFileError as exc:
            if "is empty" in exc.reason:
                continue
            raise
        sheet_csv = workdir / f"{path.stem}.{len(tables)}.csv"
        with open(sheet_csv, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
        table.csv_path = sheet_csv
        tables.append(table)
    if not tables:
        raise UnrecognisedFileError(
            path, "no sheet of this workbook has a header row of a known layout", row=1
        )
    return tables


# ------------------------------------------------------------------------- loading


def _prepare(con: duckdb.DuckDBPyConnection, cfg: Settings) -> None:
    con.execute("create schema if not exists raw")
    con.execute(
        f"""
        create table if not exists raw.{MANIFEST_TABLE} (
            file_name varchar, file_path varchar, sheet varchar, source varchar, layout varchar,
            sha256 varchar, size_bytes bigint, rows bigint, header_row integer,
            is_synthetic boolean, preamble varchar, loaded_at timestamp
        )
        """
    )
    variants = cfg.seeds_dir / "force_name_variants.csv"
    con.execute(
        """
        create or replace temp table force_names as
        select lower(regexp_replace(trim(name_variant), '\\s+', ' ', 'g')) as name_key,
               coalesce(area_code, 'non-force:' || lower(trim(name_variant))) as body_key
        from read_csv(?, header = true, all_varchar = true)
        """,
        [str(variants)],
    )


def _ensure_raw_table(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    columns = ", ".join(f'"{c.name}" varchar' for c in layout.columns)
    con.execute(
        f"""
        create table if not exists raw.{layout.raw_table} (
            {columns}, _file_name varchar, _sheet varchar, _sha256 varchar,
            _loaded_at timestamp, _row_number bigint
        )
        """
    )


def _stage(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    width = max(len(table.header), 1)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    try:
        con.execute(
            f"""
            create or replace temp table stage as
            select * from read_csv(?, header = false, auto_detect = false, columns = {columns},
                                   delim = ',', quote = '"', escape = '"', skip = ?,
                                   null_padding = true)
            """,
            [str(table.csv_path), table.skip_lines],
        )
    except duckdb.Error as exc:
        raise InputFileError(
            table.file,
            f"cannot be read as a table of {width} columns: {str(exc).splitlines()[0]}",
            sheet=table.sheet,
        ) from exc


def _first_bad(con, table: Table, value: str, condition: str) -> tuple[int, str, int] | None:
    """The first data row meeting ``condition``: (file row, its ``value``, how many rows)."""
    found = con.execute(
        f"""
        select min(rowid), arg_min({value}, rowid), count(*)
        from stage where rowid > 0 and not blank and ({condition})
        """
    ).fetchone()
    if found is None or found[2] == 0:
        return None
    return table.header_row + int(found[0]), found[1], int(found[2])


def _validate(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    layout = table.layout
    blank = " and ".join(f"coalesce(trim(c{i}), '') = ''" for i in range(max(len(table.header), 1)))
    con.execute(f"create or replace temp table stage as select *, ({blank}) as blank from stage")

    data_rows = con.execute("select count(*) from stage where rowid > 0 and not blank").fetchone()[0]
    if data_rows == 0:
        raise InputFileError(
            table.file,
            "has a header row but no data rows below it",
            row=table.header_row + 1,
            sheet=table.sheet,
        )

    markers = ", ".join(f"'{m}'" for m in SUPPRESSION_MARKERS)
    whole = WHOLE_NUMBER.pattern
    for column in layout.columns:
        if column.name not in table.positions:
            continue
        col = f"c{table.positions[column.name]}"
        header = table.header[table.positions[column.name]]
        checks: list[tuple[str, str]] = []  # (condition that marks a bad row, what is wrong)
        if column.kind != "text":
            checks.append((f"coalesce(trim({col}), '') = ''", "is empty; a value is required"))
        if column.kind == "financial_year":
            checks.append(
                (
                    f"not regexp_full_match(trim({col}), '\\d{{4}}[/_-]\\d{{2}}') "
                    f"or (try_cast(substr(trim({col}), 1, 4) as integer) + 1) % 100 "
                    f"!= try_cast(substr(trim({col}), 6, 2) as integer)",
                    "is not a financial year; expected two consecutive years such as '2016/17'",
                )
            )
        elif column.kind == "quarter":
            checks.append(
                (
                    f"trim({col}) not in ('1', '2', '3', '4')",
                    "is not a financial quarter; expected 1, 2, 3 or 4",
                )
            )
        elif column.kind == "count":
            checks.append(
                (
                    f"not regexp_full_match(trim({col}), '{whole}') and trim({col}) not in ({markers})",
                    "is not a whole number; expected a count such as 42 (negative corrections such as -3 "
                    f"are allowed) or a suppression marker ({', '.join(SUPPRESSION_MARKERS)})",
                )
            )
        elif column.kind == "force":
            checks.append(
                (
                    f"lower(regexp_replace(trim({col}), '\\s+', ' ', 'g')) "
                    "not in (select name_key from force_names)",
                    "is not a known police force or reporting body; add the spelling to "
                    "dbt_project/seeds/force_name_variants.csv if it is a new variant",
                )
            )
        for condition, message in checks:
            bad = _first_bad(con, table, col, condition)
            if bad is not None:
                row, value, count = bad
                more = f" ({count - 1} more row{'s' if count > 2 else ''} like it)" if count > 1 else ""
                raise InputFileError(
                    table.file,
                    f"{value!r} {message}{more}",
                    row=row,
                    column=header,
                    sheet=table.sheet,
                )
    _check_duplicates(con, table)


def _key_sql(layout: Layout, column_sql) -> str:
    """SQL for a layout's key, normalised the way the marts will read it.

    ``column_sql`` maps a canonical column name to the SQL naming it (a staged
    ``cN`` column or a raw table column).
    """
    parts = []
    for name in layout.key:
        column = next(c for c in layout.columns if c.name == name)
        col = column_sql(name)
        if column.kind == "force":
            parts.append(
                "(select body_key from force_names where name_key = "
                f"lower(regexp_replace(trim({col}), '\\s+', ' ', 'g')))"
            )
        elif column.kind == "financial_year":
            parts.append(f"substr(trim({col}), 1, 4)")
        else:
            parts.append(f"upper(trim({col}))")
    return "(" + ", ".join(parts) + ")"


def _check_duplicates(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    if not table.layout.key:
        return
    key = _key_sql(table.layout, lambda name: f"c{table.positions[name]}")
    found = con.execute(
        f"""
        with keyed as (
            select rowid, {key} as k from stage where rowid > 0 and not blank
        ), ranked as (
            select rowid, min(rowid) over (partition by k) as first_rowid,
                   count(*) over (partition by k) as n
            from keyed
        )
        select rowid, first_rowid, (select count(*) from ranked where rowid <> first_rowid and n > 1)
        from ranked where n > 1 and rowid <> first_rowid order by rowid limit 1
        """
    ).fetchone()
    if found:
        row, first, count = found
        key_names = ", ".join(repr(table.header[table.positions[name]]) for name in table.layout.key)
        more = f" ({count - 1} more duplicate row{'s' if count > 2 else ''})" if count > 1 else ""
        raise InputFileError(
            table.file,
            f"duplicates row {table.header_row + first}: the same {key_names} appears twice{more}",
            row=table.header_row + row,
            column=table.header[table.positions[table.layout.key[0]]],
            sheet=table.sheet,
        )


def _load(con, table: Table, sha256: str, loaded_at: datetime) -> int:
    layout = table.layout
    _ensure_raw_table(con, layout)
    select = ", ".join(
        f"c{table.positions[c.name]}" if c.name in table.positions else "null" for c in layout.columns
    )
    con.execute(
        f"""
        insert into raw.{layout.raw_table}
        select {select}, ?, ?, ?, ?, {table.header_row} + rowid
        from stage where rowid > 0 and not blank order by rowid
        """,
        [table.file.name, table.sheet, sha256, loaded_at],
    )
    return con.execute("select count(*) from stage where rowid > 0 and not blank").fetchone()[0]


def _check_across_files(con: duckdb.DuckDBPyConnection, tables: list[Table]) -> None:
    """The same key in two files (or two sheets) is refused, naming both places."""
    for layout in {t.layout for t in tables}:
        if not layout.key:
            continue
        key = _key_sql(layout, lambda name: name)
        found = con.execute(
            f"""
            with keyed as (
                select _file_name, _sheet, _row_number, {key} as k from raw.{layout.raw_table}
            )
            select a._file_name, a._sheet, a._row_number, b._file_name, b._sheet, b._row_number
            from keyed a join keyed b
              on a.k = b.k and (a._file_name, coalesce(a._sheet, '')) < (b._file_name, coalesce(b._sheet, ''))
            order by b._file_name, b._row_number limit 1
            """
        ).fetchone()
        if found:
            first_file, first_sheet, first_row, file, sheet, row = found
            where = f"{first_file}" + (f" sheet {first_sheet!r}" if first_sheet else "")
            raise InputFileError(
                file,
                f"repeats a row already loaded from {where} row {first_row} (same "
                + ", ".join(layout.key)
                + "); give each period once",
                row=row,
                sheet=sheet,
            )


def ingest_directory(raw_dir: Path, build_db: Path, cfg: Settings) -> dict:
    """Ingest every data file in ``raw_dir`` into ``build_db``. Returns a report."""
    files, skipped = discover(raw_dir)
    workdir = build_db.parent / "ingest-work"
    workdir.mkdir(parents=True, exist_ok=True)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    report: dict = {"files": [], "skipped": [p.name for p in skipped], "synthetic": False}
    con = duckdb.connect(str(build_db))
    try:
        _prepare(con, cfg)
        loaded_tables: list[Table] = []
        for path in files:
            sha256 = sha256_of(path)
            for table in tables_in(path, workdir):
                _stage(con, table)
                _validate(con, table)
                rows = _load(con, table, sha256, loaded_at)
                synthetic = any(SYNTHETIC_MARKER.lower() in p.lower() for p in table.preamble)
                con.execute(
                    f"insert into raw.{MANIFEST_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        path.name,
                        str(path.resolve()),
                        table.sheet,
                        table.layout.source,
                        table.layout.layout,
                        sha256,
                        path.stat().st_size,
                        rows,
                        table.header_row,
                        synthetic,
                        "\n".join(table.preamble) or None,
                        loaded_at,
                    ],
                )
                loaded_tables.append(table)
                report["files"].append(
                    {
                        "file": path.name,
                        "sheet": table.sheet,
                        "source": table.layout.source,
                        "layout": table.layout.layout,
                        "rows": rows,
                        "synthetic": synthetic,
                    }
                )
                report["synthetic"] = report["synthetic"] or synthetic
                log.info("loaded %s (%s): %d rows", path.name, table.layout.layout, rows)
        _check_across_files(con, loaded_tables)
        con.execute("drop table if exists stage")
        con.execute("checkpoint")
    finally:
        con.close()
    return report
