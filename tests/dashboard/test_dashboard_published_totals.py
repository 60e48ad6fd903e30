"""The publishers' own totals on the dashboards (marts.published_totals), run headless
with Streamlit's AppTest on small hand-made warehouses.

The Overview draws England and Wales's long series by financial year from the ONS
Appendix tables when they are loaded, and says so when they are not; the Data quality
page lists every published total beside the warehouse's, differences over 2% first and
shaded. Both pages keep working on a warehouse published before the mart existed.
The Appendix figures below are those of the real release for the year ending
September 2025 (Table A5a).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard_support import (
    Downloads,
    as_csv_frame,
    block_keys,
    build_warehouse,
    chart_block,
    copy_warehouse,
    open_page,
    shown_table,
)
from hsinsight.dashboard import connection, docs_site
from hsinsight.dashboard.charts.shared import HIGHLIGHT_BACKGROUND
from hsinsight.dashboard.queries import bench
from hsinsight.dashboard.queries.data_quality import PUBLISHED_TOTALS_SQL
from hsinsight.dashboard.queries.overview import LONG_SERIES_SQL
from hsinsight.dashboard.queries.shared import TABLE_PRESENT_SQL
from hsinsight.names import NATIONAL_CODE, NATIONAL_NAME
from hsinsight.profiles.caveats import CAVEATS, SERIES_BREAKS

RELEASE = "year ending September 2025"
NATIONAL = (NATIONAL_CODE, NATIONAL_NAME)

#: Table A5a of the release for the year ending September 2025, financial years
#: 2002/03 to 2024/25 (None: printed [x], no code of its own yet).
STALKING_AND_HARASSMENT = (
    33002, 40522, 52117, 57192, 58150, 54531, 50758, 55329, 53144, 49766, 56032, 62656,
    86368, 158875, 214449, 296222, 445116, 494907, 630201, 716824, 705442, 637596, 599128,
)  # fmt: skip
STALKING = (2885, 4292, 5424, 10395, 20093, 33350, 99104, 117630, 117172, 128817, 135590)  # from 2014/15
CONTROLLING_OR_COERCIVE = (31736, 41503, 44451, 45338, 50715)  # from 2020/21
#: The rolling 12-month columns of the same table: not financial years, not charted.
ROLLING = {
    (dt.date(2023, 10, 1), dt.date(2024, 9, 30)): 612008,
    (dt.date(2024, 10, 1), dt.date(2025, 9, 30)): 616251,
}

CREATE_PUBLISHED_TOTALS = """
create schema if not exists marts;
create or replace table marts.published_totals (
    publisher_table varchar,
    release varchar,
    area_code varchar,
    area_name varchar,
    area_type varchar,
    period_start date,
    period_end date,
    offence_group varchar,
    published_value bigint,
    published_marker varchar,
    published_value_basis varchar,
    computed_value bigint,
    difference bigint,
    pct_difference double,
    file_name varchar
);
"""

#: What the data quality page reads besides published_totals, empty.
CREATE_QUALITY_TABLES = """
create schema if not exists staging;
create or replace table marts.reconciliation (
    figure_id varchar, status varchar, source varchar, measure varchar, offence varchar, period varchar,
    published_value double, unit varchar, figure_release varchar, mart_value double,
    warehouse_release varchar, difference double, tolerance double, mart varchar,
    mart_expressible_reason varchar, citation varchar
);
create or replace table staging.stg_hsinsight__release_changes (
    source varchar, period varchar, previous_file varchar, new_file varchar, rows_added bigint,
    rows_removed bigint, rows_revised bigint, count_change bigint, has_row_changes boolean,
    detected_at timestamp
);
create or replace table staging.stg_hsinsight__revised_cells (
    source varchar, period varchar, new_file varchar, row_key varchar, column_name varchar,
    previous_value varchar, new_value varchar, detected_at timestamp
);
"""


def financial_year(start_year: int) -> tuple[dt.date, dt.date]:
    return dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31)


def total(
    publisher_table: str,
    release: str,
    area: tuple[str, str, str],
    period: tuple[dt.date, dt.date],
    offence_group: str,
    published: int | None,
    computed: int | None = None,
    marker: str | None = None,
    basis: str = "as_printed",
) -> tuple:
    """One published_totals row, its difference computed as the model computes it."""
    difference = None if published is None or computed is None else published - computed
    share = None if difference is None or not published else round(difference / published, 8)
    return (
        publisher_table,
        release,
        *area,
        *period,
        offence_group,
        published,
        marker,
        basis,
        computed,
        difference,
        share,
        f"{publisher_table}.xlsx",
    )


def appendix_rows() -> list[tuple]:
    national = (*NATIONAL, "national")
    rows = []
    for series, group, first_year in (
        (STALKING_AND_HARASSMENT, "stalking_and_harassment", 2002),
        (STALKING, "stalking", 2014),
        (CONTROLLING_OR_COERCIVE, "controlling_or_coercive_behaviour", 2020),
    ):
        for offset, value in enumerate(series):
            rows.append(
                total(
                    "ons_appendix_tables",
                    RELEASE,
                    national,
                    financial_year(first_year + offset),
                    group,
                    value,
                )
            )
    for period, value in ROLLING.items():
        rows.append(total("ons_appendix_tables", RELEASE, national, period, "stalking_and_harassment", value))
    # An earlier release of one year: the chart shows the latest release's figure.
    rows.append(
        total(
            "ons_appendix_tables", "year ending March 2025", national, financial_year(2020), "stalking", 98405
        )
    )
    return rows


#: Totals of the other publisher tables, differences over 2% among them.
OTHER_ROWS = [
    # England and Wales, year ending December 2018: 0.5% apart
    total(
        "ons_pfa_tables",
        "year ending December 2018",
        (*NATIONAL, "national"),
        (dt.date(2018, 1, 1), dt.date(2018, 12, 31)),
        "stalking_and_harassment",
        408522,
        406480,
    ),
    # a force 5% apart
    total(
        "ons_pfa_tables",
        "year ending December 2018",
        ("E23000013", "West Yorkshire", "force"),
        (dt.date(2018, 1, 1), dt.date(2018, 12, 31)),
        "stalking_and_harassment",
        20000,
        19000,
    ),
    # a force the warehouse has no figure for
    total(
        "home_office_pfa_rolling",
        "year ending December 2018",
        ("W15000002", "Gwent", "force"),
        (dt.date(2018, 1, 1), dt.date(2018, 12, 31)),
        "stalking_and_harassment",
        5321,
    ),
    # 3% below the warehouse's
    total(
        "home_office_pfa_rolling",
        "year ending December 2018",
        ("E23000001", "Metropolitan Police", "force"),
        (dt.date(2018, 1, 1), dt.date(2018, 12, 31)),
        "stalking_and_harassment",
        60000,
        61800,
    ),
]


def add_published_totals(path: Path, rows: list[tuple], *, quality_tables: bool = True) -> Path:
    """Add marts.published_totals (and the data quality page's other tables) to a
    hand-made warehouse."""
    con = duckdb.connect(str(path))
    try:
        con.execute(CREATE_PUBLISHED_TOTALS)
        if rows:
            con.executemany(f"insert into marts.published_totals values ({', '.join(['?'] * 15)})", rows)
        if quality_tables:
            con.execute(CREATE_QUALITY_TABLES)
        con.execute("checkpoint")
    finally:
        con.close()
    return path


def add_quality_tables(path: Path) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute(CREATE_QUALITY_TABLES)
        con.execute("checkpoint")
    finally:
        con.close()
    return path


@pytest.fixture(autouse=True)
def docs_served_from_tmp(monkeypatch, tmp_path) -> Path:
    """The data quality page copies the documentation sites into a temporary folder."""
    folder = tmp_path / "static" / "docs"
    monkeypatch.setattr(docs_site, "DOCS_DIR", folder)
    return folder


@pytest.fixture(scope="module")
def base_warehouse(tmp_path_factory) -> Path:
    """The hand-made warehouse of the dashboard tests (recorded_crime_12m, source_files,
    attrition), built once for the module."""
    return build_warehouse(tmp_path_factory.mktemp("base") / "hsinsight.duckdb")


@pytest.fixture
def with_totals(base_warehouse, tmp_path) -> Path:
    return add_published_totals(
        copy_warehouse(base_warehouse, tmp_path / "with-totals"), appendix_rows() + OTHER_ROWS
    )


@pytest.fixture
def without_appendix(base_warehouse, tmp_path) -> Path:
    return add_published_totals(copy_warehouse(base_warehouse, tmp_path / "no-appendix"), OTHER_ROWS)


@pytest.fixture
def older_warehouse(base_warehouse, tmp_path) -> Path:
    """A warehouse published before marts.published_totals existed."""
    return add_quality_tables(copy_warehouse(base_warehouse, tmp_path / "older"))


def plotly_figure(at, key: str) -> dict:
    return json.loads(chart_block(at, key).get("plotly_chart")[0].proto.spec)


def trace_values(y) -> list[float | None]:
    import base64

    import numpy as np

    if isinstance(y, dict):
        values = np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
        return [None if np.isnan(v) else float(v) for v in values]
    return [None if v is None else float(v) for v in y]


# =========================================================================== overview


def test_overview_draws_the_appendix_long_series_with_the_breaks_marked(with_totals, monkeypatch):
    downloads = Downloads(monkeypatch)
    at = open_page(with_totals, monkeypatch)

    assert not at.error, [e.value for e in at.error]
    # beside the quarterly force data, not instead of it
    assert block_keys(at, "chart-") == ["recorded-12m", "appendix-long-series"]
    table = shown_table(at, "appendix-long-series")
    assert list(table["offence_group"].unique()) == [
        "stalking_and_harassment",
        "stalking",
        "controlling_or_coercive_behaviour",
    ]
    subgroup = table[table["offence_group"] == "stalking_and_harassment"]
    assert list(subgroup["financial_year"]) == [f"{y}/{(y + 1) % 100:02d}" for y in range(2002, 2025)]
    assert list(subgroup["published_value"]) == list(STALKING_AND_HARASSMENT)
    assert set(subgroup["release"]) == {RELEASE}
    # financial years only: the rolling 12-month columns are not in the series
    assert set(pd.to_datetime(table["period_end"]).dt.month) == {3}
    assert not set(ROLLING.values()) & set(table["published_value"])
    # the latest release's figure for a year two releases give
    stalking = table[table["offence_group"] == "stalking"].set_index("financial_year")
    assert stalking.loc["2020/21", "published_value"] == 99104
    assert stalking.loc["2020/21", "release"] == RELEASE
    assert (
        table[table["offence_group"] == "controlling_or_coercive_behaviour"]["financial_year"].iloc[0]
        == "2020/21"
    )

    figure = plotly_figure(at, "appendix-long-series")
    traces = {trace["name"]: trace for trace in figure["data"]}
    assert list(traces) == ["Stalking and harassment", "Stalking", "Controlling or coercive behaviour"]
    assert trace_values(traces["Stalking and harassment"]["y"]) == [float(v) for v in STALKING_AND_HARASSMENT]
    # the recording-rule changes, as on every trend: a dotted line and a label each
    dotted = [s for s in figure["layout"]["shapes"] if s.get("line", {}).get("dash") == "dot"]
    assert len(dotted) == len(SERIES_BREAKS)
    labels = {a["text"] for a in figure["layout"]["annotations"]}
    assert {b.label for b in SERIES_BREAKS} <= labels

    block = chart_block(at, "appendix-long-series")
    assert [t.label for t in block.tabs] == ["Chart", "Table"]
    assert "599,128 stalking and harassment" in block.get("plotly_chart")[0].proto.alt
    caveats = [c.value for c in at.container(key="caveats-appendix-long-series").caption]
    assert CAVEATS["subgroup_2020"] in caveats
    button = block.download_button[0]
    assert button.label == (
        "Download CSV: Offences recorded in England and Wales each financial year, as the ONS publishes them"
    )
    pd.testing.assert_frame_equal(downloads.csv(button), as_csv_frame(table), check_dtype=False)
    assert not [i.value for i in at.info if "Appendix tables are not loaded" in i.value]


@pytest.mark.parametrize("warehouse", ["older_warehouse", "without_appendix"])
def test_overview_says_when_the_appendix_tables_are_not_loaded(warehouse, request, monkeypatch):
    at = open_page(request.getfixturevalue(warehouse), monkeypatch)

    assert not at.error, [e.value for e in at.error]
    assert block_keys(at, "chart-") == ["recorded-12m"]
    assert [i.value for i in at.info if "The ONS Appendix tables are not loaded" in i.value]


# =========================================================================== data quality


def test_data_quality_lists_published_totals_with_differences_over_two_percent_first(
    with_totals, monkeypatch
):
    downloads = Downloads(monkeypatch)
    at = open_page(with_totals, monkeypatch, "data-quality")

    assert not at.error, [e.value for e in at.error]
    table = shown_table(at, "published-totals")
    assert len(table) == len(appendix_rows()) + len(OTHER_ROWS)
    flagged = table[table["beyond_warning"] != ""]
    # West Yorkshire (published 5% above) and the Metropolitan Police (3% below), first
    assert list(table.index[: len(flagged)]) == list(flagged.index)
    assert set(flagged["area_name"]) == {"West Yorkshire", "Metropolitan Police"}
    assert set(flagged["beyond_warning"]) == {"more than 2% apart"}
    west_yorkshire = flagged.set_index("area_name").loc["West Yorkshire"]
    assert (west_yorkshire["published_value"], west_yorkshire["computed_value"]) == (20000, 19000)
    assert west_yorkshire["difference"] == 1000 and west_yorkshire["pct_difference"] == pytest.approx(0.05)
    national = table[
        (table["publisher_table"].str.startswith("ONS police force area"))
        & (table["area_type"] == "national")
    ]
    assert national["beyond_warning"].tolist() == [""]  # 0.5% apart: not highlighted
    gwent = table.set_index("area_name").loc["Gwent"]
    assert pd.isna(gwent["computed_value"]) and gwent["beyond_warning"] == ""

    block = chart_block(at, "published-totals")
    caption = " ".join(c.value for c in block.caption)
    assert "Publishers revise their figures" in caption and "never a failure" in caption
    assert ("More than 2% apart", "2") in [(m.label, m.value) for m in at.metric]
    pd.testing.assert_frame_equal(
        downloads.csv(block.download_button[0]), as_csv_frame(table), check_dtype=False
    )

    # one publisher table at a time
    at.multiselect(key="published_totals_tables").set_value(["home_office_pfa_rolling"]).run()
    only_rolling = shown_table(at, "published-totals")
    assert set(only_rolling["publisher_table"]) == {"Home Office rolling 12-month totals (rec-crime-pfa.csv)"}
    assert list(only_rolling["area_name"]) == ["Metropolitan Police", "Gwent"]
    assert ("More than 2% apart", "1") in [(m.label, m.value) for m in at.metric]
    offered = downloads.csv(chart_block(at, "published-totals").download_button[0])
    pd.testing.assert_frame_equal(offered, as_csv_frame(only_rolling), check_dtype=False)


def test_highlighted_rows_are_shaded(with_totals, monkeypatch):
    at = open_page(with_totals, monkeypatch, "data-quality")
    styled = chart_block(at, "published-totals").dataframe[0].proto
    # the shading travels with the table as cell styles; the download stays unstyled
    assert HIGHLIGHT_BACKGROUND.lower() in str(styled.arrow_data.styler).lower()


def test_data_quality_on_a_warehouse_without_published_totals(older_warehouse, monkeypatch):
    at = open_page(older_warehouse, monkeypatch, "data-quality")

    assert not at.error, [e.value for e in at.error]
    assert "published-totals" not in block_keys(at, "tableview-")
    assert [i.value for i in at.info if "This warehouse has no published totals" in i.value]


# =========================================================================== queries


def test_page_queries_run_the_published_totals_statements_only_when_the_mart_exists(
    with_totals, older_warehouse, monkeypatch
):
    executed: list[str] = []
    original = connection._run_sql

    def recording(path, sql, params):
        executed.append(sql)
        return original(path, sql, params)

    monkeypatch.setattr(connection, "_run_sql", recording)
    for slug, statement in (
        ("overview", LONG_SERIES_SQL),
        ("data-quality", PUBLISHED_TOTALS_SQL),
    ):
        assert {TABLE_PRESENT_SQL, statement} <= set(bench.PAGE_SQL[slug])
        assert "marts.published_totals" in bench.page_tables(slug)
        for warehouse, present in ((with_totals, True), (older_warehouse, False)):
            executed.clear()
            bench.PAGE_QUERIES[slug](connection.warehouse_version(warehouse))
            assert TABLE_PRESENT_SQL in executed
            assert (statement in executed) is present
