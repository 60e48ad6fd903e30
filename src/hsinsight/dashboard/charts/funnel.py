"""Funnel plots and intervals: how sure a difference between forces is.

Every force is a point, its volume (the denominator: residents, outcomes assigned,
crimes recorded) on the x axis and its value on the y axis, with its own 95% interval
as an error bar. England and Wales's value is the target line; the control limits
around it narrow as volume grows: within the 95% limits a force is where one in 20
would be by chance alone, beyond the 99.8% ones about one in 500.

The limits come from ``marts.funnel_limits`` (dbt_project/models/marts/comparison/funnel_limits.sql
says how they are computed); the curves drawn between the forces are the same formula
evaluated along the axis (:func:`limit_curve`; tests/dashboard/test_dashboard_map.py checks it
against the mart's values at every force's volume).
Where forces differ by more than chance (over-dispersion) the page shows the limits
widened for it (the *_adjusted columns) and says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from hsinsight.dashboard.charts import shared as charts

Z = {"95": 1.959963984540054, "998": 3.090232306167813}
TAIL = {"95": 0.025, "998": 0.001}

#: The flags in words, from high to low.
FLAG_LABELS = {
    "above_998": "Above the 99.8% limit",
    "above_95": "Above the 95% limit",
    "within": "Within the limits",
    "below_95": "Below the 95% limit",
    "below_998": "Below the 99.8% limit",
}
#: Colour and marker shape per flag (the shape says it too: colour is never alone).
FLAG_STYLE = {
    "above_998": (charts.OKABE_ITO["vermillion"], "triangle-up"),
    "above_95": (charts.OKABE_ITO["orange"], "triangle-up-open"),
    "within": (charts.NEUTRAL, "circle"),
    "below_95": (charts.OKABE_ITO["sky_blue"], "triangle-down-open"),
    "below_998": (charts.OKABE_ITO["blue"], "triangle-down"),
}
NO_FLAG = "No limits (no England and Wales figure)"

LIMITS_NOTE = (
    "Control limits: where a force of that volume would fall by chance alone 95% (dashed) and 99.8% "
    "(dotted) of the time, around England and Wales (solid line). Bars on each point are the force's own "
    "95% interval."
)
ADJUSTED_NOTE = (
    "Forces differ by more than chance alone would make them (over-dispersion), so the limits shown are "
    "widened by the random-effects adjustment of Spiegelhalter (2005); a force beyond them differs even "
    "allowing for that."
)
PLAIN_NOTE = "Forces differ no more than chance would make them: the limits shown are the plain ones."


def uses_adjusted(frame: pd.DataFrame) -> bool:
    """Whether the page shows the limits adjusted for over-dispersion: when the mart
    found it for these figures."""
    return bool(frame["is_overdispersed"].fillna(False).astype(bool).any())


def shown_columns(adjusted: bool) -> dict[str, str]:
    """The limit and flag columns the page shows -> the plain names it shows them under."""
    suffix = "_adjusted" if adjusted else ""
    names = ("lower_95", "upper_95", "lower_998", "upper_998")
    return {**{f"{n}{suffix}": n for n in names}, f"flag{suffix}": "flag"}


def quantile_count(mean: np.ndarray, variance: np.ndarray, third: np.ndarray | float, z: float) -> np.ndarray:
    """The mart's count quantile (macros/funnel/quantile_count.sql): Cornish-Fisher to the
    skewness term, a lower one never above the mean, an upper one never below, never below 0."""
    q = mean + z * np.sqrt(variance) + third * (z * z - 1) / 6
    q = np.minimum(mean, q) if z < 0 else np.maximum(mean, q)
    return np.maximum(q, 0.0)


def limit_curve(
    distribution: str,
    target: float,
    multiplier: float,
    volumes: np.ndarray,
    level: str,
    side: str,
    tau_squared: float = 0.0,
) -> np.ndarray:
    """A control limit (``side`` lower or upper, ``level`` 95 or 998) as a value, at each
    of ``volumes``: the formula of ``marts.funnel_limits``, widened for over-dispersion
    by sqrt(1 + tau^2 / s^2) when ``tau_squared`` (on the value's scale) is positive."""
    n = np.asarray(volumes, dtype=float)
    p = target / multiplier
    tail = TAIL[level]
    z = Z[level] if side == "upper" else -Z[level]
    if distribution == "binomial":
        mean, variance, third = n * p, n * p * (1 - p), 1 - 2 * p
    else:
        mean, variance, third = n * p, n * p, 1.0
    limit = quantile_count(mean, variance, third, z) / n
    if side == "lower":
        if distribution == "binomial":
            none_likely = n * math.log(1 - p) >= math.log(tail) if p < 1 else np.zeros_like(n, bool)
        else:
            none_likely = n * p <= -math.log(tail)
        limit = np.where(none_likely, 0.0, limit)
    elif distribution == "binomial":
        all_likely = n * math.log(p) >= math.log(tail) if p > 0 else np.zeros_like(n, bool)
        limit = np.where(all_likely, 1.0, np.minimum(limit, 1.0))
    if tau_squared > 0:
        s2 = (variance / n**2) if distribution == "binomial" else (p / n)
        widen = np.sqrt(1 + (tau_squared / multiplier**2) / np.where(s2 > 0, s2, np.inf))
        limit = p + (limit - p) * widen
        limit = np.maximum(limit, 0.0)
        if distribution == "binomial":
            limit = np.minimum(limit, 1.0)
    return limit * multiplier


def funnel_figure(
    frame: pd.DataFrame,
    *,
    highlight: str | None,
    value_name: str,
    volume_name: str,
    value_format: str = ",.2f",
    adjusted: bool,
    log_x: bool = True,
) -> go.Figure:
    """The funnel plot of ``frame`` (rows of marts.funnel_limits for one period and
    measure: forces with a value and a target)."""
    rows = frame.dropna(subset=["value", "target"]).reset_index(drop=True)
    fig = go.Figure()
    if rows.empty:
        return charts.style(fig, height=420)
    target = float(rows["target"].iloc[0])
    multiplier = float(rows["multiplier"].iloc[0])
    distribution = str(rows["distribution"].iloc[0])
    tau_squared = float(rows["tau_squared"].iloc[0]) if adjusted else 0.0
    low, high = float(rows["denominator"].min()), float(rows["denominator"].max())
    volumes = np.geomspace(max(low / 1.5, 1.0), high * 1.5, 160) if log_x else np.linspace(1, high * 1.1, 160)
    fig.add_trace(
        go.Scatter(
            x=[volumes[0], volumes[-1]],
            y=[target, target],
            mode="lines",
            name=f"England and Wales: {target:{value_format}}",
            line={"color": charts.OKABE_ITO["black"], "width": 2},
            hoverinfo="skip",
        )
    )
    for level, dash in (("95", "dash"), ("998", "dot")):
        for side in ("upper", "lower"):
            fig.add_trace(
                go.Scatter(
                    x=volumes,
                    y=limit_curve(distribution, target, multiplier, volumes, level, side, tau_squared),
                    mode="lines",
                    name=f"{'95%' if level == '95' else '99.8%'} limits",
                    legendgroup=f"limits-{level}",
                    showlegend=side == "upper",
                    line={"color": charts.MARKER_COLOUR, "width": 1.5, "dash": dash},
                    hoverinfo="skip",
                )
            )
    flag_column = "flag_adjusted" if adjusted else "flag"
    flags = rows[flag_column].fillna("")
    for flag, label in [*FLAG_LABELS.items(), ("", NO_FLAG)]:
        part = rows[(flags == flag) & (rows["area_code"] != highlight)]
        if part.empty:
            continue
        colour, symbol = FLAG_STYLE.get(flag, (charts.NEUTRAL, "circle-open"))
        fig.add_trace(_points(part, label, colour, symbol, 9, value_format, volume_name, flag_column))
    chosen = rows[rows["area_code"] == highlight]
    if len(chosen):
        colour, symbol = FLAG_STYLE.get(str(chosen[flag_column].iloc[0]), (charts.NEUTRAL, "circle"))
        trace = _points(
            chosen,
            f"Chosen force: {chosen['area_name'].iloc[0]}",
            charts.OKABE_ITO["orange"],
            symbol.replace("-open", ""),
            15,
            value_format,
            volume_name,
            flag_column,
        )
        trace.marker.line = {"color": "#000000", "width": 2}
        trace.text = chosen["area_name"]
        trace.mode = "markers+text"
        trace.textposition = "top center"
        fig.add_trace(trace)
    fig.update_xaxes(title=volume_name, type="log" if log_x else "linear", tickformat="~s")
    fig.update_yaxes(title=value_name, tickformat=value_format, rangemode="tozero")
    top = max(float(rows["ci_upper_95"].max()), float(rows["value"].max()), target) * 1.08
    fig.update_yaxes(range=[0, min(top, 1.02) if distribution == "binomial" else top])
    charts.style(fig, height=560, legend_below=True)
    # The legend under the axis title, not over it.
    fig.update_layout(legend={"y": -0.2}, margin={"b": 40})
    return fig


def _points(
    part: pd.DataFrame,
    name: str,
    colour: str,
    symbol: str,
    size: int,
    value_format: str,
    volume_name: str,
    flag_column: str,
) -> go.Scatter:
    flags = part[flag_column].map(FLAG_LABELS).fillna(NO_FLAG)
    return go.Scatter(
        x=part["denominator"],
        y=part["value"],
        mode="markers",
        name=name,
        marker={"color": colour, "symbol": symbol, "size": size, "line": {"color": colour, "width": 1.5}},
        error_y={
            "type": "data",
            "symmetric": False,
            "array": part["ci_upper_95"] - part["value"],
            "arrayminus": part["value"] - part["ci_lower_95"],
            "color": colour,
            "thickness": 1.2,
            "width": 0,
        },
        customdata=np.column_stack(
            [part["area_name"], part["ci_lower_95"], part["ci_upper_95"], part["numerator"], flags]
        ),
        hovertemplate=(
            f"<b>%{{customdata[0]}}</b><br>%{{y:{value_format}}} (95% interval %{{customdata[1]:{value_format}}}"
            f" to %{{customdata[2]:{value_format}}})<br>{volume_name}: %{{x:,}}; count %{{customdata[3]:,}}"
            "<br>%{customdata[4]}<extra></extra>"
        ),
    )


def funnel_table(frame: pd.DataFrame, adjusted: bool) -> pd.DataFrame:
    """Exactly what the funnel plot draws, one row per force, highest value first: the
    flag shown (in words) and the limits it rests on."""
    columns = shown_columns(adjusted)
    rows = frame.dropna(subset=["value", "target"]).sort_values("value", ascending=False)
    table = rows.assign(
        period_end=pd.to_datetime(rows["period_end"]).dt.date,
        flag_shown=rows[f"flag{'_adjusted' if adjusted else ''}"].map(FLAG_LABELS).fillna(NO_FLAG),
        limits_shown="adjusted for over-dispersion" if adjusted else "plain",
    )
    keep = [
        "area_code",
        "area_name",
        "period_end",
        "numerator",
        "denominator",
        "value",
        "ci_lower_95",
        "ci_upper_95",
        "target",
        *columns,
        "flag_shown",
        "limits_shown",
    ]
    return table[[c for c in dict.fromkeys(keep)]].rename(columns=columns).reset_index(drop=True)


def table_config(value_name: str, volume_name: str, count_name: str, value_format: str) -> dict:
    number = {"format": "percent" if value_format.endswith("%") else "%.2f"}
    return {
        "area_code": "Area code",
        "area_name": "Force",
        "period_end": st.column_config.DateColumn("Period to", format="D MMM YYYY"),
        "numerator": st.column_config.NumberColumn(count_name, format="localized"),
        "denominator": st.column_config.NumberColumn(volume_name, format="localized"),
        "value": st.column_config.NumberColumn(value_name, **number),
        "ci_lower_95": st.column_config.NumberColumn("95% interval from", **number),
        "ci_upper_95": st.column_config.NumberColumn("95% interval to", **number),
        "target": st.column_config.NumberColumn("England and Wales", **number),
        "lower_95": st.column_config.NumberColumn("Lower 95% limit", **number),
        "upper_95": st.column_config.NumberColumn("Upper 95% limit", **number),
        "lower_998": st.column_config.NumberColumn("Lower 99.8% limit", **number),
        "upper_998": st.column_config.NumberColumn("Upper 99.8% limit", **number),
        "flag": "Flag",
        "flag_shown": "Against the limits",
        "limits_shown": "Limits shown",
    }


def describe(table: pd.DataFrame, *, what: str, label: str, highlight_name: str | None, fmt: str) -> str:
    """The funnel plot's text alternative: what it shows and which forces are beyond the limits."""
    target = float(table["target"].iloc[0])
    beyond = table[table["flag"] != "within"]
    high = beyond[beyond["flag"].str.startswith("above")]
    low = beyond[beyond["flag"].str.startswith("below")]
    text = (
        f"Funnel plot of {len(table)} forces' {what}, {label}, against their volume, with England and "
        f"Wales's {target:{fmt}} as the target line and the 95% and 99.8% control limits around it. "
    )
    text += (
        f"Above the 99.8% limit: {_names(high[high['flag'] == 'above_998'])}; "
        f"below it: {_names(low[low['flag'] == 'below_998'])}; "
        f"within the limits: {int((table['flag'] == 'within').sum())} forces."
    )
    if highlight_name:
        chosen = table[table["area_name"] == highlight_name]
        if len(chosen):
            row = chosen.iloc[0]
            text += (
                f" {highlight_name}: {row['value']:{fmt}} (95% interval {row['ci_lower_95']:{fmt}} to "
                f"{row['ci_upper_95']:{fmt}}), {FLAG_LABELS.get(row['flag'], NO_FLAG).lower()}."
            )
    return text


def _names(rows: pd.DataFrame) -> str:
    return ", ".join(rows["area_name"].astype(str)) if len(rows) else "none"


def render_funnel(
    key: str,
    title: str,
    frame: pd.DataFrame,
    *,
    highlight: str | None,
    highlight_name: str | None,
    what: str,
    label: str,
    value_name: str,
    volume_name: str,
    count_name: str,
    value_format: str,
    file_name: str,
    caveats: Sequence[str] = (),
    subtitle: str | None = None,
) -> pd.DataFrame | None:
    """A funnel plot the way every chart is shown (charts.chart), with a note saying
    which limits it shows. Returns the table (None when there is nothing to plot)."""
    rows = frame.dropna(subset=["value", "target"])
    if rows.empty:
        st.info(f"No force has {what} against an England and Wales figure for the {label}.")
        return None
    adjusted = uses_adjusted(rows)
    table = funnel_table(rows, adjusted)
    charts.chart(
        key,
        title,
        funnel_figure(
            rows,
            highlight=highlight,
            value_name=value_name,
            volume_name=volume_name,
            value_format=value_format,
            adjusted=adjusted,
        ),
        table,
        description=describe(table, what=what, label=label, highlight_name=highlight_name, fmt=value_format),
        file_name=file_name,
        column_config=table_config(value_name, volume_name, count_name, value_format),
        caveats=caveats,
        subtitle=subtitle,
    )
    st.caption(LIMITS_NOTE + " " + (ADJUSTED_NOTE if adjusted else PLAIN_NOTE))
    return table


def add_intervals(
    figure: go.Figure,
    intervals: pd.DataFrame,
    *,
    label: str = "area_name",
    lower: str = "ci_lower_95",
    upper: str = "ci_upper_95",
    value: str = "value",
    colour: str = "#222222",
    xaxis: str | None = None,
) -> go.Figure:
    """Error bars (each force's 95% interval) on the horizontal bars of a ranked chart
    (charts.ranked_bars): every bar trace (on ``xaxis`` only, when given: ``x2`` is
    a second panel's) gets, for each of its bars, the interval of the row of
    ``intervals`` with its label."""
    by_label: Mapping[str, pd.Series] = intervals.dropna(subset=[value]).set_index(label)
    for trace in figure.data:
        if trace.type != "bar" or trace.y is None:
            continue
        if xaxis is not None and (trace.xaxis or "x") != xaxis:
            continue
        names = list(trace.y)
        values = np.array([by_label[value].get(n, np.nan) for n in names], dtype=float)
        trace.error_x = {
            "type": "data",
            "symmetric": False,
            "array": np.array([by_label[upper].get(n, np.nan) for n in names], dtype=float) - values,
            "arrayminus": values - np.array([by_label[lower].get(n, np.nan) for n in names], dtype=float),
            "color": colour,
            "thickness": 1.2,
            "width": 3,
        }
    return figure
