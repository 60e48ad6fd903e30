"""What every source layout shares: columns, the kinds of value they hold, markers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Text that opens the preamble row of every file written by ``hsinsight sample``.
#: A file whose rows above the header contain it is recorded as synthetic, and every
#: screen and report built from it says so.
SYNTHETIC_MARKER = "SYNTHETIC SAMPLE DATA"

#: Markers publishers put in a count cell for a value that is suppressed,
#: confidential, not applicable or not provided. They are never zero: staging turns
#: them into NULL and keeps the marker. Compared case-insensitively after trimming.
#: The Home Office outcomes files spell "not applicable" five ways (SOURCES.md, 2).
SUPPRESSION_MARKERS = (
    "..",
    "[x]",
    "[c]",
    "[z]",
    "*",
    "-",
    "NA",
    "N/A",
    "N/A - Offence code expired",
    "N/A - data not provided",
)

#: A whole number as publishers write it: optional minus sign, optional thousands
#: separators (``1,234``).
WHOLE_NUMBER = re.compile(r"-?(\d+|\d{1,3}(,\d{3})+)")
#: A decimal number (rates, percentages): ``66``, ``66.2``, ``0.662``, ``66.2%``.
DECIMAL_NUMBER = re.compile(r"-?\d+(\.\d+)?%?")

#: The kinds of value a column can hold, and what ingest checks for each.
KINDS = {
    "text": "any text, possibly empty",
    "required_text": "any text, not empty",
    "financial_year": "a financial year such as 2016/17 (also 2016-17 or 2016_17)",
    "quarter": "a financial quarter, 1 to 4",
    "calendar_year": "a calendar year such as 2016",
    "survey_year": "a survey year ending March, such as 2015/16 or 'year ending March 2016'",
    "force": "a police force area or reporting body named in force_name_variants.csv",
    "cps_area": "a CPS Area (or the national total) named in cps_area_name_variants.csv",
    "ons_area_code": "an ONS area code listed in forces.csv or other_areas.csv",
    "outcome_type": "a Home Office outcome type listed in outcome_types.csv (empty: not yet assigned)",
    "count": "a whole number; negative values are published corrections and are kept",
    "total": "a whole number that is a period total, so not negative",
    "rate": "a decimal number (a rate or percentage)",
    "choice": "one of the column's listed values",
}


def normalise_header(text: object) -> str:
    """Header cells compare case-insensitively, ignoring a BOM, footnote marks and runs of white space."""
    if text is None:
        return ""
    text = str(text).replace("\ufeff", "")
    text = re.sub(r"\s*\[(note|footnote)\s*\d+\]", "", text, flags=re.IGNORECASE)  # ONS "[note 3]"
    return " ".join(text.split()).lower()


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
    #: how ingest validates the values: one of ``KINDS``
    kind: str = "text"
    required: bool = True
    #: for kind "choice": the accepted values (compared case-insensitively)
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"column {self.name}: choices go with kind 'choice' only")

    def matches(self, header: str) -> bool:
        return normalise_header(header) in {normalise_header(h) for h in self.headers}


@dataclass(frozen=True)
class PreambleField:
    """A value a layout takes from the title rows above the table (or the sheet name)
    when the table has no column for it, such as the period of an ONS table whose
    title says 'year ending December 2016'."""

    column: str  # canonical column it fills
    pattern: str  # regular expression; group 1 is the value stored
    expected: str  # what the title should say, for the error message


@dataclass(frozen=True)
class Layout:
    """A publisher's table layout: recognised by its header row, never by file name."""

    source: str
    layout: str
    raw_table: str
    description: str
    columns: tuple[Column, ...]
    #: columns that identify a row; a repeated key is refused (absent optional
    #: columns count as empty)
    key: tuple[str, ...] = field(default_factory=tuple)
    #: the column whose values are the periods a release covers: a later file with
    #: the same period replaces the earlier one's rows for that period
    period: str | None = None
    preamble_fields: tuple[PreambleField, ...] = ()
    #: quarterly layouts: columns whose 12-month totals (four consecutive quarters of
    #: the same key) must not be negative, and the key columns that are not the period
    rolling_total_columns: tuple[str, ...] = ()
    #: rows whose column has one of these values are left out of the 12-month check
    #: (Home Office outcome type 0, "not yet assigned", is not an outcome)
    rolling_total_exclude: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def locate(self, header_row: list[str]) -> tuple[dict[str, int], list[Column]]:
        """Map canonical column names to positions in ``header_row``; list what is missing."""
        positions: dict[str, int] = {}
        missing: list[Column] = []
        filled_from_preamble = {f.column for f in self.preamble_fields}
        for column in self.columns:
            found = [i for i, cell in enumerate(header_row) if column.matches(cell)]
            if found:
                positions[column.name] = found[0]
            elif column.required and column.name not in filled_from_preamble:
                missing.append(column)
        return positions, missing

    def required_headers(self) -> list[str]:
        return [c.headers[0] for c in self.columns if c.required]
