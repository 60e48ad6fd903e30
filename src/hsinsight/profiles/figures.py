"""The figures a problem profile states: what each is called, its unit and how it is
written, so the document and the sentence and question templates write a figure the same way.

A figure is named by its ``marts.problem_profile`` column (``stalking_offences``,
``harassment_to_stalking_ratio`` ...; the comparators end ``_england_and_wales`` and
``_peer_group``, the force's peer group) or by a name the profile derives from another mart:
``cps_<offence>_<step>`` (``marts.attrition``, the force's CPS Area),
``court_<section>_<measure>`` (``marts.court_outcomes``), ``restraining_orders_on_*``
(``marts.restraining_orders``) and ``<measure>_previous`` (the same measure a year earlier).
"""

from __future__ import annotations

import pandas as pd

#: A figure's comparator suffixes, and what they are called in the document.
COMPARATORS = {
    "_england_and_wales": "England and Wales",
    "_peer_group": "peer group",
    "_previous": "a year earlier",
}

#: Figures that are words, not numbers (filled into templates as they are).
TEXT_FIGURES = frozenset(
    {
        "area_name",
        "area_code",
        "period",
        "peer_group_name",
        "cps_area_name",
        "cps_financial_year",
        "court_calendar_year",
        "harassment_to_stalking_outlier_direction",
    }
)


def base_name(key: str) -> str:
    """The figure a comparator belongs to (``stalking_offences_peer_group`` -> ``stalking_offences``)."""
    for suffix in COMPARATORS:
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def unit_of(key: str) -> str:
    """The unit of a figure, from its name."""
    name = base_name(key)
    if name.endswith("_flag"):
        return "flag"
    if name in ("harassment_to_stalking_ratio",):
        return "ratio"
    if name.endswith("_robust_z_score"):
        return "number"
    if name.endswith("_pct_change"):
        return "change"
    if name.endswith("_rate_per_1000"):
        return "per_1000"
    if "_share_" in name or name.endswith("_conviction_ratio") or "_per_" in name:
        return "share"
    return "count"


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' missing values (a word is never missing)."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_value(value: object, unit: str) -> str:
    """A figure as the document writes it; ``not available`` when it is missing."""
    if is_missing(value):
        return "not available"
    if unit == "flag":
        return "yes" if bool(value) else "no"
    number = float(value)  # type: ignore[arg-type]
    if unit == "count":
        return f"{number:,.0f}"
    if unit == "change":
        return f"{number:+.1%}"
    if unit == "share":
        return f"{number:.1%}"
    if unit == "per_1000":
        return f"{number:.2f}"
    return f"{number:.1f}"


def format_figure(key: str, value: object) -> str:
    """A named figure as the document writes it."""
    if key in TEXT_FIGURES:
        return "not available" if is_missing(value) else str(value)
    return format_value(value, unit_of(key))
