"""The data quality page's data: the source files, release changes, revised cells,
reconciliation, the publishers' own totals and the pipeline's run log (``runs.duckdb``
beside the warehouse: runs, check_results, check_findings, read the same way, keyed on
its own inode and mtime, and possibly missing).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from hsinsight.dashboard import connection
from hsinsight.dashboard.connection import (
    CACHE_OPTIONS,
    WarehouseVersion,
    bypassing_cache,
    file_version,
    read,
    runs_path,
    with_dates,
)

#: Published and computed totals further apart than this share of the published value
#: are highlighted: a warning to look at, never a failure.
PUBLISHED_DIFFERENCE_WARNING = 0.02

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
    return with_dates(frame, "period_start", "period_end")


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
    if bypassing_cache():
        return _read_run_log(log_version, limit)
    return _cached_run_log(log_version, limit)


@st.cache_data(**CACHE_OPTIONS)
def _cached_run_log(log_version: WarehouseVersion, limit: int) -> RunLog:
    return _read_run_log(log_version, limit)


def _read_run_log(log_version: WarehouseVersion, limit: int) -> RunLog:
    con = connection.open_read_only(log_version[0])  # looked up here: bench/ wraps it
    try:
        runs = con.execute(RUNS_SQL, {"limit": limit}).df()
        latest = str(runs["run_id"].iloc[0]) if len(runs) else ""
        results = con.execute(CHECK_RESULTS_SQL, {"run_id": latest}).df()
        findings = con.execute(CHECK_FINDINGS_SQL, {"run_id": latest}).df()
    finally:
        con.close()
    return RunLog(runs, results, findings)
