"""Each page's queries with its default filters, for the benchmark and the lineage.

:data:`PAGE_QUERIES` maps each page's slug to a function that runs every query the
page issues with its default filters (no force or CPS Area chosen, the default offence,
the latest period), through one connection and without the cache: ``bench/`` times
them. :data:`PAGE_SQL` lists the statements each page runs. Keep both in step with the
pages: tests/dashboard/test_dashboard.py checks that a page issues exactly these statements.
"""

from __future__ import annotations

from collections.abc import Callable

from hsinsight.dashboard.connection import (
    WarehouseVersion,
    batch,
    tables_read,
)
from hsinsight.dashboard.queries import (
    conversion,
    courts,
    data_quality,
    force_comparison,
    force_profile,
    outcomes,
    overview,
    shared,
)
from hsinsight.names import DEFAULT_OFFENCE


def _overview(version: WarehouseVersion) -> None:
    overview.national_series_12m(version)
    if shared.funnel_present(version):
        shared.funnel(version, shared.periods(version)[0], "rate_per_1000", DEFAULT_OFFENCE)
        overview.force_trends(version)
    if shared.published_totals_present(version):
        overview.long_national_series(version)


def _force_comparison(version: WarehouseVersion) -> None:
    latest = force_comparison.ratio_periods(version)[0]
    force_comparison.recording_practice(version, latest)
    force_comparison.force_rates(version, latest, DEFAULT_OFFENCE)
    shared.funnel(version, latest, "stalking_share", DEFAULT_OFFENCE)
    shared.funnel(version, latest, "rate_per_1000", DEFAULT_OFFENCE)


def _outcomes(version: WarehouseVersion) -> None:
    latest = outcomes.outcome_periods(version, DEFAULT_OFFENCE)[0]
    outcomes.outcome_mix(version, latest, DEFAULT_OFFENCE, None)
    outcomes.outcome_forces(version, latest, DEFAULT_OFFENCE)
    shared.funnel(version, latest, "outcome_share", DEFAULT_OFFENCE)
    outcomes.outcome_trend(version, DEFAULT_OFFENCE, None)


def _conversion(version: WarehouseVersion) -> None:
    years = conversion.attrition_years(version, DEFAULT_OFFENCE)
    conversion.attrition(version, str(years["financial_year"].iloc[0]), DEFAULT_OFFENCE)
    conversion.prosecution_gap(version, None)


def _courts(version: WarehouseVersion) -> None:
    courts.court_years(version)
    courts.court_outcomes(version, None)
    courts.restraining_orders(version, None)
    courts.court_sections(version)


def _force_profile(version: WarehouseVersion) -> None:
    force_profile.problem_profile(version, str(shared.forces(version)["area_code"].iloc[0]))


def _data_quality(version: WarehouseVersion) -> None:
    data_quality.run_log(version)
    data_quality.source_files(version)
    data_quality.release_changes(version)
    data_quality.revised_cells(version)
    data_quality.reconciliation(version)
    if shared.published_totals_present(version):
        data_quality.published_totals(version)


def _timed(page: Callable[[WarehouseVersion], None]) -> Callable[[WarehouseVersion], None]:
    def run_page(version: WarehouseVersion) -> None:
        with batch(uncached=True):
            shared.frame_queries(version)
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
#: dbt exposures (tests/dbt/test_marts.py checks each exposure reads exactly these). The
#: published totals statements run only on a warehouse that has that mart.
PAGE_SQL: dict[str, tuple[str, ...]] = {
    "overview": (
        overview.AREA_SERIES_SQL,
        shared.TABLE_PRESENT_SQL,
        overview.LONG_SERIES_SQL,
        shared.FUNNEL_SQL,
        overview.FORCE_TRENDS_SQL,
    ),
    "force-comparison": (
        force_comparison.RATIO_PERIODS_SQL,
        force_comparison.RECORDING_PRACTICE_SQL,
        force_comparison.RATIO_TREND_SQL,
        force_comparison.FORCE_RATES_SQL,
        shared.FUNNEL_SQL,
    ),
    "outcomes": (
        outcomes.OUTCOME_PERIODS_SQL,
        outcomes.OUTCOME_MIX_SQL,
        outcomes.OUTCOME_FORCES_SQL,
        shared.FUNNEL_SQL,
        outcomes.OUTCOME_TREND_SQL,
    ),
    "conversion": (conversion.ATTRITION_YEARS_SQL, conversion.ATTRITION_SQL, conversion.PROSECUTION_GAP_SQL),
    "courts": (
        courts.COURT_YEARS_SQL,
        courts.COURT_OUTCOMES_SQL,
        courts.RESTRAINING_ORDERS_SQL,
        courts.COURT_SECTIONS_SQL,
    ),
    "force-profile": (force_profile.PROFILE_SQL,),
    "data-quality": (
        data_quality.SOURCE_FILES_SQL,
        data_quality.RELEASE_CHANGES_SQL,
        data_quality.REVISED_CELLS_SQL,
        data_quality.RECONCILIATION_SQL,
        shared.TABLE_PRESENT_SQL,
        data_quality.PUBLISHED_TOTALS_SQL,
    ),
}
FRAME_SQL: tuple[str, ...] = (
    shared.ANY_SYNTHETIC_SQL,
    shared.FORCES_SQL,
    shared.CPS_AREAS_SQL,
    shared.PERIODS_SQL,
)


def page_tables(slug: str) -> set[str]:
    """The dbt models and seeds a page reads (its own queries and the frame's)."""
    return set().union(*(tables_read(sql) for sql in (*FRAME_SQL, *PAGE_SQL[slug])))
