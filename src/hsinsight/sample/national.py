"""A synthetic data set the size of the real releases (``hsinsight sample --scale national``).

The small sample (``write_sample``) holds only the offences the platform reports on.
The official files hold every offence: the Home Office recorded crime table about
150 offence codes for 44 reporting bodies and 52 quarters, the crime outcomes data
some 5 million rows, the Ministry of Justice court outcomes every offence. This
module writes files of that size, in the same official layouts, so the platform can
be measured (``make bench``) on what users will load. Nothing here is committed:
the default folder ``data/national/`` is ignored by git.

What is written (``write_national``), every data table opening with the
``SYNTHETIC SAMPLE DATA`` title row:

- ``home_office_police_recorded_crime_pfa_national.csv`` (``home_office_prc_pfa_v1``,
  CSV): financial year 2012/13-2024/25 x quarter x reporting body x offence code,
  the five codes of the small sample plus the synthetic list of
  :mod:`hsinsight.sample.offences`, zero counts included (about 360,000 rows);
- ``prc-outcomes-open-data-2014-15-to-2024-25-national-synthetic.csv``
  (``home_office_outcomes_a``, one CSV rather than a workbook per year: no
  spreadsheet holds this many rows): quarter x body x code x outcome type from April
  2014, when the outcomes framework starts (about 5.5 million rows). For the
  synthetic codes every outcome type the code's profile allows is listed, zero
  counts included (as the recorded crime table lists zero counts); the small
  sample's codes keep its non-zero rows;
- ``moj-outcomes-by-offence-2012-2024-national-synthetic.zip``: court outcomes by
  police force area for every offence (``moj_court_outcomes_pfa_v1``, about 1.3
  million rows, adults and juveniles) and the restraining orders of the small sample
  (``moj_restraining_orders_v1``), two CSV files in a zip as the MoJ ships them;
- ``police-force-area-data-tables-year-ending-...-synthetic.xlsx`` (and one
  ``.ods``; ``ons_pfa_tables_v1``): one release per year ending March 2013-2025
  and the year ending December 2016, every column summed from the recorded crime
  table;
- the CPS, population and Crime Survey workbooks of the small sample, unchanged
  (they are as small in reality);
- ``README.md``, saying what the folder holds, written last.

For the platform's offences (8L, 8M, 8Q, 8R and 9A) the figures are exactly the small
sample's, so the dashboards tell the same story and the published totals the sample
is calibrated to still hold; every other offence is drawn with numpy, in bulk, from
the levels, growth and outcome profiles of the offence list, and each force's size
in the small sample. The sources agree with one another as the small sample's do:
on the recorded basis each cell's outcomes (type 0 included) add up to its recorded
crimes, and the ONS tables are sums of the recorded crime table.

The big CSV files are written in batches through Arrow's CSV writer, which quotes
every text value (a form the layouts read like any other); the workbooks and the
title rows come from the small sample's writers. Generating takes about ten seconds
on two cores. A data set for a few forces or fewer offence codes (the tests use one)
comes from the ``forces`` and ``max_codes`` arguments.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv

from hsinsight.config import Settings
from hsinsight.sample import cps, csew, moj, ons_pfa, outcomes, population, recorded_crime
from hsinsight.sample.common import (
    BTP,
    FIRST_YEAR,
    LAST_YEAR,
    SEED,
    ZIP_DATE_TIME,
    Force,
    Sheet,
    check_spellings,
    csv_bytes,
    financial_year_label,
    ods_bytes,
    quarters,
    read_forces,
    size_of,
    title,
    write_bytes,
    xlsx_bytes,
)
from hsinsight.sample.offences import (
    EITHER_WAY,
    INDICTABLE_ONLY,
    OFFENCES,
    OUTCOME_PROFILES,
    PROSECUTION_RATIO,
    SUMMARY,
    NationalOffence,
)
from hsinsight.sources.base import normalise_name

RECORDED_CRIME_FILE = "home_office_police_recorded_crime_pfa_national.csv"
OUTCOMES_FILE = "prc-outcomes-open-data-2014-15-to-2024-25-national-synthetic.csv"
MOJ_FILE = "moj-outcomes-by-offence-2012-2024-national-synthetic.zip"
README = "README.md"

#: Outcome profile of the small sample's codes that have no outcomes in it (9A).
SAMPLE_CODE_PROFILES = {"9A": "public_order"}
#: Outcome types 0-22 (``outcome_types.csv``); type 19 is never drawn (fraud).
OUTCOME_TYPES = 23

# Spreads (log scale) of the recorded crime draws: a force's overall recording level,
# its level for one code, the quarter-to-quarter drift (AR(1)) and the cell noise.
RECORDING_SIGMA = 0.18
CODE_SIGMA = 0.25
DRIFT_PERSISTENCE = 0.9
DRIFT_SIGMA = 0.03
CELL_SIGMA = 0.05
NATIONAL_SIGMA = 0.02
#: Spread (log scale) of each force's leaning towards an outcome type.
LEANING_SIGMA = 0.3

# Court outcomes: share of convicted defendants, of juveniles, of men; spread of each
# area's caseload per offence and of its yearly level; spread of an offence's
# sentencing mix around its mode of trial's.
CONVICTION_RATIO = {INDICTABLE_ONLY: 0.78, EITHER_WAY: 0.82, SUMMARY: 0.80}
JUVENILE_SHARE = 0.07
MALE_SHARE = 0.85
AREA_SIGMA = 0.2
YEAR_SIGMA = 0.05
MIX_SIGMA = 0.3
#: Crown Court share of convicted defendants by mode of trial.
CROWN_SHARE = {INDICTABLE_ONLY: 1.0, EITHER_WAY: 0.25, SUMMARY: 0.0}
#: Sentence outcome weights by court; custody at magistrates' courts is up to 6 months.
SENTENCES = {
    moj.MAGISTRATES: {moj.ABSOLUTE: .02, moj.CONDITIONAL: .12, moj.FINE: .40, moj.COMMUNITY: .20,
                      moj.SUSPENDED: .10, moj.CUSTODY: .10, moj.OTHERWISE: .06},
    moj.CROWN: {moj.CONDITIONAL: .02, moj.FINE: .02, moj.COMMUNITY: .12, moj.SUSPENDED: .28, moj.CUSTODY: .54,
                moj.OTHERWISE: .02},
}  # fmt: skip
CROWN_LENGTHS = (0.12, 0.10, 0.08, 0.10, 0.14, 0.13, 0.13, 0.12, 0.08)
NOT_CONVICTED = {
    moj.MAGISTRATES: {moj.DISMISSED: 0.35, moj.WITHDRAWN: 0.65},
    moj.CROWN: {moj.WITHDRAWN: 0.40, moj.ACQUITTED: 0.60},
}
JUVENILES = "02: Juveniles"


def _rng(seed: int, name: str) -> np.random.Generator:
    """An independent numpy stream per part, like ``common.stream`` for the small sample."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


# --------------------------------------------------------------------------- offences


@dataclass(frozen=True)
class Code:
    """One offence code of the national data set, as the Home Office tables write it."""

    code: str
    description: str
    group: str
    subgroup: str
    first_year: int
    national: NationalOffence | None  # None: one of the small sample's codes

    @property
    def profile(self) -> str:
        return self.national.profile if self.national else SAMPLE_CODE_PROFILES.get(self.code, "violence")


def codes(max_codes: int | None = None) -> list[Code]:
    """The small sample's codes, then the synthetic list (its first ``max_codes`` less
    the sample's codes when given)."""
    listed = [
        Code(o.code, o.description, o.group, o.subgroup, o.first_year, None)
        for o in recorded_crime.ALL_OFFENCES
    ]
    extra = OFFENCES if max_codes is None else OFFENCES[: max(0, max_codes - len(listed))]
    listed += [Code(o.code, o.description, o.group, o.subgroup, o.first_year, o) for o in extra]
    return listed


# --------------------------------------------------------------------------- recorded crime


@dataclass
class RecordedCrime:
    """Counts ``[quarter, force, code]``; quarters as ``common.quarters()``, forces in
    the table's order (by name), codes as ``codes()``; ``valid`` marks the
    (quarter, code) cells the table has rows for. ``seed_order`` is the forces in the
    order of ``forces.csv``, which the small sample's generators draw in."""

    forces: list[Force]
    codes: list[Code]
    counts: np.ndarray
    valid: np.ndarray
    seed_order: list[Force]


def ordered_forces(forces: Sequence[Force]) -> list[Force]:
    return sorted(forces, key=lambda f: normalise_name(f.name))


def generate_recorded_crime(forces: Sequence[Force], offence_codes: list[Code], seed: int) -> RecordedCrime:
    seed_order = list(forces)
    forces = ordered_forces(forces)
    periods = quarters()
    years = np.array([y for y, _ in periods])
    quarter_index = np.array([q - 1 for _, q in periods])
    valid = years[:, None] >= np.array([c.first_year for c in offence_codes])[None, :]
    counts = np.zeros((len(periods), len(forces), len(offence_codes)), dtype=np.int64)

    drawn = [i for i, c in enumerate(offence_codes) if c.national is not None]
    if drawn:
        rng = _rng(seed, "national:recorded_crime")
        n_t, n_f, n_c = len(periods), len(forces), len(drawn)
        level = np.array([offence_codes[i].national.level for i in drawn])
        growth = np.array([offence_codes[i].national.growth for i in drawn])
        national = (
            level[None, :]
            * growth[None, :] ** (years - 2016)[:, None]
            * np.array(recorded_crime.SEASONALITY)[quarter_index][:, None]
            * rng.lognormal(0.0, NATIONAL_SIGMA, (n_t, n_c))
        )
        size = np.array([size_of(f.area_code) for f in forces])
        share = size[:, None] * rng.lognormal(0.0, RECORDING_SIGMA, n_f)[:, None]
        share = share * rng.lognormal(0.0, CODE_SIGMA, (n_f, n_c))
        share /= share.sum(axis=0, keepdims=True)
        drift = np.zeros((n_f, n_c))
        expected = np.empty((n_t, n_f, n_c))
        for t in range(n_t):
            drift = DRIFT_PERSISTENCE * drift + rng.normal(0.0, DRIFT_SIGMA, (n_f, n_c))
            expected[t] = (
                national[t][None, :] * share * np.exp(drift + rng.normal(0.0, CELL_SIGMA, (n_f, n_c)))
            )
        counts[:, :, drawn] = rng.poisson(expected)

    # The small sample's codes: exactly its figures (calibrated to published totals).
    sample_codes = {c.code: i for i, c in enumerate(offence_codes) if c.national is None}
    if sample_codes:
        sample = recorded_crime.generate(seed_order, seed)
        period_index = {p: t for t, p in enumerate(periods)}
        force_index = {f.area_code: i for i, f in enumerate(forces)}
        for (code, year, q, area), n in sample.items():
            if code in sample_codes:
                counts[period_index[(year, q)], force_index[area], sample_codes[code]] = n
    counts[~np.broadcast_to(valid[:, None, :], counts.shape)] = 0
    return RecordedCrime(forces, offence_codes, counts, valid, seed_order)


# --------------------------------------------------------------------------- outcomes


@dataclass
class Outcomes:
    """Counts ``[outcome quarter, force, code, outcome type]`` on both bases; outcome
    quarters are ``outcomes.outcome_quarters()``. ``listed[outcome quarter, code,
    outcome type]`` marks the combinations the file lists for every force, zero
    counts included: each outcome type (1-22) a drawn code's profile has."""

    recorded_basis: np.ndarray
    closed_basis: np.ndarray
    listed: np.ndarray

    def rows(self) -> np.ndarray:
        """Which ``[outcome quarter, force, code, outcome type]`` the file has a row for."""
        return (self.recorded_basis != 0) | (self.closed_basis != 0) | self.listed[:, None, :, :]


def _type_validity(periods: list[tuple[int, int]]) -> np.ndarray:
    valid = np.ones((len(periods), OUTCOME_TYPES), dtype=bool)
    for outcome_type, first in outcomes.TYPE_FROM.items():
        valid[:, outcome_type] = [p >= first for p in periods]
    return valid


def generate_outcomes(recorded: RecordedCrime, seed: int) -> Outcomes:
    rng = _rng(seed, "national:outcomes")
    periods = outcomes.outcome_quarters()
    offset = quarters().index(periods[0])
    crimes = np.maximum(recorded.counts[offset:], 0)
    n_t, n_f, n_c = crimes.shape
    profile = np.zeros((n_c, OUTCOME_TYPES))
    for i, code in enumerate(recorded.codes):
        for outcome_type, share in OUTCOME_PROFILES[code.profile].items():
            profile[i, outcome_type] = share
    type_validity = _type_validity(periods)
    leaning = rng.lognormal(0.0, LEANING_SIGMA, (n_f, OUTCOME_TYPES))
    weights = profile[None, None, :, :] * leaning[None, :, None, :] * type_validity[:, None, None, :]
    weights /= weights.sum(axis=-1, keepdims=True)
    # Investigations closed in the quarter: 90-100% of the quarter's crimes.
    assigned = np.rint(crimes * rng.uniform(*outcomes.CLOSED_RATIO, crimes.shape)).astype(np.int64)
    closed = rng.multinomial(assigned, weights)
    # Crimes recorded in the quarter: each once, under its outcome or type 0.
    last = LAST_YEAR * 4 + 4
    age = np.array([last - (y * 4 + q) for y, q in periods])
    pending = outcomes.PENDING_FLOOR + outcomes.PENDING_RECENT * np.exp(-age / outcomes.PENDING_DECAY)
    not_assigned = np.minimum(
        crimes,
        np.rint(crimes * pending[:, None, None] * rng.uniform(0.8, 1.2, crimes.shape)).astype(np.int64),
    )
    on_recorded = rng.multinomial(crimes - not_assigned, weights)
    on_recorded[..., 0] = not_assigned

    drawn = np.array([c.national is not None for c in recorded.codes])
    listed_types = (profile > 0) & drawn[:, None]
    code_validity = recorded.valid[offset:]
    listed_cells = listed_types[None, :, :] & type_validity[:, None, :] & code_validity[:, :, None]

    # The small sample's outcome codes: exactly its figures.
    sample_codes = {c.code: i for i, c in enumerate(recorded.codes) if c.code in outcomes.CODES}
    if sample_codes:
        counts = {
            (c.code, y, q, f.area_code): int(recorded.counts[t, i, j])
            for j, c in enumerate(recorded.codes)
            if c.code in sample_codes
            for t, (y, q) in enumerate(quarters())
            for i, f in enumerate(recorded.forces)
        }
        sample_closed, sample_recorded = outcomes.generate(recorded.seed_order, counts, seed)
        for j in sample_codes.values():
            closed[:, :, j, :] = 0
            on_recorded[:, :, j, :] = 0
        period_index = {p: t for t, p in enumerate(periods)}
        force_index = {f.area_code: i for i, f in enumerate(recorded.forces)}
        for target, cells in ((closed, sample_closed), (on_recorded, sample_recorded)):
            for (code, year, q, area, outcome_type), n in cells.items():
                target[period_index[(year, q)], force_index[area], sample_codes[code], outcome_type] = n
    return Outcomes(on_recorded, closed, listed_cells)


# --------------------------------------------------------------------------- court outcomes


@dataclass(frozen=True)
class CourtOffenceRow:
    """An offence of the court outcomes file: its label, mode of trial and group."""

    key: str
    label: str
    kind: tuple[str, str]  # (Offence Type, Offence Group)


def court_categories() -> list[tuple[str, ...]]:
    """Every defendant category ``(sex, age group, court, convicted, sentenced, outcome,
    length)`` the court outcomes file can hold, in the order written."""
    categories = []
    for sex in (moj.MALE, moj.FEMALE):
        for age in (moj.ADULTS, JUVENILES):
            for court in (moj.MAGISTRATES, moj.CROWN):
                for outcome in SENTENCES[court]:
                    if outcome != moj.CUSTODY:
                        lengths: tuple[str, ...] = ("",)
                    elif court == moj.MAGISTRATES:
                        lengths = (moj.UP_TO_6_MONTHS,)
                    else:
                        lengths = moj.LENGTHS
                    for length in lengths:
                        categories.append((sex, age, court, moj.CONVICTED, moj.SENTENCED, outcome, length))
                for outcome in NOT_CONVICTED[court]:
                    categories.append((sex, age, court, moj.NOT_CONVICTED, moj.NOT_SENTENCED, outcome, ""))
    return categories


def _category_weights(mode: str, rng: np.random.Generator, categories: list[tuple[str, ...]]) -> np.ndarray:
    """An offence's share of defendants in each category (summing to 1)."""
    convicted = CONVICTION_RATIO[mode]
    crown = CROWN_SHARE[mode]
    weights = np.zeros(len(categories))
    for k, (sex, age, court, conv, _, outcome, length) in enumerate(categories):
        at_crown = court == moj.CROWN
        share = (MALE_SHARE if sex == moj.MALE else 1 - MALE_SHARE) * (
            JUVENILE_SHARE if age == JUVENILES else 1 - JUVENILE_SHARE
        )
        if age == JUVENILES and at_crown:
            share *= 0.1  # juveniles are mostly tried in the youth court
        share *= crown if at_crown else 1 - crown
        if conv == moj.CONVICTED:
            share *= convicted * SENTENCES[court][outcome]
            if outcome == moj.CUSTODY and at_crown:
                share *= CROWN_LENGTHS[moj.LENGTHS.index(length)]
        else:
            share *= (1 - convicted) * NOT_CONVICTED[court][outcome]
        weights[k] = share
    weights *= rng.lognormal(0.0, MIX_SIGMA, len(categories))
    return weights / weights.sum()


def generate_court_outcomes(
    forces: Sequence[Force], offence_codes: list[Code], seed: int
) -> tuple[list[str], list[CourtOffenceRow], list[tuple[str, ...]], np.ndarray]:
    """(area names, offences, categories, counts ``[year, area, offence, category]``).

    Areas are the MoJ spellings of the territorial forces, by name, then ``Not
    known``; offences the small sample's (its figures exactly) then one per
    synthetic offence code.
    """
    names = moj.pfa_names(forces)
    areas = sorted(names.values(), key=str.lower) + [moj.NOT_KNOWN]
    code_of = {name: code for code, name in names.items()}
    categories = court_categories()
    category_index = {c: k for k, c in enumerate(categories)}
    years = list(range(FIRST_YEAR, LAST_YEAR + 1))
    offences = [CourtOffenceRow(o.key, o.label, o.kind) for o in moj.OFFENCES]
    drawn = [c.national for c in offence_codes if c.national is not None]
    offences += [CourtOffenceRow(o.code, o.description, (o.mode_of_trial, o.court_group)) for o in drawn]
    counts = np.zeros((len(years), len(areas), len(offences), len(categories)), dtype=np.int64)

    if drawn:
        rng = _rng(seed, "national:court_outcomes")
        size = np.array([size_of(code_of[a]) if a in code_of else moj.NOT_KNOWN_WEIGHT for a in areas])
        mix = np.stack([_category_weights(o.mode_of_trial, rng, categories) for o in drawn])
        prosecuted = np.array([o.level * 4 * PROSECUTION_RATIO[o.profile] for o in drawn])
        growth = np.array([o.growth for o in drawn])
        yearly = prosecuted[None, :] * growth[None, :] ** (np.array(years) - 2016)[:, None]
        caseload = size[:, None] * rng.lognormal(0.0, AREA_SIGMA, (len(areas), len(drawn)))
        caseload /= caseload.sum(axis=0, keepdims=True)
        level = (
            yearly[:, None, :]
            * caseload[None, :, :]
            * rng.lognormal(0.0, YEAR_SIGMA, (len(years), len(areas), len(drawn)))
        )
        in_use = np.array(years)[:, None] >= np.array([o.first_year for o in drawn])[None, :]
        level *= in_use[:, None, :]
        counts[:, :, len(moj.OFFENCES) :, :] = rng.poisson(level[..., None] * mix[None, None, :, :])

    # The small sample's court offences: exactly its figures.
    offence_index = {o.key: i for i, o in enumerate(offences)}
    area_index = {a: i for i, a in enumerate(areas)}
    for (area, year, key, category), n in moj.court_outcomes(forces, seed).items():
        sex, court, conv, sent, outcome, length = category
        k = category_index[(sex, moj.ADULTS, court, conv, sent, outcome, length)]
        counts[year - FIRST_YEAR, area_index[area], offence_index[key], k] = n
    return areas, offences, categories, counts


# --------------------------------------------------------------------------- writing


_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


def _labels(values: Sequence[str], index: np.ndarray) -> pa.Array:
    """``values[index]`` as an Arrow string column."""
    return pa.array(list(values), pa.string()).take(pa.array(index, pa.int32()))


def _csv_rows(columns: Sequence[pa.Array]) -> bytes:
    """Data rows as CSV (no header), quoting only what needs it, like ``csv_bytes``."""
    table = pa.table({f"c{i}": column for i, column in enumerate(columns)})
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, write_options=_CSV_OPTIONS)
    return buffer.getvalue()


def _write_csv(handle, title_row: str, header: Sequence[str], batches: Iterable[Sequence[pa.Array]]) -> None:
    handle.write(csv_bytes([header], title_row=title_row))
    for columns in batches:
        if len(columns[0]):
            handle.write(_csv_rows(columns))


def _write_csv_file(
    path: Path, title_row: str, header: Sequence[str], batches: Iterable[Sequence[pa.Array]]
) -> Path:
    """Write a CSV file through a hidden partial file (as ``write_bytes`` does)."""
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "wb") as handle:
        _write_csv(handle, title_row, header, batches)
    os.replace(partial, path)
    return path


def _recorded_crime_batches(data: RecordedCrime) -> Iterable[list[pa.Array]]:
    names = [f.name for f in data.forces]
    for t, (year, q) in enumerate(quarters()):
        code_index = np.flatnonzero(data.valid[t])
        f, c = np.meshgrid(np.arange(len(names)), code_index, indexing="ij")
        f, c = f.ravel(), c.ravel()
        n = len(f)
        yield [
            _labels([financial_year_label(year)], np.zeros(n, dtype=np.int32)),
            pa.array(np.full(n, q)),
            _labels(names, f),
            _labels([x.description for x in data.codes], c),
            _labels([x.group for x in data.codes], c),
            _labels([x.subgroup for x in data.codes], c),
            _labels([x.code for x in data.codes], c),
            pa.array(data.counts[t, f, c]),
        ]


def write_recorded_crime(out_dir: Path, data: RecordedCrime, seed: int) -> Path:
    what = (
        "National-scale police recorded crime: every offence code of a synthetic list (not the Home Office "
        "classification; 8L, 8M, 8Q, 8R and 9A as in the small sample), invented figures."
    )
    return _write_csv_file(
        Path(out_dir) / RECORDED_CRIME_FILE,
        title(seed, what),
        recorded_crime.HEADER,
        _recorded_crime_batches(data),
    )


def _outcome_batches(data: Outcomes, recorded: RecordedCrime, seeds_dir: Path) -> Iterable[list[pa.Array]]:
    types = outcomes.read_outcome_types(seeds_dir)
    type_labels = [types[t].description if t in types else "" for t in range(OUTCOME_TYPES)]
    group_labels = [types[t].group if t in types else "" for t in range(OUTCOME_TYPES)]
    missing_forces = [i for i, f in enumerate(recorded.forces) if f.area_code in outcomes.NOT_PROVIDED_FORCES]
    names = [f.name for f in recorded.forces]
    for t, (year, q) in enumerate(outcomes.outcome_quarters()):
        on_recorded, on_closed = data.recorded_basis[t], data.closed_basis[t]
        f, c, k = np.nonzero((on_recorded != 0) | (on_closed != 0) | data.listed[t][None, :, :])
        n = len(f)
        recorded_column: pa.Array = pa.array(on_recorded[f, c, k])
        closed_column: pa.Array = pa.array(on_closed[f, c, k])
        if (year, q) == outcomes.NOT_PROVIDED_QUARTER and missing_forces:
            marker = pa.scalar(outcomes.NOT_PROVIDED)
            mask = pa.array(np.isin(f, missing_forces))
            recorded_column = pa_compute.if_else(mask, marker, recorded_column.cast(pa.string()))
            closed_column = pa_compute.if_else(mask, marker, closed_column.cast(pa.string()))
        yield [
            _labels([financial_year_label(year)], np.zeros(n, dtype=np.int32)),
            pa.array(np.full(n, q)),
            _labels(names, f),
            _labels([x.code for x in recorded.codes], c),
            _labels([x.description for x in recorded.codes], c),
            _labels([x.group for x in recorded.codes], c),
            _labels([x.subgroup for x in recorded.codes], c),
            pa.nulls(n, pa.string()),
            pa.array(k),
            _labels(type_labels, k),
            _labels(group_labels, k),
            recorded_column,
            closed_column,
        ]


def write_outcomes(
    out_dir: Path, data: Outcomes, recorded: RecordedCrime, seeds_dir: Path, seed: int
) -> Path:
    what = (
        "National-scale crime outcomes, financial years 2014/15 to 2024/25, every offence code of a synthetic "
        "list (8L, 8M, 8Q and 8R as in the small sample); invented figures."
    )
    return _write_csv_file(
        Path(out_dir) / OUTCOMES_FILE,
        title(seed, what),
        outcomes.HEADER,
        _outcome_batches(data, recorded, seeds_dir),
    )


def _court_batches(
    areas: list[str], offences: list[CourtOffenceRow], categories: list[tuple[str, ...]], counts: np.ndarray
) -> Iterable[list[pa.Array]]:
    columns = list(zip(*categories, strict=True))  # sex, age, court, convicted, sentenced, outcome, length
    for y, year in enumerate(range(FIRST_YEAR, LAST_YEAR + 1)):
        a, o, k = np.nonzero(counts[y])
        n = len(a)
        yield [
            _labels(areas, a),
            pa.array(np.full(n, year)),
            _labels(columns[0], k),
            _labels(columns[1], k),
            _labels(columns[2], k),
            _labels([x.kind[0] for x in offences], o),
            _labels([x.kind[1] for x in offences], o),
            _labels([x.label for x in offences], o),
            _labels(columns[3], k),
            _labels(columns[4], k),
            _labels(columns[5], k),
            _labels(columns[6], k),
            pa.array(counts[y, a, o, k]),
        ]


def write_moj(
    out_dir: Path, forces: Sequence[Force], offence_codes: list[Code], seeds_dir: Path, seed: int
) -> tuple[Path, int]:
    """The zip archive: court outcomes for every offence, and the small sample's
    restraining orders. Returns its path and the court outcomes' rows."""
    check_spellings(
        seeds_dir,
        {name: code for code, name in moj.pfa_names(forces).items()} | {moj.NOT_KNOWN: ""},
        "force_name_variants.csv",
        "area_code",
    )
    areas, offences, categories, counts = generate_court_outcomes(forces, offence_codes, seed)
    orders = moj.restraining_orders(forces, seed)
    order_rows = [
        [year, area, "All offences", c, a]
        for (year, area), (c, a) in sorted(
            orders.items(), key=lambda item: (item[0][0], moj._area_order(item[0][1]))
        )
    ]
    court_title = title(
        seed,
        "National-scale court outcomes by police force area (Outcomes by Offence), every offence of a synthetic "
        "list; harassment and stalking offences as in the small sample, everything else invented.",
    )
    orders_csv = csv_bytes(
        [moj.ORDERS_HEADER, *order_rows],
        title_row=title(
            seed, "Restraining orders issued on conviction and on acquittal by police force area."
        ),
    )
    path = Path(out_dir) / MOJ_FILE
    partial = path.with_name(f".{path.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, writer in (
            (
                moj.COURT_OUTCOMES_MEMBER.replace("synthetic", "national-synthetic"),
                lambda handle: _write_csv(
                    handle, court_title, moj.COURT_HEADER, _court_batches(areas, offences, categories, counts)
                ),
            ),
            (
                moj.RESTRAINING_ORDERS_MEMBER.replace("synthetic", "national-synthetic"),
                lambda handle: handle.write(orders_csv),
            ),
        ):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as handle:
                writer(handle)
    os.replace(partial, path)
    return path, int(np.count_nonzero(counts))


# --------------------------------------------------------------------------- ONS tables


@dataclass(frozen=True)
class OnsRelease:
    period: str  # as the title says it
    quarters: tuple[tuple[int, int], ...]
    file_name: str


def ons_releases() -> list[OnsRelease]:
    """One release per year ending March 2013-2025, and the year ending December 2016."""
    releases = [
        OnsRelease(
            "year ending December 2016",
            recorded_crime.YE_DEC_2016,
            "police-force-area-data-tables-year-ending-december-2016-national-synthetic.xlsx",
        )
    ]
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        suffix = "ods" if year + 1 == 2024 else "xlsx"
        releases.append(
            OnsRelease(
                f"year ending March {year + 1}",
                tuple((year, q) for q in range(1, 5)),
                f"police-force-area-data-tables-year-ending-march-{year + 1}-national-synthetic.{suffix}",
            )
        )
    return releases


def ons_rows(data: RecordedCrime, release: OnsRelease) -> list[list[object]]:
    """England and Wales, England, the English forces, Wales, the Welsh forces: total
    recorded crime, violence against the person, and stalking and harassment (8L, 8M,
    8Q and 8R), each summed from the recorded crime table over the release's quarters."""
    index = [quarters().index(p) for p in release.quarters]
    window = data.counts[index].sum(axis=0)  # [force, code]
    vap = [i for i, c in enumerate(data.codes) if c.group == recorded_crime.VAP]
    sh = [i for i, c in enumerate(data.codes) if c.subgroup == recorded_crime.STALKING_AND_HARASSMENT]
    values = {
        f.area_code: (int(window[i].sum()), int(window[i, vap].sum()), int(window[i, sh].sum()))
        for i, f in enumerate(data.forces)
    }

    def summed(area_codes: Sequence[str]) -> list[int]:
        return [sum(values[c][j] for c in area_codes) for j in range(3)]

    english = sorted(c for c in values if c.startswith("E"))
    welsh = sorted(c for c in values if c.startswith("W"))
    names = {f.area_code: ons_pfa.ONS_SPELLING.get(f.area_code, f.name) for f in data.forces}
    rows: list[list[object]] = [[*ons_pfa.ENGLAND_AND_WALES, *summed(list(values))]]
    rows.append([*ons_pfa.ENGLAND, *summed(english)])
    rows += [[code, names[code], *values[code]] for code in english]
    rows.append([*ons_pfa.WALES, *summed(welsh)])
    rows += [[code, names[code], *values[code]] for code in welsh]
    return rows


def write_ons(out_dir: Path, data: RecordedCrime, seed: int) -> list[Path]:
    paths = []
    btp = any(f.area_code == BTP for f in data.forces)
    for release in ons_releases():
        notes = [
            [title(seed, f"Police force area data tables, {release.period}; invented figures.")],
            [],
            ["A synthetic stand-in for the ONS 'Police force area data tables'. The data are on 'Table P1'."],
            [
                "Every column is summed from the national-scale synthetic police recorded crime table over the "
                "four quarters: all its offence codes, those of violence against the person, and 8L, 8M, 8Q, 8R."
            ],
        ]
        if btp:
            notes.append(
                ["England and Wales includes British Transport Police, which is not a police force area."]
            )
        data_sheet = Sheet(
            ons_pfa.SHEET_NAME,
            [
                [title(seed, "Police recorded crime by police force area; invented figures.")],
                [
                    "Table P1: Police recorded crime by offence group and police force area, English and Welsh "
                    f"police forces, {release.period}"
                ],
                list(ons_pfa.HEADER),
                *ons_rows(data, release),
            ],
            widths={"A": 14, "B": 26, "C": 22, "D": 22, "E": 22},
            bold_rows=frozenset({1, 2, 3}),
        )
        sheets = [Sheet("Notes", notes, widths={"A": 120}), data_sheet]
        name = f"Synthetic police force area data tables, {release.period}"
        content = ods_bytes(sheets, name) if release.file_name.endswith(".ods") else xlsx_bytes(sheets, name)
        paths.append(write_bytes(Path(out_dir) / release.file_name, content))
    return paths


# --------------------------------------------------------------------------- the data set


def _readme(paths: Sequence[Path], seed: int, sizes: dict[str, int]) -> str:
    lines = [
        "# National-scale data: SYNTHETIC, not official statistics",
        "",
        f"Written by `hsinsight sample --scale national` (seed {seed}) for the benchmarks (`make bench`).",
        "Every figure is invented apart from the England and Wales totals the small sample is calibrated",
        "to; the offence codes other than 8L, 8M, 8Q, 8R and 9A are a synthetic list, not the Home",
        "Office's. Every data table opens with a `SYNTHETIC SAMPLE DATA` row. Not committed; regenerate",
        "at will (see `src/hsinsight/sample/national.py`).",
        "",
        "| file | bytes |",
        "| --- | --- |",
        *[f"| `{p.name}` | {p.stat().st_size:,} |" for p in paths],
        "",
        "| table | rows |",
        "| --- | --- |",
        *[f"| {name} | {rows:,} |" for name, rows in sizes.items()],
        "",
    ]
    return "\n".join(lines)


def write_national(
    out_dir: Path | str,
    *,
    seed: int = SEED,
    cfg: Settings | None = None,
    forces: Sequence[str] | None = None,
    max_codes: int | None = None,
) -> list[Path]:
    """Write the national-scale data set into ``out_dir``; return the data files' paths
    (``README.md``, written last, is not listed).

    ``forces`` (area codes) and ``max_codes`` make a smaller set of the same shape.
    """
    cfg = cfg or Settings.from_env()
    every_force = read_forces(cfg.seeds_dir)
    chosen = every_force if forces is None else [f for f in every_force if f.area_code in set(forces)]
    if not chosen:
        raise ValueError(f"none of the forces {forces!r} is in forces.csv")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / README).unlink(missing_ok=True)  # the marker of a complete set goes first
    offence_codes = codes(max_codes)

    recorded = generate_recorded_crime(chosen, offence_codes, seed)
    paths = [write_recorded_crime(out_dir, recorded, seed)]
    outcome_counts = generate_outcomes(recorded, seed)
    paths.append(write_outcomes(out_dir, outcome_counts, recorded, cfg.seeds_dir, seed))
    moj_path, court_rows = write_moj(out_dir, chosen, offence_codes, cfg.seeds_dir, seed)
    paths.append(moj_path)
    paths += write_ons(out_dir, recorded, seed)
    paths += cps.write(out_dir, chosen, cfg.seeds_dir, seed)
    paths += population.write(out_dir, chosen, seed)
    paths += csew.write(out_dir, seed)

    sizes = {
        "police recorded crime": int(recorded.valid.sum()) * len(recorded.forces),
        "crime outcomes": int(outcome_counts.rows().sum()),
        "court outcomes": court_rows,
    }
    (out_dir / README).write_text(_readme(paths, seed, sizes), encoding="utf-8")
    return paths


def is_complete(out_dir: Path | str) -> bool:
    """Whether ``out_dir`` holds a whole national data set (its README is written last)."""
    return (Path(out_dir) / README).is_file()
