"""Recognising a table by its header row, and the key a file's recognition is kept under.

Files are recognised by their header row, searched for in the first rows of a file
or sheet, never by their names. The values a layout takes from the title rows or from
a header cell are read here too.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from hsinsight.errors import InputFileError, UnrecognisedFileError
from hsinsight.sources import LAYOUTS
from hsinsight.sources.base import Layout, normalise_header

#: How far down a file or sheet the header row is looked for (title and notes rows
#: sit above the table in the publishers' workbooks).
HEADER_SEARCH_ROWS = 30


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


def recognition_key(sha256: str) -> str:
    """The key of a file's entry in a recognition record: its SHA-256 and the digest of
    the code that recognised it."""
    return f"{sha256}:{LAYOUTS_FINGERPRINT}"


def _recognition_code() -> str:
    """A digest of the code that recognises files (the layouts and the modules of this
    package): a record made by other code is not trusted."""
    from hsinsight import sources as sources_package

    digest = hashlib.sha256()
    ingest_code = sorted(Path(__file__).parent.glob("*.py"))
    for code in sorted(Path(sources_package.__file__).parent.glob("*.*")) + ingest_code:
        if code.suffix in (".py", ".yml"):
            digest.update(code.name.encode() + b"\0" + code.read_bytes())
    return digest.hexdigest()[:16]


LAYOUTS_FINGERPRINT = _recognition_code()
