"""Home Office police recorded crime, police force area table (``home_office_prc_pfa_v1``).

Writes ``home_office_police_recorded_crime_pfa.csv``: one row per financial year x
quarter x force x offence code, the layout of the Home Office *police recorded crime
open data* police force area table. The crime outcomes and the ONS police force area
tables of the sample are built on these counts.

Only these England and Wales totals are published figures
(``reference/published_figures.csv``: ``prc_harassment_ye_dec2016``,
``prc_stalking_ye_dec2016`` and the year-on-year changes ``..._change_ye_dec2016``):

* 12 months to 31 December 2016 (2015/16 Q4 + 2016/17 Q1-Q3): harassment (8L)
  202,755, stalking (8Q) 4,613;
* 12 months to 31 December 2015 (2014/15 Q4 + 2015/16 Q1-Q3): 8L 132,520 and 8Q
  3,750, chosen so that the published changes (+53% and +23%) reproduce when
  rounded.

Everything else (every force's figures, the other periods, the other codes) is
invented, shaped to look like the real series: the counting-rule changes of April
2014, 2015, 2017, 2018 and 2020 (DOMAIN.md), mild seasonality, forces of plausible
sizes and a wide spread of harassment-to-stalking ratios between forces, as the 2017
inspection found. A few small negative cells stand for published corrections.

Code 8U, controlling or coercive behaviour (subgroup stalking and harassment), has rows
from 2020/21 Q1, when it became a code of its own: England and Wales about 9,300 to
9,800 a quarter in 2020/21, rising to about 12,000 by 2024/25, invented. It is drawn
after everything else from its own random stream, so its rows leave every other count
as it was before 8U was added.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

from hsinsight.sample.common import (
    DEFAULT_SIZE,
    FIRST_YEAR,
    FORCE_SIZE,
    SEED,
    Force,
    allocate,
    csv_bytes,
    financial_year_label,
    quarters,
    stream,
    write_bytes,
)
from hsinsight.sources.base import SYNTHETIC_MARKER, normalise_name

#: Counts keyed by (offence code, financial start year, quarter, area code).
Counts = dict[tuple[str, int, int, str], int]

FILE_NAME = "home_office_police_recorded_crime_pfa.csv"

#: The header row of the Home Office table, in its published order.
HEADER = (
    "Financial Year",
    "Financial Quarter",
    "Force Name",
    "Offence Description",
    "Offence Group",
    "Offence Subgroup",
    "Offence Code",
    "Number of Offences",
)


@dataclass(frozen=True)
class Offence:
    code: str
    description: str
    group: str
    subgroup: str
    first_year: int  # first financial year (start year) the code is published


VAP = "Violence against the person"
CONTROLLING_FIRST_YEAR = 2020  # 8U is published from April 2020
CONTROLLING_STREAM = "recorded_crime:8U"
STALKING_AND_HARASSMENT = "Stalking and harassment"
OFFENCES = (
    Offence("8L", "Harassment", VAP, STALKING_AND_HARASSMENT, FIRST_YEAR),
    Offence("8M", "Racially or religiously aggravated harassment", VAP, STALKING_AND_HARASSMENT, FIRST_YEAR),
    Offence("8Q", "Stalking", VAP, STALKING_AND_HARASSMENT, 2014),
    Offence("8R", "Malicious communications", VAP, STALKING_AND_HARASSMENT, 2017),
    # Not one of the platform's codes: kept in raw by ingest and left out of the marts.
    Offence(
        "9A", "Public fear, alarm or distress", "Public order offences", "Public order offences", FIRST_YEAR
    ),
)
#: Controlling or coercive behaviour, its own code from April 2020 and part of the ONS
#: subgroup stalking and harassment. Drawn after the codes above from its own random
#: stream (``CONTROLLING_STREAM``), so adding it left every other count as it was.
CONTROLLING_OR_COERCIVE = Offence(
    "8U", "Controlling or coercive behaviour", VAP, STALKING_AND_HARASSMENT, CONTROLLING_FIRST_YEAR
)
#: Every code of the table, in the order each force's rows are written.
ALL_OFFENCES = (*OFFENCES[:4], CONTROLLING_OR_COERCIVE, *OFFENCES[4:])
#: The codes of the ONS subgroup stalking and harassment, each over the years it exists.
STALKING_AND_HARASSMENT_CODES = tuple(o.code for o in ALL_OFFENCES if o.subgroup == STALKING_AND_HARASSMENT)

#: England and Wales quarterly level of each code, per financial year (start year):
#: (level in Q1, level in Q4), interpolated linearly between; a jump between one
#: year's Q4 and the next year's Q1 is a counting-rule change.
# fmt: off
NATIONAL_LEVELS: dict[str, dict[int, tuple[float, float]]] = {
    "8L": {
        2012: (14500, 15500),  # includes stalking until March 2014
        2013: (16000, 17500),
        2014: (18500, 21000),  # stalking recorded as 8Q from April 2014
        2015: (33000, 45000),  # malicious communications added from April 2015
        2016: (50000, 57000),
        2017: (33000, 35000),  # malicious communications move to 8R from April 2017
        2018: (47000, 51000),  # course of conduct recorded in addition from April 2018
        2019: (52000, 55000),
        2020: (53000, 57000),
        2021: (60000, 63000),
        2022: (63000, 62000),
        2023: (61000, 60000),
        2024: (60000, 59500),
    },
    "8M": {
        2012: (700, 750), 2013: (780, 820), 2014: (850, 900), 2015: (950, 1050),
        2016: (1150, 1250), 2017: (1300, 1400), 2018: (1900, 2100), 2019: (2200, 2300),
        2020: (2400, 2600), 2021: (2700, 2800), 2022: (2800, 2750), 2023: (2900, 3000),
        2024: (2950, 2900),
    },
    "8Q": {
        2014: (680, 850),
        2015: (900, 1100),
        2016: (1100, 1350),
        2017: (2000, 3200),
        2018: (4600, 6200),
        2019: (7200, 9000),
        2020: (19000, 23500),  # former partners recorded as stalking from April 2020
        2021: (24000, 26000),
        2022: (26000, 25500),
        2023: (25000, 24500),
        2024: (24500, 24000),
    },
    "8R": {
        2017: (22000, 25000), 2018: (27000, 29000), 2019: (30000, 32000), 2020: (35000, 38000),
        2021: (39000, 40000), 2022: (39500, 38500), 2023: (38000, 37000), 2024: (37000, 36500),
    },
    "9A": {
        2012: (25000, 26000), 2013: (27000, 29000), 2014: (30000, 33000), 2015: (35000, 38000),
        2016: (40000, 44000), 2017: (46000, 50000), 2018: (53000, 57000), 2019: (58000, 61000),
        2020: (63000, 66000), 2021: (67000, 68000), 2022: (67000, 65000), 2023: (64000, 62000),
        2024: (61000, 60500),
    },
    # about 40,000 a year at first, rising to about 48,000 by 2024/25
    "8U": {
        2020: (9000, 10000), 2021: (10000, 10600), 2022: (10500, 11000), 2023: (11000, 11500),
        2024: (11700, 12300),
    },
}
# fmt: on

#: Financial quarters 1-4 (Apr-Jun, Jul-Sep, Oct-Dec, Jan-Mar).
SEASONALITY = (1.03, 1.04, 0.97, 0.96)

#: Exact England and Wales totals: ((code, window), total), a window being the four
#: (financial year, quarter) pairs of a 12-month period.
YE_DEC_2015 = ((2014, 4), (2015, 1), (2015, 2), (2015, 3))
YE_DEC_2016 = ((2015, 4), (2016, 1), (2016, 2), (2016, 3))
CALIBRATION: dict[tuple[str, tuple[tuple[int, int], ...]], int] = {
    ("8L", YE_DEC_2016): 202755,  # prc_harassment_ye_dec2016
    ("8Q", YE_DEC_2016): 4613,  # prc_stalking_ye_dec2016
    ("8L", YE_DEC_2015): 132520,  # 202755 / 132520 - 1 = +53% (prc_harassment_change_ye_dec2016)
    ("8Q", YE_DEC_2015): 3750,  # 4613 / 3750 - 1 = +23% (prc_stalking_change_ye_dec2016)
}

#: Spread (standard deviation of the natural log) of each force's stalking
#: propensity: how readily it records a course of conduct as stalking rather than
#: harassment. Stable over time apart from drift and noise.
STALKING_PROPENSITY_SIGMA = 0.6
#: Spread of each force's overall recording level and of its level per code.
RECORDING_SIGMA = 0.18
CODE_SIGMA = 0.12
#: Quarter-to-quarter drift of a force's share (AR(1) on the log scale).
DRIFT_PERSISTENCE = 0.9
DRIFT_SIGMA = 0.03
#: Relative noise of England and Wales quarterly figures, and the floor of a force's.
NATIONAL_NOISE = 0.015
CELL_NOISE = 0.03

#: Negative cells (published corrections) written into 8M for the smallest forces.
CORRECTIONS = 6
CORRECTION_CODE = "8M"
CORRECTION_FORCES = 8  # chosen among this many smallest forces


def _national_levels(rng: random.Random) -> dict[str, dict[tuple[int, int], int]]:
    """England and Wales quarterly totals per code, exact on the calibration windows."""
    national: dict[str, dict[tuple[int, int], int]] = {}
    for offence in OFFENCES:
        raw = _national_series(offence, rng)
        series = {key: round(value) for key, value in raw.items()}
        for (code, window), total in CALIBRATION.items():
            if code == offence.code:
                for key, part in zip(window, allocate(total, [raw[k] for k in window]), strict=True):
                    series[key] = part
        national[offence.code] = series
    return national


def _national_series(offence: Offence, rng: random.Random) -> dict[tuple[int, int], float]:
    """One code's England and Wales quarterly level, before rounding."""
    levels = NATIONAL_LEVELS[offence.code]
    raw: dict[tuple[int, int], float] = {}
    for year, q in quarters():
        if year < offence.first_year:
            continue
        start, end = levels[year]
        level = start + (end - start) * (q - 1) / 3
        raw[(year, q)] = level * SEASONALITY[q - 1] * math.exp(rng.gauss(0.0, NATIONAL_NOISE))
    return raw


def _stalking_propensity(forces: Sequence[Force], rng: random.Random) -> dict[str, float]:
    """Each force's stalking propensity: a stratified log-normal sample, randomly assigned.

    The forces get the evenly spaced quantiles of a log-normal distribution (median 1,
    log-spread ``STALKING_PROPENSITY_SIGMA``) in a random order, so the spread of
    harassment-to-stalking ratios between forces is set by the constant rather than
    by the luck of 44 independent draws.
    """
    n = len(forces)
    quantiles = [NormalDist().inv_cdf((i + 0.5) / n) for i in range(n)]
    rng.shuffle(quantiles)
    return {
        f.area_code: math.exp(STALKING_PROPENSITY_SIGMA * z) for f, z in zip(forces, quantiles, strict=True)
    }


def generate(forces: Sequence[Force], seed: int = SEED) -> Counts:
    """Counts keyed by (offence code, financial start year, quarter, area code)."""
    rng = random.Random(seed)
    national = _national_levels(rng)

    # Stable per-force characteristics, drawn in the seed file's order.
    size = {f.area_code: FORCE_SIZE.get(f.area_code, DEFAULT_SIZE) for f in forces}
    recording = {f.area_code: rng.lognormvariate(0.0, RECORDING_SIGMA) for f in forces}
    stalking = _stalking_propensity(forces, rng)
    base: dict[tuple[str, str], float] = {}
    for offence in OFFENCES:
        for f in forces:
            weight = size[f.area_code] * recording[f.area_code] * rng.lognormvariate(0.0, CODE_SIGMA)
            if offence.code == "8Q":
                weight *= stalking[f.area_code]
            base[(offence.code, f.area_code)] = weight

    counts: dict[tuple[str, int, int, str], int] = {}
    for offence in OFFENCES:
        shares = {f.area_code: base[(offence.code, f.area_code)] for f in forces}
        _spread(counts, offence, national[offence.code], forces, shares, rng)

    _add_corrections(counts, forces, size, rng)
    _add_controlling_or_coercive(counts, forces, size, recording, seed)
    return counts


def _spread(
    counts: dict[tuple[str, int, int, str], int],
    offence: Offence,
    national: dict[tuple[int, int], int],
    forces: Sequence[Force],
    shares: dict[str, float],
    rng: random.Random,
) -> None:
    """Share each quarter's England and Wales total of one code among the forces, by
    their shares with drift and noise, so the parts add up exactly."""
    drift = {f.area_code: 0.0 for f in forces}
    share_sum = math.fsum(shares.values())
    for year, q in quarters():
        if year < offence.first_year:
            continue
        total = national[(year, q)]
        weights = []
        for f in forces:
            drift[f.area_code] = DRIFT_PERSISTENCE * drift[f.area_code] + rng.gauss(0.0, DRIFT_SIGMA)
            expected = max(total * shares[f.area_code] / share_sum, 0.25)
            sigma = min(math.sqrt(CELL_NOISE**2 + 1.0 / expected), 0.6)
            weights.append(shares[f.area_code] * math.exp(drift[f.area_code] + rng.gauss(0.0, sigma)))
        for f, part in zip(forces, allocate(total, weights), strict=True):
            counts[(offence.code, year, q, f.area_code)] = part


def _add_controlling_or_coercive(
    counts: dict[tuple[str, int, int, str], int],
    forces: Sequence[Force],
    size: dict[str, float],
    recording: dict[str, float],
    seed: int,
) -> None:
    """8U from 2020/21 Q1, shaped like the other codes (each force's size and recording
    level, its own level for the code, drift and noise), from a stream of its own."""
    rng = stream(seed, CONTROLLING_STREAM)
    offence = CONTROLLING_OR_COERCIVE
    national = {key: round(value) for key, value in _national_series(offence, rng).items()}
    shares = {
        f.area_code: size[f.area_code] * recording[f.area_code] * rng.lognormvariate(0.0, CODE_SIGMA)
        for f in forces
    }
    _spread(counts, offence, national, forces, shares, rng)


def _add_corrections(
    counts: dict[tuple[str, int, int, str], int],
    forces: Sequence[Force],
    size: dict[str, float],
    rng: random.Random,
) -> None:
    """Turn a few 8M cells of small forces into small negative corrections.

    Only outside the calibration windows, and only where every 12-month window
    (four consecutive quarters) that contains the cell stays positive.
    """
    calibrated = {key for _, window in CALIBRATION for key in window}
    periods = quarters()
    candidates_forces = sorted(forces, key=lambda f: (size[f.area_code], f.area_code))[:CORRECTION_FORCES]
    made, attempts = 0, 0
    while made < CORRECTIONS and attempts < 1000:
        attempts += 1
        force = candidates_forces[rng.randrange(len(candidates_forces))]
        index = rng.randrange(len(periods))
        value = -rng.choice((1, 2))
        if periods[index] in calibrated:
            continue
        key = (CORRECTION_CODE, *periods[index], force.area_code)
        if counts[key] < 0:
            continue
        previous = counts[key]
        counts[key] = value
        ok = all(
            sum(counts[(CORRECTION_CODE, *periods[i], force.area_code)] for i in range(start, start + 4)) > 0
            for start in range(max(0, index - 3), min(index, len(periods) - 4) + 1)
        )
        if ok:
            made += 1
        else:
            counts[key] = previous


def sample_rows(forces: Sequence[Force], seed: int = SEED) -> list[list[str]]:
    """The data rows of the table (no preamble, no header), in the order written."""
    counts = generate(forces, seed)
    ordered = sorted(forces, key=lambda f: normalise_name(f.name))
    rows = []
    for year, q in quarters():
        for f in ordered:
            for offence in ALL_OFFENCES:
                if year < offence.first_year:
                    continue
                rows.append(
                    [
                        financial_year_label(year),
                        str(q),
                        f.name,
                        offence.description,
                        offence.group,
                        offence.subgroup,
                        offence.code,
                        str(counts[(offence.code, year, q, f.area_code)]),
                    ]
                )
    return rows


def preamble(seed: int = SEED) -> str:
    return (
        f"{SYNTHETIC_MARKER} - generated by hsinsight sample (seed {seed}). Force-level figures are "
        "invented; England and Wales totals for the 12 months to 31 December 2016 (harassment 8L, "
        "stalking 8Q) and to 31 December 2015 are set to match published figures (HMIC/HMCPSI 2017 "
        "'Living in fear'; Home Office police recorded crime via ONS). Not official statistics."
    )


def write(out_dir: Path, forces: Sequence[Force], seed: int = SEED) -> list[Path]:
    """Write the recorded crime table; return its path."""
    data = csv_bytes([HEADER, *sample_rows(forces, seed)], title_row=preamble(seed))
    return [write_bytes(Path(out_dir) / FILE_NAME, data)]
