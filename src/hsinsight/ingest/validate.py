"""Checking the cells of a loaded table: counts, codes, names and the layout's scope.

Each check finds the first bad row and refuses the file naming that row and column
and saying what was expected; the duplicate-row check of ``keys`` runs with them.
"""

from __future__ import annotations

import duckdb

from hsinsight.errors import InputFileError
from hsinsight.ingest.keys import _check_duplicates
from hsinsight.ingest.sql import (
    MARKERS_TEXT,
    _count_sql,
    _footnote_free,
    _in_scope,
    _is_marker,
    _name_key,
    _quote,
    _scope_words,
    _sql_list,
)
from hsinsight.ingest.tables import Table
from hsinsight.sources.base import DECIMAL_NUMBER, WHOLE_NUMBER, Column


def _first_bad(con, table: Table, this: str, value: str, condition: str) -> tuple[int, str, int] | None:
    """The first of this table's rows meeting ``condition``: (file row, its ``value``, how many rows)."""
    found = con.execute(
        f"""
        select min(_row_number), arg_min({value}, _row_number), count(*)
        from raw.{table.layout.raw_table} where {this} and ({condition})
        """
    ).fetchone()
    if found is None or found[2] == 0:
        return None
    return int(found[0]), found[1], int(found[2])


#: The check of a "total" column that only the rows in a layout's scope must pass.
_NEGATIVE_TOTAL = "is negative; expected zero or more"


def _checks_for(column: Column, col: str, optional_code: bool = False) -> list[tuple[str, str]]:
    """(condition marking a bad row, what was expected) for one column of the stage table.
    ``optional_code``: the column may be empty (a reporting body without a code,
    checked by name in ``_check_code_or_name``)."""
    kind = column.kind
    checks: list[tuple[str, str]] = []
    if kind not in ("text", "outcome_type") and not optional_code:
        checks.append((f"coalesce(trim({col}), '') = ''", "is empty; expected a value"))
    if kind == "financial_year":
        checks.append(
            (
                f"not regexp_full_match(trim({col}), '\\d{{4}}[/_-]\\d{{2}}') "
                f"or (try_cast(substr(trim({col}), 1, 4) as integer) + 1) % 100 "
                f"!= try_cast(substr(trim({col}), 6, 2) as integer)",
                "is not a financial year; expected two consecutive years such as '2016/17'",
            )
        )
    elif kind == "quarter":
        checks.append(
            (f"trim({col}) not in ('1', '2', '3', '4')", "is not a financial quarter; expected 1-4")
        )
    elif kind == "calendar_year":
        checks.append(
            (
                f"not regexp_full_match(trim({col}), '(19|20)\\d{{2}}')",
                "is not a calendar year; expected a year such as 2016",
            )
        )
    elif kind == "survey_year":
        checks.append(
            (
                f"not (regexp_full_match(trim({col}), '\\d{{4}}[/_-]\\d{{2}}') "
                f"or regexp_full_match(lower(trim({col})), '(year ending )?march \\d{{4}}') "
                f"or regexp_full_match(lower(trim({col})), 'apr(il)? \\d{{4}} to mar(ch)? \\d{{4}}'))",
                "is not a survey year; expected '2015/16', 'year ending March 2016' or 'Apr 2015 to Mar 2016'",
            )
        )
    elif kind in ("count", "total"):
        checks.append(
            (
                f"not regexp_full_match(trim({col}), '{WHOLE_NUMBER.pattern}') and not {_is_marker(col)}",
                "is not a whole number; expected a count such as 42"
                + (" (negative corrections such as -3 are allowed)" if kind == "count" else "")
                + f" or a suppression marker ({MARKERS_TEXT})",
            )
        )
        if kind == "total":
            checks.append(
                (
                    f"{_count_sql(col)} < 0",
                    f"{_NEGATIVE_TOTAL}, as a total for a whole year or 12 months cannot "
                    "be negative (only quarterly cells carry negative corrections)",
                )
            )
    elif kind == "rate":
        checks.append(
            (
                f"not regexp_full_match(trim({col}), '{DECIMAL_NUMBER.pattern}') and not {_is_marker(col)}",
                f"is not a number; expected a rate or percentage such as 72.4 or a suppression marker ({MARKERS_TEXT})",
            )
        )
    elif kind == "quarter_end_date":
        checks.append(
            (
                f"try_strptime(trim({col}), '%d/%m/%Y') is null",
                "is not a date; expected the last day of a quarter written dd/mm/yyyy, such as 31/12/2016",
            )
        )
    elif kind == "force":
        checks.append(
            (
                f"{_name_key(col)} not in (select name_key from force_names)",
                "is not a known police force or reporting body; expected a name listed in "
                "dbt_project/seeds/force_name_variants.csv (add the spelling there if it is a new variant)",
            )
        )
    elif kind == "cps_area":
        checks.append(
            (
                f"{_name_key(col)} not in (select name_key from cps_area_names)",
                "is not a known CPS Area; expected a name listed in dbt_project/seeds/cps_area_name_variants.csv "
                "(add the spelling there if it is a new variant)",
            )
        )
    elif kind == "ons_area_code":
        checks.append(
            (
                f"coalesce(trim({col}), '') <> '' and upper(trim({col})) not in (select code from ons_area_codes)",
                "is not a known ONS area code; expected a police force area code (E23..., W15...) from "
                "forces.csv or an England and Wales, country or region code from other_areas.csv",
            )
        )
    elif kind == "outcome_type":
        checks.append(
            (
                f"coalesce(trim({col}), '') <> '' and lower(trim({col})) not in (select code from outcome_types)",
                "is not a known outcome type; expected a Home Office outcome type listed in "
                "dbt_project/seeds/outcome_types.csv (0-22; the alternate-offence types 1a-3a belong to a "
                "separate file)",
            )
        )
    elif kind == "choice":
        checks.append(
            (
                f"lower(trim({col})) not in ({_sql_list(c.lower() for c in column.choices)})",
                "is not one of the expected values: " + ", ".join(repr(c) for c in column.choices),
            )
        )
    return checks


def _validate(con: duckdb.DuckDBPyConnection, table: Table, this: str) -> None:
    """Refuse the table's rows (``raw.<table> where this``) at their first bad cell.

    Every check looks at one cell at a time, so it is run on the column's distinct
    values first, and the rows are searched only for a value that fails. A negative
    total outside the layout's scope (an offence the platform does not use) is
    counted in the table's notes instead.
    """
    raw = f"raw.{table.layout.raw_table}"
    melt = table.layout.melt
    optional = table.layout.code_or_name[0] if table.layout.code_or_name else None
    for column in table.layout.columns:
        if not table.provides(column.name) or column.name in table.constants:
            continue
        col = _quote(column.name)
        checks = _checks_for(column, col, optional_code=column.name == optional)
        if not checks:
            continue
        con.execute(
            f"create or replace temp table column_values as select distinct {col} from {raw} where {this}"
        )
        for condition, message in checks:
            failing = con.execute(f"select exists (select 1 from column_values where {condition})").fetchone()
            if not failing[0]:
                continue
            scoped = message.startswith(_NEGATIVE_TOTAL) and table.layout.scope is not None
            if scoped:
                outside = con.execute(
                    f"select count(*) from {raw} where {this} and ({condition}) and not {_in_scope(table.layout)}"
                ).fetchone()[0]
                if outside:
                    table.notes.append(
                        f"{outside} negative total{'s' if outside > 1 else ''} in rows outside "
                        f"{_scope_words(table.layout)} kept as published (column {column.name})"
                    )
                condition = f"({condition}) and {_in_scope(table.layout)}"
            bad = _first_bad(con, table, this, col, condition)
            if bad is not None:
                row, value, count = bad
                header = table.header_of(column.name)
                if header is None and melt is not None:  # a wide table's period column
                    header = con.execute(
                        f"select arg_min({_quote(melt.label_column)}, _row_number) from {raw} "
                        f"where {this} and ({condition}) and _row_number = ?",
                        [row],
                    ).fetchone()[0]
                more = f" ({count - 1} more row{'s' if count > 2 else ''} like it)" if count > 1 else ""
                raise InputFileError(
                    table.file, f"{value!r} {message}{more}", row=row, column=header, sheet=table.sheet
                )
    _check_code_or_name(con, table, this)
    _check_duplicates(con, table, this)


def _check_code_or_name(con: duckdb.DuckDBPyConnection, table: Table, this: str) -> None:
    """A row without an area code must name a reporting body that has none (British
    Transport Police), matched through force_name_variants.csv."""
    if table.layout.code_or_name is None:
        return
    code, name = table.layout.code_or_name
    bad = _first_bad(
        con,
        table,
        this,
        _quote(name),
        f"coalesce(trim({_quote(code)}), '') = '' and {_footnote_free(_quote(name))} not in "
        "(select name_key from force_names where not regexp_full_match(body_key, '[EWK]\\d{8}'))",
    )
    if bad is not None:
        row, value, count = bad
        more = f" ({count - 1} more row{'s' if count > 2 else ''} like it)" if count > 1 else ""
        raise InputFileError(
            table.file,
            f"the area code is empty and {value!r} is not a reporting body without one; expected an ONS "
            f"area code, or a name such as 'British Transport Police' listed in force_name_variants.csv{more}",
            row=row,
            column=table.header_of(code),
            sheet=table.sheet,
        )
