"""Ministry of Justice Outcomes by Offence: court outcomes and restraining orders by
police force area (``moj_court_outcomes_pfa_v1`` and ``moj_restraining_orders_v1``).

One zip archive, as the MoJ ships its data-tool CSVs, holding two CSV files, each
opening with a synthetic-data title row above its header:

``court-outcomes-by-pfa-2012-2024-synthetic.csv``
    One row per police force area (MoJ spellings, ``Not known`` included) x year of
    appearance x sex x court type x offence x convicted/not convicted x outcome x
    custodial sentence length, non-zero counts only. Category values carry the
    ``NN: `` prefix; ``Offence`` is the text label without a code. Every defendant
    appears once, under their final outcome: prosecuted = all rows, convicted =
    ``01: Convicted`` rows, sentenced = ``01: Sentenced`` rows (here every convicted
    defendant is sentenced). Adults only (``01: Adults``).
``restraining-orders-by-pfa-2012-2024-synthetic.csv``
    Restraining orders issued on conviction and on acquittal per police force area
    and year, all offences.

England and Wales totals (all police force areas, ``Not known`` included) equal the
published figures listed in ``OFFENCES`` (prosecuted), ``PUBLISHED_CONVICTED``, ``LONG_CUSTODY`` and
``RESTRAINING_ORDERS``; the split by area, sex, court and outcome, and every other
year, are invented. Custody at magistrates' courts is at most 6 months, and summary
offences (s2, s2A) are tried there only.
"""

from __future__ import annotations

import random
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hsinsight.sample.common import (
    FIRST_YEAR,
    LAST_YEAR,
    SEED,
    Force,
    allocate,
    check_spellings,
    csv_bytes,
    scatter,
    size_of,
    stream,
    title,
    write_bytes,
    zip_bytes,
)

FILE_NAME = "moj-outcomes-by-offence-2012-2024-synthetic.zip"
COURT_OUTCOMES_MEMBER = "court-outcomes-by-pfa-2012-2024-synthetic.csv"
RESTRAINING_ORDERS_MEMBER = "restraining-orders-by-pfa-2012-2024-synthetic.csv"

COURT_HEADER = (
    "Police Force Area",
    "Year of Appearance",
    "Sex",
    "Age Group",
    "Court Type",
    "Offence Type",
    "Offence Group",
    "Offence",
    "Convicted/Not Convicted",
    "Sentenced/Not Sentenced",
    "Outcome",
    "Custodial Sentence Length",
    "Count",
)
ORDERS_HEADER = (
    "Year",
    "Police Force Area",
    "Offence",
    "Restraining orders issued on conviction",
    "Restraining orders issued on acquittal",
)

MALE, FEMALE = "01: Male", "02: Female"
ADULTS = "01: Adults"
CROWN, MAGISTRATES = "01: Crown Court", "02: Magistrates Court"
CONVICTED, NOT_CONVICTED = "01: Convicted", "02: Not convicted"
SENTENCED, NOT_SENTENCED = "01: Sentenced", "02: Not sentenced"
DISMISSED, WITHDRAWN, ACQUITTED = "01: Dismissed", "02: Withdrawn", "03: Acquitted"
ABSOLUTE, CONDITIONAL, FINE = "10: Absolute discharge", "11: Conditional discharge", "12: Fine"
COMMUNITY, SUSPENDED, CUSTODY = "13: Community sentence", "14: Suspended sentence", "15: Immediate custody"
OTHERWISE = "16: Otherwise dealt with"
SUMMARY = ("03: Summary non-motoring", "11: Summary non-motoring")
EITHER_WAY_VIOLENCE = ("02: Triable either way", "01: Violence against the person")
EITHER_WAY_MISCELLANEOUS = ("02: Triable either way", "09: Miscellaneous crimes against society")

#: Custodial sentence length bands; magistrates' courts sentence within the first.
UP_TO_6_MONTHS = "01: Up to and including 6 months"
LENGTHS = (
    UP_TO_6_MONTHS,
    "02: More than 6 months and up to 9 months",
    "03: More than 9 months and less than 12 months",
    "04: 12 months",
    "05: More than 12 months and up to 18 months",
    "06: More than 18 months and up to 2 years",
    "07: More than 2 years and up to 3 years",
    "08: More than 3 years and up to 5 years",
    "09: More than 5 years",
)
TWELVE_MONTHS = LENGTHS[3]
#: Bands of more than 12 months (MAPPA category 2 counts sentences of 12 months or
#: more; band 04 is left empty where LONG_CUSTODY calibrates, so both readings agree).
LONG = LENGTHS[4:]
#: s4 and s4A maximum raised from 5 to 10 years (Policing and Crime Act 2017).
TEN_YEAR_MAXIMUM_FROM = 2017

NOT_KNOWN = "Not known"
#: MoJ spellings that differ from forces.csv (each listed in force_name_variants.csv).
MOJ_SPELLING = {
    "E23000034": "City of London",
    "E23000035": "Devon & Cornwall",
    "E23000036": "Avon & Somerset",
    "W15000004": "Dyfed Powys",
}
NOT_KNOWN_WEIGHT = 0.03  # as a force size


@dataclass(frozen=True)
class CourtOffence:
    key: str
    label: str  # the Offence value, without a code
    kind: tuple[str, str]  # (Offence Type, Offence Group)
    first_year: int
    prosecuted: dict[int, int]  # England and Wales, calendar year
    conviction_ratio: float  # where PUBLISHED_CONVICTED has no count
    crown_share: float  # share of convicted defendants dealt with at the Crown Court
    male_share: float
    magistrates: dict[str, float]  # sentence outcome weights
    crown: dict[str, float]
    crown_lengths: dict[str, float]  # custodial length weights at the Crown Court

    @property
    def summary(self) -> bool:
        return self.kind == SUMMARY


_SUMMARY_HARASSMENT = {ABSOLUTE: .02, CONDITIONAL: .20, FINE: .20, COMMUNITY: .32, SUSPENDED: .14, CUSTODY: .08,
                       OTHERWISE: .04}  # fmt: skip
_SUMMARY_STALKING = {ABSOLUTE: .01, CONDITIONAL: .12, FINE: .12, COMMUNITY: .34, SUSPENDED: .22, CUSTODY: .16,
                     OTHERWISE: .03}  # fmt: skip
_MAGISTRATES_VIOLENCE = {ABSOLUTE: .01, CONDITIONAL: .09, FINE: .09, COMMUNITY: .34, SUSPENDED: .26, CUSTODY: .17,
                         OTHERWISE: .04}  # fmt: skip
_CROWN_VIOLENCE = {
    CONDITIONAL: 0.02,
    FINE: 0.01,
    COMMUNITY: 0.14,
    SUSPENDED: 0.31,
    CUSTODY: 0.50,
    OTHERWISE: 0.02,
}
_MAGISTRATES_BREACH = {ABSOLUTE: .01, CONDITIONAL: .10, FINE: .26, COMMUNITY: .20, SUSPENDED: .15, CUSTODY: .24,
                       OTHERWISE: .04}  # fmt: skip
_CROWN_BREACH = {FINE: 0.03, COMMUNITY: 0.15, SUSPENDED: 0.25, CUSTODY: 0.55, OTHERWISE: 0.02}
_S4_LENGTHS = dict(zip(LENGTHS, (0.18, 0.15, 0.12, 0.13, 0.18, 0.11, 0.08, 0.05, 0.01), strict=True))
_S4A_LENGTHS = dict(zip(LENGTHS, (0.10, 0.12, 0.10, 0.12, 0.20, 0.15, 0.12, 0.07, 0.02), strict=True))
_BREACH_LENGTHS = dict(zip(LENGTHS[:8], (0.30, 0.20, 0.12, 0.13, 0.13, 0.07, 0.04, 0.01), strict=True))


def _years(first: int, values: Sequence[int]) -> dict[int, int]:
    return dict(zip(range(first, LAST_YEAR + 1), values, strict=True))


# England and Wales defendants prosecuted. Published (published_figures.csv):
# s2 + s4 = 7,875 (2014) and 8,419 (2015) (moj_s2_s4_prosecuted_*; the split is
# invented); s2A 509 and 481; s4A fear 94 and 74; s4A distress 218 and 225; breach
# of a restraining order 8,506 and 9,594.
# fmt: off
OFFENCES = (
    CourtOffence(
        "s2", "Protection from Harassment Act 1997 S.2 - Summary offence of harassment", SUMMARY, FIRST_YEAR,
        _years(FIRST_YEAR, (6150, 6000, 6085, 6549, 6800, 6600, 6350, 6000, 4900, 5400, 5200, 5300, 5350)),
        0.64, 0.0, 0.84, _SUMMARY_HARASSMENT, {}, {},
    ),
    CourtOffence(
        "s2a", "Pursue course of conduct in breach of prohibition of harassment, which amounts to stalking",
        SUMMARY, 2013,
        _years(2013, (310, 509, 481, 500, 600, 720, 800, 760, 900, 980, 1020, 1050)),
        0.70, 0.0, 0.88, _SUMMARY_STALKING, {}, {},
    ),
    CourtOffence(
        "s4", "Other harassment - Putting people in fear of violence", EITHER_WAY_VIOLENCE, FIRST_YEAR,
        _years(FIRST_YEAR, (1900, 1850, 1790, 1870, 1950, 2000, 1950, 1900, 1600, 1750, 1700, 1700, 1720)),
        0.66, 0.30, 0.90, _MAGISTRATES_VIOLENCE, _CROWN_VIOLENCE, _S4_LENGTHS,
    ),
    CourtOffence(
        "s4a_fear", "Stalking involving fear of violence", EITHER_WAY_VIOLENCE, 2013,
        _years(2013, (55, 94, 74, 95, 140, 190, 230, 220, 280, 300, 320, 330)),
        0.60, 0.60, 0.91, _MAGISTRATES_VIOLENCE, _CROWN_VIOLENCE, _S4A_LENGTHS,
    ),
    CourtOffence(
        "s4a_distress", "Stalking involving serious alarm or distress", EITHER_WAY_VIOLENCE, 2013,
        _years(2013, (110, 218, 225, 250, 360, 480, 580, 550, 690, 760, 800, 830)),
        0.67, 0.50, 0.91, _MAGISTRATES_VIOLENCE, _CROWN_VIOLENCE, _S4A_LENGTHS,
    ),
    CourtOffence(
        "breach_ro", "Breach of a restraining order", EITHER_WAY_MISCELLANEOUS, FIRST_YEAR,
        _years(FIRST_YEAR, (7200, 7700, 8506, 9594, 10300, 10900, 11400, 11800, 10200, 11900, 12300, 12600,
                            12800)),
        0.89, 0.07, 0.93, _MAGISTRATES_BREACH, _CROWN_BREACH, _BREACH_LENGTHS,
    ),
    # Outside the platform's offences: ingest keeps it, the marts leave it out.
    CourtOffence(
        "breach_nmo", "Breach of a non-molestation order", EITHER_WAY_MISCELLANEOUS, FIRST_YEAR,
        _years(FIRST_YEAR, (3100, 3300, 3600, 3900, 4100, 4300, 4500, 4700, 4300, 4900, 5000, 5100, 5200)),
        0.87, 0.06, 0.92, _MAGISTRATES_BREACH, _CROWN_BREACH, _BREACH_LENGTHS,
    ),
)
# fmt: on

#: Published England and Wales defendants convicted (published_figures.csv): exact
#: counts, or counts whose ratio to prosecuted rounds to the published conviction
#: ratio (s2A: 68% and 70%; s4A fear: 40% and 61%).
PUBLISHED_CONVICTED = {
    ("s2a", 2014): 346,  # 346 / 509 = 68.0% (moj_s2a_conviction_ratio_2014)
    ("s2a", 2015): 337,  # 337 / 481 = 70.1% (moj_s2a_conviction_ratio_2015)
    ("s4a_fear", 2014): 38,  # 38 / 94 = 40.4% (moj_s4a_fear_conviction_ratio_2014)
    ("s4a_fear", 2015): 45,  # 45 / 74 = 60.8% (moj_s4a_fear_conviction_ratio_2015)
    ("s4a_distress", 2014): 109,  # moj_s4a_distress_convicted_2014 (50%)
    ("s4a_distress", 2015): 149,  # moj_s4a_distress_convicted_2015 (66%)
    ("breach_ro", 2014): 7543,  # moj_ro_breach_convicted_2014
    ("breach_ro", 2015): 8631,  # moj_ro_breach_convicted_2015
}
#: Defendants sentenced to immediate custody of more than 12 months, England and
#: Wales (moj_mappa_stalking_12m_plus_2016: s2A + s4A = 37, of which s2A none as a
#: summary offence; moj_mappa_harassment_12m_plus_2016: s4 = 93).
LONG_CUSTODY = {(("s4a_fear", "s4a_distress"), 2016): 37, (("s4",), 2016): 93}
#: Restraining orders issued, England and Wales: (on conviction, on acquittal).
#: 2014 and 2015 published (moj_ro_on_conviction_*, moj_ro_on_acquittal_*); 2013's
#: total is the 20,356 of a parliamentary answer (split invented); the rest invented.
# fmt: off
RESTRAINING_ORDERS = {
    2012: (17_200, 1_450), 2013: (18_560, 1_796), 2014: (19_410, 2_062), 2015: (20_693, 2_328),
    2016: (21_500, 2_480), 2017: (22_100, 2_600), 2018: (22_700, 2_750), 2019: (23_000, 2_850),
    2020: (19_900, 2_450), 2021: (22_500, 2_900), 2022: (23_300, 3_000), 2023: (23_800, 3_050),
    2024: (24_200, 3_100),
}
# fmt: on
#: Years whose England and Wales prosecutions (and restraining orders) are kept exactly
#: as listed; other years get yearly noise on the listed level and conviction ratio.
PUBLISHED_YEARS = (2014, 2015)
ORDERS_FIXED_YEARS = (2013, 2014, 2015)
LEVEL_NOISE = 0.025
RATIO_NOISE = 0.015
#: Share of not-convicted defendants at the Crown Court, relative to the convicted.
CROWN_NOT_CONVICTED = 0.8
NOT_CONVICTED_MAGISTRATES = {DISMISSED: 0.35, WITHDRAWN: 0.65}
NOT_CONVICTED_CROWN = {WITHDRAWN: 0.4, ACQUITTED: 0.6}
#: Spread (log scale) of each area's caseload per offence, its yearly noise, and its
#: leaning towards conviction and towards custody.
AREA_SIGMA, YEAR_SIGMA, CONVICTION_SIGMA, CUSTODY_SIGMA = 0.2, 0.05, 0.08, 0.2

#: One category of defendants: (sex, court, convicted, sentenced, outcome, length).
Category = tuple[str, str, str, str, str, str]


def pfa_names(forces: Sequence[Force]) -> dict[str, str]:
    """Area code -> MoJ spelling, for the 43 territorial police force areas."""
    return {f.area_code: MOJ_SPELLING.get(f.area_code, f.name) for f in forces if f.is_territorial}


def national_totals(offence: CourtOffence, year: int, rng: random.Random) -> tuple[int, int]:
    """England and Wales (prosecuted, convicted): published where there is a figure,
    otherwise the offence's level and conviction ratio with a little yearly noise."""
    prosecuted = offence.prosecuted[year]
    if year not in PUBLISHED_YEARS:
        prosecuted = round(prosecuted * rng.lognormvariate(0.0, LEVEL_NOISE))
    ratio = offence.conviction_ratio + rng.gauss(0.0, RATIO_NOISE)
    convicted = PUBLISHED_CONVICTED.get((offence.key, year), round(prosecuted * ratio))
    return prosecuted, convicted


def _split(total: int, weights: dict[str, float]) -> dict[str, int]:
    names = list(weights)
    return dict(zip(names, allocate(total, [weights[n] for n in names]), strict=True))


def _lengths(offence: CourtOffence, year: int, custody: int, long: int | None) -> dict[str, int]:
    """Crown Court custody split into length bands; ``long`` fixes the total above 12 months."""
    weights = {
        k: w for k, w in offence.crown_lengths.items() if k != LENGTHS[8] or year >= TEN_YEAR_MAXIMUM_FROM
    }
    if long is None:
        return _split(custody, weights)
    if long > custody:
        raise ValueError(f"{offence.key} {year}: {long} long sentences but only {custody} custodial")
    short = {k: w for k, w in weights.items() if k not in LONG and k != TWELVE_MONTHS}
    return _split(custody - long, short) | _split(long, {k: w for k, w in weights.items() if k in LONG})


def national_categories(seed: int = SEED) -> dict[tuple[str, int], dict[Category, int]]:
    """England and Wales defendants per (offence, year) and category."""
    rng = stream(seed, "moj:national")
    result: dict[tuple[str, int], dict[Category, int]] = {}
    # Crown Court custody first, so the long-sentence totals can be shared between offences.
    plans = {}
    for offence in OFFENCES:
        for year in offence.prosecuted:
            prosecuted, convicted = national_totals(offence, year, rng)
            crown, magistrates = allocate(convicted, [offence.crown_share, 1 - offence.crown_share])
            crown_outcomes = _split(crown, offence.crown) if crown else {}
            plans[(offence.key, year)] = (prosecuted, convicted, crown_outcomes, magistrates)
    long_totals: dict[tuple[str, int], int] = {}
    for (keys, year), long in LONG_CUSTODY.items():
        custody = [plans[(k, year)][2].get(CUSTODY, 0) for k in keys]
        for key, part in zip(keys, allocate(long, custody), strict=True):
            long_totals[(key, year)] = part
    for offence in OFFENCES:
        for year in offence.prosecuted:
            prosecuted, convicted, crown_outcomes, magistrates = plans[(offence.key, year)]
            counts: dict[tuple[str, str, str, str, str], int] = {}
            for outcome, n in _split(magistrates, offence.magistrates).items():
                counts[
                    (MAGISTRATES, CONVICTED, SENTENCED, outcome, UP_TO_6_MONTHS if outcome == CUSTODY else "")
                ] = n
            for outcome, n in crown_outcomes.items():
                if outcome == CUSTODY:
                    bands = _lengths(offence, year, n, long_totals.get((offence.key, year)))
                    for band, m in bands.items():
                        counts[(CROWN, CONVICTED, SENTENCED, CUSTODY, band)] = m
                else:
                    counts[(CROWN, CONVICTED, SENTENCED, outcome, "")] = n
            acquitted = prosecuted - convicted
            crown_share = 0.0 if offence.summary else min(offence.crown_share * CROWN_NOT_CONVICTED, 1.0)
            crown, magistrates_nc = allocate(acquitted, [crown_share, 1 - crown_share])
            for outcome, n in _split(magistrates_nc, NOT_CONVICTED_MAGISTRATES).items():
                counts[(MAGISTRATES, NOT_CONVICTED, NOT_SENTENCED, outcome, "")] = n
            for outcome, n in _split(crown, NOT_CONVICTED_CROWN).items():
                counts[(CROWN, NOT_CONVICTED, NOT_SENTENCED, outcome, "")] = n
            categories: dict[Category, int] = {}
            for (court, conv, sent, outcome, length), n in counts.items():
                male, female = scatter(rng, n, [offence.male_share, 1 - offence.male_share])
                for sex, m in ((MALE, male), (FEMALE, female)):
                    if m:
                        categories[(sex, court, conv, sent, outcome, length)] = m
            result[(offence.key, year)] = categories
    return result


def court_outcomes(forces: Sequence[Force], seed: int = SEED) -> dict[tuple[str, int, str, Category], int]:
    """Defendants per (police force area name, year, offence key, category)."""
    national = national_categories(seed)
    rng = stream(seed, "moj:areas")
    names = pfa_names(forces)
    codes = sorted(names)
    areas = [*codes, NOT_KNOWN]
    size = {c: size_of(c) for c in codes} | {NOT_KNOWN: NOT_KNOWN_WEIGHT}
    conviction = {a: rng.lognormvariate(0.0, CONVICTION_SIGMA) for a in areas}
    custody = {a: rng.lognormvariate(0.0, CUSTODY_SIGMA) for a in areas}
    result: dict[tuple[str, int, str, Category], int] = {}
    for offence in OFFENCES:
        caseload = {a: size[a] * rng.lognormvariate(0.0, AREA_SIGMA) for a in areas}
        for year in offence.prosecuted:
            level = {a: caseload[a] * rng.lognormvariate(0.0, YEAR_SIGMA) for a in areas}
            for category, n in national[(offence.key, year)].items():
                convicted = category[2] == CONVICTED
                weights = [
                    level[a]
                    * (conviction[a] if convicted else 1 / conviction[a])
                    * (custody[a] if category[4] == CUSTODY else 1.0)
                    for a in areas
                ]
                for area, part in zip(areas, scatter(rng, n, weights), strict=True):
                    if part:
                        name = names.get(area, NOT_KNOWN)
                        result[(name, year, offence.key, category)] = part
    return result


def restraining_orders(forces: Sequence[Force], seed: int = SEED) -> dict[tuple[int, str], tuple[int, int]]:
    """(year, police force area name) -> (orders on conviction, orders on acquittal)."""
    rng = stream(seed, "moj:orders")
    names = pfa_names(forces)
    areas = [*sorted(names), NOT_KNOWN]
    size = {c: size_of(c) for c in names} | {NOT_KNOWN: NOT_KNOWN_WEIGHT}
    leaning = {a: size[a] * rng.lognormvariate(0.0, AREA_SIGMA) for a in areas}
    result = {}
    for year, (on_conviction, on_acquittal) in RESTRAINING_ORDERS.items():
        if year not in ORDERS_FIXED_YEARS:
            on_conviction = round(on_conviction * rng.lognormvariate(0.0, LEVEL_NOISE))
            on_acquittal = round(on_acquittal * rng.lognormvariate(0.0, LEVEL_NOISE))
        weights = [leaning[a] * rng.lognormvariate(0.0, YEAR_SIGMA) for a in areas]
        convictions = scatter(rng, on_conviction, weights)
        acquittals = scatter(rng, on_acquittal, weights)
        for area, c, a in zip(areas, convictions, acquittals, strict=True):
            if c or a:
                result[(year, names.get(area, NOT_KNOWN))] = (c, a)
    return result


def _area_order(name: str) -> tuple[int, str]:
    return (name == NOT_KNOWN, name.lower())


def write(out_dir: Path, forces: Sequence[Force], seeds_dir: Path, seed: int = SEED) -> list[Path]:
    """Write the zip archive; return its path."""
    names = pfa_names(forces)
    check_spellings(
        seeds_dir,
        {name: code for code, name in names.items()} | {NOT_KNOWN: ""},
        "force_name_variants.csv",
        "area_code",
    )
    offences = {o.key: o for o in OFFENCES}
    order = {o.key: i for i, o in enumerate(OFFENCES)}
    outcomes = court_outcomes(forces, seed)
    court_rows = []
    for (area, year, key, category), n in sorted(
        outcomes.items(),
        key=lambda item: (item[0][1], _area_order(item[0][0]), order[item[0][2]], item[0][3]),
    ):
        sex, court, conv, sent, outcome, length = category
        offence = offences[key]
        court_rows.append(
            [area, year, sex, ADULTS, court, *offence.kind, offence.label, conv, sent, outcome, length, n]
        )
    court_csv = csv_bytes(
        [COURT_HEADER, *court_rows],
        title_row=title(
            seed,
            "Court outcomes by police force area (Outcomes by Offence), harassment and stalking offences; "
            "England and Wales totals for 2014-2016 set to published figures, everything else invented.",
        ),
    )
    orders = restraining_orders(forces, seed)
    order_rows = [
        [year, area, "All offences", c, a]
        for (year, area), (c, a) in sorted(
            orders.items(), key=lambda item: (item[0][0], _area_order(item[0][1]))
        )
    ]
    orders_csv = csv_bytes(
        [ORDERS_HEADER, *order_rows],
        title_row=title(
            seed,
            "Restraining orders issued on conviction and on acquittal by police force area; England and Wales "
            "totals for 2014 and 2015 set to published figures, everything else invented.",
        ),
    )
    archive = zip_bytes(
        [
            (COURT_OUTCOMES_MEMBER, court_csv, zipfile.ZIP_DEFLATED),
            (RESTRAINING_ORDERS_MEMBER, orders_csv, zipfile.ZIP_DEFLATED),
        ]
    )
    return [write_bytes(Path(out_dir) / FILE_NAME, archive)]
