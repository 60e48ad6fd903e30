"""Small published warehouses for the dashboard tests, and helpers to drive the app.

``build_warehouse`` writes a real DuckDB file holding ``marts.recorded_crime_12m`` and
``marts.source_files`` with the dbt contract's columns and types (and an empty
``marts.attrition``, whose CPS Areas every page's filters read), filled with a few
forces' worth of made-up figures, so the overview can be tested without running the
whole pipeline; the other pages are tested on the warehouse the pipeline publishes
from the sample. ``republish`` replaces a published file the way the pipeline does: a
new file written beside it, checkpointed, closed and moved on with ``os.replace``.

``open_page`` runs the app with Streamlit's AppTest on one page; ``Downloads``
captures what the download buttons offer; ``write_run_log`` writes the run log the
data quality page reads.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from hsinsight.dashboard.pages import PAGES
from hsinsight.names import NATIONAL_CODE, NATIONAL_NAME

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = PROJECT_ROOT / "dashboards"
APP = DASHBOARDS / "app.py"
NATIONAL = (NATIONAL_CODE, NATIONAL_NAME)

#: Forces in the test warehouses: (area_code, area_name, size factor).
TEST_FORCES = (
    ("E23000001", "Metropolitan Police", 6.0),
    ("E23000013", "West Yorkshire", 2.0),
    ("W15000002", "Gwent", 0.5),
    ("BTP", "British Transport Police", 0.2),
)

CREATE_MARTS = """
create schema if not exists marts;
create or replace table marts.recorded_crime_12m (
    area_code varchar not null,
    area_name varchar,
    area_type varchar,
    period_end date,
    offence_group varchar,
    offences bigint,
    quarters_in_window integer
);
create or replace table marts.attrition (
    area_code varchar not null,
    area_name varchar,
    area_type varchar,
    financial_year varchar,
    period_end date,
    offence_group varchar
);
create or replace table marts.source_files (
    file_name varchar,
    sheet varchar,
    source varchar,
    layout varchar,
    sha256 varchar,
    size_bytes bigint,
    rows bigint,
    is_synthetic boolean,
    loaded_at timestamp
);
"""


def quarter_ends(first_year: int, last_year: int) -> list[dt.date]:
    """Quarter ends of financial years first_year/.. to last_year/.. (Q1 = 30 June)."""
    ends = []
    for year in range(first_year, last_year + 1):
        ends += [dt.date(year, 6, 30), dt.date(year, 9, 30), dt.date(year, 12, 31), dt.date(year + 1, 3, 31)]
    return ends


def _quarterly(group: str, end: dt.date, factor: float) -> int | None:
    """A made-up quarterly count that steps up at the recording-rule changes."""
    years = end.year - 2012 + (end.month - 1) / 12
    if group == "stalking":
        if end < dt.date(2014, 6, 30):
            return None  # no stalking code before April 2014
        base = 150 + 40 * years + (900 if end >= dt.date(2018, 6, 30) else 0)
        base += 2500 if end >= dt.date(2020, 6, 30) else 0
    elif group == "harassment":
        base = 6000 + 300 * years + (4000 if end >= dt.date(2015, 6, 30) else 0)
        base -= 2500 if end >= dt.date(2017, 6, 30) else 0
    else:  # racially_or_religiously_aggravated_harassment
        base = 400 + 25 * years
    return round(base * factor)


def _rows(first_year: int, last_year: int) -> list[tuple]:
    quarters = quarter_ends(first_year, last_year)
    groups = ("harassment", "stalking", "racially_or_religiously_aggravated_harassment")
    rows = []
    national: dict[tuple[dt.date, str], int] = {}
    for code, name, factor in TEST_FORCES:
        for group in groups:
            counts = [_quarterly(group, q, factor) for q in quarters]
            for i in range(3, len(quarters)):
                window = counts[i - 3 : i + 1]
                if any(c is None for c in window):
                    continue
                total = sum(window)
                rows.append((code, name, "force", quarters[i], group, total, 4))
                national[(quarters[i], group)] = national.get((quarters[i], group), 0) + total
    for (end, group), total in sorted(national.items()):
        rows.append((*NATIONAL, "national", end, group, total, 4))
    return rows


def build_warehouse(
    path: Path, *, synthetic: bool = True, first_year: int = 2012, last_year: int = 2023
) -> Path:
    """Write a small published warehouse (a real DuckDB file) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(CREATE_MARTS)
        con.executemany(
            "insert into marts.recorded_crime_12m values (?, ?, ?, ?, ?, ?, ?)",
            _rows(first_year, last_year),
        )
        con.execute(
            "insert into marts.source_files values (?, null, ?, ?, ?, ?, ?, ?, ?)",
            [
                "home_office_police_recorded_crime_pfa.csv"
                if synthetic
                else "prc-pfa-mar2013-onwards-tables.ods",
                "home_office_recorded_crime",
                "home_office_prc_pfa_v1",
                uuid.uuid4().hex * 2,
                123_456,
                4_000,
                synthetic,
                dt.datetime(2024, 7, 1, 9, 30),
            ],
        )
        con.execute("checkpoint")
    finally:
        con.close()
    return path


def read_value(path: Path, sql: str, params: list | None = None):
    """One value from a warehouse file, read the way the dashboard reads it."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f'attach ? as "{path.stem}" (read_only)', [str(path)])
        con.execute(f'use "{path.stem}"')
        return con.execute(sql, params or []).fetchone()[0]
    finally:
        con.close()


def latest_national(path: Path, group: str) -> tuple[dt.date, int]:
    """England and Wales's latest 12-month figure for an offence group."""
    end = read_value(
        path,
        "select max(period_end) from marts.recorded_crime_12m where area_code = ? and offence_group = ?",
        [NATIONAL[0], group],
    )
    value = read_value(
        path,
        "select offences from marts.recorded_crime_12m where area_code = ? and offence_group = ? and period_end = ?",
        [NATIONAL[0], group, end],
    )
    return end, value


def republish(warehouse: Path, change: Callable[[duckdb.DuckDBPyConnection], None]) -> Path:
    """Publish a changed copy of ``warehouse`` onto the same path, as the pipeline does.

    The copy is written in a build folder beside the warehouse under the same file
    name (so its DuckDB catalog name is the same), changed by ``change``,
    checkpointed, closed and moved onto the published path with ``os.replace``.
    """
    build_dir = warehouse.parent / f".build-{uuid.uuid4().hex[:12]}"
    build_dir.mkdir()
    build = build_dir / warehouse.name
    shutil.copyfile(warehouse, build)
    con = duckdb.connect(str(build))
    try:
        change(con)
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(build, warehouse)
    shutil.rmtree(build_dir)
    return warehouse


def set_latest_national(warehouse: Path, group: str, value: int) -> Path:
    """Republish ``warehouse`` with England and Wales's latest figure for ``group`` set to ``value``."""
    end, _ = latest_national(warehouse, group)

    def change(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "update marts.recorded_crime_12m set offences = ? "
            "where area_code = ? and offence_group = ? and period_end = ?",
            [value, NATIONAL[0], group, end],
        )

    return republish(warehouse, change)


# --------------------------------------------------------------------------- the app


def page_file(slug: str) -> str:
    """The page's file relative to app.py, from the app's own page list."""
    return next(p.file for p in PAGES if p.slug == slug)


def open_page(
    warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
    slug: str = "overview",
    params: Mapping[str, str] | None = None,
) -> AppTest:
    """The app run on ``warehouse`` and showing page ``slug``, opened with ``params`` in
    its address as a shared link would open it (the page's first run sees them)."""
    monkeypatch.setenv("HSINSIGHT_WAREHOUSE", str(warehouse))
    at = AppTest.from_file(str(APP), default_timeout=90)
    if slug == "overview":
        for name, value in (params or {}).items():
            at.query_params[name] = value
        at.run()
    else:
        at.run()  # AppTest learns the st.navigation pages from a first run
        at.query_params.clear()
        for name, value in (params or {}).items():
            at.query_params[name] = value
        at.switch_page(page_file(slug)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_block(at: AppTest, key: str):
    """The container of one chart (``chart-<key>``) or table (``tableview-<key>``)."""
    for prefix in ("chart-", "tableview-"):
        try:
            return at.container(key=f"{prefix}{key}")
        except KeyError:
            continue
    raise KeyError(f"no chart or table {key!r} on the page")


def block_keys(at: AppTest, prefix: str) -> list[str]:
    """The keys (without ``prefix``) of every container keyed ``<prefix>...``, in page order."""
    return [b.key[len(prefix) :] for b in at.container if b.key and b.key.startswith(prefix)]


def shown_table(at: AppTest, key: str) -> pd.DataFrame:
    """The table view of a chart: exactly what it shows."""
    return chart_block(at, key).dataframe[0].value


def plotly_spec(at: AppTest, key: str) -> dict:
    import json

    chart = chart_block(at, key).get("plotly_chart")[0]
    return json.loads(chart.proto.spec)


class Downloads:
    """Captures the bytes every download button hands to Streamlit's media store."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files: dict[str, tuple[bytes, str | None]] = {}
        original = MemoryMediaFileStorage.load_and_get_id
        files = self.files

        def load_and_get_id(storage, path_or_data, mimetype, kind, filename=None):
            file_id = original(storage, path_or_data, mimetype, kind, filename)
            if isinstance(path_or_data, bytes):
                files[file_id] = (path_or_data, filename)
            return file_id

        monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)

    def data(self, button) -> bytes:
        return self.files[Path(button.proto.url).stem][0]

    def file_name(self, button) -> str | None:
        return self.files[Path(button.proto.url).stem][1]

    def csv(self, button) -> pd.DataFrame:
        return pd.read_csv(io.BytesIO(self.data(button)))


def as_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as it reads back from CSV (to compare a table with its download)."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


# --------------------------------------------------------------------------- run log

RUN_COLUMNS = (
    "run_id varchar, orchestrator varchar, started_at timestamp, finished_at timestamp, seconds double, "
    "outcome varchar, published boolean, sources varchar, files_loaded integer, rows_loaded bigint, "
    "checks_run integer, checks_passed integer, checks_warned integer, checks_failed integer, "
    "message varchar, synthetic boolean, data_docs varchar"
)
CHECK_RESULT_COLUMNS = (
    "run_id varchar, check_name varchar, severity varchar, description varchar, success boolean, "
    "rows bigint, failed_expectations integer"
)
CHECK_FINDING_COLUMNS = (
    "run_id varchar, check_name varchar, severity varchar, expectation varchar, column_name varchar, "
    "message varchar, area_code varchar, area_name varchar, period varchar, detail varchar"
)


def write_run_log(
    path: Path, runs: Sequence[tuple], results: Sequence[tuple] = (), findings: Sequence[tuple] = ()
) -> Path:
    """A run log (runs.duckdb) with the tables and columns hsinsight.runs writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    work = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.duckdb")
    con = duckdb.connect(str(work))
    try:
        con.execute(f"create table runs ({RUN_COLUMNS})")
        con.execute(f"create table check_results ({CHECK_RESULT_COLUMNS})")
        con.execute(f"create table check_findings ({CHECK_FINDING_COLUMNS})")
        if runs:
            con.executemany(f"insert into runs values ({', '.join(['?'] * 17)})", list(runs))
        if results:
            con.executemany(f"insert into check_results values ({', '.join(['?'] * 7)})", list(results))
        if findings:
            con.executemany(f"insert into check_findings values ({', '.join(['?'] * 10)})", list(findings))
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(work, path)
    return path


def copy_warehouse(source: Path, folder: Path) -> Path:
    """A private copy of a published warehouse (same file name, so the same catalog)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    return target


def query(path: Path, sql: str, params: Sequence | Mapping | None = None) -> pd.DataFrame:
    """Rows from a warehouse file, read independently of the dashboard's code."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f'attach ? as "{path.stem}" (read_only)', [str(path)])
        con.execute(f'use "{path.stem}"')
        return con.execute(sql, params or []).df()
    finally:
        con.close()
