"""Overview: the national trend in recorded stalking and harassment, and one force's."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import components
import queries

#: Offence groups this page charts, in order; any the warehouse lacks are left out.
CHART_GROUPS = ("stalking", "harassment", "racially_or_religiously_aggravated_harassment")

version = components.warehouse_or_stop()

st.title("Recorded stalking and harassment")
st.markdown("How has recorded stalking and harassment changed in England and Wales, and in a chosen force?")

national = queries.national_series_12m(version)
latest = queries.latest_period(version)
if national.empty or latest is None:
    st.error(
        "The published warehouse holds no 12-month figures for England and Wales. "
        "Run `make run` (or `hsinsight run`) with the recorded crime files, then reload."
    )
    st.stop()

picker, period = st.columns([2, 3], vertical_alignment="bottom")
with picker:
    force_code = components.force_selector(queries.forces(version))
with period:
    st.markdown(
        f"Rolling 12-month totals from Home Office police recorded crime. "
        f"Latest: **12 months to {latest:%d %B %Y}**."
    )

areas = [(queries.NATIONAL_CODE, "England and Wales")]
frames = [national]
if force_code:
    force_series = queries.area_series_12m(version, force_code)
    force_name = queries.forces(version).set_index("area_code").at[force_code, "area_name"]
    areas.append((force_code, str(force_name)))
    frames.append(force_series)
series = pd.concat(frames, ignore_index=True)
groups = [g for g in CHART_GROUPS if g in set(series["offence_group"])]
# Exactly what the chart draws: the chart, the table and the download all use this frame,
# ordered as the chart reads (area by area, offence by offence, oldest first).
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

st.subheader(f"Latest 12 months, to {latest:%d %B %Y}")
for code, name in areas:
    components.latest_metrics(shown, code, name, groups, latest)

st.subheader("Trend: offences recorded in the 12 months to each quarter end")
chart, notes = st.columns([4, 1], gap="medium")
with chart:
    x_range = components.time_range(shown)
    for panel, (code, name) in zip(st.columns(len(areas)), areas, strict=True):
        panel.markdown(f"**{name}**")
        panel.plotly_chart(
            components.trend_figure(shown[shown["area_code"] == code], name, groups, x_range),
            key=f"trend-{code}",
            config={"displaylogo": False},
        )
with notes:
    components.recorded_crime_caveat()
    st.caption(
        "Each panel has its own scale, starting at zero. Dotted lines mark recording-rule changes that "
        "break the series; they are described below the charts."
    )
components.series_breaks_note()

st.subheader("The figures in the charts")
table = shown.assign(
    offence=shown["offence_group"].map(components.offence_label),
    period_end=shown["period_end"].dt.date,
)[["area_code", "area_name", "offence_group", "offence", "period_end", "offences"]]
st.dataframe(
    table,
    hide_index=True,
    height=280,
    column_order=["area_name", "offence", "period_end", "offences"],
    column_config={
        "area_name": st.column_config.TextColumn("Area"),
        "offence": st.column_config.TextColumn("Offence"),
        "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
        "offences": st.column_config.NumberColumn("Recorded offences", format="localized"),
    },
)
slug = force_code.lower() if force_code else "england_and_wales"
st.download_button(
    "Download these figures (CSV)",
    table.to_csv(index=False).encode("utf-8"),
    file_name=f"hsinsight_recorded_12m_{slug}_{latest:%Y%m%d}.csv",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
)

with st.expander("Where these figures come from"):
    st.markdown(
        "Police recorded crime for offence codes 8Q (stalking), 8L (harassment) and 8M "
        "(racially or religiously aggravated harassment), summed over the four financial "
        "quarters ending at each date; only complete 12-month windows are shown. England "
        "and Wales is the sum of all 43 territorial forces and British Transport Police. "
        "The warehouse was built from these files:"
    )
    st.dataframe(queries.source_files(version), hide_index=True)
