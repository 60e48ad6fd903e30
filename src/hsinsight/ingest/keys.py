"""Row keys and periods of a loaded table: duplicate rows and rolling totals.

A row's key (its area, offence, period ...) must appear once in a table; rolling
totals over periods are checked across the tables loaded in a run.
"""

from __future__ import annotations

import logging
from datetime import datetime

import duckdb

from hsinsight.errors import InputFileError
from hsinsight.ingest.sql import _count_sql, _in_scope, _name_key, _quote, _scope_words, _sql_list
from hsinsight.ingest.tables import Table
from hsinsight.sources.base import Column, Layout

log = logging.getLogger(__name__)


def _key_part(column: Column, col: str) -> str:
    """SQL normalising one key cell the way the marts will read it."""
    if column.kind == "force":
        return f"coalesce((select body_key from force_names where name_key = {_name_key(col)}), '')"
    if column.kind == "cps_area":
        return f"coalesce((select body_key from cps_area_names where name_key = {_name_key(col)}), '')"
    if column.kind == "financial_year":
        return f"substr(trim({col}), 1, 4)"
    if column.kind == "outcome_type":
        return f"coalesce(nullif(lower(trim({col})), ''), '0')"
    if column.kind == "quarter_end_date":
        return _quarter_end_sql(col)
    return f"coalesce(lower(trim({col})), '')"


def _quarter_end_sql(col: str) -> str:
    """SQL: a dd/mm/yyyy date as the last day of its month, ISO-written ('30/12/2017',
    as one release writes the quarter ending 31 December 2017, gives 2017-12-31)."""
    return f"coalesce(strftime(last_day(try_strptime(trim({col}), '%d/%m/%Y')), '%Y-%m-%d'), '')"


def _key_sql(layout: Layout, column_sql, names: tuple[str, ...] | None = None) -> str:
    """SQL for a layout's key (or for the key columns ``names``). ``column_sql`` maps a
    canonical column name to the SQL naming it (a staged ``cN`` column or a raw table
    column), or None when absent."""
    parts = []
    for name in layout.key if names is None else names:
        col = column_sql(name)
        parts.append("''" if col is None else _key_part(layout.column(name), col))
    return "concat_ws(' | ', " + ", ".join(parts) + ")"


def _stage_column(table: Table):
    """Column SQL for the staged or streamed columns ``c0, c1, ...`` of ``table``."""

    melt = table.layout.melt

    def column_sql(name: str) -> str | None:
        if name in table.positions:
            return f"c{table.positions[name]}"
        if name in table.constants:
            return "'" + table.constants[name].replace("'", "''") + "'"
        if melt is not None and table.melted:
            # one raw row per period column: DuckDB unnests the two lists side by side
            if name == melt.label_column:
                return f"unnest([{_sql_list(table.melted.values())}])"
            if name == melt.value_column:
                return "unnest([" + ", ".join(f"c{i}" for i in table.melted) + "])"
        return None

    return column_sql


def _loaded_column(table: Table):
    """Column SQL for ``table``'s rows in its raw table: the columns it had (from the
    file or its title rows), None for the others."""

    def column_sql(name: str) -> str | None:
        return _quote(name) if table.provides(name) else None

    return column_sql


def _keyed_rows(
    con: duckdb.DuckDBPyConnection,
    layout: Layout,
    names: tuple[str, ...],
    column_sql,
    source: str,
    where: str,
) -> tuple[str, str]:
    """A FROM clause over ``source`` (aliased ``r``) and the SQL of the key made of
    ``names`` (as ``_key_sql`` writes it) for its rows matching ``where``.

    A force or CPS Area name is looked up once per spelling rather than once per
    row: each such column's distinct values are put in a temporary map that the rows
    join.
    """
    joins, parts = [], []
    for i, name in enumerate(names):
        col = column_sql(name)
        column = layout.column(name)
        if col is None:
            parts.append("''")
        elif column.kind in ("force", "cps_area"):
            con.execute(
                f"""
                create or replace temp table key_map_{i} as
                select v, {_key_part(column, "v")} as k
                from (select distinct {col} as v from {source} where {where})
                """
            )
            joins.append(f"left join key_map_{i} on r.{col} = key_map_{i}.v")
            parts.append(f"coalesce(key_map_{i}.k, '')")
        else:
            parts.append(_key_part(column, f"r.{col}"))
    return f"{source} as r " + " ".join(joins), "concat_ws(' | ', " + ", ".join(parts) + ")"


def _check_duplicates(con: duckdb.DuckDBPyConnection, table: Table, this: str) -> None:
    """Refuse a repeated key among the rows in scope; count the others in the notes
    (the real recorded crime table repeats homicide's code four times a quarter)."""
    if not table.layout.key:
        return
    raw = f"raw.{table.layout.raw_table}"
    if table.layout.scope is not None:
        source, key = _keyed_rows(con, table.layout, table.layout.key, _loaded_column(table), raw, this)
        outside = con.execute(
            f"""
            select coalesce(sum(n - 1), 0) from (
                select count(*) as n from {source} where {this} and not {_in_scope(table.layout)}
                group by md5_number({key}) having count(*) > 1
            )
            """
        ).fetchone()[0]
        if outside:
            table.notes.append(
                f"{outside} row{'s' if outside > 1 else ''} repeating the key of an earlier row, outside "
                f"{_scope_words(table.layout)}, kept as published"
            )
        this = f"{this} and {_in_scope(table.layout)}"
    source, key = _keyed_rows(con, table.layout, table.layout.key, _loaded_column(table), raw, this)
    # Equal keys have equal digests: no repeated digest, no repeated key. (An MD5
    # digest rather than DuckDB's hash(), whose values for short keys collide.)
    repeated = con.execute(
        f"""
        select exists (
            select 1 from (select md5_number({key}) as digest from {source} where {this})
            group by digest having count(*) > 1
        )
        """
    ).fetchone()[0]
    if not repeated:
        return
    # Rows are told apart by their place in the raw table as well as their row number:
    # the rows a wide table's row becomes share its row number.
    found = con.execute(
        f"""
        with keyed as (
            select r._row_number as row_number, r.rowid as place, {key} as k from {source} where {this}
        ), ranked as (
            select row_number, min(row_number) over (partition by k) as first_row,
                   row_number() over (partition by k order by row_number, place) as nth
            from keyed
        )
        select row_number, first_row, (select count(*) from ranked where nth > 1)
        from ranked where nth > 1 order by row_number limit 1
        """
    ).fetchone()
    if found:
        row, first, count = found
        names = [table.header_of(n) or n for n in table.layout.key if table.provides(n)]
        more = f" ({count - 1} more duplicate row{'s' if count > 2 else ''})" if count > 1 else ""
        first_key = table.layout.key[0]
        if row == first:
            melt = table.layout.melt
            columns = (
                f" (two of its columns have one {melt.label_column.replace('_', ' ')} as header)"
                if melt is not None and table.melted
                else ""
            )
            reason = (
                f"holds the same {', '.join(repr(n) for n in names)} twice{columns}{more}; "
                "expected one value per key"
            )
        else:
            reason = (
                f"duplicates row {first}: the same {', '.join(repr(n) for n in names)} "
                f"appears twice{more}; expected one row per key"
            )
        raise InputFileError(
            table.file,
            reason,
            row=row,
            column=table.header[table.positions[first_key]] if first_key in table.positions else None,
            sheet=table.sheet,
        )
    raise InputFileError(
        table.file,
        "repeats a key (the same " + ", ".join(table.layout.key) + "); expected one row per key",
        sheet=table.sheet,
    )


def _period_sql(layout: Layout, col: str) -> str:
    """SQL giving the release period a row belongs to, canonically written."""
    column = layout.column(layout.period)
    if column.kind == "financial_year":
        start = f"try_cast(substr(trim({col}), 1, 4) as integer)"
        return f"{start}::varchar || '/' || lpad((({start} + 1) % 100)::varchar, 2, '0')"
    if column.kind == "quarter_end_date":
        return _quarter_end_sql(col)
    return f"lower(regexp_replace(trim({col}), '\\s+', ' ', 'g'))"


def _check_rolling_totals(con: duckdb.DuckDBPyConnection, layout: Layout, loaded_at: datetime) -> list[str]:
    """No 12-month total (four consecutive quarters of one key) may be negative.

    Checked on the raw table after loading, so windows spanning two files (a
    financial year per file, or an earlier run's file) are covered. Only windows
    ending in a row this run loaded are checked. The error names the row that ends
    the negative window, in the file it came from.

    Four quarters can only add up to less than zero if one of them is negative, so
    the windows are summed only for the keys that have a negative quarter (found
    first by the parts of the key that need no name lookup).

    Only the rows in the layout's scope are held to this; negative 12-month totals
    among the others are counted and returned as notes for the ingest log.
    """
    notes: list[str] = []
    if not layout.rolling_total_columns:
        return notes
    raw = f"raw.{layout.raw_table}"
    group_cols = tuple(n for n in layout.key if n not in ("financial_year", "financial_quarter"))
    exclude = (
        " and ".join(
            f"coalesce(lower(trim(\"{name}\")), '') not in ({_sql_list(v.lower() for v in values)})"
            for name, values in layout.rolling_total_exclude
        )
        or "true"
    )
    index = "try_cast(substr(trim(financial_year), 1, 4) as integer) * 4 + try_cast(trim(financial_quarter) as integer)"
    in_scope = _in_scope(layout)
    for column in layout.rolling_total_columns:
        value = _count_sql(_quote(column))
        negative = f"{exclude} and {value} < 0"
        if not con.execute(f"select exists (select 1 from {raw} where {negative})").fetchone()[0]:
            continue
        if layout.scope is not None:
            windows = _negative_windows_sql(con, layout, raw, f"{exclude} and not {in_scope}", value, index)
            outside = con.execute(f"select count(*) from ({windows})", [loaded_at]).fetchone()[0]
            if outside:
                notes.append(
                    f"{outside} negative 12-month total{'s' if outside > 1 else ''} (column {column}) in rows "
                    f"outside {_scope_words(layout)}, kept as published"
                )
            exclude = f"{exclude} and {in_scope}"
            negative = f"{exclude} and {value} < 0"
            if not con.execute(f"select exists (select 1 from {raw} where {negative})").fetchone()[0]:
                continue
        parts = [
            _key_part(layout.column(name), _quote(name))
            for name in group_cols
            if layout.column(name).kind not in ("force", "cps_area")
        ]
        candidates = " and ".join(
            [exclude, *(f"{part} in (select distinct {part} from {raw} where {negative})" for part in parts)]
        )
        windows = _negative_windows_sql(con, layout, raw, candidates, value, index)
        found = con.execute(
            f"{windows} order by _file_name, _sheet, _row_number limit 1", [loaded_at]
        ).fetchone()
        if found:
            file_name, sheet, row, total, group_key, q = found
            header = layout.column(column).headers[0]
            year, quarter = divmod(q - 1, 4)
            raise InputFileError(
                file_name,
                f"the 12 months to the end of {year}/{(year + 1) % 100:02d} Q{quarter + 1} total {total} for "
                f"{group_key!r}: a 12-month total cannot be negative; expected four consecutive quarters to add up to "
                "zero or more (a negative quarterly cell is a published correction and is kept)",
                row=row,
                column=header,
                sheet=sheet,
            )
    return notes


def _negative_windows_sql(con, layout: Layout, raw: str, where: str, value: str, index: str) -> str:
    """SQL (one ``?``: this run's load time) listing the 12-month windows among the rows
    ``where`` that end in a row this run loaded and add up below zero: the ending row's
    file, sheet and row number, the total, the key and the quarter index. Windows are
    summed only for the keys with a negative quarter."""
    group_cols = tuple(n for n in layout.key if n not in ("financial_year", "financial_quarter"))
    source, group = _keyed_rows(con, layout, group_cols, _quote, raw, where)
    return f"""
        with rows as (
            select {group} as g, {index} as q, {value} as v,
                   _loaded_at, _file_name, _sheet, _row_number
            from {source}
            where {where}
        ), negative_keys as (
            select distinct g from rows where v < 0
        ), windows as (
            select *, sum(v) over w as total, count(*) over w as quarters
            from rows
            where g in (select g from negative_keys)
            window w as (partition by g order by q range between 3 preceding and current row)
        )
        select _file_name, _sheet, _row_number, total, g, q
        from windows
        where quarters = 4 and total < 0 and _loaded_at = ?
        """
