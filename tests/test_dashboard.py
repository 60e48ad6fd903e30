"""The dashboards, run headless with Streamlit's AppTest on small real warehouse files."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard_support import (
    APP,
    NATIONAL,
    build_warehouse,
    latest_national,
    read_value,
    set_latest_national,
)

SYNTHETIC_TEXT = "Synthetic sample data: these figures are invented for demonstration"
CAVEAT = "Recorded crime measures police activity and recording practice, not true incidence."
GWENT = "W15000002"


@pytest.fixture
def synthetic_warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "warehouse" / "hsinsight.duckdb", synthetic=True)


@pytest.fixture
def official_warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "published" / "hsinsight.duckdb", synthetic=False)


def run_app(warehouse: Path, monkeypatch: pytest.MonkeyPatch, **query_params: str) -> AppTest:
    monkeypatch.setenv("HSINSIGHT_WAREHOUSE", str(warehouse))
    at = AppTest.from_file(str(APP), default_timeout=60)
    for name, value in query_params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_table(at: AppTest) -> pd.DataFrame:
    """The table of exactly what the chart shows (the first dataframe on the page)."""
    return at.dataframe[0].value


def chart_traces(at: AppTest) -> list[dict[str, np.ndarray]]:
    """Per Plotly chart on the page, its traces' y values by trace name, as sent to the browser."""

    def values(y) -> np.ndarray:
        if isinstance(y, dict):  # plotly's typed-array encoding
            return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
        return np.asarray(y, dtype="float64")

    charts = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        charts.append({trace["name"]: values(trace["y"]) for trace in spec["data"]})
    return charts


def warehouse_series(path: Path, area_code: str, group: str) -> list[int]:
    sql = (
        "select list(offences order by period_end) from marts.recorded_crime_12m "
        "where area_code = ? and offence_group = ?"
    )
    return list(read_value(path, sql, [area_code, group]))


def metric_values(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def test_overview_renders_national_view(synthetic_warehouse, monkeypatch):
    at = run_app(synthetic_warehouse, monkeypatch)

    assert at.title[0].value == "Recorded stalking and harassment"
    assert any("How has recorded stalking and harassment changed" in m.value for m in at.markdown)
    assert any(CAVEAT in i.value for i in at.info)
    assert not at.error
    # England and Wales only by default, and nothing in the address.
    table = chart_table(at)
    assert set(table["area_code"]) == {NATIONAL[0]}
    assert set(table["offence_group"]) == {
        "stalking",
        "harassment",
        "racially_or_religiously_aggravated_harassment",
    }
    assert "force" not in at.query_params
    # The headline figure is the warehouse's latest 12-month figure for England and Wales.
    _, stalking = latest_national(synthetic_warehouse, "stalking")
    assert ("Stalking", f"{stalking:,}") in metric_values(at)


def test_synthetic_banner_shows_for_synthetic_warehouse(synthetic_warehouse, monkeypatch):
    at = run_app(synthetic_warehouse, monkeypatch)
    banners = [w.value for w in at.warning if SYNTHETIC_TEXT in w.value]
    assert len(banners) == 1
    assert "Not official statistics." in banners[0]


def test_no_synthetic_banner_for_official_warehouse(official_warehouse, monkeypatch):
    at = run_app(official_warehouse, monkeypatch)
    assert not [w.value for w in at.warning if "Synthetic" in w.value]
    assert at.title[0].value == "Recorded stalking and harassment"


def test_selecting_a_force_updates_query_params_and_chart_data(synthetic_warehouse, monkeypatch):
    at = run_app(synthetic_warehouse, monkeypatch)
    before = chart_table(at)
    assert len(chart_traces(at)) == 1

    at.selectbox(key="force_select").select(GWENT).run()
    assert not at.exception

    assert at.query_params["force"] == GWENT
    after = chart_table(at)
    assert set(after["area_code"]) == {NATIONAL[0], GWENT}
    assert set(after.loc[after["area_code"] == GWENT, "area_name"]) == {"Gwent"}
    # The national part of the chart is unchanged; Gwent's series is added.
    national_after = after[after["area_code"] == NATIONAL[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(national_after, before.reset_index(drop=True))
    assert len(after) > len(before)
    # A row of headline figures for Gwent too.
    assert len(at.metric) == 6
    # A second chart, drawing Gwent's series from the warehouse.
    charts = chart_traces(at)
    assert len(charts) == 2
    assert list(charts[1]["Stalking"]) == warehouse_series(synthetic_warehouse, GWENT, "stalking")
    assert list(charts[0]["Stalking"]) == warehouse_series(synthetic_warehouse, NATIONAL[0], "stalking")

    # Back to England and Wales only: the parameter leaves the address.
    at.selectbox(key="force_select").select("").run()
    assert "force" not in at.query_params
    assert set(chart_table(at)["area_code"]) == {NATIONAL[0]}


def test_force_in_link_opens_that_force(synthetic_warehouse, monkeypatch):
    at = run_app(synthetic_warehouse, monkeypatch, force=GWENT)
    assert at.selectbox(key="force_select").value == GWENT
    assert GWENT in set(chart_table(at)["area_code"])


def test_unknown_force_in_link_falls_back_to_national(synthetic_warehouse, monkeypatch):
    at = run_app(synthetic_warehouse, monkeypatch, force="E23999999")
    assert at.selectbox(key="force_select").value == ""
    assert "force" not in at.query_params
    assert set(chart_table(at)["area_code"]) == {NATIONAL[0]}


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
    at = run_app(synthetic_warehouse, monkeypatch)
    _, old = latest_national(synthetic_warehouse, "stalking")
    assert ("Stalking", f"{old:,}") in metric_values(at)

    set_latest_national(synthetic_warehouse, "stalking", 123_457)
    at.run()

    assert not at.exception
    assert ("Stalking", "123,457") in metric_values(at)
    assert ("Stalking", f"{old:,}") not in metric_values(at)
    assert 123_457 in set(chart_table(at)["offences"])


def test_warehouse_argument_after_double_dash(tmp_path, monkeypatch):
    import sys

    sys.path.insert(0, str(APP.parent))
    try:
        import queries
    finally:
        sys.path.remove(str(APP.parent))
    given = tmp_path / "elsewhere.duckdb"
    assert queries.warehouse_path(["--warehouse", str(given)], environ={}) == given.resolve()
    assert queries.warehouse_path([f"--warehouse={given}"], environ={}) == given.resolve()
    env = tmp_path / "env.duckdb"
    assert (
        queries.warehouse_path(["--warehouse", str(given)], {"HSINSIGHT_WAREHOUSE": str(env)})
        == env.resolve()
    )
    monkeypatch.delenv("HSINSIGHT_WAREHOUSE", raising=False)
    from hsinsight.config import Settings

    assert queries.warehouse_path(["-k", "x"], environ={}) == Settings.from_env().warehouse
