"""What every source layout shares: columns, the kinds of value they hold, markers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from hsinsight.names import SUPPRESSION_MARKERS  # noqa: F401  (re-exported: layouts use it)

#: Text that opens the preamble row of every file written by ``hsinsight sample``.
#: A file whose rows above the header contain it is recorded as synthetic, and every
#: screen and report built from it says so.
SYNTHETIC_MARKER = "SYNTHETIC SAMPLE DATA"


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
    "quarter_end_date": "the last day of a quarter written dd/mm/yyyy, such as 31/12/2016",
    "choice": "one of the column's listed values",
}


#: Footnote numbers ONS glues to the end of a word: ``Stalking and harassment4``,
#: ``Surrey7,8``, ``(excluding fraud3)``. Digits right after a letter or a closing
#: bracket, before a space, a bracket or the end.
_GLUED_FOOTNOTE = re.compile(r"(?<=[A-Za-z)])\d{1,2}(?:\s*,\s*\d{1,2})*(?=[\s)]|$)")
#: ... or set apart at the very end of a header: ``Stalking and harassment 4``
_TRAILING_FOOTNOTE = re.compile(r"(?<=[A-Za-z)])\s+\d{1,2}(?:\s*,\s*\d{1,2})*$")
#: ``[note 3]``, ``[notes 1, 2]``, ``[note 22, 27]``
_NOTE_MARK = re.compile(r"\s*\[(?:notes?|footnotes?)\s*[\d,\s]*\]", re.IGNORECASE)


def strip_footnotes(text: object) -> str:
    """A header or name without the footnote marks publishers add: ``[note 3]`` and
    digits glued to a word (``Stalking and harassment4`` -> ``Stalking and harassment``),
    with runs of white space (line breaks, doubled spaces) made one space."""
    if text is None:
        return ""
    text = _NOTE_MARK.sub("", str(text).replace("\ufeff", ""))
    text = _GLUED_FOOTNOTE.sub("", " ".join(text.split()))
    return " ".join(text.split())


def strip_header_footnotes(text: object) -> str:
    """``strip_footnotes``, and a footnote number set apart at the end (headers only:
    a name or value may end in a number of its own)."""
    return _TRAILING_FOOTNOTE.sub("", strip_footnotes(text))


def normalise_header(text: object) -> str:
    """Header cells compare case-insensitively, ignoring a BOM, footnote marks and runs of white space."""
    if isinstance(text, str):
        return _normalised_text(text)
    return strip_header_footnotes(text).lower()


@lru_cache(maxsize=65536)
def _normalised_text(text: str) -> str:
    # Recognition compares every header cell with every layout's headers: the same
    # few thousand texts, normalised once each.
    return strip_header_footnotes(text).lower()


@lru_cache(maxsize=4096)
def _normalised_set(headers: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalise_header(h) for h in headers)


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

    #: the headers are regular expressions matched against the whole normalised
    #: header (``population figures \(mid-\d{4}\).*``), for headers that carry a year
    pattern: bool = False

    def matches(self, header: str) -> bool:
        text = normalise_header(header)
        if self.pattern:
            return any(re.fullmatch(h, text) for h in self.headers)
        return text in _normalised_set(self.headers)


@dataclass(frozen=True)
class PreambleField:
    """A value a layout takes from the title rows above the table (or the sheet name)
    when the table has no column for it, such as the period of an ONS table whose
    title says 'year ending December 2016'."""

    column: str  # canonical column it fills
    pattern: str  # regular expression; group 1 is the value stored
    expected: str  # what the title should say, for the error message
    #: turns the matched text into the value stored (for example a two-digit year
    #: made four-digit); the text as matched when None
    canonical: Callable[[re.Match], str] | None = None
    #: take the last match in the title rows rather than the first ("... year ending
    #: March 2003 to year ending September 2025": the release is the last one named)
    last: bool = False


@dataclass(frozen=True)
class Melt:
    """A wide table with one column per period (``2002``, ``Apr 2002 to Mar 2003`` ...):
    each such column becomes one raw row per data row, with the column's header in
    ``label_column`` and the cell in ``value_column``, both as written."""

    header_pattern: str  # regular expression on the normalised header
    label_column: str
    value_column: str


@dataclass(frozen=True)
class Scope:
    """The rows of a table the platform uses: those whose ``column`` is one of the
    platform's offence codes (``offence_codes.csv``, when ``offence_codes``) or one
    of ``values``, or whose ``name_column`` is one of ``names`` (compared
    case-insensitively, footnote marks ignored). A repeated key or a negative total
    among the other rows is data the platform does not use: it is counted in the
    ingest log, not refused."""

    column: str
    values: tuple[str, ...] = ()
    offence_codes: bool = False
    name_column: str | None = None
    names: tuple[str, ...] = ()


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
    #: a wide table whose period columns become rows
    melt: Melt | None = None
    #: the rows whose faults outside the platform's offences are logged, not refused
    scope: Scope | None = None
    #: (regular expression on the title rows, why): a sheet whose header matches this
    #: layout but whose title says it holds something else (a percentage change, a
    #: household estimate) is listed in the ingest log as not used, with the reason
    not_used_titles: tuple[tuple[str, str], ...] = ()
    #: the row under the header may be a units row (``Numbers``, ``Rate per 1,000
    #: population``) with no identifiers: it is read as part of the header
    units_row: bool = False
    #: rows after the last row with this column filled are footnotes ("Source: ...",
    #: "1. Police recorded crime ..."), not data: counted in the ingest log
    footer_after: str | None = None
    #: (code column, name column): a row may leave the code empty when its name is a
    #: reporting body without one (British Transport Police in the ONS tables)
    code_or_name: tuple[str, str] | None = None
    #: columns whose headers make a table this layout's: a header row with them that
    #: lacks another required column is refused, however few columns it matches
    signature: tuple[str, ...] = ()
    #: (column, header column, regular expression): a value taken from the header
    #: cell of another column (the mid-year of "Population figures (mid-2017)")
    header_fields: tuple[tuple[str, str, str], ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def locate(self, header_row: list[str]) -> tuple[dict[str, int], list[Column]]:
        """Map canonical column names to positions in ``header_row``; list what is missing."""
        positions: dict[str, int] = {}
        missing: list[Column] = []
        filled_from_preamble = {f.column for f in self.preamble_fields}
        filled_from_preamble |= {f[0] for f in self.header_fields}
        if self.melt is not None:
            filled_from_preamble |= {self.melt.label_column, self.melt.value_column}
        for column in self.columns:
            found = [i for i, cell in enumerate(header_row) if column.matches(cell)]
            if found:
                positions[column.name] = found[0]
            elif column.required and column.name not in filled_from_preamble:
                missing.append(column)
        return positions, missing

    def melt_positions(self, header_row: list[str]) -> list[int]:
        """Positions of the period columns of a wide table (none for a long one)."""
        if self.melt is None:
            return []
        return [
            i
            for i, cell in enumerate(header_row)
            if re.fullmatch(self.melt.header_pattern, normalise_header(cell))
        ]

    def required_headers(self) -> list[str]:
        filled = {f.column for f in self.preamble_fields} | {f[0] for f in self.header_fields}
        names = [c.headers[0] for c in self.columns if c.required and c.headers and not c.pattern]
        names += [c.name for c in self.columns if c.required and c.pattern and c.name not in filled]
        if self.melt is not None:
            names.append(f"one column per period ({self.melt.label_column})")
        return names
