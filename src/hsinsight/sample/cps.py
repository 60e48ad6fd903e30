"""CPS violence against women and girls data, stalking and harassment (``cps_vawg_v1``).

One workbook: ``Notes`` and a data sheet ``Stalking and harassment`` with a
synthetic-data title row, a title row and the header ``Financial Year, CPS Area,
Offence, Prosecutions, Convictions, Conviction Rate``, one row per financial year
(``2015-16``) x CPS Area (or ``National``) x offence (``Stalking``, ``Harassment``).

CPS Areas: thirteen up to 2016-17 with one ``London``, fourteen from 2017-18 with
``London North`` and ``London South``. Each year's national figure is shared between
the Areas in proportion to the synthetic sizes of the forces they cover (London =
Metropolitan Police + City of London, split 52/48 North/South), with a little noise;
the ``National`` row is the sum of the Areas. Conviction Rate = convictions /
prosecutions as a percentage with one decimal place.

National prosecutions equal published figures where there are some
(``PUBLISHED_PROSECUTIONS``); the rest are invented, stalking rising after 2016-17
with recorded stalking but far less steeply (the prosecution gap).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from hsinsight.names import NATIONAL_CODE
from hsinsight.sample.common import (
    FIRST_YEAR,
    LAST_YEAR,
    SEED,
    Force,
    Sheet,
    allocate,
    check_spellings,
    financial_year_label,
    size_of,
    stream,
    title,
    write_bytes,
    xlsx_bytes,
)

FILE_NAME = "cps-vawg-stalking-harassment-2012-13-to-2024-25-synthetic.xlsx"
SHEET_NAME = "Stalking and harassment"
HEADER = ("Financial Year", "CPS Area", "Offence", "Prosecutions", "Convictions", "Conviction Rate")
NATIONAL = "National"
STALKING, HARASSMENT = "Stalking", "Harassment"
LONDON_SPLIT_YEAR = 2017  # London North and London South from 2017-18
LONDON_NORTH_SHARE = 0.52

#: Police forces (forces.csv area codes) covered by each CPS Area (docs/sources.md, section 3).
AREA_FORCES = {
    "Cymru/Wales": ("W15000001", "W15000002", "W15000003", "W15000004"),
    "East Midlands": ("E23000018", "E23000019", "E23000020", "E23000021", "E23000022"),
    "East of England": ("E23000023", "E23000024", "E23000025", "E23000028"),
    "London": ("E23000001", "E23000034"),
    "Mersey-Cheshire": ("E23000004", "E23000006"),
    "North East": ("E23000007", "E23000008", "E23000013"),
    "North West": ("E23000002", "E23000003", "E23000005"),
    "South East": ("E23000031", "E23000032", "E23000033"),
    "South West": ("E23000035", "E23000036", "E23000037"),
    "Thames and Chiltern": ("E23000026", "E23000027", "E23000029"),
    "Wessex": ("E23000030", "E23000038", "E23000039"),
    "West Midlands": ("E23000014", "E23000015", "E23000016", "E23000017"),
    "Yorkshire and Humberside": ("E23000009", "E23000010", "E23000011", "E23000012"),
}

#: National prosecutions (financial start year -> count). Published figures:
#: 2014-15 stalking 1,103 and 2015-16 stalking 1,102 (cps_stalking_prosecutions_fy*),
#: 2015-16 stalking + harassment 12,986 (cps_hs_prosecutions_fy2015_16); from
#: docs/sources.md, section 3, not checked against a CPS table: 2013-14 stalking 743
#: and harassment 9,792, 2012-13 stalking + harassment 8,648, and +15.1% in 2014-15
#: (12,126 in all).
PUBLISHED_PROSECUTIONS = {
    (2012, STALKING): 96,  # invented split of the published 8,648
    (2012, HARASSMENT): 8_552,
    (2013, STALKING): 743,
    (2013, HARASSMENT): 9_792,
    (2014, STALKING): 1_103,
    (2014, HARASSMENT): 11_023,  # 12,126 - 1,103
    (2015, STALKING): 1_102,
    (2015, HARASSMENT): 11_884,  # 12,986 - 1,102
}
# fmt: off
INVENTED_PROSECUTIONS = {
    STALKING: {2016: 1_180, 2017: 1_650, 2018: 2_150, 2019: 2_550, 2020: 2_700, 2021: 3_050,
               2022: 3_300, 2023: 3_450, 2024: 3_550},
    HARASSMENT: {2016: 12_100, 2017: 11_600, 2018: 11_200, 2019: 10_400, 2020: 9_300, 2021: 9_900,
                 2022: 9_600, 2023: 9_700, 2024: 9_800},
}
# fmt: on
#: Conviction rate around which each Area's rate is drawn, per offence.
CONVICTION_RATE = {STALKING: 0.71, HARASSMENT: 0.74}
RATE_SIGMA = 0.03
RATE_BOUNDS = (0.62, 0.82)
AREA_NOISE = 0.06
LEVEL_NOISE = 0.02


def national_prosecutions(year: int, offence: str, rng: random.Random) -> int:
    """Published where there is a figure, otherwise the invented level with a little noise."""
    if (year, offence) in PUBLISHED_PROSECUTIONS:
        return PUBLISHED_PROSECUTIONS[(year, offence)]
    return round(INVENTED_PROSECUTIONS[offence][year] * rng.lognormvariate(0.0, LEVEL_NOISE))


def areas(year: int) -> list[str]:
    """CPS Area names in force that financial year, alphabetically."""
    names = [a for a in AREA_FORCES if a != "London"]
    names += ["London"] if year < LONDON_SPLIT_YEAR else ["London North", "London South"]
    return sorted(names)


def area_sizes(forces: Sequence[Force], year: int) -> dict[str, float]:
    known = {f.area_code for f in forces}
    sizes = {
        area: sum(size_of(code) for code in codes if code in known) for area, codes in AREA_FORCES.items()
    }
    if year >= LONDON_SPLIT_YEAR:
        london = sizes.pop("London")
        sizes["London North"] = london * LONDON_NORTH_SHARE
        sizes["London South"] = london * (1 - LONDON_NORTH_SHARE)
    return sizes


def rows(forces: Sequence[Force], seed: int = SEED) -> list[list[object]]:
    """Data rows: per year, the National rows then each Area's, stalking before harassment."""
    rng = stream(seed, "cps")
    out: list[list[object]] = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        names = areas(year)
        sizes = area_sizes(forces, year)
        by_area: dict[tuple[str, str], tuple[int, int]] = {}
        for offence in (STALKING, HARASSMENT):
            weights = [sizes[a] * rng.lognormvariate(0.0, AREA_NOISE) for a in names]
            for area, prosecutions in zip(
                names, allocate(national_prosecutions(year, offence, rng), weights), strict=True
            ):
                low, high = RATE_BOUNDS
                rate = min(max(rng.gauss(CONVICTION_RATE[offence], RATE_SIGMA), low), high)
                by_area[(area, offence)] = (prosecutions, round(prosecutions * rate))
        fy = financial_year_label(year, "-")
        for area in [NATIONAL, *names]:
            for offence in (STALKING, HARASSMENT):
                if area == NATIONAL:
                    prosecutions = sum(by_area[(a, offence)][0] for a in names)
                    convictions = sum(by_area[(a, offence)][1] for a in names)
                else:
                    prosecutions, convictions = by_area[(area, offence)]
                shown: object = round(100 * convictions / prosecutions, 1) if prosecutions else "-"
                out.append([fy, area, offence, prosecutions, convictions, shown])
    return out


def write(out_dir: Path, forces: Sequence[Force], seeds_dir: Path, seed: int = SEED) -> list[Path]:
    """Write the CPS workbook; return its path."""
    names = {a: None for y in (FIRST_YEAR, LAST_YEAR) for a in areas(y)} | {NATIONAL: NATIONAL_CODE}
    check_spellings(seeds_dir, names, "cps_area_name_variants.csv", "cps_area_code")
    data = Sheet(
        SHEET_NAME,
        [
            [title(seed, "CPS prosecutions and convictions for stalking and harassment; invented figures.")],
            [
                "Stalking and harassment: prosecutions (offences charged reaching a first hearing), convictions "
                "and conviction rate by CPS Area, 2012-13 to 2024-25"
            ],
            list(HEADER),
            *rows(forces, seed),
        ],
        widths={"A": 14, "B": 26, "C": 12, "D": 13, "E": 13, "F": 15},
        bold_rows=frozenset({1, 2, 3}),
        one_decimal=frozenset({"F"}),
    )
    notes = [
        [title(seed, "CPS prosecutions and convictions for stalking and harassment; invented figures.")],
        [],
        ["A synthetic stand-in for CPS violence against women and girls data on stalking and harassment."],
        [
            "National prosecutions match published figures for 2012-13 to 2015-16 (see the sample README); "
            "figures by CPS Area and everything after 2015-16 are invented."
        ],
        ["National is the sum of the CPS Areas. Conviction Rate is convictions / prosecutions, in per cent."],
        ["London is one CPS Area until 2016-17, then London North and London South."],
    ]
    book = xlsx_bytes(
        [Sheet("Notes", notes, widths={"A": 110}), data], "Synthetic CPS stalking and harassment data"
    )
    return [write_bytes(Path(out_dir) / FILE_NAME, book)]
