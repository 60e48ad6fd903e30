"""A force's problem profile on the dashboard: its measures beside England and Wales and
its peer group as a table and key findings, and the full document (``hsinsight.profiles``)
as HTML and PDF downloads.

Works on the rows of ``marts.problem_profile`` (one per force and 12-month period),
whose columns come in threes: ``<measure>``, ``<measure>_england_and_wales`` and
``<measure>_peer_group``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Measure:
    key: str  # the problem_profile column
    label: str
    unit: str  # count | change | per_1000 | share | ratio
    basis: str  # recorded | outcomes | courts


def _offence_measures(offence: str, name: str) -> list[Measure]:
    lower = name.lower()
    return [
        Measure(f"{offence}_offences", f"Recorded {lower}", "count", "recorded"),
        Measure(f"{offence}_pct_change", f"Recorded {lower}: change on a year earlier", "change", "recorded"),
        Measure(f"{offence}_rate_per_1000", f"Recorded {lower} per 1,000 residents", "per_1000", "recorded"),
        Measure(
            f"{offence}_share_charged_summonsed",
            f"{name} outcomes: charged or summonsed",
            "share",
            "outcomes",
        ),
        Measure(
            f"{offence}_share_evidential_difficulties_victim_does_not_support",
            f"{name} outcomes: victim does not support action",
            "share",
            "outcomes",
        ),
        Measure(
            f"{offence}_share_evidential_difficulties_victim_supports",
            f"{name} outcomes: evidential difficulties, victim supports action",
            "share",
            "outcomes",
        ),
        Measure(
            f"{offence}_share_no_suspect_identified",
            f"{name} outcomes: no suspect identified",
            "share",
            "outcomes",
        ),
        Measure(f"{offence}_prosecuted", f"{name} defendants prosecuted (courts)", "count", "courts"),
        Measure(f"{offence}_convicted", f"{name} defendants convicted (courts)", "count", "courts"),
        Measure(f"{offence}_conviction_ratio", f"{name} conviction ratio (courts)", "share", "courts"),
    ]


#: Every measure of the profile, in the order the profile lists them.
MEASURES: tuple[Measure, ...] = (
    *_offence_measures("stalking", "Stalking"),
    *_offence_measures("harassment", "Harassment"),
    Measure(
        "harassment_to_stalking_ratio", "Harassment crimes recorded per stalking crime", "ratio", "recorded"
    ),
)

#: The measures the profile page charts (rates and shares, comparable across forces),
#: in the order of its grid, with titles short enough for a small panel.
CHARTED = {
    "stalking_rate_per_1000": "Stalking per 1,000<br>residents",
    "harassment_rate_per_1000": "Harassment per 1,000<br>residents",
    "harassment_to_stalking_ratio": "Harassment crimes per<br>stalking crime",
    "stalking_share_charged_summonsed": "Stalking outcomes:<br>charged or summonsed",
    "stalking_share_evidential_difficulties_victim_does_not_support": "Stalking outcomes: victim<br>does not support action",
    "stalking_conviction_ratio": "Stalking conviction<br>ratio (courts)",
    "harassment_share_charged_summonsed": "Harassment outcomes:<br>charged or summonsed",
    "harassment_share_evidential_difficulties_victim_does_not_support": (
        "Harassment outcomes: victim<br>does not support action"
    ),
    "harassment_conviction_ratio": "Harassment conviction<br>ratio (courts)",
}

UNIT_NAMES = {
    "count": "number",
    "change": "proportion (0.23 = +23%)",
    "per_1000": "per 1,000 residents",
    "share": "proportion 0-1",
    "ratio": "ratio",
}


def measures_table(row: pd.Series) -> pd.DataFrame:
    """One force's measures for one period: measure, its basis, unit, the force's
    value, England and Wales's and the peer group's."""
    period = pd.Timestamp(row["period_end"]).date()
    court_year = int(row["court_calendar_year"])
    records = []
    for m in MEASURES:
        records.append(
            {
                "area_code": row["area_code"],
                "area_name": row["area_name"],
                "period_end": period,
                "measure_key": m.key,
                "measure": m.label,
                "figures_for": f"calendar year {court_year}"
                if m.basis == "courts"
                else f"12 months to {period:%d %b %Y}",
                "unit": UNIT_NAMES[m.unit],
                "force": _value(row, m.key),
                "england_and_wales": _value(row, f"{m.key}_england_and_wales"),
                "peer_group": _value(row, f"{m.key}_peer_group"),
            }
        )
    frame = pd.DataFrame(records)
    for column in ("force", "england_and_wales", "peer_group"):
        frame[column] = frame[column].astype("Float64")
    return frame


def _value(row: pd.Series, key: str) -> float | None:
    value = row.get(key)
    return None if value is None or pd.isna(value) else float(value)


def format_value(value: object, unit: str) -> str:
    if value is None or pd.isna(value):
        return "not available"
    value = float(value)
    if unit == UNIT_NAMES["count"]:
        return f"{value:,.0f}"
    if unit == UNIT_NAMES["change"]:
        return f"{value:+.1%}"
    if unit == UNIT_NAMES["share"]:
        return f"{value:.1%}"
    if unit == UNIT_NAMES["per_1000"]:
        return f"{value:.2f}"
    return f"{value:.1f}"


def key_findings(row: pd.Series) -> list[str]:
    """Plain sentences on where the force stands, for the top of the profile."""
    name = row["area_name"]
    facts = []

    def compare(key: str, what: str, fmt: str) -> None:
        own, national = _value(row, key), _value(row, f"{key}_england_and_wales")
        group = _value(row, f"{key}_peer_group")
        if own is None or national is None:
            return
        side = "above" if own > national else "below" if own < national else "level with"
        text = f"{what}: {format(own, fmt)}, {side} England and Wales ({format(national, fmt)})"
        if group is not None:
            text += f" and its peer group ({format(group, fmt)})"
        facts.append(text + ".")

    compare("harassment_to_stalking_ratio", f"{name} recorded harassment crimes per stalking crime", ".1f")
    compare("stalking_rate_per_1000", "Recorded stalking per 1,000 residents", ".2f")
    compare(
        "stalking_share_charged_summonsed", "Share of stalking outcomes that were a charge or summons", ".0%"
    )
    compare(
        "stalking_share_evidential_difficulties_victim_does_not_support",
        "Share of stalking outcomes closed because the victim did not support action",
        ".0%",
    )
    if bool(row.get("harassment_to_stalking_outlier_flag")):
        facts.append(
            f"{name}'s harassment-to-stalking ratio is an outlier ({row.get('harassment_to_stalking_outlier_direction')}) "
            "among territorial forces: check how it records stalking."
        )
    return facts


def problem_profile_html(warehouse: str, area_code: str, period: dt.date) -> bytes:
    """The problem profile ``hsinsight profile`` writes for this force and period, as
    bytes: the same document, made by the same code (:mod:`hsinsight.profiles`)."""
    from hsinsight import profiles

    html_bytes, _ = profiles.render_bytes(Path(warehouse), area_code, period)
    return html_bytes


def problem_profile_pdf(warehouse: str, area_code: str, period: dt.date) -> bytes:
    """The PDF ``hsinsight profile --pdf`` prints for this force and period."""
    from hsinsight import profiles

    _, pdf_bytes = profiles.render_bytes(Path(warehouse), area_code, period, pdf=True)
    assert pdf_bytes is not None
    return pdf_bytes


def pdf_available() -> tuple[bool, str]:
    """Whether this machine can print the PDF (a Chromium is installed), and if not, why."""
    from hsinsight.profiles.pdf import chromium_available

    return chromium_available()
