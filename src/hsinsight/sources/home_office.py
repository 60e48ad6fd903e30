"""Home Office police recorded crime and crime outcomes open data.

Layouts implemented (docs/sources.md, sections 1 and 2; columns matched by name, in any
order):

``home_office_prc_pfa_v1``
    *Police recorded crime open data, police force area tables*
    (``prc-pfa-mar2013-onwards-tables-DDMMYY.ods``, one sheet per financial year, or a
    CSV export of the same table): ``Financial Year`` (``2016/17``), ``Financial
    Quarter`` (1-4), ``Force Name``, ``Offence Description``, ``Offence Group``,
    ``Offence Subgroup``, ``Offence Code`` and ``Number of Offences`` (``Offence
    Count`` is accepted as an older name).

    Confirmed on the real 2017/18 sheet: counts padded with spaces and zero written
    ``-00``; the fraud bodies' text codes (``AF``, ``CIFAS``, ``FFA UK``, ``UK
    Finance``), Financial Fraud Action UK becoming UK Finance within the year;
    homicide four rows per force and quarter under one code. A repeated key or a
    negative 12-month total among codes outside the platform's is logged with its
    count; among the platform's codes (``offence_codes.csv``) it is refused.

``home_office_prc_rolling_v1``
    *Police recorded crime by police force area, rolling 12-month totals*
    (``rec-crime-pfa.csv``): ``12 months ending`` (``dd/mm/yyyy``; one release writes
    the quarter ending 31 December 2017 as ``30/12/2017``, read as that quarter),
    ``PFA``, ``Region``, ``Offence`` (categories, not codes: ``Stalking and
    harassment``) and ``Rolling year total number of offences``. Negative totals in
    other categories are kept and logged. Confirmed on an early-2019 release.

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

from hsinsight.sources.base import Column, Layout, Scope

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
    # homicide is four rows per force and quarter under one code (1/4.1/4.10/4.2)
    scope=Scope("offence_code", offence_codes=True),
)

ROLLING_12_MONTHS_PFA = Layout(
    source="home_office_pfa_rolling",
    layout="home_office_prc_rolling_v1",
    raw_table="home_office__pfa_rolling",
    description="Home Office police recorded crime by police force area, rolling 12-month totals (rec-crime-pfa.csv)",
    columns=(
        # "31/03/2003"; one release writes the quarter ending 31 December 2017 as 30/12/2017
        Column("twelve_months_ending", ("12 months ending", "12 months to"), "quarter_end_date"),
        Column("force_name", ("PFA", "Police Force Area", "Force Name"), "force"),
        Column("region", ("Region",), required=False),
        # offence categories, not codes; ours is "Stalking and harassment"
        Column("offence", ("Offence", "Offence group"), "required_text"),
        Column(
            "rolling_total",
            ("Rolling year total number of offences", "Rolling 12 month total number of offences"),
            "total",
        ),
    ),
    key=("twelve_months_ending", "force_name", "offence"),
    period="twelve_months_ending",
    # negative 12-month totals stand in other categories of the real table: kept
    scope=Scope("offence", values=("Stalking and harassment",)),
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

LAYOUTS = (RECORDED_CRIME_PFA, ROLLING_12_MONTHS_PFA, OUTCOMES_A, OUTCOMES_B)
