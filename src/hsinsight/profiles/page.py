"""The pieces every page of a problem profile is built from: the stylesheet (A4 print,
running header, the synthetic-data banner), figure cells, tables, caveat notes and the
frame of a themed section."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence

from hsinsight.profiles.caveats import CAVEATS, SYNTHETIC_BANNER
from hsinsight.profiles.data import Profile
from hsinsight.profiles.figures import format_figure, format_value, is_missing

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


def _theme(section_id: str, title: str, intro: str, body: str, caveats: str, *, page: bool = False) -> str:
    css = "theme page" if page else "theme"
    return f"""
<section class="{css}" id="{section_id}">
<h2>{_e(title)}</h2>
<p>{_e(intro)}</p>
{body}
{caveats}
</section>"""
