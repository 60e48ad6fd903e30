"""Outcomes: what happened to the crimes the police closed (the inspection's Table 1),
by force and offence, against England and Wales and the force's peer group,
and over time; each force's share with its 95% interval, and a funnel plot saying how
sure its difference from England and Wales is (marts.funnel_limits)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from hsinsight.dashboard import filters, formatting
from hsinsight.dashboard.charts import funnel as charts_funnel
from hsinsight.dashboard.charts import shared as charts
from hsinsight.dashboard.frame import page_header, series_breaks_note, stop_with, warehouse_or_stop
from hsinsight.dashboard.queries import outcomes as queries
from hsinsight.dashboard.queries import shared
from hsinsight.names import NATIONAL_CODE

#: The two shares the inspection headlined, and the no-suspect share beside them.
HEADLINE = {
    "charged_summonsed": "Charged or summonsed",
    "evidential_difficulties_victim_does_not_support": "Victim does not support action",
    "no_suspect_identified": "No suspect identified",
}
#: Short names for the Home Office outcome groups, for chart labels.
OUTCOME_SHORT = {
    "charged_summonsed": "Charged or summonsed",
    "evidential_difficulties_victim_does_not_support": "Victim does not support action",
    "evidential_difficulties_victim_supports": "Evidential difficulties, victim supports",
    "no_suspect_identified": "No suspect identified",
    "out_of_court_formal": "Out of court (formal)",
    "out_of_court_informal": "Out of court (informal)",
    "prosecution_prevented_or_not_in_public_interest": "Prosecution prevented or not in public interest",
    "further_investigation_not_in_public_interest": "Further investigation not in public interest",
    "transferred_to_another_body": "Transferred to another body",
    "taken_into_consideration": "Taken into consideration",
    "diversionary_activity": "Diversionary activity",
    "nfib_filed": "Filed by the National Fraud Intelligence Bureau",
}
SHARE_COLUMNS = {
    "charged_summonsed_share": "Charged or summonsed",
    "victim_does_not_support_share": "Victim does not support action",
}

version = warehouse_or_stop()
opts = filters.options(version)

page_header(
    "Outcomes",
    "What happens to recorded stalking and harassment: how often is a suspect charged, and how "
    "often does the investigation end because the victim does not support action?",
)

picker, offence_picker, when = st.columns(3, vertical_alignment="top")
with picker:
    force_code = filters.force_select(opts, label="Police force area to compare")
with offence_picker:
    offence = filters.offence_select(list(filters.OFFENCE_LABELS))
outcome_periods = queries.outcome_periods(version, offence)
if not outcome_periods:
    stop_with(
        f"The published warehouse has no England and Wales outcomes for {formatting.offence_label(offence).lower()}. "
        "Run `make run` (or `hsinsight run`) with the crime outcomes files."
    )
with when:
    period = filters.period_select(outcome_periods)
label = formatting.period_label(period)
offence_name = formatting.offence_label(offence)
force_name = opts.forces.get(force_code, "") if force_code else ""

# ---- the outcome mix: England and Wales, the force, its group

mix = queries.outcome_mix(version, period, offence, force_code)
mix["outcome"] = mix["outcome_group"].map(OUTCOME_SHORT).fillna(mix["outcome_group_name"])
areas = list(dict.fromkeys(mix["area_name"]))
if force_code and force_name not in areas:
    st.info(
        f"{force_name} has no {offence_name.lower()} outcomes for the {label}: showing England and Wales only."
    )
order = mix[mix["area_code"] == NATIONAL_CODE].sort_values("share", ascending=True)["outcome"].tolist()
mix_table = mix.assign(offence_group=offence, period_end=period)[
    [
        "area_code",
        "area_name",
        "offence_group",
        "period_end",
        "outcome_group",
        "outcome_group_name",
        "outcome",
        "outcomes",
        "assigned_outcomes",
        "share",
    ]
]
colours = [
    charts.AREA_COLOURS["national"],
    charts.AREA_COLOURS["area"],
    charts.AREA_COLOURS["group"],
]
figure = go.Figure()
# Horizontal grouped bars stack the first trace at the bottom: add them last to first
# (and list the legend the other way) so each group reads England and Wales first.
for colour, area in reversed(list(zip(colours, areas, strict=False))):
    part = mix_table[mix_table["area_name"] == area]
    figure.add_trace(
        go.Bar(
            x=part["share"],
            y=part["outcome"],
            orientation="h",
            name=area,
            marker={"color": colour},
            customdata=part[["outcomes", "assigned_outcomes"]],
            hovertemplate=(
                "%{y}<br>%{x:.1%} (%{customdata[0]:,} of %{customdata[1]:,} outcomes)"
                f"<extra>{area}</extra>"
            ),
        )
    )
figure.update_yaxes(categoryorder="array", categoryarray=order, automargin=True)
figure.update_xaxes(tickformat=".0%", title="Share of outcomes assigned in the 12 months", rangemode="tozero")
figure.update_layout(barmode="group", bargap=0.2, bargroupgap=0.05, legend_traceorder="reversed")
charts.style(figure, height=140 + len(order) * (14 * len(areas) + 12))


def share_of(area_code: str, group: str) -> str:
    rows = mix_table[(mix_table["area_code"] == area_code) & (mix_table["outcome_group"] == group)]
    return formatting.fmt_share(rows["share"].iloc[0] if len(rows) else None)


description = (
    f"Grouped bar chart of the share of {offence_name.lower()} outcomes in each outcome group, {label}, for "
    + ", ".join(areas)
    + f". England and Wales: {share_of(NATIONAL_CODE, 'charged_summonsed')} charged or summonsed, "
    f"{share_of(NATIONAL_CODE, 'evidential_difficulties_victim_does_not_support')} closed because the "
    "victim did not support action"
    + (
        f"; {force_name}: {share_of(force_code, 'charged_summonsed')} and "
        f"{share_of(force_code, 'evidential_difficulties_victim_does_not_support')}."
        if force_code and force_name in areas
        else "."
    )
)
charts.chart(
    "outcome-mix",
    "Outcome mix",
    figure,
    mix_table,
    description=description,
    file_name=f"hsinsight_outcome_mix_{offence}_{(force_code or 'england_and_wales').lower()}_{period:%Y%m%d}",
    column_config={
        "area_code": "Area code",
        "area_name": "Area",
        "offence_group": "Offence group",
        "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
        "outcome_group": "Outcome group key",
        "outcome_group_name": "Outcome group",
        "outcome": "Outcome (short)",
        "outcomes": st.column_config.NumberColumn("Outcomes", format="localized"),
        "assigned_outcomes": st.column_config.NumberColumn("All outcomes assigned", format="localized"),
        "share": st.column_config.NumberColumn("Share", format="percent"),
    },
    caveats=("outcomes_closed", "expired_codes", "peer_groups"),
    subtitle=f"{offence_name}, {label}",
)

# ---- every force's charge rate and victim-does-not-support share

by_force = queries.outcome_forces(version, period, offence)
shares_funnel = shared.funnel(version, period, "outcome_share", offence)
national_row = by_force[by_force["area_type"] == "national"]
forces_table = (
    by_force[by_force["area_type"] == "force"]
    .dropna(subset=["charged_summonsed_share"])
    .sort_values("charged_summonsed_share", ascending=False)
    .assign(offence_group=offence, period_end=period)[
        [
            "area_code",
            "area_name",
            "offence_group",
            "period_end",
            "assigned_outcomes",
            "charged_summonsed_share",
            "victim_does_not_support_share",
            "no_suspect_share",
        ]
    ]
    .reset_index(drop=True)
)
# Each force's 95% interval (Wilson) on the two shares the chart draws.
SHARE_GROUPS = {
    "charged_summonsed_share": "charged_summonsed",
    "victim_does_not_support_share": "evidential_difficulties_victim_does_not_support",
}
for column, group in SHARE_GROUPS.items():
    intervals = shares_funnel[shares_funnel["category"] == group].set_index("area_code")
    forces_table[f"{column}_ci_lower_95"] = forces_table["area_code"].map(intervals["ci_lower_95"])
    forces_table[f"{column}_ci_upper_95"] = forces_table["area_code"].map(intervals["ci_upper_95"])
if not forces_table.empty:
    ranked = forces_table.sort_values("charged_summonsed_share", ascending=True)
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=list(SHARE_COLUMNS.values()))
    for col, (column, name) in enumerate(SHARE_COLUMNS.items(), start=1):
        chosen = ranked["area_code"] == force_code
        for mask, colour, trace_name in (
            (~chosen, charts.NEUTRAL, "Other forces"),
            (chosen, charts.OKABE_ITO["orange"], "Chosen force"),
        ):
            part = ranked[mask]
            if part.empty:
                continue
            figure.add_trace(
                go.Bar(
                    x=part[column],
                    y=part["area_name"],
                    orientation="h",
                    name=trace_name,
                    legendgroup=trace_name,
                    showlegend=col == 1,
                    marker={"color": colour},
                    hovertemplate=f"%{{y}}<br>{name}: %{{x:.1%}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        if len(national_row):
            reference = float(national_row[column].iloc[0])
            figure.add_vline(
                x=reference,
                line={"color": charts.OKABE_ITO["black"], "width": 2, "dash": "dash"},
                annotation={"text": f"England and Wales: {reference:.0%}", "font": {"size": 12}},
                annotation_position="bottom right",
                row=1,
                col=col,
            )
        top_share = float(ranked[column].max()) if ranked[column].notna().any() else 1.0
        figure.update_xaxes(tickformat=".0%", range=[0, min(1.0, top_share * 1.25) or 1.0], row=1, col=col)
    for col, column in enumerate(SHARE_COLUMNS, start=1):
        charts_funnel.add_intervals(
            figure,
            forces_table,
            value=column,
            lower=f"{column}_ci_lower_95",
            upper=f"{column}_ci_upper_95",
            xaxis="x" if col == 1 else f"x{col}",
        )
    figure.update_yaxes(categoryorder="array", categoryarray=list(ranked["area_name"]), automargin=True)
    figure.update_layout(barmode="overlay")
    charts.style(figure, height=max(320, 19 * len(ranked) + 140), legend_below=True)
    top, bottom = forces_table.iloc[0], forces_table.iloc[-1]
    charts.chart(
        "outcome-forces",
        "Charge or summons rate and victim-does-not-support share, by force",
        figure,
        forces_table,
        description=(
            f"Two bar charts of the {len(forces_table)} forces ranked by the share of {offence_name.lower()} outcomes "
            f"that were a charge or summons ({label}): highest {top.area_name} ({top.charged_summonsed_share:.0%}), "
            f"lowest {bottom.area_name} ({bottom.charged_summonsed_share:.0%}); beside it each force's share closed "
            "because the victim did not support action. Dashed lines mark England and Wales."
        ),
        file_name=f"hsinsight_outcome_shares_by_force_{offence}_{period:%Y%m%d}",
        column_config={
            "area_code": "Area code",
            "area_name": "Force",
            "offence_group": "Offence group",
            "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
            "assigned_outcomes": st.column_config.NumberColumn("Outcomes assigned", format="localized"),
            "charged_summonsed_share": st.column_config.NumberColumn(
                "Charged or summonsed", format="percent"
            ),
            "victim_does_not_support_share": st.column_config.NumberColumn(
                "Victim does not support action", format="percent"
            ),
            "no_suspect_share": st.column_config.NumberColumn("No suspect identified", format="percent"),
            **{
                f"{column}_ci_{end}_95": st.column_config.NumberColumn(
                    f"{name}: 95% interval {'from' if end == 'lower' else 'to'}", format="percent"
                )
                for column, name in SHARE_COLUMNS.items()
                for end in ("lower", "upper")
            },
        },
        caveats=("outcomes_closed", "expired_codes"),
        subtitle=f"{offence_name}, {label}",
    )

# ---- how sure: the funnel plot of one outcome share

funnel_group = st.radio(
    "Outcome for the funnel plot",
    list(HEADLINE),
    format_func=HEADLINE.get,
    horizontal=True,
    key="funnel-outcome",
)
charts_funnel.render_funnel(
    "outcome-funnel",
    "Is a force's outcome share really different? Share against outcomes assigned",
    shares_funnel[shares_funnel["category"] == funnel_group],
    highlight=force_code,
    highlight_name=force_name or None,
    what=f"{offence_name.lower()} outcomes {HEADLINE[funnel_group].lower()} as a share of all assigned",
    label=label,
    value_name=f"{HEADLINE[funnel_group]} share",
    volume_name="Outcomes assigned",
    count_name=HEADLINE[funnel_group],
    value_format=".1%",
    file_name=f"hsinsight_funnel_{funnel_group}_{offence}_{period:%Y%m%d}",
    caveats=("outcomes_closed", "expired_codes"),
    subtitle=f"{offence_name}, {label}",
)

# ---- over time

trend = queries.outcome_trend(version, offence, force_code)
trend_areas = list(dict.fromkeys(trend["area_name"]))
figure = make_subplots(rows=1, cols=len(HEADLINE), shared_yaxes=True, subplot_titles=list(HEADLINE.values()))
for col, (group, group_name) in enumerate(HEADLINE.items(), start=1):
    for area, colour, dash in zip(
        trend_areas,
        (charts.AREA_COLOURS["national"], charts.AREA_COLOURS["area"]),
        ("solid", "dash"),
        strict=False,
    ):
        part = trend[(trend["outcome_group"] == group) & (trend["area_name"] == area)]
        figure.add_trace(
            go.Scatter(
                x=part["period_end"],
                y=part["share"],
                mode="lines",
                name=area,
                legendgroup=area,
                showlegend=col == 1,
                line={"color": colour, "width": 2.5, "dash": dash},
                hovertemplate=f"12 months to %{{x|%d %b %Y}}<br>{group_name}: %{{y:.1%}}<extra>{area}</extra>",
            ),
            row=1,
            col=col,
        )
    figure.update_xaxes(range=charts.time_range(trend["period_end"]), row=1, col=col)
figure.update_yaxes(tickformat=".0%", rangemode="tozero")
charts.add_breaks(figure, rows=1, cols=len(HEADLINE))
charts.style(figure, height=400, legend_below=True)
trend_table = trend.assign(offence_group=offence, period_end=trend["period_end"].dt.date)[
    [
        "area_code",
        "area_name",
        "offence_group",
        "period_end",
        "outcome_group",
        "outcome_group_name",
        "outcomes",
        "assigned_outcomes",
        "share",
    ]
]
national_trend = trend[
    (trend["area_code"] == NATIONAL_CODE) & (trend["outcome_group"] == "charged_summonsed")
]
charts.chart(
    "outcome-trend",
    "Outcome shares over time",
    figure,
    trend_table,
    description=(
        f"Line charts of the share of {offence_name.lower()} outcomes that were a charge or summons, closed because "
        "the victim did not support action, or closed with no suspect identified, for each 12 months, for "
        + " and ".join(trend_areas)
        + (
            f". England and Wales's charge or summons share went from {national_trend['share'].iloc[0]:.0%} in the 12 "
            f"months to {national_trend['period_end'].iloc[0]:%B %Y} to {national_trend['share'].iloc[-1]:.0%} in the "
            f"12 months to {national_trend['period_end'].iloc[-1]:%B %Y}."
            if len(national_trend)
            else "."
        )
    ),
    file_name=f"hsinsight_outcome_trend_{offence}_{(force_code or 'england_and_wales').lower()}",
    column_config={
        "area_code": "Area code",
        "area_name": "Area",
        "offence_group": "Offence group",
        "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
        "outcome_group": "Outcome group key",
        "outcome_group_name": "Outcome group",
        "outcomes": st.column_config.NumberColumn("Outcomes", format="localized"),
        "assigned_outcomes": st.column_config.NumberColumn("All outcomes assigned", format="localized"),
        "share": st.column_config.NumberColumn("Share", format="percent"),
    },
    caveats=("outcomes_closed", "series_breaks"),
    subtitle=offence_name
    + (f", {force_name} and England and Wales" if force_code else ", England and Wales"),
)
series_breaks_note()
