"""The force comparison page's data: the harassment-to-stalking ratio by period and
over time, and every force's offences per 1,000 residents.
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
    peer_group_ratio,
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
    peer_group_ratio,
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
        end as peer_group_rate_per_1000
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
    group_rates.peer_group_rate_per_1000,
    national.national_rate_per_1000
from rates
cross join national
left join group_rates on rates.peer_group = group_rates.peer_group
where rates.area_type = 'force'
order by rates.rate_per_1000 desc nulls last, rates.area_name
"""


def ratio_periods(version: WarehouseVersion) -> list[dt.date]:
    """12-month periods with an England and Wales harassment-to-stalking ratio, latest first."""
    return [to_date(v) for v in read(version, RATIO_PERIODS_SQL, national=NATIONAL_CODE)["period_end"]]


def recording_practice(version: WarehouseVersion, period_end: dt.date) -> pd.DataFrame:
    """Every area's harassment-to-stalking ratio for one 12-month period, with England
    and Wales's, its peer group's and the outlier flag."""
    return with_dates(read(version, RECORDING_PRACTICE_SQL, period_end=period_end), "period_end")


def ratio_trend(version: WarehouseVersion, area_code: str) -> pd.DataFrame:
    """One force's ratio over time beside England and Wales's and its group's."""
    return with_dates(read(version, RATIO_TREND_SQL, area_code=area_code), "period_end")


def force_rates(version: WarehouseVersion, period_end: dt.date, offence_group: str) -> pd.DataFrame:
    """Every force's offences per 1,000 residents for one period and offence, with its
    peer group's rate and England and Wales's."""
    return read(version, FORCE_RATES_SQL, period_end=period_end, offence_group=offence_group)
