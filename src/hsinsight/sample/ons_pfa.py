"""ONS police force area data tables (``ons_pfa_tables_v1``).

Two releases of the table that accompanies *Crime in England and Wales*: an XLSX
workbook for the year ending December 2016 and an ODS workbook for the year ending
March 2024. Each has a ``Notes`` sheet and a data sheet ``Table P1`` whose title row
names the 12 months ("... year ending December 2016"), then the header ``Area Code,
Area Name, Total recorded crime (excluding fraud), Violence against the person,
Stalking and harassment`` and one row for England and Wales, each country and each
of the 43 territorial police force areas (by ONS code and ONS spelling).

*Stalking and harassment* is the ONS subgroup, the sum of codes 8L, 8M, 8Q, 8R (from
2017/18) and 8U (from 2020/21) in the recorded crime table over the four quarters, so
it agrees with that table exactly;
England and Wales adds British Transport Police, which is no police force area, so it
is more than England plus Wales (a note row says so). The other two columns are
invented, each force's larger than the columns it contains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hsinsight.names import NATIONAL_CODE, NATIONAL_NAME
from hsinsight.sample.common import (
    BTP,
    SEED,
    Force,
    Sheet,
    ods_bytes,
    size_of,
    stream,
    title,
    write_bytes,
    xlsx_bytes,
)
from hsinsight.sample.recorded_crime import STALKING_AND_HARASSMENT_CODES, YE_DEC_2016, Counts

SHEET_NAME = "Table P1"
HEADER = (
    "Area Code",
    "Area Name",
    "Total recorded crime (excluding fraud)",
    "Violence against the person",
    "Stalking and harassment",
)

#: ONS spells these police force areas differently from ``forces.csv``.
ONS_SPELLING = {"E23000034": "London, City of", "E23000035": "Devon & Cornwall"}
ENGLAND_AND_WALES = (NATIONAL_CODE, NATIONAL_NAME)
ENGLAND = ("E92000001", "England")
WALES = ("W92000004", "Wales")


@dataclass(frozen=True)
class Release:
    period: str  # as the title says it
    quarters: tuple[tuple[int, int], ...]  # (financial start year, quarter)
    file_name: str
    #: synthetic total recorded crime (excluding fraud) per unit of force size, and
    #: violence other than stalking and harassment as a share of that total
    crime_per_size: float
    other_violence_share: float


RELEASES = (
    Release(
        "year ending December 2016",
        YE_DEC_2016,
        "police-force-area-data-tables-year-ending-december-2016-synthetic.xlsx",
        88_000,
        0.19,
    ),
    Release(
        "year ending March 2024",
        ((2023, 1), (2023, 2), (2023, 3), (2023, 4)),
        "police-force-area-data-tables-year-ending-march-2024-synthetic.ods",
        112_000,
        0.22,
    ),
)
#: Spread (log scale) of each force's overall crime level and of its level in one release.
FORCE_SIGMA = 0.15
RELEASE_SIGMA = 0.03
#: Total recorded crime is at least this many times a force's stalking and harassment.
MIN_TOTAL_RATIO = 4


def stalking_and_harassment(counts: Counts, area_code: str, quarters: Sequence[tuple[int, int]]) -> int:
    """8L + 8M + 8Q (from 2014/15) + 8R (from 2017/18) + 8U (from 2020/21) over ``quarters``,
    as the recorded crime table has them: the ONS subgroup, each code over the years it exists."""
    return sum(
        counts.get((code, year, q, area_code), 0)
        for code in STALKING_AND_HARASSMENT_CODES
        for year, q in quarters
    )


def table_rows(
    forces: Sequence[Force], counts: Counts, release: Release, seed: int = SEED
) -> list[list[object]]:
    """The data rows of one release: England and Wales, England, the English forces,
    Wales, the Welsh forces."""
    rng = stream(seed, "ons_pfa")
    level = {f.area_code: rng.lognormvariate(0.0, FORCE_SIGMA) for f in forces}
    rng = stream(seed, f"ons_pfa:{release.period}")
    values: dict[str, tuple[int, int, int]] = {}
    for f in forces:
        sh = stalking_and_harassment(counts, f.area_code, release.quarters)
        total = round(
            size_of(f.area_code) * release.crime_per_size * level[f.area_code]
            * rng.lognormvariate(0.0, RELEASE_SIGMA)
        )  # fmt: skip
        total = max(total, MIN_TOTAL_RATIO * sh)
        violence = sh + round(total * release.other_violence_share * rng.lognormvariate(0.0, RELEASE_SIGMA))
        values[f.area_code] = (total, min(violence, total), sh)

    def summed(codes: Sequence[str]) -> list[int]:
        return [sum(values[c][i] for c in codes) for i in range(3)]

    english = sorted(f.area_code for f in forces if f.area_code.startswith("E"))
    welsh = sorted(f.area_code for f in forces if f.area_code.startswith("W"))
    names = {f.area_code: ONS_SPELLING.get(f.area_code, f.name) for f in forces}
    if BTP not in values or len(english) + len(welsh) + 1 != len(forces):
        raise ValueError("expected the 43 territorial forces and British Transport Police")
    rows: list[list[object]] = [[*ENGLAND_AND_WALES, *summed(list(values))], [*ENGLAND, *summed(english)]]
    rows += [[code, names[code], *values[code]] for code in english]
    rows.append([*WALES, *summed(welsh)])
    rows += [[code, names[code], *values[code]] for code in welsh]
    return rows


def _notes_codes(release: Release) -> str:
    if min(release.quarters) >= (2020, 1):
        return "8L, 8M, 8Q, 8R (from April 2017) and 8U (from April 2020)"
    return "8L, 8M, 8Q and, from April 2017, 8R"


def _table_codes(release: Release) -> str:
    if min(release.quarters) >= (2020, 1):
        return "8L, 8M, 8Q, 8R and 8U"
    if min(release.quarters) >= (2017, 1):
        return "8L, 8M, 8Q and 8R"
    return "8L, 8M and 8Q"


def _notes(seed: int, release: Release) -> list[list[object]]:
    lines = [
        title(seed, f"Police force area data tables, {release.period}; invented figures."),
        "",
        "A synthetic stand-in for the ONS 'Police force area data tables' that accompany Crime in England "
        "and Wales. The data are on the sheet 'Table P1'.",
        f"Stalking and harassment: Home Office offence codes {_notes_codes(release)}, summed over the four "
        "quarters from the synthetic police recorded crime table of this sample.",
        "England and Wales includes British Transport Police, which is not a police force area; England "
        "and Wales is therefore more than England plus Wales by the British Transport Police figure.",
        "Total recorded crime (excluding fraud) and Violence against the person are invented.",
    ]
    return [[line] if line else [] for line in lines]


def write(out_dir: Path, forces: Sequence[Force], counts: Counts, seed: int = SEED) -> list[Path]:
    """Write both releases; return their paths."""
    paths = []
    for release in RELEASES:
        codes = _table_codes(release)
        data = Sheet(
            SHEET_NAME,
            [
                [title(seed, "Police recorded crime by police force area; invented figures.")],
                [
                    "Table P1: Police recorded crime by offence group and police force area, English and "
                    f"Welsh police forces, {release.period}"
                ],
                [
                    f"Stalking and harassment = Home Office offence codes {codes}. England and Wales "
                    "includes British Transport Police (not a police force area), so it is more than England "
                    "plus Wales."
                ],
                list(HEADER),
                *table_rows(forces, counts, release, seed),
            ],
            widths={"A": 14, "B": 26, "C": 22, "D": 22, "E": 22},
            bold_rows=frozenset({1, 2, 4}),
        )
        sheets = [Sheet("Notes", _notes(seed, release), widths={"A": 120}), data]
        name = f"Synthetic police force area data tables, {release.period}"
        if release.file_name.endswith(".ods"):
            data_bytes = ods_bytes(sheets, name)
        else:
            data_bytes = xlsx_bytes(sheets, name)
        paths.append(write_bytes(Path(out_dir) / release.file_name, data_bytes))
    return paths
