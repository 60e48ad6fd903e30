"""SQL pieces shared by the checks: quoting, lists, counts and suppression markers.

A count cell holds a whole number or a suppression marker (``hsinsight.names``); these
snippets read them the same way wherever a check or a revision looks at counts.
"""

from __future__ import annotations

from hsinsight.names import SUPPRESSION_MARKERS
from hsinsight.sources.base import Layout


def _sql_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


MARKERS_SQL = _sql_list(m.lower() for m in SUPPRESSION_MARKERS)


MARKERS_TEXT = ", ".join(SUPPRESSION_MARKERS)


def _is_marker(col: str) -> str:
    return f"lower(trim({col})) in ({MARKERS_SQL})"


def _count_sql(col: str) -> str:
    """SQL turning a count cell into BIGINT (NULL for a marker or an empty cell)."""
    return f"try_cast(replace(trim({col}), ',', '') as bigint)"


def _quote(name: str) -> str:
    return '"' + name + '"'


def _name_key(col: str) -> str:
    return f"lower(regexp_replace(trim({col}), '\\s+', ' ', 'g'))"


def _footnote_free(col: str) -> str:
    """SQL: a name or label without ``[note N]`` marks or footnote digits glued to its end."""
    text = f"regexp_replace({col}, '\\s*\\[(notes?|footnotes?)[^\\]]*\\]', '', 'gi')"
    return f"lower(trim(regexp_replace(trim({text}), '([A-Za-z)])\\d{{1,2}}(\\s*,\\s*\\d{{1,2}})*$', '\\1')))"


def _in_scope(layout: Layout) -> str:
    """SQL condition true for the rows in the layout's scope (every row without one)."""
    scope = layout.scope
    if scope is None:
        return "true"
    parts = []
    if scope.offence_codes:
        parts.append(f"upper(trim({_quote(scope.column)})) in (select code from platform_codes)")
    if scope.values:
        parts.append(
            f"{_footnote_free(_quote(scope.column))} in ({_sql_list(v.lower() for v in scope.values)})"
        )
    if scope.name_column and scope.names:
        parts.append(
            f"{_footnote_free(_quote(scope.name_column))} in ({_sql_list(n.lower() for n in scope.names)})"
        )
    return "coalesce(" + " or ".join(parts) + ", false)"


def _scope_words(layout: Layout) -> str:
    scope = layout.scope
    what = []
    if scope.offence_codes:
        what.append("the platform's offence codes")
    what.extend(repr(v) for v in (*scope.values, *scope.names))
    return " or ".join(what)
