"""What every source layout shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Text that opens the preamble row of every file written by ``hsinsight sample``.
#: A file whose rows above the header contain it is recorded as synthetic, and every
#: screen and report built from it says so.
SYNTHETIC_MARKER = "SYNTHETIC SAMPLE DATA"

#: Markers publishers use for a value that is suppressed, confidential or not
#: applicable. They are never zero: staging turns them into NULL and keeps the marker.
SUPPRESSION_MARKERS = ("..", "[x]", "[c]", "[z]", "*", "-")


def normalise_header(text: object) -> str:
    """Header cells compare case-insensitively, ignoring a BOM and runs of white space."""
    if text is None:
        return ""
    return " ".join(str(text).replace("\ufeff", "").split()).lower()


def normalise_name(text: object) -> str:
    """Names (forces, areas) compare the way the ``normalise_name`` dbt macro does."""
    if text is None:
        return ""
    return " ".join(str(text).split()).lower()


@dataclass(frozen=True)
class Column:
    """One column of a layout: its canonical raw name and the header texts it goes by."""

    name: str
    headers: tuple[str, ...]
    #: how ingest validates the values: "text", "required_text", "financial_year",
    #: "quarter", "force" (matched through the force-name reference data) or
    #: "count" (a whole number, possibly negative, or a suppression marker)
    kind: str = "text"
    required: bool = True

    def matches(self, header: str) -> bool:
        return normalise_header(header) in {normalise_header(h) for h in self.headers}


@dataclass(frozen=True)
class Layout:
    """A publisher's table layout: recognised by its header row, never by file name."""

    source: str
    layout: str
    raw_table: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)

    def locate(self, header_row: list[str]) -> tuple[dict[str, int], list[Column]]:
        """Map canonical column names to positions in ``header_row``; list what is missing."""
        positions: dict[str, int] = {}
        missing: list[Column] = []
        for column in self.columns:
            found = [i for i, cell in enumerate(header_row) if column.matches(cell)]
            if found:
                positions[column.name] = found[0]
            elif column.required:
                missing.append(column)
        return positions, missing


WHOLE_NUMBER = re.compile(r"-?(\d+|\d{1,3}(,\d{3})+)")
