"""The problem profile as one self-contained HTML document, printable on A4.

No script, no external file, no web font: styles are embedded, charts are inline SVG
(:mod:`hsinsight.profiles.charts`). Every figure the document states from a mart sits in
an element with ``data-figure`` (the figure's name, docs/profile.md) and ``data-value``
(the value as read, unrounded), so a test, or an analyst, can check any figure against
the warehouse. Sentences come only from the templates in ``summary.yml`` and
``questions.yml``.

Print: ``@page`` sets A4 with a running header (the force, the period and, for synthetic
data, the banner on every page) and page numbers; the summary, the themes, the questions,
the trend and the sources each start a new page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from hsinsight.names import NATIONAL_NAME
from hsinsight.profiles import charts
from hsinsight.profiles.caveats import (
    CAVEATS,
    EXPIRED_CODE_FORCES,
    EXPIRED_CODE_YEAR,
    SERIES_BREAKS,
    SYNTHETIC_BANNER,
    breaks_between,
)
from hsinsight.profiles.charts import AREA_COLOURS, OKABE_ITO, Bar, Series
from hsinsight.profiles.data import CPS_COUNTS, Profile
from hsinsight.profiles.figures import format_figure, format_value, is_missing
from hsinsight.profiles.rules import QUESTIONS_FILE, SUMMARY_FILE, load_questions

SYNTHETIC_SHORT = "SYNTHETIC SAMPLE DATA – not official statistics"
PEER = "Peer group"

_e = html.escape


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def stylesheet(running_head: str, synthetic: bool) -> str:
    banner = (
        f"@top-right {{ content: {_css_string(SYNTHETIC_SHORT)}; color: #8a4b00; font-weight: bold; "
        "font-size: 8pt; border: 1.2pt solid #E69F00; background: #fff3cd; padding: 1mm 2mm; }"
        if synthetic
        else ""
    )
    return f"""
:root {{ color-scheme: light; print-color-adjust: exact; -webkit-print-color-adjust: exact; }}
* {{ box-sizing: border-box; }}
body {{ font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: #222; line-height: 1.4;
  max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; font-size: 15px; }}
h1 {{ font-size: 1.55em; margin: .2em 0 .2em; }}
h2 {{ font-size: 1.25em; margin: 1.1em 0 .35em; border-bottom: 2px solid #E69F00; padding-bottom: .1em; }}
h3 {{ font-size: 1.02em; margin: .9em 0 .3em; }}
p {{ margin: .35em 0; }}
.lede {{ color: #444; }}
.banner {{ background: #fff3cd; border: 2px solid #E69F00; padding: .45em .7em; margin: .4em 0 .8em;
  font-weight: bold; color: #5c3700; }}
.banner span {{ font-weight: normal; }}
table {{ border-collapse: collapse; width: 100%; font-size: .88em; margin: .4em 0 .6em; }}
th, td {{ border-bottom: 1px solid #d0d0d0; padding: .18em .4em; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; font-weight: bold; }}
td.n, th.n {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
td.na {{ color: #777; }}
tr.group td {{ background: #fafafa; font-weight: bold; }}
.sentences {{ margin: .3em 0 .6em; padding-left: 1.1em; }}
.sentences li {{ margin: .12em 0; }}
.caveats {{ border-left: 4px solid #56B4E9; background: #f4f9fd; padding: .3em .7em; margin: .5em 0 .8em;
  font-size: .85em; }}
.caveats h4 {{ margin: .2em 0; font-size: 1em; }}
.caveats ul {{ margin: .2em 0; padding-left: 1.1em; }}
figure {{ margin: .4em 0; }}
figcaption {{ font-size: .85em; color: #444; margin-bottom: .2em; font-weight: bold; }}
svg.chart {{ display: block; max-width: 100%; height: auto; }}
.question {{ border: 1px solid #ccc; border-left: 5px solid #D55E00; padding: .4em .8em; margin: .6em 0; }}
.question h3 {{ margin-top: .2em; }}
.question .finding {{ font-size: .9em; color: #333; }}
.question .raised {{ font-size: .85em; color: #444; }}
.meta {{ color: #555; font-size: .85em; }}
code, .hash {{ font-family: "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: .85em; word-break: break-all; }}
nav.contents ol {{ margin: .2em 0; padding-left: 1.3em; columns: 2; font-size: .9em; }}
.keyfigs {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: .4em; margin: .5em 0; }}
.keyfig {{ border: 1px solid #d0d0d0; padding: .3em .5em; }}
.keyfig .label {{ font-size: .78em; color: #555; display: block; }}
.keyfig .value {{ font-size: 1.3em; font-weight: bold; }}
.keyfig .compare {{ font-size: .75em; color: #555; display: block; }}
section.page {{ break-before: page; }}
section.page:first-of-type {{ break-before: auto; }}
figure, table, .question, .caveats, .keyfigs {{ break-inside: avoid; }}
h2, h3 {{ break-after: avoid; }}
@page {{
  size: A4;
  margin: 17mm 13mm 15mm 13mm;
  @top-left {{ content: {_css_string(running_head)}; font-size: 8pt; color: #555; }}
  {banner}
  @bottom-left {{ content: "hsinsight problem profile"; font-size: 7.5pt; color: #777; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #555; }}
}}
@media print {{
  body {{ max-width: none; margin: 0; padding: 0; font-size: 9.3pt; }}
  h1 {{ font-size: 15pt; }}
  h2 {{ font-size: 12pt; }}
  a {{ color: inherit; text-decoration: none; }}
  .screen-only {{ display: none; }}
  /* the summary keeps to its page */
  .summary {{ line-height: 1.28; }}
  .banner {{ padding: .2em .5em; margin: 0 0 .4em; font-size: 8pt; }}
  .summary .lede {{ font-size: 8.6pt; }}
  .summary .keyfigs {{ margin: .3em 0; }}
  .summary .sentences li {{ margin: 0; }}
  .summary table {{ font-size: 7.8pt; margin: .2em 0 0; }}
  .summary th, .summary td {{ padding: .05em .4em; }}
  .summary h2 {{ margin-top: .5em; }}
}}
table.rules td {{ overflow-wrap: anywhere; font-size: .92em; }}
table.rules td:first-child {{ width: 34%; }}
"""


# --------------------------------------------------------------------------- small pieces


def figure_cell(key: str, value: object, *, text: str | None = None, tag: str = "td", css: str = "") -> str:
    """A cell stating one figure: its name and exact value in data attributes."""
    missing = is_missing(value)
    shown = text if text is not None else format_figure(key, value)
    raw = "" if missing else _raw(value)
    css = " ".join(filter(None, [css, "n", "na" if missing else ""]))
    return f'<{tag} class="{css}" data-figure="{_e(key)}" data-value="{_e(raw)}">{_e(shown)}</{tag}>'


def _raw(value: object) -> str:
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if bool(value) else "false"
    if isinstance(value, str):
        return value
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)


def _caveats(keys: Iterable[str], synthetic: bool) -> str:
    items = [CAVEATS[k] for k in dict.fromkeys(keys)]
    if synthetic:
        items.append(SYNTHETIC_BANNER)
    lis = "".join(f"<li>{_e(text)}</li>" for text in items)
    return f'<aside class="caveats"><h4>Read with care</h4><ul>{lis}</ul></aside>'


def _table(head: Sequence[str], rows: Iterable[str], numeric_from: int = 1, css: str = "") -> str:
    cells = "".join(
        f'<th class="{"n" if i >= numeric_from else ""}">{_e(h)}</th>' for i, h in enumerate(head)
    )
    table = f'<table class="{css}">' if css else "<table>"
    return f"{table}<thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _f(value: object) -> float | None:
    return None if is_missing(value) else float(value)  # type: ignore[arg-type]


def _formatter(unit: str):
    return lambda v: format_value(v, unit)


def _period(date: dt.date) -> str:
    return f"{date.day} {date:%B %Y}"


def _comparison_rows(profile: Profile, rows: Sequence[tuple[str, str]], *, previous: bool) -> list[str]:
    """Table rows: label, the force, [a year earlier,] England and Wales, peer group."""
    out = []
    f = profile.figures
    for label, key in rows:
        if key.startswith("#"):
            span = 5 if previous else 4
            out.append(f'<tr class="group"><td colspan="{span}">{_e(key[1:])}</td></tr>')
            continue
        cells = [f"<td>{_e(label)}</td>", figure_cell(key, f.get(key))]
        if previous:
            prev = f"{key}_previous"
            cells.append(figure_cell(prev, f.get(prev)) if prev in f else '<td class="n na">–</td>')
        for suffix in ("_england_and_wales", "_peer_group"):
            other = key + suffix
            cells.append(figure_cell(other, f.get(other)) if other in f else '<td class="n na">–</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    return out


# --------------------------------------------------------------------------- the document


def render_html(profile: Profile) -> str:
    """The whole problem profile of one force for one period."""
    name = profile.area_name
    head = f"Stalking and harassment problem profile: {name}, {profile.period_label}"
    parts = [
        _summary(profile),
        _recorded_section(profile),
        _recording_section(profile),
        _outcomes_section(profile),
        _justice_section(profile),
        _questions_section(profile),
        _trend_section(profile),
        _sources_section(profile),
    ]
    banner = _banner() if profile.synthetic else ""
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hsinsight {_e(profile.version)}">
<meta name="hsinsight-area-code" content="{_e(profile.area_code)}">
<meta name="hsinsight-period-end" content="{profile.period_end:%Y-%m-%d}">
<meta name="hsinsight-synthetic" content="{"true" if profile.synthetic else "false"}">
<title>{_e(head)}</title>
<style>{stylesheet(head, profile.synthetic)}</style>
</head>
<body>
{banner}
{"".join(parts)}
</body>
</html>
"""


def _banner() -> str:
    return (
        f'<div class="banner" role="note" data-synthetic="true">{_e(SYNTHETIC_SHORT)}. '
        f"<span>{_e(SYNTHETIC_BANNER)}</span></div>"
    )


def _summary(p: Profile) -> str:
    f = p.figures
    group = f.get("peer_group_name")
    peers = (
        f"Peer group: {_e(group)} ({_e(', '.join(p.peer_forces))})."
        if isinstance(group, str) and p.peer_forces
        else "This force is in no peer group, so its peer-group columns are empty."
    )
    population = f.get("population")
    residents = (
        f"Residents: {format_value(population, 'count')} (mid-{int(f['population_mid_year'])} estimate)."
        if not is_missing(population) and not is_missing(f.get("population_mid_year"))
        else "No resident population, so no rates per 1,000."
    )
    sentences = "".join(f'<li data-sentence="{_e(i)}">{_e(text)}</li>' for i, text in p.summary)
    keyfigs = _key_figures(p)
    rows = _comparison_rows(
        p,
        [
            ("", "#Recorded crime"),
            ("Recorded stalking", "stalking_offences"),
            ("Change on a year earlier", "stalking_pct_change"),
            ("Stalking per 1,000 residents", "stalking_rate_per_1000"),
            ("Recorded harassment", "harassment_offences"),
            ("Change on a year earlier", "harassment_pct_change"),
            ("Harassment per 1,000 residents", "harassment_rate_per_1000"),
            ("Harassment crimes per stalking crime", "harassment_to_stalking_ratio"),
            ("", "#Outcomes assigned in the period (share of all assigned)"),
            ("Stalking: charged or summonsed", "stalking_share_charged_summonsed"),
            (
                "Stalking: victim does not support action",
                "stalking_share_evidential_difficulties_victim_does_not_support",
            ),
            ("Stalking: no suspect identified", "stalking_share_no_suspect_identified"),
            ("Harassment: charged or summonsed", "harassment_share_charged_summonsed"),
            (
                "Harassment: victim does not support action",
                "harassment_share_evidential_difficulties_victim_does_not_support",
            ),
            ("Harassment: no suspect identified", "harassment_share_no_suspect_identified"),
            (
                "",
                f"#Courts in the force area, calendar year {f.get('court_calendar_year') or 'not available'}",
            ),
            ("Stalking: defendants prosecuted", "stalking_prosecuted"),
            ("Stalking: conviction ratio", "stalking_conviction_ratio"),
            ("Harassment: defendants prosecuted", "harassment_prosecuted"),
            ("Harassment: conviction ratio", "harassment_conviction_ratio"),
            ("Restraining orders on conviction (any offence)", "restraining_orders_on_conviction"),
            ("Restraining orders on acquittal (any offence)", "restraining_orders_on_acquittal"),
        ],
        previous=True,
    )
    table = _table([" ", p.area_name, "A year earlier", NATIONAL_NAME, PEER], rows)
    questions = len(p.questions)
    raised = (
        f"The figures raise {questions} question{'s' if questions != 1 else ''} for the commissioner "
        "(see “Questions for the commissioner”)."
        if questions
        else "No question rule is raised by these figures (see “Questions for the commissioner”)."
    )
    return f"""
<section class="page summary" id="summary">
<h1>Stalking and harassment problem profile: {_e(p.area_name)}</h1>
<p class="lede"><strong>{_e(p.period_label)}</strong> (police recorded crime and outcomes); courts: calendar
year {_e(str(f.get("court_calendar_year") or "not available"))}; CPS: financial year
{_e(str(f.get("cps_financial_year") or "not available"))}. Area code {_e(p.area_code)}. {residents} {peers}</p>
{keyfigs}
<h2>Summary</h2>
<ul class="sentences">{sentences}</ul>
<p>{_e(raised)}</p>
{table}
</section>"""


def _key_figures(p: Profile) -> str:
    f = p.figures
    cards = [
        ("Recorded stalking", "stalking_offences", "stalking_pct_change", "on a year earlier"),
        ("Recorded harassment", "harassment_offences", "harassment_pct_change", "on a year earlier"),
        ("Harassment crimes per stalking crime", "harassment_to_stalking_ratio",
         "harassment_to_stalking_ratio_england_and_wales", NATIONAL_NAME),
        ("Stalking outcomes charged or summonsed", "stalking_share_charged_summonsed",
         "stalking_share_charged_summonsed_england_and_wales", NATIONAL_NAME),
    ]  # fmt: skip
    out = []
    for label, key, compare, words in cards:
        other = f.get(compare)
        line = "" if is_missing(other) else f"{format_figure(compare, other)} {words}"
        out.append(
            f'<div class="keyfig"><span class="label">{_e(label)}</span>'
            + figure_cell(key, f.get(key), tag="span", css="value")
            + f'<span class="compare">{_e(line)}</span></div>'
        )
    return f'<div class="keyfigs">{"".join(out)}</div>'


def _theme(section_id: str, title: str, intro: str, body: str, caveats: str, *, page: bool = False) -> str:
    css = "theme page" if page else "theme"
    return f"""
<section class="{css}" id="{section_id}">
<h2>{_e(title)}</h2>
<p>{_e(intro)}</p>
{body}
{caveats}
</section>"""


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


def _questions_section(p: Profile) -> str:
    rules = load_questions()
    raised_ids = {q.rule.id for q in p.questions}
    items = []
    for q in p.questions:
        figures = "; ".join(f"{k} = {v}" for k, v in q.figures.items() if k not in ("area_name", "period"))
        conditions = "; ".join(c.describe() for c in q.rule.when)
        items.append(
            f'<article class="question" data-rule="{_e(q.rule.id)}" data-theme="{_e(q.rule.theme)}">'
            f"<h3>{_e(q.rule.title)}</h3><p>{_e(q.text)}</p>"
            f'<p class="finding"><strong>What the inspection found:</strong> {_e(q.rule.inspection)}</p>'
            f'<p class="finding"><strong>Inspection recommendations it relates to:</strong> '
            f"{_e(q.rule.recommendation)}</p>"
            f'<p class="raised">Raised by rule <code>{_e(q.rule.id)}</code> because {_e(conditions)} '
            f"(figures: {_e(figures)}).</p></article>"
        )
    not_raised = []
    for rule in rules.rules:
        if rule.id in raised_ids:
            continue
        missing = [name for name in rule.figures if is_missing(p.figures.get(name))]
        failed = [
            c
            for c in rule.when
            if all(not is_missing(p.figures.get(name)) for name in c.required) and not c.holds(p.figures)
        ]
        if failed:
            reason = "does not hold: " + "; ".join(c.describe() for c in failed)
        elif missing:
            reason = f"figure not available: {', '.join(missing)}"
        else:
            reason = "its condition does not hold"
        conditions = "; ".join(c.describe() for c in rule.when)
        not_raised.append(
            f'<tr data-rule-not-raised="{_e(rule.id)}"><td><code>{_e(rule.id)}</code></td>'
            f"<td>{_e(conditions)}</td><td>{_e(reason)}</td></tr>"
        )
    intro = (
        "Each question below is raised by a rule in the profile's rules file when the force's figures meet "
        "its condition, and is tied to what the inspection found and to the area of its recommendations the "
        "question serves. The rules and their thresholds are the project's own, for review; the findings and "
        "recommendations are paraphrased in the project's words, not quoted: read the report for its wording."
    )
    body = "".join(items) or "<p>No rule raises a question for these figures.</p>"
    if not_raised:
        body += "<h3>Rules checked that raised no question</h3>" + _table(
            ["Rule", "Condition", "Why not raised"], not_raised, numeric_from=99, css="rules"
        )
    body += f'<p class="meta">Inspection: {_e(rules.inspection.citation())}.</p>'
    return _theme("questions", "Questions for the commissioner", intro, body, "", page=True)


def _trend_section(p: Profile) -> str:
    t = p.trend
    has_rates = t["stalking_rate_per_1000"].notna().any()
    figures = []
    for offence in ("stalking", "harassment"):
        column = f"{offence}_rate_per_1000" if has_rates else f"{offence}_offences"
        unit = "per_1000" if has_rates else "count"
        series = [Series(p.area_name, AREA_COLOURS["force"], "", _points(t, column))]
        if has_rates:
            series += [
                Series(PEER, AREA_COLOURS["group"], "2 2", _points(t, f"{column}_peer_group")),
                Series(
                    NATIONAL_NAME, AREA_COLOURS["national"], "6 3", _points(t, f"{column}_england_and_wales")
                ),
            ]
        what = f"Recorded {offence} per 1,000 residents" if has_rates else f"Recorded {offence}"
        chart = charts.line_chart(
            what,
            series,
            _formatter(unit),
            description=f"Lines of {what.lower()} in {p.area_name}"
            + (" against its peer group (dotted) and England and Wales (dashed)" if has_rates else "")
            + f", every 12 months from {_period(t['period_end'].min())} to {_period(p.period_end)}.",
            height=210,
        )
        figures.append(f"<figure><figcaption>{_e(what)}, every 12 months</figcaption>{chart}</figure>")
    march = t[[d.month == 3 or d == p.period_end for d in t["period_end"]]]
    rows = []
    for r in march.to_dict("records"):
        end = r["period_end"]
        cells = [f"<td>{_e(_period(end))}</td>"]
        for key in ("stalking_offences", "stalking_rate_per_1000", "stalking_rate_per_1000_peer_group",
                    "harassment_offences", "harassment_rate_per_1000", "harassment_rate_per_1000_peer_group",
                    "harassment_to_stalking_ratio"):  # fmt: skip
            cells.append(
                f'<td class="n{" na" if is_missing(r.get(key)) else ""}" data-trend="{_e(key)}" '
                f'data-period="{end:%Y-%m-%d}" data-value="{_e("" if is_missing(r.get(key)) else _raw(r[key]))}">'
                f"{_e(format_figure(key, r.get(key)))}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = _table(
        [
            "12 months to",
            "Stalking",
            "per 1,000",
            "Peer group per 1,000",
            "Harassment",
            "per 1,000",
            "Peer group per 1,000",
            "Harassment per stalking",
        ],  # fmt: skip
        rows,
    )
    breaks = "".join(f"<li><strong>{b.date:%B %Y}, {_e(b.label.lower())}.</strong> {_e(b.description)}</li>"
                     for b in SERIES_BREAKS)  # fmt: skip
    body = "".join(figures) + "<h3>At the end of each financial year</h3>" + table
    body += f'<h3>Breaks in the series (dotted lines)</h3><ul class="sentences">{breaks}</ul>'
    return _theme(
        "trend",
        "The trend since the series began",
        f"Recorded stalking and harassment in {p.area_name} for every 12 months since the series began, beside "
        "its peer group and England and Wales.",
        body,
        _caveats(
            ["recorded_crime", "series_breaks", "stalking_code", "stalking_2020", "peer_groups"], p.synthetic
        ),
        page=True,
    )


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sources_section(p: Profile) -> str:
    rows = []
    for r in p.sources.to_dict("records"):
        periods = r.get("periods")
        periods = "" if is_missing(periods) else str(periods)
        if len(periods) > 90:
            parts = [x.strip() for x in periods.split(",")]
            periods = f"{parts[0]} … {parts[-1]} ({len(parts)} periods)"
        rows.append(
            "<tr>"
            f"<td>{_e(str(r['source']))}</td>"
            f"<td>{_e(str(r['file_name']))}"
            + (
                f"<br><span class=meta>{_e(str(r['sheets']))}</span>"
                if not is_missing(r.get("sheets"))
                else ""
            )
            + f"</td><td>{_e(periods)}</td>"
            f'<td class="n">{format_value(r.get("rows"), "count")}</td>'
            f'<td class="hash" data-sha256="{_e(str(r["sha256"]))}">{_e(str(r["sha256"]))}</td>'
            f"<td>{'synthetic' if r.get('is_synthetic') else 'official'}</td></tr>"
        )
    files = _table(
        ["Source", "File (sheets)", "Periods it holds", "Rows", "SHA-256", "Data"], rows, numeric_from=3
    )
    releases = ""
    if not p.releases.empty:
        releases = "<h3>Latest release in the warehouse, per mart</h3>" + _table(
            ["Mart", "Source", "Latest release"],
            [
                f"<tr><td><code>marts.{_e(str(r['mart']))}</code></td><td>{_e(str(r['source']))}</td>"
                f"<td>{_e(str(r['release']))}</td></tr>"
                for r in p.releases.to_dict("records")
            ],
            numeric_from=99,
        )
    run = p.run
    if run:
        checks = (
            f"{run.get('checks_passed')} of {run.get('checks_run')} checks passed, {run.get('checks_warned')} "
            f"warned, {run.get('checks_failed')} failed"
            if run.get("checks_run") is not None
            else "no checks recorded"
        )
        run_text = (
            f"Run <code data-run-id>{_e(str(run['run_id']))}</code> ({_e(str(run.get('orchestrator')))}), started "
            f"{_e(str(run.get('started_at')))} UTC, {_e(str(run.get('outcome')))} at "
            f"{_e(str(run.get('finished_at')))} UTC; {_e(checks)}."
        )
        if run.get("matched"):
            run_text += " The run log records that this run published this very file (same SHA-256)."
        else:
            run_text += (
                " This is the latest published run in the log, but the log does not record this file's SHA-256 "
                "for it: the warehouse may have been copied or published by another run."
            )
    else:
        run_text = "The run log beside the warehouse records no published run."
    sha_text = f', SHA-256 <span class="hash">{_e(p.warehouse_sha256)}</span>' if p.warehouse_sha256 else ""
    period_text = f"{p.period_end:%Y-%m-%d}"
    stat = p.warehouse.stat() if p.warehouse.exists() else None
    published = (
        dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") + " UTC"
        if stat
        else "unknown"
    )
    rules = (
        f"Sentence templates <code>{SUMMARY_FILE.name}</code> (SHA-256 <span class=hash>{_sha256(SUMMARY_FILE)}</span>); "
        f"question rules <code>{QUESTIONS_FILE.name}</code> (SHA-256 <span class=hash>{_sha256(QUESTIONS_FILE)}</span>)."
    )
    body = f"""
<h3>Files the warehouse was built from</h3>
{files}
{releases}
<h3>How this document was made</h3>
<ul class="sentences">
<li>Warehouse: <code>{_e(str(p.warehouse))}</code>, published {_e(published)}{sha_text}.</li>
<li>{run_text}</li>
<li>Platform: hsinsight {_e(p.version)}. {rules}</li>
<li>Generated {_e(p.generated.strftime("%Y-%m-%d %H:%M"))} UTC. Make it again with
<code>hsinsight profile --force {_e(p.area_code)} --period {period_text} --warehouse PATH --out FILE</code>:
the same warehouse gives the same figures, sentences and questions.</li>
<li>Inspection cited: {_e(load_questions().inspection.citation())}.</li>
</ul>"""
    return _theme(
        "sources",
        "Sources and reproducibility",
        "Every official file the figures come from, with its SHA-256 checksum, and the run that built the warehouse.",
        body,
        _caveats(["moj", "cps_units"], p.synthetic),
        page=True,
    )


# --------------------------------------------------------------------------- the index of a set


def render_index(entries: Sequence[dict[str, Any]], *, period: dt.date, synthetic: bool, generated: dt.datetime,
                 version: str) -> str:  # fmt: skip
    """A page linking every profile of a set: one row per force."""
    head = f"Stalking and harassment problem profiles, 12 months to {_period(period)}"
    rows = []
    for entry in entries:
        if not entry.get("html"):
            rows.append(
                f'<tr data-area-code="{_e(entry["area_code"])}"><td>{_e(entry["area_name"])}</td>'
                f'<td>{_e(entry["area_code"])}</td><td colspan="5">no figures for this period</td></tr>'
            )
            continue
        links = f'<a href="{_e(entry["html"])}">HTML</a>'
        if entry.get("pdf"):
            links += f' · <a href="{_e(entry["pdf"])}">PDF</a>'
        rows.append(
            f'<tr data-area-code="{_e(entry["area_code"])}"><td>{_e(entry["area_name"])}</td><td>{_e(entry["area_code"])}</td>'
            f"<td>{_e(entry.get('peer_group_name') or '–')}</td>"
            + figure_cell("stalking_offences", entry.get("stalking_offences"))
            + figure_cell("harassment_to_stalking_ratio", entry.get("harassment_to_stalking_ratio"))
            + f'<td class="n">{entry.get("questions", 0)}</td><td>{links}</td></tr>'
        )
    table = _table(["Force", "Code", "Peer group", "Recorded stalking", "Harassment per stalking", "Questions",
                    "Profile"], rows, numeric_from=3)  # fmt: skip
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hsinsight {_e(version)}">
<title>{_e(head)}</title>
<style>{stylesheet(head, synthetic)}</style>
</head>
<body>
{_banner() if synthetic else ""}
<h1>{_e(head)}</h1>
<p class="lede">One problem profile per police force area, generated {_e(generated.strftime("%Y-%m-%d %H:%M"))} UTC by
hsinsight {_e(version)}.</p>
{table}
</body>
</html>
"""
