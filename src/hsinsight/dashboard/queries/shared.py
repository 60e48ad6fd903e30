"""Statements several pages share: the frame's (the synthetic flag and the filter
options, read on every page), whether a table is present, and the funnel plot limits.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hsinsight.dashboard.connection import (
    WarehouseVersion,
    read,
    to_date,
    with_dates,
)
from hsinsight.names import NATIONAL_CODE

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
    return [to_date(v) for v in read(version, PERIODS_SQL, national=NATIONAL_CODE)["period_end"]]


def frame_queries(version: WarehouseVersion) -> None:
    """The queries ``app.py`` runs on every page before the page itself."""
    any_synthetic(version)
    forces(version)
    cps_areas(version)
    periods(version)


#: Where the publishers' own totals sit beside the warehouse's. The mart is newer than
#: the others: a warehouse published before it existed has no such table, and the
#: pages ask for it first (TABLE_PRESENT_SQL) rather than fail.
PUBLISHED_TOTALS_TABLE = ("marts", "published_totals")

TABLE_PRESENT_SQL = """
select count(*) > 0 as present
from information_schema.tables
where table_catalog = current_database() and table_schema = $schema and table_name = $table
"""


def table_present(version: WarehouseVersion, schema: str, table: str) -> bool:
    """Whether the warehouse has the table (or view) ``schema.table``."""
    return bool(read(version, TABLE_PRESENT_SQL, schema=schema, table=table).iloc[0, 0])


def published_totals_present(version: WarehouseVersion) -> bool:
    """Whether the warehouse has marts.published_totals (older ones do not)."""
    return table_present(version, *PUBLISHED_TOTALS_TABLE)


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


def funnel(version: WarehouseVersion, period_end: dt.date, measure: str, offence_group: str) -> pd.DataFrame:
    """Every force's row of marts.funnel_limits for one period, measure and offence (all
    categories: outcome groups, PHA sections), with its interval, limits and flags."""
    frame = read(version, FUNNEL_SQL, period_end=period_end, measure=measure, offence_group=offence_group)
    return with_dates(frame, "period_end")


def funnel_present(version: WarehouseVersion) -> bool:
    """Whether the warehouse has the funnel plot limits and the peer groups (a warehouse
    published before them, or a hand-made one, may not): the overview's map and small
    multiples are left out without them."""
    return table_present(version, "marts", "funnel_limits") and table_present(
        version, "reference", "force_peer_groups"
    )
