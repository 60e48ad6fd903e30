"""How much of a raw file ingest will read: every limit in one place, checked before reading.

A raw file is opened by a reader only after a cheap look at what it declares:

* every file: its size on disk;
* a zip archive, and an XLSX or ODS workbook (a zip container too): the number of
  members, each member's size once decompressed and the total, the compression ratio,
  encryption, the compression method (stored and Deflate only) and archives inside
  archives;
* an XLSX workbook: its sheets and their names, each sheet's declared dimension
  (``<dimension ref="A1:XFD1048576"/>``) and the extent of the cells it really holds,
  scanned from the sheet's XML as it is decompressed, without loading the workbook;
* an ODS workbook: the same from ``content.xml``, with repeated rows and columns
  (``table:number-rows-repeated``, ``table:number-columns-repeated``) counted as the
  cells they stand for;
* a CSV file: the width and line length of the rows searched for the header (the
  loaders refuse a wider row, or a longer line, further down).

A file past a limit is refused with an :class:`~hsinsight.errors.InputFileError` naming
the file, the sheet or member, the limit and its value, before any reader allocates for
it. The defaults are far above the largest official release and far below what would
exhaust the machine; each can be changed in the environment as
``HSINSIGHT_LIMIT_<NAME>`` (``HSINSIGHT_LIMIT_SHEET_CELLS=20000000``).
"""

from __future__ import annotations

import html
import itertools
import os
import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from hsinsight.errors import HsinsightError, InputFileError

ENV_PREFIX = "HSINSIGHT_LIMIT_"


@dataclass(frozen=True)
class Limits:
    """The most ingest reads of one raw file (see the module's description)."""

    #: size of a raw file on disk, in bytes
    file_bytes: int = 4 << 30
    #: members of a zip archive or workbook container (folders included)
    zip_members: int = 10_000
    #: one member's size once decompressed, in bytes
    zip_member_bytes: int = 2 << 30
    #: the members' sizes once decompressed, added up, in bytes
    zip_total_bytes: int = 4 << 30
    #: decompressed size over compressed size, for a member of ``zip_ratio_min_bytes``
    #: or more once decompressed (a zip bomb inflates a thousand-fold)
    zip_ratio: int = 200
    zip_ratio_min_bytes: int = 1 << 20
    #: archives inside archives: 1 reads the members of a zip archive, but not those of
    #: a zip archive inside it (a workbook inside a zip archive is read: it is a table)
    zip_depth: int = 1
    #: sheets of a workbook
    workbook_sheets: int = 1_000
    #: an XLSX workbook's shared strings part decompressed, in bytes (read whole)
    workbook_strings_bytes: int = 256 << 20
    #: rows of a sheet, counted from row 1 to its last row holding a value
    sheet_rows: int = 1_048_576
    #: columns of a sheet, counted from column A to its last column holding a value
    sheet_columns: int = 1_024
    #: cells of a sheet as read: its rows times its columns (empty ones too)
    sheet_cells: int = 20_000_000
    #: cells of all of a workbook's sheets as read, added up
    workbook_cells: int = 60_000_000
    #: columns of a CSV row
    csv_columns: int = 1_000
    #: characters of a CSV line
    csv_line_length: int = 1 << 20

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, each replaced by ``HSINSIGHT_LIMIT_<NAME>`` when that is set
        (a whole number, ``_`` allowed between digits)."""
        environ = os.environ if environ is None else environ
        values = {}
        for spec in fields(cls):
            var = ENV_PREFIX + spec.name.upper()
            text = environ.get(var, "").strip()
            if not text:
                continue
            try:
                value = int(text)
            except ValueError:
                value = -1
            if value < 0:
                raise HsinsightError(f"{var} must be a whole number of 0 or more, got {text!r}")
            values[spec.name] = value
        return cls(**values)

    def breach(self, name: str, found: int | float, what: str) -> str:
        """The words of a refusal: what was found, the limit's name, value and variable."""
        limit = getattr(self, name)
        return (
            f"{what} ({found:,}) is over the limit {name} = {limit:,} "
            f"(set {ENV_PREFIX}{name.upper()} to read a larger file)"
        )


def limits() -> Limits:
    """The limits in force: the defaults and the environment's overrides."""
    return Limits.from_env()


# --------------------------------------------------------------------------- files


def check_file_size(path: Path, shown: Path, lim: Limits, member: str | None = None) -> None:
    size = path.stat().st_size
    if size > lim.file_bytes:
        raise InputFileError(shown, lim.breach("file_bytes", size, "the file's size in bytes"), sheet=member)


#: What a file that is not the zip container it is named as starts with, and what it is.
_NOT_A_ZIP = (
    (re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<\?xml[^>]*>\s*<html)", re.I), "a web page (HTML)"),
    (re.compile(rb"^\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "an OLE2 file (an Excel 97-2003 .xls workbook, or an "
     "XLSX workbook encrypted with a password)"),
    (re.compile(rb"^%PDF"), "a PDF document"),
    (re.compile(rb"^\x1f\x8b"), "a gzip file"),
)  # fmt: skip


def _what_it_is(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(512)
    for pattern, what in _NOT_A_ZIP:
        if pattern.search(head):
            return f": it is {what}"
    return ""


#: Compression methods read: every zip tool writes these; Deflate64, bzip2, LZMA or
#: Zstandard members are refused (Python's reader lacks some, and none is needed).
READABLE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "Deflate"}
_METHOD_NAMES = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "xz", 99: "AES encryption"}


def open_archive(
    path: Path, shown: Path, lim: Limits, kind: str, member: str | None = None
) -> zipfile.ZipFile:
    """``path`` opened as a zip container, once its central directory has been checked
    against the limits (the members' count, sizes and ratios, encryption and method).

    ``kind`` says what the file should be ("zip archive", "XLSX workbook" ...) and
    ``member`` where it sits when it is itself a member of an archive; errors name
    ``shown``.
    """
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise InputFileError(
            shown,
            f"cannot be opened as {_article(kind)} {kind} (truncated, damaged or not {_article(kind)} {kind}"
            f"{_what_it_is(path)}); expected a complete {kind}: {exc}",
            sheet=member,
        ) from exc
    try:
        check_members(infos, shown, lim, kind, member)
    except BaseException:
        archive.close()
        raise
    return archive


def check_members(
    infos: list[zipfile.ZipInfo], shown: Path, lim: Limits, kind: str, member: str | None = None
) -> None:
    def refuse(message: str) -> InputFileError:
        return InputFileError(shown, message, sheet=member)

    if len(infos) > lim.zip_members:
        raise refuse(lim.breach("zip_members", len(infos), f"the number of members of the {kind}"))
    total = 0
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:
            raise refuse(
                f"{kind} member {name!r} is encrypted; expected members that can be read without a password"
            )
        if info.compress_type not in READABLE_METHODS:
            method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
            raise refuse(
                f"{kind} member {name!r} is compressed with {method}; expected members stored or "
                "compressed with Deflate, as every zip tool writes them by default"
            )
        if info.file_size > lim.zip_member_bytes:
            raise refuse(
                lim.breach("zip_member_bytes", info.file_size, f"{kind} member {name!r}'s size decompressed")
            )
        total += info.file_size
        if total > lim.zip_total_bytes:
            raise refuse(
                lim.breach("zip_total_bytes", total, f"the {kind}'s members' sizes decompressed, added up")
            )
        if info.file_size >= lim.zip_ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > lim.zip_ratio:
                raise refuse(
                    lim.breach(
                        "zip_ratio",
                        round(ratio),
                        f"{kind} member {name!r} decompresses to {info.file_size:,} bytes from "
                        f"{info.compress_size:,}: its compression ratio",
                    )
                )


def _article(kind: str) -> str:
    return "an" if kind[:1].lower() in "aeiou" or kind.startswith(("XLSX", "ODS")) else "a"


# ---------------------------------------------------------------------- workbooks


@dataclass
class SheetShape:
    """What a sheet holds, as scanned from its XML."""

    name: str
    rows: int = 0  # row 1 to the last row holding a value
    columns: int = 0  # column A to the last column holding a value
    values: int = 0  # cells holding a value (repeated cells counted each)
    #: the first cell holding a formula without a saved value ("B7"), if any
    uncached_formula: str | None = None
    uncached_count: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.columns


@dataclass
class WorkbookShape:
    sheets: list[SheetShape] = field(default_factory=list)

    def sheet(self, name: str) -> SheetShape | None:
        return next((s for s in self.sheets if s.name == name), None)


def column_letters(number: int) -> str:
    """1 -> 'A', 27 -> 'AA', 16384 -> 'XFD'."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters or "A"


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters.upper():
        number = number * 26 + (byte - 64)
    return number


def _tag_pattern(names: str) -> tuple[re.Pattern[bytes], frozenset[bytes]]:
    """A start or end tag named one of ``names`` ("c|row"), with any namespace prefix
    (attribute values may hold '>' when quoted), and the names."""
    pattern = re.compile(
        rb"<(/?)(?:[A-Za-z_][\w.\-]*:)?(" + names.encode() + rb")(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
    )
    return pattern, frozenset(names.encode().split(b"|"))


_ATTRIBUTE = re.compile(
    rb"(?:^|\s)(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')"
)
#: the longest tag the scans accept (a sheet's tags are a few dozen bytes)
MAX_TAG_BYTES = 1 << 16
_CHUNK = 1 << 20


def _attributes(text: bytes) -> dict[bytes, bytes]:
    found = {}
    for match in _ATTRIBUTE.finditer(text):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        if b"&" in value:
            value = html.unescape(value.decode("utf-8", "replace")).encode()
        found[match.group(1)] = value
    return found


def _tags(stream, scan: tuple[re.Pattern[bytes], frozenset[bytes]], refuse) -> Iterator[re.Match[bytes]]:
    """Every tag ``pattern`` matches in the XML read from ``stream``, a chunk at a time
    (never more than a chunk and one tag in memory). ``scan`` is the pattern and the
    tag names it looks at."""
    pattern, names = scan
    tail = b""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        buffer = tail + chunk
        cut = buffer.rfind(b"<")
        if cut < 0:
            yield from pattern.finditer(buffer)
            tail = b""
            continue
        yield from pattern.finditer(buffer, 0, cut)
        tail = buffer[cut:]
        whole = pattern.match(tail)
        if whole is not None:
            yield whole
            tail = b""
        elif len(tail) > 256:
            if not _opens(names, tail):
                tail = b""  # text, or a tag the scan does not look at
            elif len(tail) > MAX_TAG_BYTES:
                raise refuse(
                    f"a tag longer than {MAX_TAG_BYTES:,} bytes; expected a sheet written by a spreadsheet"
                )
    if tail:
        whole = pattern.match(tail)
        if whole is not None:
            yield whole


def _opens(names: frozenset[bytes], text: bytes) -> bool:
    """Whether ``text`` starts a tag named one of ``names`` (it may not be complete yet)."""
    head = re.match(rb"</?(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)", text)
    return head is not None and head.group(1) in names


def _check_sheet(sheet: SheetShape, shown: Path, lim: Limits, declared: bool = False) -> None:
    what = "declares (in its dimension)" if declared else "holds values up to"
    for name, found, words in (
        ("sheet_rows", sheet.rows, f"row {sheet.rows:,}"),
        ("sheet_columns", sheet.columns, f"column {column_letters(sheet.columns)}"),
    ):
        if found > getattr(lim, name):
            raise InputFileError(
                shown,
                lim.breach(name, found, f"the sheet {what} {words}: its {name.split('_')[1]}"),
                sheet=sheet.name,
            )
    if sheet.cells > lim.sheet_cells:
        raise InputFileError(
            shown,
            lim.breach(
                "sheet_cells",
                sheet.cells,
                f"the sheet {what} row {sheet.rows:,} and column {column_letters(sheet.columns)}: "
                "its cells as read, rows times columns",
            ),
            sheet=sheet.name,
        )


def _check_workbook(shape: WorkbookShape, shown: Path, lim: Limits) -> None:
    names = [s.name for s in shape.sheets]
    if len(names) > lim.workbook_sheets:
        raise InputFileError(shown, lim.breach("workbook_sheets", len(names), "the number of sheets"))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputFileError(
                shown,
                f"two sheets are named {name!r}; expected every sheet of a workbook named differently "
                "(a spreadsheet application does not allow two sheets one name)",
                sheet=name,
            )
        seen.add(name)


def _check_total(shape: WorkbookShape, shown: Path, lim: Limits) -> None:
    total = sum(s.cells for s in shape.sheets)
    if total > lim.workbook_cells:
        raise InputFileError(
            shown, lim.breach("workbook_cells", total, "the cells of all its sheets as read, added up")
        )


_XLSX_TAGS = _tag_pattern("c|f|v|is|row|dimension")
_CELL_REF = re.compile(rb"\s*\$?([A-Za-z]{1,7})\$?(\d{1,12})\s*$")
_RANGE_REF = re.compile(rb"\s*\$?[A-Za-z]{1,7}\$?\d{1,12}\s*:\s*\$?([A-Za-z]{1,7})\$?(\d{1,12})\s*$")
_SMALL_PART_BYTES = 16 << 20  # workbook.xml and its relationships: a few kilobytes


def inspect_xlsx(path: Path, shown: Path, lim: Limits, member: str | None = None) -> WorkbookShape:
    """Check an XLSX workbook against the limits without loading it; return its shape
    (sheets in order, each one's extent and first formula without a saved value)."""
    with open_archive(path, shown, lim, "XLSX workbook", member) as archive:
        names = set(archive.namelist())
        main = _main_part(archive, names)
        book = _small_part(archive, main, shown, member)
        rels_name = posixpath.join(posixpath.dirname(main), "_rels", posixpath.basename(main) + ".rels")
        rels = _small_part(archive, rels_name, shown, member) if rels_name in names else b""
        targets = {}
        for match in re.finditer(rb"<(?:\w+:)?Relationship\b([^>]*)>", rels):
            attributes = _attributes(match.group(1))
            if b"Id" in attributes and b"Target" in attributes:
                targets[attributes[b"Id"]] = _resolve(main, attributes[b"Target"].decode("utf-8", "replace"))
        shape = WorkbookShape()
        parts = []
        for match in re.finditer(rb"<(?:\w+:)?sheet\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", book):
            attributes = _attributes(match.group(1))
            name = attributes.get(b"name", b"").decode("utf-8", "replace")
            relation = next((v for k, v in attributes.items() if k == b"id"), None)
            shape.sheets.append(SheetShape(name))
            parts.append(targets.get(relation) if relation is not None else None)
        _check_workbook(shape, shown, lim)
        for info in archive.infolist():
            if posixpath.basename(info.filename).lower() == "sharedstrings.xml":
                if info.file_size > lim.workbook_strings_bytes:
                    raise InputFileError(
                        shown,
                        lim.breach(
                            "workbook_strings_bytes", info.file_size, "its shared strings' size decompressed"
                        ),
                        sheet=member,
                    )
        scanned = set()
        for sheet, part in zip(shape.sheets, parts, strict=True):
            if part is not None and part in names:
                scanned.add(part)
                _scan_sheet_part(archive, part, sheet, shown, lim)
        # a worksheet part no sheet names (or named in a way not resolved here) is
        # scanned too: a reader may still find it
        for part in sorted(names - scanned):
            if re.fullmatch(
                r"(?:.*/)?(?:work|chart|dialog|macro)sheets/[^/]+\.xml", part, flags=re.IGNORECASE
            ):
                _scan_sheet_part(archive, part, SheetShape(part), shown, lim)
        _check_total(shape, shown, lim)
    return shape


def _main_part(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "_rels/.rels" in names:
        rels = archive.read("_rels/.rels")[:_SMALL_PART_BYTES]
        for match in re.finditer(rb"<(?:\w+:)?Relationship\b([^>]*)>", rels):
            attributes = _attributes(match.group(1))
            if attributes.get(b"Type", b"").endswith(b"/officeDocument") and b"Target" in attributes:
                return _resolve("", attributes[b"Target"].decode("utf-8", "replace"))
    return "xl/workbook.xml"


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _small_part(archive: zipfile.ZipFile, name: str, shown: Path, member: str | None) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise InputFileError(
            shown,
            f"cannot be opened as an XLSX workbook (damaged or not a workbook: it has no {name!r}); "
            "expected a complete XLSX file",
            sheet=member,
        ) from exc
    if info.file_size > _SMALL_PART_BYTES:
        raise InputFileError(
            shown,
            f"its part {name!r} is {info.file_size:,} bytes decompressed; expected a few kilobytes",
            sheet=member,
        )
    data = archive.read(info)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InputFileError(
            shown,
            f"its part {name!r} declares a document type or entities, which no spreadsheet writes; expected "
            "a workbook saved by a spreadsheet application",
            sheet=member,
        )
    return data


#: the way spreadsheet applications and libraries write a cell: ``<c r="B7" ...``
_CELL_AT = re.compile(rb"<c r=\"([A-Z]{1,3})([0-9]{1,7})\"")
_FORMULA_ONLY = re.compile(
    rb"<(?:[A-Za-z_][\w.\-]*:)?c r=\"([A-Z]{1,3})([0-9]{1,7})\"(?:[^>\"']|\"[^\"]*\"|'[^']*')*>\s*"
    rb"<(?:[A-Za-z_][\w.\-]*:)?f\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*(?:/>|>[^<]*</(?:[A-Za-z_][\w.\-]*:)?f>)"
    rb"\s*</(?:[A-Za-z_][\w.\-]*:)?c>"
)
_ROW_AT = re.compile(rb"<row r=\"([0-9]{1,7})\"")
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.\-]*:(?:c|row|f|sheetData)[\s>/]")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?dimension\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")


def _scan_sheet_part(
    archive: zipfile.ZipFile, part: str, sheet: SheetShape, shown: Path, lim: Limits
) -> None:
    """Scan a worksheet part: quickly when every cell is written ``<c r="B7"`` (a
    spreadsheet application's way), else tag by tag."""
    with archive.open(part) as stream:
        if _scan_sheet_quickly(stream, sheet, shown, lim):
            return
    fresh = SheetShape(sheet.name)
    with archive.open(part) as stream:
        _scan_xlsx_sheet(stream, fresh, shown, lim)
    sheet.rows, sheet.columns, sheet.values = fresh.rows, fresh.columns, fresh.values
    sheet.uncached_formula, sheet.uncached_count = fresh.uncached_formula, fresh.uncached_count


def _scan_sheet_quickly(stream, sheet: SheetShape, shown: Path, lim: Limits) -> bool:
    """The extent of every cell (empty styled ones too: an overestimate) and the
    formulas without a saved value, a chunk at a time, the chunk cut after a row's
    end. Two ways of writing cells are read so: every cell ``<c r="B7" ...`` (spreadsheet
    applications), or no cell with a reference in rows ``<row r="7" ...`` (some
    libraries). False, with ``sheet`` unfinished, for anything else."""
    tail = b""
    before_data = True
    while True:
        chunk = stream.read(_CHUNK)
        buffer = tail + chunk
        if chunk:
            cut = buffer.rfind(b"</row>")
            if cut < 0 and before_data and len(buffer) < (16 << 20):
                tail = buffer  # the sheet's head, up to its first row
                continue
            if cut < 0 or len(buffer) - cut > (16 << 20):
                return False  # a row longer than 16 MiB: tag by tag
            section, tail = buffer[: cut + 6], buffer[cut + 6 :]
        else:
            section, tail = buffer, b""
        if _PREFIXED.search(section):
            return False  # tags with a namespace prefix: tag by tag
        if before_data:
            before_data = False
            start = section.find(b"<sheetData")
            declared = _DIMENSION.search(section, 0, start if start >= 0 else len(section))
            if declared is not None:
                bounds = _RANGE_REF.match(_attributes(declared.group(1)).get(b"ref", b""))
                if bounds is not None:
                    _check_sheet(
                        SheetShape(
                            sheet.name, rows=int(bounds.group(2)), columns=_column_number(bounds.group(1))
                        ),
                        shown,
                        lim,
                        declared=True,
                    )
            section = section[start:] if start >= 0 else section
        end = section.find(b"</sheetData")
        if end >= 0:
            section = section[:end]
        # in a sheet's data "<c" opens a cell (or a rich text run's "<color", "<charset",
        # "<condense": counted as cells, an overestimate)
        starts = section.count(b"<c")
        cells = _CELL_AT.findall(section)
        if cells and len(cells) == starts:
            columns, rows = zip(*cells, strict=True)
            widest = _column_number(max(set(columns), key=lambda letters: (len(letters), letters)))
            last_row = max(map(int, rows))
        elif starts and not cells:
            row_numbers = _ROW_AT.findall(section)
            if len(row_numbers) != section.count(b"<row") or section.count(b' r="') != len(row_numbers):
                return False  # rows without a number, or cells with one not written first
            if b"<f" in section:
                return False  # a formula's place is told tag by tag
            last_row = max(map(int, row_numbers))
            widest = max(map(bytes.count, section.split(b"</row>"), itertools.repeat(b"<c")))
        elif starts:
            return False
        else:
            last_row = widest = 0
        if starts:
            sheet.rows = max(sheet.rows, last_row)
            sheet.columns = max(sheet.columns, widest)
            sheet.values += starts
            _check_sheet(SheetShape(sheet.name, rows=sheet.rows, columns=sheet.columns), shown, lim)
        if cells and b"<f" in section:
            for letters, row in _FORMULA_ONLY.findall(section):
                sheet.uncached_count += 1
                if sheet.uncached_formula is None:
                    sheet.uncached_formula = f"{letters.decode()}{int(row)}"
        if not chunk:
            return True


def _scan_xlsx_sheet(stream, sheet: SheetShape, shown: Path, lim: Limits) -> None:
    """Scan one worksheet's XML: its declared dimension, then every cell holding a
    value (its position from ``r="B7"``, or the one after the previous cell), refusing
    as soon as a limit is passed."""

    def refuse(message: str) -> InputFileError:
        return InputFileError(shown, message, sheet=sheet.name)

    row = 0
    column = 0
    cell: tuple[int, int] | None = None
    has_formula = has_value = False
    checked_rows = checked_columns = 0
    for match in _tags(stream, _XLSX_TAGS, refuse):
        closing, name, rest = match.group(1), match.group(2), match.group(3)
        if name == b"c":
            if closing:
                if cell is not None:
                    _cell_value(sheet, cell, has_formula, has_value)
                cell = None
                continue
            reference = _attributes(rest).get(b"r") if b"r" in rest else None
            parsed = _CELL_REF.match(reference) if reference is not None else None
            if parsed is not None:
                column = _column_number(parsed.group(1))
                row = int(parsed.group(2))
            else:
                column += 1
                row = max(row, 1)
            if rest.rstrip().endswith(b"/"):
                cell = None  # an empty cell (a style only)
                continue
            cell = (row, column)
            has_formula = has_value = False
            if row > checked_rows or column > checked_columns:
                checked_rows = max(checked_rows, row)
                checked_columns = max(checked_columns, column)
                _check_sheet(SheetShape(sheet.name, rows=checked_rows, columns=checked_columns), shown, lim)
        elif closing:
            continue
        elif name == b"row":
            reference = _attributes(rest).get(b"r") if b"r" in rest else None
            row = int(reference) if reference is not None and reference.strip().isdigit() else row + 1
            column = 0
        elif name == b"f":
            has_formula = True
        elif name in (b"v", b"is"):
            has_value = True
        elif name == b"dimension":
            declared = _RANGE_REF.match(_attributes(rest).get(b"ref", b""))
            if declared is not None:
                _check_sheet(
                    SheetShape(
                        sheet.name, rows=int(declared.group(2)), columns=_column_number(declared.group(1))
                    ),
                    shown,
                    lim,
                    declared=True,
                )
    if cell is not None:
        _cell_value(sheet, cell, has_formula, has_value)


def _cell_value(sheet: SheetShape, cell: tuple[int, int], has_formula: bool, has_value: bool) -> None:
    row, column = cell
    if has_formula and not has_value:
        sheet.uncached_count += 1
        if sheet.uncached_formula is None:
            sheet.uncached_formula = f"{column_letters(column)}{row}"
    sheet.values += 1
    sheet.rows = max(sheet.rows, row)
    sheet.columns = max(sheet.columns, column)


_ODS_TAGS = _tag_pattern("table|table-row|table-cell|covered-table-cell")


def inspect_ods(path: Path, shown: Path, lim: Limits, member: str | None = None) -> WorkbookShape:
    """Check an ODS workbook against the limits without loading it; return its shape.

    ``content.xml`` is scanned as it is decompressed: a row or cell repeated n times
    counts n times, and the extent runs to the last row and column holding a value
    (the empty rows and columns a spreadsheet writes to fill the sheet are not read)."""
    with open_archive(path, shown, lim, "ODS workbook", member) as archive:
        try:
            info = archive.getinfo("content.xml")
        except KeyError as exc:
            raise InputFileError(
                shown,
                "cannot be opened as an ODS workbook (damaged or not a workbook: it has no 'content.xml'); "
                "expected a complete ODS file",
                sheet=member,
            ) from exc
        shape = WorkbookShape()
        with archive.open(info) as stream:
            _scan_ods_content(stream, shape, shown, lim, member)
    _check_workbook(shape, shown, lim)
    _check_total(shape, shown, lim)
    return shape


def _repeat(attributes: dict[bytes, bytes], name: bytes) -> int:
    value = attributes.get(name)
    if value is None:
        return 1
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 12 else 1


def _scan_ods_content(stream, shape: WorkbookShape, shown: Path, lim: Limits, member: str | None) -> None:
    sheet: SheetShape | None = None
    depth = 0  # tables inside tables (a cell's sub-table) count as their sheet's
    row = 0  # rows before the current one
    row_repeat = 1
    column = 0
    row_columns = row_values = 0
    in_row = False

    def refuse(message: str) -> InputFileError:
        return InputFileError(shown, message, sheet=sheet.name if sheet else member)

    def end_row() -> None:
        nonlocal row
        assert sheet is not None
        if row_values:
            sheet.rows = row + row_repeat
            sheet.columns = max(sheet.columns, row_columns)
            sheet.values += row_values * row_repeat
            _check_sheet(sheet, shown, lim)
        row += row_repeat

    for match in _tags(stream, _ODS_TAGS, refuse):
        closing, name, rest = match.group(1), match.group(2), match.group(3)
        self_closing = rest.rstrip().endswith(b"/")
        if name == b"table":
            if closing:
                depth -= 1
                continue
            if self_closing:
                continue
            depth += 1
            if depth == 1:
                attributes = _attributes(rest)
                sheet = SheetShape(attributes.get(b"name", b"").decode("utf-8", "replace"))
                shape.sheets.append(sheet)
                if len(shape.sheets) > lim.workbook_sheets:
                    raise refuse(lim.breach("workbook_sheets", len(shape.sheets), "the number of sheets"))
                row = 0
            continue
        if sheet is None or depth != 1:
            continue
        if name == b"table-row":
            if closing:
                if in_row:
                    end_row()
                in_row = False
                continue
            row_repeat = _repeat(_attributes(rest), b"number-rows-repeated")
            column = row_columns = row_values = 0
            in_row = not self_closing
            if self_closing:
                row += row_repeat
            continue
        if closing or not in_row:
            continue
        attributes = _attributes(rest) if b"=" in rest else {}
        repeat = _repeat(attributes, b"number-columns-repeated")
        formula = b"formula" in attributes
        valued = not self_closing or b"value-type" in attributes or formula
        if valued:
            row_values += repeat
            row_columns = column + repeat
            if row_columns > lim.sheet_columns or (row + row_repeat) > lim.sheet_rows:
                sheet.rows = max(sheet.rows, row + row_repeat)
                sheet.columns = max(sheet.columns, row_columns)
                _check_sheet(sheet, shown, lim)
            if formula and b"value-type" not in attributes:
                sheet.uncached_count += repeat * row_repeat
                if sheet.uncached_formula is None:
                    sheet.uncached_formula = f"{column_letters(column + 1)}{row + 1}"
        column += repeat
