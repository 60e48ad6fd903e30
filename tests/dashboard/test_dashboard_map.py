"""The map of police force areas, the funnel plots and the small multiples.

The figures are built from the shipped boundaries and from the warehouse the pipeline
publishes from the sample; the pages run in Streamlit's AppTest; and, in Debian's
Chromium (``browser``), the funnel plot and the map render with one shape per force,
choosing a force on the map changes the address, and the attribution is on the page.
Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import csv
import datetime as dt
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from browser_support import VIEWPORT, copy_published, dashboard_server
from browser_support import chromium as launch_chromium
from dashboard_support import PROJECT_ROOT, open_page, plotly_spec, query, shown_table
from hsinsight.dashboard.charts import funnel as charts_funnel
from hsinsight.dashboard.charts import map as charts_map
from hsinsight.dashboard.charts.shared import OKABE_ITO

SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "forces.csv"
ATTRIBUTION = "Contains OS data © Crown copyright and database right 2023"
OGL = "Source: Office for National Statistics licensed under the Open Government Licence v.3.0."
GWENT = "W15000002"


def territorial_forces() -> dict[str, str]:
    with open(SEED, newline="", encoding="utf-8") as handle:
        return {
            row["area_code"]: row["area_name"]
            for row in csv.DictReader(handle)
            if row["has_resident_population"] == "true"
        }


def made_up_rates(codes: list[str]) -> pd.DataFrame:
    flags = ["above_998", "above_95", "within", "below_95", "below_998"]
    return pd.DataFrame(
        {
            "area_code": codes,
            "area_name": [f"Force {i}" for i in range(len(codes))],
            "period_end": pd.Timestamp("2016-12-31"),
            "numerator": np.arange(len(codes)) + 10,
            "denominator": 100_000,
            "value": np.linspace(0.5, 2.5, len(codes)),
            "ci_lower_95": np.linspace(0.4, 2.3, len(codes)),
            "ci_upper_95": np.linspace(0.6, 2.7, len(codes)),
            "target": 1.5,
            "flag": [flags[i % 5] for i in range(len(codes))],
        }
    )


# --------------------------------------------------------------------------- boundaries and figures


def test_the_boundaries_have_one_shape_per_territorial_force_and_their_attribution():
    geojson = charts_map.boundaries()
    codes = charts_map.boundary_codes(geojson)
    assert len(codes) == len(set(codes)) == 43
    assert set(codes) == set(territorial_forces())
    assert "BTP" not in codes
    readme = (charts_map.BOUNDARIES.parent / "README.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in readme and ATTRIBUTION in readme
    assert ATTRIBUTION in charts_map.ATTRIBUTION and OGL in charts_map.ATTRIBUTION
    # Small enough to send with every map: the coordinates were rounded, the outlines kept.
    assert charts_map.BOUNDARIES.stat().st_size < 200_000


@pytest.mark.parametrize("shading", ["flag", "value"])
def test_the_map_draws_every_area_offline_in_colour_blind_safe_colours(shading):
    geojson = charts_map.boundaries()
    codes = charts_map.boundary_codes(geojson)
    frame = made_up_rates(codes[:-1])  # the last area has no figure
    fig = charts_map.map_figure(
        frame,
        geojson,
        shading=shading,
        flag_column="flag",
        highlight=codes[3],
        value_name="Per 1,000",
        value_format=",.2f",
    )
    main, missing, chosen = fig.data
    assert main.type == "choropleth" and list(main.locations) == codes
    assert main.featureidkey == "properties.PFA23CD"
    assert list(missing.locations) == [codes[-1]] and list(chosen.locations) == [codes[3]]
    assert chosen.marker.line.width >= 3
    # No tiles, no base map: the outlines alone, fitted to the areas.
    assert fig.layout.geo.fitbounds == "locations" and fig.layout.geo.visible is False
    assert {t.type for t in fig.data} == {"choropleth"}  # no map tiles (scattermap, choroplethmap...)
    assert fig.to_dict()["layout"].get("map") is None
    if shading == "flag":
        colours = {colour for _, colour in main.colorscale}
        assert colours == set(charts_map.FLAG_COLOURS)
        assert colours - {"#E4E4E4"} <= set(OKABE_ITO.values())
        # Each flag has its own step: the flag's position in FLAG_ORDER.
        z = dict(zip(main.locations, main.z, strict=True))
        for code, flag in zip(frame["area_code"], frame["flag"], strict=True):
            assert z[code] == charts_map.FLAG_ORDER.index(flag)
        assert list(main.colorbar.ticktext) == [charts_funnel.FLAG_LABELS[f] for f in charts_map.FLAG_ORDER]
    else:
        # Cividis, from dark blue to yellow: readable with every common colour-vision deficiency.
        assert main.colorscale[0][1].lower() == "#00224e" and len(main.colorscale) > 2
        assert main.z[0] == pytest.approx(0.5) and np.isnan(main.z[-1])


def test_the_funnel_plot_draws_the_target_both_limit_pairs_and_every_force():
    frame = made_up_rates([f"E23{i:06d}" for i in range(1, 21)]).assign(
        distribution="poisson",
        multiplier=1000,
        denominator=np.geomspace(5_000, 3_000_000, 20).round(),
        is_overdispersed=False,
        tau_squared=0.0,
    )
    fig = charts_funnel.funnel_figure(
        frame, highlight="E23000005", value_name="Per 1,000", volume_name="Residents", adjusted=False
    )
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 5  # the target and two pairs of limits
    markers = [t for t in fig.data if t.mode and "markers" in t.mode]
    assert sum(len(t.x) for t in markers) == 20
    chosen = [t for t in markers if t.name.startswith("Chosen force")]
    assert len(chosen) == 1 and list(chosen[0].x) == [frame["denominator"].iloc[4]]
    # Every point has its interval as an error bar.
    for trace in markers:
        assert trace.error_y.array is not None and len(trace.error_y.array) == len(trace.x)
    # The limits narrow as volume grows.
    upper = next(t for t in lines if t.name == "95% limits" and t.showlegend)
    assert np.all(np.diff(np.asarray(upper.y)) <= 1e-12)


# --------------------------------------------------------------------------- against the warehouse


def test_the_drawn_limits_are_the_marts_at_every_force(sample_warehouse):
    rows = query(
        sample_warehouse,
        "select * from marts.funnel_limits where target is not null and value is not null "
        "and period_end = (select max(period_end) from marts.funnel_limits where measure = 'stalking_share') "
        "and ((measure in ('rate_per_1000', 'stalking_share') and category = 'all') "
        "or (measure = 'outcome_share' and category = 'charged_summonsed'))",
    )
    checked = 0
    for (_, _), group in rows.groupby(["measure", "offence_group"]):
        first = group.iloc[0]
        for level in ("95", "998"):
            for side in ("lower", "upper"):
                for adjusted in (False, True):
                    curve = charts_funnel.limit_curve(
                        first["distribution"],
                        float(first["target"]),
                        float(first["multiplier"]),
                        group["denominator"].to_numpy(),
                        level,
                        side,
                        float(first["tau_squared"]) if adjusted else 0.0,
                    )
                    column = f"{side}_{level}{'_adjusted' if adjusted else ''}"
                    np.testing.assert_allclose(curve, group[column], rtol=1e-9, atol=1e-12)
                    checked += 1
    assert checked >= 8 * 5


def test_the_force_comparison_tables_list_the_flags_and_intervals(sample_warehouse, monkeypatch):
    period = dt.date(2016, 12, 31)
    at = open_page(
        sample_warehouse, monkeypatch, "force-comparison", {"period": period.isoformat(), "force": GWENT}
    )
    expected = query(
        sample_warehouse,
        "select area_code, value, ci_lower_95, ci_upper_95, flag, flag_adjusted, is_overdispersed "
        "from marts.funnel_limits where period_end = ? and measure = 'rate_per_1000' "
        "and offence_group = 'stalking' and value is not null",
        [period],
    ).set_index("area_code")
    adjusted = bool(expected["is_overdispersed"].any())
    flags = expected["flag_adjusted" if adjusted else "flag"].map(charts_funnel.FLAG_LABELS)
    funnel = shown_table(at, "rate-funnel").set_index("area_code")
    assert set(funnel.index) == set(expected.index) and len(funnel) == 43
    assert (funnel["flag_shown"] == flags[funnel.index]).all()
    assert set(funnel["limits_shown"]) == {"adjusted for over-dispersion" if adjusted else "plain"}
    np.testing.assert_allclose(funnel["ci_lower_95"], expected.loc[funnel.index, "ci_lower_95"])
    # The ranked rate chart has the same intervals as error bars on its bars.
    rates = shown_table(at, "rate-ranked").set_index("area_code")
    np.testing.assert_allclose(rates["ci_upper_95"], expected.loc[rates.index, "ci_upper_95"])
    bars = [t for t in plotly_spec(at, "rate-ranked")["data"] if t["type"] == "bar"]
    assert bars and all("error_x" in t and t["error_x"].get("array") is not None for t in bars)
    # The map's table: every force, British Transport Police too when it has a figure.
    mapped = shown_table(at, "force-map").set_index("area_code")
    assert set(expected.index) <= set(mapped.index)
    assert (mapped.loc[expected.index, "against_limits"] == flags[expected.index]).all()
    # The ratio's table has the funnel flag beside the robust z-score outlier.
    ratio = shown_table(at, "ratio-ranked")
    assert {"against_limits", "outlier_flag", "ratio_ci_lower_95", "ratio_ci_upper_95"} <= set(ratio.columns)
    inside = ratio.dropna(subset=["ratio_ci_lower_95", "ratio_ci_upper_95"])
    assert len(inside) > 40
    assert (inside["ratio_ci_lower_95"] <= inside["harassment_to_stalking_ratio"] + 1e-9).all()
    assert (inside["harassment_to_stalking_ratio"] <= inside["ratio_ci_upper_95"] + 1e-9).all()
    # The page says which limits it shows.
    assert any(
        (charts_funnel.ADJUSTED_NOTE if adjusted else charts_funnel.PLAIN_NOTE) in c.value for c in at.caption
    )
    assert any(ATTRIBUTION in c.value for c in at.caption)


def test_the_overview_shows_every_forces_trend_by_peer_group(sample_warehouse, monkeypatch):
    at = open_page(sample_warehouse, monkeypatch)
    grid = shown_table(at, "force-grid")
    assert grid["area_code"].nunique() == 44 and set(grid["offence_group"]) == {"stalking"}
    order = list(dict.fromkeys(grid["area_code"]))
    groups = list(dict.fromkeys(grid["peer_group_name"]))
    # Grouped: each peer group's forces are together, those in no group last.
    assert len(groups) == grid.groupby("peer_group_name")["area_code"].nunique().shape[0]
    assert groups[-1] == "In no group"
    spec = plotly_spec(at, "force-grid")
    assert len(spec["data"]) == 44 and [t["name"] for t in spec["data"]] == [
        grid.loc[grid["area_code"] == code, "area_name"].iloc[0] for code in order
    ]
    at.radio(key="grid-offence").set_value("harassment").run()
    assert set(shown_table(at, "force-grid")["offence_group"]) == {"harassment"}
    assert len(shown_table(at, "overview-map")) >= 43


def test_the_outcomes_funnel_follows_the_chosen_share(sample_warehouse, monkeypatch):
    at = open_page(sample_warehouse, monkeypatch, "outcomes", {"period": "2016-12-31"})
    first = shown_table(at, "outcome-funnel")
    at.radio(key="funnel-outcome").set_value("evidential_difficulties_victim_does_not_support").run()
    second = shown_table(at, "outcome-funnel")
    expected = query(
        sample_warehouse,
        "select area_code, value from marts.funnel_limits where period_end = ? and measure = 'outcome_share' "
        "and offence_group = 'stalking' and category = 'evidential_difficulties_victim_does_not_support' "
        "and value is not null and target is not null",
        [dt.date(2016, 12, 31)],
    ).set_index("area_code")
    assert set(second["area_code"]) == set(expected.index)
    np.testing.assert_allclose(
        second.set_index("area_code")["value"], expected.loc[second["area_code"], "value"]
    )
    assert not np.allclose(
        first.set_index("area_code")["value"].sort_index(),
        second.set_index("area_code")["value"].sort_index(),
    )
    forces = shown_table(at, "outcome-forces")
    assert (forces["charged_summonsed_share_ci_lower_95"] <= forces["charged_summonsed_share"] + 1e-12).all()


# --------------------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def browser_app(sample_warehouse: Path, tmp_path_factory, artifacts_dir: Path):
    folder = artifacts_dir / "browser"
    folder.mkdir(exist_ok=True)
    warehouse = copy_published(sample_warehouse, tmp_path_factory.mktemp("map-warehouse"))
    with dashboard_server(warehouse, folder / "streamlit-map.log") as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    with launch_chromium() as browser:
        yield browser


@pytest.mark.browser
def test_the_map_and_the_funnel_render_and_a_click_chooses_the_force(browser_app, chromium, artifacts_dir):
    from test_dashboard_browser import (
        assert_no_exception,
        full_page_screenshot,
        shown_choice,
        wait_idle,
        wait_rendered,
    )

    context = chromium.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(f"{browser_app}/force-comparison", wait_until="domcontentloaded")
        wait_rendered(page)
        map_paths = page.locator(".st-key-chart-force-map .js-plotly-plot path.choroplethlocation")
        map_paths.first.wait_for(timeout=60_000)
        assert_no_exception(page)
        # One shape per police force area, none chosen yet.
        assert map_paths.count() == 43
        funnel_points = page.locator(".st-key-chart-rate-funnel .js-plotly-plot .scatterlayer path.point")
        assert funnel_points.count() == 43
        ratio_points = page.locator(".st-key-chart-ratio-funnel .js-plotly-plot .scatterlayer path.point")
        assert ratio_points.count() == 44  # British Transport Police records crime too
        body = page.locator("body").inner_text()
        assert ATTRIBUTION in body and "British Transport Police" in body
        shots = artifacts_dir / "browser"
        page.locator(".st-key-chart-force-map").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.locator(".st-key-chart-force-map").screenshot(path=str(shots / "force-map.png"))
        page.locator(".st-key-chart-rate-funnel").screenshot(path=str(shots / "rate-funnel.png"))

        # Choosing a force on the map: the address and the picker follow.
        codes = charts_map.boundary_codes(charts_map.boundaries())
        target = codes.index(GWENT)
        map_paths.nth(target).click(force=True)
        page.wait_for_function(
            "code => new URLSearchParams(window.location.search).get('force') === code",
            arg=GWENT,
            timeout=60_000,
        )
        wait_idle(page)
        assert_no_exception(page)
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
        assert params["force"] == GWENT
        assert shown_choice(page, "force") == "Gwent"
        # The chosen area is outlined: a shape more than the 43.
        page.locator(".st-key-chart-force-map .js-plotly-plot path.choroplethlocation").nth(43).wait_for(
            timeout=30_000
        )
        full_page_screenshot(page, shots / "force-comparison-gwent.png")
    finally:
        context.close()
