"""The map of police force areas: a Plotly choropleth over the ONS boundaries shipped in
``data/boundaries/`` (drawn offline as SVG: no tile server is needed or reachable),
shaded by where each force falls against the funnel plot's control limits or by its
value, in colour-blind-safe colours, with the attribution the licence asks for under
it and British Transport Police, which has no area, listed beside it. Choosing a force
on the map (a click) sets the shared force filter (``filters.set_value``), as the
force picker does; the table under the Table tab is the accessible alternative.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from hsinsight.dashboard import filters, formatting
from hsinsight.dashboard.charts import funnel as charts_funnel
from hsinsight.dashboard.charts import shared as charts
from hsinsight.dashboard.paths import BOUNDARIES

#: The GeoJSON property holding the ONS police force area code (as in the forces seed).
CODE_PROPERTY = "PFA23CD"
ATTRIBUTION = (
    "Boundaries: Office for National Statistics, Police Force Areas (December 2023) Boundaries EW BUC. "
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2023."
)
BTP_CODE = "BTP"

#: Shading by flag: the funnel's five flags as five steps of a diverging, colour-blind-safe
#: scale (blue below, grey within, orange to vermillion above), plus no flag.
FLAG_ORDER = ("below_998", "below_95", "within", "above_95", "above_998")
FLAG_COLOURS = (
    charts.OKABE_ITO["blue"],
    charts.OKABE_ITO["sky_blue"],
    "#E4E4E4",
    charts.OKABE_ITO["orange"],
    charts.OKABE_ITO["vermillion"],
)
#: Shading by value: cividis, readable with every common colour-vision deficiency.
VALUE_SCALE = "cividis"
SHADINGS = {"flag": "Against the control limits", "value": "By value"}

#: Plotly's geo charts fetch a world outline (``world_110m.json``) from its CDN before
#: drawing, even with their own GeoJSON and the base map hidden, and hang without it:
#: no such site is reachable from restricted networks (or from here). An empty
#: topology, handed over in the page itself as a data: URL (the ``#`` makes the file
#: name Plotly appends a fragment, which is ignored), lets the map draw offline.
EMPTY_TOPOLOGY = {"type": "Topology", "objects": {}, "arcs": []}
TOPOJSON_URL = "data:application/json," + urllib.parse.quote(json.dumps(EMPTY_TOPOLOGY)) + "#"
#: Plotly config for every map (charts.PLOTLY_CONFIG and the offline topology).
MAP_CONFIG = {**charts.PLOTLY_CONFIG, "scrollZoom": False, "topojsonURL": TOPOJSON_URL}


@functools.lru_cache(maxsize=1)
def boundaries(path: Path = BOUNDARIES) -> dict[str, Any]:
    """The police force area boundaries (GeoJSON, longitude and latitude)."""
    return json.loads(path.read_text(encoding="utf-8"))


def boundary_codes(geojson: dict[str, Any]) -> list[str]:
    return [feature["properties"][CODE_PROPERTY] for feature in geojson["features"]]


def _discrete_scale(colours: tuple[str, ...]) -> list[list[Any]]:
    """A colour scale that gives each integer 0..n-1 its own colour, with no blending."""
    scale = []
    for i, colour in enumerate(colours):
        scale += [[i / len(colours), colour], [(i + 1) / len(colours), colour]]
    return scale


def map_figure(
    frame: pd.DataFrame,
    geojson: dict[str, Any],
    *,
    shading: str,
    flag_column: str,
    highlight: str | None,
    value_name: str,
    value_format: str,
) -> go.Figure:
    """One shape per police force area in ``geojson``, coloured from ``frame`` (rows with
    area_code, area_name, value, ci_lower_95, ci_upper_95 and ``flag_column``); areas
    without a figure are drawn hatched grey. The chosen force is outlined in black."""
    codes = boundary_codes(geojson)
    names = {f["properties"][CODE_PROPERTY]: f["properties"].get("PFA23NM", "") for f in geojson["features"]}
    rows = frame.set_index("area_code").reindex(codes)
    labels = rows[flag_column].map(charts_funnel.FLAG_LABELS).fillna("No figure")
    area_names = rows["area_name"].fillna(pd.Series(names))
    custom = np.column_stack(
        [
            area_names,
            rows["value"].map(lambda v: "not available" if pd.isna(v) else f"{v:{value_format}}"),
            rows["ci_lower_95"].map(lambda v: "" if pd.isna(v) else f"{v:{value_format}}"),
            rows["ci_upper_95"].map(lambda v: "" if pd.isna(v) else f"{v:{value_format}}"),
            labels,
        ]
    )
    hover = (
        "<b>%{customdata[0]}</b><br>" + value_name + ": %{customdata[1]}"
        " (95% interval %{customdata[2]} to %{customdata[3]})<br>%{customdata[4]}<extra></extra>"
    )
    fig = go.Figure()
    has_figure = rows["value"].notna().to_numpy()
    if shading == "flag":
        position = {flag: i for i, flag in enumerate(FLAG_ORDER)}
        z = rows[flag_column].map(position)
        fig.add_trace(
            go.Choropleth(
                geojson=geojson,
                featureidkey=f"properties.{CODE_PROPERTY}",
                locations=codes,
                z=z.fillna(-1).to_numpy(dtype=float),
                zmin=-0.5,
                zmax=len(FLAG_ORDER) - 0.5,
                colorscale=_discrete_scale(FLAG_COLOURS),
                colorbar={
                    "title": {"text": "Against the limits"},
                    "tickvals": list(range(len(FLAG_ORDER))),
                    "ticktext": [charts_funnel.FLAG_LABELS[f] for f in FLAG_ORDER],
                    "len": 0.6,
                    "thickness": 14,
                },
                marker={"line": {"color": "#FFFFFF", "width": 0.6}},
                customdata=custom,
                hovertemplate=hover,
                name="Police force areas",
            )
        )
    else:
        fig.add_trace(
            go.Choropleth(
                geojson=geojson,
                featureidkey=f"properties.{CODE_PROPERTY}",
                locations=codes,
                z=rows["value"].to_numpy(dtype=float),
                colorscale=VALUE_SCALE,
                colorbar={
                    "title": {"text": value_name},
                    "tickformat": value_format,
                    "len": 0.6,
                    "thickness": 14,
                },
                marker={"line": {"color": "#FFFFFF", "width": 0.6}},
                customdata=custom,
                hovertemplate=hover,
                name="Police force areas",
            )
        )
    if not has_figure.all():  # areas without a figure: white, outlined in grey
        missing = [c for c, ok in zip(codes, has_figure, strict=True) if not ok]
        fig.add_trace(
            go.Choropleth(
                geojson=geojson,
                featureidkey=f"properties.{CODE_PROPERTY}",
                locations=missing,
                z=[0] * len(missing),
                colorscale=[[0, "#FFFFFF"], [1, "#FFFFFF"]],
                showscale=False,
                marker={"line": {"color": charts.MARKER_COLOUR, "width": 1}},
                hovertemplate="%{location}: no figure<extra></extra>",
                name="No figure",
            )
        )
    if highlight in codes:
        fig.add_trace(
            go.Choropleth(
                geojson=geojson,
                featureidkey=f"properties.{CODE_PROPERTY}",
                locations=[highlight],
                z=[0],
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                showscale=False,
                marker={"line": {"color": "#000000", "width": 3}},
                hoverinfo="skip",
                name="Chosen force",
            )
        )
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator")
    fig.update_layout(
        template="plotly_white",
        height=560,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        font={"size": 13, "color": "#222222"},
        showlegend=False,
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def map_table(frame: pd.DataFrame, flag_column: str) -> pd.DataFrame:
    """The map's figures, one row per force (British Transport Police too), by name."""
    table = frame.sort_values("area_name").assign(
        period_end=pd.to_datetime(frame["period_end"]).dt.date,
        against_limits=frame[flag_column].map(charts_funnel.FLAG_LABELS).fillna("No figure"),
        on_map=frame["area_code"] != BTP_CODE,
    )
    return table[
        [
            "area_code",
            "area_name",
            "period_end",
            "numerator",
            "denominator",
            "value",
            "ci_lower_95",
            "ci_upper_95",
            "target",
            "against_limits",
            "on_map",
        ]
    ].reset_index(drop=True)


def _choose_force(plot_key: str, known: frozenset[str]) -> None:
    """The map's selection callback: a clicked area becomes the shared force."""
    state = st.session_state.get(plot_key)
    selection = (
        (state or {}).get("selection", {}) if isinstance(state, dict) else getattr(state, "selection", {})
    )
    points = (selection or {}).get("points", [])
    for point in points:
        code = point.get("location")
        if code in known:
            filters.set_value("force", code)
            return


def render_map(
    key: str,
    title: str,
    frame: pd.DataFrame,
    *,
    btp: pd.DataFrame,
    highlight: str | None,
    value_name: str,
    value_format: str,
    what: str,
    label: str,
    file_name: str,
    subtitle: str | None = None,
) -> None:
    """The map as every chart is shown (heading, Chart and Table tabs, text alternative,
    CSV download through formatting.csv_bytes), with a choice of shading, the
    attribution under it and British Transport Police beside it."""
    geojson = boundaries()
    adjusted = charts_funnel.uses_adjusted(frame)
    flag_column = "flag_adjusted" if adjusted else "flag"
    table = map_table(pd.concat([frame, btp], ignore_index=True), flag_column)
    codes = set(boundary_codes(geojson))
    with st.container(key=f"chart-{key}"):
        st.subheader(title, anchor=key)
        if subtitle:
            st.markdown(f"**{formatting.escape_markdown(subtitle)}**")
        shading = st.radio(
            "Shade the areas",
            list(SHADINGS),
            format_func=SHADINGS.get,
            horizontal=True,
            key=f"shading-{key}",
        )
        body, side = st.columns([3, 1], gap="medium")
        mapped = frame[frame["area_code"].isin(codes)]
        description = _describe(
            mapped, flag_column, what=what, label=label, fmt=value_format, shading=shading
        )
        with body:
            on_chart, on_table = st.tabs(["Chart", "Table"])
            with on_chart:
                plot_key = f"plot-{key}"
                st.plotly_chart(
                    map_figure(
                        mapped,
                        geojson,
                        shading=shading,
                        flag_column=flag_column,
                        highlight=highlight,
                        value_name=value_name,
                        value_format=value_format,
                    ),
                    key=plot_key,
                    config={**MAP_CONFIG, "toImageButtonOptions": {"filename": file_name}},
                    theme=None,
                    on_select=functools.partial(_choose_force, plot_key, frozenset(codes)),
                    selection_mode="points",
                    alt=description,
                )
                st.caption(description)
                st.caption(ATTRIBUTION)
            with on_table:
                st.dataframe(
                    table,
                    hide_index=True,
                    key=f"table-{key}",
                    column_config={
                        "area_code": "Area code",
                        "area_name": "Force",
                        "period_end": st.column_config.DateColumn("Period to", format="D MMM YYYY"),
                        "numerator": st.column_config.NumberColumn("Count", format="localized"),
                        "denominator": st.column_config.NumberColumn("Volume", format="localized"),
                        "value": st.column_config.NumberColumn(value_name, format="%.2f"),
                        "ci_lower_95": st.column_config.NumberColumn("95% interval from", format="%.2f"),
                        "ci_upper_95": st.column_config.NumberColumn("95% interval to", format="%.2f"),
                        "target": st.column_config.NumberColumn("England and Wales", format="%.2f"),
                        "against_limits": "Against the limits",
                        "on_map": "On the map",
                    },
                )
            charts.download(key, title, table, file_name)
        with side, st.container(border=True, key=f"btp-{key}"):
            st.markdown("**British Transport Police**")
            st.caption(
                "Polices the railways across England, Wales and Scotland and has no area of its own, so it is "
                "not on the map."
            )
            if len(btp) and btp["value"].notna().any():
                row = btp.iloc[0]
                st.markdown(
                    f"{formatting.escape_markdown(value_name)}: **{row['value']:{value_format}}** (95% interval "
                    f"{row['ci_lower_95']:{value_format}} to {row['ci_upper_95']:{value_format}}); "
                    f"{formatting.escape_markdown(charts_funnel.FLAG_LABELS.get(row[flag_column], 'no flag').lower())}."
                )
            else:
                st.markdown(f"No {formatting.escape_markdown(what)}: it has no resident population.")
            st.caption(
                "Click an area to choose that force for every page (or use the force picker); the "
                "Table tab lists every force."
            )
            if adjusted:
                st.caption(charts_funnel.ADJUSTED_NOTE)


def _describe(frame: pd.DataFrame, flag_column: str, *, what: str, label: str, fmt: str, shading: str) -> str:
    rows = frame.dropna(subset=["value"])
    text = f"Map of the {len(rows)} police force areas of England and Wales shaded by {what}, {label}, "
    text += (
        "in five steps against the funnel plot's control limits (blue below, grey within, orange and vermillion above). "
        if shading == "flag"
        else "from dark blue (low) to yellow (high). "
    )
    if rows.empty:
        return text + "No force has a figure."
    above = rows[rows[flag_column].fillna("").str.startswith("above")]
    below = rows[rows[flag_column].fillna("").str.startswith("below")]
    top, bottom = rows.loc[rows["value"].idxmax()], rows.loc[rows["value"].idxmin()]
    return text + (
        f"Highest {top['area_name']} ({top['value']:{fmt}}), lowest {bottom['area_name']} ({bottom['value']:{fmt}}). "
        f"Above the limits: {len(above)} forces; below: {len(below)}; within: {len(rows) - len(above) - len(below)}."
    )
