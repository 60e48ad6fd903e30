"""The overview page's data: 12-month series for England and Wales and one area, the
ONS Appendix tables' long national series and every force's trend for the small multiples.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hsinsight.dashboard.connection import (
    WarehouseVersion,
    read,
    with_dates,
)
from hsinsight.names import NATIONAL_CODE

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
    frame = with_dates(read(version, AREA_SERIES_SQL, area_code=area_code), "period_end")
    frame["offences"] = frame["offences"].astype("Int64")
    return frame


def national_series_12m(version: WarehouseVersion) -> pd.DataFrame:
    """Rolling 12-month recorded offences for England and Wales."""
    return area_series_12m(version, NATIONAL_CODE)


#: The ONS Appendix tables (Table A5a): England and Wales by financial year from 2002/03.
APPENDIX_TABLE = "ons_appendix_tables"
APPENDIX_FIRST_YEAR_START = dt.date(2002, 4, 1)


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
    frame = with_dates(frame, "period_start", "period_end")
    frame["published_value"] = frame["published_value"].astype("Int64")
    return frame


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


def force_trends(version: WarehouseVersion) -> pd.DataFrame:
    """Every force's 12-month recorded stalking and harassment over time, with its peer
    group, for the small multiples."""
    return with_dates(read(version, FORCE_TRENDS_SQL), "period_end")
