"""Every query the dashboards run, in one place.

Reading the warehouse
    A read opens an in-memory DuckDB connection, ATTACHes the published warehouse
    READ_ONLY under its file stem (the catalog name the dbt build used, which its
    views refer to) and runs statements with bound parameters (``$name``). The
    pipeline publishes a new warehouse by ``os.replace`` onto the same path, so:

    * no connection outlives a script run: :func:`batch` (which ``app.py`` wraps
      round every page run) shares one connection between the queries of that run,
      opened at the first query that misses the cache and closed when the run ends,
      stops or reruns; a query outside a batch opens and closes its own;
    * a connection that is open while a new file is published goes on reading the
      file it attached (the old inode), so one run never mixes two versions;
    * nothing here ever writes: the warehouse is attached read-only.

    SQL lives only in this module's ``*_SQL`` constants. Values chosen by users
    (force, CPS Area, offence, period) travel as bound parameters, never as text
    in the statement.

Caching
    Results are cached with ``st.cache_data``, keyed on the statement, its
    parameters and a :data:`WarehouseVersion` ``(path, inode, mtime_ns)``. A newly
    published file has a new inode and modification time, so every open page shows
    the new figures on its next rerun and the old entries age out.

Run history
    ``runs.duckdb`` beside the warehouse holds the pipeline's run log (runs,
    check_results, check_findings). It is read the same way, keyed on its own
    inode and mtime, and may be missing (no runs recorded yet).

Benchmarks
    :data:`PAGE_QUERIES` maps each page's slug to a function that runs every query
    the page issues with its default filters, through one connection and without
    the cache: ``bench/`` times them.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from hsinsight.config import Settings

#: England and Wales in every mart (area_type 'national').
NATIONAL_CODE = "K04000001"
NATIONAL_NAME = "England and Wales"

#: (path, inode, mtime_ns) of a published file: the cache key of everything read from it.
WarehouseVersion = tuple[str, int, int]

#: The run log's file name, in the warehouse's folder.
RUNS_FILE = "runs.duckdb"

_CACHE = {"show_spinner": False, "max_entries": 512}


# --------------------------------------------------------------------------- where


def warehouse_path(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The published warehouse the dashboard reads.

    In order: the ``HSINSIGHT_WAREHOUSE`` environment variable; ``--warehouse PATH``
    given after ``--`` on the ``streamlit run`` command line; the project default
    (``Settings.from_env().warehouse``).
    """
    environ = os.environ if environ is None else environ
    if environ.get("HSINSIGHT_WAREHOUSE"):
        return Path(environ["HSINSIGHT_WAREHOUSE"]).expanduser().resolve()
    from_args = _warehouse_argument(list(sys.argv[1:] if argv is None else argv))
    if from_args:
        return Path(from_args).expanduser().resolve()
    return Settings.from_env().warehouse


def _warehouse_argument(args: list[str]) -> str | None:
    # A hand parser rather than argparse: the script's argv may hold anything
    # (under a test runner it is the runner's own), and argparse exits on surprises.
    for i, arg in enumerate(args):
        if arg == "--warehouse" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--warehouse="):
            return arg.split("=", 1)[1]
    return None


def file_version(path: Path) -> WarehouseVersion | None:
    """The cache key for the file now at ``path``, or None when there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (str(path), stat.st_ino, stat.st_mtime_ns)


def warehouse_version(path: Path) -> WarehouseVersion | None:
    """The cache key for the warehouse now at ``path``, or None when nothing is published."""
    return file_version(path)


def runs_path(version: WarehouseVersion) -> Path:
    """Where the pipeline's run log lives: beside the warehouse."""
    return Path(version[0]).parent / RUNS_FILE


# --------------------------------------------------------------------------- how


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _open(path: str) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with ``path`` attached read-only under its file stem."""
    con = duckdb.connect(":memory:")
    try:
        alias = _quote_identifier(Path(path).stem)
        con.execute(f"attach ? as {alias} (read_only)", [path])
        con.execute(f"use {alias}")
    except BaseException:
        con.close()
        raise
    return con


@dataclass
class _Batch:
    """Connections shared by the queries of one script run, opened on first use."""

    connections: dict[str, duckdb.DuckDBPyConnection] = field(default_factory=dict)
    uncached: bool = False

    def connection(self, path: str) -> duckdb.DuckDBPyConnection:
        if path not in self.connections:
            self.connections[path] = _open(path)
        return self.connections[path]

    def close(self) -> None:
        for con in self.connections.values():
            with contextlib.suppress(duckdb.Error):
                con.close()
        self.connections.clear()


_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("hsinsight_batch", default=None)


@contextlib.contextmanager
def batch(*, uncached: bool = False) -> Iterator[None]:
    """Share one connection per file between the queries run inside the block.

    Connections open at the first query that needs one and close when the block
    ends, however it ends (``st.stop`` and ``st.rerun`` end it by raising). With
    ``uncached`` every query runs against the file, bypassing the cache.
    """
    current = _BATCH.get()
    if current is not None and current.uncached == uncached:
        yield
        return
    run = _Batch(uncached=uncached)
    token = _BATCH.set(run)
    try:
        yield
    finally:
        _BATCH.reset(token)
        run.close()


def _run_sql(path: str, sql: str, params: Mapping[str, object]) -> pd.DataFrame:
    """Run one statement of this module against the file at ``path``."""
    run = _BATCH.get()
    if run is not None:
        return run.connection(path).execute(sql, dict(params)).df()
    con = _open(path)
    try:
        return con.execute(sql, dict(params)).df()
    finally:
        con.close()


@st.cache_data(**_CACHE)
def _cached(version: WarehouseVersion, sql: str, params: tuple[tuple[str, object], ...]) -> pd.DataFrame:
    return _run_sql(version[0], sql, dict(params))


def read(version: WarehouseVersion, sql: str, **params: object) -> pd.DataFrame:
    """The rows of ``sql`` (one of this module's constants) with ``params`` bound.

    Cached per file version, unless inside ``batch(uncached=True)``.
    """
    run = _BATCH.get()
    if run is not None and run.uncached:
        return _run_sql(version[0], sql, params)
    return _cached(version, sql, tuple(sorted(params.items())))


def tables_read(sql: str) -> set[str]:
    """The dbt models and seeds a statement reads, as ``schema.name``."""
    return {f"{s}.{t}" for s, t in re.findall(r"\b(marts|staging|reference)\.(\w+)", sql)}


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _iso(value: dt.date | pd.Timestamp) -> dt.date:
    return pd.Timestamp(value).date()


# =========================================================================== what
# Every page: the synthetic flag and the filter options.

ANY_SYNTHETIC_SQL = """
select coalesce(bool_or(is_synthetic), false) as any_synthetic
from marts.source_files
"""

FORCES_SQL = """
select distinct area_code, area_name
from marts.recorded_crime_12m
where area_type = 'force'
order by area_name
"""

CPS_AREAS_SQL = """
select area_code, arg_max(area_name, period_end) as area_name
from marts.attrition
where area_type = 'cps_area'
group by area_code
order by area_name
"""

PERIODS_SQL = """
select distinct period_end
from marts.recorded_crime_12m
where area_code = $national
order by period_end desc
"""


def any_synthetic(version: WarehouseVersion) -> bool:
    """True when any file the warehouse was built from is synthetic sample data."""
    return bool(read(version, ANY_SYNTHETIC_SQL).iloc[0, 0])


def forces(version: WarehouseVersion) -> pd.DataFrame:
    """Police force areas with 12-month figures (British Transport Police included):
    area_code, area_name, by name."""
    return read(version, FORCES_SQL)


def cps_areas(version: WarehouseVersion) -> pd.DataFrame:
    """CPS Areas in the attrition figures (London North and South as one): area_code,
    area_name (its latest), by name."""
    return read(version, CPS_AREAS_SQL)


def periods(version: WarehouseVersion) -> list[dt.date]:
    """Ends of England and Wales's complete 12-month windows, latest first."""
    return [_iso(v) for v in read(version, PERIODS_SQL, national=NATIONAL_CODE)["period_end"]]


def frame_queries(version: WarehouseVersion) -> None:
    """The queries ``app.py`` runs on every page before the page itself."""
    any_synthetic(version)
    forces(version)
    cps_areas(version)
    periods(version)


# --------------------------------------------------------------------------- overview

AREA_SERIES_SQL = """
select
    area_code,
    area_name,
    offence_group,
    period_end,
    offences
from marts.recorded_crime_12m
where area_code = $area_code
order by offence_group, period_end
"""


def area_series_12m(version: WarehouseVersion, area_code: str) -> pd.DataFrame:
    """Rolling 12-month recorded offences for one area, every offence group.

    Columns: area_code, area_name, offence_group, period_end (datetime64), offences.
    """
    frame = _dates(read(version, AREA_SERIES_SQL, area_code=area_code), "period_end")
    frame["offences"] = frame["offences"].astype("Int64")
    return frame


def national_series_12m(version: WarehouseVersion) -> pd.DataFrame:
    """Rolling 12-month recorded offences for England and Wales."""
    return area_series_12m(version, NATIONAL_CODE)


# --------------------------------------------------------------------------- published totals

#: Where the publishers' own totals sit beside the warehouse's. The mart is newer than
#: the others: a warehouse published before it existed has no such table, and the
#: pages ask for it first (TABLE_PRESENT_SQL) rather than fail.
PUBLISHED_TOTALS_TABLE = ("marts", "published_totals")
#: The ONS Appendix tables (Table A5a): England and Wales by financial year from 2002/03.
APPENDIX_TABLE = "ons_appendix_tables"
APPENDIX_FIRST_YEAR_START = dt.date(2002, 4, 1)
#: Published and computed totals further apart than this share of the published value
#: are highlighted: a warning to look at, never a failure.
PUBLISHED_DIFFERENCE_WARNING = 0.02

TABLE_PRESENT_SQL = """
select count(*) > 0 as present
from information_schema.tables
where table_catalog = current_database() and table_schema = $schema and table_name = $table
"""

LONG_SERIES_SQL = """
with

financial_years as (
    -- England and Wales, whole financial years (April to March) from 2002/03
    select
        offence_group,
        release,
        period_start,
        period_end,
        published_value,
        published_marker,
        try_strptime(regexp_replace(release, '^.* ending ', ''), '%B %Y') as release_month
    from marts.published_totals
    where publisher_table = $publisher_table
        and area_code = $national
        and month(period_end) = 3
        and period_start + interval 1 year = period_end + interval 1 day
        and period_start >= $first_year_start
),

latest_release as (
    -- one figure a year and offence group: the latest release's
    select *
    from financial_years
    qualify row_number() over (
        partition by offence_group, period_end order by release_month desc nulls last, release desc
    ) = 1
)

select offence_group, period_start, period_end, release, published_value, published_marker
from latest_release
order by offence_group, period_end
"""


def table_present(version: WarehouseVersion, schema: str, table: str) -> bool:
    """Whether the warehouse has the table (or view) ``schema.table``."""
    return bool(read(version, TABLE_PRESENT_SQL, schema=schema, table=table).iloc[0, 0])


def published_totals_present(version: WarehouseVersion) -> bool:
    """Whether the warehouse has marts.published_totals (older ones do not)."""
    return table_present(version, *PUBLISHED_TOTALS_TABLE)


def long_national_series(version: WarehouseVersion) -> pd.DataFrame:
    """England and Wales's recorded offences by financial year from 2002/03, as the ONS
    Appendix tables publish them (the latest release loaded for each year), one row per
    offence group and year; empty when those tables are not loaded.

    Columns: offence_group, period_start, period_end (datetime64), release,
    published_value (Int64; missing where the table has a marker), published_marker.
    """
    frame = read(
        version,
        LONG_SERIES_SQL,
        publisher_table=APPENDIX_TABLE,
        national=NATIONAL_CODE,
        first_year_start=APPENDIX_FIRST_YEAR_START,
    )
    frame = _dates(frame, "period_start", "period_end")
    frame["published_value"] = frame["published_value"].astype("Int64")
    return frame


# --------------------------------------------------------------------------- force comparison

RATIO_PERIODS_SQL = """
select period_end
from marts.recording_practice
where area_code = $national and harassment_to_stalking_ratio is not null
order by period_end desc
"""

RECORDING_PRACTICE_SQL = """
select
    area_code,
    area_name,
    area_type,
    period_end,
    peer_group,
    peer_group_name,
    harassment_offences,
    stalking_offences,
    harassment_to_stalking_ratio,
    national_ratio,
    msg_ratio,
    median_force_ratio,
    robust_z_score,
    outlier_flag,
    outlier_direction
from marts.recording_practice
where period_end = $period_end
order by area_type, harassment_to_stalking_ratio desc nulls last, area_name
"""

RATIO_TREND_SQL = """
select
    area_code,
    area_name,
    period_end,
    peer_group_name,
    harassment_to_stalking_ratio,
    national_ratio,
    msg_ratio,
    outlier_flag
from marts.recording_practice
where area_code = $area_code and harassment_to_stalking_ratio is not null
order by period_end
"""

FORCE_RATES_SQL = """
with

rates as (
    select
        recorded.area_code,
        recorded.area_name,
        recorded.area_type,
        recorded.offences,
        recorded.population,
        recorded.rate_per_1000,
        peers.peer_group,
        peers.peer_group_name
    from marts.recorded_crime_12m as recorded
    left join reference.force_peer_groups as peers
        on recorded.area_code = peers.area_code
    where recorded.period_end = $period_end and recorded.offence_group = $offence_group
),

group_sizes as (
    select peer_group, count(*) as forces_in_group
    from reference.force_peer_groups
    group by peer_group
),

group_rates as (
    -- A group's rate is its total over its residents, and only when every one of
    -- its forces has the figure (a short total would understate it).
    select
        rates.peer_group,
        case
            when count(rates.rate_per_1000) = any_value(group_sizes.forces_in_group)
                then 1000.0 * sum(rates.offences) / sum(rates.population)
        end as msg_rate_per_1000
    from rates
    inner join group_sizes on rates.peer_group = group_sizes.peer_group
    group by rates.peer_group
),

national as (
    select rate_per_1000 as national_rate_per_1000
    from rates
    where area_type = 'national'
)

select
    rates.area_code,
    rates.area_name,
    rates.peer_group_name,
    rates.offences,
    rates.population,
    rates.rate_per_1000,
    group_rates.msg_rate_per_1000,
    national.national_rate_per_1000
from rates
cross join national
left join group_rates on rates.peer_group = group_rates.peer_group
where rates.area_type = 'force'
order by rates.rate_per_1000 desc nulls last, rates.area_name
"""


def ratio_periods(version: WarehouseVersion) -> list[dt.date]:
    """12-month periods with an England and Wales harassment-to-stalking ratio, latest first."""
    return [_iso(v) for v in read(version, RATIO_PERIODS_SQL, national=NATIONAL_CODE)["period_end"]]


def recording_practice(version: WarehouseVersion, period_end: dt.date) -> pd.DataFrame:
    """Every area's harassment-to-stalking ratio for one 12-month period, with England
    and Wales's, its most similar group's and the outlier flag."""
    return _dates(read(version, RECORDING_PRACTICE_SQL, period_end=period_end), "period_end")


def ratio_trend(version: WarehouseVersion, area_code: str) -> pd.DataFrame:
    """One force's ratio over time beside England and Wales's and its group's."""
    return _dates(read(version, RATIO_TREND_SQL, area_code=area_code), "period_end")


def force_rates(version: WarehouseVersion, period_end: dt.date, offence_group: str) -> pd.DataFrame:
    """Every force's offences per 1,000 residents for one period and offence, with its
    most similar group's rate and England and Wales's."""
    return read(version, FORCE_RATES_SQL, period_end=period_end, offence_group=offence_group)


# --------------------------------------------------------------------------- outcomes

OUTCOME_PERIODS_SQL = """
select distinct period_end
from marts.outcomes_12m
where area_code = $national and offence_group = $offence_group
order by period_end desc
"""

OUTCOME_MIX_SQL = """
with

outcomes as (
    select outcomes_12m.*, peers.peer_group, peers.peer_group_name
    from marts.outcomes_12m
    left join reference.force_peer_groups as peers
        on outcomes_12m.area_code = peers.area_code
    where outcomes_12m.period_end = $period_end and outcomes_12m.offence_group = $offence_group
),

chosen as (
    select area_code, area_name, 1 as area_order, outcome_group, outcome_group_name, outcomes, assigned_outcomes
    from outcomes
    where area_code = $area_code
),

national as (
    select area_code, area_name, 0 as area_order, outcome_group, outcome_group_name, outcomes, assigned_outcomes
    from outcomes
    where area_code = $national
),

peer_group as (
    -- The chosen force's most similar group, its forces' outcomes added together.
    select
        'msg:' || any_value(peer_group) as area_code,
        'Most similar group: ' || any_value(peer_group_name) as area_name,
        2 as area_order,
        outcome_group,
        any_value(outcome_group_name) as outcome_group_name,
        sum(outcomes) as outcomes,
        sum(assigned_outcomes) as assigned_outcomes
    from outcomes
    where peer_group = (select peers.peer_group from reference.force_peer_groups as peers where peers.area_code = $area_code)
    group by outcome_group
),

areas as (
    select * from national
    union all
    select * from chosen
    union all
    select * from peer_group
)

select
    area_code,
    area_name,
    area_order,
    outcome_group,
    outcome_group_name,
    outcomes,
    assigned_outcomes,
    outcomes / nullif(assigned_outcomes, 0) as share
from areas
order by area_order, outcome_group
"""

OUTCOME_FORCES_SQL = """
select
    area_code,
    area_name,
    area_type,
    max(assigned_outcomes) as assigned_outcomes,
    sum(share) filter (where outcome_group = 'charged_summonsed') as charged_summonsed_share,
    sum(share) filter (where outcome_group = 'evidential_difficulties_victim_does_not_support')
        as victim_does_not_support_share,
    sum(share) filter (where outcome_group = 'no_suspect_identified') as no_suspect_share
from marts.outcomes_12m
where period_end = $period_end and offence_group = $offence_group
group by area_code, area_name, area_type
order by area_type, charged_summonsed_share desc nulls last, area_name
"""

OUTCOME_TREND_SQL = """
select
    area_code,
    area_name,
    period_end,
    outcome_group,
    outcome_group_name,
    outcomes,
    assigned_outcomes,
    share
from marts.outcomes_12m
where area_code in ($national, $area_code)
    and offence_group = $offence_group
    and outcome_group in (
        'charged_summonsed', 'evidential_difficulties_victim_does_not_support', 'no_suspect_identified'
    )
order by area_code = $national desc, outcome_group, period_end
"""


def outcome_periods(version: WarehouseVersion, offence_group: str) -> list[dt.date]:
    """12-month periods with England and Wales outcomes for an offence, latest first."""
    frame = read(version, OUTCOME_PERIODS_SQL, national=NATIONAL_CODE, offence_group=offence_group)
    return [_iso(v) for v in frame["period_end"]]


def outcome_mix(
    version: WarehouseVersion, period_end: dt.date, offence_group: str, area_code: str | None
) -> pd.DataFrame:
    """Outcome group shares for England and Wales, and for a force and its most
    similar group when one is chosen."""
    return read(
        version,
        OUTCOME_MIX_SQL,
        period_end=period_end,
        offence_group=offence_group,
        area_code=area_code or "",
        national=NATIONAL_CODE,
    )


def outcome_forces(version: WarehouseVersion, period_end: dt.date, offence_group: str) -> pd.DataFrame:
    """Every area's charge/summons, victim-does-not-support and no-suspect shares."""
    return read(version, OUTCOME_FORCES_SQL, period_end=period_end, offence_group=offence_group)


def outcome_trend(version: WarehouseVersion, offence_group: str, area_code: str | None) -> pd.DataFrame:
    """Three outcome shares over time for England and Wales (and a force)."""
    frame = read(
        version,
        OUTCOME_TREND_SQL,
        national=NATIONAL_CODE,
        area_code=area_code or NATIONAL_CODE,
        offence_group=offence_group,
    )
    return _dates(frame, "period_end")


# --------------------------------------------------------------------------- conversion

ATTRITION_YEARS_SQL = """
select financial_year, period_end
from marts.attrition
where area_code = $national and offence_group = $offence_group
order by period_end desc
"""

ATTRITION_SQL = """
select
    area_code,
    area_name,
    area_type,
    financial_year,
    period_end,
    offence_group,
    recorded,
    charged_summonsed,
    prosecuted,
    convicted,
    charged_per_recorded,
    prosecuted_per_charged,
    convicted_per_prosecuted,
    prosecuted_per_recorded,
    convicted_per_recorded
from marts.attrition
where financial_year = $financial_year and offence_group = $offence_group
order by area_type desc, convicted_per_recorded desc nulls last, area_name
"""

PROSECUTION_GAP_SQL = """
select
    area_code,
    area_name,
    financial_year,
    period_end,
    recorded_stalking,
    stalking_prosecutions,
    stalking_convictions,
    share_prosecuted,
    conviction_rate
from marts.prosecution_gap
where area_code in ($national, $area_code)
order by area_code = $national desc, period_end
"""


def attrition_years(version: WarehouseVersion, offence_group: str) -> pd.DataFrame:
    """Financial years with England and Wales attrition figures: financial_year,
    period_end (date), latest first."""
    frame = read(version, ATTRITION_YEARS_SQL, national=NATIONAL_CODE, offence_group=offence_group)
    frame["period_end"] = [_iso(v) for v in frame["period_end"]]
    return frame


def attrition(version: WarehouseVersion, financial_year: str, offence_group: str) -> pd.DataFrame:
    """Recorded, charged, prosecuted and convicted for one financial year and offence:
    England and Wales first, then every CPS Area."""
    return read(version, ATTRITION_SQL, financial_year=financial_year, offence_group=offence_group)


def prosecution_gap(version: WarehouseVersion, area_code: str | None) -> pd.DataFrame:
    """Recorded stalking against stalking prosecutions over time: England and Wales
    (and a CPS Area)."""
    frame = read(version, PROSECUTION_GAP_SQL, national=NATIONAL_CODE, area_code=area_code or NATIONAL_CODE)
    return _dates(frame, "period_end")


# --------------------------------------------------------------------------- courts

COURT_YEARS_SQL = """
select distinct calendar_year
from marts.court_outcomes
where area_code = $national
order by calendar_year desc
"""

COURT_OUTCOMES_SQL = """
select
    area_code,
    area_name,
    calendar_year,
    offence_section,
    offence_group,
    prosecuted,
    convicted,
    conviction_ratio,
    sentenced,
    immediate_custody,
    suspended_sentence,
    community_sentence,
    fine,
    conditional_discharge,
    absolute_discharge,
    otherwise_dealt_with,
    custody_12_months_or_more
from marts.court_outcomes
where area_code in ($national, $area_code)
order by area_code = $national desc, calendar_year, offence_section
"""

RESTRAINING_ORDERS_SQL = """
select
    area_code,
    area_name,
    calendar_year,
    offence_scope,
    orders_on_conviction,
    orders_on_acquittal
from marts.restraining_orders
where area_code in ($national, $area_code)
order by area_code = $national desc, offence_scope, calendar_year
"""

COURT_SECTIONS_SQL = """
select offence_section, any_value(offence_label) as offence_label, any_value(note) as note
from reference.court_offences
where offence_section is not null
group by offence_section
"""


def court_years(version: WarehouseVersion) -> list[int]:
    """Calendar years with England and Wales court figures, latest first."""
    return [int(v) for v in read(version, COURT_YEARS_SQL, national=NATIONAL_CODE)["calendar_year"]]


def court_outcomes(version: WarehouseVersion, area_code: str | None) -> pd.DataFrame:
    """Court outcomes by Protection from Harassment Act section, every year: England
    and Wales first (and a police force area)."""
    return read(version, COURT_OUTCOMES_SQL, national=NATIONAL_CODE, area_code=area_code or NATIONAL_CODE)


def restraining_orders(version: WarehouseVersion, area_code: str | None) -> pd.DataFrame:
    """Restraining orders on conviction and on acquittal, every year and scope."""
    return read(version, RESTRAINING_ORDERS_SQL, national=NATIONAL_CODE, area_code=area_code or NATIONAL_CODE)


def court_sections(version: WarehouseVersion) -> pd.DataFrame:
    """The court_offences seed's label and note for each Act section the marts use."""
    return read(version, COURT_SECTIONS_SQL)


# --------------------------------------------------------------------------- force profile

PROFILE_SQL = """
select *
from marts.problem_profile
where area_code = $area_code
order by period_end
"""


def problem_profile(version: WarehouseVersion, area_code: str) -> pd.DataFrame:
    """Every problem_profile row of one force (one per 12-month period), oldest first."""
    return _dates(read(version, PROFILE_SQL, area_code=area_code), "period_end")


# --------------------------------------------------------------------------- data quality

SOURCE_FILES_SQL = """
select file_name, sheet, source, layout, rows, size_bytes, is_synthetic, sha256, loaded_at
from marts.source_files
order by source, file_name, sheet
"""

RELEASE_CHANGES_SQL = """
select
    source,
    period,
    previous_file,
    new_file,
    rows_added,
    rows_removed,
    rows_revised,
    count_change,
    has_row_changes,
    detected_at
from staging.stg_hsinsight__release_changes
order by detected_at desc, source, period
"""

REVISED_CELLS_SQL = """
select source, period, new_file, row_key, column_name, previous_value, new_value, detected_at
from staging.stg_hsinsight__revised_cells
order by detected_at desc, source, period, row_key, column_name
limit $limit
"""

RECONCILIATION_SQL = """
select
    figure_id,
    status,
    source,
    measure,
    offence,
    period,
    published_value,
    unit,
    figure_release,
    mart_value,
    warehouse_release,
    difference,
    tolerance,
    mart,
    mart_expressible_reason,
    citation
from marts.reconciliation
order by status = 'matches', figure_id
"""

#: Revised cells shown on the data quality page (the table says when there are more).
REVISED_CELLS_SHOWN = 500


def source_files(version: WarehouseVersion) -> pd.DataFrame:
    """The files the warehouse was built from, with checksums and the synthetic flag."""
    return read(version, SOURCE_FILES_SQL)


def release_changes(version: WarehouseVersion) -> pd.DataFrame:
    """What each re-issued release changed, latest first."""
    return read(version, RELEASE_CHANGES_SQL)


def revised_cells(version: WarehouseVersion, limit: int = REVISED_CELLS_SHOWN + 1) -> pd.DataFrame:
    """Cells the re-issued releases revised, latest first (at most ``limit``)."""
    return read(version, REVISED_CELLS_SQL, limit=limit)


def reconciliation(version: WarehouseVersion) -> pd.DataFrame:
    """Every published figure beside the marts' value, anything not matching first."""
    return read(version, RECONCILIATION_SQL)


PUBLISHED_TOTALS_SQL = """
select
    publisher_table,
    release,
    area_code,
    area_name,
    area_type,
    period_start,
    period_end,
    offence_group,
    published_value,
    published_marker,
    published_value_basis,
    computed_value,
    difference,
    pct_difference,
    coalesce(abs(computed_value - published_value) > $warning * abs(published_value), false) as beyond_warning
from marts.published_totals
order by beyond_warning desc, publisher_table, release, offence_group, area_type, area_name, period_end
"""


def published_totals(version: WarehouseVersion) -> pd.DataFrame:
    """Every published total beside the warehouse's, those further apart than
    PUBLISHED_DIFFERENCE_WARNING first (``beyond_warning``)."""
    frame = read(version, PUBLISHED_TOTALS_SQL, warning=PUBLISHED_DIFFERENCE_WARNING)
    return _dates(frame, "period_start", "period_end")


# ---- the run log (runs.duckdb)

RUNS_SQL = """
select
    run_id,
    orchestrator,
    started_at,
    finished_at,
    seconds,
    outcome,
    published,
    sources,
    files_loaded,
    rows_loaded,
    checks_run,
    checks_passed,
    checks_warned,
    checks_failed,
    message,
    synthetic,
    data_docs
from runs
order by started_at desc
limit $limit
"""

CHECK_RESULTS_SQL = """
select run_id, check_name, severity, description, success, rows, failed_expectations
from check_results
where run_id = $run_id
order by success, severity, check_name
"""

CHECK_FINDINGS_SQL = """
select run_id, check_name, severity, expectation, column_name, message, area_code, area_name, period, detail
from check_findings
where run_id = $run_id
order by check_name, expectation, area_name, period
"""

#: Runs listed on the data quality page.
RUNS_SHOWN = 20


@dataclass(frozen=True)
class RunLog:
    """The recent runs and the latest run's check results and findings."""

    runs: pd.DataFrame
    check_results: pd.DataFrame
    check_findings: pd.DataFrame


def runs_version(version: WarehouseVersion) -> WarehouseVersion | None:
    """The run log's cache key, or None when no run has been recorded."""
    return file_version(runs_path(version))


def run_log(version: WarehouseVersion, limit: int = RUNS_SHOWN) -> RunLog | None:
    """The run log beside the warehouse, or None when it does not exist yet.

    Read through its own short-lived connection (never the page's batch), so the
    pipeline is kept waiting for its write lock as briefly as possible.
    """
    log_version = runs_version(version)
    if log_version is None:
        return None
    run = _BATCH.get()
    if run is not None and run.uncached:
        return _read_run_log(log_version, limit)
    return _cached_run_log(log_version, limit)


@st.cache_data(**_CACHE)
def _cached_run_log(log_version: WarehouseVersion, limit: int) -> RunLog:
    return _read_run_log(log_version, limit)


def _read_run_log(log_version: WarehouseVersion, limit: int) -> RunLog:
    con = _open(log_version[0])
    try:
        runs = con.execute(RUNS_SQL, {"limit": limit}).df()
        latest = str(runs["run_id"].iloc[0]) if len(runs) else ""
        results = con.execute(CHECK_RESULTS_SQL, {"run_id": latest}).df()
        findings = con.execute(CHECK_FINDINGS_SQL, {"run_id": latest}).df()
    finally:
        con.close()
    return RunLog(runs, results, findings)


# --------------------------------------------------------------------------- funnel plots, maps, small multiples

FUNNEL_SQL = """
select
    area_code,
    area_name,
    period_end,
    measure,
    offence_group,
    category,
    distribution,
    multiplier,
    numerator,
    denominator,
    value,
    ci_lower_95,
    ci_upper_95,
    target,
    lower_95,
    upper_95,
    lower_998,
    upper_998,
    flag,
    tau_squared,
    is_overdispersed,
    lower_95_adjusted,
    upper_95_adjusted,
    lower_998_adjusted,
    upper_998_adjusted,
    flag_adjusted
from marts.funnel_limits
where period_end = $period_end and measure = $measure and offence_group = $offence_group
order by category, area_name
"""

FORCE_TRENDS_SQL = """
select
    recorded.area_code,
    recorded.area_name,
    coalesce(peers.peer_group, 'none') as peer_group,
    coalesce(peers.peer_group_name, 'In no group') as peer_group_name,
    recorded.offence_group,
    recorded.period_end,
    recorded.offences
from marts.recorded_crime_12m as recorded
left join reference.force_peer_groups as peers
    on recorded.area_code = peers.area_code
where recorded.area_type = 'force'
    and recorded.offence_group in ('stalking', 'harassment')
order by recorded.area_name, recorded.offence_group, recorded.period_end
"""


def funnel(version: WarehouseVersion, period_end: dt.date, measure: str, offence_group: str) -> pd.DataFrame:
    """Every force's row of marts.funnel_limits for one period, measure and offence (all
    categories: outcome groups, PHA sections), with its interval, limits and flags."""
    frame = read(version, FUNNEL_SQL, period_end=period_end, measure=measure, offence_group=offence_group)
    return _dates(frame, "period_end")


def funnel_present(version: WarehouseVersion) -> bool:
    """Whether the warehouse has the funnel plot limits and the peer groups (a warehouse
    published before them, or a hand-made one, may not): the overview's map and small
    multiples are left out without them."""
    return table_present(version, "marts", "funnel_limits") and table_present(
        version, "reference", "force_peer_groups"
    )


def force_trends(version: WarehouseVersion) -> pd.DataFrame:
    """Every force's 12-month recorded stalking and harassment over time, with its most
    similar group, for the small multiples."""
    return _dates(read(version, FORCE_TRENDS_SQL), "period_end")


# =========================================================================== per page
# Each page's queries with its default filters (no force or CPS Area chosen,
# stalking, the latest period), for the benchmark. Keep in step with the pages:
# tests/test_dashboard.py checks that a page issues exactly these statements.

DEFAULT_OFFENCE = "stalking"


def _overview(version: WarehouseVersion) -> None:
    national_series_12m(version)
    if funnel_present(version):
        funnel(version, periods(version)[0], "rate_per_1000", DEFAULT_OFFENCE)
        force_trends(version)
    if published_totals_present(version):
        long_national_series(version)


def _force_comparison(version: WarehouseVersion) -> None:
    latest = ratio_periods(version)[0]
    recording_practice(version, latest)
    force_rates(version, latest, DEFAULT_OFFENCE)
    funnel(version, latest, "stalking_share", DEFAULT_OFFENCE)
    funnel(version, latest, "rate_per_1000", DEFAULT_OFFENCE)


def _outcomes(version: WarehouseVersion) -> None:
    latest = outcome_periods(version, DEFAULT_OFFENCE)[0]
    outcome_mix(version, latest, DEFAULT_OFFENCE, None)
    outcome_forces(version, latest, DEFAULT_OFFENCE)
    funnel(version, latest, "outcome_share", DEFAULT_OFFENCE)
    outcome_trend(version, DEFAULT_OFFENCE, None)


def _conversion(version: WarehouseVersion) -> None:
    years = attrition_years(version, DEFAULT_OFFENCE)
    attrition(version, str(years["financial_year"].iloc[0]), DEFAULT_OFFENCE)
    prosecution_gap(version, None)


def _courts(version: WarehouseVersion) -> None:
    court_years(version)
    court_outcomes(version, None)
    restraining_orders(version, None)
    court_sections(version)


def _force_profile(version: WarehouseVersion) -> None:
    problem_profile(version, str(forces(version)["area_code"].iloc[0]))


def _data_quality(version: WarehouseVersion) -> None:
    run_log(version)
    source_files(version)
    release_changes(version)
    revised_cells(version)
    reconciliation(version)
    if published_totals_present(version):
        published_totals(version)


def _timed(page: Callable[[WarehouseVersion], None]) -> Callable[[WarehouseVersion], None]:
    def run_page(version: WarehouseVersion) -> None:
        with batch(uncached=True):
            frame_queries(version)
            page(version)

    run_page.__doc__ = f"Every query of the page ({page.__name__.strip('_')}), uncached, one connection."
    return run_page


#: Page slug -> run every query the page issues with its default filters (uncached).
PAGE_QUERIES: dict[str, Callable[[WarehouseVersion], None]] = {
    "overview": _timed(_overview),
    "force-comparison": _timed(_force_comparison),
    "outcomes": _timed(_outcomes),
    "conversion": _timed(_conversion),
    "courts": _timed(_courts),
    "force-profile": _timed(_force_profile),
    "data-quality": _timed(_data_quality),
}

#: Page slug -> the statements its queries run (the frame's included), for the
#: dbt exposures (tests/test_marts.py checks each exposure reads exactly these). The
#: published totals statements run only on a warehouse that has that mart.
PAGE_SQL: dict[str, tuple[str, ...]] = {
    "overview": (AREA_SERIES_SQL, TABLE_PRESENT_SQL, LONG_SERIES_SQL, FUNNEL_SQL, FORCE_TRENDS_SQL),
    "force-comparison": (
        RATIO_PERIODS_SQL,
        RECORDING_PRACTICE_SQL,
        RATIO_TREND_SQL,
        FORCE_RATES_SQL,
        FUNNEL_SQL,
    ),
    "outcomes": (OUTCOME_PERIODS_SQL, OUTCOME_MIX_SQL, OUTCOME_FORCES_SQL, FUNNEL_SQL, OUTCOME_TREND_SQL),
    "conversion": (ATTRITION_YEARS_SQL, ATTRITION_SQL, PROSECUTION_GAP_SQL),
    "courts": (COURT_YEARS_SQL, COURT_OUTCOMES_SQL, RESTRAINING_ORDERS_SQL, COURT_SECTIONS_SQL),
    "force-profile": (PROFILE_SQL,),
    "data-quality": (
        SOURCE_FILES_SQL,
        RELEASE_CHANGES_SQL,
        REVISED_CELLS_SQL,
        RECONCILIATION_SQL,
        TABLE_PRESENT_SQL,
        PUBLISHED_TOTALS_SQL,
    ),
}
FRAME_SQL: tuple[str, ...] = (ANY_SYNTHETIC_SQL, FORCES_SQL, CPS_AREAS_SQL, PERIODS_SQL)


def page_tables(slug: str) -> set[str]:
    """The dbt models and seeds a page reads (its own queries and the frame's)."""
    return set().union(*(tables_read(sql) for sql in (*FRAME_SQL, *PAGE_SQL[slug])))
