"""Force comparison: how many harassment crimes each force records for every stalking
crime (the inspection's Figure 3) and its rate per 1,000 residents, ranked, against
England and Wales and its peer group, outliers highlighted; a map of the rate;
and funnel plots saying how sure each force's difference from England and Wales is.

Which flag the page uses: the funnel plot's (marts.funnel_limits), at the 99.8% limits
widened for over-dispersion where forces differ by more than chance. It allows for
how many crimes a figure rests on, so a small force is not singled out by chance. The
robust z-score outlier (marts.recording_practice) stays in the ratio's table: it
describes how unusual a force's recording is among forces, whatever its size."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from hsinsight.dashboard import filters, formatting
from hsinsight.dashboard.charts import funnel as charts_funnel
from hsinsight.dashboard.charts import map as charts_map
from hsinsight.dashboard.charts import shared as charts
from hsinsight.dashboard.frame import page_header, stop_with, warehouse_or_stop
from hsinsight.dashboard.queries import force_comparison as queries
from hsinsight.dashboard.queries import shared
from hsinsight.names import NATIONAL_NAME

version = warehouse_or_stop()
opts = filters.options(version)

page_header(
    "Force comparison",
    "How does each force's recording of stalking and harassment compare with England and Wales "
    "and with forces like it?",
)

ratio_periods = queries.ratio_periods(version)
if not ratio_periods:
    stop_with(
        "The published warehouse has no harassment-to-stalking ratios (no 12 months with both "
        "offences recorded). Run `make run` (or `hsinsight run`) with the recorded crime files."
    )

picker, offence_picker, when = st.columns(3, vertical_alignment="top")
with picker:
    force_code = filters.force_select(opts, label="Force to highlight")
with offence_picker:
    offence = filters.offence_select(list(filters.OFFENCE_LABELS), label="Offence for the rate per 1,000")
with when:
    period = filters.period_select(ratio_periods)
label = formatting.period_label(period)
st.caption(
    "Hover over an area, a bar or a point for its figures; the Table tab lists them all. Error bars are "
    "each force's 95% interval: how sure its figure is, given how many crimes it rests on."
)
offence_name = formatting.offence_label(offence).lower()
rate_funnel = shared.funnel(version, period, "rate_per_1000", offence)
share_funnel = shared.funnel(version, period, "stalking_share", "stalking")

# ---- the map of the rate per 1,000

charts_map.render_map(
    "force-map",
    "Recorded offences per 1,000 residents, by police force area",
    rate_funnel[rate_funnel["area_code"] != charts_map.BTP_CODE],
    btp=rate_funnel[rate_funnel["area_code"] == charts_map.BTP_CODE],
    highlight=force_code,
    value_name="Per 1,000 residents",
    value_format=",.2f",
    what=f"recorded {offence_name} per 1,000 residents",
    label=label,
    file_name=f"hsinsight_map_rate_per_1000_{offence}_{period:%Y%m%d}",
    subtitle=f"{formatting.offence_label(offence)}, {label}",
)

# ---- the ratio, ranked

practice = queries.recording_practice(version, period)
national = practice[practice["area_type"] == "national"]
national_ratio = float(national["harassment_to_stalking_ratio"].iloc[0]) if len(national) else None
forces = practice[practice["area_type"] == "force"].reset_index(drop=True)
ratio_table = (
    forces.dropna(subset=["harassment_to_stalking_ratio"])
    .sort_values("harassment_to_stalking_ratio", ascending=False)
    .assign(period_end=lambda f: f["period_end"].dt.date)[
        [
            "area_code",
            "area_name",
            "peer_group_name",
            "period_end",
            "harassment_offences",
            "stalking_offences",
            "harassment_to_stalking_ratio",
            "peer_group_ratio",
            "national_ratio",
            "robust_z_score",
            "outlier_flag",
            "outlier_direction",
        ]
    ]
    .reset_index(drop=True)
)
# Each force's 95% interval on the ratio, from the interval on its stalking share s
# (ratio = (1 - s) / s, which falls as s rises), and the funnel plot's flag.
share_adjusted = charts_funnel.uses_adjusted(share_funnel)
shares = share_funnel.set_index("area_code")
share_upper = ratio_table["area_code"].map(shares["ci_upper_95"])
share_lower = ratio_table["area_code"].map(shares["ci_lower_95"])
ratio_table["ratio_ci_lower_95"] = (1 - share_upper) / share_upper
ratio_table["ratio_ci_upper_95"] = ((1 - share_lower) / share_lower.where(share_lower > 0)).replace(
    np.inf, np.nan
)
ratio_table["against_limits"] = (
    ratio_table["area_code"]
    .map(shares["flag_adjusted" if share_adjusted else "flag"])
    .map(charts_funnel.FLAG_LABELS)
    .fillna(charts_funnel.NO_FLAG)
)
outliers = ratio_table[ratio_table["outlier_flag"].fillna(False).astype(bool)]
top, bottom = ratio_table.iloc[0], ratio_table.iloc[-1]
description = (
    f"Horizontal bar chart ranking {len(ratio_table)} forces by harassment crimes recorded for every "
    f"stalking crime in the {label}: highest {top.area_name} ({top.harassment_to_stalking_ratio:.1f}), "
    f"lowest {bottom.area_name} ({bottom.harassment_to_stalking_ratio:.1f}); England and Wales "
    f"{formatting.fmt_number(national_ratio)} (dashed line). Diamonds mark each force's peer group. "
    + (
        "Outliers: "
        + ", ".join(f"{r.area_name} ({r.outlier_direction})" for r in outliers.itertuples())
        + "."
        if len(outliers)
        else "No force is an outlier."
    )
)
figure = charts.ranked_bars(
    ratio_table,
    value="harassment_to_stalking_ratio",
    label="area_name",
    value_name="Harassment crimes per stalking crime",
    highlight=force_code,
    reference=national_ratio,
    reference_name="England and Wales",
    group_value="peer_group_ratio",
    flag="outlier_direction",
    flag_names={"high": "Outlier: high", "low": "Outlier: low"},
)
charts_funnel.add_intervals(
    figure,
    ratio_table,
    value="harassment_to_stalking_ratio",
    lower="ratio_ci_lower_95",
    upper="ratio_ci_upper_95",
)
charts.chart(
    "ratio-ranked",
    "Harassment crimes recorded for every stalking crime, by force",
    figure,
    ratio_table,
    description=description,
    file_name=f"hsinsight_harassment_to_stalking_ratio_{period:%Y%m%d}",
    column_config={
        "area_code": "Area code",
        "area_name": "Force",
        "peer_group_name": "Peer group",
        "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
        "harassment_offences": st.column_config.NumberColumn("Harassment", format="localized"),
        "stalking_offences": st.column_config.NumberColumn("Stalking", format="localized"),
        "harassment_to_stalking_ratio": st.column_config.NumberColumn("Ratio", format="%.1f"),
        "peer_group_ratio": st.column_config.NumberColumn("Group's ratio", format="%.1f"),
        "national_ratio": st.column_config.NumberColumn("England and Wales", format="%.1f"),
        "robust_z_score": st.column_config.NumberColumn("Robust z-score", format="%.2f"),
        "outlier_flag": "Outlier",
        "outlier_direction": "Direction",
        "ratio_ci_lower_95": st.column_config.NumberColumn("95% interval from", format="%.1f"),
        "ratio_ci_upper_95": st.column_config.NumberColumn("95% interval to", format="%.1f"),
        "against_limits": "Funnel plot flag",
    },
    caveats=("ratio", "outliers", "peer_groups", "stalking_2020"),
    subtitle=label,
)
charts_funnel.render_funnel(
    "ratio-funnel",
    "Is a force's recording of stalking really different? Stalking's share of stalking and harassment",
    share_funnel,
    highlight=force_code,
    highlight_name=opts.forces.get(force_code) if force_code else None,
    what="stalking crimes as a share of stalking and harassment crimes",
    label=label,
    value_name="Stalking share",
    volume_name="Stalking and harassment crimes recorded",
    count_name="Stalking crimes",
    value_format=".1%",
    file_name=f"hsinsight_funnel_stalking_share_{period:%Y%m%d}",
    caveats=("ratio", "stalking_2020"),
    subtitle=f"{label}: a low share is a high harassment-to-stalking ratio (ratio = (1 - share) / share)",
)
missing = forces[forces["harassment_to_stalking_ratio"].isna()]
if len(missing):
    st.caption(
        "No ratio (a 12-month total missing, or no stalking recorded): "
        + ", ".join(missing["area_name"].astype(str))
        + "."
    )

# ---- the rate per 1,000, ranked

rates = queries.force_rates(version, period, offence)
rate_table = (
    rates.dropna(subset=["rate_per_1000"])
    .sort_values("rate_per_1000", ascending=False)
    .assign(offence_group=offence, period_end=period)[
        [
            "area_code",
            "area_name",
            "peer_group_name",
            "offence_group",
            "period_end",
            "offences",
            "population",
            "rate_per_1000",
            "peer_group_rate_per_1000",
            "national_rate_per_1000",
        ]
    ]
    .reset_index(drop=True)
)
rate_intervals = rate_funnel.set_index("area_code")
rate_table["ci_lower_95"] = rate_table["area_code"].map(rate_intervals["ci_lower_95"])
rate_table["ci_upper_95"] = rate_table["area_code"].map(rate_intervals["ci_upper_95"])
if rate_table.empty:
    st.info(f"No force has a rate per 1,000 for {offence_name} in the {label}.")
else:
    national_rate = rate_table["national_rate_per_1000"].iloc[0]
    high, low = rate_table.iloc[0], rate_table.iloc[-1]
    charts.chart(
        "rate-ranked",
        "Recorded offences per 1,000 residents, by force",
        charts_funnel.add_intervals(
            charts.ranked_bars(
                rate_table,
                value="rate_per_1000",
                label="area_name",
                value_name="Recorded offences per 1,000 residents",
                highlight=force_code,
                reference=national_rate,
                reference_name="England and Wales",
                group_value="peer_group_rate_per_1000",
                tickformat=",.2f",
            ),
            rate_table,
            value="rate_per_1000",
        ),
        rate_table,
        description=(
            f"Horizontal bar chart ranking {len(rate_table)} forces by recorded {offence_name} per 1,000 "
            f"residents in the {label}: highest {high.area_name} ({high.rate_per_1000:.2f}), lowest "
            f"{low.area_name} ({low.rate_per_1000:.2f}); England and Wales {formatting.fmt_number(national_rate, 2)} "
            "(dashed line). Diamonds mark each force's peer group."
        ),
        file_name=f"hsinsight_rate_per_1000_{offence}_{period:%Y%m%d}",
        column_config={
            "area_code": "Area code",
            "area_name": "Force",
            "peer_group_name": "Peer group",
            "offence_group": "Offence group",
            "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
            "offences": st.column_config.NumberColumn("Recorded offences", format="localized"),
            "population": st.column_config.NumberColumn("Residents", format="localized"),
            "rate_per_1000": st.column_config.NumberColumn("Per 1,000", format="%.2f"),
            "peer_group_rate_per_1000": st.column_config.NumberColumn("Group per 1,000", format="%.2f"),
            "national_rate_per_1000": st.column_config.NumberColumn(
                "England and Wales per 1,000", format="%.2f"
            ),
            "ci_lower_95": st.column_config.NumberColumn("95% interval from", format="%.2f"),
            "ci_upper_95": st.column_config.NumberColumn("95% interval to", format="%.2f"),
        },
        caveats=("recorded_crime", "btp_rate", "peer_groups"),
        subtitle=f"{formatting.offence_label(offence)}, {label}",
    )
    charts_funnel.render_funnel(
        "rate-funnel",
        "Is a force's rate really different? Rate per 1,000 residents against residents",
        rate_funnel,
        highlight=force_code,
        highlight_name=opts.forces.get(force_code) if force_code else None,
        what=f"recorded {offence_name} per 1,000 residents",
        label=label,
        value_name="Per 1,000 residents",
        volume_name="Residents",
        count_name="Recorded offences",
        value_format=",.2f",
        file_name=f"hsinsight_funnel_rate_per_1000_{offence}_{period:%Y%m%d}",
        caveats=("recorded_crime", "btp_rate"),
        subtitle=f"{formatting.offence_label(offence)}, {label}",
    )

# ---- one force's ratio over time

if force_code:
    trend = queries.ratio_trend(version, force_code)
    name = opts.forces[force_code]
    if trend.empty:
        st.info(f"{name} has no harassment-to-stalking ratio in any 12 months.")
    else:
        figure = go.Figure()
        lines = (
            ("harassment_to_stalking_ratio", name, charts.AREA_COLOURS["area"], "solid"),
            ("national_ratio", NATIONAL_NAME, charts.AREA_COLOURS["national"], "dash"),
            ("peer_group_ratio", "Its peer group", charts.AREA_COLOURS["group"], "dot"),
        )
        for column, line_name, colour, dash in lines:
            figure.add_trace(
                go.Scatter(
                    x=trend["period_end"],
                    y=trend[column],
                    mode="lines",
                    name=line_name,
                    line={"color": colour, "width": 2.5, "dash": dash},
                    hovertemplate=f"12 months to %{{x|%d %b %Y}}<br>%{{y:.1f}}<extra>{line_name}</extra>",
                )
            )
        figure.update_yaxes(title="Harassment crimes per stalking crime", rangemode="tozero")
        figure.update_xaxes(range=charts.time_range(trend["period_end"]))
        charts.add_breaks(figure)
        charts.style(figure, height=380)
        trend_table = trend.assign(period_end=trend["period_end"].dt.date)
        latest = trend.iloc[-1]
        charts.chart(
            "ratio-trend",
            "The chosen force's ratio over time",
            figure,
            trend_table,
            description=(
                f"Line chart of {name}'s harassment-to-stalking ratio for each 12 months from "
                f"{trend['period_end'].min():%B %Y} to {trend['period_end'].max():%B %Y} (solid), with England "
                f"and Wales's (dashed) and its peer group's (dotted). Latest: {name} "
                f"{latest.harassment_to_stalking_ratio:.1f}, England and Wales {latest.national_ratio:.1f}."
            ),
            file_name=f"hsinsight_ratio_trend_{force_code.lower()}",
            column_config={
                "area_code": "Area code",
                "area_name": "Force",
                "period_end": st.column_config.DateColumn("12 months to", format="D MMM YYYY"),
                "peer_group_name": "Peer group",
                "harassment_to_stalking_ratio": st.column_config.NumberColumn("Ratio", format="%.1f"),
                "national_ratio": st.column_config.NumberColumn("England and Wales", format="%.1f"),
                "peer_group_ratio": st.column_config.NumberColumn("Group's ratio", format="%.1f"),
                "outlier_flag": "Outlier",
            },
            caveats=("series_breaks", "ratio"),
            subtitle=f"{name} against England and Wales and its peer group",
        )
else:
    st.caption("Choose a force to see its ratio over time beside England and Wales and its peer group.")
