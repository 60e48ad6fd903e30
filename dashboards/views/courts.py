"""Courts: defendants prosecuted and convicted, conviction ratios and sentences for each
Protection from Harassment Act 1997 offence, and restraining orders on conviction and
on acquittal (Ministry of Justice, calendar years)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from hsinsight.dashboard import filters, formatting
from hsinsight.dashboard.charts import shared as charts
from hsinsight.dashboard.frame import page_header, stop_with, warehouse_or_stop
from hsinsight.dashboard.queries import courts as queries
from hsinsight.names import NATIONAL_CODE, NATIONAL_NAME

#: Sections in the order the Act has them.
SECTION_ORDER = (
    "s2",
    "s2A",
    "s4",
    "s4A_fear_of_violence",
    "s4A_serious_alarm_distress",
    "breach_of_restraining_order",
)
SECTION_SHORT = {
    "s2": "s2 harassment",
    "s2A": "s2A stalking",
    "s4": "s4 fear of violence",
    "s4A_fear_of_violence": "s4A stalking, fear of violence",
    "s4A_serious_alarm_distress": "s4A stalking, serious alarm or distress",
    "breach_of_restraining_order": "s5 breach of a restraining order",
}
DISPOSALS = {
    "immediate_custody": "Immediate custody",
    "suspended_sentence": "Suspended sentence",
    "community_sentence": "Community sentence",
    "fine": "Fine",
    "conditional_discharge": "Conditional discharge",
    "absolute_discharge": "Absolute discharge",
    "otherwise_dealt_with": "Otherwise dealt with",
}

version = warehouse_or_stop()
opts = filters.options(version)

page_header(
    "Courts",
    "How many stalking and harassment defendants are prosecuted and convicted under each section "
    "of the Protection from Harassment Act 1997, how are they sentenced, and how often do the courts "
    "make restraining orders?",
)

years = queries.court_years(version)
if not years:
    stop_with(
        "The published warehouse has no court figures. Run `make run` (or `hsinsight run`) with the "
        "Ministry of Justice Outcomes by Offence files."
    )
year_ends = [dt.date(y, 12, 31) for y in years]
picker, when = st.columns(2, vertical_alignment="top")
with picker:
    force_code = filters.force_select(
        opts,
        label="Police force area where the court sits",
        help="Court figures are placed in the police force area where the court sits. Kept in the page address.",
    )
with when:
    year_end = filters.period_select(
        year_ends,
        label="Calendar year",
        format_label=lambda d: str(d.year),
        resolve=filters.latest_year_ended_by(12, 31),
        unit="calendar-year figures",
    )
year = year_end.year
courts = queries.court_outcomes(version, force_code)
orders = queries.restraining_orders(version, force_code)
sections = queries.court_sections(version).set_index("offence_section")
if force_code and force_code not in set(courts["area_code"]):
    st.info(
        f"{opts.forces[force_code]} has no court figures (courts sit in police force areas, and British "
        "Transport Police has none): showing England and Wales."
    )
    force_code = None
    courts = courts[courts["area_code"] == NATIONAL_CODE]
    orders = orders[orders["area_code"] == NATIONAL_CODE]
area_code = force_code or NATIONAL_CODE
area_name = opts.forces[force_code] if force_code else NATIONAL_NAME
order = {s: i for i, s in enumerate(SECTION_ORDER)}
courts = courts.assign(
    section=courts["offence_section"].map(SECTION_SHORT).fillna(courts["offence_section"]),
    _order=courts["offence_section"].map(order),
).sort_values(["_order", "calendar_year"])
here = courts[courts["area_code"] == area_code]
this_year = here[here["calendar_year"] == year]
national_year = courts[(courts["area_code"] == NATIONAL_CODE) & (courts["calendar_year"] == year)]

# ---- prosecutions and convictions by section

by_section = (
    this_year[
        [
            "area_code",
            "area_name",
            "calendar_year",
            "offence_section",
            "section",
            "prosecuted",
            "convicted",
            "conviction_ratio",
        ]
    ]
    .merge(
        national_year[["offence_section", "conviction_ratio"]].rename(
            columns={"conviction_ratio": "conviction_ratio_england_and_wales"}
        ),
        on="offence_section",
        how="left",
    )
    .reset_index(drop=True)
)
figure = go.Figure()
for column, name, colour in (
    ("prosecuted", "Prosecuted", charts.OKABE_ITO["blue"]),
    ("convicted", "Convicted", charts.OKABE_ITO["orange"]),
):
    figure.add_trace(
        go.Bar(
            x=by_section["section"],
            y=by_section[column].astype("float64"),
            name=name,
            marker={"color": colour},
            customdata=by_section[["conviction_ratio"]],
            hovertemplate=f"%{{x}}<br>{name}: %{{y:,.0f}}<br>Conviction ratio %{{customdata[0]:.0%}}<extra></extra>",
        )
    )
figure.update_yaxes(title="Defendants", tickformat=",d", rangemode="tozero")
figure.update_layout(barmode="group")
charts.style(figure, height=400)
biggest = by_section.sort_values("prosecuted", ascending=False).head(1)
charts.chart(
    "court-sections",
    "Defendants prosecuted and convicted, by section of the Act",
    figure,
    by_section,
    description=(
        f"Grouped bar chart of defendants prosecuted and convicted in {year} in {area_name} for each section of the "
        "Protection from Harassment Act 1997"
        + (
            f"; the most prosecuted was {biggest['section'].iloc[0]} ({formatting.fmt_count(biggest['prosecuted'].iloc[0])} "
            f"prosecuted, {formatting.fmt_count(biggest['convicted'].iloc[0])} convicted, a conviction ratio of "
            f"{formatting.fmt_share(biggest['conviction_ratio'].iloc[0])})."
            if len(biggest)
            else ": no figures."
        )
    ),
    file_name=f"hsinsight_court_outcomes_{area_code.lower()}_{year}",
    column_config={
        "area_code": "Area code",
        "area_name": "Area",
        "calendar_year": st.column_config.NumberColumn("Year", format="%d"),
        "offence_section": "Section key",
        "section": "Section",
        "prosecuted": st.column_config.NumberColumn("Prosecuted", format="localized"),
        "convicted": st.column_config.NumberColumn("Convicted", format="localized"),
        "conviction_ratio": st.column_config.NumberColumn("Conviction ratio", format="percent"),
        "conviction_ratio_england_and_wales": st.column_config.NumberColumn(
            "England and Wales conviction ratio", format="percent"
        ),
    },
    caveats=("moj", "conviction_ratio"),
    subtitle=f"{area_name}, {year}",
)
with st.expander("What each section is"):
    st.markdown(
        "\n".join(
            f"- **{SECTION_SHORT.get(s, s)}**: {sections.at[s, 'note']}"
            for s in SECTION_ORDER
            if s in sections.index and isinstance(sections.at[s, "note"], str)
        )
    )

# ---- conviction ratio over time

ratio_table = here[
    [
        "area_code",
        "area_name",
        "calendar_year",
        "offence_section",
        "section",
        "prosecuted",
        "convicted",
        "conviction_ratio",
    ]
].reset_index(drop=True)
figure = go.Figure()
for colour, (section, part) in zip(
    charts.SERIES_COLOURS, ratio_table.groupby("section", sort=False), strict=False
):
    figure.add_trace(
        go.Scatter(
            x=part["calendar_year"],
            y=part["conviction_ratio"],
            mode="lines+markers",
            name=section,
            line={"color": colour, "width": 2.5},
            hovertemplate=f"%{{x}}<br>{section}: %{{y:.0%}}<extra></extra>",
        )
    )
figure.update_yaxes(tickformat=".0%", rangemode="tozero", title="Convicted per defendant prosecuted")
figure.update_xaxes(dtick=1, title="Calendar year")
charts.style(figure, height=420)
charts.chart(
    "conviction-ratio-trend",
    "Conviction ratio over time, by section of the Act",
    figure,
    ratio_table,
    description=(
        f"Line chart of the conviction ratio (defendants convicted over defendants prosecuted) in {area_name} for "
        f"each section of the Act, each calendar year from {ratio_table['calendar_year'].min()} to "
        f"{ratio_table['calendar_year'].max()}."
        if len(ratio_table)
        else f"No court figures for {area_name}."
    ),
    file_name=f"hsinsight_conviction_ratio_{area_code.lower()}",
    column_config={
        "area_code": "Area code",
        "area_name": "Area",
        "calendar_year": st.column_config.NumberColumn("Year", format="%d"),
        "offence_section": "Section key",
        "section": "Section",
        "prosecuted": st.column_config.NumberColumn("Prosecuted", format="localized"),
        "convicted": st.column_config.NumberColumn("Convicted", format="localized"),
        "conviction_ratio": st.column_config.NumberColumn("Conviction ratio", format="percent"),
    },
    caveats=("conviction_ratio", "moj"),
    subtitle=area_name,
)

# ---- sentences

sentences = this_year.melt(
    id_vars=["area_code", "area_name", "calendar_year", "offence_section", "section", "sentenced"],
    value_vars=list(DISPOSALS),
    var_name="disposal",
    value_name="defendants",
).assign(
    disposal_name=lambda f: f["disposal"].map(DISPOSALS),
    _order=lambda f: f["offence_section"].map(order),
    _disposal=lambda f: f["disposal"].map({d: i for i, d in enumerate(DISPOSALS)}),
)
sentences = (
    sentences.assign(
        share_of_sentenced=sentences["defendants"] / sentences["sentenced"].where(sentences["sentenced"] > 0)
    )
    .sort_values(["_order", "_disposal"])
    .drop(columns=["_order", "_disposal"])[
        [
            "area_code",
            "area_name",
            "calendar_year",
            "offence_section",
            "section",
            "disposal",
            "disposal_name",
            "defendants",
            "sentenced",
            "share_of_sentenced",
        ]
    ]
    .reset_index(drop=True)
)
figure = go.Figure()
for colour, (disposal, name) in zip(charts.SERIES_COLOURS, DISPOSALS.items(), strict=False):
    part = sentences[sentences["disposal"] == disposal]
    figure.add_trace(
        go.Bar(
            y=part["section"],
            x=part["share_of_sentenced"],
            orientation="h",
            name=name,
            marker={"color": colour},
            customdata=part[["defendants", "sentenced"]],
            hovertemplate=f"%{{y}}<br>{name}: %{{x:.0%}} (%{{customdata[0]:,}} of %{{customdata[1]:,}})<extra></extra>",
        )
    )
figure.update_layout(barmode="stack")
figure.update_xaxes(tickformat=".0%", range=[0, 1], title="Share of defendants sentenced")
figure.update_yaxes(autorange="reversed", automargin=True)
charts.style(figure, height=380)
custody = sentences[sentences["disposal"] == "immediate_custody"]
stalking_custody = custody[custody["offence_section"].str.startswith("s4A")]
charts.chart(
    "sentences",
    "Sentences, by section of the Act",
    figure,
    sentences,
    description=(
        f"Stacked bar chart of how defendants sentenced in {year} in {area_name} were sentenced, for each section of "
        "the Act, as shares of those sentenced"
        + (
            "; immediate custody: "
            + ", ".join(
                f"{r.section} {formatting.fmt_share(r.share_of_sentenced)}"
                for r in stalking_custody.itertuples()
            )
            + "."
            if len(stalking_custody)
            else "."
        )
    ),
    file_name=f"hsinsight_sentences_{area_code.lower()}_{year}",
    column_config={
        "area_code": "Area code",
        "area_name": "Area",
        "calendar_year": st.column_config.NumberColumn("Year", format="%d"),
        "offence_section": "Section key",
        "section": "Section",
        "disposal": "Sentence key",
        "disposal_name": "Sentence",
        "defendants": st.column_config.NumberColumn("Defendants", format="localized"),
        "sentenced": st.column_config.NumberColumn("All sentenced", format="localized"),
        "share_of_sentenced": st.column_config.NumberColumn("Share", format="percent"),
    },
    caveats=("moj",),
    subtitle=f"{area_name}, {year}",
)

# ---- restraining orders

orders_table = (
    orders[orders["area_code"] == area_code]
    .assign(_all=lambda f: f["offence_scope"] != "all_offences")
    .sort_values(["_all", "offence_scope", "calendar_year"])
    .drop(columns="_all")
    .reset_index(drop=True)
)
scopes = list(dict.fromkeys(orders_table["offence_scope"]))
figure = go.Figure()
for scope in scopes:
    part = orders_table[orders_table["offence_scope"] == scope]
    scope_name = "all offences" if scope == "all_offences" else SECTION_SHORT.get(scope, scope)
    for column, name, colour, dash in (
        ("orders_on_conviction", "On conviction", charts.OKABE_ITO["blue"], "solid"),
        ("orders_on_acquittal", "On acquittal", charts.OKABE_ITO["vermillion"], "dash"),
    ):
        figure.add_trace(
            go.Scatter(
                x=part["calendar_year"],
                y=part[column].astype("float64"),
                mode="lines+markers",
                name=f"{name} ({scope_name})" if len(scopes) > 1 else name,
                line={"color": colour, "width": 2.5, "dash": dash},
                hovertemplate=f"%{{x}}<br>{name}, {scope_name}: %{{y:,.0f}}<extra></extra>",
            )
        )
figure.update_yaxes(title="Restraining orders", tickformat=",d", rangemode="tozero")
figure.update_xaxes(dtick=1, title="Calendar year")
charts.style(figure, height=380)
latest_orders = orders_table[
    (orders_table["offence_scope"] == "all_offences") & (orders_table["calendar_year"] == year)
]
charts.chart(
    "restraining-orders",
    "Restraining orders on conviction and on acquittal",
    figure,
    orders_table,
    description=(
        f"Line chart of restraining orders made in {area_name} each calendar year, on conviction and on acquittal"
        + (
            f"; in {year}, {formatting.fmt_count(latest_orders['orders_on_conviction'].iloc[0])} on conviction and "
            f"{formatting.fmt_count(latest_orders['orders_on_acquittal'].iloc[0])} on acquittal, for all offences."
            if len(latest_orders)
            else "."
        )
    ),
    file_name=f"hsinsight_restraining_orders_{area_code.lower()}",
    column_config={
        "area_code": "Area code",
        "area_name": "Area",
        "calendar_year": st.column_config.NumberColumn("Year", format="%d"),
        "offence_scope": "Offences",
        "orders_on_conviction": st.column_config.NumberColumn("On conviction", format="localized"),
        "orders_on_acquittal": st.column_config.NumberColumn("On acquittal", format="localized"),
    },
    caveats=("restraining_orders", "moj"),
    subtitle=area_name,
)
if not len(pd.unique(orders_table["offence_scope"])):
    st.caption(f"No restraining order figures for {area_name}.")
