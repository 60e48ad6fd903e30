"""The dashboards, run headless with Streamlit's AppTest on real warehouse files.

The overview's frame behaviour (banner, missing or unreadable warehouse, a new publish)
runs on a small hand-made warehouse; every page runs on the warehouse the pipeline
publishes from the sample (the session's ``sample_warehouse``). Figures a page shows are
checked against values read from the warehouse here, independently of the dashboard's
queries; every chart's download is checked against the table it shows.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard_support import (
    APP,
    NATIONAL,
    Downloads,
    as_csv_frame,
    block_keys,
    build_warehouse,
    chart_block,
    copy_warehouse,
    latest_national,
    open_page,
    page_file,
    plotly_spec,
    query,
    read_value,
    republish,
    set_latest_national,
    shown_table,
    write_run_log,
)
from hsinsight.dashboard import connection, docs_site, filters
from hsinsight.dashboard.pages import PAGES
from hsinsight.dashboard.queries import bench
from hsinsight.dashboard.queries.force_comparison import RATIO_TREND_SQL
from hsinsight.dashboard.queries.overview import AREA_SERIES_SQL

SYNTHETIC_TEXT = "Synthetic sample data: these figures are invented for demonstration"
CAVEAT = "Recorded crime measures police activity and recording practice, not true incidence."
GWENT = "W15000002"
CLEVELAND = "E23000013"
SLUGS = [p.slug for p in PAGES]
#: The filters each page offers, by widget key.
PAGE_FILTERS = {
    "overview": {"force_select", "period_select"},
    "force-comparison": {"force_select", "offence_select", "period_select"},
    "outcomes": {"force_select", "offence_select", "period_select"},
    "conversion": {"cps_area_select", "offence_select", "period_select"},
    "courts": {"force_select", "period_select"},
    "force-profile": {"force_select", "period_select"},
    "data-quality": set(),
}


@pytest.fixture(autouse=True)
def docs_served_from_tmp(monkeypatch, tmp_path) -> Path:
    """The data quality page copies the documentation sites into a temporary folder,
    not into dashboards/static/."""
    folder = tmp_path / "static" / "docs"
    monkeypatch.setattr(docs_site, "DOCS_DIR", folder)
    return folder


@pytest.fixture
def downloads(monkeypatch) -> Downloads:
    return Downloads(monkeypatch)


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory) -> dict[bool, Path]:
    """The small hand-made warehouses, synthetic and not, built once for the module."""
    folder = tmp_path_factory.mktemp("hand-made")
    return {
        synthetic: build_warehouse(folder / str(synthetic) / "hsinsight.duckdb", synthetic=synthetic)
        for synthetic in (True, False)
    }


@pytest.fixture
def synthetic_warehouse(hand_made, tmp_path: Path) -> Path:
    return copy_warehouse(hand_made[True], tmp_path / "warehouse")


@pytest.fixture
def official_warehouse(hand_made, tmp_path: Path) -> Path:
    return copy_warehouse(hand_made[False], tmp_path / "published")


@pytest.fixture
def own_sample(sample_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the sample warehouse, with no run log beside it."""
    return copy_warehouse(sample_warehouse, tmp_path / "warehouse")


def metric_values(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def trace_values(y) -> np.ndarray:
    """A Plotly trace's values as sent to the browser (plain or typed-array encoded)."""
    import base64

    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
    return np.asarray([np.nan if v is None else v for v in y], dtype="float64")


def widget_value(at: AppTest, key: str):
    return at.selectbox(key=key).value


# =========================================================================== pages and frame


def test_every_page_is_listed_once_with_its_queries():
    assert SLUGS == [
        "overview",
        "force-comparison",
        "outcomes",
        "conversion",
        "courts",
        "force-profile",
        "data-quality",
    ]
    for page in PAGES:
        assert (APP.parent / page.file).is_file(), page.file
        # Not in a folder called pages/: Streamlit would run such a file without the frame.
        assert not page.file.startswith("pages/")
    assert not (APP.parent / "pages").exists()
    assert set(bench.PAGE_QUERIES) == set(SLUGS) == set(bench.PAGE_SQL)


@pytest.mark.parametrize("slug", SLUGS)
def test_page_renders_with_its_charts_tables_and_downloads(slug, sample_warehouse, monkeypatch, downloads):
    at = open_page(sample_warehouse, monkeypatch, slug)
    spec = next(p for p in PAGES if p.slug == slug)

    assert not at.error, [e.value for e in at.error]
    assert [w.value for w in at.warning if SYNTHETIC_TEXT in w.value] and len(at.title) == 1
    assert {s.key for s in at.selectbox} == PAGE_FILTERS[slug]
    charts = block_keys(at, "chart-")
    tables = block_keys(at, "tableview-")
    assert charts or tables
    for key in charts:
        block = chart_block(at, key)
        # A text alternative: the chart's accessible name is the caption under it.
        plot = block.get("plotly_chart")[0]
        assert len(plot.proto.alt) > 40 and plot.proto.alt in [c.value for c in block.caption]
        assert [t.label for t in block.tabs] == ["Chart", "Table"]
    for key in charts + tables:
        block = chart_block(at, key)
        button = block.download_button[0]
        assert button.proto.id.endswith(f"download-{key}")
        assert button.label.startswith("Download CSV: ")
        # The download is exactly the table shown.
        shown = block.dataframe[0].value
        offered = downloads.csv(button)
        assert list(offered.columns) == list(shown.columns)
        pd.testing.assert_frame_equal(offered, as_csv_frame(shown), check_dtype=False)
    assert spec.title


@pytest.mark.parametrize("slug", SLUGS)
def test_page_issues_exactly_the_queries_the_benchmark_times(slug, sample_warehouse, monkeypatch):
    """PAGE_QUERIES (what bench/ times) runs the same statements as the page with its
    default filters, and PAGE_SQL (what the dbt exposures declare) lists them."""
    import streamlit as st

    executed: list[str] = []
    original = connection._run_sql

    def recording(path, sql, params):
        executed.append(sql)
        return original(path, sql, params)

    monkeypatch.setattr(connection, "_run_sql", recording)
    monkeypatch.setenv("HSINSIGHT_WAREHOUSE", str(sample_warehouse))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    if slug != "overview":
        at.switch_page(page_file(slug))
    st.cache_data.clear()
    executed.clear()
    at.run()
    assert not at.exception
    by_page = set(executed)

    executed.clear()
    bench.PAGE_QUERIES[slug](connection.warehouse_version(sample_warehouse))
    assert set(executed) == by_page
    declared = set(bench.FRAME_SQL) | set(bench.PAGE_SQL[slug])
    assert by_page <= declared
    # What the page may issue with other filters is declared too.
    assert declared - by_page <= {RATIO_TREND_SQL, AREA_SERIES_SQL}


def test_sql_is_only_ever_bound_never_formatted():
    package = Path(connection.__file__).parent
    modules = sorted(package.rglob("*.py"))
    source = "\n".join(path.read_text(encoding="utf-8") for path in modules)
    constants = {
        name: value
        for path in (package / "queries").glob("*.py")
        for name, value in vars(importlib.import_module(f"hsinsight.dashboard.queries.{path.stem}")).items()
        if name.endswith("_SQL")
    }
    assert len(constants) > 20
    for name, sql in constants.items():
        assert "{" not in sql and "%s" not in sql, name
    # The only statements built with f-strings attach the file and use its catalog,
    # whose name is the published file's own, quoted.
    assert re.findall(r'execute\(f"([^"]*)"', source) == ["attach ? as {alias} (read_only)", "use {alias}"]
    # Every page's reads are in the dbt schemas (models and seeds).
    for slug in SLUGS:
        assert all(t.split(".")[0] in {"marts", "staging", "reference"} for t in bench.page_tables(slug))


# =========================================================================== overview (hand-made warehouse)


def test_overview_renders_national_view(synthetic_warehouse, monkeypatch):
    at = open_page(synthetic_warehouse, monkeypatch)

    assert at.title[0].value == "Recorded stalking and harassment"
    assert any("How has recorded stalking and harassment changed" in m.value for m in at.markdown)
    caveats = at.container(key="caveats-recorded-12m")
    assert CAVEAT in [c.value for c in caveats.caption]
    assert not at.error
    table = shown_table(at, "recorded-12m")
    assert set(table["area_code"]) == {NATIONAL[0]}
    assert set(table["offence_group"]) == {
        "stalking",
        "harassment",
        "racially_or_religiously_aggravated_harassment",
    }
    assert "force" not in at.query_params
    _, stalking = latest_national(synthetic_warehouse, "stalking")
    assert ("Stalking", f"{stalking:,}") in metric_values(at)


def test_synthetic_banner_shows_for_synthetic_warehouse(synthetic_warehouse, monkeypatch):
    at = open_page(synthetic_warehouse, monkeypatch)
    banners = [w.value for w in at.warning if SYNTHETIC_TEXT in w.value]
    assert len(banners) == 1
    assert "Not official statistics." in banners[0]


def test_no_synthetic_banner_for_official_warehouse(official_warehouse, monkeypatch):
    at = open_page(official_warehouse, monkeypatch)
    assert not [w.value for w in at.warning if "Synthetic" in w.value]
    assert at.title[0].value == "Recorded stalking and harassment"


def test_selecting_a_force_updates_query_params_and_chart_data(synthetic_warehouse, monkeypatch):
    at = open_page(synthetic_warehouse, monkeypatch)
    before = shown_table(at, "recorded-12m")

    at.selectbox(key="force_select").select(GWENT).run()
    assert not at.exception

    assert at.query_params["force"] == GWENT
    after = shown_table(at, "recorded-12m")
    assert set(after["area_code"]) == {NATIONAL[0], GWENT}
    assert set(after.loc[after["area_code"] == GWENT, "area_name"]) == {"Gwent"}
    national_after = after[after["area_code"] == NATIONAL[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(national_after, before.reset_index(drop=True))
    # A row of headline figures for Gwent too.
    assert len(at.metric) == 6
    # The chart draws Gwent's series from the warehouse.
    traces = {t["name"]: trace_values(t["y"]) for t in plotly_spec(at, "recorded-12m")["data"]}
    sql = (
        "select list(offences order by period_end) from marts.recorded_crime_12m "
        "where area_code = ? and offence_group = ?"
    )
    assert list(traces["Stalking, Gwent"]) == list(read_value(synthetic_warehouse, sql, [GWENT, "stalking"]))
    assert list(traces["Stalking, England and Wales"]) == list(
        read_value(synthetic_warehouse, sql, [NATIONAL[0], "stalking"])
    )

    at.selectbox(key="force_select").select("").run()
    assert "force" not in at.query_params
    assert set(shown_table(at, "recorded-12m")["area_code"]) == {NATIONAL[0]}


def test_overview_period_sets_the_headline_figures(synthetic_warehouse, monkeypatch):
    at = open_page(synthetic_warehouse, monkeypatch, params={"period": "2016-12-31"})
    assert widget_value(at, "period_select") == "2016-12-31"
    value = read_value(
        synthetic_warehouse,
        "select offences from marts.recorded_crime_12m where area_code = ? and offence_group = ? and period_end = ?",
        [NATIONAL[0], "harassment", dt.date(2016, 12, 31)],
    )
    assert ("Harassment", f"{value:,}") in metric_values(at)
    # The year before spans the April 2015 and April 2016... changes: the comparison is flagged.
    assert any("not a like-for-like comparison" in w.value for w in at.warning)

    at.selectbox(key="period_select").select("2023-03-31").run()
    assert at.query_params["period"] == "2023-03-31"
    value = read_value(
        synthetic_warehouse,
        "select offences from marts.recorded_crime_12m where area_code = ? and offence_group = ? and period_end = ?",
        [NATIONAL[0], "harassment", dt.date(2023, 3, 31)],
    )
    assert ("Harassment", f"{value:,}") in metric_values(at)


def test_force_in_link_opens_that_force(synthetic_warehouse, monkeypatch):
    at = open_page(synthetic_warehouse, monkeypatch, params={"force": GWENT})
    assert widget_value(at, "force_select") == GWENT
    assert GWENT in set(shown_table(at, "recorded-12m")["area_code"])
    assert at.query_params["force"] == GWENT


def test_unknown_force_in_link_falls_back_to_national(synthetic_warehouse, monkeypatch):
    at = open_page(synthetic_warehouse, monkeypatch, params={"force": "E23999999"})
    assert widget_value(at, "force_select") == ""
    assert "force" not in at.query_params
    assert set(shown_table(at, "recorded-12m")["area_code"]) == {NATIONAL[0]}
    assert any("E23999999" in w.value and "showing England and Wales" in w.value for w in at.warning)


def test_missing_warehouse_shows_how_to_build_it(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "hsinsight.duckdb"
    monkeypatch.setenv("HSINSIGHT_WAREHOUSE", str(missing))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    assert "make run" in at.error[0].value and "hsinsight run" in at.error[0].value
    assert str(missing) in at.error[0].value
    assert not at.title


def test_unreadable_warehouse_shows_error_not_traceback(tmp_path, monkeypatch):
    broken = tmp_path / "warehouse" / "hsinsight.duckdb"
    broken.parent.mkdir()
    broken.write_bytes(b"this is not a duckdb file")
    monkeypatch.setenv("HSINSIGHT_WAREHOUSE", str(broken))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "could not be read" in at.error[0].value


def test_new_publish_refreshes_open_session(synthetic_warehouse, monkeypatch):
    at = open_page(synthetic_warehouse, monkeypatch)
    _, old = latest_national(synthetic_warehouse, "stalking")
    assert ("Stalking", f"{old:,}") in metric_values(at)

    set_latest_national(synthetic_warehouse, "stalking", 123_457)
    at.run()

    assert not at.exception
    assert ("Stalking", "123,457") in metric_values(at)
    assert ("Stalking", f"{old:,}") not in metric_values(at)
    assert 123_457 in set(shown_table(at, "recorded-12m")["offences"])


def test_app_keeps_working_while_new_warehouses_are_published(synthetic_warehouse, monkeypatch):
    """Publishes land while the app reruns: every run reads one whole warehouse."""
    at = open_page(synthetic_warehouse, monkeypatch, params={"force": GWENT})
    stop = threading.Event()
    published: list[int] = []

    def publish_repeatedly() -> None:
        value = 200_000
        while not stop.is_set():
            value += 1
            set_latest_national(synthetic_warehouse, "stalking", value)
            published.append(value)

    publisher = threading.Thread(target=publish_repeatedly)
    publisher.start()
    try:
        for _ in range(4):
            at.run()
            assert not at.exception, [e.value for e in at.exception]
            assert not at.error
            assert GWENT in set(shown_table(at, "recorded-12m")["area_code"])
    finally:
        stop.set()
        publisher.join()
    assert published
    at.run()
    assert ("Stalking", f"{published[-1]:,}") in metric_values(at)


def test_warehouse_argument_after_double_dash(tmp_path, monkeypatch):
    given = tmp_path / "elsewhere.duckdb"
    assert connection.warehouse_path(["--warehouse", str(given)], environ={}) == given.resolve()
    assert connection.warehouse_path([f"--warehouse={given}"], environ={}) == given.resolve()
    env = tmp_path / "env.duckdb"
    assert (
        connection.warehouse_path(["--warehouse", str(given)], {"HSINSIGHT_WAREHOUSE": str(env)})
        == env.resolve()
    )
    monkeypatch.delenv("HSINSIGHT_WAREHOUSE", raising=False)
    from hsinsight.config import Settings

    assert connection.warehouse_path(["-k", "x"], environ={}) == Settings.from_env().warehouse


# =========================================================================== shared filters


def test_filters_survive_a_page_switch_that_empties_the_address(sample_warehouse, monkeypatch):
    """Streamlit empties the address when the user switches page; the app puts the
    session's filters back, and the next page opens on them."""
    at = open_page(sample_warehouse, monkeypatch)
    at.selectbox(key="force_select").select(CLEVELAND).run()
    at.selectbox(key="period_select").select("2016-12-31").run()
    assert at.query_params == {"force": CLEVELAND, "period": "2016-12-31"}

    at.query_params.clear()
    at.switch_page(page_file("outcomes")).run()
    assert not at.exception
    assert at.query_params == {"force": CLEVELAND, "period": "2016-12-31"}
    assert widget_value(at, "force_select") == CLEVELAND
    assert widget_value(at, "period_select") == "2016-12-31"
    assert "Cleveland" in set(shown_table(at, "outcome-mix")["area_name"])

    at.selectbox(key="offence_select").select("harassment").run()
    at.query_params.clear()
    at.switch_page(page_file("courts")).run()
    assert at.query_params == {"force": CLEVELAND, "period": "2016-12-31", "offence": "harassment"}
    # Court figures are calendar years: the latest that ended by 31 December 2016.
    assert widget_value(at, "period_select") == "2016-12-31"
    assert set(shown_table(at, "court-sections")["area_code"]) == {CLEVELAND}

    at.query_params.clear()
    at.switch_page(page_file("conversion")).run()
    # Financial years: the latest that ended by then is 2015/16.
    assert widget_value(at, "period_select") == "2016-03-31"
    assert widget_value(at, "offence_select") == "harassment"
    assert at.query_params["period"] == "2016-12-31"


@pytest.mark.parametrize("slug", [s for s in SLUGS if PAGE_FILTERS[s]])
def test_bad_values_in_a_link_fall_back_with_a_note(slug, sample_warehouse, monkeypatch):
    params = {
        "force": "E23999999",
        "cps_area": "cps_atlantis",
        "offence": "burglary",
        "period": "last-tuesday",
    }
    at = open_page(sample_warehouse, monkeypatch, slug, params)
    assert not at.exception and not at.error
    notes = " ".join(w.value for w in at.warning)
    for value in params.values():
        assert f"`{value}`" in notes
    assert at.query_params == {}
    defaults = {"cps_area_select": "", "offence_select": "stalking"}
    if slug != "force-profile":  # the profile shows the first force until one is chosen
        defaults["force_select"] = ""
    for key, value in defaults.items():
        if key in PAGE_FILTERS[slug]:
            assert widget_value(at, key) == value


@pytest.mark.parametrize(
    ("slug", "params"),
    [
        ("force-comparison", {"force": GWENT, "offence": "harassment", "period": "2016-12-31"}),
        ("outcomes", {"force": CLEVELAND, "offence": "harassment", "period": "2016-12-31"}),
        ("conversion", {"cps_area": "cps_wessex", "offence": "harassment", "period": "2016-03-31"}),
        ("courts", {"force": GWENT, "period": "2016-12-31"}),
        ("force-profile", {"force": GWENT, "period": "2016-12-31"}),
    ],
)
def test_link_round_trips_through_the_widgets(slug, params, sample_warehouse, monkeypatch):
    at = open_page(sample_warehouse, monkeypatch, slug, params)
    assert at.query_params == params
    keys = {"force": "force_select", "cps_area": "cps_area_select", "offence": "offence_select"}
    for name, value in params.items():
        if name in keys:
            assert widget_value(at, keys[name]) == value
    assert not [w for w in at.warning if SYNTHETIC_TEXT not in w.value]


def test_a_page_without_an_offence_keeps_it_for_the_others(sample_warehouse, monkeypatch):
    at = open_page(sample_warehouse, monkeypatch, "conversion", {"offence": "malicious_communications"})
    assert widget_value(at, "offence_select") == "stalking"
    assert any("no figures for malicious communications" in i.value for i in at.info)
    assert at.query_params["offence"] == "malicious_communications"
    assert set(shown_table(at, "attrition-funnel")["offence_group"]) == {"stalking"}


def test_filters_parse_years_and_financial_years():
    assert filters.parse_period("2016-12-31") == dt.date(2016, 12, 31)
    assert filters.parse_period("2016") == dt.date(2016, 12, 31)
    assert filters.parse_period("2015/16") == dt.date(2016, 3, 31)
    assert filters.parse_period("2015-16") == dt.date(2016, 3, 31)
    assert filters.parse_period("2015/17") is None
    assert filters.parse_period("2016-02-30") is None
    assert filters.parse_period("soon") is None


# =========================================================================== force comparison


def test_force_comparison_ranks_every_force_for_the_chosen_period(sample_warehouse, monkeypatch):
    at = open_page(sample_warehouse, monkeypatch, "force-comparison", {"period": "2016-12-31"})
    expected = query(
        sample_warehouse,
        "select area_code, harassment_to_stalking_ratio, peer_group_ratio, outlier_flag from marts.recording_practice "
        "where period_end = ? and area_type = 'force' and harassment_to_stalking_ratio is not null "
        "order by harassment_to_stalking_ratio desc",
        [dt.date(2016, 12, 31)],
    )
    table = shown_table(at, "ratio-ranked")
    assert list(table["area_code"]) == list(expected["area_code"])
    np.testing.assert_allclose(
        table["harassment_to_stalking_ratio"], expected["harassment_to_stalking_ratio"]
    )
    national = read_value(
        sample_warehouse,
        "select harassment_to_stalking_ratio from marts.recording_practice where area_code = ? and period_end = ?",
        [NATIONAL[0], dt.date(2016, 12, 31)],
    )
    assert set(np.round(table["national_ratio"], 9)) == {round(national, 9)}
    # The chart draws the same ratios, one bar per force.
    bars = [t for t in plotly_spec(at, "ratio-ranked")["data"] if t["type"] == "bar"]
    assert sum(len(t["y"]) for t in bars) == len(expected)
    # No force chosen: no trend chart.
    assert "ratio-trend" not in block_keys(at, "chart-")

    at.selectbox(key="period_select").select("2020-03-31").run()
    assert at.query_params["period"] == "2020-03-31"
    later = query(
        sample_warehouse,
        "select area_code from marts.recording_practice where period_end = ? and area_type = 'force' "
        "and harassment_to_stalking_ratio is not null order by harassment_to_stalking_ratio desc",
        [dt.date(2020, 3, 31)],
    )
    assert list(shown_table(at, "ratio-ranked")["area_code"]) == list(later["area_code"])


def test_force_comparison_rate_follows_the_offence_and_highlights_the_force(sample_warehouse, monkeypatch):
    at = open_page(
        sample_warehouse, monkeypatch, "force-comparison", {"period": "2016-12-31", "force": GWENT}
    )
    at.selectbox(key="offence_select").select("harassment").run()
    assert at.query_params["offence"] == "harassment"
    rates = shown_table(at, "rate-ranked")
    expected = query(
        sample_warehouse,
        "select area_code, rate_per_1000 from marts.recorded_crime_12m where period_end = ? "
        "and offence_group = 'harassment' and area_type = 'force' and rate_per_1000 is not null "
        "order by rate_per_1000 desc",
        [dt.date(2016, 12, 31)],
    )
    assert list(rates["area_code"]) == list(expected["area_code"])
    np.testing.assert_allclose(rates["rate_per_1000"], expected["rate_per_1000"])
    assert "BTP" not in set(rates["area_code"])
    # The group's rate is its forces' offences over its residents.
    group = query(
        sample_warehouse,
        "select 1000.0 * sum(r.offences) / sum(r.population) as rate from marts.recorded_crime_12m r "
        "join reference.force_peer_groups g using (area_code) where r.period_end = ? "
        "and r.offence_group = 'harassment' and g.peer_group = "
        "(select peer_group from reference.force_peer_groups where area_code = ?)",
        [dt.date(2016, 12, 31), GWENT],
    )
    gwent = rates[rates["area_code"] == GWENT].iloc[0]
    assert gwent["peer_group_rate_per_1000"] == pytest.approx(group["rate"].iloc[0])
    # The chosen force is drawn as its own trace, and its ratio over time appears.
    names = [t["name"] for t in plotly_spec(at, "rate-ranked")["data"]]
    assert "Chosen force" in names
    trend = shown_table(at, "ratio-trend")
    assert set(trend["area_code"]) == {GWENT}
    expected_trend = query(
        sample_warehouse,
        "select harassment_to_stalking_ratio from marts.recording_practice where area_code = ? "
        "and harassment_to_stalking_ratio is not null order by period_end",
        [GWENT],
    )
    np.testing.assert_allclose(
        trend["harassment_to_stalking_ratio"], expected_trend["harassment_to_stalking_ratio"]
    )


# =========================================================================== outcomes


def test_outcomes_mix_for_force_group_and_national(sample_warehouse, monkeypatch):
    period = dt.date(2016, 12, 31)
    at = open_page(sample_warehouse, monkeypatch, "outcomes", {"force": CLEVELAND, "period": "2016-12-31"})
    mix = shown_table(at, "outcome-mix")
    assert list(dict.fromkeys(mix["area_code"]))[:2] == [NATIONAL[0], CLEVELAND]
    expected = query(
        sample_warehouse,
        "select area_code, outcome_group, share from marts.outcomes_12m where period_end = ? "
        "and offence_group = 'stalking' and area_code in (?, ?)",
        [period, NATIONAL[0], CLEVELAND],
    )
    merged = mix.merge(expected, on=["area_code", "outcome_group"], suffixes=("", "_expected"))
    assert len(merged) == len(expected)
    np.testing.assert_allclose(merged["share"], merged["share_expected"])
    group = query(
        sample_warehouse,
        "select o.outcome_group, sum(o.outcomes) / sum(o.assigned_outcomes) as share from marts.outcomes_12m o "
        "join reference.force_peer_groups g using (area_code) where o.period_end = ? and o.offence_group = 'stalking' "
        "and g.peer_group = (select peer_group from reference.force_peer_groups where area_code = ?) "
        "group by o.outcome_group",
        [period, CLEVELAND],
    )
    peer_group = mix[mix["area_code"].str.startswith("peer_group:")].merge(
        group, on="outcome_group", suffixes=("", "_expected")
    )
    assert len(peer_group) == len(group)
    np.testing.assert_allclose(peer_group["share"], peer_group["share_expected"])

    at.selectbox(key="offence_select").select("harassment").run()
    forces = shown_table(at, "outcome-forces")
    expected = query(
        sample_warehouse,
        "select area_code, share from marts.outcomes_12m where period_end = ? and offence_group = 'harassment' "
        "and outcome_group = 'charged_summonsed' and area_type = 'force'",
        [period],
    )
    merged = forces.merge(expected, on="area_code")
    assert len(merged) == len(expected) == len(forces)
    np.testing.assert_allclose(merged["charged_summonsed_share"], merged["share"])
    assert forces["charged_summonsed_share"].is_monotonic_decreasing
    trend = shown_table(at, "outcome-trend")
    assert set(trend["area_code"]) == {NATIONAL[0], CLEVELAND}
    assert set(trend["offence_group"]) == {"harassment"}


# =========================================================================== conversion


def test_conversion_funnel_and_areas_for_the_financial_year(sample_warehouse, monkeypatch):
    at = open_page(
        sample_warehouse, monkeypatch, "conversion", {"cps_area": "cps_wessex", "period": "2016-12-31"}
    )
    # The 12 months to December 2016: the latest financial year ended by then is 2015/16.
    assert widget_value(at, "period_select") == "2016-03-31"
    funnel = shown_table(at, "attrition-funnel")
    expected = query(
        sample_warehouse,
        "select area_code, recorded, charged_summonsed, prosecuted, convicted from marts.attrition "
        "where financial_year = '2015/16' and offence_group = 'stalking' and area_code in (?, 'cps_wessex')",
        [NATIONAL[0]],
    ).set_index("area_code")
    for code in (NATIONAL[0], "cps_wessex"):
        counts = funnel[funnel["area_code"] == code]["count"].tolist()
        assert counts == [
            int(v) for v in expected.loc[code, ["recorded", "charged_summonsed", "prosecuted", "convicted"]]
        ]
    # The funnel's traces draw those counts.
    funnels = [t for t in plotly_spec(at, "attrition-funnel")["data"] if t["type"] == "funnel"]
    assert [list(trace_values(t["x"])) for t in funnels] == [
        [float(v) for v in expected.loc[code, ["recorded", "charged_summonsed", "prosecuted", "convicted"]]]
        for code in (NATIONAL[0], "cps_wessex")
    ]
    areas = shown_table(at, "conversion-areas")
    assert set(areas["financial_year"]) == {"2015/16"}
    assert "cps_wessex" in set(areas["area_code"])
    gap = shown_table(at, "prosecution-gap")
    expected_gap = query(
        sample_warehouse,
        "select area_code, financial_year, stalking_prosecutions from marts.prosecution_gap "
        "where area_code in (?, 'cps_wessex') order by area_code = ? desc, period_end",
        [NATIONAL[0], NATIONAL[0]],
    )
    assert list(gap["stalking_prosecutions"]) == list(expected_gap["stalking_prosecutions"])

    at.selectbox(key="offence_select").select("harassment").run()
    at.selectbox(key="period_select").select("2021-03-31").run()
    assert at.query_params["period"] == "2021-03-31"
    funnel = shown_table(at, "attrition-funnel")
    assert set(funnel["financial_year"]) == {"2020/21"} and set(funnel["offence_group"]) == {"harassment"}
    recorded = read_value(
        sample_warehouse,
        "select recorded from marts.attrition where financial_year = '2020/21' and offence_group = 'harassment' "
        "and area_code = ?",
        [NATIONAL[0]],
    )
    assert funnel[(funnel["area_code"] == NATIONAL[0])]["count"].iloc[0] == recorded


# =========================================================================== courts


def test_courts_by_section_sentences_and_orders_for_a_force_and_year(sample_warehouse, monkeypatch):
    # The 12 months to March 2017: the latest calendar year ended by then is 2016.
    at = open_page(sample_warehouse, monkeypatch, "courts", {"force": GWENT, "period": "2017-03-31"})
    assert widget_value(at, "period_select") == "2016-12-31"
    sections = shown_table(at, "court-sections")
    expected = query(
        sample_warehouse,
        "select offence_section, prosecuted, convicted, conviction_ratio from marts.court_outcomes "
        "where area_code = ? and calendar_year = 2016",
        [GWENT],
    )
    merged = sections.merge(expected, on="offence_section", suffixes=("", "_expected"))
    assert len(merged) == len(expected) == len(sections)
    assert list(merged["prosecuted"]) == list(merged["prosecuted_expected"])
    national = query(
        sample_warehouse,
        "select offence_section, conviction_ratio from marts.court_outcomes where area_code = ? and calendar_year = 2016",
        [NATIONAL[0]],
    ).set_index("offence_section")["conviction_ratio"]
    beside = sections.set_index("offence_section")["conviction_ratio_england_and_wales"]
    np.testing.assert_allclose(beside, national.loc[beside.index])
    sentences = shown_table(at, "sentences")
    custody = sentences[(sentences["disposal"] == "immediate_custody")].set_index("offence_section")[
        "defendants"
    ]
    expected_custody = query(
        sample_warehouse,
        "select offence_section, immediate_custody from marts.court_outcomes where area_code = ? and calendar_year = 2016",
        [GWENT],
    ).set_index("offence_section")["immediate_custody"]
    assert custody.sort_index().tolist() == expected_custody.sort_index().tolist()
    orders = shown_table(at, "restraining-orders")
    expected_orders = query(
        sample_warehouse,
        "select calendar_year, orders_on_conviction from marts.restraining_orders where area_code = ? "
        "and offence_scope = 'all_offences' order by calendar_year",
        [GWENT],
    )
    assert list(orders["orders_on_conviction"]) == list(expected_orders["orders_on_conviction"])

    at.selectbox(key="period_select").select("2021-12-31").run()
    assert set(shown_table(at, "court-sections")["calendar_year"]) == {2021}


def test_courts_for_british_transport_police_show_england_and_wales(sample_warehouse, monkeypatch):
    at = open_page(sample_warehouse, monkeypatch, "courts", {"force": "BTP"})
    assert any("British Transport Police has no court figures" in i.value for i in at.info)
    assert set(shown_table(at, "court-sections")["area_code"]) == {NATIONAL[0]}
    assert at.query_params["force"] == "BTP"  # kept for the pages that have it


# =========================================================================== force profile


def test_force_profile_measures_and_downloads(sample_warehouse, monkeypatch, downloads):
    at = open_page(sample_warehouse, monkeypatch, "force-profile", {"force": GWENT, "period": "2016-12-31"})
    row = query(
        sample_warehouse,
        "select * from marts.problem_profile where area_code = ? and period_end = ?",
        [GWENT, dt.date(2016, 12, 31)],
    ).iloc[0]
    measures = shown_table(at, "profile-all-measures").set_index("measure_key")
    for key in ("stalking_offences", "harassment_rate_per_1000", "harassment_to_stalking_ratio"):
        assert measures.at[key, "force"] == pytest.approx(row[key])
        assert measures.at[key, "england_and_wales"] == pytest.approx(row[f"{key}_england_and_wales"])
        assert measures.at[key, "peer_group"] == pytest.approx(row[f"{key}_peer_group"])
    assert ("Recorded stalking", f"{int(row['stalking_offences']):,}") in metric_values(at)

    html_button = at.download_button(key="download-profile-html")
    assert downloads.file_name(html_button) == "hsinsight_problem_profile_w15000002_20161231_synthetic.html"
    page = downloads.data(html_button).decode("utf-8")
    assert "Gwent" in page and "Synthetic sample data" in page and "31 December 2016" in page
    rows = downloads.csv(at.download_button(key="download-profile-rows"))
    expected = query(
        sample_warehouse,
        "select * from marts.problem_profile where area_code = ? order by period_end",
        [GWENT],
    )
    assert len(rows) == len(expected)
    assert list(rows.columns) == [*expected.columns, "synthetic_sample_data"]
    assert rows["synthetic_sample_data"].all()
    np.testing.assert_allclose(rows["harassment_to_stalking_ratio"], expected["harassment_to_stalking_ratio"])

    at.selectbox(key="force_select").select(CLEVELAND).run()
    assert at.query_params["force"] == CLEVELAND
    assert set(shown_table(at, "profile-measures")["area_code"]) == {CLEVELAND}


def test_force_profile_without_a_force_shows_the_first(sample_warehouse, monkeypatch):
    at = open_page(sample_warehouse, monkeypatch, "force-profile")
    first = query(
        sample_warehouse,
        "select area_code from marts.recorded_crime_12m where area_type = 'force' group by all "
        "order by any_value(area_name) limit 1",
    )["area_code"].iloc[0]
    assert widget_value(at, "force_select") == first
    assert "force" not in at.query_params
    assert set(shown_table(at, "profile-trend")["area_code"]) == {first}


# =========================================================================== data quality


def test_data_quality_without_a_run_log(own_sample, monkeypatch):
    docs = docs_site
    monkeypatch.setattr(docs, "dbt_docs_index", lambda root: None)
    monkeypatch.setattr(docs, "data_docs_index", lambda quality, from_run=None: None)
    at = open_page(own_sample, monkeypatch, "data-quality")
    assert any("No runs recorded yet" in i.value for i in at.info)
    assert not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "hsinsight docs" in captions and "hsinsight run" in captions
    assert not at.get("link_button")
    sources = shown_table(at, "sources")
    assert {"home_office_recorded_crime", "cps_vawg", "moj_court_outcomes"} <= set(sources["source"])
    assert set(sources["licence"].dropna()) == {"Open Government Licence v3.0"}
    files = shown_table(at, "source-files")
    assert len(files) == read_value(own_sample, "select count(*) from marts.source_files")
    reconciliation = shown_table(at, "reconciliation")
    assert len(reconciliation) == read_value(own_sample, "select count(*) from marts.reconciliation")


def test_data_quality_shows_runs_checks_revisions_and_serves_docs(
    own_sample, monkeypatch, tmp_path, docs_served_from_tmp
):
    docs = docs_site
    static = docs_served_from_tmp
    data_docs = tmp_path / "quality" / "docs"
    (data_docs / "validations").mkdir(parents=True)
    (data_docs / "index.html").write_text("<html>Data Docs</html>")
    (data_docs / "validations" / "run.html").write_text("<html>one validation</html>")
    dbt_index = tmp_path / "dbt" / "index.html"
    dbt_index.parent.mkdir()
    dbt_index.write_text("<html>dbt docs</html>")
    monkeypatch.setattr(docs, "dbt_docs_index", lambda root: dbt_index)
    started = dt.datetime(2025, 7, 1, 9, 0)
    runs = [
        ("direct__old", "direct", started - dt.timedelta(days=1), started - dt.timedelta(days=1) + dt.timedelta(seconds=50),
         50.0, "blocked", False, "home_office_recorded_crime", 3, 1000, 4, 3, 0, 1, "a check failed", True, None),
        ("airflow__new", "airflow", started, started + dt.timedelta(seconds=61.5), 61.5, "published", True,
         "cps_vawg, home_office_recorded_crime", 31, 250_000, 4, 3, 1, 0, None, True, str(data_docs / "index.html")),
    ]  # fmt: skip
    results = [
        ("airflow__new", "marts.recording_practice", "warning", "outliers", False, 2205, 1),
        ("airflow__new", "marts.recorded_crime_12m", "failure", "coverage", True, 7560, 0),
        ("direct__old", "raw.home_office__recorded_crime", "failure", "raw", False, 10, 2),
    ]
    findings = [
        ("airflow__new", "marts.recording_practice", "warning", "outlier_flag", "outlier_flag",
         "an outlier", "E23000013", "Cleveland", "2018-06-30", "z 3.9"),
    ]  # fmt: skip
    write_run_log(own_sample.parent / "runs.duckdb", runs, results, findings)

    def add_release(con) -> None:
        con.execute(
            "insert into raw._release_changes values ('cps_vawg', '2016/17', 'old.xlsx', 'a', 'new.xlsx', 'b', "
            "1, 0, 2, -5, timestamp '2025-07-01 09:00:00')"
        )
        con.execute(
            "insert into raw._revised_cells values ('cps_vawg', '2016/17', 'new.xlsx', 'Wessex|stalking', "
            "'prosecutions', '20', '18', timestamp '2025-07-01 09:00:00')"
        )

    republish(own_sample, add_release)
    at = open_page(own_sample, monkeypatch, "data-quality")
    assert not at.error

    shown = shown_table(at, "runs")
    assert list(shown["run_id"]) == ["airflow__new", "direct__old"]
    assert ("Last run", "Published") in metric_values(at)
    assert ("Checks warned", "1") in metric_values(at)
    checks = shown_table(at, "check-results")
    assert set(checks["run_id"]) == {"airflow__new"} and len(checks) == 2
    assert checks["success"].iloc[0] == False  # noqa: E712 - the unmet check comes first
    assert list(shown_table(at, "check-findings")["area_name"]) == ["Cleveland"]
    changes = shown_table(at, "release-changes")
    assert list(changes["rows_revised"]) == [2] and list(changes["count_change"]) == [-5]
    cells = shown_table(at, "revised-cells")
    assert list(cells[["previous_value", "new_value"]].iloc[0]) == ["20", "18"]

    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert set(links) == {"Open the Data Docs", "Open the dbt docs"}
    for label, url in links.items():
        assert url.startswith("app/static/docs/") and url.endswith("/index.html")
        served = static / url.removeprefix("app/static/docs/")
        assert served.is_file(), label
    data_docs_copy = static / links["Open the Data Docs"].removeprefix("app/static/docs/")
    assert (data_docs_copy.parent / "validations" / "run.html").read_text() == "<html>one validation</html>"
    assert (
        static / links["Open the dbt docs"].removeprefix("app/static/docs/")
    ).read_text() == "<html>dbt docs</html>"

    # A rebuilt site is served from a new folder; the link moves with it.
    dbt_index.write_text("<html>dbt docs, rebuilt</html>")
    at.run()
    new_links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert new_links["Open the dbt docs"] != links["Open the dbt docs"]
    assert new_links["Open the Data Docs"] == links["Open the Data Docs"]


def test_data_quality_refreshes_when_a_new_run_is_recorded(own_sample, monkeypatch):
    log = own_sample.parent / "runs.duckdb"
    row = ("r1", "direct", dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 1, 0, 1), 60.0, "published", True,
           "cps_vawg", 1, 10, 1, 1, 0, 0, None, True, None)  # fmt: skip
    write_run_log(log, [row])
    at = open_page(own_sample, monkeypatch, "data-quality")
    assert list(shown_table(at, "runs")["run_id"]) == ["r1"]
    failed = ("r2", "airflow", dt.datetime(2025, 2, 1), dt.datetime(2025, 2, 1, 0, 1), 60.0, "failed", False,
              None, 0, 0, None, None, None, None, "dbt build failed", True, None)  # fmt: skip
    write_run_log(log, [row, failed])
    at.run()
    assert list(shown_table(at, "runs")["run_id"]) == ["r2", "r1"]
    assert ("Last run", "Failed") in metric_values(at)
    assert any("dbt build failed" in e.value for e in at.error)


def test_data_quality_with_an_unreadable_run_log(own_sample, monkeypatch):
    (own_sample.parent / "runs.duckdb").write_bytes(b"not a run log")
    at = open_page(own_sample, monkeypatch, "data-quality")
    assert any("could not be read" in w.value for w in at.warning)
    assert not at.error
    assert "sources" in block_keys(at, "tableview-")
