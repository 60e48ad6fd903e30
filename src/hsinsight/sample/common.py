"""What every synthetic source file shares: forces, periods, seeded randomness, the
synthetic-data title row and byte-for-byte reproducible CSV, XLSX, ODS and zip writing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import random
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from hsinsight.sources.base import SYNTHETIC_MARKER, normalise_name

#: Seed of the generator (the inspection report was published in July 2017).
SEED = 20170705

FIRST_YEAR = 2012  # financial year 2012/13, calendar year 2012, mid-2012
LAST_YEAR = 2024  # financial year 2024/25, calendar year 2024, mid-2024

#: How the Home Office table spells a force where it differs from ``forces.csv``.
#: Each name must also be listed in ``force_name_variants.csv`` for the same area
#: (checked when the sample is written), so ingest recognises it.
HOME_OFFICE_SPELLING = {"E23000034": "London, City of"}

#: Synthetic size of each force (roughly its population in millions; City of London
#: and British Transport Police small). A force missing here gets DEFAULT_SIZE.
# fmt: off
FORCE_SIZE = {
    "E23000001": 8.7, "E23000002": 0.50, "E23000003": 1.48, "E23000004": 1.40,
    "E23000005": 2.78, "E23000006": 1.05, "E23000007": 1.45, "E23000008": 0.63,
    "E23000009": 0.81, "E23000010": 2.28, "E23000011": 1.38, "E23000012": 0.93,
    "E23000013": 0.56, "E23000014": 2.86, "E23000015": 1.11, "E23000016": 1.25,
    "E23000017": 0.55, "E23000018": 1.04, "E23000019": 1.13, "E23000020": 0.74,
    "E23000021": 1.05, "E23000022": 0.73, "E23000023": 0.83, "E23000024": 0.89,
    "E23000025": 0.74, "E23000026": 0.66, "E23000027": 1.17, "E23000028": 1.80,
    "E23000029": 2.36, "E23000030": 1.98, "E23000031": 1.18, "E23000032": 1.82,
    "E23000033": 1.66, "E23000034": 0.06, "E23000035": 1.73, "E23000036": 1.66,
    "E23000037": 0.62, "E23000038": 0.70, "E23000039": 0.76, "W15000001": 0.69,
    "W15000002": 0.58, "W15000003": 1.30, "W15000004": 0.51, "BTP": 0.25,
}
# fmt: on
DEFAULT_SIZE = 1.0

BTP = "BTP"

#: Above this many units, scatter() draws each part's noise instead of every unit.
SCATTER_UNITS = 40

#: Workbook properties and zip entry times written into every file, so the bytes
#: do not depend on when the sample was generated.
FIXED_TIMESTAMP = dt.datetime(2017, 7, 5, 0, 0, 0)
ZIP_DATE_TIME = (2017, 7, 5, 0, 0, 0)
AUTHOR = "hsinsight sample"


@dataclass(frozen=True)
class Force:
    area_code: str
    name: str  # as the Home Office table spells it

    @property
    def is_territorial(self) -> bool:
        """A police force area with a resident population (not British Transport Police)."""
        return self.area_code != BTP


def size_of(area_code: str) -> float:
    return FORCE_SIZE.get(area_code, DEFAULT_SIZE)


def quarters() -> list[tuple[int, int]]:
    """Every (financial start year, quarter) of the sample, in order."""
    return [(year, q) for year in range(FIRST_YEAR, LAST_YEAR + 1) for q in range(1, 5)]


def financial_year_label(year: int, separator: str = "/") -> str:
    """``2016`` -> ``2016/17`` (or ``2016-17`` with ``separator="-"``)."""
    return f"{year}{separator}{(year + 1) % 100:02d}"


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split a whole number in proportion to ``weights`` so the parts add up exactly.

    Largest-remainder method: every part gets the floor of its exact share, and the
    units left over go to the largest fractional remainders (ties to the earlier part).
    """
    if total < 0:
        raise ValueError("allocate() splits a non-negative total")
    weight_sum = math.fsum(weights)
    if weight_sum <= 0:
        raise ValueError("allocate() needs a positive total weight")
    exact = [total * w / weight_sum for w in weights]
    parts = [math.floor(x) for x in exact]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def scatter(rng: random.Random, total: int, weights: Sequence[float]) -> list[int]:
    """Split a whole number at random (each unit falls in part i with probability
    proportional to ``weights[i]``): the parts add up exactly, and small totals land
    on different parts from draw to draw instead of always on the largest weight."""
    if total < 0:
        raise ValueError("scatter() splits a non-negative total")
    parts = [0] * len(weights)
    if total == 0:
        return parts
    cumulative, running = [], 0.0
    for w in weights:
        running += max(w, 0.0)
        cumulative.append(running)
    if running <= 0:
        raise ValueError("scatter() needs a positive total weight")
    if total > SCATTER_UNITS:
        # Many units: each part's expected share with Poisson-sized noise, then split
        # exactly (drawing every unit would be slow and no more realistic).
        noisy = []
        for w in weights:
            expected = total * max(w, 0.0) / running
            if expected <= 0:
                noisy.append(0.0)
                continue
            noisy.append(max(0.0, expected + rng.gauss(0.0, 1.0) * math.sqrt(expected)))
        if math.fsum(noisy) > 0:
            return allocate(total, noisy)
    for i in rng.choices(range(len(weights)), cum_weights=cumulative, k=total):
        parts[i] += 1
    return parts


def stream(seed: int, name: str) -> random.Random:
    """An independent random stream per source, so changing one file's generator leaves
    every other file's bytes alone."""
    return random.Random(f"hsinsight-sample:{seed}:{name}")


def read_forces(seeds_dir: Path) -> list[Force]:
    """The 44 reporting bodies of ``forces.csv``, named as the Home Office table names them."""
    with open(seeds_dir / "forces.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(seeds_dir / "force_name_variants.csv", encoding="utf-8", newline="") as handle:
        variants = {
            (normalise_name(r["name_variant"]), (r["area_code"] or "").strip())
            for r in csv.DictReader(handle)
        }
    forces = []
    for row in rows:
        code = row["area_code"].strip()
        name = HOME_OFFICE_SPELLING.get(code, row["area_name"].strip())
        if code in HOME_OFFICE_SPELLING and (normalise_name(name), code) not in variants:
            raise ValueError(
                f"{name!r} (area {code}) is not listed in force_name_variants.csv; ingest would refuse it"
            )
        forces.append(Force(code, name))
    if not forces:
        raise ValueError(f"no forces in {seeds_dir / 'forces.csv'}")
    return forces


def check_spellings(seeds_dir: Path, names: dict[str, str | None], seed_file: str, column: str) -> None:
    """Refuse to write a name ingest would not recognise: ``names`` maps each written
    name to the code it must resolve to in ``seed_file`` (None: any listed code)."""
    with open(seeds_dir / seed_file, encoding="utf-8", newline="") as handle:
        known = {normalise_name(r["name_variant"]): (r[column] or "").strip() for r in csv.DictReader(handle)}
    for name, code in names.items():
        key = normalise_name(name)
        if key not in known or (code is not None and known[key] != code):
            raise ValueError(
                f"{name!r} is not listed in {seed_file} for {code or 'any area'}; ingest would refuse it"
            )


def title(seed: int, what: str) -> str:
    """The single-cell title row that opens every data table of the sample."""
    return (
        f"{SYNTHETIC_MARKER} - generated by hsinsight sample (seed {seed}). {what} Not official statistics."
    )


# ------------------------------------------------------------------------- writing


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a hidden partial file, so a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def csv_bytes(rows: Iterable[Sequence[object]], title_row: str | None = None, line_end: str = "\n") -> bytes:
    """A UTF-8 CSV (no byte-order mark, ``\\n`` line ends unless ``line_end`` says
    otherwise): the title row quoted, then the rows."""
    buffer = io.StringIO(newline="")
    if title_row is not None:
        csv.writer(buffer, lineterminator=line_end, quoting=csv.QUOTE_ALL).writerow([title_row])
    csv.writer(buffer, lineterminator=line_end).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def zip_bytes(members: Sequence[tuple[str, bytes, int]]) -> bytes:
    """A zip archive of (name, content, compression) members in the order given, every
    entry stamped ``ZIP_DATE_TIME`` with fixed attributes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content, compression in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = compression
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, content, compresslevel=6 if compression == zipfile.ZIP_DEFLATED else None)
    return buffer.getvalue()


@dataclass
class Sheet:
    """One worksheet: its name, its rows (title rows, header, data) and how to show them."""

    name: str
    rows: list[list[object]]
    widths: dict[str, float] = field(default_factory=dict)  # column letter -> width
    bold_rows: frozenset[int] = frozenset()  # 1-based rows shown in bold (titles, header)
    one_decimal: frozenset[str] = frozenset()  # column letters whose floats show one decimal


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
#: Cell styles of ``_STYLES``: 0 plain, 1 bold (title and header rows), 2 one decimal place.
PLAIN, BOLD, ONE_DECIMAL = 0, 1, 2
_STYLES = (
    f'<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index


def xlsx_bytes(sheets: Sequence[Sheet], title_text: str) -> bytes:
    """An XLSX workbook whose bytes depend only on its content.

    Written directly as SpreadsheetML (shared strings, one style sheet, fixed document
    properties) rather than through openpyxl: several times faster and, because cells
    carry no repeated cell references, several times smaller once compressed, which
    keeps the committed sample small. Rows listed in ``Sheet.bold_rows`` (1-based)
    are bold; floats in ``Sheet.one_decimal`` columns show one decimal place.
    """
    strings: dict[str, int] = {}
    references = 0
    parts: list[tuple[str, str]] = []
    for number, sheet in enumerate(sheets, start=1):
        body = []
        for row_number, row in enumerate(sheet.rows, start=1):
            bold = row_number in sheet.bold_rows
            cells = []
            for column, value in enumerate(row):
                style = BOLD if bold else PLAIN
                if value is None or value == "":
                    cells.append("<c/>" if not bold else f'<c s="{BOLD}"/>')
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float):
                    text = str(value)
                    index = strings.setdefault(text, len(strings))
                    references += 1
                    cells.append(f'<c t="s"{_style(style)}><v>{index}</v></c>')
                else:
                    if isinstance(value, float) and _column_letter(column) in sheet.one_decimal:
                        style = ONE_DECIMAL
                    cells.append(f"<c{_style(style)}><v>{_number(value)}</v></c>")
            body.append(f'<row r="{row_number}">' + "".join(cells) + "</row>")
        cols = "".join(
            f'<col min="{_column_index(c)}" max="{_column_index(c)}" width="{w}" customWidth="1"/>'
            for c, w in sorted(sheet.widths.items(), key=lambda item: _column_index(item[0]))
        )
        width = max((len(row) for row in sheet.rows), default=1)
        extent = f"A1:{_column_letter(max(width, 1) - 1)}{max(len(sheet.rows), 1)}"
        xml = (
            _XML_DECLARATION
            + f'<worksheet xmlns="{_MAIN_NS}"><dimension ref="{extent}"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + "<sheetData>"
            + "".join(body)
            + "</sheetData></worksheet>"
        )
        parts.append((f"xl/worksheets/sheet{number}.xml", xml))
    shared = (
        _XML_DECLARATION
        + f'<sst xmlns="{_MAIN_NS}" count="{references}" uniqueCount="{len(strings)}">'
        + "".join(f"<si>{_text(s)}</si>" for s in strings)
        + "</sst>"
    )
    n = len(sheets)
    workbook = (
        _XML_DECLARATION
        + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
        + "".join(
            f'<sheet name="{escape(s.name, _QUOTE)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(sheets, start=1)
        )
        + "</sheets></workbook>"
    )
    workbook_rels = (
        _XML_DECLARATION
        + f'<Relationships xmlns="{_PKG_REL_NS}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        + f'<Relationship Id="rId{n + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
        + f'<Relationship Id="rId{n + 2}" Type="{_REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        + "</Relationships>"
    )
    content_types = (
        _XML_DECLARATION
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        + '<Default Extension="xml" ContentType="application/xml"/>'
        + '<Override PartName="/xl/workbook.xml" '
        + 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
            for i in range(1, n + 1)
        )
        + '<Override PartName="/xl/styles.xml" '
        + 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + '<Override PartName="/xl/sharedStrings.xml" '
        + 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        + '<Override PartName="/docProps/core.xml" '
        + 'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        + '<Override PartName="/docProps/app.xml" '
        + 'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        + "</Types>"
    )
    root_rels = (
        _XML_DECLARATION
        + f'<Relationships xmlns="{_PKG_REL_NS}">'
        + f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
        + f'<Relationship Id="rId2" Type="{_PKG_REL_NS}/metadata/core-properties" Target="docProps/core.xml"/>'
        + f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" Target="docProps/app.xml"/>'
        + "</Relationships>"
    )
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ")
    core = (
        _XML_DECLARATION
        + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        + 'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        + 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + f"<dc:title>{escape(title_text)}</dc:title><dc:creator>{AUTHOR}</dc:creator>"
        + f"<cp:lastModifiedBy>{AUTHOR}</cp:lastModifiedBy>"
        + f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        + f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        + "</cp:coreProperties>"
    )
    app = (
        _XML_DECLARATION
        + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        + f"<Application>{AUTHOR}</Application></Properties>"
    )
    members = [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", root_rels),
        ("docProps/app.xml", app),
        ("docProps/core.xml", core),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", _XML_DECLARATION + _STYLES),
        *parts,
        ("xl/sharedStrings.xml", shared),
    ]
    return zip_bytes([(name, text.encode("utf-8"), zipfile.ZIP_DEFLATED) for name, text in members])


_QUOTE = {'"': "&quot;"}


def _style(style: int) -> str:
    return f' s="{style}"' if style else ""


def _number(value: int | float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot write {value!r} to a workbook")
    return str(value) if isinstance(value, int) else repr(value)


def _text(value: str) -> str:
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f"<t{space}>{escape(value)}</t>"


_ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def ods_bytes(sheets: Sequence[Sheet], title_text: str) -> bytes:
    """An OpenDocument spreadsheet whose bytes depend only on its content.

    Written directly as OpenDocument XML (odfpy's output depends on what else the
    process has written before). Whole numbers and floats are numeric cells, the rest
    text; ``widths`` and ``bold_rows`` are not carried into ODS.
    """
    tables = []
    for sheet in sheets:
        width = max((len(row) for row in sheet.rows), default=1)
        body = [f'<table:table table:name="{escape(sheet.name, _QUOTE)}">']
        body.append(f'<table:table-column table:number-columns-repeated="{max(width, 1)}"/>')
        for row in sheet.rows:
            cells = []
            for value in row:
                if value is None or value == "":
                    cells.append("<table:table-cell/>")
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    number = _number(value)
                    cells.append(
                        f'<table:table-cell office:value-type="float" office:value="{number}">'
                        f"<text:p>{number}</text:p></table:table-cell>"
                    )
                else:
                    cells.append(
                        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p>'
                        "</table:table-cell>"
                    )
            body.append(
                "<table:table-row>" + ("".join(cells) or "<table:table-cell/>") + "</table:table-row>"
            )
        body.append("</table:table>")
        tables.append("".join(body))
    content = (
        _XML_DECLARATION
        + f'<office:document-content {_ODS_NS} office:version="1.2"><office:body><office:spreadsheet>'
        + "".join(tables)
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    styles = _XML_DECLARATION + f'<office:document-styles {_ODS_NS} office:version="1.2"/>'
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%S")
    meta = (
        _XML_DECLARATION
        + f'<office:document-meta {_ODS_NS} office:version="1.2"><office:meta>'
        + f"<meta:generator>{AUTHOR}</meta:generator><dc:title>{escape(title_text)}</dc:title>"
        + f"<meta:creation-date>{stamp}</meta:creation-date><dc:date>{stamp}</dc:date>"
        + "</office:meta></office:document-meta>"
    )
    manifest = (
        _XML_DECLARATION
        + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        + 'manifest:version="1.2">'
        + f'<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{_ODS_MIMETYPE}"/>'
        + "".join(
            f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
            for name in ("content.xml", "styles.xml", "meta.xml")
        )
        + "</manifest:manifest>"
    )
    # The mimetype entry comes first and is stored uncompressed, as the format requires.
    return zip_bytes(
        [
            ("mimetype", _ODS_MIMETYPE.encode("ascii"), zipfile.ZIP_STORED),
            ("content.xml", content.encode("utf-8"), zipfile.ZIP_DEFLATED),
            ("styles.xml", styles.encode("utf-8"), zipfile.ZIP_DEFLATED),
            ("meta.xml", meta.encode("utf-8"), zipfile.ZIP_DEFLATED),
            ("META-INF/manifest.xml", manifest.encode("utf-8"), zipfile.ZIP_DEFLATED),
        ]
    )
