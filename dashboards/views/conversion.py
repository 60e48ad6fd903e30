"""Conversion and prosecution gap: how recorded stalking and harassment thin out on the
way to conviction (recorded -> charged or summonsed -> prosecuted -> convicted), by CPS
Area and nationally, and recorded stalking against stalking prosecutions over time."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from hsinsight.dashboard import filters, formatting
from hsinsight.dashboard.charts import shared as charts
from hsinsight.dashboard.frame import page_header, series_breaks_note, stop_with, warehouse_or_stop
from hsinsight.dashboard.queries import conversion as queries
from hsinsight.names import NATIONAL_CODE

#: The steps of the funnel: column -> label.
STEPS = {
    "recorded": "Recorded by the police",
    "charged_summonsed": "Charged or summonsed",
    "prosecuted": "Prosecuted (CPS)",
    "convicted": "Convicted (CPS)",
}
OFFENCES = ("stalking", "harassment")

version = warehouse_or_stop()
opts = filters.options(version)

page_header(
    "Conversion and prosecution gap",
    "Of the stalking and harassment the police record, how much is charged, prosecuted and "
    "convicted, and is the gap between recorded stalking and stalking prosecutions widening?",
)

picker, offence_picker, when = st.columns(3, vertical_alignment="top")
with picker:
    area_code = filters.cps_area_select(opts)
with offence_picker:
    offence = filters.offence_select(OFFENCES)
years = queries.attrition_years(version, offence)
if years.empty:
    stop_with(
        "The published warehouse has no attrition figures. Run `make run` (or `hsinsight run`) "
        "with the recorded crime, outcomes and CPS files."
    )
year_names = dict(zip(years["period_end"], years["financial_year"], strict=True))
with when:
    period_end = filters.period_select(
        list(year_names),
        label="Financial year",
        format_label=lambda d: year_names.get(d, f"{d.year - 1}/{d:%y}"),
        resolve=filters.latest_year_ended_by(3, 31),
        unit="financial-year figures",
    )
financial_year = year_names[period_end]
offence_name = formatting.offence_label(offence)
area_name = opts.cps_areas.get(area_code, "") if area_code else ""

# ---- the funnel

year = queries.attrition(version, financial_year, offence)
shown_areas = [NATIONAL_CODE] + ([area_code] if area_code else [])
funnel_rows = []
for code in shown_areas:
    row = year[year["area_code"] == code]
    if row.empty:
        continue
    row = row.iloc[0]
    for step, step_name in STEPS.items():
        count = row[step]
        funnel_rows.append(
            {
                "area_code": code,
                "area_name": row["area_name"],
                "financial_year": financial_year,
                "offence_group": offence,
                "step": step_name,
                "count": None if pd.isna(count) else int(count),
                "per_100_recorded": (
                    None
                    if pd.isna(count) or pd.isna(row["recorded"]) or not row["recorded"]
                    else 100 * float(count) / float(row["recorded"])
                ),
            }
        )
funnel = pd.DataFrame(
    funnel_rows,
    columns=[
        "area_code",
        "area_name",
        "financial_year",
        "offence_group",
        "step",
        "count",
        "per_100_recorded",
    ],
).astype({"count": "Int64", "per_100_recorded": "Float64"})
if area_code and area_code not in set(funnel["area_code"]):
    st.info(
        f"{area_name} has no {offence_name.lower()} figures for {financial_year}: showing England and Wales only."
    )
panels = list(dict.fromkeys(funnel["area_name"]))
figure = make_subplots(rows=1, cols=max(len(panels), 1), subplot_titles=panels, horizontal_spacing=0.12)
for col, name in enumerate(panels, start=1):
    part = funnel[(funnel["area_name"] == name) & funnel["count"].notna()]
    figure.add_trace(
        go.Funnel(
            y=part["step"],
            x=part["count"].astype("float64"),
            name=name,
            texttemplate="%{value:,.0f}<br>%{percentInitial:.0%}",
            marker={"color": [charts.OFFENCE_COLOURS[offence]] * len(part)},
            connector={"line": {"color": charts.NEUTRAL}},
            hovertemplate="%{y}: %{x:,.0f} (%{percentInitial:.1%} of recorded)<extra>" + name + "</extra>",
        ),
        row=1,
        col=col,
    )
    if col > 1:
        figure.update_yaxes(showticklabels=False, row=1, col=col)
charts.style(figure, height=380, legend=False)
national_funnel = funnel[funnel["area_code"] == NATIONAL_CODE].set_index("step")


def step_value(frame: pd.DataFrame, step: str, column: str = "count") -> object:
    return frame[column].get(STEPS[step]) if len(frame) else None


description = (
    f"Funnel chart of {offence_name.lower()} in {financial_year} for "
    + " and ".join(panels)
    + ". England and Wales: "
    f"{formatting.fmt_count(step_value(national_funnel, 'recorded'))} recorded, "
    f"{formatting.fmt_count(step_value(national_funnel, 'charged_summonsed'))} charged or summonsed, "
    f"{formatting.fmt_count(step_value(national_funnel, 'prosecuted'))} prosecuted and "
    f"{formatting.fmt_count(step_value(national_funnel, 'convicted'))} convicted "
    f"({formatting.fmt_number(step_value(national_funnel, 'convicted', 'per_100_recorded'))} per 100 recorded)."
)
charts.chart(
    "attrition-funnel",
    "From recorded crime to conviction",
    figure,
    funnel,
    description=description,
    file_name=f"hsinsight_attrition_{offence}_{(area_code or 'england_and_wales').lower()}_{financial_year.replace('/', '-')}",
    column_config={
        "area_code": "Area code",
        "area_name": "Area",
        "financial_year": "Financial year",
        "offence_group": "Offence group",
        "step": "Step",
        "count": st.column_config.NumberColumn("Count", format="localized"),
        "per_100_recorded": st.column_config.NumberColumn("Per 100 recorded", format="%.1f"),
    },
    caveats=("cps_units", "financial_years", "cps_areas"),
    subtitle=f"{offence_name}, {financial_year}",
)

# ---- every CPS Area's conversion

areas_table = (
    year.dropna(subset=["convicted_per_recorded"])
    .assign(convicted_per_100_recorded=lambda f: 100 * f["convicted_per_recorded"])
    .sort_values(["area_type", "convicted_per_100_recorded"], ascending=[True, False])[
        [
            "area_code",
            "area_name",
            "area_type",
            "financial_year",
            "offence_group",
            "recorded",
            "charged_summonsed",
            "prosecuted",
            "convicted",
            "charged_per_recorded",
            "prosecuted_per_recorded",
            "convicted_per_prosecuted",
            "convicted_per_100_recorded",
        ]
    ]
    .reset_index(drop=True)
)
cps_only = areas_table[areas_table["area_type"] == "cps_area"]
national_rate = areas_table.loc[areas_table["area_type"] == "national", "convicted_per_100_recorded"]
if not cps_only.empty:
    top, bottom = cps_only.iloc[0], cps_only.iloc[-1]
    charts.chart(
        "conversion-areas",
        "Convictions per 100 recorded crimes, by CPS Area",
        charts.ranked_bars(
            cps_only,
            value="convicted_per_100_recorded",
            label="area_name",
            value_name="Convictions per 100 recorded crimes",
            highlight=area_code,
            reference=float(national_rate.iloc[0]) if len(national_rate) else None,
            reference_name="England and Wales",
            area_word="CPS Area",
        ),
        areas_table,
        description=(
            f"Horizontal bar chart ranking {len(cps_only)} CPS Areas by CPS {offence_name.lower()} convictions per 100 "
            f"crimes the police recorded in {financial_year}: highest {top.area_name} "
            f"({top.convicted_per_100_recorded:.1f}), lowest {bottom.area_name} ({bottom.convicted_per_100_recorded:.1f})"
            + (
                f"; England and Wales {national_rate.iloc[0]:.1f} (dashed line)."
                if len(national_rate)
                else "."
            )
        ),
        file_name=f"hsinsight_conversion_by_cps_area_{offence}_{financial_year.replace('/', '-')}",
        column_config={
            "area_code": "Area code",
            "area_name": "Area",
            "area_type": "Area type",
            "financial_year": "Financial year",
            "offence_group": "Offence group",
            "recorded": st.column_config.NumberColumn("Recorded", format="localized"),
            "charged_summonsed": st.column_config.NumberColumn("Charged or summonsed", format="localized"),
            "prosecuted": st.column_config.NumberColumn("Prosecuted", format="localized"),
            "convicted": st.column_config.NumberColumn("Convicted", format="localized"),
            "charged_per_recorded": st.column_config.NumberColumn("Charge rate", format="percent"),
            "prosecuted_per_recorded": st.column_config.NumberColumn(
                "Prosecuted per recorded", format="percent"
            ),
            "convicted_per_prosecuted": st.column_config.NumberColumn(
                "Conviction rate (CPS)", format="percent"
            ),
            "convicted_per_100_recorded": st.column_config.NumberColumn(
                "Convicted per 100 recorded", format="%.1f"
            ),
        },
        caveats=("cps_units", "cps_areas"),
        subtitle=f"{offence_name}, {financial_year}",
    )

# ---- the prosecution gap over time (stalking)

gap = queries.prosecution_gap(version, area_code)
gap_areas = list(dict.fromkeys(gap["area_name"]))
figure = make_subplots(rows=1, cols=max(len(gap_areas), 1), subplot_titles=gap_areas, horizontal_spacing=0.1)
lines = (
    ("recorded_stalking", "Stalking recorded by the police", charts.OFFENCE_COLOURS["stalking"], "solid"),
    ("stalking_prosecutions", "CPS stalking prosecutions", charts.OKABE_ITO["blue"], "dash"),
    ("stalking_convictions", "CPS stalking convictions", charts.OKABE_ITO["bluish_green"], "dot"),
)
for col, name in enumerate(gap_areas, start=1):
    part = gap[gap["area_name"] == name]
    for column, line_name, colour, dash in lines:
        figure.add_trace(
            go.Scatter(
                x=part["period_end"],
                y=part[column].astype("float64"),
                mode="lines+markers",
                name=line_name,
                legendgroup=line_name,
                showlegend=col == 1,
                line={"color": colour, "width": 2.5, "dash": dash},
                customdata=part[["financial_year"]],
                hovertemplate=f"%{{customdata[0]}}<br>{line_name}: %{{y:,.0f}}<extra>{name}</extra>",
            ),
            row=1,
            col=col,
        )
    figure.update_yaxes(rangemode="tozero", tickformat=",d", row=1, col=col)
    figure.update_xaxes(range=charts.time_range(gap["period_end"]), row=1, col=col)
charts.add_breaks(figure, rows=1, cols=max(len(gap_areas), 1))
charts.style(figure, height=420, legend_below=True)
gap_table = gap.assign(period_end=gap["period_end"].dt.date)
national_gap = gap[(gap["area_code"] == NATIONAL_CODE) & gap["share_prosecuted"].notna()]
charts.chart(
    "prosecution-gap",
    "Recorded stalking against stalking prosecutions",
    figure,
    gap_table,
    description=(
        "Line charts, by financial year, of stalking recorded by the police, CPS stalking prosecutions and "
        "convictions, for "
        + " and ".join(gap_areas)
        + "."
        + (
            f" In England and Wales prosecutions were {national_gap['share_prosecuted'].iloc[0]:.0%} of recorded "
            f"stalking in {national_gap['financial_year'].iloc[0]} and {national_gap['share_prosecuted'].iloc[-1]:.0%} "
            f"in {national_gap['financial_year'].iloc[-1]}."
            if len(national_gap)
            else ""
        )
    ),
    file_name=f"hsinsight_prosecution_gap_{(area_code or 'england_and_wales').lower()}",
    column_config={
        "area_code": "Area code",
        "area_name": "Area",
        "financial_year": "Financial year",
        "period_end": st.column_config.DateColumn("Year to", format="D MMM YYYY"),
        "recorded_stalking": st.column_config.NumberColumn("Recorded stalking", format="localized"),
        "stalking_prosecutions": st.column_config.NumberColumn("Prosecutions", format="localized"),
        "stalking_convictions": st.column_config.NumberColumn("Convictions", format="localized"),
        "share_prosecuted": st.column_config.NumberColumn(
            "Prosecutions per recorded crime", format="percent"
        ),
        "conviction_rate": st.column_config.NumberColumn("Conviction rate", format="percent"),
    },
    caveats=("stalking_code", "cps_units", "stalking_2020"),
    subtitle="Stalking, every financial year",
)
series_breaks_note()
