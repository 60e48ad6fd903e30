"""ONS *Crime in England and Wales: Appendix tables*, Table A5a (``ons_appendix_a5a_v1``).

Writes ``appendix-tables-year-ending-march-2025-synthetic.xlsx``: a ``Cover Sheet``
and a ``Notes`` sheet of prose, then ``Table_A5a`` laid out like the real table
(police recorded crime for England and Wales by offence code): title rows, the title
naming "year ending March 2013 to year ending March 2025", then the header
``Offence\\n code``, ``Offence category``, one column per financial year
(``Apr 2012 to \\n Mar 2013`` ... ``Apr 2024 to \\n Mar 2025``) and a percentage change
column, and one row per offence. Categories carry ``[note N]`` suffixes as the real
table's do; ``[x]`` stands where a code did not exist yet and ``[u]`` for a
percentage change on a base under 50.

Rows: 1 *Murder* (a numeric code outside the platform's, invented values), 8L, 8M,
8Q, 8R, 8U, the subtotal *Stalking and harassment [note 22, 27]* without a code, and
9A *Public fear, alarm or distress* (outside the platform's codes). The sample's last
quarter is January to March 2025, so the table has no rolling 12-month columns: they
would repeat the last financial year.

Every figure apart from Murder is the England and Wales sum (all 44 bodies, British
Transport Police included) of the sample's recorded crime table over the financial
year, so the published totals the dashboards compare with the warehouse agree
exactly on the sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hsinsight.names import NATIONAL_NAME
from hsinsight.sample.common import (
    FIRST_YEAR,
    LAST_YEAR,
    SEED,
    Force,
    Sheet,
    stream,
    title,
    write_bytes,
    xlsx_bytes,
)
from hsinsight.sample.recorded_crime import ALL_OFFENCES, Counts

FILE_NAME = "appendix-tables-year-ending-march-2025-synthetic.xlsx"
SHEET_NAME = "Table_A5a"
NOT_AVAILABLE = "[x]"
UNRELIABLE = "[u]"  # percentage change on a base of fewer than 50 offences
MIN_BASE = 50

#: The rows of the table: (code as written, category as written, sample code or None).
#: The subtotal row (no code) is placed after 8U, as in the real table.
CODED_ROWS: tuple[tuple[object, str, str], ...] = (
    ("8L", "Harassment [note 24,25,26,27]", "8L"),
    ("8M", "Racially or religiously aggravated harassment [note 24]", "8M"),
    ("8Q", "Stalking [note 25,27]", "8Q"),
    ("8R", "Malicious communication [note 26]", "8R"),
    ("8U", "Controlling and coercive behaviour [note 22]", "8U"),
)
SUBTOTAL = "Stalking and harassment [note 22, 27]"
PUBLIC_FEAR = ("9A", "Public fear, alarm or distress [note 24,25,50]", "9A")
MURDER = (1, "Murder [note 3]")
#: Invented England and Wales murders a year: level and yearly spread.
MURDER_LEVEL = 560
MURDER_SPREAD = 0.07

YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))


def period_header(year: int) -> str:
    """``2016`` -> ``Apr 2016 to \\n Mar 2017``, as the real header writes it."""
    return f"Apr {year} to \n Mar {year + 1}"


def header() -> list[str]:
    return [
        "Offence\n code",
        "Offence category",
        *[period_header(y) for y in YEARS],
        f"Mar {LAST_YEAR} with\n Mar {LAST_YEAR + 1}\n % change",
    ]


def release_title() -> str:
    return (
        f"Table A5a:  Police recorded crime by offence, year ending March {FIRST_YEAR + 1} to year ending "
        f"March {LAST_YEAR + 1} and percentage change between year ending March {LAST_YEAR} and year "
        f"ending March {LAST_YEAR + 1} [notes 1, 2]"
    )


def financial_year_totals(counts: Counts, code: str) -> dict[int, int]:
    """England and Wales (every body in ``counts``) per financial start year, for the
    years the code has rows."""
    totals: dict[int, int] = {}
    for (c, year, _q, _area), n in counts.items():
        if c == code:
            totals[year] = totals.get(year, 0) + n
    return totals


def _change(values: Sequence[object]) -> object:
    previous, latest = values[-2], values[-1]
    if not isinstance(previous, int) or not isinstance(latest, int):
        return NOT_AVAILABLE
    if previous < MIN_BASE:
        return UNRELIABLE
    return (latest / previous - 1) * 100


def table_rows(counts: Counts, seed: int = SEED) -> list[list[object]]:
    """The data rows, in the order written (each: code, category, a value per year,
    the percentage change)."""
    first_year = {o.code: o.first_year for o in ALL_OFFENCES}

    def values(code: str) -> list[object]:
        totals = financial_year_totals(counts, code)
        return [totals[y] if y >= first_year[code] else NOT_AVAILABLE for y in YEARS]

    rng = stream(seed, "appendix")
    murders: list[object] = [round(MURDER_LEVEL * rng.lognormvariate(0.0, MURDER_SPREAD)) for _ in YEARS]
    rows: list[list[object]] = [[*MURDER, *murders, _change(murders)]]
    subtotal = [0] * len(YEARS)
    for written_code, category, code in CODED_ROWS:
        series = values(code)
        rows.append([written_code, category, *series, _change(series)])
        subtotal = [s + (v if isinstance(v, int) else 0) for s, v in zip(subtotal, series, strict=True)]
    rows.append([None, SUBTOTAL, *subtotal, _change(subtotal)])
    fear = values(PUBLIC_FEAR[2])
    rows.append([PUBLIC_FEAR[0], PUBLIC_FEAR[1], *fear, _change(fear)])
    return rows


def _cover(seed: int) -> list[list[object]]:
    lines = [
        title(
            seed,
            f"Crime in England and Wales, Appendix tables, year ending March {LAST_YEAR + 1}; "
            "a stand-in with invented figures.",
        ),
        "",
        "A synthetic stand-in for the ONS 'Crime in England and Wales: Appendix tables'. Only one table "
        "is reproduced, on the sheet 'Table_A5a' (police recorded crime by offence, England and Wales).",
        "Its figures for codes 8L, 8M, 8Q, 8R, 8U and 9A are the England and Wales sums, over each "
        "financial year, of the synthetic police recorded crime table of this sample (all 43 territorial "
        "forces and British Transport Police); the Murder row is invented.",
    ]
    return [[line] if line else [] for line in lines]


def _notes(seed: int) -> list[list[object]]:
    lines = [
        title(seed, "Notes for Table A5a; invented figures."),
        "",
        "Note 1: Police recorded crime from the synthetic Home Office table of this sample.",
        "Note 2: England and Wales includes British Transport Police.",
        "Note 3: Murder figures are invented.",
        "Note 22: Controlling or coercive behaviour (8U) has its own code from April 2020; before, it was "
        "counted in assault without injury and cannot be separated ([x] before April 2020).",
        "Note 24: Harassment and public fear, alarm or distress follow the counting-rule changes of the "
        "sample.",
        "Note 25: Stalking (8Q) has its own code from April 2014 ([x] before); it was inside 8L before.",
        "Note 26: Malicious communications (8R) have their own code from April 2017 ([x] before); they "
        "were inside 8L from April 2015 to March 2017.",
        "Note 27: Stalking and harassment is the sum of 8L, 8M, 8Q, 8R and 8U over the years each exists.",
        "Note 50: Public fear, alarm or distress (9A) is outside the stalking and harassment subgroup.",
    ]
    return [[line] if line else [] for line in lines]


def write(out_dir: Path, forces: Sequence[Force], counts: Counts, seed: int = SEED) -> list[Path]:
    """Write the Appendix tables workbook; return its path. ``forces`` is checked to be
    the bodies ``counts`` holds, so the totals cover every one of them."""
    areas = {key[3] for key in counts}
    if areas != {f.area_code for f in forces}:
        raise ValueError("the recorded crime counts do not cover exactly the forces given")
    rows = [
        [title(seed, "Police recorded crime by offence, England and Wales; summed from this sample.")],
        [release_title()],
        [NATIONAL_NAME],
        [
            "Some shorthand is used in this table. [x] indicates that data are not available; [u] indicates "
            "the percentage change is not reported because the base number of offences is less than 50."
        ],
        ["Source: the synthetic police recorded crime table of this sample (not the Home Office)"],
        header(),
        *table_rows(counts, seed),
    ]
    widths = {"A": 10.0, "B": 50.0}
    data = Sheet(SHEET_NAME, rows, widths=widths, bold_rows=frozenset({1, 2, 6}))
    sheets = [
        Sheet("Cover Sheet", _cover(seed), widths={"A": 120}),
        Sheet("Notes", _notes(seed), widths={"A": 120}),
        data,
    ]
    name = f"Synthetic Crime in England and Wales Appendix tables, year ending March {LAST_YEAR + 1}"
    return [write_bytes(Path(out_dir) / FILE_NAME, xlsx_bytes(sheets, name))]
