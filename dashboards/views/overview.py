"""Overview: England and Wales's 12-month trends in recorded stalking, harassment and
related offences, the latest figures with the change on a year earlier, and one
force beside them; a map of every police force area's rate per 1,000 against the
funnel plot's control limits; every force's own trend in small multiples, grouped by
peer group; and, when the ONS Appendix tables are loaded, the long national
series by financial year from 2002/03 as the ONS publishes it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from hsinsight.dashboard import filters, formatting
from hsinsight.dashboard.charts import map as charts_map
from hsinsight.dashboard.charts import shared as charts
from hsinsight.dashboard.frame import page_header, series_breaks_note, stop_with, warehouse_or_stop
from hsinsight.dashboard.queries import overview as queries
from hsinsight.dashboard.queries import shared
from hsinsight.names import DEFAULT_OFFENCE, NATIONAL_CODE, NATIONAL_NAME
from hsinsight.profiles.caveats import breaks_between

#: Offence groups this page charts, in order; any the warehouse lacks are left out.
CHART_GROUPS = (
    "stalking",
    "harassment",
    "racially_or_religiously_aggravated_harassment",
    "malicious_communications",
)
#: Offence groups of the long national series, in order: the ONS subgroup, then its members.
LONG_SERIES_GROUPS = (
    "stalking_and_harassment",
    "harassment",
    "stalking",
    "malicious_communications",
    "controlling_or_coercive_behaviour",
    "racially_or_religiously_aggravated_harassment",
)

version = warehouse_or_stop()
opts = filters.options(version)

page_header(
    "Recorded stalking and harassment",
    "How has recorded stalking and harassment changed in England and Wales, and in a chosen force?",
)

national = queries.national_series_12m(version)
if national.empty or not opts.periods:
    stop_with(
        "The published warehouse holds no 12-month figures for England and Wales. "
        "Run `make run` (or `hsinsight run`) with the recorded crime files, then reload."
    )

picker, when = st.columns(2, vertical_alignment="top")
with picker:
    force_code = filters.force_select(opts, label="Police force area to compare")
with when:
    period = filters.period_select(opts.periods, label="Headline figures for the 12 months to")

areas = [(NATIONAL_CODE, NATIONAL_NAME)]
frames = [national]
if force_code:
    areas.append((force_code, opts.forces[force_code]))
    frames.append(queries.area_series_12m(version, force_code))
series = pd.concat(frames, ignore_index=True)
groups = [g for g in CHART_GROUPS if g in set(series["offence_group"])]
# Exactly what the chart draws, ordered as it reads (area by area, offence by
# offence, oldest first): the chart, the table and the download all use it.
area_order = {code: i for i, (code, _) in enumerate(areas)}
group_order = {group: i for i, group in enumerate(groups)}
shown = (
    series[series["offence_group"].isin(groups)]
    .assign(
        _area=lambda f: f["area_code"].map(area_order),
        _group=lambda f: f["offence_group"].map(group_order),
    )
    .sort_values(["_area", "_group", "period_end"])
    .drop(columns=["_area", "_group"])
    .reset_index(drop=True)
)

st.subheader(f"{formatting.period_label(period)}")
for code, name in areas:
    charts.latest_metrics(shown, code, name, groups, period)
year_before = (pd.Timestamp(period) - pd.DateOffset(years=2)).date()
crossed = breaks_between(year_before, period)
if crossed:
    st.warning(
        "The change on a year earlier spans "
        + " and ".join(f"the {b.date:%B %Y} change ({b.label.lower()})" for b in crossed)
        + ": it is not a like-for-like comparison.",
        icon=":material/warning:",
    )

table = shown.assign(
    offence=shown["offence_group"].map(formatting.offence_label),
    period_end=shown["period_end"].dt.date,
)[["area_code", "area_name", "offence_group", "offence", "period_end", "offences"]]
latest_national = shown[
    (shown["area_code"] == NATIONAL_CODE) & (shown["period_end"] == shown["period_end"].max())
]
description = (
    f"Line charts, one panel per offence{' and area' if force_code else ''}, of offences recorded in the "
    f"12 months to each quarter end from {shown['period_end'].min():%B %Y} to "
    f"{shown['period_end'].max():%B %Y}. In the latest 12 months England and Wales recorded "
    + ", ".join(
        f"{formatting.fmt_count(row.offences)} {formatting.offence_label(row.offence_group).lower()}"
        for row in latest_national.itertuples()
    )
    + ". Dotted lines mark the recording-rule changes of April 2014, 2015, 2017, 2018 and 2020."
)
slug = force_code.lower() if force_code else "england_and_wales"
charts.chart(
    "recorded-12m",
    "Offences recorded in the 12 months to each quarter end",
    charts.trend_figure(shown, areas, groups),
    table,
    description=description,
    file_name=f"hsinsight_recorded_12m_{slug}",
    column_config={
        "area_code": st.column_config.TextColumn("Area code"),
        "area_name": st.column_config.TextColumn("Area"),
        "offence_group": st.column_config.TextColumn("Offence group"),
        "offence": st.column_config.TextColumn("Offence"),
        "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
        "offences": st.column_config.NumberColumn("Recorded offences", format="localized"),
    },
    caveats=("recorded_crime", "series_breaks", "stalking_2020"),
)
series_breaks_note()

# ---- small multiples: every force's own trend

#: Offences the small multiples offer, one at a time (harassment runs an order of
#: magnitude above stalking: one line per panel keeps each readable).
GRID_OFFENCES = {"stalking": "Stalking", "harassment": "Harassment"}
GRID_COLUMNS = 6


def small_multiples(frame: pd.DataFrame, group: str) -> tuple[go.Figure, pd.DataFrame]:
    """One small panel per force of its 12-month recorded ``group``, peer group
    by group (each starting a row, named above it; forces in no group last), by name
    within one; each panel's own y axis from zero, a shared time axis."""
    rows = frame[frame["offence_group"] == group]
    forces = (
        rows[["area_code", "area_name", "peer_group", "peer_group_name"]]
        .drop_duplicates("area_code")
        .assign(_none=lambda f: f["peer_group"] == "none")
        .sort_values(["_none", "peer_group_name", "area_name"])
        .reset_index(drop=True)
    )
    # Where each force's panel goes: every group starts a new row.
    cells: list[tuple[int, int]] = []
    group_rows: list[tuple[int, str]] = []
    row = -1
    for name, members in forces.groupby("peer_group_name", sort=False):
        for i in range(len(members)):
            if i % GRID_COLUMNS == 0:
                row += 1
                if i == 0:
                    group_rows.append((row, str(name)))
            cells.append((row, i % GRID_COLUMNS))
    n_rows = max(1, row + 1)
    titles = [""] * (n_rows * GRID_COLUMNS)
    for (r, c), force in zip(cells, forces.itertuples(), strict=True):
        titles[r * GRID_COLUMNS + c] = force.area_name
    fig = make_subplots(
        rows=n_rows,
        cols=GRID_COLUMNS,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=60 / (170 * n_rows),
        horizontal_spacing=0.035,
    )
    fig.update_annotations(font={"size": 11})
    colour = charts.OFFENCE_COLOURS.get(group, charts.OKABE_ITO["black"])
    for (r, c), force in zip(cells, forces.itertuples(), strict=True):
        panel = rows[rows["area_code"] == force.area_code]
        fig.add_trace(
            go.Scatter(
                x=panel["period_end"],
                y=panel["offences"].astype("float64"),
                mode="lines",
                name=force.area_name,
                line={"color": colour, "width": 1.8},
                hovertemplate=f"{force.area_name}<br>12 months to %{{x|%d %b %Y}}: %{{y:,.0f}}<extra></extra>",
            ),
            row=r + 1,
            col=c + 1,
        )
    for r, name in group_rows:
        top = fig.get_subplot(r + 1, 1).yaxis.domain[1]
        fig.add_annotation(
            x=0,
            y=top,
            xref="paper",
            yref="paper",
            yshift=34,
            xanchor="left",
            yanchor="bottom",
            text=f"<b>{name}</b>",
            showarrow=False,
            font={"size": 13, "color": charts.OKABE_ITO["black"]},
        )
    fig.update_yaxes(rangemode="tozero", tickformat="~s", nticks=3, tickfont={"size": 9})
    fig.update_xaxes(tickformat="%Y", nticks=4, tickfont={"size": 9})
    charts.style(fig, height=170 * n_rows + 80, legend=False)
    fig.update_layout(margin={"t": 70})
    table = rows.assign(offence=rows["offence_group"].map(formatting.offence_label)).merge(
        forces[["area_code"]].reset_index(names="panel"), on="area_code"
    )
    table = table.sort_values(["panel", "period_end"]).assign(period_end=lambda f: f["period_end"].dt.date)[
        ["area_code", "area_name", "peer_group_name", "offence_group", "offence", "period_end", "offences"]
    ]
    return fig, table.reset_index(drop=True)


# ---- the map and the small multiples (a warehouse without the funnel limits has neither)

if shared.funnel_present(version):
    map_offence = filters.get("offence") or DEFAULT_OFFENCE
    if map_offence not in filters.OFFENCE_LABELS:
        map_offence = DEFAULT_OFFENCE
    map_name = formatting.offence_label(map_offence).lower()
    rates = shared.funnel(version, period, "rate_per_1000", map_offence)
    charts_map.render_map(
        "overview-map",
        "Where: recorded offences per 1,000 residents, by police force area",
        rates[rates["area_code"] != charts_map.BTP_CODE],
        btp=rates[rates["area_code"] == charts_map.BTP_CODE],
        highlight=force_code,
        value_name="Per 1,000 residents",
        value_format=",.2f",
        what=f"recorded {map_name} per 1,000 residents",
        label=formatting.period_label(period),
        file_name=f"hsinsight_map_rate_per_1000_{map_offence}_{period:%Y%m%d}",
        subtitle=f"{formatting.offence_label(map_offence)} (the shared offence), {formatting.period_label(period)}",
    )

    trends = queries.force_trends(version)
    if not trends.empty:
        grid_offence = st.radio(
            "Offence in the small multiples",
            list(GRID_OFFENCES),
            format_func=GRID_OFFENCES.get,
            horizontal=True,
            key="grid-offence",
        )
        grid_figure, grid_table = small_multiples(trends, grid_offence)
        latest_end = grid_table["period_end"].max()
        year_before_end = (pd.Timestamp(latest_end) - pd.DateOffset(years=1)).date()
        now = grid_table[grid_table["period_end"] == latest_end].set_index("area_name")["offences"]
        before = grid_table[grid_table["period_end"] == year_before_end].set_index("area_name")["offences"]
        change = ((now - before) / before.where(before > 0)).dropna().sort_values()
        grid_description = (
            f"Small multiples: {grid_table['area_code'].nunique()} line charts, one per force, of recorded "
            f"{GRID_OFFENCES[grid_offence].lower()} in the 12 months to each quarter end, grouped by peer "
            "group, each with its own scale from zero."
            + (
                f" On a year earlier, the largest rise is {change.index[-1]} ({change.iloc[-1]:+.0%}) and the "
                f"largest fall or smallest rise {change.index[0]} ({change.iloc[0]:+.0%})."
                if len(change)
                else ""
            )
        )
        charts.chart(
            "force-grid",
            "Every force's trend, by peer group",
            grid_figure,
            grid_table,
            description=grid_description,
            file_name=f"hsinsight_force_trends_{grid_offence}",
            column_config={
                "area_code": st.column_config.TextColumn("Area code"),
                "area_name": st.column_config.TextColumn("Force"),
                "peer_group_name": st.column_config.TextColumn("Peer group"),
                "offence_group": st.column_config.TextColumn("Offence group"),
                "offence": st.column_config.TextColumn("Offence"),
                "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
                "offences": st.column_config.NumberColumn("Recorded offences", format="localized"),
            },
            caveats=("recorded_crime", "stalking_2020", "peer_groups"),
            subtitle=f"{GRID_OFFENCES[grid_offence]}, 12 months to each quarter end",
        )


with st.expander("Where these figures come from"):
    st.markdown(
        "Home Office police recorded crime for offence codes 8Q (stalking), 8L (harassment), "
        "8M (racially or religiously aggravated harassment) and 8R (malicious communications, "
        "from April 2017), summed over the four financial quarters ending at each date; only "
        "complete 12-month windows are shown. England and Wales is the sum of all 43 territorial "
        "forces and British Transport Police. The files the warehouse was built from are listed "
        "on the *Data quality and sources* page."
    )


# ---- the long national series: the ONS's own totals by financial year


def financial_year(end: pd.Timestamp) -> str:
    """``2003-03-31`` -> ``2002/03``."""
    return f"{end.year - 1}/{end.year % 100:02d}"


def long_series_figure(frame: pd.DataFrame, groups: list[str]) -> go.Figure:
    """One line per offence group, a point per financial year (plotted at its end, 31
    March), gaps where the table has a marker; dotted lines at the recording-rule changes."""
    fig = go.Figure()
    for group in groups:
        rows = frame[frame["offence_group"] == group]
        fig.add_trace(
            go.Scatter(
                x=rows["period_end"],
                y=rows["published_value"].astype("float64"),
                mode="lines+markers",
                name=formatting.offence_label(group),
                line={
                    "color": charts.OFFENCE_COLOURS.get(group, charts.OKABE_ITO["black"]),
                    "width": 2.5,
                },
                marker={"size": 5},
                customdata=rows["financial_year"],
                hovertemplate=(
                    "%{customdata}<br>%{y:,.0f} recorded offences"
                    f"<extra>{formatting.offence_label(group)}</extra>"
                ),
            )
        )
    fig.update_yaxes(rangemode="tozero", tickformat=",d", title="Recorded offences")
    fig.update_xaxes(range=charts.time_range(frame["period_end"]), title="Financial year ending")
    charts.add_breaks(fig)
    return charts.style(fig, height=460)


st.header("England and Wales since 2002/03", anchor="long-series")
if not shared.published_totals_present(version):
    long_series = None
else:
    long_series = queries.long_national_series(version)
if long_series is None or long_series.empty:
    st.info(
        "The ONS Appendix tables are not loaded into this warehouse, so the long national series by "
        "financial year from 2002/03 is not shown. Add the Appendix tables workbook (Table A5a) to the raw "
        "files and run `hsinsight run` again.",
        icon=":material/timeline:",
    )
else:
    long_groups = [g for g in LONG_SERIES_GROUPS if g in set(long_series["offence_group"])]
    long_groups += sorted(set(long_series["offence_group"]) - set(long_groups))
    group_rank = {group: i for i, group in enumerate(long_groups)}
    long_shown = (
        long_series.assign(
            financial_year=long_series["period_end"].map(financial_year),
            _group=long_series["offence_group"].map(group_rank),
        )
        .sort_values(["_group", "period_end"])
        .drop(columns="_group")
        .reset_index(drop=True)
    )
    long_table = long_shown.assign(
        offence=long_shown["offence_group"].map(formatting.offence_label),
        period_start=long_shown["period_start"].dt.date,
        period_end=long_shown["period_end"].dt.date,
    )[
        [
            "offence_group",
            "offence",
            "financial_year",
            "period_start",
            "period_end",
            "published_value",
            "published_marker",
            "release",
        ]
    ]
    last_end = long_shown["period_end"].max()
    latest_year = long_shown[long_shown["period_end"] == last_end]
    releases = sorted(set(long_shown["release"].dropna()))
    long_description = (
        f"Line chart, one line per offence, of offences recorded in England and Wales in each financial year "
        f"from {financial_year(long_shown['period_end'].min())} to {financial_year(last_end)}, as the ONS "
        f"Appendix tables publish them ({', '.join(releases)}). In {financial_year(last_end)}: "
        + ", ".join(
            f"{formatting.fmt_count(row.published_value)} {formatting.offence_label(row.offence_group).lower()}"
            for row in latest_year.itertuples()
        )
        + ". Gaps are years the table marks as not available (no code of its own yet). Dotted lines mark the "
        "recording-rule changes of April 2014, 2015, 2017, 2018 and 2020."
    )
    charts.chart(
        "appendix-long-series",
        "Offences recorded in England and Wales each financial year, as the ONS publishes them",
        long_series_figure(long_shown, long_groups),
        long_table,
        description=long_description,
        file_name="hsinsight_recorded_financial_years_england_and_wales",
        column_config={
            "offence_group": st.column_config.TextColumn("Offence group"),
            "offence": st.column_config.TextColumn("Offence"),
            "financial_year": st.column_config.TextColumn("Financial year"),
            "period_start": st.column_config.DateColumn("From", format="D MMM YYYY"),
            "period_end": st.column_config.DateColumn("To", format="D MMM YYYY"),
            "published_value": st.column_config.NumberColumn(
                "Recorded offences (published)", format="localized"
            ),
            "published_marker": st.column_config.TextColumn("Marker"),
            "release": st.column_config.TextColumn("Release"),
        },
        caveats=("appendix_tables", "series_breaks", "subgroup_2020"),
        subtitle="ONS Crime in England and Wales Appendix tables, Table A5a",
    )
