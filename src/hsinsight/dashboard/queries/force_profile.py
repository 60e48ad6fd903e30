"""The force profile page's data: one force's row of marts.problem_profile per period."""

from __future__ import annotations

import pandas as pd

from hsinsight.dashboard.connection import (
    WarehouseVersion,
    read,
    with_dates,
)

PROFILE_SQL = """
select *
from marts.problem_profile
where area_code = $area_code
order by period_end
"""


def problem_profile(version: WarehouseVersion, area_code: str) -> pd.DataFrame:
    """Every problem_profile row of one force (one per 12-month period), oldest first."""
    return with_dates(read(version, PROFILE_SQL, area_code=area_code), "period_end")
