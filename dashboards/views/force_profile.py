"""Force profile: everything about one force on one page, beside England and Wales and
its peer group, to download as the basis of a problem profile."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from hsinsight.dashboard import filters, formatting, profile_report
from hsinsight.dashboard.charts import shared as charts
from hsinsight.dashboard.connection import WarehouseVersion
from hsinsight.dashboard.frame import page_header, stop_with, warehouse_or_stop
from hsinsight.dashboard.queries import force_profile as queries
from hsinsight.dashboard.queries import shared
from hsinsight.names import NATIONAL_NAME

version = warehouse_or_stop()
opts = filters.options(version)

page_header(
    "Force profile",
    "Where does one force stand on stalking and harassment, against England and Wales and forces "
    "like it? The figures a police and crime commissioner's problem profile starts from.",
)

picker, when = st.columns(2, vertical_alignment="top")
with picker:
    force_code = filters.force_select(opts, label="Police force area", none_label=None)
    if filters.get("force") is None:
        st.caption("No force chosen yet: showing the first. Choose one to keep it in the address.")
profile = queries.problem_profile(version, force_code)
if profile.empty:
    stop_with(f"The published warehouse has no problem profile for {opts.forces[force_code]}.")
profile_periods = sorted((filters.as_date(d) for d in profile["period_end"]), reverse=True)
with when:
    period = filters.period_select(profile_periods)
row = profile[profile["period_end"].dt.date == period].iloc[0]
name = str(row["area_name"])
label = formatting.period_label(period)
synthetic = shared.any_synthetic(version)

group = row["peer_group_name"] if isinstance(row["peer_group_name"], str) else "none"
facts = st.columns(4)
facts[0].metric("Peer group", group)
facts[1].metric(
    "Residents",
    formatting.fmt_count(row["population"]) if row["population"] is not None else "not applicable",
)
facts[2].metric("Recorded stalking", formatting.fmt_count(row["stalking_offences"]))
facts[3].metric("Recorded harassment", formatting.fmt_count(row["harassment_offences"]))
for finding in profile_report.key_findings(row):
    st.markdown(f"- {finding}")

# ---- the measures, against England and Wales and the group

#: The columns of the measures tables (the chart's and the full list's).
MEASURE_COLUMNS = {
    "area_code": "Area code",
    "area_name": "Force",
    "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
    "measure_key": "Measure key",
    "measure": "Measure",
    "figures_for": "Figures for",
    "unit": "Unit",
    "force": st.column_config.NumberColumn(name, format="%.3f"),
    "england_and_wales": st.column_config.NumberColumn("England and Wales", format="%.3f"),
    "peer_group": st.column_config.NumberColumn("Peer group", format="%.3f"),
}

measures = profile_report.measures_table(row)
charted = measures.set_index("measure_key").loc[list(profile_report.CHARTED)].reset_index()[measures.columns]
columns = 3
rows = -(-len(charted) // columns)
figure = make_subplots(
    rows=rows,
    cols=columns,
    subplot_titles=[profile_report.CHARTED[k] for k in charted["measure_key"]],
    vertical_spacing=0.2,
    horizontal_spacing=0.08,
)
comparators = (
    ("force", name, charts.AREA_COLOURS["area"]),
    ("england_and_wales", NATIONAL_NAME, charts.AREA_COLOURS["national"]),
    ("peer_group", "Peer group", charts.AREA_COLOURS["group"]),
)
for i, measure in enumerate(charted.itertuples()):
    r, c = divmod(i, columns)
    fmt = (
        ".0%"
        if measure.unit == profile_report.UNIT_NAMES["share"]
        else ".2f"
        if "1,000" in measure.unit
        else ".1f"
    )
    for column, comparator, colour in comparators:
        value = getattr(measure, column)
        figure.add_trace(
            go.Bar(
                x=[comparator],
                y=[None if value is None or value != value else float(value)],
                name=comparator,
                legendgroup=comparator,
                showlegend=i == 0,
                marker={"color": colour},
                hovertemplate=f"{comparator}<br>%{{y:{fmt}}}<extra>{measure.measure}</extra>",
            ),
            row=r + 1,
            col=c + 1,
        )
    figure.update_yaxes(tickformat=fmt, rangemode="tozero", row=r + 1, col=c + 1)
    figure.update_xaxes(showticklabels=False, row=r + 1, col=c + 1)
figure.update_annotations(font_size=12)
charts.style(figure, height=280 * rows + 80, legend_below=True)
charts.chart(
    "profile-measures",
    "Key measures against England and Wales and the peer group",
    figure,
    charted,
    description=(
        f"Small bar charts comparing {name} (orange) with England and Wales (black) and its peer group "
        f"(blue) on {len(charted)} measures for the {label}: "
        + "; ".join(
            f"{m.measure} {profile_report.format_value(m.force, m.unit)} against "
            f"{profile_report.format_value(m.england_and_wales, m.unit)}"
            for m in charted.head(3).itertuples()
        )
        + "."
    ),
    file_name=f"hsinsight_profile_measures_{force_code.lower()}_{period:%Y%m%d}",
    column_config=MEASURE_COLUMNS,
    caveats=("recorded_crime", "ratio", "peer_groups"),
    subtitle=f"{name}, {label}; court figures for {int(row['court_calendar_year'])}",
)

# ---- trends

trend = profile[["area_code", "area_name", "period_end", "stalking_offences", "harassment_offences"]].copy()
figure = make_subplots(
    rows=2, cols=1, shared_xaxes=True, subplot_titles=["Stalking", "Harassment"], vertical_spacing=0.14
)
for r, (column, offence) in enumerate(
    (("stalking_offences", "stalking"), ("harassment_offences", "harassment")), 1
):
    figure.add_trace(
        go.Scatter(
            x=trend["period_end"],
            y=trend[column].astype("float64"),
            mode="lines",
            name=formatting.offence_label(offence),
            line={"color": charts.OFFENCE_COLOURS[offence], "width": 2.5},
            hovertemplate="12 months to %{x|%d %b %Y}<br>%{y:,.0f} recorded<extra>" + name + "</extra>",
        ),
        row=r,
        col=1,
    )
    figure.update_yaxes(rangemode="tozero", tickformat=",d", row=r, col=1)
    figure.update_xaxes(range=charts.time_range(trend["period_end"]), row=r, col=1)
charts.add_breaks(figure, rows=2, cols=1)
charts.style(figure, height=480, legend=False)
trend_table = trend.assign(period_end=trend["period_end"].dt.date)
charts.chart(
    "profile-trend",
    "Recorded stalking and harassment over time",
    figure,
    trend_table,
    description=(
        f"Line charts of stalking and harassment recorded by {name} in the 12 months to each quarter end from "
        f"{trend['period_end'].min():%B %Y} to {trend['period_end'].max():%B %Y}; in the {label}, "
        f"{formatting.fmt_count(row['stalking_offences'])} stalking and {formatting.fmt_count(row['harassment_offences'])} "
        "harassment crimes."
    ),
    file_name=f"hsinsight_profile_trend_{force_code.lower()}",
    column_config={
        "area_code": "Area code",
        "area_name": "Force",
        "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
        "stalking_offences": st.column_config.NumberColumn("Recorded stalking", format="localized"),
        "harassment_offences": st.column_config.NumberColumn("Recorded harassment", format="localized"),
    },
    caveats=("series_breaks", "stalking_2020"),
    subtitle=name,
)

ratio = profile[
    [
        "area_code",
        "area_name",
        "period_end",
        "harassment_to_stalking_ratio",
        "harassment_to_stalking_ratio_england_and_wales",
        "harassment_to_stalking_ratio_peer_group",
        "harassment_to_stalking_outlier_flag",
    ]
].dropna(subset=["harassment_to_stalking_ratio"])
if not ratio.empty:
    figure = go.Figure()
    for column, line_name, colour, dash in (
        ("harassment_to_stalking_ratio", name, charts.AREA_COLOURS["area"], "solid"),
        (
            "harassment_to_stalking_ratio_england_and_wales",
            NATIONAL_NAME,
            charts.AREA_COLOURS["national"],
            "dash",
        ),
        ("harassment_to_stalking_ratio_peer_group", "Peer group", charts.AREA_COLOURS["group"], "dot"),
    ):
        figure.add_trace(
            go.Scatter(
                x=ratio["period_end"],
                y=ratio[column],
                mode="lines",
                name=line_name,
                line={"color": colour, "width": 2.5, "dash": dash},
                hovertemplate=f"12 months to %{{x|%d %b %Y}}<br>%{{y:.1f}}<extra>{line_name}</extra>",
            )
        )
    figure.update_yaxes(title="Harassment crimes per stalking crime", rangemode="tozero")
    figure.update_xaxes(range=charts.time_range(ratio["period_end"]))
    charts.add_breaks(figure)
    charts.style(figure, height=380)
    charts.chart(
        "profile-ratio",
        "Harassment crimes recorded per stalking crime over time",
        figure,
        ratio.assign(period_end=ratio["period_end"].dt.date),
        description=(
            f"Line chart of {name}'s harassment-to-stalking ratio for each 12 months (solid), with England and Wales's "
            f"(dashed) and its peer group's (dotted); in the {label}, "
            f"{formatting.fmt_number(row['harassment_to_stalking_ratio'])} against "
            f"{formatting.fmt_number(row['harassment_to_stalking_ratio_england_and_wales'])} for England and Wales."
        ),
        file_name=f"hsinsight_profile_ratio_{force_code.lower()}",
        column_config={
            "area_code": "Area code",
            "area_name": "Force",
            "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
            "harassment_to_stalking_ratio": st.column_config.NumberColumn("Ratio", format="%.1f"),
            "harassment_to_stalking_ratio_england_and_wales": st.column_config.NumberColumn(
                "England and Wales", format="%.1f"
            ),
            "harassment_to_stalking_ratio_peer_group": st.column_config.NumberColumn(
                "Peer group", format="%.1f"
            ),
            "harassment_to_stalking_outlier_flag": "Outlier",
        },
        caveats=("ratio", "outliers"),
        subtitle=name,
    )

# ---- take the profile away

charts.table(
    "profile-all-measures",
    "Every measure of the profile",
    measures,
    file_name=f"hsinsight_profile_all_measures_{force_code.lower()}_{period:%Y%m%d}",
    caption=f"{name}, {label}; court figures for calendar year {int(row['court_calendar_year'])}.",
    column_config=MEASURE_COLUMNS,
)

st.subheader("Download the profile")
profile_rows = profile.assign(period_end=profile["period_end"].dt.date, synthetic_sample_data=synthetic)
marker = "_synthetic" if synthetic else ""


@st.cache_data(show_spinner="Writing the problem profile...", max_entries=64)
def _profile_document(version: WarehouseVersion, area_code: str, period: dt.date) -> bytes:
    return profile_report.problem_profile_html(version[0], area_code, period)


left, right = st.columns(2)
with left:
    st.download_button(
        "Download the problem profile (HTML)",
        _profile_document(version, force_code, period),
        file_name=f"hsinsight_problem_profile_{force_code.lower()}_{period:%Y%m%d}{marker}.html",
        mime="text/html",
        key="download-profile-html",
        on_click="ignore",
        icon=":material/description:",
    )
    can_print, why_not = profile_report.pdf_available()
    st.download_button(
        "Download the problem profile (PDF)",
        # printed only when asked for: Chromium takes a second or two
        lambda: profile_report.problem_profile_pdf(version[0], force_code, period),
        file_name=f"hsinsight_problem_profile_{force_code.lower()}_{period:%Y%m%d}{marker}.pdf",
        mime="application/pdf",
        key="download-profile-pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        disabled=not can_print,
        help=None if can_print else why_not,
    )
    st.caption(
        "The document `hsinsight profile` writes: a one-page summary, a section per theme with its chart, table "
        "and caveats, questions for the commissioner, the trend since the series began and the sources. The HTML "
        "opens without a network and prints on A4; the PDF is the same document."
    )
with right:
    st.download_button(
        "Download CSV: problem profile rows, every period",
        formatting.csv_bytes(profile_rows),
        file_name=f"hsinsight_problem_profile_{force_code.lower()}{marker}.csv",
        mime="text/csv",
        key="download-profile-rows",
        on_click="ignore",
        icon=":material/download:",
    )
    st.caption(
        f"All {len(profile_rows)} rows of marts.problem_profile for {name}, one per 12-month period, with every "
        "measure and its England and Wales and peer group comparators."
    )
if synthetic:
    st.caption(
        "Both downloads say they are synthetic sample data: the page carries the banner, the file names end "
        "`_synthetic` and the CSV has a `synthetic_sample_data` column."
    )
