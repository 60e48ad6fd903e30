"""A corpus of hostile raw files, written in code (small files, into a folder given).

Each case is a file that must be refused with its name in the message, before any
reader allocates for what it claims to hold: workbooks declaring or holding cells up
to XFD1048576, ODS files of repeated cells, zip bombs, encrypted and Deflate64
members, archives inside archives, CSV files too wide or with endless lines, duplicate
sheet names, a wide table whose rows share a row number, a symbolic link, formulas
without a saved value, truncated, empty, mislabelled and binary files.

``CASES`` lists them as :class:`Case` (id, the words the refusal must hold, and how to
write the file); ``write(case, folder)`` writes one and returns its path.
"""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

CPS_TITLE = "Stalking and harassment prosecutions and convictions by CPS Area"
CPS_HEADER = ["Financial Year", "CPS Area", "Offence", "Prosecutions", "Convictions"]
CPS_ROWS = [
    ["2015-16", "Wessex", "Stalking", "61", "45"],
    ["2015-16", "Wales/Cymru", "Harassment", "702", "532"],
]


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # the file's name in the raw folder
    words: tuple[str, ...]  # what the refusal must say (besides the file's name)
    build: Callable[[Path], None]  # writes the file at the path given


# ------------------------------------------------------------------------ writers


def _cell(ref: str, value) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _letters(number: int) -> str:
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(65 + rest) + text
    return text


def sheet_xml(rows: list[list], *, dimension: str | None = None, extra: str = "") -> str:
    """A worksheet's XML: ``rows`` from A1 (numbers as numbers), then ``extra`` XML
    inside ``sheetData`` (cells placed anywhere)."""
    body = "".join(
        f'<row r="{r}">'
        + "".join(_cell(f"{_letters(c)}{r}", v) for c, v in enumerate(row, start=1) if v != "")
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{head}<sheetData>{body}{extra}</sheetData></worksheet>"
    )


def xlsx(path: Path, sheets: list[tuple[str, str]], *, workbook_head: str = "") -> None:
    """An XLSX workbook of (sheet name, worksheet XML), written part by part."""
    count = len(sheets)
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, count + 1)
        )
        + "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    )
    book = (
        f'<?xml version="1.0" encoding="UTF-8"?>{workbook_head}'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        + "".join(
            f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, (name, _) in enumerate(sheets, start=1)
        )
        + "</sheets></workbook>"
    )
    book_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        + "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", book_rels)
        for i, (_, xml) in enumerate(sheets, start=1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", xml)


def cps_sheet(extra: str = "", *, dimension: str | None = None, rows: list[list] | None = None) -> str:
    """The CPS table (title, blank row, header, two rows) as a worksheet's XML."""
    table = [[CPS_TITLE], [], CPS_HEADER, *(rows or CPS_ROWS)]
    return sheet_xml(table, dimension=dimension, extra=extra)


ODS_CELL = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'


def ods_table(name: str, rows: list[list[str]], extra: str = "") -> str:
    body = "".join(
        "<table:table-row>" + "".join(ODS_CELL.format(escape(v)) for v in row) + "</table:table-row>"
        for row in rows
    )
    return f'<table:table table:name="{escape(name)}">{body}{extra}</table:table>'


def ods(path: Path, tables: list[str]) -> None:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2">'
        "<office:body><office:spreadsheet>" + "".join(tables) + "</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)


def cps_csv_text(rows: list[list[str]] | None = None) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[CPS_TITLE], [], CPS_HEADER, *(rows or CPS_ROWS)])
    return out.getvalue()


def _patch_zip(path: Path, member: str, *, flag_bits: int | None = None, method: int | None = None,
               file_size: int | None = None) -> None:  # fmt: skip
    """Rewrite fields of ``member``'s local header and central directory entry in place."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    local = info.header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    name = member.encode()
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    if flag_bits is not None:
        struct.pack_into("<H", data, local + 6, flag_bits)
        struct.pack_into("<H", data, central + 8, flag_bits)
    if method is not None:
        struct.pack_into("<H", data, local + 8, method)
        struct.pack_into("<H", data, central + 10, method)
    if file_size is not None:
        struct.pack_into("<I", data, local + 22, file_size)
        struct.pack_into("<I", data, central + 24, file_size)
    path.write_bytes(bytes(data))


# ------------------------------------------------------------------------- cases


def _xlsx_value_at_xfd(path: Path) -> None:
    xlsx(path, [("Data", cps_sheet('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))])


def _xlsx_declared_dimension(path: Path) -> None:
    xlsx(path, [("Data", cps_sheet(dimension="A1:XFD1048576"))])


def _xlsx_declared_rows(path: Path) -> None:
    xlsx(path, [("Data", cps_sheet(dimension="A1:E5000000"))])


def _xlsx_cells(path: Path) -> None:
    # column ZZ (702) and row 100,000: 70 million cells as read, in a few hundred bytes
    xlsx(path, [("Data", cps_sheet('<row r="100000"><c r="ZZ100000"><v>1</v></c></row>'))])


def _xlsx_cells_without_references(path: Path) -> None:
    # the cells' places told by their order alone: one row 2,000 cells wide
    wide = '<row r="6">' + "<c><v>1</v></c>" * 2000 + "</row>"
    xlsx(path, [("Data", cps_sheet(wide))])


def _xlsx_many_sheets(path: Path) -> None:
    xlsx(path, [(f"S{i}", sheet_xml([["x"]])) for i in range(1001)])


def _xlsx_duplicate_sheets(path: Path) -> None:
    other = [
        ["2016-17", "Wessex", "Stalking", "70", "50"],
        ["2016-17", "Wales/Cymru", "Harassment", "1", "1"],
    ]
    xlsx(path, [("Data", cps_sheet()), ("Data", cps_sheet(rows=other))])


def _xlsx_formula_without_value(path: Path) -> None:
    row = (
        '<row r="6"><c r="A6" t="inlineStr"><is><t>2016-17</t></is></c>'
        + "".join(_cell(f"{c}6", v) for c, v in zip("BC", ["Wessex", "Stalking"], strict=True))
        + '<c r="D6"><f>D4+D5</f></c><c r="E6"><v>3</v></c></row>'
    )
    xlsx(path, [("Data", cps_sheet(row))])


def _xlsx_doctype(path: Path) -> None:
    xlsx(path, [("Data", cps_sheet())], workbook_head='<!DOCTYPE lol [<!ENTITY lol "lol">]>')


def _xlsx_truncated(path: Path) -> None:
    xlsx(path, [("Data", cps_sheet())])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])


def _xlsx_corrupt_data(path: Path) -> None:
    # the archive's directory intact, the sheet's compressed bytes scrambled
    xlsx(
        path,
        [
            (
                "Data",
                cps_sheet("".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(6, 2000))),
            )
        ],
    )
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 3
    data[start : start + 64] = bytes(range(64))
    path.write_bytes(bytes(data))


def _html_as_xlsx(path: Path) -> None:
    path.write_text(
        "<!DOCTYPE html><html><head><title>Cookies on GOV.UK</title></head>"
        "<body><p>We use some essential cookies to make this service work.</p></body></html>\n"
    )


def _ole2_as_xlsx(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088))


def _wide_table_same_row_number(path: Path) -> None:
    # Table P9 with two columns headed 2016: each area's row becomes two raw rows with
    # one row number and one key
    rows = [
        ["Table P9: Mid-year population estimates for police force areas, 2002 to 2016"],
        [],
        ["Area Code", "Area Name", "2015", "2016", "2016"],
        ["E23000031", "Wiltshire", "700000", "710000", "720000"],
    ]
    xlsx(path, [("Table P9", sheet_xml(rows))])


def _ods_repeated_columns(path: Path) -> None:
    bomb = (
        '<table:table-row><table:table-cell table:number-columns-repeated="1000000000" '
        'office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
    )
    ods(path, [ods_table("Data", [[CPS_TITLE], [], CPS_HEADER, *CPS_ROWS], bomb)])


def _ods_repeated_rows(path: Path) -> None:
    bomb = (
        '<table:table-row table:number-rows-repeated="10000000"><table:table-cell '
        'office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
    )
    ods(path, [ods_table("Data", [[CPS_TITLE], [], CPS_HEADER, *CPS_ROWS], bomb)])


def _ods_repeated_cells(path: Path) -> None:
    # 100,000 rows of 1,000 cells (each within the rows and columns limits): 100 million
    bomb = (
        '<table:table-row table:number-rows-repeated="100000"><table:table-cell '
        'table:number-columns-repeated="1000" office:value-type="float" office:value="1">'
        "<text:p>1</text:p></table:table-cell></table:table-row>"
    )
    ods(path, [ods_table("Data", [[CPS_TITLE], [], CPS_HEADER, *CPS_ROWS], bomb)])


def _ods_duplicate_sheets(path: Path) -> None:
    table = ods_table("Data", [[CPS_TITLE], [], CPS_HEADER, *CPS_ROWS])
    ods(path, [table, table])


def _ods_formula_without_value(path: Path) -> None:
    formula = (
        "<table:table-row>"
        + "".join(ODS_CELL.format(v) for v in ["2016-17", "Wessex", "Stalking"])
        + '<table:table-cell table:formula="of:=[.D4]+[.D5]"/>'
        + ODS_CELL.format("3")
        + "</table:table-row>"
    )
    ods(path, [ods_table("Data", [[CPS_TITLE], [], CPS_HEADER, *CPS_ROWS], formula)])


def _ods_truncated(path: Path) -> None:
    ods(path, [ods_table("Data", [[CPS_TITLE], [], CPS_HEADER, *CPS_ROWS])])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("cps.csv", cps_csv_text() + "0" * (30 << 20))


def _zip_many_members(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("cps.csv", cps_csv_text())
        for i in range(10_001):
            archive.writestr(f"notes/{i}.txt", "")


def _zip_encrypted_member(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cps.csv", cps_csv_text())
    _patch_zip(path, "cps.csv", flag_bits=0x1)


def _zip_deflate64_member(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cps.csv", cps_csv_text())
    _patch_zip(path, "cps.csv", method=9)


def _zip_declared_size(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cps.csv", cps_csv_text())
    _patch_zip(path, "cps.csv", file_size=0xFFFF0000)


def _zip_nested(path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cps.csv", cps_csv_text())
    for depth in range(3):
        outer = io.BytesIO()
        with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"level{depth}.zip", inner.getvalue())
        inner = outer
    path.write_bytes(inner.getvalue())


def _zip_holding_xfd_workbook(path: Path) -> None:
    book = path.with_suffix(".tmp.xlsx")
    _xlsx_value_at_xfd(book)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(book, "tables/cps.xlsx")
    book.unlink()


def _zip_truncated(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cps.csv", cps_csv_text() * 50)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _csv_too_wide(path: Path) -> None:
    path.write_text(",".join(f"c{i}" for i in range(5000)) + "\n" + cps_csv_text())


def _csv_line_too_long(path: Path) -> None:
    path.write_text("x" * (3 << 20) + "\n" + cps_csv_text())


def _csv_utf16(path: Path) -> None:
    path.write_bytes(cps_csv_text().encode("utf-16"))


def _binary_junk(path: Path) -> None:
    # bytes that are neither UTF-8 nor text, with a NUL among them
    path.write_bytes(bytes((i * 151 + 7) % 256 for i in range(20_000)))


def _junk_without_nul(path: Path) -> None:
    path.write_bytes(bytes(128 + (i * 37) % 127 for i in range(20_000)))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _symlink(path: Path) -> None:
    target = path.parent.parent / "outside.csv"
    target.write_text(cps_csv_text())
    os.symlink(target, path)


def _symlink_to_device(path: Path) -> None:
    os.symlink("/dev/zero", path)


CASES: tuple[Case, ...] = (
    Case("xlsx_value_in_XFD1048576", "cps.xlsx", ("XFD", "sheet_columns", "Data"), _xlsx_value_at_xfd),
    Case("xlsx_declared_dimension", "cps.xlsx", ("dimension", "sheet_columns"), _xlsx_declared_dimension),
    Case("xlsx_declared_rows", "cps.xlsx", ("dimension", "sheet_rows"), _xlsx_declared_rows),
    Case("xlsx_cells_extent", "cps.xlsx", ("sheet_cells", "70,200,000"), _xlsx_cells),
    Case("xlsx_row_without_references", "cps.xlsx", ("sheet_columns",), _xlsx_cells_without_references),
    Case("xlsx_too_many_sheets", "cps.xlsx", ("workbook_sheets", "1,001"), _xlsx_many_sheets),
    Case("xlsx_duplicate_sheet_names", "cps.xlsx", ("two sheets are named 'Data'",), _xlsx_duplicate_sheets),
    Case("xlsx_formula_without_value", "cps.xlsx", ("cell D6", "formula without a saved value", "row 6"),
         _xlsx_formula_without_value),
    Case("xlsx_doctype_entities", "cps.xlsx", ("document type",), _xlsx_doctype),
    Case("xlsx_truncated", "cps.xlsx", ("truncated",), _xlsx_truncated),
    Case("xlsx_corrupt_compressed_data", "cps.xlsx", ("cannot be read",), _xlsx_corrupt_data),
    Case("html_saved_as_xlsx", "cps.xlsx", ("web page",), _html_as_xlsx),
    Case("ole2_saved_as_xlsx", "cps.xlsx", ("OLE2",), _ole2_as_xlsx),
    Case("wide_table_rows_share_a_row_number", "p9.xlsx", ("twice", "row 4"), _wide_table_same_row_number),
    Case("ods_repeated_columns_bomb", "cps.ods", ("sheet_columns",), _ods_repeated_columns),
    Case("ods_repeated_rows_bomb", "cps.ods", ("sheet_rows",), _ods_repeated_rows),
    Case("ods_repeated_cells_bomb", "cps.ods", ("sheet_cells",), _ods_repeated_cells),
    Case("ods_duplicate_sheet_names", "cps.ods", ("two sheets are named 'Data'",), _ods_duplicate_sheets),
    Case("ods_formula_without_value", "cps.ods", ("cell D6", "formula without a saved value"),
         _ods_formula_without_value),
    Case("ods_truncated", "cps.ods", ("truncated",), _ods_truncated),
    Case("zip_bomb", "cps.zip", ("zip_ratio", "'cps.csv'"), _zip_bomb),
    Case("zip_too_many_members", "cps.zip", ("zip_members", "10,002"), _zip_many_members),
    Case("zip_encrypted_member", "cps.zip", ("'cps.csv' is encrypted",), _zip_encrypted_member),
    Case("zip_deflate64_member", "cps.zip", ("Deflate64",), _zip_deflate64_member),
    Case("zip_declared_size", "cps.zip", ("zip_member_bytes",), _zip_declared_size),
    Case("zip_nested_archives", "cps.zip", ("zip_depth", "level2.zip"), _zip_nested),
    Case("zip_holding_a_XFD1048576_workbook", "cps.zip", ("'tables/cps.xlsx/Data'", "sheet_columns"),
         _zip_holding_xfd_workbook),
    Case("zip_truncated", "cps.zip", ("truncated",), _zip_truncated),
    Case("csv_too_wide", "cps.csv", ("csv_columns", "5,000"), _csv_too_wide),
    Case("csv_line_too_long", "cps.csv", ("csv_line_length", "row 1"), _csv_line_too_long),
    Case("csv_utf16", "cps.csv", ("NUL bytes",), _csv_utf16),
    Case("binary_junk_as_csv", "cps.csv", ("NUL bytes",), _binary_junk),
    Case("junk_without_nul_as_csv", "cps.csv", ("UTF-8 or Windows-1252",), _junk_without_nul),
    Case("empty_file", "cps.xlsx", ("empty",), _empty),
    Case("symlink_to_a_csv_outside", "cps.csv", ("symbolic link",), _symlink),
    Case("symlink_to_dev_zero", "cps.csv", ("symbolic link", "/dev/zero"), _symlink_to_device),
)  # fmt: skip


def write(case: Case, folder: Path) -> Path:
    """Write ``case``'s file into ``folder`` (made if missing); return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / case.name
    case.build(path)
    return path


# ------------------------------------------------------------- measuring a run

#: The most memory a run over the corpus may take: 2 GB, as ru_maxrss counts it (KiB on Linux).
PEAK_LIMIT_KB = 2 * 1024 * 1024

MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "peak_kb": peak}))
    """
)


def measured(command: list[str], env: dict | None = None) -> dict:
    """Run ``command`` under a process of its own that reports its peak resident set."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
