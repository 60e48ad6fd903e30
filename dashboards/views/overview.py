"""Overview: England and Wales's 12-month trends in recorded stalking, harassment and
related offences, the latest figures with the change on a year earlier, and one
force beside them; and, when the ONS Appendix tables are loaded, the long national
series by financial year from 2002/03 as the ONS publishes it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import components
import filters
import queries

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

version = components.warehouse_or_stop()
opts = filters.options(version)

components.page_header(
    "Recorded stalking and harassment",
    "How has recorded stalking and harassment changed in England and Wales, and in a chosen force?",
)

national = queries.national_series_12m(version)
if national.empty or not opts.periods:
    components.stop_with(
        "The published warehouse holds no 12-month figures for England and Wales. "
        "Run `make run` (or `hsinsight run`) with the recorded crime files, then reload."
    )

picker, when = st.columns(2, vertical_alignment="top")
with picker:
    force_code = filters.force_select(opts, label="Police force area to compare")
with when:
    period = filters.period_select(opts.periods, label="Headline figures for the 12 months to")

areas = [(queries.NATIONAL_CODE, queries.NATIONAL_NAME)]
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

st.subheader(f"{components.period_label(period)}")
for code, name in areas:
    components.latest_metrics(shown, code, name, groups, period)
year_before = (pd.Timestamp(period) - pd.DateOffset(years=2)).date()
crossed = components.breaks_between(year_before, period)
if crossed:
    st.warning(
        "The change on a year earlier spans "
        + " and ".join(f"the {b.date:%B %Y} change ({b.label.lower()})" for b in crossed)
        + ": it is not a like-for-like comparison.",
        icon=":material/warning:",
    )

table = shown.assign(
    offence=shown["offence_group"].map(components.offence_label),
    period_end=shown["period_end"].dt.date,
)[["area_code", "area_name", "offence_group", "offence", "period_end", "offences"]]
latest_national = shown[
    (shown["area_code"] == queries.NATIONAL_CODE) & (shown["period_end"] == shown["period_end"].max())
]
description = (
    f"Line charts, one panel per offence{' and area' if force_code else ''}, of offences recorded in the "
    f"12 months to each quarter end from {shown['period_end'].min():%B %Y} to "
    f"{shown['period_end'].max():%B %Y}. In the latest 12 months England and Wales recorded "
    + ", ".join(
        f"{components.fmt_count(row.offences)} {components.offence_label(row.offence_group).lower()}"
        for row in latest_national.itertuples()
    )
    + ". Dotted lines mark the recording-rule changes of April 2014, 2015, 2017, 2018 and 2020."
)
slug = force_code.lower() if force_code else "england_and_wales"
components.chart(
    "recorded-12m",
    "Offences recorded in the 12 months to each quarter end",
    components.trend_figure(shown, areas, groups),
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
components.series_breaks_note()

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
                name=components.offence_label(group),
                line={
                    "color": components.OFFENCE_COLOURS.get(group, components.OKABE_ITO["black"]),
                    "width": 2.5,
                },
                marker={"size": 5},
                customdata=rows["financial_year"],
                hovertemplate=(
                    "%{customdata}<br>%{y:,.0f} recorded offences"
                    f"<extra>{components.offence_label(group)}</extra>"
                ),
            )
        )
    fig.update_yaxes(rangemode="tozero", tickformat=",d", title="Recorded offences")
    fig.update_xaxes(range=components.time_range(frame["period_end"]), title="Financial year ending")
    components.add_breaks(fig)
    return components.style(fig, height=460)


st.header("England and Wales since 2002/03", anchor="long-series")
if not queries.published_totals_present(version):
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
        offence=long_shown["offence_group"].map(components.offence_label),
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
            f"{components.fmt_count(row.published_value)} {components.offence_label(row.offence_group).lower()}"
            for row in latest_year.itertuples()
        )
        + ". Gaps are years the table marks as not available (no code of its own yet). Dotted lines mark the "
        "recording-rule changes of April 2014, 2015, 2017, 2018 and 2020."
    )
    components.chart(
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
