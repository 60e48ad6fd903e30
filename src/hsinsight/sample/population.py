"""ONS mid-year population estimates by police force area (``ons_mye_pfa_v1``).

One workbook, ``Notes`` plus one sheet per mid-year (``Mid-2012`` ... ``Mid-2024``),
each with a synthetic-data title row, a title row naming the year ("... mid-2016")
and the header ``Code, Name, Geography, Sex, Age group, Population`` (the
platform's long form of the layout): persons of all ages for England and Wales
(K04000001, the sum of the forces) and the 43 territorial police force areas, then
England and Wales males, females and persons aged 16 to 59, the populations the
Crime Survey's prevalence for adults aged 16-59 applies to. British Transport
Police has no resident population and no row.

The estimates are invented but close to real magnitudes: England and Wales follows
``ENGLAND_AND_WALES`` (about 56.9 million in mid-2012 to 61.8 million in mid-2024),
shared between forces in proportion to their synthetic size in the recorded crime
table (so rates per 1,000 are plausible), each force growing at its own pace. City
of London is given its real order of magnitude (under 10,000 residents) rather than
its size weight, so its rates per 1,000 are as extreme as in the real data. The
population aged 16 to 59 is a share of England and Wales (``AGED_16_TO_59_SHARE``,
59.6% in mid-2012 falling to about 58.2% in mid-2024 as the population ages), split
between males and females by ``MALE_SHARE_16_TO_59``; persons = males + females.
No random numbers are drawn for it, so the all-ages figures are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from hsinsight.names import NATIONAL_CODE, NATIONAL_NAME
from hsinsight.sample.common import (
    FIRST_YEAR,
    LAST_YEAR,
    SEED,
    Force,
    Sheet,
    allocate,
    size_of,
    stream,
    title,
    write_bytes,
    xlsx_bytes,
)

FILE_NAME = "ons-mid-year-population-estimates-pfa-mid-2012-to-mid-2024-synthetic.xlsx"
HEADER = ("Code", "Name", "Geography", "Sex", "Age group", "Population")
ALL_AGES = "All ages"
AGED_16_TO_59 = "Aged 16 to 59"
#: Synthetic England and Wales population at each mid-year.
# fmt: off
ENGLAND_AND_WALES = {
    2012: 56_900_000, 2013: 57_250_000, 2014: 57_650_000, 2015: 58_080_000, 2016: 58_520_000,
    2017: 58_860_000, 2018: 59_200_000, 2019: 59_500_000, 2020: 59_750_000, 2021: 59_900_000,
    2022: 60_350_000, 2023: 60_950_000, 2024: 61_800_000,
}
# fmt: on
CITY_OF_LONDON = "E23000034"
CITY_OF_LONDON_2012 = 7_600
CITY_OF_LONDON_GROWTH = 0.012
#: Each force's yearly growth: mean, spread (log scale); plus a little yearly noise.
GROWTH_MEAN = 0.006
GROWTH_SIGMA = 0.003
YEAR_NOISE = 0.0015
ONS_SPELLING = {"E23000034": "London, City of", "E23000035": "Devon & Cornwall"}
#: Share of the England and Wales population aged 16 to 59 in mid-2012, and its
#: yearly fall as the population ages.
AGED_16_TO_59_SHARE = 0.596
AGED_16_TO_59_SHARE_FALL = 0.0012
#: Share of males among people aged 16 to 59.
MALE_SHARE_16_TO_59 = 0.4985


def aged_16_to_59(all_ages: int, year: int) -> dict[str, int]:
    """England and Wales aged 16 to 59 by sex (``Males``, ``Females``, ``Persons``),
    from its all-ages population: persons = males + females."""
    persons = round(all_ages * (AGED_16_TO_59_SHARE - AGED_16_TO_59_SHARE_FALL * (year - FIRST_YEAR)))
    males = round(persons * MALE_SHARE_16_TO_59)
    return {"Males": males, "Females": persons - males, "Persons": persons}


def estimates(forces: Sequence[Force], seed: int = SEED) -> dict[int, dict[str, int]]:
    """Population per mid-year and area code (territorial forces only)."""
    rng = stream(seed, "population")
    territorial = [f for f in forces if f.is_territorial]
    growth = {f.area_code: rng.gauss(GROWTH_MEAN, GROWTH_SIGMA) for f in territorial}
    result: dict[int, dict[str, int]] = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        city = round(CITY_OF_LONDON_2012 * math.exp(CITY_OF_LONDON_GROWTH * (year - FIRST_YEAR)))
        others = [f for f in territorial if f.area_code != CITY_OF_LONDON]
        weights = [
            size_of(f.area_code) * math.exp(growth[f.area_code] * (year - 2016) + rng.gauss(0.0, YEAR_NOISE))
            for f in others
        ]
        shares = allocate(ENGLAND_AND_WALES[year] - city, weights)
        # Unround the England and Wales figure a little, as a sum of estimates would be.
        jitter = [round(rng.gauss(0.0, 400)) for _ in others]
        result[year] = {f.area_code: n + j for f, n, j in zip(others, shares, jitter, strict=True)}
        result[year][CITY_OF_LONDON] = city
    return result


def sheet_name(year: int) -> str:
    return f"Mid-{year}"


def write(out_dir: Path, forces: Sequence[Force], seed: int = SEED) -> list[Path]:
    """Write the population workbook; return its path."""
    data = estimates(forces, seed)
    ordered = sorted((f for f in forces if f.is_territorial), key=lambda f: f.area_code)
    names = {f.area_code: ONS_SPELLING.get(f.area_code, f.name) for f in ordered}
    notes = [
        [title(seed, "Mid-year population estimates by police force area; invented figures.")],
        [],
        ["A synthetic stand-in for ONS mid-year population estimates aggregated to police force areas."],
        ["One sheet per mid-year (30 June). England and Wales is the sum of the 43 police force areas."],
        ["Persons of all ages for every area; England and Wales also by sex, aged 16 to 59."],
        ["British Transport Police has no resident population and no row."],
    ]
    sheets = [Sheet("Notes", notes, widths={"A": 110})]
    for year in sorted(data):
        england_and_wales = sum(data[year].values())
        rows: list[list[object]] = [
            [title(seed, f"Population of police force areas at mid-{year}; invented figures.")],
            [f"Mid-year population estimates, police force areas in England and Wales, mid-{year}"],
            list(HEADER),
            [NATIONAL_CODE, NATIONAL_NAME, "Country", "Persons", ALL_AGES, england_and_wales],
        ]
        rows += [
            [
                f.area_code,
                names[f.area_code],
                "Police Force Area",
                "Persons",
                ALL_AGES,
                data[year][f.area_code],
            ]
            for f in ordered
        ]
        rows += [
            [NATIONAL_CODE, NATIONAL_NAME, "Country", sex, AGED_16_TO_59, n]
            for sex, n in aged_16_to_59(england_and_wales, year).items()
        ]
        sheets.append(
            Sheet(
                sheet_name(year),
                rows,
                widths={"A": 12, "B": 26, "C": 18, "D": 10, "E": 14, "F": 14},
                bold_rows=frozenset({1, 2, 3}),
            )
        )
    book = xlsx_bytes(sheets, "Synthetic mid-year population estimates by police force area")
    return [write_bytes(Path(out_dir) / FILE_NAME, book)]
