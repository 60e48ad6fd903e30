"""The outcomes page's data: the outcome mix of an area, every force's outcome
shares and their trend.
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
    -- The chosen force's peer group, its forces' outcomes added together.
    select
        'peer_group:' || any_value(peer_group) as area_code,
        'Peer group: ' || any_value(peer_group_name) as area_name,
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
    return [to_date(v) for v in frame["period_end"]]


def outcome_mix(
    version: WarehouseVersion, period_end: dt.date, offence_group: str, area_code: str | None
) -> pd.DataFrame:
    """Outcome group shares for England and Wales, and for a force and its peer
    group when one is chosen."""
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
    return with_dates(frame, "period_end")
