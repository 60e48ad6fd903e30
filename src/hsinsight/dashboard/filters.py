"""The filters every page shares, kept in the session and in the page address.

    ?force=E23000013&cps_area=cps_wessex&offence=harassment&period=2016-12-31

``force``
    A police force area code (``forces``); absent: England and Wales.
``cps_area``
    A CPS Area code as in the attrition mart (``cps_london`` is London North and
    London South together); absent: England and Wales.
``offence``
    An offence group; absent: stalking. Pages offer the groups they have figures
    for and show any other as stalking, saying so.
``period``
    The end of the 12 months shown, an ISO date (``2016-12-31``); absent: the
    latest. A link may also say a calendar year (``2016``, read as its 31 December)
    or a financial year (``2015/16``, read as 31 March 2016). Pages with yearly
    figures show the latest year that ended by then: the calendar year for court
    figures, the financial year for CPS figures.

A value is kept only once a user chooses it, so a link without ``period`` always
opens the latest figures. ``app.py`` calls :func:`sync` on every run before the
page: a value in the address wins (an opened link, the browser's back button),
otherwise the session's is written back into the address, which Streamlit empties
when the user switches page. Values the warehouse does not know, and periods that are
no date at all (``0000``, ``2020-13-45``), are dropped with a visible note, never an
error; the note shows the value as text (``formatting.escape_markdown``), whatever it
holds.

Widgets write through ``on_change`` callbacks, which run before the script, so the
session, the address and every widget agree for the whole run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from hsinsight.dashboard.connection import WarehouseVersion
from hsinsight.dashboard.formatting import OFFENCE_LABELS, escape_markdown
from hsinsight.dashboard.queries import shared
from hsinsight.names import DEFAULT_OFFENCE

KEYS = ("force", "cps_area", "offence", "period")


#: Widget keys (stable: the browser tests find the widgets by them).
WIDGET_KEYS = {
    "force": "force_select",
    "cps_area": "cps_area_select",
    "offence": "offence_select",
    "period": "period_select",
}

_STATE = "hsinsight_filters"


@dataclass(frozen=True)
class Options:
    """What the published warehouse has to choose from."""

    forces: dict[str, str]  # area_code -> name, by name
    cps_areas: dict[str, str]  # CPS Area code -> name, by name
    periods: list[dt.date]  # 12-month period ends, latest first


def options(version: WarehouseVersion) -> Options:
    forces = shared.forces(version)
    areas = shared.cps_areas(version)
    return Options(
        forces=dict(zip(forces["area_code"], forces["area_name"], strict=True)),
        cps_areas=dict(zip(areas["area_code"], areas["area_name"], strict=True)),
        periods=shared.periods(version),
    )


# --------------------------------------------------------------------------- values


def parse_period(text: str) -> dt.date | None:
    """An ISO date, a calendar year (its 31 December) or a financial year (``2015/16``
    or ``2015-16``: 31 March 2016); None when the text is none of these, or names a day
    the calendar does not have (year 0, month 13, year 10000)."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return dt.date(int(text), 12, 31)
        match = re.fullmatch(r"(\d{4})[/-](\d{2})", text)
        if match:
            start = int(match.group(1))
            if (start + 1) % 100 == int(match.group(2)):
                return dt.date(start + 1, 3, 31)
            return None
        return dt.date.fromisoformat(text)
    except (ValueError, OverflowError):
        return None


def _md(value: object, *, code: bool = False) -> str:
    """``value`` as literal text in Markdown."""
    return escape_markdown(value, code=code)


def _saved() -> dict[str, str]:
    return st.session_state.setdefault(_STATE, {})


def get(name: str) -> str | None:
    """The shared value of one filter as the address holds it, or None when unset."""
    return _saved().get(name)


def period() -> dt.date | None:
    """The shared period, or None for the latest."""
    value = get("period")
    return parse_period(value) if value else None


def set_value(name: str, value: str | None) -> None:
    """Change one shared filter in the session and the address (None: back to the default)."""
    saved = _saved()
    if value in (None, ""):
        saved.pop(name, None)
    else:
        saved[name] = str(value)
    _write_address(saved, (name,))


def _write_address(saved: dict[str, str], names: Sequence[str] = KEYS) -> None:
    for name in names:
        want = saved.get(name)
        if want is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != want:
            st.query_params[name] = want


def sync(version: WarehouseVersion) -> Options:
    """Reconcile the address and the session, drop unknown values with a note, and
    put the session's filters back into the address. Returns the options."""
    opts = options(version)
    saved = _saved()
    for name in KEYS:
        if name in st.query_params:
            saved[name] = st.query_params[name]
        if saved.get(name) == "":
            del saved[name]  # `?force=` says nothing: the default
    notes = []
    force = saved.get("force")
    if force is not None and force not in opts.forces:
        notes.append(
            f"The link's police force area {_md(force, code=True)} is not in the warehouse: "
            "showing England and Wales."
        )
        del saved["force"]
    area = saved.get("cps_area")
    if area is not None and area not in opts.cps_areas:
        notes.append(
            f"The link's CPS Area {_md(area, code=True)} is not in the warehouse: showing England and Wales."
        )
        del saved["cps_area"]
    offence = saved.get("offence")
    if offence is not None and offence not in OFFENCE_LABELS:
        notes.append(
            f"The link's offence {_md(offence, code=True)} is not one the dashboards know: showing stalking."
        )
        del saved["offence"]
    text = saved.get("period")
    if text is not None:
        parsed = parse_period(text)
        if parsed is None:
            notes.append(
                f"The link's period {_md(text, code=True)} is not a date (`2016-12-31`), a year (`2016`) "
                "or a financial year (`2015/16`): showing the latest figures."
            )
            del saved["period"]
        else:
            saved["period"] = parsed.isoformat()
    _write_address(saved)
    for note in notes:
        st.warning(note, icon=":material/link_off:")
    return opts


def describe(opts: Options) -> list[str]:
    """The shared filters in words, for the sidebar (Markdown: names are escaped)."""
    lines = []
    force = get("force")
    lines.append(
        f"Force: {_md(opts.forces.get(force, 'England and Wales') if force else 'England and Wales')}"
    )
    area = get("cps_area")
    lines.append(
        f"CPS Area: {_md(opts.cps_areas.get(area, 'England and Wales') if area else 'England and Wales')}"
    )
    lines.append(f"Offence: {_md(OFFENCE_LABELS.get(get('offence') or DEFAULT_OFFENCE))}")
    chosen = period()
    lines.append(f"Period: 12 months to {chosen:%d %b %Y}" if chosen else "Period: the latest")
    return lines


# --------------------------------------------------------------------------- widgets


def _follow(widget_key: str, value: object) -> None:
    """Make a widget show the shared value (set before the widget is drawn).

    Always set, even when the session already holds that value under the key: after a
    page switch it may belong to the same-keyed widget of the page left, which the new
    page's widget does not inherit.
    """
    st.session_state[widget_key] = value


def _on_change(name: str, widget_key: str, to_text: Callable[[object], str | None]) -> None:
    set_value(name, to_text(st.session_state[widget_key]))


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def force_select(
    opts: Options,
    *,
    label: str = "Police force area",
    none_label: str | None = "None: England and Wales only",
    help: str | None = None,
) -> str | None:
    """A police force area picker bound to the shared ``force`` filter.

    With ``none_label`` the first option is no force (returns None); without, a
    force is needed and the first one stands in until the user picks one.
    """
    codes = list(opts.forces)
    current = get("force")
    if none_label is not None:
        choices = ["", *codes]
        value = current if current in opts.forces else ""
    else:
        choices = codes
        value = current if current in opts.forces else codes[0]
    key = WIDGET_KEYS["force"]
    _follow(key, value)
    st.selectbox(
        label,
        choices,
        format_func=lambda code: opts.forces.get(code, none_label or code),
        key=key,
        on_change=_on_change,
        args=("force", key, _text),
        help=help or "Kept in the page address, so a link opens the same view.",
    )
    return value or None


def cps_area_select(opts: Options, *, label: str = "CPS Area") -> str | None:
    """A CPS Area picker bound to the shared ``cps_area`` filter; None: England and Wales."""
    current = get("cps_area")
    value = current if current in opts.cps_areas else ""
    key = WIDGET_KEYS["cps_area"]
    _follow(key, value)
    st.selectbox(
        label,
        ["", *opts.cps_areas],
        format_func=lambda code: opts.cps_areas.get(code, "None: England and Wales only"),
        key=key,
        on_change=_on_change,
        args=("cps_area", key, _text),
        help="CPS figures exist only for CPS Areas and England and Wales. Kept in the page address.",
    )
    return value or None


def offence_select(allowed: Sequence[str], *, label: str = "Offence") -> str:
    """An offence picker bound to the shared ``offence`` filter, offering ``allowed``.

    A shared offence this page has no figures for is shown as the first allowed one,
    with a note; the shared value is kept for the pages that have it.
    """
    current = get("offence") or DEFAULT_OFFENCE
    value = current if current in allowed else allowed[0]
    key = WIDGET_KEYS["offence"]
    _follow(key, value)
    st.selectbox(
        label,
        list(allowed),
        format_func=lambda group: OFFENCE_LABELS.get(group, group),
        key=key,
        on_change=_on_change,
        args=("offence", key, _text),
    )
    if current != value:
        st.info(
            f"This page has no figures for {_md(OFFENCE_LABELS.get(current, current).lower())}: "
            f"showing {_md(OFFENCE_LABELS.get(value, value).lower())}.",
            icon=":material/filter_alt_off:",
        )
    return value


def period_select(
    choices: Sequence[dt.date],
    *,
    label: str = "12 months to",
    format_label: Callable[[dt.date], str] = lambda d: f"{d:%d %b %Y}",
    resolve: Callable[[dt.date, Sequence[dt.date]], dt.date | None] | None = None,
    unit: str = "12-month figures",
) -> dt.date:
    """A period picker bound to the shared ``period`` filter.

    ``choices`` are the period ends this page has, latest first. ``resolve`` maps the
    shared period onto one of them (default: the same date); when it finds none the
    page shows the latest with a note.
    """
    if not choices:
        raise ValueError("period_select needs at least one period")
    shared = period()
    value = choices[0]
    note = None
    if shared is not None:
        found = resolve(shared, choices) if resolve else (shared if shared in choices else None)
        if found is None:
            note = (
                f"No {unit} for the period chosen ({shared:%d %b %Y}) on this page: showing the latest, "
                f"{format_label(choices[0])}."
            )
        else:
            value = found
    iso = [d.isoformat() for d in choices]
    key = WIDGET_KEYS["period"]
    _follow(key, value.isoformat())
    st.selectbox(
        label,
        iso,
        format_func=lambda text: format_label(dt.date.fromisoformat(text)),
        key=key,
        on_change=_on_change,
        args=("period", key, _text),
        help="Kept in the page address. With no choice the page shows the latest figures.",
    )
    if note:
        st.info(note, icon=":material/event_busy:")
    elif shared is not None and value != shared:
        st.caption(
            f"Showing {format_label(value)}: the {unit} here are for whole years, and that is the "
            f"latest to end by {shared:%d %b %Y}, the period chosen."
        )
    return value


def latest_year_ended_by(month: int, day: int) -> Callable[[dt.date, Sequence[dt.date]], dt.date | None]:
    """A ``resolve`` for yearly figures: the latest year end (``month``/``day``) on or
    before the shared period that the page has."""

    def resolve(shared: dt.date, choices: Sequence[dt.date]) -> dt.date | None:
        ended = [d for d in choices if d <= shared and (d.month, d.day) == (month, day)]
        return max(ended) if ended else None

    return resolve


def as_date(value: object) -> dt.date:
    return pd.Timestamp(value).date()
