"""Home Office crime outcomes open data (``home_office_outcomes_a``), one workbook per
financial year from 2014/15.

Each workbook has a ``Notes`` sheet and a data sheet ``Outcomes_open_data``: a title
row saying the data are synthetic, a second title row, then the header of variant A
and one row per financial quarter x force x offence code (8L, 8M, 8Q, and 8R from
2017/18) x outcome type, for every combination with a non-zero count on either basis.

How the counts are built from the recorded crime table (``recorded_crime.py``):

* *Outcomes for investigations closed in the quarter* (closed basis): each force x
  quarter x code gets between 90% and 100% of that cell's recorded crimes as assigned
  outcomes, spread over the outcome groups by England and Wales shares that drift
  over time (the stalking charge/summons share falls from about 37% in 2014/15 to
  about 6% by 2021/22, harassment from about 15% to about 6%) and by force-specific
  leanings; each group is then split into its outcome types.
* Over the 12 months to December 2016 (2015/16 Q4 + 2016/17 Q1-Q3) the England and
  Wales closed-basis outcomes for 8L and 8Q are moved between groups, within each
  force and quarter, until every group's share of assigned outcomes is exactly the
  target in ``CALIBRATION_SHARES``, each of which rounds to the published percentage
  (``outcome_share_harassment_*`` and ``outcome_share_stalking_*``).
* *Outcomes for offences that were recorded in the quarter* (recorded basis): every
  crime recorded in the quarter appears once, either under an outcome type or under
  type 0 "Not yet assigned an outcome", whose share is larger the more recent the
  quarter. So on this basis the outcome types of a cell, type 0 included, add up to
  the recorded crimes.
* Outcome type 21 exists from January 2016 (2015/16 Q4), type 22 from April 2019.
* A few small negative cells (corrections) outside the calibration window, never
  making a 12-month total negative; three forces supplied no counts for 2014/15 Q1
  (``N/A - data not provided`` in both count columns).
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hsinsight.sample.common import (
    LAST_YEAR,
    SEED,
    Force,
    Sheet,
    allocate,
    financial_year_label,
    scatter,
    stream,
    title,
    write_bytes,
    xlsx_bytes,
)
from hsinsight.sample.recorded_crime import OFFENCES, YE_DEC_2016, Counts
from hsinsight.sources.base import normalise_name

FIRST_OUTCOME_YEAR = 2014  # the outcomes framework starts in April 2014
CODES = ("8L", "8M", "8Q", "8R")
SHEET_NAME = "Outcomes_open_data"
NOT_PROVIDED = "N/A - data not provided"

HEADER = (
    "Financial Year",
    "Financial Quarter",
    "Force Name",
    "Offence Code",
    "Offence Description",
    "Offence Group",
    "Offence Subgroup",
    "Offence code expired",
    "Outcome Type",
    "Outcome Description",
    "Outcome Group",
    "Outcomes for offences that were recorded in the quarter",
    "Outcomes for investigations closed in the quarter",
)

# Outcome groups, by the ``outcome_group_key`` of dbt_project/seeds/outcome_types.csv.
CHARGED = "charged_summonsed"
FORMAL = "out_of_court_formal"
INFORMAL = "out_of_court_informal"
TIC = "taken_into_consideration"
PREVENTED = "prosecution_prevented_or_not_in_public_interest"
VICTIM_NOT_SUPPORT = "evidential_difficulties_victim_does_not_support"
VICTIM_SUPPORTS = "evidential_difficulties_victim_supports"
NO_SUSPECT = "no_suspect_identified"
TRANSFERRED = "transferred_to_another_body"
POLICE_DECISION = "further_investigation_not_in_public_interest"
DIVERSIONARY = "diversionary_activity"
GROUPS = (
    CHARGED, FORMAL, INFORMAL, TIC, PREVENTED, VICTIM_NOT_SUPPORT, VICTIM_SUPPORTS, NO_SUSPECT,
    TRANSFERRED, POLICE_DECISION, DIVERSIONARY,
)  # fmt: skip

#: First (financial year, quarter) an outcome type may be assigned.
TYPE_FROM = {21: (2015, 4), 22: (2019, 1)}

#: England and Wales closed-basis share of assigned outcomes by group over the 12
#: months to December 2016. Each rounds to the published percentage (figure ids
#: outcome_share_<offence>_<measure>) and each offence's shares add up to 1.
CALIBRATION_SHARES = {
    "8L": {
        CHARGED: 0.112,  # 11% outcome_share_harassment_charged
        VICTIM_NOT_SUPPORT: 0.392,  # 39% ..._victim_not_support
        VICTIM_SUPPORTS: 0.232,  # 23% ..._evidential_victim_supports
        NO_SUSPECT: 0.192,  # 19% ..._no_suspect
        PREVENTED: 0.020,  # 2% ..._prosecution_prevented
        INFORMAL: 0.020,  # 2% ..._ooc_informal
        FORMAL: 0.020,  # 2% ..._ooc_formal
        POLICE_DECISION: 0.010,  # 1% ..._police_decision
        TRANSFERRED: 0.001,  # 0% ..._transferred
        TIC: 0.001,  # 0% ..._tic
    },
    "8Q": {
        CHARGED: 0.200,  # 20% outcome_share_stalking_charged
        VICTIM_NOT_SUPPORT: 0.329,  # 33% ..._victim_not_support
        VICTIM_SUPPORTS: 0.280,  # 28% ..._evidential_victim_supports
        NO_SUSPECT: 0.110,  # 11% ..._no_suspect
        PREVENTED: 0.020,  # 2% ..._prosecution_prevented
        INFORMAL: 0.010,  # 1% ..._ooc_informal
        FORMAL: 0.030,  # 3% ..._ooc_formal
        POLICE_DECISION: 0.010,  # 1% ..._police_decision
        TRANSFERRED: 0.010,  # 1% ..._transferred
        TIC: 0.001,  # 0% ..._tic
    },
}
CALIBRATION_WINDOW = YE_DEC_2016

#: Charge/summons share of assigned outcomes (closed basis) in the middle of each
#: financial year, interpolated between; the rest of the outcomes follow REST_MIX.
# fmt: off
CHARGED_SHARE = {
    "8L": {2014: .158, 2015: .125, 2016: .112, 2017: .100, 2018: .088, 2019: .078, 2020: .068,
           2021: .060, 2022: .058, 2023: .060, 2024: .062},
    "8M": {2014: .220, 2015: .200, 2016: .180, 2017: .160, 2018: .140, 2019: .125, 2020: .110,
           2021: .100, 2022: .095, 2023: .095, 2024: .098},
    "8Q": {2014: .395, 2015: .260, 2016: .200, 2017: .160, 2018: .130, 2019: .110, 2020: .075,
           2021: .060, 2022: .058, 2023: .062, 2024: .066},
    "8R": {2017: .070, 2018: .060, 2019: .052, 2020: .046, 2021: .042, 2022: .040, 2023: .041,
           2024: .043},
}
# fmt: on
#: Mix of the outcomes that are not a charge, per code (normalised when used).
REST_MIX = {
    "8L": {k: v for k, v in CALIBRATION_SHARES["8L"].items() if k != CHARGED},
    "8M": {k: v for k, v in CALIBRATION_SHARES["8L"].items() if k != CHARGED},
    "8Q": {k: v for k, v in CALIBRATION_SHARES["8Q"].items() if k != CHARGED},
    "8R": {
        VICTIM_NOT_SUPPORT: 0.38,
        VICTIM_SUPPORTS: 0.18,
        NO_SUSPECT: 0.30,
        INFORMAL: 0.04,
        FORMAL: 0.015,
        PREVENTED: 0.03,
        POLICE_DECISION: 0.02,
        TRANSFERRED: 0.005,
        TIC: 0.001,
    },
}  # fmt: skip
#: Yearly drift of a group's weight in the mix (log scale, per year from 2016/17).
REST_DRIFT = {VICTIM_NOT_SUPPORT: 0.05, INFORMAL: -0.03, VICTIM_SUPPORTS: -0.01}
DIVERSIONARY_SHARE = 0.004
#: Spread (log scale) of each force's leaning towards a group.
FORCE_SIGMA = {CHARGED: 0.30, VICTIM_NOT_SUPPORT: 0.15, VICTIM_SUPPORTS: 0.20, NO_SUSPECT: 0.25}
DEFAULT_FORCE_SIGMA = 0.35

#: How each group splits into outcome types (weights), per code where it differs.
TYPE_SPLIT = {
    CHARGED: {1: 1.0},
    FORMAL: {2: 0.16, 3: 0.84},
    INFORMAL: {8: 1.0},
    TIC: {4: 1.0},
    PREVENTED: {5: 0.03, 9: 0.10, 10: 0.36, 11: 0.05, 12: 0.03, 13: 0.05, 17: 0.38},
    VICTIM_NOT_SUPPORT: {14: 0.12, 16: 0.88},
    VICTIM_SUPPORTS: {15: 1.0},
    NO_SUSPECT: {18: 1.0},
    TRANSFERRED: {20: 1.0},
    POLICE_DECISION: {21: 1.0},
    DIVERSIONARY: {22: 1.0},
}
TYPE_SPLIT_BY_CODE = {
    ("8Q", PREVENTED): {5: 0.03, 9: 0.14, 10: 0.50, 11: 0.02, 12: 0.04, 13: 0.07, 17: 0.20},
    ("8R", VICTIM_NOT_SUPPORT): {14: 0.35, 16: 0.65},
}

#: Share of a quarter's assigned outcomes (closed basis) relative to its recorded crimes.
CLOSED_RATIO = (0.90, 1.00)
#: Share of a quarter's recorded crimes still without an outcome at publication:
#: PENDING_FLOOR plus PENDING_RECENT * exp(-age / PENDING_DECAY), age in quarters
#: before the last quarter of the sample; stalking investigations take longer.
PENDING_FLOOR = 0.015
PENDING_RECENT = 0.40
PENDING_DECAY = 1.6
PENDING_EXTRA = {"8Q": 0.03}

#: Forces that supplied no counts for 2014/15 Q1 (three of the eight that supplied
#: none for 2014/15 in the real file), by ``forces.csv`` area code.
NOT_PROVIDED_FORCES = ("E23000026", "E23000002", "W15000004")
NOT_PROVIDED_QUARTER = (2014, 1)
#: Negative corrections written on the closed and on the recorded basis.
CORRECTIONS = {"closed": 6, "recorded": 2}
CORRECTION_TYPES = (3, 8, 10, 15, 16)
CORRECTION_CODES = ("8L", "8M")


@dataclass(frozen=True)
class OutcomeType:
    code: int
    description: str
    group: str
    group_key: str


def read_outcome_types(seeds_dir: Path) -> dict[int, OutcomeType]:
    """Outcome types as ``outcome_types.csv`` describes them (its labels are written as they are)."""
    with open(seeds_dir / "outcome_types.csv", encoding="utf-8", newline="") as handle:
        return {
            int(r["outcome_type"]): OutcomeType(
                int(r["outcome_type"]), r["outcome_description"], r["outcome_group"], r["outcome_group_key"]
            )
            for r in csv.DictReader(handle)
        }


def file_name(year: int) -> str:
    """Official naming style, ``prc-outcomes-open-data-marYYYY-tables-DDMMYY.xlsx``,
    with ``synthetic`` in place of the release date."""
    return f"prc-outcomes-open-data-mar{year + 1}-tables-synthetic.xlsx"


def outcome_quarters() -> list[tuple[int, int]]:
    return [(y, q) for y in range(FIRST_OUTCOME_YEAR, LAST_YEAR + 1) for q in range(1, 5)]


def _valid(outcome_type: int, period: tuple[int, int]) -> bool:
    return period >= TYPE_FROM.get(outcome_type, (FIRST_OUTCOME_YEAR, 1))


def _group_valid(group: str, period: tuple[int, int]) -> bool:
    return any(_valid(t, period) for t in TYPE_SPLIT[group])


def _interpolate(anchors: dict[int, float], year: int, q: int) -> float:
    """A value anchored in the middle of each financial year, linear in between."""
    t = year + (q - 0.5) / 4
    points = sorted((y + 0.5, v) for y, v in anchors.items())
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        if t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def national_shares(code: str, period: tuple[int, int]) -> dict[str, float]:
    """England and Wales group shares of assigned outcomes (closed basis) before force leanings."""
    if code in CALIBRATION_SHARES and period in CALIBRATION_WINDOW:
        return dict(CALIBRATION_SHARES[code])
    year, q = period
    charged = _interpolate(CHARGED_SHARE[code], year, q)
    t = year + (q - 0.5) / 4 - 2016.5
    rest = {
        g: w * math.exp(REST_DRIFT.get(g, 0.0) * t)
        for g, w in REST_MIX[code].items()
        if _group_valid(g, period)
    }
    if _group_valid(DIVERSIONARY, period):
        rest[DIVERSIONARY] = DIVERSIONARY_SHARE
    rest_sum = math.fsum(rest.values())
    shares = {CHARGED: charged}
    shares.update({g: (1 - charged) * w / rest_sum for g, w in rest.items()})
    return shares


def _pending_share(code: str, period: tuple[int, int]) -> float:
    last = LAST_YEAR * 4 + 4
    age = last - (period[0] * 4 + period[1])
    return PENDING_FLOOR + PENDING_EXTRA.get(code, 0.0) + PENDING_RECENT * math.exp(-age / PENDING_DECAY)


def _type_split(code: str, group: str, period: tuple[int, int]) -> dict[int, float]:
    split = TYPE_SPLIT_BY_CODE.get((code, group), TYPE_SPLIT[group])
    return {t: w for t, w in split.items() if _valid(t, period)}


#: (code, financial year, quarter, area code, outcome type) -> count
Cells = dict[tuple[str, int, int, str, int], int]


def _calibrate(
    groups: dict[tuple[str, int, int, str], dict[str, int]], code: str, rng: random.Random
) -> None:
    """Move outcomes between groups, inside each force x quarter, until the England and
    Wales group totals over the calibration window are exactly the target shares."""
    cells = [key for key in groups if key[0] == code and (key[1], key[2]) in CALIBRATION_WINDOW]
    total = sum(sum(groups[key].values()) for key in cells)
    names = list(CALIBRATION_SHARES[code])
    target = dict(zip(names, allocate(total, [CALIBRATION_SHARES[code][g] for g in names]), strict=True))
    current = {g: sum(groups[key].get(g, 0) for key in cells) for g in names}
    if set().union(*(groups[key] for key in cells)) - set(names):
        raise ValueError(f"{code}: a group outside the calibration appears in the window")
    while True:
        over = [g for g in names if current[g] > target[g]]
        under = [g for g in names if current[g] < target[g]]
        if not over:
            break
        source, sink = over[0], under[0]
        weights = [groups[key].get(source, 0) for key in cells]
        # Take from a cell in proportion to what it holds, so no cell goes negative.
        key = rng.choices(cells, weights=weights)[0]
        groups[key][source] -= 1
        groups[key][sink] = groups[key].get(sink, 0) + 1
        current[source] -= 1
        current[sink] += 1


def _rolling_ok(series: dict[int, int], index: int) -> bool:
    """Every 12-month window (4 consecutive quarters, absent = 0) containing ``index`` is >= 0."""
    return all(
        sum(series.get(i, 0) for i in range(start, start + 4)) >= 0 for start in range(index - 3, index + 1)
    )


def _add_corrections(cells: Cells, basis: str, forces: Sequence[Force], rng: random.Random) -> None:
    """A few small negative cells, outside the calibration window and 2014/15, on types 1-22."""
    periods = [p for p in outcome_quarters() if p not in CALIBRATION_WINDOW and p[0] > FIRST_OUTCOME_YEAR]
    candidates = [f for f in forces if f.is_territorial]
    made, attempts = 0, 0
    while made < CORRECTIONS[basis] and attempts < 5000:
        attempts += 1
        code = rng.choice(CORRECTION_CODES)
        force = rng.choice(candidates)
        outcome_type = rng.choice(CORRECTION_TYPES)
        year, q = rng.choice(periods)
        key = (code, year, q, force.area_code, outcome_type)
        if cells.get(key, 0) < 1:
            continue
        value = -rng.choice((1, 2, 3))
        series = {
            y * 4 + qq: v
            for (c, y, qq, a, t), v in cells.items()
            if c == code and a == force.area_code and t == outcome_type
        }
        series[year * 4 + q] = value
        if _rolling_ok(series, year * 4 + q):
            if basis == "recorded":
                # Every crime recorded in the quarter stays counted once: the difference
                # goes to "not yet assigned", so the cell still adds up to the crimes.
                pending = (code, year, q, force.area_code, 0)
                cells[pending] = cells.get(pending, 0) + cells[key] - value
            cells[key] = value
            made += 1


def generate(forces: Sequence[Force], recorded_crimes: Counts, seed: int = SEED) -> tuple[Cells, Cells]:
    """(closed basis, recorded basis) counts keyed by (code, year, quarter, area, outcome type)."""
    rng = stream(seed, "outcomes")
    closed_groups: dict[tuple[str, int, int, str], dict[str, int]] = {}
    closed: Cells = {}
    recorded: Cells = {}
    for code in CODES:
        first_year = next(o.first_year for o in OFFENCES if o.code == code)
        leaning = {
            f.area_code: {g: rng.lognormvariate(0.0, FORCE_SIGMA.get(g, DEFAULT_FORCE_SIGMA)) for g in GROUPS}
            for f in forces
        }
        periods = [p for p in outcome_quarters() if p[0] >= first_year]
        for period in periods:
            base = national_shares(code, period)
            for f in forces:
                crimes = recorded_crimes[(code, *period, f.area_code)]
                assigned = round(max(crimes, 0) * rng.uniform(*CLOSED_RATIO))
                weights = {g: s * leaning[f.area_code][g] for g, s in base.items()}
                names = list(weights)
                parts = scatter(rng, assigned, [weights[g] for g in names])
                closed_groups[(code, *period, f.area_code)] = dict(zip(names, parts, strict=True))
        if code in CALIBRATION_SHARES:
            _calibrate(closed_groups, code, rng)
        for period in periods:
            base = national_shares(code, period)
            pending = _pending_share(code, period)
            for f in forces:
                key = (code, *period, f.area_code)
                for group, n in closed_groups[key].items():
                    split = _type_split(code, group, period)
                    for t, part in zip(split, scatter(rng, n, list(split.values())), strict=True):
                        if part:
                            closed[(*key, t)] = part
                crimes = recorded_crimes[key]
                if crimes <= 0:
                    if crimes < 0:
                        recorded[(*key, 0)] = crimes  # a correction to crimes recorded earlier
                    continue
                not_assigned = min(crimes, round(crimes * pending * rng.uniform(0.8, 1.2)))
                if not_assigned:
                    recorded[(*key, 0)] = not_assigned
                type_weights: dict[int, float] = {}
                for group, share in base.items():
                    split = _type_split(code, group, period)
                    split_sum = math.fsum(split.values())
                    for t, w in split.items():
                        type_weights[t] = share * leaning[f.area_code][group] * w / split_sum
                types = sorted(type_weights)
                parts = scatter(rng, crimes - not_assigned, [type_weights[t] for t in types])
                for t, part in zip(types, parts, strict=True):
                    if part:
                        recorded[(*key, t)] = part
    _add_corrections(closed, "closed", forces, rng)
    _add_corrections(recorded, "recorded", forces, rng)
    return closed, recorded


def notes(seed: int) -> list[list[object]]:
    lines = [
        title(seed, "Crime outcomes for harassment and stalking offence codes; invented figures."),
        "",
        "What this workbook is",
        "A synthetic stand-in for the Home Office 'Crime outcomes open data' workbook for one financial "
        "year, limited to offence codes 8L (harassment), 8M (racially or religiously aggravated "
        "harassment), 8Q (stalking) and 8R (malicious communications, from 2017/18).",
        "The data are on the sheet 'Outcomes_open_data': one row per financial quarter, force, offence "
        "code and outcome type with a non-zero count.",
        "",
        "Count columns",
        "Outcomes for offences that were recorded in the quarter: every crime recorded in the quarter "
        "appears once, under its outcome or under type 0 'Not yet assigned an outcome'.",
        "Outcomes for investigations closed in the quarter: outcomes assigned in the quarter, whenever "
        "the crime was recorded (the basis of the 2017 inspection's Table 1).",
        "",
        "What matches published figures",
        "England and Wales closed-basis shares of assigned outcomes by outcome group for 8L and 8Q over "
        "the 12 months to December 2016 round to the published percentages (HMIC/HMCPSI 2017, "
        "'Living in fear', Table 1). Everything else is invented.",
        "",
        "Markers",
        f"'{NOT_PROVIDED}': the force supplied no counts (three forces, 2014/15 Q1). Negative counts are "
        "corrections to earlier quarters.",
    ]
    return [[line] if line else [] for line in lines]


def write(
    out_dir: Path, forces: Sequence[Force], recorded_crimes: Counts, seeds_dir: Path, seed: int = SEED
) -> list[Path]:
    """Write one outcomes workbook per financial year; return their paths."""
    types = read_outcome_types(seeds_dir)
    closed, recorded = generate(forces, recorded_crimes, seed)
    offences = {o.code: o for o in OFFENCES}
    ordered = sorted(forces, key=lambda f: normalise_name(f.name))
    by_year: dict[int, list[list[object]]] = defaultdict(list)
    for year, q in outcome_quarters():
        for f in ordered:
            for code in CODES:
                offence = offences[code]
                if year < offence.first_year:
                    continue
                missing = f.area_code in NOT_PROVIDED_FORCES and (year, q) == NOT_PROVIDED_QUARTER
                for t in sorted(types):
                    key = (code, year, q, f.area_code, t)
                    on_recorded, on_closed = recorded.get(key, 0), closed.get(key, 0)
                    if not on_recorded and not on_closed:
                        continue
                    if missing:
                        on_recorded = on_closed = NOT_PROVIDED
                    kind = types[t]
                    by_year[year].append(
                        [
                            financial_year_label(year), q, f.name, code, offence.description, offence.group,
                            offence.subgroup, None, t, kind.description, kind.group, on_recorded, on_closed,
                        ]
                    )  # fmt: skip
    paths = []
    for year in sorted(by_year):
        fy = financial_year_label(year)
        codes = ", ".join(c for c in CODES if year >= offences[c].first_year)
        data = Sheet(
            SHEET_NAME,
            [
                [title(seed, f"Crime outcomes, financial year {fy}; invented figures.")],
                [f"Police recorded crime outcomes open data, financial year {fy}: offence codes {codes}"],
                list(HEADER),
                *by_year[year],
            ],
            widths={"C": 24, "E": 28, "J": 40, "K": 40, "L": 22, "M": 22},
            bold_rows=frozenset({1, 2, 3}),
        )
        book = xlsx_bytes(
            [Sheet("Notes", notes(seed), widths={"A": 120}), data],
            f"Synthetic crime outcomes open data {fy}",
        )
        paths.append(write_bytes(Path(out_dir) / file_name(year), book))
    return paths
