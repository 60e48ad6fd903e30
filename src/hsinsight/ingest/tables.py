"""The tables in a raw file: which files a raw folder holds and the tables each contains.

A CSV file, each workbook sheet and each member of a zip archive is searched for a
header row; what is found is a :class:`Table` saying where the header is and how the
columns map. A file is refused, naming the file, row and column, when it cannot be read.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hsinsight.errors import HsinsightError, InputFileError, UnrecognisedFileError
from hsinsight.ingest.recognition import HEADER_SEARCH_ROWS, _header_constants, _preamble_constants, recognise
from hsinsight.ingest.text import UTF8_HEAD_BYTES, _cell_text, _head_rows, _utf8_copy
from hsinsight.limits import Limits, SheetShape, check_file_size, inspect_ods, inspect_xlsx, open_archive
from hsinsight.sources.base import SYNTHETIC_MARKER, Layout, strip_footnotes

log = logging.getLogger(__name__)


#: File types the ingest reads; anything else in a raw folder (a README, notes) is
#: listed as skipped and left alone. A zip archive is read member by member.
TABLE_SUFFIXES = (".csv", ".ods", ".xlsx")


DATA_SUFFIXES = (*TABLE_SUFFIXES, ".zip")


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
