"""The profile's first page: the one-page summary and its key figures."""

from __future__ import annotations

from hsinsight.names import NATIONAL_NAME
from hsinsight.profiles.data import Profile
from hsinsight.profiles.figures import format_figure, format_value, is_missing
from hsinsight.profiles.page import PEER, _comparison_rows, _e, _table, figure_cell


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
