"""Release revisions: a new release of a period replaces the rows of earlier ones.

What it changed (rows added, removed, counts revised) is recorded in
``raw._release_changes`` and ``raw._revised_cells``. Two files of one run may share a
period but never a row.
"""

from __future__ import annotations

from datetime import datetime

from hsinsight.errors import InputFileError
from hsinsight.ingest.keys import _key_sql, _period_sql
from hsinsight.ingest.sql import _count_sql, _quote
from hsinsight.ingest.tables import Table
from hsinsight.raw import RELEASE_CHANGES_TABLE, REVISED_CELLS_TABLE


def _replace_release(
    con, table: Table, sha256: str, loaded_at: datetime, this: str
) -> tuple[list[str], list[dict]]:
    """Let the table's rows (``raw.<table> where this``) replace the rows of earlier
    releases for the periods they cover; record what changed."""
    layout = table.layout
    raw = f"raw.{layout.raw_table}"
    period = _period_sql(layout, f'"{layout.period}"')
    period_of_value = _period_sql(layout, "v")
    con.execute(
        f"""
        create or replace temp table incoming_periods as
        select distinct {period_of_value} as p
        from (select distinct "{layout.period}" as v from {raw} where {this})
        """
    )
    periods = [r[0] for r in con.execute("select p from incoming_periods order by 1").fetchall()]
    covered = f"{period} in (select p from incoming_periods)"
    key = _key_sql(layout, lambda name: f'"{name}"')
    counts = [c.name for c in layout.columns if c.kind in ("count", "total", "rate")]
    changes: list[dict] = []
    previous = con.execute(
        f"""
        select {period} as period, _file_name, any_value(_sha256), count(*)
        from {raw}
        where {covered} and _loaded_at <> ?
        group by all order by 1, 2
        """,
        [loaded_at],
    ).fetchall()
    if previous:
        diff_columns = " or ".join(f'o."{c}" is distinct from n."{c}"' for c in counts) or "false"
        count_change = " + ".join(
            f"coalesce({_count_sql(f'n.{_quote(c)}')}, 0) - coalesce({_count_sql(f'o.{_quote(c)}')}, 0)"
            for c in counts
            if layout.column(c).kind != "rate"
        )
        # a key repeated within a release (rows outside the layout's scope may) is
        # told apart by its place among the rows sharing it
        unique_key = (
            f"{key} || case when count(*) over (partition by {key}, {period}) > 1 then ' #' || "
            f"row_number() over (partition by {key}, {period} order by _row_number) else '' end"
        )
        con.execute(
            f"""
            create or replace temp table old_rows as
            select *, {unique_key} as k, {period} as p from {raw}
            where {covered} and _loaded_at <> ?
            """,
            [loaded_at],
        )
        con.execute(
            f"create or replace temp table new_rows as select *, {unique_key} as k, {period} as p from {raw} where {this}"
        )
        summary = con.execute(
            f"""
            select coalesce(n.p, o.p) as p,
                   count(*) filter (where o.k is null) as added,
                   count(*) filter (where n.k is null) as removed,
                   count(*) filter (where o.k is not null and n.k is not null and ({diff_columns})) as revised,
                   coalesce(sum({count_change or "0"}), 0) as change
            from old_rows o full join new_rows n on o.k = n.k and o.p = n.p
            group by 1 order by 1
            """
        ).fetchall()
        old_files = {}
        for p, file_name, old_sha, _ in previous:
            old_files.setdefault(p, []).append((file_name, old_sha))
        for p, added, removed, revised, change in summary:
            if p not in old_files:
                continue
            names = ", ".join(sorted({f for f, _ in old_files[p]}))
            shas = ", ".join(sorted({s for _, s in old_files[p]}))
            con.execute(
                f"insert into raw.{RELEASE_CHANGES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    layout.source,
                    p,
                    names,
                    shas,
                    table.file.name,
                    sha256,
                    added,
                    removed,
                    revised,
                    change,
                    loaded_at,
                ],
            )
            changes.append(
                {"period": p, "previous_file": names, "rows_added": added, "rows_removed": removed,
                 "rows_revised": revised, "count_change": change}
            )  # fmt: skip
        for c in counts:
            con.execute(
                f"""
                insert into raw.{REVISED_CELLS_TABLE}
                select ?, n.p, ?, n.k, ?, o."{c}", n."{c}", ?
                from old_rows o join new_rows n on o.k = n.k and o.p = n.p
                where o."{c}" is distinct from n."{c}"
                """,
                [layout.source, table.file.name, (layout.column(c).headers or (c,))[0], loaded_at],
            )
        con.execute(
            f"delete from {raw} where {covered} and _loaded_at <> ?",
            [loaded_at],
        )
    return periods, changes


def _check_same_run(con, table: Table, loaded_at: datetime, this: str) -> None:
    """Two files of one run may share a period (one release split across files) but
    never a row: the same key in both is refused, naming both places."""
    layout = table.layout
    if not layout.key:
        return
    raw = f"raw.{layout.raw_table}"
    earlier_rows = f"_loaded_at = ? and not ({this})"
    earlier = con.execute(f"select exists (select 1 from {raw} where {earlier_rows})", [loaded_at]).fetchone()
    if not earlier[0]:
        return  # the first table of this layout in the run
    key = _key_sql(layout, lambda name: f'"{name}"')
    found = con.execute(
        f"""
        with earlier as (
            select {key} as k, _file_name, _sheet, _row_number
            from {raw} where {earlier_rows}
        ), incoming_keys as (
            select {key} as k, _row_number from {raw} where {this}
        )
        select e._file_name, e._sheet, e._row_number, i._row_number
        from incoming_keys i join earlier e on i.k = e.k
        order by i._row_number limit 1
        """,
        [loaded_at],
    ).fetchone()
    if found:
        first_file, first_sheet, first_row, row = found
        where = f"{first_file}" + (f" sheet {first_sheet!r}" if first_sheet else "")
        raise InputFileError(
            table.file,
            f"repeats a row already loaded in this run from {where} row {first_row} (same "
            + ", ".join(layout.key)
            + "); expected each row once: ingest one release at a time (a later release replaces an "
            "earlier one)",
            row=row,
            sheet=table.sheet,
        )
