"""The themed sections of a problem profile: recorded crime, recording practice,
outcomes and the criminal justice response, each with its chart, comparison table and
caveats."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hsinsight.names import NATIONAL_NAME
from hsinsight.profiles import charts
from hsinsight.profiles.caveats import EXPIRED_CODE_FORCES, EXPIRED_CODE_YEAR, breaks_between
from hsinsight.profiles.charts import AREA_COLOURS, OKABE_ITO, Bar, Series
from hsinsight.profiles.data import CPS_COUNTS, Profile
from hsinsight.profiles.figures import format_value, is_missing
from hsinsight.profiles.page import (
    PEER,
    _caveats,
    _comparison_rows,
    _e,
    _f,
    _formatter,
    _period,
    _table,
    _theme,
    figure_cell,
)


def _three(p: Profile, key: str) -> list[Bar]:
    f = p.figures
    return [
        Bar(p.area_name, _f(f.get(key)), AREA_COLOURS["force"]),
        Bar(NATIONAL_NAME, _f(f.get(f"{key}_england_and_wales")), AREA_COLOURS["national"]),
        Bar(PEER, _f(f.get(f"{key}_peer_group")), AREA_COLOURS["group"]),
    ]


def _recorded_section(p: Profile) -> str:
    f = p.figures
    has_rates = not is_missing(f.get("stalking_rate_per_1000"))
    if has_rates:
        chart = charts.grouped_bars(
            "Recorded stalking and harassment per 1,000 residents",
            [
                ("Stalking per 1,000 residents", _three(p, "stalking_rate_per_1000")),
                ("Harassment per 1,000 residents", _three(p, "harassment_rate_per_1000")),
            ],  # fmt: skip
            _formatter("per_1000"),
            description=f"Bars of recorded stalking and harassment per 1,000 residents, {p.area_name} against "
            f"England and Wales and its peer group, {p.period_label}.",
        )
    else:
        chart = charts.grouped_bars(
            "Recorded stalking and harassment",
            [
                (
                    "Stalking",
                    [
                        Bar(p.area_name, _f(f.get("stalking_offences")), AREA_COLOURS["force"]),
                        Bar("A year earlier", _f(f.get("stalking_offences_previous")), OKABE_ITO["blue"]),
                    ],
                ),
                (
                    "Harassment",
                    [
                        Bar(p.area_name, _f(f.get("harassment_offences")), AREA_COLOURS["force"]),
                        Bar("A year earlier", _f(f.get("harassment_offences_previous")), OKABE_ITO["blue"]),
                    ],
                ),
            ],  # fmt: skip
            _formatter("count"),
            description=f"Bars of recorded stalking and harassment in {p.area_name}, {p.period_label}, "
            "and a year earlier.",
        )
    rows = _comparison_rows(
        p,
        [
            ("Recorded stalking", "stalking_offences"),
            ("Change on a year earlier", "stalking_pct_change"),
            ("Stalking per 1,000 residents", "stalking_rate_per_1000"),
            ("Recorded harassment", "harassment_offences"),
            ("Change on a year earlier", "harassment_pct_change"),
            ("Harassment per 1,000 residents", "harassment_rate_per_1000"),
        ],
        previous=True,
    )
    body = f"<figure><figcaption>Recorded crime, {_e(p.period_label)}</figcaption>{chart}</figure>" + _table(
        [" ", p.area_name, "A year earlier", NATIONAL_NAME, PEER], rows
    )
    caveats = ["recorded_crime"]
    year_before = p.period_end.replace(year=p.period_end.year - 1)
    if breaks_between(year_before - dt.timedelta(days=365), p.period_end):
        caveats.append("series_breaks")
    if year_before < dt.date(2021, 3, 31) <= p.period_end:
        caveats.append("stalking_2020")
    if not has_rates:
        caveats.append("btp_rate")
    return _theme(
        "recorded",
        "Recorded stalking and harassment",
        "Crimes the force recorded in the 12 months, against the 12 months a year earlier, and per 1,000 "
        "residents beside England and Wales and the force's peer group.",
        body,
        _caveats(caveats, p.synthetic),
        page=True,
    )


def _recording_section(p: Profile) -> str:
    t = p.trend
    series = [
        Series(p.area_name, AREA_COLOURS["force"], "", _points(t, "harassment_to_stalking_ratio")),
        Series(NATIONAL_NAME, AREA_COLOURS["national"], "6 3", _points(t, "harassment_to_stalking_ratio_england_and_wales")),
        Series(PEER, AREA_COLOURS["group"], "2 2", _points(t, "harassment_to_stalking_ratio_peer_group")),
    ]  # fmt: skip
    chart = charts.line_chart(
        "Harassment crimes recorded per stalking crime",
        series,
        _formatter("ratio"),
        description=f"Lines of {p.area_name}'s harassment-to-stalking ratio for each 12 months to "
        f"{p.period_label.removeprefix('12 months to ')}, with England and Wales's (dashed) and its peer "
        "group's (dotted).",
    )
    f = p.figures
    rows = _comparison_rows(
        p, [("Harassment crimes per stalking crime", "harassment_to_stalking_ratio")], previous=True
    )
    flag = f.get("harassment_to_stalking_outlier_flag")
    rows.append(
        "<tr><td>Outlier among territorial forces</td>"
        + figure_cell("harassment_to_stalking_outlier_flag", flag)
        + '<td class="n na">–</td>' * 3
        + "</tr>"
    )
    rows.append(
        "<tr><td>Robust z-score of the force's log ratio</td>"
        + figure_cell("harassment_to_stalking_robust_z_score", f.get("harassment_to_stalking_robust_z_score"))
        + '<td class="n na">–</td>' * 3
        + "</tr>"
    )
    body = (
        f"<figure><figcaption>Harassment crimes per stalking crime, every 12 months to "
        f"{_e(_period(p.period_end))}</figcaption>{chart}</figure>"
        + _table([" ", p.area_name, "A year earlier", NATIONAL_NAME, PEER], rows)
    )
    return _theme(
        "recording-practice",
        "Recording practice: harassment crimes per stalking crime",
        "How many harassment crimes the force recorded for every stalking crime, the measure the inspection "
        "used to compare how forces record stalking, beside England and Wales and the peer group.",
        body,
        _caveats(["ratio", "outliers", "peer_groups", "series_breaks"], p.synthetic),
    )


def _points(t: pd.DataFrame, column: str) -> list[tuple[dt.date, float | None]]:
    return [(d, _f(v)) for d, v in zip(t["period_end"], t[column], strict=True)]


OUTCOME_COLOURS = {
    "charged_summonsed": OKABE_ITO["blue"],
    "out_of_court_formal": OKABE_ITO["sky_blue"],
    "out_of_court_informal": "#9ad0f0",
    "taken_into_consideration": "#4f7fa8",
    "diversionary_activity": OKABE_ITO["bluish_green"],
    "evidential_difficulties_victim_does_not_support": OKABE_ITO["vermillion"],
    "evidential_difficulties_victim_supports": OKABE_ITO["orange"],
    "no_suspect_identified": OKABE_ITO["reddish_purple"],
    "prosecution_prevented_or_not_in_public_interest": "#b3b3b3",
    "further_investigation_not_in_public_interest": "#8c8c8c",
    "transferred_to_another_body": "#d9d9d9",
    "nfib_filed": "#eeeeee",
}


def _outcomes_section(p: Profile) -> str:
    mix = p.outcome_mix
    if mix.empty:
        body = "<p>The warehouse holds no outcomes for this force and period.</p>"
    else:
        names = dict(zip(mix["outcome_group"], mix["outcome_group_name"], strict=True))
        order = [g for g in OUTCOME_COLOURS if g in names] + [g for g in names if g not in OUTCOME_COLOURS]
        categories = [(g, names[g], OUTCOME_COLOURS.get(g, "#cccccc")) for g in order]
        bars = []
        for offence in ("stalking", "harassment"):
            part = mix[mix["offence_group"] == offence]
            if part.empty:
                continue
            bars.append((f"{offence.capitalize()}: {p.area_name}", _shares(part, "share")))
            bars.append((f"{offence.capitalize()}: {NATIONAL_NAME}", _shares(part, "share_ew")))
        chart = charts.stacked_shares(
            "Outcomes assigned in the 12 months",
            bars,
            categories,
            description=f"Stacked bars of the outcomes assigned to stalking and harassment crimes in "
            f"{p.area_name} and England and Wales, {p.period_label}, as shares of all outcomes assigned.",
        )
        rows = []
        for offence in ("stalking", "harassment"):
            part = mix[mix["offence_group"] == offence]
            if part.empty:
                continue
            total = part["assigned_outcomes"].dropna()
            assigned = f" ({format_value(total.iloc[0], 'count')} assigned)" if len(total) else ""
            rows.append(
                f'<tr class="group"><td colspan="4">{_e(offence.capitalize())}{_e(assigned)}</td></tr>'
            )
            for r in part.itertuples(index=False):
                key = f"outcomes_{offence}_{r.outcome_group}"
                rows.append(
                    f"<tr><td>{_e(r.outcome_group_name)}</td>"
                    + figure_cell(f"{key}_count", r.outcomes, text=format_value(r.outcomes, "count"))
                    + figure_cell(f"{key}_share", r.share, text=format_value(r.share, "share"))
                    + figure_cell(
                        f"{key}_share_england_and_wales", r.share_ew, text=format_value(r.share_ew, "share")
                    )
                    + "</tr>"
                )
        body = (
            f"<figure><figcaption>Outcomes assigned, {_e(p.period_label)}</figcaption>{chart}</figure>"
            + _table(
                ["Outcome", f"{p.area_name}: outcomes", f"{p.area_name}: share", f"{NATIONAL_NAME}: share"],
                rows,
            )
        )
        peer_rows = _comparison_rows(
            p,
            [
                ("Stalking: charged or summonsed", "stalking_share_charged_summonsed"),
                ("Stalking: victim does not support action", "stalking_share_evidential_difficulties_victim_does_not_support"),
                ("Stalking: evidential difficulties, victim supports action", "stalking_share_evidential_difficulties_victim_supports"),
                ("Harassment: charged or summonsed", "harassment_share_charged_summonsed"),
                ("Harassment: victim does not support action", "harassment_share_evidential_difficulties_victim_does_not_support"),
                ("Harassment: evidential difficulties, victim supports action", "harassment_share_evidential_difficulties_victim_supports"),
            ],
            previous=False,
        )  # fmt: skip
        body += "<h3>Against the peer group</h3>" + _table([" ", p.area_name, NATIONAL_NAME, PEER], peer_rows)
    caveats = ["outcomes_closed"]
    window_start = p.period_end.replace(year=p.period_end.year - 1)
    if p.area_name in EXPIRED_CODE_FORCES or (
        window_start < EXPIRED_CODE_YEAR[1] and p.period_end >= EXPIRED_CODE_YEAR[0]
    ):
        caveats.append("expired_codes")
    return _theme(
        "outcomes",
        "Outcomes: how investigations ended",
        "The outcomes the force assigned to stalking and harassment crimes in the 12 months, as shares of "
        "all outcomes assigned, beside England and Wales.",
        body,
        _caveats(caveats, p.synthetic),
        page=True,
    )


def _shares(part: pd.DataFrame, column: str) -> dict[str, float]:
    return {
        g: float(v) for g, v in zip(part["outcome_group"], part[column], strict=True) if not is_missing(v)
    }


CPS_LABELS = {
    "recorded": "Crimes recorded by the Area's forces",
    "charged_summonsed": "Charged or summonsed by the police",
    "prosecuted": "Offences prosecuted by the CPS",
    "convicted": "Convictions",
    "charged_per_recorded": "Charged per crime recorded",
    "prosecuted_per_recorded": "Prosecuted per crime recorded",
    "convicted_per_recorded": "Convicted per crime recorded",
    "convicted_per_prosecuted": "Convicted per offence prosecuted",
}


def _justice_section(p: Profile) -> str:
    f = p.figures
    parts = []
    if f.get("cps_area_name"):
        groups = []
        for offence in ("stalking", "harassment"):
            for step in ("charged_per_recorded", "prosecuted_per_recorded", "convicted_per_recorded"):
                key = f"cps_{offence}_{step}"
                groups.append(
                    (
                        f"{offence.capitalize()}: {CPS_LABELS[step].lower()}",
                        [
                            Bar(str(f["cps_area_name"]), _f(f.get(key)), AREA_COLOURS["force"]),
                            Bar(
                                NATIONAL_NAME, _f(f.get(f"{key}_england_and_wales")), AREA_COLOURS["national"]
                            ),
                        ],  # fmt: skip
                    )
                )
        chart = charts.grouped_bars(
            "From recorded crime to conviction",
            groups,
            _formatter("share"),
            description=f"Bars of charges, prosecutions and convictions per recorded crime in the "
            f"{f['cps_area_name']} CPS Area and England and Wales, {f['cps_financial_year']}.",
        )
        rows = []
        for step in (*CPS_COUNTS, "charged_per_recorded", "prosecuted_per_recorded", "convicted_per_recorded",
                     "convicted_per_prosecuted"):  # fmt: skip
            cells = [f"<td>{_e(CPS_LABELS[step])}</td>"]
            for offence in ("stalking", "harassment"):
                key = f"cps_{offence}_{step}"
                cells += [
                    figure_cell(key, f.get(key)),
                    figure_cell(f"{key}_england_and_wales", f.get(f"{key}_england_and_wales")),
                ]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        area = str(f["cps_area_name"])
        parts.append(
            f"<h3>The CPS Area: {_e(area)}, {_e(str(f['cps_financial_year']))}</h3>"
            f"<figure><figcaption>Charged, prosecuted and convicted per crime recorded</figcaption>{chart}</figure>"
            + _table(
                [
                    "Step",
                    f"Stalking: {area}",
                    f"Stalking: {NATIONAL_NAME}",
                    f"Harassment: {area}",
                    f"Harassment: {NATIONAL_NAME}",
                ],
                rows,
            )  # fmt: skip
        )
    else:
        parts.append("<p>This force is in no CPS Area, so there are no CPS Area figures for it.</p>")
    courts = p.courts
    if not courts.empty:
        groups = [
            (
                r.label,
                [
                    Bar(p.area_name, _f(r.conviction_ratio), AREA_COLOURS["force"]),
                    Bar(NATIONAL_NAME, _f(r.conviction_ratio_ew), AREA_COLOURS["national"]),
                ],
            )  # fmt: skip
            for r in courts.itertuples(index=False)
        ]
        chart = charts.grouped_bars(
            "Conviction ratio by section of the Protection from Harassment Act 1997",
            groups,
            _formatter("share"),
            description=f"Bars of the conviction ratio for each section in courts in {p.area_name} and England "
            f"and Wales, calendar year {f.get('court_calendar_year')}.",
        )
        rows = []
        for r in courts.itertuples(index=False):
            key = f"court_{r.offence_section}"
            rows.append(
                f"<tr><td>{_e(r.label)}</td>"
                + figure_cell(f"{key}_prosecuted", r.prosecuted, text=format_value(r.prosecuted, "count"))
                + figure_cell(f"{key}_convicted", r.convicted, text=format_value(r.convicted, "count"))
                + figure_cell(
                    f"{key}_conviction_ratio",
                    r.conviction_ratio,
                    text=format_value(r.conviction_ratio, "share"),
                )
                + figure_cell(
                    f"{key}_conviction_ratio_england_and_wales",
                    r.conviction_ratio_ew,
                    text=format_value(r.conviction_ratio_ew, "share"),
                )
                + "</tr>"
            )
        for label, key in (("Restraining orders on conviction (any offence)", "restraining_orders_on_conviction"),
                           ("Restraining orders on acquittal (any offence)", "restraining_orders_on_acquittal")):  # fmt: skip
            rows.append(
                f"<tr><td>{_e(label)}</td>"
                + figure_cell(key, f.get(key))
                + '<td class="n na">–</td><td class="n na">–</td>'
                + figure_cell(f"{key}_england_and_wales", f.get(f"{key}_england_and_wales"))
                + "</tr>"
            )
        parts.append(
            f"<h3>Courts in the force area, calendar year {_e(str(f.get('court_calendar_year')))}</h3>"
            f"<figure><figcaption>Conviction ratio by section</figcaption>{chart}</figure>"
            + _table(
                [
                    "Offence",
                    "Prosecuted",
                    "Convicted",
                    "Conviction ratio",
                    f"{NATIONAL_NAME}: ratio or orders",
                ],
                rows,
            )
        )
    else:
        parts.append("<p>The warehouse holds no court figures for this force area.</p>")
    return _theme(
        "justice",
        "From crime to court: the CPS Area and the courts",
        "How many recorded crimes were charged, prosecuted and convicted in the force's CPS Area (police figures "
        "for its forces added together), and what the courts in the force area decided.",
        "".join(parts),
        _caveats(
            ["cps_units", "cps_areas", "financial_years", "moj", "conviction_ratio", "restraining_orders"],
            p.synthetic,
        ),  # fmt: skip
        page=True,
    )
