"""Every query the dashboards run, in one place.

Reading the warehouse
    Each query opens an in-memory DuckDB connection, ATTACHes the published
    warehouse READ_ONLY under its file stem (the catalog name the dbt build used),
    runs one statement with bound ``?`` parameters and closes the connection. No
    connection outlives a query: the pipeline publishes a new warehouse by
    ``os.replace`` onto the same path, and a long-running dashboard that kept the
    file open would go on reading the old, unlinked file.

Caching
    Query functions are wrapped in ``st.cache_data`` and take a
    :data:`WarehouseVersion` ``(path, inode, mtime_ns)`` as their first argument.
    A newly published file has a new inode and modification time, so it gets new
    cache entries and every open page shows the new figures on its next rerun.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from hsinsight.config import Settings

#: England and Wales in marts.recorded_crime_12m (area_type 'national').
NATIONAL_CODE = "K04000001"

#: (path, inode, mtime_ns) of the published warehouse file.
WarehouseVersion = tuple[str, int, int]

_CACHE = {"show_spinner": False, "max_entries": 256}


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


def warehouse_version(path: Path) -> WarehouseVersion | None:
    """The cache key for the file now at ``path``, or None when nothing is published."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (str(path), stat.st_ino, stat.st_mtime_ns)


# --------------------------------------------------------------------------- how


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read(version: WarehouseVersion, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    """Run one read-only query against the published warehouse and return its rows.

    ``sql`` is one of this module's constants; values always travel as ``params``.
    """
    path = Path(version[0])
    con = duckdb.connect(":memory:")
    try:
        alias = _quote_identifier(path.stem)
        con.execute(f"attach ? as {alias} (read_only)", [str(path)])
        con.execute(f"use {alias}")
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


# --------------------------------------------------------------------------- what

FORCES_SQL = """
select distinct area_code, area_name
from marts.recorded_crime_12m
where area_type = 'force'
order by area_name
"""

AREA_SERIES_SQL = """
select
    area_code,
    area_name,
    offence_group,
    cast(period_end as date) as period_end,
    offences
from marts.recorded_crime_12m
where area_code = ?
order by offence_group, period_end
"""

LATEST_PERIOD_SQL = """
select max(period_end) as latest_period_end
from marts.recorded_crime_12m
where area_code = ?
"""

ANY_SYNTHETIC_SQL = """
select coalesce(bool_or(is_synthetic), false) as any_synthetic
from marts.source_files
"""

SOURCE_FILES_SQL = """
select file_name, source, layout, rows, is_synthetic, sha256, loaded_at
from marts.source_files
order by file_name
"""


@st.cache_data(**_CACHE)
def forces(version: WarehouseVersion) -> pd.DataFrame:
    """Police force areas with 12-month figures: area_code, area_name, by name."""
    return read(version, FORCES_SQL)


@st.cache_data(**_CACHE)
def area_series_12m(version: WarehouseVersion, area_code: str) -> pd.DataFrame:
    """Rolling 12-month recorded offences for one area, every offence group.

    Columns: area_code, area_name, offence_group, period_end (datetime64), offences.
    """
    frame = read(version, AREA_SERIES_SQL, [area_code])
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    frame["offences"] = frame["offences"].astype("Int64")
    return frame


def national_series_12m(version: WarehouseVersion) -> pd.DataFrame:
    """Rolling 12-month recorded offences for England and Wales."""
    return area_series_12m(version, NATIONAL_CODE)


@st.cache_data(**_CACHE)
def latest_period(version: WarehouseVersion) -> dt.date | None:
    """The last quarter end with a complete 12-month window for England and Wales."""
    value = read(version, LATEST_PERIOD_SQL, [NATIONAL_CODE]).iloc[0, 0]
    return None if pd.isna(value) else pd.Timestamp(value).date()


@st.cache_data(**_CACHE)
def any_synthetic(version: WarehouseVersion) -> bool:
    """True when any file the warehouse was built from is synthetic sample data."""
    return bool(read(version, ANY_SYNTHETIC_SQL).iloc[0, 0])


@st.cache_data(**_CACHE)
def source_files(version: WarehouseVersion) -> pd.DataFrame:
    """The files the warehouse was built from, with checksums and the synthetic flag."""
    return read(version, SOURCE_FILES_SQL)
