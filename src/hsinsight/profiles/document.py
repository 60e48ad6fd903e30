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

This module puts the document together; the pieces live beside it: the stylesheet
and small parts in :mod:`~hsinsight.profiles.page`, the summary and key figures in
:mod:`~hsinsight.profiles.summary`, the themed sections in
:mod:`~hsinsight.profiles.themes`, the questions in :mod:`~hsinsight.profiles.questions`,
the trend in :mod:`~hsinsight.profiles.trend` and the sources in
:mod:`~hsinsight.profiles.sources`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from hsinsight.profiles.caveats import SYNTHETIC_BANNER
from hsinsight.profiles.data import Profile
from hsinsight.profiles.page import SYNTHETIC_SHORT, _e, _period, _table, figure_cell, stylesheet
from hsinsight.profiles.questions import _questions_section
from hsinsight.profiles.sources import _sources_section
from hsinsight.profiles.summary import _summary
from hsinsight.profiles.themes import (
    _justice_section,
    _outcomes_section,
    _recorded_section,
    _recording_section,
)
from hsinsight.profiles.trend import _trend_section

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
