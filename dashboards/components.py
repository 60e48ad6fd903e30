"""Pieces every dashboard page shares: the warehouse guard, the synthetic-data
banner, the caveats, the recording-rule markers, the palette and the trend chart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

import queries
from queries import WarehouseVersion

SYNTHETIC_BANNER = (
    "Synthetic sample data: these figures are invented for demonstration (only the England "
    "and Wales figures the 2017 inspection quotes, for 2014 to 2016, are calibrated to published "
    "figures). Not official statistics."
)

RECORDED_CRIME_CAVEAT = "Recorded crime measures police activity and recording practice, not true incidence."

#: Okabe-Ito colours: distinguishable with the common forms of colour blindness.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Offence groups in the order the pages show them, with their labels and colours.
OFFENCE_LABELS = {
    "stalking": "Stalking",
    "harassment": "Harassment",
    "racially_or_religiously_aggravated_harassment": "Racially or religiously aggravated harassment",
    "malicious_communications": "Malicious communications",
}
OFFENCE_COLOURS = {
    "stalking": OKABE_ITO["vermillion"],
    "harassment": OKABE_ITO["blue"],
    "racially_or_religiously_aggravated_harassment": OKABE_ITO["bluish_green"],
    "malicious_communications": OKABE_ITO["reddish_purple"],
}
MARKER_COLOUR = "#6E6E6E"


@dataclass(frozen=True)
class SeriesBreak:
    """A recording-rule change after which the series is not comparable with before."""

    date: dt.date
    label: str
    description: str


SERIES_BREAKS: tuple[SeriesBreak, ...] = (
    SeriesBreak(
        dt.date(2014, 4, 1),
        "Stalking own category",
        "Stalking (8Q) recorded as its own classification; before, it was inside harassment (8L).",
    ),
    SeriesBreak(
        dt.date(2015, 4, 1),
        "Harassment widened",
        "Sending letters or electronic communications to cause distress or anxiety, and "
        "disclosing private sexual photographs and films, added to harassment.",
    ),
    SeriesBreak(
        dt.date(2017, 4, 1),
        "Malicious comms moved out",
        "Those two offences moved out of harassment into their own category, malicious communications.",
    ),
    SeriesBreak(
        dt.date(2018, 4, 1),
        "Additional recording",
        "A course of conduct amounting to stalking, harassment or controlling or coercive "
        "behaviour recorded in addition to the most serious other offence against the victim.",
    ),
    SeriesBreak(
        dt.date(2020, 4, 1),
        "Ex-partners as stalking",
        "A course of conduct between former partners recorded as stalking unless the police are "
        "satisfied it is harassment only: stalking from the year ending March 2021 is not "
        "comparable with earlier years.",
    ),
)


# --------------------------------------------------------------------------- frame


def warehouse_or_stop() -> WarehouseVersion:
    """The published warehouse's version, or an error telling the user how to publish one."""
    path = queries.warehouse_path()
    version = queries.warehouse_version(path)
    if version is None:
        st.error(
            f"No warehouse has been published at `{path}` yet. Build and publish it with "
            "`make run` (or `hsinsight run`), then reload this page."
        )
        st.stop()
    return version


def synthetic_banner(version: WarehouseVersion) -> None:
    """Warn at the top of the page when the warehouse holds synthetic sample data.

    Also the first read of every page run: an unreadable warehouse stops here with an
    explanation rather than a traceback.
    """
    try:
        synthetic = queries.any_synthetic(version)
    except duckdb.Error as exc:
        st.error(
            f"The warehouse at `{version[0]}` could not be read ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}). Publish it again with `make run` (or "
            "`hsinsight run`), then reload this page."
        )
        st.stop()
    if synthetic:
        st.warning(SYNTHETIC_BANNER, icon=":material/science:")


def recorded_crime_caveat() -> None:
    st.info(RECORDED_CRIME_CAVEAT, icon=":material/info:")


def series_breaks_note() -> None:
    """The recording-rule changes marked on the trend charts, in full."""
    lines = [f"- **{b.date:%B %Y}, {b.label.lower()}.** {b.description}" for b in SERIES_BREAKS]
    st.markdown("**Breaks in the series**\n\n" + "\n".join(lines))


# --------------------------------------------------------------------------- widgets


def force_selector(forces: pd.DataFrame, *, param: str = "force") -> str | None:
    """A police force area picker kept in the URL as ``?force=<area_code>``.

    Returns the chosen area_code, or None for England and Wales only (the default,
    which leaves the parameter out of the URL). An unknown code in the URL is dropped.
    """
    names = dict(zip(forces["area_code"], forces["area_name"], strict=True))
    options: list[str] = ["", *names]
    wanted = st.query_params.get(param, "")
    index = options.index(wanted) if wanted in names else 0
    choice = st.selectbox(
        "Police force area to compare",
        options,
        index=index,
        format_func=lambda code: names.get(code, "None: England and Wales only"),
        key=f"{param}_select",
        help="The chosen force is kept in the page address, so a link opens the same view.",
    )
    if choice:
        if st.query_params.get(param) != choice:
            st.query_params[param] = choice
    elif param in st.query_params:
        del st.query_params[param]
    return choice or None


# --------------------------------------------------------------------------- figures


def offence_label(group: str) -> str:
    return OFFENCE_LABELS.get(group, group.replace("_", " ").capitalize())


def fmt_count(value: object) -> str:
    return "not available" if value is None or pd.isna(value) else f"{int(value):,}"


def latest_metrics(
    series: pd.DataFrame, area_code: str, area_name: str, groups: Sequence[str], latest: dt.date
) -> None:
    """One row for an area: per offence group, the 12 months to ``latest`` and the change
    on the 12 months to a year earlier (grey: a rise is not good or bad news in itself)."""
    area = series[series["area_code"] == area_code]
    year_before = pd.Timestamp(latest) - pd.DateOffset(years=1)
    label, *columns = st.columns([1.3, *([2] * len(groups))], vertical_alignment="center")
    label.markdown(f"**{area_name}**")
    for column, group in zip(columns, groups, strict=True):
        rows = area[area["offence_group"] == group].set_index("period_end")["offences"]
        now = rows.get(pd.Timestamp(latest))
        before = rows.get(year_before)
        delta = None
        if now is not None and before is not None and not pd.isna(now) and not pd.isna(before):
            change = int(now) - int(before)
            share = f" ({change / int(before):+.1%})" if int(before) else ""
            delta = f"{change:+,}{share}"
        column.metric(
            offence_label(group),
            fmt_count(now),
            delta,
            delta_color="off",
            delta_description="on a year earlier" if delta else None,
        )


def time_range(series: pd.DataFrame) -> list[pd.Timestamp]:
    """A common x range for every trend chart: the data and all the series breaks."""
    first = pd.Timestamp(SERIES_BREAKS[0].date)
    last = pd.Timestamp(SERIES_BREAKS[-1].date)
    if len(series):
        first = min(first, series["period_end"].min())
        last = max(last, series["period_end"].max())
    return [first - pd.DateOffset(months=3), last + pd.DateOffset(months=3)]


def trend_figure(
    series: pd.DataFrame,
    area_name: str,
    groups: Sequence[str],
    x_range: Sequence[pd.Timestamp],
) -> go.Figure:
    """Rolling 12-month recorded offences for one area: one panel per offence group.

    Every panel has its own y axis starting at zero (harassment runs one or two orders
    of magnitude above stalking, and a force far below England and Wales). Dotted
    vertical lines mark the recording-rule changes that break the series; the top
    panel labels them.
    """
    fig = make_subplots(
        rows=len(groups),
        cols=1,
        shared_xaxes=True,
        subplot_titles=[offence_label(g) for g in groups],
        vertical_spacing=0.16 / max(len(groups), 1) + 0.04,
    )
    for row, group in enumerate(groups, start=1):
        panel = series[series["offence_group"] == group]
        fig.add_trace(
            go.Scatter(
                x=panel["period_end"],
                y=panel["offences"].astype("float64"),
                mode="lines",
                name=offence_label(group),
                line={"color": OFFENCE_COLOURS.get(group, OKABE_ITO["black"]), "width": 2.5},
                hovertemplate=(
                    "12 months to %{x|%d %b %Y}<br>%{y:,.0f} recorded offences"
                    f"<extra>{offence_label(group)}, {area_name}</extra>"
                ),
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(rangemode="tozero", tickformat=",d", row=row, col=1)
        fig.update_xaxes(range=list(x_range), row=row, col=1)
        for brk in SERIES_BREAKS:
            fig.add_vline(
                x=pd.Timestamp(brk.date).timestamp() * 1000,
                line={"color": MARKER_COLOUR, "width": 1, "dash": "dot"},
                row=row,
                col=1,
            )
    top = fig.get_subplot(1, 1)
    for brk in SERIES_BREAKS:
        fig.add_annotation(
            x=pd.Timestamp(brk.date).timestamp() * 1000,
            y=1,
            xref=top.xaxis.plotly_name.replace("axis", ""),
            yref=top.yaxis.plotly_name.replace("axis", "") + " domain",
            text=brk.label,
            textangle=-90,
            xanchor="right",
            yanchor="top",
            showarrow=False,
            font={"size": 10, "color": MARKER_COLOUR},
            bgcolor="rgba(255, 255, 255, 0.75)",
        )
    fig.update_layout(
        height=230 * len(groups) + 40,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        hovermode="closest",
    )
    return fig
