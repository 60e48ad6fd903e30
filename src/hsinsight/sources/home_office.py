"""Home Office police recorded crime open data, police force area table.

Layout implemented (``home_office_prc_pfa_v1``): the columns of the Home Office
*Police recorded crime and outcomes open data tables*, police force area file
(``prc-pfa-mar2013-onwards-tables-DDMMYY.ods``, one sheet per financial year, or a
CSV export of the same table). Columns are matched by name, in any order:
``Financial Year`` (``2016/17``), ``Financial Quarter`` (1-4), ``Force Name``,
``Offence Description``, ``Offence Group``, ``Offence Subgroup``, ``Offence Code``
and ``Number of Offences`` (``Offence Count`` is accepted as an older name).
The file holds every offence; rows for codes outside the platform's offence
groups are kept in ``raw`` and left out of the marts by dbt.
"""

from __future__ import annotations

from hsinsight.sources.base import Column, Layout

RECORDED_CRIME_PFA = Layout(
    source="home_office_recorded_crime",
    layout="home_office_prc_pfa_v1",
    raw_table="home_office__recorded_crime",
    description="Home Office police recorded crime open data, police force area table",
    columns=(
        Column("financial_year", ("Financial Year",), "financial_year"),
        Column("financial_quarter", ("Financial Quarter",), "quarter"),
        Column("force_name", ("Force Name",), "force"),
        Column("offence_description", ("Offence Description",)),
        Column("offence_group", ("Offence Group",)),
        Column("offence_subgroup", ("Offence Subgroup",)),
        Column("offence_code", ("Offence Code",), "required_text"),
        Column("number_of_offences", ("Number of Offences", "Offence Count"), "count"),
    ),
    key=("financial_year", "financial_quarter", "force_name", "offence_code"),
)

LAYOUTS = (RECORDED_CRIME_PFA,)
