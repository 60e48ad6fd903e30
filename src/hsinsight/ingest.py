"""Load the official files into the warehouse's ``raw`` schema, losing nothing.

Files are recognised by their header row (searched for in the first rows of a CSV
file, of each workbook sheet and of each CSV inside a zip archive), never by their
names. Values land exactly as they are written, as text, under canonical column
names, with the file name, its SHA-256, the load time and the row number beside them.

The raw layer is cumulative: a build starts from the raw tables of the published
warehouse, so

* a file already loaded (same SHA-256) is not loaded again (``unchanged``);
* a new release covering a period already loaded (a financial year, a calendar
  year ...) replaces that period's rows, and what it changed (rows added, removed,
  counts revised) is recorded in ``raw._release_changes`` and ``raw._revised_cells``;
* every file is listed in the manifest ``raw._files`` and every decision in
  ``raw._ingest_log``.

A file that cannot be accepted stops the run with an
:class:`~hsinsight.errors.InputFileError` naming the file, the row and the column and
saying what was expected. The refused file is copied (never moved) to the quarantine
folder with the reason beside it; the build is discarded by the caller, so the
published warehouse is untouched.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Collection, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hsinsight.config import Settings
from hsinsight.errors import HsinsightError, InputFileError, UnrecognisedFileError
from hsinsight.limits import Limits, SheetShape, check_file_size, inspect_ods, inspect_xlsx, open_archive
from hsinsight.sources import LAYOUTS
from hsinsight.sources.base import (
    DECIMAL_NUMBER,
    SUPPRESSION_MARKERS,
    SYNTHETIC_MARKER,
    WHOLE_NUMBER,
    Column,
    Layout,
    normalise_header,
    strip_footnotes,
)

log = logging.getLogger(__name__)

#: File types the ingest reads; anything else in a raw folder (a README, notes) is
#: listed as skipped and left alone. A zip archive is read member by member.
TABLE_SUFFIXES = (".csv", ".ods", ".xlsx")
DATA_SUFFIXES = (*TABLE_SUFFIXES, ".zip")
#: How far down a file or sheet the header row is looked for (title and notes rows
#: sit above the table in the publishers' workbooks).
HEADER_SEARCH_ROWS = 30
#: How much of a file is read to tell its encoding before the whole file is.
UTF8_HEAD_BYTES = 1 << 16
#: DuckDB's memory while ingesting (its default is 80% of the machine's). Loading and
#: checking a file of millions of rows streams through it; whatever does not fit
#: spills to the build folder, so memory stays flat however big the release.
MEMORY_LIMIT = "1GB"
MANIFEST_TABLE = "_files"
INGEST_LOG_TABLE = "_ingest_log"
RELEASE_CHANGES_TABLE = "_release_changes"
REVISED_CELLS_TABLE = "_revised_cells"
#: Bookkeeping columns every raw table carries after the layout's own columns.
LINEAGE_COLUMNS = (
    ("_file_name", "varchar"),
    ("_sheet", "varchar"),
    ("_sha256", "varchar"),
    ("_loaded_at", "timestamp"),
    ("_row_number", "bigint"),
)


@dataclass
class Table:
    """A recognised table: where its header is and how its columns map."""

    file: Path  # the file the user gave (a zip archive for a member of one)
    sheet: str | None  # workbook sheet, or member name inside a zip archive
    layout: Layout
    header_row: int  # 1-based row number of the header within the file or sheet
    header: list[str]
    positions: dict[str, int]
    preamble: list[str]
    csv_path: Path  # UTF-8 CSV that is loaded (the file itself, or a converted copy)
    skip_lines: int  # lines before the header in csv_path
    constants: dict[str, str] = field(default_factory=dict)  # values taken from the title rows
    #: a wide table's period columns: position -> the header as written (one space
    #: for each run of white space, footnote marks dropped)
    melted: dict[int, str] = field(default_factory=dict)
    #: what ingest noticed and kept (faults among rows the platform does not use,
    #: footnote rows under the table): written to the ingest log
    notes: list[str] = field(default_factory=list)
    #: False while only the head of csv_path is known to be UTF-8 (a big CSV file is not
    #: decoded twice: the loader checks the rest as it reads and falls back if it must)
    text_checked: bool = True

    @property
    def is_synthetic(self) -> bool:
        return any(SYNTHETIC_MARKER.lower() in p.lower() for p in self.preamble)

    def provides(self, name: str) -> bool:
        """Whether the table fills column ``name`` (from a cell, its title rows or its header)."""
        melt = self.layout.melt
        if melt is not None and self.melted and name in (melt.label_column, melt.value_column):
            return True
        return name in self.positions or name in self.constants

    def header_of(self, name: str) -> str | None:
        """The header text of column ``name`` as the file writes it (None when it has none)."""
        if name in self.positions:
            return self.header[self.positions[name]]
        return None


class NotUsedTable(Exception):
    """A sheet holding a known publisher's table that the platform does not read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(raw_dir: Path) -> tuple[list[Path], list[Path]]:
    """The data files in ``raw_dir`` (sorted) and the other files that are skipped.

    A symbolic link in the folder (or given as the file) is refused, not followed: it
    could lead anywhere (a device, another user's file, a file that never ends), and a
    raw file must be the file itself.
    """
    if raw_dir.is_symlink() and not raw_dir.is_dir():
        _refuse_link(raw_dir)
    if raw_dir.is_file():
        return [raw_dir], []
    if not raw_dir.is_dir():
        raise InputFileError(raw_dir, "no such file or folder")
    data, skipped = [], []
    for path in sorted(p for p in raw_dir.iterdir() if not p.name.startswith(".")):
        if path.is_symlink():
            _refuse_link(path)
        if not path.is_file():
            continue
        (data if path.suffix.lower() in DATA_SUFFIXES else skipped).append(path)
    if not data:
        raise InputFileError(raw_dir, f"no data files ({', '.join(DATA_SUFFIXES)}) to ingest in this folder")
    return data, skipped


def _refuse_link(path: Path) -> None:
    try:
        target = f" to {os.readlink(path)}"
    except OSError:
        target = ""
    raise InputFileError(
        path,
        f"is a symbolic link{target}, which ingest does not follow; expected the file itself in the raw "
        "folder (copy it there)",
    )


# --------------------------------------------------------------------------- text


def _utf8_copy(
    path: Path,
    workdir: Path,
    shown: Path | None = None,
    sheet: str | None = None,
    *,
    whole_file: bool = True,
) -> Path:
    """The file itself when it is plain UTF-8; otherwise a UTF-8 copy in ``workdir``.

    A UTF-8 byte-order mark is dropped and a file that is not valid UTF-8 is read as
    Windows-1252 (the encoding of CSV files saved from Excel on Windows). A file
    with NUL bytes (UTF-16, or not text at all) is refused.

    With ``whole_file=False`` only the first ``UTF8_HEAD_BYTES`` are decoded: a file
    without a byte-order mark whose head is UTF-8 is returned as it is, and whoever
    reads it must check the rest (``_load_rows`` does, and comes back here if it is
    not).
    """
    shown = shown or path
    with open(path, "rb") as handle:
        head = handle.read(UTF8_HEAD_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise InputFileError(
            shown,
            "is not a text file in a supported encoding (it holds NUL bytes, as UTF-16 or binary files do); "
            "expected a CSV file saved as UTF-8 or Windows-1252",
            row=1,
            sheet=sheet,
        )
    has_bom = head.startswith(codecs.BOM_UTF8)
    if not whole_file and not has_bom:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head)  # a character cut at the end is fine
        except UnicodeDecodeError:
            pass  # decide on the whole file
        else:
            return path
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
    target = workdir / f"{path.stem}.{abs(hash(str(shown))) % 10**8}.utf8.csv"
    try:
        with (
            open(path, encoding=encoding, newline="") as src,
            open(target, "w", encoding="utf-8", newline="") as dst,
        ):
            for chunk in iter(lambda: src.read(1 << 20), ""):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            shown,
            f"cannot be read as UTF-8 or Windows-1252 text (byte {exc.start}); expected a CSV file",
            sheet=sheet,
        ) from exc
    return target


def _head_rows(
    csv_path: Path,
    limit: int,
    bounds: Limits | None = None,
    shown: Path | None = None,
    sheet: str | None = None,
) -> list[list[str]]:
    """The first ``limit`` rows of a UTF-8 CSV file, each line read no further than the
    limit ``csv_line_length`` and each row no wider than ``csv_columns`` (a refusal
    naming ``shown``, the row and the limit otherwise)."""
    bounds = bounds or Limits.from_env()
    shown = shown or csv_path
    rows: list[list[str]] = []
    line_number = 0

    def lines(handle):
        nonlocal line_number
        while True:
            line = handle.readline(bounds.csv_line_length + 1)
            if not line:
                return
            line_number += 1
            if len(line) > bounds.csv_line_length and not line.endswith(("\n", "\r")):
                raise InputFileError(
                    shown,
                    bounds.breach("csv_line_length", len(line), "the line's length in characters, at least"),
                    row=line_number,
                    sheet=sheet,
                )
            yield line

    with open(csv_path, encoding="utf-8", newline="") as handle:
        for row in csv.reader(lines(handle)):
            if len(row) > bounds.csv_columns:
                raise InputFileError(
                    shown,
                    bounds.breach("csv_columns", len(row), "the row's number of columns"),
                    row=line_number,
                    sheet=sheet,
                )
            rows.append(row)
            if len(rows) >= limit:
                break
    return rows


def _check_complete(table: Table) -> None:
    """Refuse a CSV file that stops in the middle of a row (an incomplete download or copy)."""
    path = table.csv_path
    size = path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 65536))
        tail = handle.read()
    if tail.endswith((b"\n", b"\r")):
        return
    last_line = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    try:
        fields = next(csv.reader([last_line]))
    except (csv.Error, StopIteration):
        fields = []
    width = len(table.header)
    quotes_open = last_line.count('"') % 2 == 1
    if len(fields) >= width and not quotes_open:
        return  # a complete last row that merely lacks a final line break
    with open(path, "rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    raise InputFileError(
        table.file,
        f"the file ends in the middle of a row ({len(fields)} of {width} columns"
        + (", inside a quoted value" if quotes_open else "")
        + ") and has no final line break: it looks truncated (an incomplete download or copy); "
        "expected every row complete",
        row=lines + 1,
        column=table.header[min(len(fields), width - 1)] if fields else None,
        sheet=table.sheet,
    )


# ---------------------------------------------------------------------- recognition


def recognise(
    rows: list[list[str]], file: Path, sheet: str | None = None
) -> tuple[Layout, int, dict[str, int]]:
    """Find the header row among ``rows`` and the layout it belongs to.

    Returns the layout, the 0-based index of the header row and the column
    positions. When several layouts match a row, the one matching most columns
    wins. A header that matches most of a layout but lacks a column raises an
    error naming that column.
    """
    best: tuple[int, int, Layout, list] | None = None  # (matched, row index, layout, missing)
    for index, row in enumerate(rows):
        cells = [normalise_header(c) for c in row]
        if not any(cells):
            continue
        complete: list[tuple[tuple[int, int], Layout, dict[str, int]]] = []
        for layout in LAYOUTS:
            positions, missing = layout.locate(row)
            melted = layout.melt_positions(row)
            if layout.melt is not None and not melted:
                missing = [*missing, layout.column(layout.melt.value_column)]
            if not missing and len(positions) >= 2:
                # most required columns first (a table of rates with its population
                # column over the table of counts it shares headers with), then most columns
                required = sum(1 for c in layout.columns if c.required and c.name in positions)
                complete.append(((required + (1 if melted else 0), len(positions)), layout, positions))
                continue
            matched = len(positions)
            # a header with the columns that make a table this layout's, but not all
            # the others, is this layout's table gone wrong
            signed = bool(layout.signature) and all(n in positions for n in layout.signature)
            if (matched >= 3 or (signed and matched >= 2)) and (best is None or matched > best[0]):
                best = (matched, index, layout, missing)
        if complete:
            _, layout, positions = max(complete, key=lambda c: c[0])
            return layout, index, positions
    if not any(any(c.strip() for c in row) for row in rows):
        raise InputFileError(file, "the file is empty: no header row and no data", row=1, sheet=sheet)
    if best is not None:
        _, index, layout, missing = best
        names = ", ".join(repr(c.headers[0]) for c in missing)
        raise InputFileError(
            file,
            f"missing required column{'s' if len(missing) > 1 else ''} {names}: the header looks like "
            f"the {layout.description} ({layout.layout}); expected the columns "
            + ", ".join(repr(h) for h in layout.required_headers()),
            row=index + 1,
            column=missing[0].headers[0],
            sheet=sheet,
        )
    expected = "; ".join(
        f"{layout.description}: " + ", ".join(layout.required_headers()) for layout in LAYOUTS
    )
    raise UnrecognisedFileError(
        file,
        f"no header row of a known layout in the first {HEADER_SEARCH_ROWS} rows (expected {expected})",
        row=1,
        sheet=sheet,
    )


def _preamble_constants(
    layout: Layout, positions: dict[str, int], preamble: list[str], file, sheet, header_row
):
    """Values a layout takes from the title rows (or sheet name) when it has no column for them."""
    constants: dict[str, str] = {}
    texts = [*preamble, sheet or ""]
    for spec in layout.preamble_fields:
        if spec.column in positions:
            continue
        found = None
        for text in texts:
            matches = list(re.finditer(spec.pattern, " ".join(text.split()), flags=re.IGNORECASE))
            if matches:
                match = matches[-1] if spec.last else matches[0]
                found = spec.canonical(match) if spec.canonical else match.group(1)
                break
        if found is None:
            header = layout.column(spec.column).headers[0]
            raise InputFileError(
                file,
                f"the table has no {header!r} column and its title rows do not say it: expected "
                f"{spec.expected}, or a {header!r} column",
                row=header_row,
                sheet=sheet,
            )
        constants[spec.column] = " ".join(found.split())
    return constants


def _header_constants(layout: Layout, positions: dict[str, int], header: list[str], file, sheet, header_row):
    """Values a layout takes from the header cell of another column ("(mid-2017)")."""
    constants: dict[str, str] = {}
    for name, source, pattern in layout.header_fields:
        text = normalise_header(header[positions[source]]) if source in positions else ""
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match is None:
            raise InputFileError(
                file,
                f"the header does not say the {name.replace('_', ' ')}: expected it in the "
                f"{source.replace('_', ' ')} column's header (matching {pattern!r})",
                row=header_row,
                column=header[positions[source]] if source in positions else None,
                sheet=sheet,
            )
        constants[name] = match.group(1)
    return constants


def _table_from_rows(
    file: Path, sheet: str | None, rows: list[list[str]], csv_path: Path, line_offset: int = 0
) -> Table:
    layout, index, positions = recognise(rows, file, sheet)
    preamble = [p for p in (" ".join(c for c in row if c.strip()) for row in rows[:index]) if p]
    title = " ".join(" ".join(preamble).split())
    for pattern, reason in layout.not_used_titles:
        if re.search(pattern, title, flags=re.IGNORECASE):
            raise NotUsedTable(
                f"{reason} (its header is that of the {layout.description}; its title says otherwise)"
            )
    constants = _preamble_constants(layout, positions, preamble, file, sheet, index + 1)
    constants.update(_header_constants(layout, positions, rows[index], file, sheet, index + 1))
    melted = {i: strip_footnotes(rows[index][i]) for i in layout.melt_positions(rows[index])}
    return Table(
        file=file,
        sheet=sheet,
        layout=layout,
        header_row=index + 1,
        header=rows[index],
        positions=positions,
        preamble=preamble,
        csv_path=csv_path,
        skip_lines=index + line_offset,
        constants=constants,
        melted=melted,
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
        return repr(value)
    return str(value)


def _workbook_sheets(
    path: Path, shown: Path, bounds: Limits | None = None, member: str | None = None
) -> Iterator[tuple[str, list[list[str]], SheetShape | None]]:
    """Yield (sheet name, rows as text, the sheet's shape) for every sheet of an XLSX or
    ODS workbook, in order.

    The workbook is checked against the limits before it is opened (its container,
    sheets, names and each sheet's extent: see :mod:`hsinsight.limits`); sheets are
    read by position. ``member`` is where the workbook sits in a zip archive, for the
    errors, which name ``shown``.
    """
    from python_calamine import CalamineWorkbook

    bounds = bounds or Limits.from_env()
    kind = "XLSX" if path.suffix.lower() == ".xlsx" else "ODS"

    def where(sheet: str | None) -> str | None:
        if member is None:
            return sheet
        return member if sheet is None else f"{member}/{sheet}"

    try:
        shape = (inspect_xlsx if kind == "XLSX" else inspect_ods)(path, shown, bounds, member)
    except InputFileError as exc:
        if member is None or exc.sheet == member:
            raise
        raise type(exc)(shown, exc.reason, row=exc.row, column=exc.column, sheet=where(exc.sheet)) from exc

    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except Exception as exc:  # a truncated or corrupt zip container, or not a workbook at all
        raise InputFileError(
            shown,
            f"cannot be opened as an {kind} workbook (truncated, damaged or not a workbook); expected a "
            f"complete {kind} file: {exc}",
            sheet=where(None),
        ) from exc
    repeated = next((name for i, name in enumerate(names) if name in names[:i]), None)
    if repeated is not None:
        raise InputFileError(
            shown,
            f"two sheets are named {repeated!r}; expected every sheet of a workbook named differently",
            sheet=where(repeated),
        )
    for index, name in enumerate(names):
        try:
            rows = book.get_sheet_by_index(index).to_python(skip_empty_area=False)
        except Exception as exc:
            raise InputFileError(
                shown,
                f"sheet cannot be read (damaged or truncated workbook); expected a complete workbook: {exc}",
                sheet=where(name),
            ) from exc
        yield name, [[_cell_text(v) for v in row] for row in rows], shape.sheet(name)


def _csv_table(
    path: Path, shown: Path, sheet: str | None, workdir: Path, bounds: Limits | None = None
) -> Table:
    bounds = bounds or Limits.from_env()
    csv_path = _utf8_copy(path, workdir, shown, sheet, whole_file=False)
    try:
        try:
            rows = _head_rows(csv_path, HEADER_SEARCH_ROWS, bounds, shown, sheet)
        except UnicodeDecodeError:  # the header rows run past the part checked
            csv_path = _utf8_copy(path, workdir, shown, sheet)
            rows = _head_rows(csv_path, HEADER_SEARCH_ROWS, bounds, shown, sheet)
    except csv.Error as exc:
        raise InputFileError(shown, f"is not a readable CSV file: {exc}", sheet=sheet) from exc
    table = _table_from_rows(shown, sheet, rows, csv_path)
    # a converted copy is UTF-8 throughout; so is a file whose head was all of it
    table.text_checked = csv_path != path or path.stat().st_size <= UTF8_HEAD_BYTES
    _check_complete(table)
    return table


def tables_in(
    path: Path,
    workdir: Path,
    not_used: list[tuple[str, str]] | None = None,
    *,
    bounds: Limits | None = None,
) -> list[Table]:
    """Recognise the table(s) a file holds: one for a CSV file, one per data sheet of a
    workbook, one per data file inside a zip archive.

    Every sheet or member that is not loaded is appended to ``not_used`` as (sheet or
    member, why), so that nothing is left out without a word in the ingest log. A
    sheet whose header half-matches a layout is refused, not left out.

    The file is checked against ``bounds`` (the limits in force by default) before
    any reader opens it, and whatever a reader raises becomes an
    :class:`~hsinsight.errors.InputFileError` naming the file: a raw file can stop
    the run, never crash it.
    """
    not_used = [] if not_used is None else not_used
    return _guarded(
        path, None, lambda: _tables(path, path, None, workdir, not_used, bounds or Limits.from_env(), 0)
    )


def _guarded(shown: Path, member: str | None, read):
    """``read()``, any failure of a reader (a library's own error, ``RuntimeError``,
    ``NotImplementedError``, ``MemoryError``, a zlib or XML error ...) made a refusal
    naming ``shown`` (and ``member``)."""
    try:
        return read()
    except (HsinsightError, NotUsedTable):
        raise
    except MemoryError as exc:
        raise InputFileError(
            shown,
            "ran out of memory while being read; expected a file within the limits of hsinsight.limits",
            sheet=member,
        ) from exc
    except Exception as exc:  # noqa: BLE001 - every reader's failure is a refusal of the file
        text = " ".join(str(exc).split())[:300]
        raise InputFileError(
            shown,
            f"cannot be read ({type(exc).__name__}: {text}); expected a complete, unencrypted CSV, ODS, "
            "XLSX or zip file",
            sheet=member,
        ) from exc


def _tables(
    path: Path,
    shown: Path,
    member: str | None,
    workdir: Path,
    not_used: list[tuple[str, str]],
    bounds: Limits,
    depth: int,
) -> list[Table]:
    """``tables_in`` for ``path``, which is ``shown`` or its ``member`` (a file taken
    out of a zip archive, ``depth`` archives deep)."""
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(shown, "the file is empty (0 bytes)", row=1, sheet=member)
    check_file_size(path, shown, bounds, member)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            return [_csv_table(path, shown, member, workdir, bounds)]
        except NotUsedTable as exc:
            raise UnrecognisedFileError(
                shown, f"not a table hsinsight reads: {exc.reason}", row=1, sheet=member
            ) from exc
    if suffix == ".zip":
        return _zip_tables(
            path, workdir, not_used, bounds=bounds, shown=shown, member=member, depth=depth + 1
        )
    tables = []
    for sheet, rows, shape in _workbook_sheets(path, shown, bounds, member):
        where = sheet if member is None else f"{member}/{sheet}"
        try:
            table = _table_from_rows(shown, where, rows[:HEADER_SEARCH_ROWS], Path())
        except NotUsedTable as exc:
            not_used.append((sheet, f"not used: {exc.reason}"))
            continue
        except UnrecognisedFileError:
            # a notes, contents or chart sheet, or a table of other statistics
            not_used.append(
                (
                    sheet,
                    "not used: no header row of a layout hsinsight reads (notes, contents or another table)",
                )
            )
            continue
        except InputFileError as exc:
            if "is empty" in exc.reason:
                not_used.append((sheet, "not used: the sheet is empty"))
                continue
            raise
        if shape is not None and shape.uncached_formula is not None:
            row = int(re.sub(r"\D", "", shape.uncached_formula))
            more = shape.uncached_count - 1
            raise InputFileError(
                shown,
                f"cell {shape.uncached_formula} holds a formula without a saved value"
                + (f" ({more:,} more such cell{'s' if more > 1 else ''} in the sheet)" if more > 0 else "")
                + ", which would be read as empty; expected the workbook saved by a spreadsheet application, "
                "which saves each formula's value (open it and save it again), or values instead of formulas",
                row=row,
                sheet=where,
            )
        sheet_csv = workdir / f"{path.stem}.{abs(hash((str(path), sheet))) % 10**8}.csv"
        with open(sheet_csv, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
        table.csv_path = sheet_csv
        tables.append(table)
    if not tables:
        raise UnrecognisedFileError(
            shown,
            "no sheet of this workbook has a header row of a known layout; expected a sheet with the header of one of the layouts in hsinsight.sources"
            + ("" if not not_used else " (" + "; ".join(f"{s!r}: {why}" for s, why in not_used) + ")"),
            row=1,
            sheet=member,
        )
    return tables


def _zip_tables(
    path: Path,
    workdir: Path,
    not_used: list[tuple[str, str]],
    *,
    bounds: Limits | None = None,
    shown: Path | None = None,
    member: str | None = None,
    depth: int = 1,
) -> list[Table]:
    """The tables of a zip archive's CSV, ODS and XLSX members. The archive is checked
    against the limits first (members, sizes, ratio, encryption, method); a zip
    archive inside it is read only while ``depth`` is within ``zip_depth``."""
    bounds = bounds or Limits.from_env()
    shown = shown or path
    if depth > bounds.zip_depth:
        raise InputFileError(
            shown,
            bounds.breach("zip_depth", depth, "a zip archive inside a zip archive: the archives' depth"),
            sheet=member,
        )
    archive = open_archive(path, shown, bounds, "zip archive", member)
    members = [m for m in archive.infolist() if not m.is_dir()]
    target = workdir / f"{path.stem}.{abs(hash(str(path))) % 10**8}.unzipped"
    target.mkdir(parents=True, exist_ok=True)
    # Every member is read to its end once, which checks its CRC (as ZipFile.testzip
    # would, in a pass of its own): the tables into files, the rest discarded. No more
    # is read than the member's declared size, which the limits have passed.
    readable = (*TABLE_SUFFIXES, ".zip")
    extracted: list[tuple[str, Path]] = []
    with archive:
        for info in members:
            name = info.filename
            inner = name if member is None else f"{member}/{name}"
            is_table = Path(name).suffix.lower() in readable and not Path(name).name.startswith(".")
            destination = target / f"{len(extracted)}{Path(name).suffix.lower()}" if is_table else None
            try:
                with archive.open(info) as src:
                    if destination is None:
                        while src.read(1 << 20):
                            pass
                    else:
                        with open(destination, "wb") as dst:
                            shutil.copyfileobj(src, dst)
            except (zipfile.BadZipFile, zlib.error) as exc:
                raise InputFileError(
                    shown,
                    f"member {name!r} is damaged (CRC mismatch or corrupt data): the archive looks truncated; expected a "
                    "complete zip file",
                    sheet=member,
                ) from exc
            except (RuntimeError, NotImplementedError, OSError, EOFError, ValueError) as exc:
                text = " ".join(str(exc).split())[:300]
                raise InputFileError(
                    shown,
                    f"member {name!r} cannot be decompressed ({type(exc).__name__}: {text}); expected a "
                    "complete zip file with unencrypted members",
                    sheet=member,
                ) from exc
            if destination is not None:
                extracted.append((inner, destination))
            else:
                not_used.append((inner, "not used: not a CSV, ODS or XLSX file"))
    tables = []
    for inner, file in extracted:
        if file.suffix == ".csv":
            try:
                tables.append(
                    _guarded(shown, inner, lambda f=file, n=inner: _csv_table(f, shown, n, workdir, bounds))
                )
            except NotUsedTable as exc:
                not_used.append((inner, f"not used: {exc.reason}"))
            continue
        found: list[tuple[str, str]] = []
        for table in _guarded(
            shown, inner, lambda f=file, n=inner, u=found: _tables(f, shown, n, workdir, u, bounds, depth)
        ):
            table.file = shown
            tables.append(table)
        if file.suffix == ".zip":
            not_used.extend(found)
        else:
            not_used.extend((f"{inner}/{sheet}", why) for sheet, why in found)
    if not tables:
        raise UnrecognisedFileError(
            shown,
            "the zip archive holds no CSV, ODS or XLSX file of a known layout; expected at least one",
            sheet=member,
        )
    return tables


# ------------------------------------------------------------------ reference data


def _seed_path(cfg: Settings, name: str) -> str:
    return str(cfg.seeds_dir / f"{name}.csv")


def prepare_raw(con: duckdb.DuckDBPyConnection, cfg: Settings) -> None:
    """Raw schema, bookkeeping tables, every layout's raw table and the seed lookups."""
    con.execute("create schema if not exists raw")
    con.execute(
        f"""
        create table if not exists raw.{MANIFEST_TABLE} (
            file_name varchar, file_path varchar, sheet varchar, source varchar, layout varchar,
            sha256 varchar, size_bytes bigint, rows bigint, header_row integer,
            is_synthetic boolean, preamble varchar, loaded_at timestamp, periods varchar
        )
        """
    )
    con.execute(
        f"""
        create table if not exists raw.{INGEST_LOG_TABLE} (
            file_name varchar, sha256 varchar, source varchar, action varchar, rows bigint,
            detail varchar, logged_at timestamp
        )
        """
    )
    con.execute(
        f"""
        create table if not exists raw.{RELEASE_CHANGES_TABLE} (
            source varchar, period varchar, previous_file varchar, previous_sha256 varchar,
            new_file varchar, new_sha256 varchar, rows_added bigint, rows_removed bigint,
            rows_revised bigint, count_change bigint, detected_at timestamp
        )
        """
    )
    con.execute(
        f"""
        create table if not exists raw.{REVISED_CELLS_TABLE} (
            source varchar, period varchar, new_file varchar, row_key varchar, column_name varchar,
            previous_value varchar, new_value varchar, detected_at timestamp
        )
        """
    )
    for table in {layout.raw_table: layout for layout in LAYOUTS}.values():
        _ensure_raw_table(con, table)
    name_key = "lower(regexp_replace(trim({}), '\\s+', ' ', 'g'))"
    con.execute(
        f"""
        create or replace temp table force_names as
        select distinct {name_key.format("name_variant")} as name_key,
               coalesce(area_code, 'non-force:' || {name_key.format("name_variant")}) as body_key
        from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "force_name_variants")],
    )
    con.execute(
        f"""
        create or replace temp table cps_area_names as
        select distinct {name_key.format("name_variant")} as name_key, cps_area_code as body_key
        from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "cps_area_name_variants")],
    )
    for lookup, seed in (
        ("force_names", "force_name_variants"),
        ("cps_area_names", "cps_area_name_variants"),
    ):
        clash = con.execute(
            f"select name_key from {lookup} group by name_key having count(*) > 1 limit 1"
        ).fetchone()
        if clash:
            raise InputFileError(
                cfg.seeds_dir / f"{seed}.csv",
                f"the name {clash[0]!r} is mapped to more than one area; expected each spelling to name one",
            )
    con.execute(
        """
        create or replace temp table ons_area_codes as
        select upper(trim(area_code)) as code from read_csv(?, header = true, all_varchar = true)
        union
        select upper(trim(area_code)) from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "forces"), _seed_path(cfg, "other_areas")],
    )
    con.execute(
        """
        create or replace temp table platform_codes as
        select distinct upper(trim(offence_code)) as code from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "offence_codes")],
    )
    con.execute(
        """
        create or replace temp table outcome_types as
        select lower(trim(outcome_type)) as code from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "outcome_types")],
    )


def _ensure_raw_table(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    """Create a layout's raw table, or add columns a newer layout version brought."""
    columns = [(c.name, "varchar") for c in _raw_columns(layout)] + list(LINEAGE_COLUMNS)
    con.execute(
        f"create table if not exists raw.{layout.raw_table} ("
        + ", ".join(f'"{n}" {t}' for n, t in columns)
        + ")"
    )
    existing = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [layout.raw_table],
        ).fetchall()
    }
    for name, sql_type in columns:
        if name not in existing:
            con.execute(f'alter table raw.{layout.raw_table} add column "{name}" {sql_type}')


def _raw_columns(layout: Layout) -> list[Column]:
    """The columns of a layout's raw table: the union over layouts sharing the table."""
    seen: dict[str, Column] = {}
    for other in LAYOUTS:
        if other.raw_table == layout.raw_table:
            for column in other.columns:
                seen.setdefault(column.name, column)
    return list(seen.values())


# -------------------------------------------------------------------------- loading
#
# A table's rows go straight into its raw table, inside a transaction that is
# committed only when every check on them has passed (a refused table leaves
# nothing behind). Every later step reads them there, as ``raw.<table> where
# <this table>``: the rows of this file and sheet loaded in this run.


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


# ----------------------------------------------------------------------- validation


def _first_bad(con, table: Table, this: str, value: str, condition: str) -> tuple[int, str, int] | None:
    """The first of this table's rows meeting ``condition``: (file row, its ``value``, how many rows)."""
    found = con.execute(
        f"""
        select min(_row_number), arg_min({value}, _row_number), count(*)
        from raw.{table.layout.raw_table} where {this} and ({condition})
        """
    ).fetchone()
    if found is None or found[2] == 0:
        return None
    return int(found[0]), found[1], int(found[2])


def _sql_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


MARKERS_SQL = _sql_list(m.lower() for m in SUPPRESSION_MARKERS)
MARKERS_TEXT = ", ".join(SUPPRESSION_MARKERS)


def _is_marker(col: str) -> str:
    return f"lower(trim({col})) in ({MARKERS_SQL})"


def _count_sql(col: str) -> str:
    """SQL turning a count cell into BIGINT (NULL for a marker or an empty cell)."""
    return f"try_cast(replace(trim({col}), ',', '') as bigint)"


def _quote(name: str) -> str:
    return '"' + name + '"'


def _name_key(col: str) -> str:
    return f"lower(regexp_replace(trim({col}), '\\s+', ' ', 'g'))"


#: The check of a "total" column that only the rows in a layout's scope must pass.
_NEGATIVE_TOTAL = "is negative; expected zero or more"


def _checks_for(column: Column, col: str, optional_code: bool = False) -> list[tuple[str, str]]:
    """(condition marking a bad row, what was expected) for one column of the stage table.
    ``optional_code``: the column may be empty (a reporting body without a code,
    checked by name in ``_check_code_or_name``)."""
    kind = column.kind
    checks: list[tuple[str, str]] = []
    if kind not in ("text", "outcome_type") and not optional_code:
        checks.append((f"coalesce(trim({col}), '') = ''", "is empty; expected a value"))
    if kind == "financial_year":
        checks.append(
            (
                f"not regexp_full_match(trim({col}), '\\d{{4}}[/_-]\\d{{2}}') "
                f"or (try_cast(substr(trim({col}), 1, 4) as integer) + 1) % 100 "
                f"!= try_cast(substr(trim({col}), 6, 2) as integer)",
                "is not a financial year; expected two consecutive years such as '2016/17'",
            )
        )
    elif kind == "quarter":
        checks.append(
            (f"trim({col}) not in ('1', '2', '3', '4')", "is not a financial quarter; expected 1-4")
        )
    elif kind == "calendar_year":
        checks.append(
            (
                f"not regexp_full_match(trim({col}), '(19|20)\\d{{2}}')",
                "is not a calendar year; expected a year such as 2016",
            )
        )
    elif kind == "survey_year":
        checks.append(
            (
                f"not (regexp_full_match(trim({col}), '\\d{{4}}[/_-]\\d{{2}}') "
                f"or regexp_full_match(lower(trim({col})), '(year ending )?march \\d{{4}}') "
                f"or regexp_full_match(lower(trim({col})), 'apr(il)? \\d{{4}} to mar(ch)? \\d{{4}}'))",
                "is not a survey year; expected '2015/16', 'year ending March 2016' or 'Apr 2015 to Mar 2016'",
            )
        )
    elif kind in ("count", "total"):
        checks.append(
            (
                f"not regexp_full_match(trim({col}), '{WHOLE_NUMBER.pattern}') and not {_is_marker(col)}",
                "is not a whole number; expected a count such as 42"
                + (" (negative corrections such as -3 are allowed)" if kind == "count" else "")
                + f" or a suppression marker ({MARKERS_TEXT})",
            )
        )
        if kind == "total":
            checks.append(
                (
                    f"{_count_sql(col)} < 0",
                    f"{_NEGATIVE_TOTAL}, as a total for a whole year or 12 months cannot "
                    "be negative (only quarterly cells carry negative corrections)",
                )
            )
    elif kind == "rate":
        checks.append(
            (
                f"not regexp_full_match(trim({col}), '{DECIMAL_NUMBER.pattern}') and not {_is_marker(col)}",
                f"is not a number; expected a rate or percentage such as 72.4 or a suppression marker ({MARKERS_TEXT})",
            )
        )
    elif kind == "quarter_end_date":
        checks.append(
            (
                f"try_strptime(trim({col}), '%d/%m/%Y') is null",
                "is not a date; expected the last day of a quarter written dd/mm/yyyy, such as 31/12/2016",
            )
        )
    elif kind == "force":
        checks.append(
            (
                f"{_name_key(col)} not in (select name_key from force_names)",
                "is not a known police force or reporting body; expected a name listed in "
                "dbt_project/seeds/force_name_variants.csv (add the spelling there if it is a new variant)",
            )
        )
    elif kind == "cps_area":
        checks.append(
            (
                f"{_name_key(col)} not in (select name_key from cps_area_names)",
                "is not a known CPS Area; expected a name listed in dbt_project/seeds/cps_area_name_variants.csv "
                "(add the spelling there if it is a new variant)",
            )
        )
    elif kind == "ons_area_code":
        checks.append(
            (
                f"coalesce(trim({col}), '') <> '' and upper(trim({col})) not in (select code from ons_area_codes)",
                "is not a known ONS area code; expected a police force area code (E23..., W15...) from "
                "forces.csv or an England and Wales, country or region code from other_areas.csv",
            )
        )
    elif kind == "outcome_type":
        checks.append(
            (
                f"coalesce(trim({col}), '') <> '' and lower(trim({col})) not in (select code from outcome_types)",
                "is not a known outcome type; expected a Home Office outcome type listed in "
                "dbt_project/seeds/outcome_types.csv (0-22; the alternate-offence types 1a-3a belong to a "
                "separate file)",
            )
        )
    elif kind == "choice":
        checks.append(
            (
                f"lower(trim({col})) not in ({_sql_list(c.lower() for c in column.choices)})",
                "is not one of the expected values: " + ", ".join(repr(c) for c in column.choices),
            )
        )
    return checks


def _footnote_free(col: str) -> str:
    """SQL: a name or label without ``[note N]`` marks or footnote digits glued to its end."""
    text = f"regexp_replace({col}, '\\s*\\[(notes?|footnotes?)[^\\]]*\\]', '', 'gi')"
    return f"lower(trim(regexp_replace(trim({text}), '([A-Za-z)])\\d{{1,2}}(\\s*,\\s*\\d{{1,2}})*$', '\\1')))"


def _in_scope(layout: Layout) -> str:
    """SQL condition true for the rows in the layout's scope (every row without one)."""
    scope = layout.scope
    if scope is None:
        return "true"
    parts = []
    if scope.offence_codes:
        parts.append(f"upper(trim({_quote(scope.column)})) in (select code from platform_codes)")
    if scope.values:
        parts.append(
            f"{_footnote_free(_quote(scope.column))} in ({_sql_list(v.lower() for v in scope.values)})"
        )
    if scope.name_column and scope.names:
        parts.append(
            f"{_footnote_free(_quote(scope.name_column))} in ({_sql_list(n.lower() for n in scope.names)})"
        )
    return "coalesce(" + " or ".join(parts) + ", false)"


def _scope_words(layout: Layout) -> str:
    scope = layout.scope
    what = []
    if scope.offence_codes:
        what.append("the platform's offence codes")
    what.extend(repr(v) for v in (*scope.values, *scope.names))
    return " or ".join(what)


def _validate(con: duckdb.DuckDBPyConnection, table: Table, this: str) -> None:
    """Refuse the table's rows (``raw.<table> where this``) at their first bad cell.

    Every check looks at one cell at a time, so it is run on the column's distinct
    values first, and the rows are searched only for a value that fails. A negative
    total outside the layout's scope (an offence the platform does not use) is
    counted in the table's notes instead.
    """
    raw = f"raw.{table.layout.raw_table}"
    melt = table.layout.melt
    optional = table.layout.code_or_name[0] if table.layout.code_or_name else None
    for column in table.layout.columns:
        if not table.provides(column.name) or column.name in table.constants:
            continue
        col = _quote(column.name)
        checks = _checks_for(column, col, optional_code=column.name == optional)
        if not checks:
            continue
        con.execute(
            f"create or replace temp table column_values as select distinct {col} from {raw} where {this}"
        )
        for condition, message in checks:
            failing = con.execute(f"select exists (select 1 from column_values where {condition})").fetchone()
            if not failing[0]:
                continue
            scoped = message.startswith(_NEGATIVE_TOTAL) and table.layout.scope is not None
            if scoped:
                outside = con.execute(
                    f"select count(*) from {raw} where {this} and ({condition}) and not {_in_scope(table.layout)}"
                ).fetchone()[0]
                if outside:
                    table.notes.append(
                        f"{outside} negative total{'s' if outside > 1 else ''} in rows outside "
                        f"{_scope_words(table.layout)} kept as published (column {column.name})"
                    )
                condition = f"({condition}) and {_in_scope(table.layout)}"
            bad = _first_bad(con, table, this, col, condition)
            if bad is not None:
                row, value, count = bad
                header = table.header_of(column.name)
                if header is None and melt is not None:  # a wide table's period column
                    header = con.execute(
                        f"select arg_min({_quote(melt.label_column)}, _row_number) from {raw} "
                        f"where {this} and ({condition}) and _row_number = ?",
                        [row],
                    ).fetchone()[0]
                more = f" ({count - 1} more row{'s' if count > 2 else ''} like it)" if count > 1 else ""
                raise InputFileError(
                    table.file, f"{value!r} {message}{more}", row=row, column=header, sheet=table.sheet
                )
    _check_code_or_name(con, table, this)
    _check_duplicates(con, table, this)


def _check_code_or_name(con: duckdb.DuckDBPyConnection, table: Table, this: str) -> None:
    """A row without an area code must name a reporting body that has none (British
    Transport Police), matched through force_name_variants.csv."""
    if table.layout.code_or_name is None:
        return
    code, name = table.layout.code_or_name
    bad = _first_bad(
        con,
        table,
        this,
        _quote(name),
        f"coalesce(trim({_quote(code)}), '') = '' and {_footnote_free(_quote(name))} not in "
        "(select name_key from force_names where not regexp_full_match(body_key, '[EWK]\\d{8}'))",
    )
    if bad is not None:
        row, value, count = bad
        more = f" ({count - 1} more row{'s' if count > 2 else ''} like it)" if count > 1 else ""
        raise InputFileError(
            table.file,
            f"the area code is empty and {value!r} is not a reporting body without one; expected an ONS "
            f"area code, or a name such as 'British Transport Police' listed in force_name_variants.csv{more}",
            row=row,
            column=table.header_of(code),
            sheet=table.sheet,
        )


def _key_part(column: Column, col: str) -> str:
    """SQL normalising one key cell the way the marts will read it."""
    if column.kind == "force":
        return f"coalesce((select body_key from force_names where name_key = {_name_key(col)}), '')"
    if column.kind == "cps_area":
        return f"coalesce((select body_key from cps_area_names where name_key = {_name_key(col)}), '')"
    if column.kind == "financial_year":
        return f"substr(trim({col}), 1, 4)"
    if column.kind == "outcome_type":
        return f"coalesce(nullif(lower(trim({col})), ''), '0')"
    if column.kind == "quarter_end_date":
        return _quarter_end_sql(col)
    return f"coalesce(lower(trim({col})), '')"


def _quarter_end_sql(col: str) -> str:
    """SQL: a dd/mm/yyyy date as the last day of its month, ISO-written ('30/12/2017',
    as one release writes the quarter ending 31 December 2017, gives 2017-12-31)."""
    return f"coalesce(strftime(last_day(try_strptime(trim({col}), '%d/%m/%Y')), '%Y-%m-%d'), '')"


def _key_sql(layout: Layout, column_sql, names: tuple[str, ...] | None = None) -> str:
    """SQL for a layout's key (or for the key columns ``names``). ``column_sql`` maps a
    canonical column name to the SQL naming it (a staged ``cN`` column or a raw table
    column), or None when absent."""
    parts = []
    for name in layout.key if names is None else names:
        col = column_sql(name)
        parts.append("''" if col is None else _key_part(layout.column(name), col))
    return "concat_ws(' | ', " + ", ".join(parts) + ")"


def _stage_column(table: Table):
    """Column SQL for the staged or streamed columns ``c0, c1, ...`` of ``table``."""

    melt = table.layout.melt

    def column_sql(name: str) -> str | None:
        if name in table.positions:
            return f"c{table.positions[name]}"
        if name in table.constants:
            return "'" + table.constants[name].replace("'", "''") + "'"
        if melt is not None and table.melted:
            # one raw row per period column: DuckDB unnests the two lists side by side
            if name == melt.label_column:
                return f"unnest([{_sql_list(table.melted.values())}])"
            if name == melt.value_column:
                return "unnest([" + ", ".join(f"c{i}" for i in table.melted) + "])"
        return None

    return column_sql


def _loaded_column(table: Table):
    """Column SQL for ``table``'s rows in its raw table: the columns it had (from the
    file or its title rows), None for the others."""

    def column_sql(name: str) -> str | None:
        return _quote(name) if table.provides(name) else None

    return column_sql


def _keyed_rows(
    con: duckdb.DuckDBPyConnection,
    layout: Layout,
    names: tuple[str, ...],
    column_sql,
    source: str,
    where: str,
) -> tuple[str, str]:
    """A FROM clause over ``source`` (aliased ``r``) and the SQL of the key made of
    ``names`` (as ``_key_sql`` writes it) for its rows matching ``where``.

    A force or CPS Area name is looked up once per spelling rather than once per
    row: each such column's distinct values are put in a temporary map that the rows
    join.
    """
    joins, parts = [], []
    for i, name in enumerate(names):
        col = column_sql(name)
        column = layout.column(name)
        if col is None:
            parts.append("''")
        elif column.kind in ("force", "cps_area"):
            con.execute(
                f"""
                create or replace temp table key_map_{i} as
                select v, {_key_part(column, "v")} as k
                from (select distinct {col} as v from {source} where {where})
                """
            )
            joins.append(f"left join key_map_{i} on r.{col} = key_map_{i}.v")
            parts.append(f"coalesce(key_map_{i}.k, '')")
        else:
            parts.append(_key_part(column, f"r.{col}"))
    return f"{source} as r " + " ".join(joins), "concat_ws(' | ', " + ", ".join(parts) + ")"


def _check_duplicates(con: duckdb.DuckDBPyConnection, table: Table, this: str) -> None:
    """Refuse a repeated key among the rows in scope; count the others in the notes
    (the real recorded crime table repeats homicide's code four times a quarter)."""
    if not table.layout.key:
        return
    raw = f"raw.{table.layout.raw_table}"
    if table.layout.scope is not None:
        source, key = _keyed_rows(con, table.layout, table.layout.key, _loaded_column(table), raw, this)
        outside = con.execute(
            f"""
            select coalesce(sum(n - 1), 0) from (
                select count(*) as n from {source} where {this} and not {_in_scope(table.layout)}
                group by md5_number({key}) having count(*) > 1
            )
            """
        ).fetchone()[0]
        if outside:
            table.notes.append(
                f"{outside} row{'s' if outside > 1 else ''} repeating the key of an earlier row, outside "
                f"{_scope_words(table.layout)}, kept as published"
            )
        this = f"{this} and {_in_scope(table.layout)}"
    source, key = _keyed_rows(con, table.layout, table.layout.key, _loaded_column(table), raw, this)
    # Equal keys have equal digests: no repeated digest, no repeated key. (An MD5
    # digest rather than DuckDB's hash(), whose values for short keys collide.)
    repeated = con.execute(
        f"""
        select exists (
            select 1 from (select md5_number({key}) as digest from {source} where {this})
            group by digest having count(*) > 1
        )
        """
    ).fetchone()[0]
    if not repeated:
        return
    # Rows are told apart by their place in the raw table as well as their row number:
    # the rows a wide table's row becomes share its row number.
    found = con.execute(
        f"""
        with keyed as (
            select r._row_number as row_number, r.rowid as place, {key} as k from {source} where {this}
        ), ranked as (
            select row_number, min(row_number) over (partition by k) as first_row,
                   row_number() over (partition by k order by row_number, place) as nth
            from keyed
        )
        select row_number, first_row, (select count(*) from ranked where nth > 1)
        from ranked where nth > 1 order by row_number limit 1
        """
    ).fetchone()
    if found:
        row, first, count = found
        names = [table.header_of(n) or n for n in table.layout.key if table.provides(n)]
        more = f" ({count - 1} more duplicate row{'s' if count > 2 else ''})" if count > 1 else ""
        first_key = table.layout.key[0]
        if row == first:
            melt = table.layout.melt
            columns = (
                f" (two of its columns have one {melt.label_column.replace('_', ' ')} as header)"
                if melt is not None and table.melted
                else ""
            )
            reason = (
                f"holds the same {', '.join(repr(n) for n in names)} twice{columns}{more}; "
                "expected one value per key"
            )
        else:
            reason = (
                f"duplicates row {first}: the same {', '.join(repr(n) for n in names)} "
                f"appears twice{more}; expected one row per key"
            )
        raise InputFileError(
            table.file,
            reason,
            row=row,
            column=table.header[table.positions[first_key]] if first_key in table.positions else None,
            sheet=table.sheet,
        )
    raise InputFileError(
        table.file,
        "repeats a key (the same " + ", ".join(table.layout.key) + "); expected one row per key",
        sheet=table.sheet,
    )


def _period_sql(layout: Layout, col: str) -> str:
    """SQL giving the release period a row belongs to, canonically written."""
    column = layout.column(layout.period)
    if column.kind == "financial_year":
        start = f"try_cast(substr(trim({col}), 1, 4) as integer)"
        return f"{start}::varchar || '/' || lpad((({start} + 1) % 100)::varchar, 2, '0')"
    if column.kind == "quarter_end_date":
        return _quarter_end_sql(col)
    return f"lower(regexp_replace(trim({col}), '\\s+', ' ', 'g'))"


def _check_rolling_totals(con: duckdb.DuckDBPyConnection, layout: Layout, loaded_at: datetime) -> list[str]:
    """No 12-month total (four consecutive quarters of one key) may be negative.

    Checked on the raw table after loading, so windows spanning two files (a
    financial year per file, or an earlier run's file) are covered. Only windows
    ending in a row this run loaded are checked. The error names the row that ends
    the negative window, in the file it came from.

    Four quarters can only add up to less than zero if one of them is negative, so
    the windows are summed only for the keys that have a negative quarter (found
    first by the parts of the key that need no name lookup).

    Only the rows in the layout's scope are held to this; negative 12-month totals
    among the others are counted and returned as notes for the ingest log.
    """
    notes: list[str] = []
    if not layout.rolling_total_columns:
        return notes
    raw = f"raw.{layout.raw_table}"
    group_cols = tuple(n for n in layout.key if n not in ("financial_year", "financial_quarter"))
    exclude = (
        " and ".join(
            f"coalesce(lower(trim(\"{name}\")), '') not in ({_sql_list(v.lower() for v in values)})"
            for name, values in layout.rolling_total_exclude
        )
        or "true"
    )
    index = "try_cast(substr(trim(financial_year), 1, 4) as integer) * 4 + try_cast(trim(financial_quarter) as integer)"
    in_scope = _in_scope(layout)
    for column in layout.rolling_total_columns:
        value = _count_sql(_quote(column))
        negative = f"{exclude} and {value} < 0"
        if not con.execute(f"select exists (select 1 from {raw} where {negative})").fetchone()[0]:
            continue
        if layout.scope is not None:
            windows = _negative_windows_sql(con, layout, raw, f"{exclude} and not {in_scope}", value, index)
            outside = con.execute(f"select count(*) from ({windows})", [loaded_at]).fetchone()[0]
            if outside:
                notes.append(
                    f"{outside} negative 12-month total{'s' if outside > 1 else ''} (column {column}) in rows "
                    f"outside {_scope_words(layout)}, kept as published"
                )
            exclude = f"{exclude} and {in_scope}"
            negative = f"{exclude} and {value} < 0"
            if not con.execute(f"select exists (select 1 from {raw} where {negative})").fetchone()[0]:
                continue
        parts = [
            _key_part(layout.column(name), _quote(name))
            for name in group_cols
            if layout.column(name).kind not in ("force", "cps_area")
        ]
        candidates = " and ".join(
            [exclude, *(f"{part} in (select distinct {part} from {raw} where {negative})" for part in parts)]
        )
        windows = _negative_windows_sql(con, layout, raw, candidates, value, index)
        found = con.execute(
            f"{windows} order by _file_name, _sheet, _row_number limit 1", [loaded_at]
        ).fetchone()
        if found:
            file_name, sheet, row, total, group_key, q = found
            header = layout.column(column).headers[0]
            year, quarter = divmod(q - 1, 4)
            raise InputFileError(
                file_name,
                f"the 12 months to the end of {year}/{(year + 1) % 100:02d} Q{quarter + 1} total {total} for "
                f"{group_key!r}: a 12-month total cannot be negative; expected four consecutive quarters to add up to "
                "zero or more (a negative quarterly cell is a published correction and is kept)",
                row=row,
                column=header,
                sheet=sheet,
            )
    return notes


def _negative_windows_sql(con, layout: Layout, raw: str, where: str, value: str, index: str) -> str:
    """SQL (one ``?``: this run's load time) listing the 12-month windows among the rows
    ``where`` that end in a row this run loaded and add up below zero: the ending row's
    file, sheet and row number, the total, the key and the quarter index. Windows are
    summed only for the keys with a negative quarter."""
    group_cols = tuple(n for n in layout.key if n not in ("financial_year", "financial_quarter"))
    source, group = _keyed_rows(con, layout, group_cols, _quote, raw, where)
    return f"""
        with rows as (
            select {group} as g, {index} as q, {value} as v,
                   _loaded_at, _file_name, _sheet, _row_number
            from {source}
            where {where}
        ), negative_keys as (
            select distinct g from rows where v < 0
        ), windows as (
            select *, sum(v) over w as total, count(*) over w as quarters
            from rows
            where g in (select g from negative_keys)
            window w as (partition by g order by q range between 3 preceding and current row)
        )
        select _file_name, _sheet, _row_number, total, g, q
        from windows
        where quarters = 4 and total < 0 and _loaded_at = ?
        """


# ------------------------------------------------------------------------ loading


@dataclass
class FileResult:
    """What ingest did with one file (or one table of it)."""

    file: str
    sheet: str | None
    source: str
    layout: str
    rows: int
    synthetic: bool
    action: str  # "loaded" or "unchanged"
    periods: list[str] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _replace_release(
    con, table: Table, sha256: str, loaded_at: datetime, this: str
) -> tuple[list[str], list[dict]]:
    """Let the table's rows (``raw.<table> where this``) replace the rows of earlier
    releases for the periods they cover; record what changed."""
    layout = table.layout
    raw = f"raw.{layout.raw_table}"
    period = _period_sql(layout, f'"{layout.period}"')
    period_of_value = _period_sql(layout, "v")
    con.execute(
        f"""
        create or replace temp table incoming_periods as
        select distinct {period_of_value} as p
        from (select distinct "{layout.period}" as v from {raw} where {this})
        """
    )
    periods = [r[0] for r in con.execute("select p from incoming_periods order by 1").fetchall()]
    covered = f"{period} in (select p from incoming_periods)"
    key = _key_sql(layout, lambda name: f'"{name}"')
    counts = [c.name for c in layout.columns if c.kind in ("count", "total", "rate")]
    changes: list[dict] = []
    previous = con.execute(
        f"""
        select {period} as period, _file_name, any_value(_sha256), count(*)
        from {raw}
        where {covered} and _loaded_at <> ?
        group by all order by 1, 2
        """,
        [loaded_at],
    ).fetchall()
    if previous:
        diff_columns = " or ".join(f'o."{c}" is distinct from n."{c}"' for c in counts) or "false"
        count_change = " + ".join(
            f"coalesce({_count_sql(f'n.{_quote(c)}')}, 0) - coalesce({_count_sql(f'o.{_quote(c)}')}, 0)"
            for c in counts
            if layout.column(c).kind != "rate"
        )
        # a key repeated within a release (rows outside the layout's scope may) is
        # told apart by its place among the rows sharing it
        unique_key = (
            f"{key} || case when count(*) over (partition by {key}, {period}) > 1 then ' #' || "
            f"row_number() over (partition by {key}, {period} order by _row_number) else '' end"
        )
        con.execute(
            f"""
            create or replace temp table old_rows as
            select *, {unique_key} as k, {period} as p from {raw}
            where {covered} and _loaded_at <> ?
            """,
            [loaded_at],
        )
        con.execute(
            f"create or replace temp table new_rows as select *, {unique_key} as k, {period} as p from {raw} where {this}"
        )
        summary = con.execute(
            f"""
            select coalesce(n.p, o.p) as p,
                   count(*) filter (where o.k is null) as added,
                   count(*) filter (where n.k is null) as removed,
                   count(*) filter (where o.k is not null and n.k is not null and ({diff_columns})) as revised,
                   coalesce(sum({count_change or "0"}), 0) as change
            from old_rows o full join new_rows n on o.k = n.k and o.p = n.p
            group by 1 order by 1
            """
        ).fetchall()
        old_files = {}
        for p, file_name, old_sha, _ in previous:
            old_files.setdefault(p, []).append((file_name, old_sha))
        for p, added, removed, revised, change in summary:
            if p not in old_files:
                continue
            names = ", ".join(sorted({f for f, _ in old_files[p]}))
            shas = ", ".join(sorted({s for _, s in old_files[p]}))
            con.execute(
                f"insert into raw.{RELEASE_CHANGES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    layout.source,
                    p,
                    names,
                    shas,
                    table.file.name,
                    sha256,
                    added,
                    removed,
                    revised,
                    change,
                    loaded_at,
                ],
            )
            changes.append(
                {"period": p, "previous_file": names, "rows_added": added, "rows_removed": removed,
                 "rows_revised": revised, "count_change": change}
            )  # fmt: skip
        for c in counts:
            con.execute(
                f"""
                insert into raw.{REVISED_CELLS_TABLE}
                select ?, n.p, ?, n.k, ?, o."{c}", n."{c}", ?
                from old_rows o join new_rows n on o.k = n.k and o.p = n.p
                where o."{c}" is distinct from n."{c}"
                """,
                [layout.source, table.file.name, (layout.column(c).headers or (c,))[0], loaded_at],
            )
        con.execute(
            f"delete from {raw} where {covered} and _loaded_at <> ?",
            [loaded_at],
        )
    return periods, changes


def _check_same_run(con, table: Table, loaded_at: datetime, this: str) -> None:
    """Two files of one run may share a period (one release split across files) but
    never a row: the same key in both is refused, naming both places."""
    layout = table.layout
    if not layout.key:
        return
    raw = f"raw.{layout.raw_table}"
    earlier_rows = f"_loaded_at = ? and not ({this})"
    earlier = con.execute(f"select exists (select 1 from {raw} where {earlier_rows})", [loaded_at]).fetchone()
    if not earlier[0]:
        return  # the first table of this layout in the run
    key = _key_sql(layout, lambda name: f'"{name}"')
    found = con.execute(
        f"""
        with earlier as (
            select {key} as k, _file_name, _sheet, _row_number
            from {raw} where {earlier_rows}
        ), incoming_keys as (
            select {key} as k, _row_number from {raw} where {this}
        )
        select e._file_name, e._sheet, e._row_number, i._row_number
        from incoming_keys i join earlier e on i.k = e.k
        order by i._row_number limit 1
        """,
        [loaded_at],
    ).fetchone()
    if found:
        first_file, first_sheet, first_row, row = found
        where = f"{first_file}" + (f" sheet {first_sheet!r}" if first_sheet else "")
        raise InputFileError(
            table.file,
            f"repeats a row already loaded in this run from {where} row {first_row} (same "
            + ", ".join(layout.key)
            + "); expected each row once: ingest one release at a time (a later release replaces an "
            "earlier one)",
            row=row,
            sheet=table.sheet,
        )


#: The bookkeeping tables of the raw layer; each row names its source.
BOOKKEEPING_TABLES = (MANIFEST_TABLE, INGEST_LOG_TABLE, RELEASE_CHANGES_TABLE, REVISED_CELLS_TABLE)


def _raw_tables_of(sources: Collection[str] | None) -> set[str] | None:
    """The raw tables holding the rows of ``sources`` (None: every table)."""
    if sources is None:
        return None
    return {layout.raw_table for layout in LAYOUTS if layout.source in sources}


def copy_raw_layer(
    con: duckdb.DuckDBPyConnection, previous: Path, sources: Collection[str] | None = None
) -> None:
    """Add the raw layer of the DuckDB file ``previous`` to the open database's.

    With ``sources``, only those sources' rows are copied: their raw tables, and the
    bookkeeping rows whose ``source`` is one of them.
    """
    con.execute(f"attach '{str(previous).replace(chr(39), chr(39) * 2)}' as previous_build (read_only)")
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'previous_build' and table_schema = 'raw' and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        current = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' "
                "and table_catalog = current_database()"
            ).fetchall()
        }
        wanted = _raw_tables_of(sources)
        for name in tables:
            if name not in current:
                continue
            if wanted is None:
                con.execute(f"insert into raw.{name} by name select * from previous_build.raw.{name}")
            elif name in BOOKKEEPING_TABLES:
                con.execute(
                    f"insert into raw.{name} by name select * from previous_build.raw.{name} "
                    "where source in (select unnest(?::varchar[]))",
                    [sorted(sources)],
                )
            elif name in wanted:
                con.execute(f"insert into raw.{name} by name select * from previous_build.raw.{name}")
    finally:
        con.execute("detach previous_build")


def quarantine(
    path: Path, reason: str, quarantine_dir: Path, *, keep: int | None = None, days: float | None = None
) -> Path:
    """Keep a copy of a refused file in the quarantine folder, with its refusals beside it.

    One copy per content: the copy is ``<first 16 hex digits of its SHA-256>-<name>``
    and ``<copy>.reason.txt`` lists every refusal of that content (when, the original
    path, why), the latest last; the same file refused again adds a refusal, not a
    copy. Retention: the copies whose last refusal is more than ``days`` days old,
    and all but the ``keep`` most recently refused, are removed (by default the
    settings' ``quarantine_days`` and ``quarantine_keep``). Each file is written under
    a temporary name, flushed and renamed into place, under a lock of the folder.

    The user's own file is never moved, changed or deleted. Returns the copy's path.
    """
    import fcntl
    import uuid

    from hsinsight import publish as publishing

    if keep is None or days is None:
        defaults = Settings.from_env()
        keep = defaults.quarantine_keep if keep is None else keep
        days = defaults.quarantine_days if days is None else days
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    with open(quarantine_dir / QUARANTINE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = sha256_of(path)[:16] if path.is_file() else None
        if digest is not None:
            same = sorted(
                p
                for p in quarantine_dir.glob(f"{digest}-*")
                if not p.name.endswith(QUARANTINE_REASON_SUFFIX) and p.is_file()
            )
            target = same[0] if same else quarantine_dir / f"{digest}-{path.name}"
            if not same:
                work = quarantine_dir / f".{digest}.{uuid.uuid4().hex[:8]}.copy"
                try:
                    shutil.copy2(path, work)
                    publishing.durable_replace(work, target)
                finally:
                    work.unlink(missing_ok=True)
        else:  # nothing to copy (a file named by an error): the refusal alone
            target = quarantine_dir / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{path.name}"
        note = target.with_name(target.name + QUARANTINE_REASON_SUFFIX)
        earlier = note.read_text(encoding="utf-8") if note.is_file() else ""
        entry = (
            f"refused: {now.isoformat(timespec='seconds')}\noriginal: {path.resolve()}\nreason: {reason}\n"
        )
        work = quarantine_dir / f".{digest or 'note'}.{uuid.uuid4().hex[:8]}.reason"
        try:
            work.write_text(earlier + ("\n" if earlier else "") + entry, encoding="utf-8")
            publishing.durable_replace(work, note)
        finally:
            work.unlink(missing_ok=True)
        _prune_quarantine(quarantine_dir, int(keep), float(days), target)
    return target


QUARANTINE_REASON_SUFFIX = ".reason.txt"
QUARANTINE_LOCK = ".quarantine.lock"


def _prune_quarantine(folder: Path, keep: int, days: float, current: Path) -> list[Path]:
    """Remove the quarantined copies (and their refusals) past the retention limits,
    never ``current``; the time of a copy is its last refusal. Returns what was removed."""
    import time

    from hsinsight import publish as publishing

    refused: dict[Path, float] = {}
    for note in folder.glob(f"*{QUARANTINE_REASON_SUFFIX}"):
        if note.name.startswith("."):
            continue
        try:
            refused[note.with_name(note.name[: -len(QUARANTINE_REASON_SUFFIX)])] = note.stat().st_mtime
        except OSError:
            continue
    cutoff = time.time() - days * 86400
    newest_first = sorted(refused, key=lambda copy: refused[copy], reverse=True)
    removed = [
        copy
        for position, copy in enumerate(newest_first)
        if copy != current and (position >= keep or refused[copy] < cutoff)
    ]
    for copy in removed:
        copy.unlink(missing_ok=True)
        copy.with_name(copy.name + QUARANTINE_REASON_SUFFIX).unlink(missing_ok=True)
    if removed:
        publishing.fsync_dir(folder)
    return removed


def ingest_directory(
    raw_dir: Path,
    build_db: Path,
    cfg: Settings,
    previous: Path | None = None,
    sources: Collection[str] | None = None,
    recognised: MutableMapping[str, list[str]] | None = None,
) -> dict:
    """Ingest every data file in ``raw_dir`` (a folder or one file) into ``build_db``.

    ``previous`` is the published warehouse whose raw layer the build starts from
    (None for a fresh start). With ``sources`` (source ids), only the tables of those
    sources are loaded and only their rows are taken from ``previous``: files of other
    sources are recognised by their header and left alone. ``recognised`` (see
    :func:`recognition_key`) remembers, per file content, the sources whose tables the
    file holds: a file it names as holding none of ``sources`` is not read again, and
    every file read is added to it. Returns a report: the files loaded or found unchanged,
    the files skipped, whether any data is synthetic and what each release revised.
    A refused file is copied to ``cfg.quarantine_dir`` and the error re-raised.
    """
    from hsinsight.publish import pause_point

    files, skipped = discover(Path(raw_dir))
    workdir = build_db.parent / "ingest-work"
    workdir.mkdir(parents=True, exist_ok=True)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    report: dict = {
        "files": [],
        "skipped": [p.name for p in skipped],
        "synthetic": False,
        "changes": [],
        "notes": [],
    }
    con = duckdb.connect(str(build_db))
    try:
        con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
        con.execute("set enable_progress_bar = false")  # ingest reports through its log
        prepare_raw(con, cfg)
        if previous is not None and Path(previous).is_file():
            copy_raw_layer(con, Path(previous), sources)
        known = {r[0] for r in con.execute(f"select sha256 from raw.{MANIFEST_TABLE}").fetchall()}
        touched: set[Layout] = set()
        for path in files:
            try:
                results = _ingest_file(con, path, workdir, loaded_at, known, touched, sources, recognised)
            except InputFileError as exc:
                _refuse(path, exc, cfg)
                raise
            pause_point("ingest")  # a test hook, inert unless asked for
            for result in results:
                report["files"].append(result.as_dict())
                report["synthetic"] = report["synthetic"] or result.synthetic
                report["changes"].extend({"file": result.file, **c} for c in result.changes)
        for layout in sorted(touched, key=lambda t: t.layout):
            try:
                notes = _check_rolling_totals(con, layout, loaded_at)
            except InputFileError as exc:
                _refuse(next((p for p in files if p.name == exc.file), Path(exc.file)), exc, cfg)
                raise
            for note in notes:
                _log(con, None, None, layout.source, "noted", 0, note, loaded_at)
        # Sheets and members not loaded, and what ingest kept but noticed, this run.
        report["notes"] = [
            {"file": f, "source": src, "action": a, "detail": d}
            for f, src, a, d in con.execute(
                f"select file_name, string_agg(distinct source, ', ' order by source), action, detail "
                f"from raw.{INGEST_LOG_TABLE} where logged_at = ? and action in ('not_used', 'noted') "
                "group by file_name, action, detail order by min(rowid)",
                [loaded_at],
            ).fetchall()
        ]
        # The synthetic flag covers every row the warehouse holds, not only this run's.
        report["synthetic"] = holds_synthetic_rows(con)
        for (name,) in con.execute("select table_name from duckdb_tables() where temporary").fetchall():
            con.execute(f"drop table if exists temp.{_quote(name)}")
        con.execute("checkpoint")
    finally:
        con.close()
    return report


def _log(con, file_name, sha256, source, action: str, rows: int, detail: str | None, loaded_at) -> None:
    con.execute(
        f"insert into raw.{INGEST_LOG_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
        [file_name, sha256, source, action, rows, detail, loaded_at],
    )


def holds_synthetic_rows(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any row in the raw layer (this run's or an earlier one's) came from a synthetic file."""
    in_use = " union ".join(
        f"select distinct _sha256 from raw.{table}"
        for table in sorted({layout.raw_table for layout in LAYOUTS})
    )
    found = con.execute(
        f"select count(*) from raw.{MANIFEST_TABLE} where is_synthetic and sha256 in ({in_use})"
    ).fetchone()[0]
    return found > 0


def _refuse(path: Path, exc: InputFileError, cfg: Settings) -> None:
    copy = quarantine(path, str(exc), cfg.quarantine_dir)
    exc.quarantined = copy
    exc.args = (f"{exc}; the file was copied to {copy} with the reason beside it",)


def recognition_key(sha256: str) -> str:
    """The key of a file's entry in a recognition record: its SHA-256 and the digest of
    the code that recognised it."""
    return f"{sha256}:{LAYOUTS_FINGERPRINT}"


def _recognition_code() -> str:
    """A digest of the code that recognises files (the layouts and this module): a
    record made by other code is not trusted."""
    from hsinsight import sources as sources_package

    digest = hashlib.sha256()
    for code in sorted(Path(sources_package.__file__).parent.glob("*.*")) + [Path(__file__)]:
        if code.suffix in (".py", ".yml"):
            digest.update(code.name.encode() + b"\0" + code.read_bytes())
    return digest.hexdigest()[:16]


LAYOUTS_FINGERPRINT = _recognition_code()


def _ingest_file(
    con, path, workdir, loaded_at, known, touched, sources=None, recognised=None
) -> list[FileResult]:
    sha256 = sha256_of(path)
    if sources is not None and recognised is not None and sha256 not in known:
        holds = recognised.get(recognition_key(sha256))
        if holds is not None and not set(holds) & set(sources):
            # read before (by another source's ingest): it holds none of these sources' tables
            log.info("skipped %s: its tables belong to %s", path.name, ", ".join(holds) or "no source")
            return []
    if sha256 in known:
        row = con.execute(
            f"select source, layout, bool_or(is_synthetic) from raw.{MANIFEST_TABLE} where sha256 = ? "
            "group by all limit 1",
            [sha256],
        ).fetchone()
        con.execute(
            f"insert into raw.{INGEST_LOG_TABLE} values (?, ?, ?, 'unchanged', 0, ?, ?)",
            [path.name, sha256, row[0], "already loaded: same SHA-256", loaded_at],
        )
        log.info("unchanged %s: already loaded", path.name)
        return [FileResult(path.name, None, row[0], row[1], 0, bool(row[2]), "unchanged")]
    results = []
    not_used: list[tuple[str, str]] = []
    tables = tables_in(path, workdir, not_used)
    if recognised is not None:
        recognised[recognition_key(sha256)] = sorted({t.layout.source for t in tables})
    # a sheet that is not used is logged against the sources of the file's tables
    # (every source's store keeps the whole story of the files it read)
    file_sources = sorted({t.layout.source for t in tables if sources is None or t.layout.source in sources})
    for sheet, why in not_used:
        for source in file_sources:
            _log(con, path.name, sha256, source, "not_used", 0, f"{sheet}: {why}", loaded_at)
    for table in tables:
        if sources is not None and table.layout.source not in sources:
            continue  # another source's table: its own ingest loads it
        # One transaction per table: a table refused half way leaves nothing behind.
        con.execute("begin transaction")
        try:
            result = _ingest_table(con, path, table, sha256, loaded_at, workdir)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        touched.add(table.layout)
        results.append(result)
        log.info("loaded %s (%s): %d rows", path.name, table.layout.layout, result.rows)
    known.add(sha256)
    return results


def _drop_footnotes(con, table: Table, this: str) -> int:
    """Delete the rows under the table that are footnotes ("Source: ...", "1. ...": the
    layout's ``footer_after`` column is empty from there to the end); note how many."""
    column = table.layout.footer_after
    if column is None or column not in table.positions:
        return 0
    raw = f"raw.{table.layout.raw_table}"
    filled = f"coalesce(trim({_quote(column)}), '') <> ''"
    last = con.execute(f"select max(_row_number) from {raw} where {this} and {filled}").fetchone()[0]
    if last is None:
        return 0
    footer = f"{this} and _row_number > {int(last)}"
    lines = con.execute(f"select count(distinct _row_number), count(*) from {raw} where {footer}").fetchone()
    if lines[1]:
        con.execute(f"delete from {raw} where {footer}")
        table.notes.append(
            f"{lines[0]} footnote row{'s' if lines[0] > 1 else ''} under the table not loaded as data"
        )
    return int(lines[1])


def _ingest_table(
    con, path: Path, table: Table, sha256: str, loaded_at: datetime, workdir: Path
) -> FileResult:
    """Load, check and record one table of ``path`` (in the open transaction)."""
    layout = table.layout
    rows = _load_rows(con, table, sha256, loaded_at, workdir)
    if rows == 0:
        raise InputFileError(
            table.file,
            "has a header row but no data rows below it; expected at least one data row",
            row=table.header_row + 1,
            sheet=table.sheet,
        )
    this = _this_table(table, sha256, loaded_at)
    rows -= _drop_footnotes(con, table, this)
    _validate(con, table, this)
    _check_same_run(con, table, loaded_at, this)
    periods, changes = _replace_release(con, table, sha256, loaded_at, this)
    con.execute(
        f"insert into raw.{MANIFEST_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            path.name,
            str(path.resolve()),
            table.sheet,
            layout.source,
            layout.layout,
            sha256,
            path.stat().st_size,
            rows,
            table.header_row,
            table.is_synthetic,
            "\n".join(table.preamble) or None,
            loaded_at,
            ", ".join(periods),
        ],
    )
    detail = "; ".join(
        f"{c['period']}: replaced {c['previous_file']} (+{c['rows_added']} -{c['rows_removed']} "
        f"~{c['rows_revised']} rows)"
        for c in changes
    )
    where = f"sheet {table.sheet!r}: " if table.sheet else ""
    _log(
        con, path.name, sha256, layout.source, "loaded", rows, (where + detail) if detail else None, loaded_at
    )
    for note in table.notes:
        _log(con, path.name, sha256, layout.source, "noted", 0, where + note, loaded_at)
    return FileResult(
        path.name,
        table.sheet,
        layout.source,
        layout.layout,
        rows,
        table.is_synthetic,
        "loaded",
        periods,
        changes,
    )
