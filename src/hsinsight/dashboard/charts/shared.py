"""The house style of every chart and table: the Okabe-Ito palette, the Plotly
layout, the chart component (figure, text alternative, table view and CSV download),
the table component, the series-break markers, trend panels, ranked bars and the
headline figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from hsinsight.dashboard.formatting import (
    csv_bytes,
    escape_markdown,
    offence_label,
)
from hsinsight.profiles.caveats import CAVEATS, SERIES_BREAKS

# Okabe-Ito colours (distinguishable with the common forms of colour blindness): one
# palette for the dashboard and the printed profiles.
from hsinsight.profiles.charts import OKABE_ITO

#: Colours for series in order (yellow last: faint on white).
SERIES_COLOURS = [
    OKABE_ITO[c]
    for c in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue", "black", "yellow")
]
NEUTRAL = "#A7A7A7"
#: A table row that needs a look (a published total far from the warehouse's): pale orange.
HIGHLIGHT_BACKGROUND = "#FBE3B5"
MARKER_COLOUR = "#6E6E6E"

#: Offence names short enough for a headline figure's label.
METRIC_LABELS = {"racially_or_religiously_aggravated_harassment": "Aggravated harassment"}

OFFENCE_COLOURS = {
    "stalking": OKABE_ITO["vermillion"],
    "harassment": OKABE_ITO["blue"],
    "racially_or_religiously_aggravated_harassment": OKABE_ITO["bluish_green"],
    "malicious_communications": OKABE_ITO["reddish_purple"],
    "controlling_or_coercive_behaviour": OKABE_ITO["orange"],
    "stalking_and_harassment": OKABE_ITO["black"],
}
#: England and Wales, the chosen area and its peer group, wherever they are compared.
AREA_COLOURS = {"national": OKABE_ITO["black"], "area": OKABE_ITO["orange"], "group": OKABE_ITO["sky_blue"]}

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def style(
    fig: go.Figure, *, height: int | None = None, legend: bool = True, legend_below: bool = False
) -> go.Figure:
    """The house style: white background, readable type, Okabe-Ito colours.

    The legend goes above the plot, clear of the axis titles; a figure with subplot
    titles (which sit above its panels) takes it below (``legend_below``).
    """
    fig.update_layout(
        template="plotly_white",
        colorway=SERIES_COLOURS,
        font={"size": 13, "color": "#222222"},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        hoverlabel={"font_size": 13},
        showlegend=legend,
        legend=(
            {"orientation": "h", "yanchor": "top", "y": -0.08, "xanchor": "left", "x": 0}
            if legend_below
            else {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}
        ),
    )
    if height:
        fig.update_layout(height=height)
    return fig


def chart(
    key: str,
    title: str,
    figure: go.Figure,
    table: pd.DataFrame,
    *,
    description: str,
    file_name: str,
    column_config: Mapping[str, Any] | None = None,
    caveats: Sequence[str] = (),
    subtitle: str | None = None,
) -> None:
    """One chart the way every page shows one.

    In a container keyed ``chart-<key>``: a heading (``title``, which stays the same
    whatever the filters; ``subtitle`` says what they select), a *Chart* tab with the Plotly
    figure (``description`` is its accessible name and the caption under it) and a
    *Table* tab with ``table``, which must hold exactly what the chart draws; under
    both, the button "Download CSV: <title>" (key ``download-<key>``) offering that
    table as ``<file_name>.csv``. ``caveats`` (keys of :data:`CAVEATS`) sit beside it
    in a bordered box keyed ``caveats-<key>``.
    """
    with st.container(key=f"chart-{key}"):
        st.subheader(title, anchor=key)
        if subtitle:
            st.markdown(f"**{escape_markdown(subtitle)}**")
        if caveats:
            body, side = st.columns([3, 1], gap="medium")
        else:
            body, side = st.container(), None
        with body:
            on_chart, on_table = st.tabs(["Chart", "Table"])
            with on_chart:
                st.plotly_chart(
                    figure,
                    key=f"plot-{key}",
                    config={**PLOTLY_CONFIG, "toImageButtonOptions": {"filename": file_name}},
                    theme=None,
                    alt=description,
                )
                st.caption(description)
            with on_table:
                st.dataframe(table, hide_index=True, column_config=column_config, key=f"table-{key}")
            download(key, title, table, file_name)
        if side is not None:
            with side, st.container(border=True, key=f"caveats-{key}"):
                st.markdown(":material/info: **Read with care**")
                for name in caveats:
                    st.caption(CAVEATS[name])


def table(
    key: str,
    title: str,
    frame: pd.DataFrame,
    *,
    file_name: str,
    column_config: Mapping[str, Any] | None = None,
    caption: str | None = None,
    height: int | str = "auto",
    highlight: Callable[[pd.Series], bool] | None = None,
) -> None:
    """A table with no chart, with the same download as a chart's (key ``download-<key>``),
    in a container keyed ``tableview-<key>``. Rows for which ``highlight`` is true are
    shaded (the table should also say why in a column of its own: colour alone is not
    enough); the download is the table's values, unstyled."""
    with st.container(key=f"tableview-{key}"):
        st.subheader(title, anchor=key)
        if caption:
            st.caption(caption)
        shown: pd.DataFrame | Any = frame
        if highlight is not None:
            shown = frame.style.apply(
                lambda row: (
                    [f"background-color: {HIGHLIGHT_BACKGROUND}" if highlight(row) else ""] * len(row)
                ),
                axis=1,
            )
        st.dataframe(shown, hide_index=True, column_config=column_config, key=f"table-{key}", height=height)
        download(key, title, frame, file_name)


def download(key: str, title: str, frame: pd.DataFrame, file_name: str) -> None:
    """The button "Download CSV: <title>" (key ``download-<key>``) offering ``frame`` as
    ``<file_name>.csv``, made safe to open by :func:`csv_bytes`."""
    st.download_button(
        f"Download CSV: {title}",
        csv_bytes(frame),
        file_name=f"{file_name}.csv",
        mime="text/csv",
        key=f"download-{key}",
        on_click="ignore",
        icon=":material/download:",
    )


def add_breaks(fig: go.Figure, *, rows: int = 1, cols: int = 1, label_row: int = 1) -> go.Figure:
    """Dotted lines at the recording-rule changes on every panel, labelled on one
    panel (the first of ``label_row``)."""
    for row in range(1, rows + 1):
        for col in range(1, cols + 1):
            for brk in SERIES_BREAKS:
                fig.add_vline(
                    x=pd.Timestamp(brk.date).timestamp() * 1000,
                    line={"color": MARKER_COLOUR, "width": 1, "dash": "dot"},
                    row=row if rows > 1 or cols > 1 else None,
                    col=col if rows > 1 or cols > 1 else None,
                )
    panel = fig.get_subplot(label_row, 1) if rows > 1 or cols > 1 else None
    xref = panel.xaxis.plotly_name.replace("axis", "") if panel else "x"
    yref = (panel.yaxis.plotly_name.replace("axis", "") if panel else "y") + " domain"
    for brk in SERIES_BREAKS:
        fig.add_annotation(
            x=pd.Timestamp(brk.date).timestamp() * 1000,
            y=1,
            xref=xref,
            yref=yref,
            text=brk.label,
            textangle=-90,
            xanchor="right",
            yanchor="top",
            showarrow=False,
            font={"size": 10, "color": MARKER_COLOUR},
            bgcolor="rgba(255, 255, 255, 0.75)",
        )
    return fig


def time_range(dates: pd.Series) -> list[pd.Timestamp]:
    """A common x range for trend charts: the data and all the series breaks."""
    first = pd.Timestamp(SERIES_BREAKS[0].date)
    last = pd.Timestamp(SERIES_BREAKS[-1].date)
    if len(dates):
        first = min(first, pd.Timestamp(dates.min()))
        last = max(last, pd.Timestamp(dates.max()))
    return [first - pd.DateOffset(months=3), last + pd.DateOffset(months=3)]


def trend_figure(series: pd.DataFrame, areas: Sequence[tuple[str, str]], groups: Sequence[str]) -> go.Figure:
    """Rolling 12-month recorded offences: one row per offence group, one column per area.

    Every panel has its own y axis starting at zero (harassment runs one or two orders
    of magnitude above stalking, and a force far below England and Wales). Dotted
    vertical lines mark the recording-rule changes that break the series; the top
    row labels them.
    """
    fig = make_subplots(
        rows=len(groups),
        cols=len(areas),
        shared_xaxes=True,
        subplot_titles=[offence_label(g) if col == 0 else "" for g in groups for col in range(len(areas))],
        vertical_spacing=0.16 / max(len(groups), 1) + 0.04,
        horizontal_spacing=0.08,
    )
    x_range = time_range(series["period_end"])
    for row, group in enumerate(groups, start=1):
        for col, (code, name) in enumerate(areas, start=1):
            panel = series[(series["offence_group"] == group) & (series["area_code"] == code)]
            fig.add_trace(
                go.Scatter(
                    x=panel["period_end"],
                    y=panel["offences"].astype("float64"),
                    mode="lines",
                    name=f"{offence_label(group)}, {name}",
                    line={"color": OFFENCE_COLOURS.get(group, OKABE_ITO["black"]), "width": 2.5},
                    hovertemplate=(
                        "12 months to %{x|%d %b %Y}<br>%{y:,.0f} recorded offences"
                        f"<extra>{offence_label(group)}, {name}</extra>"
                    ),
                ),
                row=row,
                col=col,
            )
            fig.update_yaxes(rangemode="tozero", tickformat=",d", row=row, col=col)
            fig.update_xaxes(range=x_range, row=row, col=col)
    add_breaks(fig, rows=len(groups), cols=len(areas))
    style(fig, height=210 * len(groups) + 80, legend=False)
    if len(areas) > 1:  # name the columns above the first row's panel titles
        for col, (_, name) in enumerate(areas, start=1):
            domain = fig.get_subplot(1, col).xaxis.domain
            fig.add_annotation(
                x=(domain[0] + domain[1]) / 2,
                y=1,
                xref="paper",
                yref="paper",
                yshift=38,
                text=f"<b>{name}</b>",
                showarrow=False,
                font={"size": 15},
            )
    fig.update_layout(margin={"t": 80 if len(areas) > 1 else 40})
    return fig


def ranked_bars(
    frame: pd.DataFrame,
    *,
    value: str,
    label: str,
    value_name: str,
    highlight: str | None,
    reference: float | None,
    reference_name: str,
    group_value: str | None = None,
    group_name: str = "Its peer group",
    flag: str | None = None,
    flag_names: Mapping[str, str] | None = None,
    tickformat: str = ",.1f",
    code: str = "area_code",
    area_word: str = "force",
) -> go.Figure:
    """Areas ranked by ``value`` (largest at the top), with a reference line.

    The chosen area is orange; areas whose ``flag`` column names a category
    (``flag_names``: category -> legend name) are coloured and hatched, so the
    highlight does not rest on colour alone; ``group_value`` adds a black diamond for
    each area's peer group.
    """
    ranked = frame.dropna(subset=[value]).sort_values(value, ascending=True)
    fig = go.Figure()
    chosen = ranked[code] == highlight if highlight else pd.Series(False, index=ranked.index)
    categories: list[tuple[str, pd.Series, dict]] = []
    flagged = pd.Series(False, index=ranked.index)
    if flag and flag_names:
        for colour, (category, name) in zip(
            (OKABE_ITO["vermillion"], OKABE_ITO["blue"]), flag_names.items(), strict=False
        ):
            mask = ranked[flag].fillna("") == category
            flagged |= mask
            categories.append((name, mask & ~chosen, {"color": colour, "pattern": {"shape": "/"}}))
    categories.insert(0, (f"Other {area_word}s", ~flagged & ~chosen, {"color": NEUTRAL}))
    chosen_marker: dict = {"color": OKABE_ITO["orange"], "line": {"color": "#000000", "width": 1.5}}
    if bool((chosen & flagged).any()):
        chosen_marker["pattern"] = {"shape": "/"}
    categories.append((f"Chosen {area_word}", chosen, chosen_marker))
    for name, mask, marker in categories:
        part = ranked[mask]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                x=part[value],
                y=part[label],
                orientation="h",
                name=name,
                marker=marker,
                hovertemplate=f"%{{y}}<br>{value_name}: %{{x:{tickformat}}}<extra></extra>",
            )
        )
    if group_value:
        groups = ranked.dropna(subset=[group_value])
        fig.add_trace(
            go.Scatter(
                x=groups[group_value],
                y=groups[label],
                mode="markers",
                name=group_name,
                marker={"symbol": "diamond", "color": OKABE_ITO["black"], "size": 8},
                hovertemplate=f"%{{y}}: group's {value_name.lower()} %{{x:{tickformat}}}<extra></extra>",
            )
        )
    if reference is not None and not pd.isna(reference):
        fig.add_vline(
            x=float(reference),
            line={"color": OKABE_ITO["black"], "width": 2, "dash": "dash"},
            annotation={"text": f"{reference_name}: {reference:{tickformat}}", "font": {"size": 12}},
            annotation_position="bottom right",
        )
    fig.update_yaxes(categoryorder="array", categoryarray=list(ranked[label]), automargin=True)
    fig.update_xaxes(tickformat=tickformat, title=value_name, rangemode="tozero")
    fig.update_layout(barmode="overlay", bargap=0.25)
    return style(fig, height=max(320, 19 * len(ranked) + 120))


def latest_metrics(
    series: pd.DataFrame, area_code: str, area_name: str, groups: Sequence[str], latest: dt.date
) -> None:
    """One row for an area: per offence group, the 12 months to ``latest`` and the change
    on the 12 months to a year earlier (grey: a rise is not good or bad news in itself)."""
    area = series[series["area_code"] == area_code]
    year_before = pd.Timestamp(latest) - pd.DateOffset(years=1)
    st.markdown(f"**{escape_markdown(area_name)}**")
    for column, group in zip(st.columns(len(groups)), groups, strict=True):
        rows = area[area["offence_group"] == group].set_index("period_end")["offences"]
        now = rows.get(pd.Timestamp(latest))
        before = rows.get(year_before)
        delta = None
        if now is not None and before is not None and not pd.isna(now) and not pd.isna(before):
            change = int(now) - int(before)
            share = f" ({change / int(before):+.1%})" if int(before) else ""
            delta = f"{change:+,}{share}"
        column.metric(
            METRIC_LABELS.get(group, offence_label(group)),
            "n/a" if now is None or pd.isna(now) else f"{int(now):,}",
            delta,
            delta_color="off",
            delta_description="on a year earlier" if delta else None,
            help=f"{offence_label(group)}: offences recorded in the 12 months to {latest:%d %B %Y}"
            + ("" if delta else "; no complete 12 months a year earlier to compare with")
            + ("." if now is not None and not pd.isna(now) else " (none recorded under this category then)."),
        )
