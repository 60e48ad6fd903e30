"""Crime Survey for England and Wales prevalence of stalking (``csew_prevalence_v1``).

One workbook: ``Notes`` and a data sheet ``Table S1`` (synthetic-data title row,
title, note row, then the header ``Survey year, Behaviour, Measure, Age group, Sex,
Percentage, Lower 95% confidence interval, Upper 95% confidence interval, Unweighted
base``), one row per survey year (year ending March, written ``2015/16``) x behaviour
x measure x sex, adults aged 16 to 59.

Only one figure is published: stalking and/or harassment since the age of 16, all
adults, year ending March 2016 = 15.0% (``csew_stalking_harassment_since_16_ye_mar2016``).
The rest is invented near the real orders of magnitude: stalking since 16 about one
woman in five and one man in ten, stalking in the last year between 3.5% and 4.7% of
adults. No row for 2020/21, when the survey ran by telephone without its
self-completion module.
"""

from __future__ import annotations

import math
from pathlib import Path

from hsinsight.sample.common import SEED, Sheet, financial_year_label, stream, title, write_bytes, xlsx_bytes

FILE_NAME = "csew-stalking-prevalence-2012-13-to-2023-24-synthetic.xlsx"
SHEET_NAME = "Table S1"
HEADER = (
    "Survey year",
    "Behaviour",
    "Measure",
    "Age group",
    "Sex",
    "Percentage",
    "Lower 95% confidence interval",
    "Upper 95% confidence interval",
    "Unweighted base",
)
AGE_GROUP = "16-59"
STALKING = "Stalking"
STALKING_OR_HARASSMENT = "Stalking and/or harassment"
LAST_YEAR = "In the last year"
SINCE_16 = "Since the age of 16"
SEXES = ("Men", "Women", "All adults")
#: Survey years (start year of the year ending March); 2020/21 has no estimates.
YEARS = (2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023)
#: Weight of women in an all-adults figure.
WOMEN_SHARE = 0.505

# fmt: off
#: Stalking in the last year, all adults (%).
LAST_YEAR_ALL = {2012: 4.1, 2013: 4.0, 2014: 4.2, 2015: 4.1, 2016: 4.2, 2017: 4.5, 2018: 4.7,
                 2019: 4.6, 2021: 4.3, 2022: 4.0, 2023: 3.8}
LAST_YEAR_WOMEN_RATIO, LAST_YEAR_MEN_RATIO = 1.27, 0.73
#: Stalking since the age of 16 (%), women and men.
SINCE_16_WOMEN = {2012: 19.4, 2013: 19.6, 2014: 19.5, 2015: 19.6, 2016: 19.9, 2017: 20.3, 2018: 20.8,
                  2019: 21.0, 2021: 20.6, 2022: 20.4, 2023: 20.2}
SINCE_16_MEN = {2012: 9.2, 2013: 9.1, 2014: 9.3, 2015: 9.0, 2016: 9.4, 2017: 9.6, 2018: 9.9,
                2019: 10.1, 2021: 9.5, 2022: 9.0, 2023: 8.7}
#: Stalking and/or harassment since 16 = stalking since 16 plus these points (women, men).
HARASSMENT_EXTRA = {2015: (0.7, 0.6)}
DEFAULT_HARASSMENT_EXTRA = (0.8, 0.6)
#: Unweighted base, women (men about 86% of it).
WOMEN_BASE = {2012: 12_400, 2013: 11_900, 2014: 12_100, 2015: 11_600, 2016: 11_200, 2017: 10_800,
              2018: 10_500, 2019: 10_200, 2021: 7_400, 2022: 8_600, 2023: 8_200}
# fmt: on
MEN_BASE_RATIO = 0.86
DESIGN_FACTOR = 1.2

#: The published figure the sample reproduces: (year, behaviour, measure, sex) -> %.
PUBLISHED = {(2015, STALKING_OR_HARASSMENT, SINCE_16, "All adults"): 15.0}


def _all_adults(women: float, men: float) -> float:
    return round(WOMEN_SHARE * women + (1 - WOMEN_SHARE) * men, 1)


def estimates() -> dict[tuple[int, str, str], dict[str, float]]:
    """Percentages per (year, behaviour, measure) and sex."""
    table: dict[tuple[int, str, str], dict[str, float]] = {}
    for year in YEARS:
        everyone = LAST_YEAR_ALL[year]
        table[(year, STALKING, LAST_YEAR)] = {
            "Men": round(everyone * LAST_YEAR_MEN_RATIO, 1),
            "Women": round(everyone * LAST_YEAR_WOMEN_RATIO, 1),
            "All adults": everyone,
        }
        women, men = SINCE_16_WOMEN[year], SINCE_16_MEN[year]
        table[(year, STALKING, SINCE_16)] = {
            "Men": men,
            "Women": women,
            "All adults": _all_adults(women, men),
        }
        extra_women, extra_men = HARASSMENT_EXTRA.get(year, DEFAULT_HARASSMENT_EXTRA)
        women, men = round(women + extra_women, 1), round(men + extra_men, 1)
        table[(year, STALKING_OR_HARASSMENT, SINCE_16)] = {
            "Men": men,
            "Women": women,
            "All adults": _all_adults(women, men),
        }
    for (year, behaviour, measure, sex), value in PUBLISHED.items():
        if table[(year, behaviour, measure)][sex] != value:
            raise ValueError(f"{behaviour}, {measure}, {sex}, {year}: {value} expected")
    return table


def rows(seed: int = SEED) -> list[list[object]]:
    rng = stream(seed, "csew")
    out: list[list[object]] = []
    for (year, behaviour, measure), by_sex in estimates().items():
        women_base = WOMEN_BASE[year] + round(rng.gauss(0.0, 60))
        bases = {"Women": women_base, "Men": round(women_base * MEN_BASE_RATIO) + round(rng.gauss(0.0, 50))}
        bases["All adults"] = bases["Women"] + bases["Men"]
        for sex in SEXES:
            p, n = by_sex[sex], bases[sex]
            half = 1.96 * DESIGN_FACTOR * 100 * math.sqrt((p / 100) * (1 - p / 100) / n)
            out.append(
                [
                    financial_year_label(year), behaviour, measure, AGE_GROUP, sex, p,
                    round(p - half, 1), round(p + half, 1), n,
                ]
            )  # fmt: skip
    return out


def write(out_dir: Path, seed: int = SEED) -> list[Path]:
    """Write the prevalence workbook; return its path."""
    data = Sheet(
        SHEET_NAME,
        [
            [title(seed, "Crime Survey for England and Wales prevalence of stalking; invented figures.")],
            [
                "Table S1: Prevalence of stalking and harassment among adults aged 16 to 59, by sex, "
                "England and Wales, year ending March 2013 to year ending March 2024"
            ],
            [
                "Percentages of adults. No estimates for the year ending March 2021: the survey ran by "
                "telephone without its self-completion module."
            ],
            list(HEADER),
            *rows(seed),
        ],
        widths={"A": 12, "B": 26, "C": 20, "E": 12, "F": 12, "G": 16, "H": 16, "I": 14},
        bold_rows=frozenset({1, 2, 4}),
        one_decimal=frozenset({"F", "G", "H"}),
    )
    notes = [
        [title(seed, "Crime Survey for England and Wales prevalence of stalking; invented figures.")],
        [],
        [
            "A synthetic stand-in for the ONS stalking prevalence tables from the Crime Survey for England and Wales."
        ],
        [
            "Published figure reproduced: stalking and/or harassment since the age of 16, adults aged 16 to 59, "
            "year ending March 2016: 15.0%. Everything else is invented."
        ],
    ]
    book = xlsx_bytes([Sheet("Notes", notes, widths={"A": 110}), data], "Synthetic CSEW stalking prevalence")
    return [write_bytes(Path(out_dir) / FILE_NAME, book)]
