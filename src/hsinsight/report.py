"""A short text account of a published warehouse, for the command line."""

from __future__ import annotations

from pathlib import Path

import duckdb


def describe_warehouse(warehouse: Path) -> str:
    """What a published warehouse holds: its files, whether they are synthetic, the latest figures."""
    from hsinsight.cli import SYNTHETIC_NOTICE

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{Path(warehouse).resolve()}' as wh (read_only)")
        files = con.execute(
            "select file_name, sheet, layout, rows, is_synthetic from wh.marts.source_files "
            "order by file_name, sheet"
        ).fetchall()
        latest = con.execute(
            """
            select period_end, offence_group, offences
            from wh.marts.recorded_crime_12m
            where area_type = 'national'
              and period_end = (select max(period_end) from wh.marts.recorded_crime_12m)
            order by offence_group
            """
        ).fetchall()
    finally:
        con.close()
    lines = [f"published {warehouse}, built from:"]
    lines += [
        f"  {name}"
        + (f" ({sheet})" if sheet else "")
        + f": {layout}, {rows:,} rows"
        + (" [SYNTHETIC]" if synthetic else "")
        for name, sheet, layout, rows, synthetic in files
    ]
    if latest:
        lines.append(f"England and Wales, 12 months to {latest[0][0]:%d %B %Y}:")
        lines += [f"  {group.replace('_', ' ')}: {offences:,}" for _, group, offences in latest]
    if any(f[4] for f in files):
        lines.append(SYNTHETIC_NOTICE)
    return "\n".join(lines)
