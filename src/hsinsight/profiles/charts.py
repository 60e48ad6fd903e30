"""Charts drawn as inline SVG: no script, no network, crisp on paper.

Each function returns one ``<svg>`` element sized by its ``viewBox`` (it scales to the
width of the page), with a ``<title>`` and ``<desc>`` naming what it shows, so a screen
reader and a printed page both get it. Colours are Okabe-Ito, distinguishable with the
common forms of colour blindness; the force, England and Wales and the peer group are also
told apart by line style and by the legend, not by colour alone.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hsinsight.profiles.caveats import SERIES_BREAKS

#: Okabe-Ito colours: distinguishable with the common forms of colour blindness. The
#: dashboard draws with the same palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: The force, England and Wales and the peer group, wherever they are compared.
AREA_COLOURS = {"force": OKABE_ITO["orange"], "national": OKABE_ITO["black"], "group": OKABE_ITO["sky_blue"]}
GRID = "#d9d9d9"
INK = "#222222"
MUTED = "#666666"
FONT = 11
WIDTH = 680

Formatter = Callable[[float], str]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg(height: float, title: str, description: str, body: list[str], kind: str) -> str:
    return (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="{FONT}" font-family="inherit">'
        f"<title>{_e(title)}</title><desc>{_e(description)}</desc>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: float = FONT, fill: str = INK,
          weight: str = "normal", extra: str = "") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
        f'font-weight="{weight}"{extra}>{_e(text)}</text>'
    )


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-12:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


@dataclass(frozen=True)
class Bar:
    """One bar of a group: who (legend name), its value (None: not available), its colour."""

    name: str
    value: float | None
    colour: str


def grouped_bars(
    title: str, groups: Sequence[tuple[str, Sequence[Bar]]], fmt: Formatter, *, description: str
) -> str:
    """Horizontal bars, one group per measure (its label on the left), each bar labelled
    with its value; a missing value says so instead of drawing a bar of zero."""
    label_width, value_room, bar, gap, group_gap, top = 190, 70, 13, 3, 12, 26
    names = list(dict.fromkeys(b.name for _, bars in groups for b in bars))
    colours = {b.name: b.colour for _, bars in groups for b in bars}
    values = [b.value for _, bars in groups for b in bars if b.value is not None]
    ticks = nice_ticks(max(values, default=1.0))
    scale = (WIDTH - label_width - value_room) / ticks[-1]
    body = _legend(names, colours, 0, 12)
    y = top
    for label, bars in groups:
        height = len(bars) * (bar + gap)
        body.append(_wrapped(4, y + height / 2, label, 30))
        for b in bars:
            if b.value is None:
                body.append(_text(label_width + 4, y + bar - 3, "not available", fill=MUTED, size=FONT - 1))
            else:
                length = max(b.value, 0) * scale
                body.append(
                    f'<rect x="{label_width}" y="{y:.1f}" width="{length:.1f}" height="{bar}" fill="{b.colour}">'
                    f"<title>{_e(b.name)}: {_e(fmt(b.value))}</title></rect>"
                )
                body.append(_text(label_width + length + 4, y + bar - 3, fmt(b.value), size=FONT - 1))
            y += bar + gap
        y += group_gap
    axis = y - group_gap + 4
    for tick in ticks:
        x = label_width + tick * scale
        body.insert(0, f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis:.1f}" stroke="{GRID}"/>')
        body.append(_text(x, axis + 12, fmt(tick), anchor="middle", size=FONT - 2, fill=MUTED))
    return _svg(axis + 18, title, description, body, "bars")


def _wrapped(x: float, y_middle: float, text: str, width: int) -> str:
    """A label on up to three lines, centred on ``y_middle``."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    lines = lines[:3]
    first = y_middle - (len(lines) - 1) * 6.5 + 4
    spans = "".join(
        f'<tspan x="{x}" y="{first + i * 13:.1f}">{_e(part)}</tspan>' for i, part in enumerate(lines)
    )
    return f'<text font-size="{FONT - 0.5}" fill="{INK}">{spans}</text>'


def _lines(text: str, width: int) -> list[str]:
    """``text`` broken between words into lines of at most ``width`` characters."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line]


def _legend(names: Sequence[str], colours: dict[str, str], x: float, y: float,
            dashes: dict[str, str] | None = None) -> list[str]:  # fmt: skip
    body, cursor = [], x
    for name in names:
        dash = (dashes or {}).get(name)
        if dash is None:
            body.append(f'<rect x="{cursor:.1f}" y="{y - 9}" width="12" height="10" fill="{colours[name]}"/>')
        else:
            body.append(
                f'<line x1="{cursor:.1f}" y1="{y - 4}" x2="{cursor + 16:.1f}" y2="{y - 4}" stroke="{colours[name]}" '
                f'stroke-width="2.5" stroke-dasharray="{dash}"/>'
            )
        body.append(_text(cursor + 20, y, name))
        cursor += 30 + 6.2 * len(name)
    return body


@dataclass(frozen=True)
class Series:
    """A line: legend name, colour, dash pattern ('' for solid) and its (date, value) points."""

    name: str
    colour: str
    dash: str
    points: Sequence[tuple[dt.date, float | None]]


def line_chart(
    title: str, series: Sequence[Series], fmt: Formatter, *, description: str, height: int = 230
) -> str:
    """Lines over time from zero, with the recording-rule changes as labelled dotted lines.
    A missing point breaks its line rather than joining across the gap."""
    left, right, top, bottom = 56, 12, 30, 26
    dates = [d for s in series for d, v in s.points if v is not None]
    values = [v for s in series for _, v in s.points if v is not None]
    if not dates:
        return _svg(60, title, description, [_text(8, 30, "No figures for this chart.", fill=MUTED)], "lines")
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    ticks = nice_ticks(max(values) * 1.05)
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def x(d: dt.date) -> float:
        return left + (d - first).days / span * plot_w

    def y(v: float) -> float:
        return top + plot_h - v / ticks[-1] * plot_h

    body = _legend([s.name for s in series], {s.name: s.colour for s in series}, left, 12,
                   {s.name: s.dash or "none" for s in series})  # fmt: skip
    for tick in ticks:
        body.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{WIDTH - right}" y2="{y(tick):.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 4, y(tick) + 4, fmt(tick), anchor="end", size=FONT - 2, fill=MUTED))
    for year in range(first.year + (first.month > 3), last.year + 1):
        mark = dt.date(year, 3, 31)
        if first <= mark <= last and (year - first.year) % 2 == 0:
            # a label at either edge is anchored inside the chart, not cut off by it
            anchor = "end" if x(mark) > WIDTH - right - 22 else "start" if x(mark) < left + 22 else "middle"
            body.append(
                _text(x(mark), top + plot_h + 14, f"Mar {year}", anchor=anchor, size=FONT - 2, fill=MUTED)
            )
    for brk in SERIES_BREAKS:
        if first < brk.date <= last:
            bx = x(brk.date)
            body.append(
                f'<line x1="{bx:.1f}" y1="{top}" x2="{bx:.1f}" y2="{top + plot_h}" stroke="{MUTED}" '
                f'stroke-dasharray="2 3"><title>{_e(brk.description)}</title></line>'
            )
            body.append(
                _text(
                    bx - 3,
                    top + 4,
                    brk.label,
                    anchor="end",
                    size=FONT - 3,
                    fill=MUTED,
                    extra=f' transform="rotate(-90 {bx - 3:.1f} {top + 4})"',
                )  # fmt: skip
            )
    for s in series:
        runs: list[list[str]] = [[]]
        for d, v in s.points:
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(d):.1f},{y(v):.1f}")
        for run in runs:
            if len(run) > 1:
                dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{s.colour}" stroke-width="2.2"{dash}/>'
                )
            elif run:
                cx, cy = run[0].split(",")
                body.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{s.colour}"/>')
    return _svg(height, title, description, body, "lines")


def stacked_shares(
    title: str,
    rows: Sequence[tuple[str, dict[str, float]]],
    categories: Sequence[tuple[str, str, str]],
    *,
    description: str,
) -> str:
    """One 100% bar per row (label, {category: share}); ``categories`` are (key, name,
    colour) in stacking order; the legend below names every category drawn."""
    label_width, bar, gap, top = 150, 20, 8, 6
    plot_w = WIDTH - label_width - 10
    body: list[str] = []
    y = top
    for label, shares in rows:
        body.append(_wrapped(4, y + bar / 2, label, 24))
        x = float(label_width)
        for key, name, colour in categories:
            share = shares.get(key) or 0.0
            if share <= 0:
                continue
            width = share * plot_w
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{bar}" fill="{colour}" '
                f'stroke="#ffffff" stroke-width="0.6"><title>{_e(name)}: {share:.1%}</title></rect>'
            )
            if width > 34:
                fill = (
                    "#ffffff"
                    if colour in (OKABE_ITO["black"], OKABE_ITO["blue"], OKABE_ITO["vermillion"])
                    else INK
                )
                body.append(
                    _text(
                        x + width / 2, y + bar - 6, f"{share:.0%}", anchor="middle", size=FONT - 2, fill=fill
                    )
                )
            x += width
        y += bar + gap
    used = [c for c in categories if any((shares.get(c[0]) or 0) > 0 for _, shares in rows)]
    y += 6
    # two columns; a name too long for its column goes on as many lines as it needs
    for pair in (used[i : i + 2] for i in range(0, len(used), 2)):
        lines = 1
        for column, (_, name, colour) in enumerate(pair):
            cx = 4 + column * (WIDTH / 2)
            body.append(f'<rect x="{cx:.1f}" y="{y:.1f}" width="11" height="10" fill="{colour}"/>')
            parts = _lines(name, 56)
            for i, part in enumerate(parts):
                body.append(_text(cx + 16, y + 9 + i * 12, part, size=FONT - 1.5))
            lines = max(lines, len(parts))
        y += 2 + 12 * lines
    return _svg(y + 4, title, description, body, "stacked")
