"""The courts page's data: court outcomes, restraining orders and the offence sections
the courts data cover.
"""

from __future__ import annotations

import pandas as pd

from hsinsight.dashboard.connection import (
    WarehouseVersion,
    read,
)
from hsinsight.names import NATIONAL_CODE

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
