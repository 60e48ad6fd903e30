"""The conversion page's data: CPS attrition by financial year and the prosecution gap."""

from __future__ import annotations

import pandas as pd

from hsinsight.dashboard.connection import (
    WarehouseVersion,
    read,
    to_date,
    with_dates,
)
from hsinsight.names import NATIONAL_CODE

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
    frame["period_end"] = [to_date(v) for v in frame["period_end"]]
    return frame


def attrition(version: WarehouseVersion, financial_year: str, offence_group: str) -> pd.DataFrame:
    """Recorded, charged, prosecuted and convicted for one financial year and offence:
    England and Wales first, then every CPS Area."""
    return read(version, ATTRITION_SQL, financial_year=financial_year, offence_group=offence_group)


def prosecution_gap(version: WarehouseVersion, area_code: str | None) -> pd.DataFrame:
    """Recorded stalking against stalking prosecutions over time: England and Wales
    (and a CPS Area)."""
    frame = read(version, PROSECUTION_GAP_SQL, national=NATIONAL_CODE, area_code=area_code or NATIONAL_CODE)
    return with_dates(frame, "period_end")
