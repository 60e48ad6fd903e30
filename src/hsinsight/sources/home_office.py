"""Home Office police recorded crime and crime outcomes open data.

Layouts implemented (SOURCES.md, sections 1 and 2; columns matched by name, in any
order):

``home_office_prc_pfa_v1``
    *Police recorded crime open data, police force area tables*
    (``prc-pfa-mar2013-onwards-tables-DDMMYY.ods``, one sheet per financial year, or a
    CSV export of the same table): ``Financial Year`` (``2016/17``), ``Financial
    Quarter`` (1-4), ``Force Name``, ``Offence Description``, ``Offence Group``,
    ``Offence Subgroup``, ``Offence Code`` and ``Number of Offences`` (``Offence
    Count`` is accepted as an older name).

``home_office_outcomes_a`` and ``home_office_outcomes_b``
    *Crime outcomes open data* (``prc-outcomes-open-data-marYYYY-tables-DDMMYY.xlsx``,
    one workbook per financial year; the data sheet is found by its header, below any
    title rows, among notes and chart sheets). One row per force x financial quarter x
    offence code x outcome type. The two header variants in circulation differ in
    their count columns: variant A writes ``Outcomes for offences that were recorded
    in the quarter`` and ``Outcomes for investigations closed in the quarter``,
    variant B ``Force outcomes for offences recorded in quarter`` and ``Force
    outcomes recorded in quarter``. Both load into one raw table.

Both files hold every offence: rows for codes outside the platform's offence groups
are kept in ``raw`` and left out of the marts by dbt. Negative quarterly counts are
published corrections and are kept; a negative 12-month total is refused.
"""

from __future__ import annotations

from hsinsight.sources.base import Column, Layout

_FINANCIAL_YEAR = Column("financial_year", ("Financial Year",), "financial_year")
_QUARTER = Column("financial_quarter", ("Financial Quarter",), "quarter")
_FORCE = Column("force_name", ("Force Name",), "force")

RECORDED_CRIME_PFA = Layout(
    source="home_office_recorded_crime",
    layout="home_office_prc_pfa_v1",
    raw_table="home_office__recorded_crime",
    description="Home Office police recorded crime open data, police force area table",
    columns=(
        _FINANCIAL_YEAR,
        _QUARTER,
        _FORCE,
        Column("offence_description", ("Offence Description",)),
        Column("offence_group", ("Offence Group",)),
        Column("offence_subgroup", ("Offence Subgroup",)),
        Column("offence_code", ("Offence Code",), "required_text"),
        Column("number_of_offences", ("Number of Offences", "Offence Count"), "count"),
    ),
    key=("financial_year", "financial_quarter", "force_name", "offence_code"),
    period="financial_year",
    rolling_total_columns=("number_of_offences",),
)

_OUTCOME_COLUMNS = (
    _FINANCIAL_YEAR,
    _QUARTER,
    _FORCE,
    Column("offence_code", ("Offence Code",), "required_text"),
    Column("offence_description", ("Offence Description",)),
    Column("offence_group", ("Offence Group",)),
    Column("offence_subgroup", ("Offence Subgroup",)),
    # lower-case "x" when the code had expired; blank otherwise
    Column("offence_code_expired", ("Offence code expired",), required=False),
    Column("outcome_type", ("Outcome Type",), "outcome_type"),
    Column("outcome_description", ("Outcome Description",)),
    Column("outcome_group", ("Outcome Group",)),
)


def _outcomes(layout: str, recorded_header: str, closed_header: str) -> Layout:
    return Layout(
        source="home_office_outcomes",
        layout=layout,
        raw_table="home_office__outcomes",
        description="Home Office crime outcomes open data",
        columns=(
            *_OUTCOME_COLUMNS,
            # outcomes assigned to offences recorded in the quarter (the Home Office
            # bulletin's headline basis; revised upward as investigations close)
            Column("outcomes_recorded_basis", (recorded_header,), "count"),
            # outcomes assigned in the quarter, whenever the offence was recorded
            # (the basis of the 2017 inspection's Table 1)
            Column("outcomes_closed_basis", (closed_header,), "count"),
        ),
        key=("financial_year", "financial_quarter", "force_name", "offence_code", "outcome_type"),
        period="financial_year",
        rolling_total_columns=("outcomes_recorded_basis", "outcomes_closed_basis"),
        rolling_total_exclude=(("outcome_type", ("0", "")),),
    )


OUTCOMES_A = _outcomes(
    "home_office_outcomes_a",
    "Outcomes for offences that were recorded in the quarter",
    "Outcomes for investigations closed in the quarter",
)
OUTCOMES_B = _outcomes(
    "home_office_outcomes_b",
    "Force outcomes for offences recorded in quarter",
    "Force outcomes recorded in quarter",
)

LAYOUTS = (RECORDED_CRIME_PFA, OUTCOMES_A, OUTCOMES_B)
