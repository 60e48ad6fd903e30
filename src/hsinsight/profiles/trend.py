"""The trend since the series began: the force against its peer group and England and Wales."""

from __future__ import annotations

from hsinsight.names import NATIONAL_NAME
from hsinsight.profiles import charts
from hsinsight.profiles.caveats import SERIES_BREAKS
from hsinsight.profiles.charts import AREA_COLOURS, Series
from hsinsight.profiles.data import Profile
from hsinsight.profiles.figures import format_figure, is_missing
from hsinsight.profiles.page import PEER, _caveats, _e, _formatter, _period, _raw, _table, _theme
from hsinsight.profiles.themes import _points


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
