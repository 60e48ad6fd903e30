"""Ministry of Justice Criminal Justice System statistics: Outcomes by Offence.

Layouts implemented (docs/sources.md, section 4):

``moj_court_outcomes_pfa_v1``
    The *court outcomes by police force area* CSV behind the Outcomes by Offence
    data tool (shipped in a zip): one row per combination of ``Police Force Area``,
    ``Year of Appearance`` (or ``Year``) and the defendant, court and offence
    categories, with ``Convicted/Not Convicted``, ``Outcome`` and a ``Count`` of
    defendants (principal offence basis). Category values carry an ``NN: `` code
    prefix, kept as written in raw and split off in staging. Columns the release
    leaves out (``Quarter``, ``Ethnicity``, ...) are optional. Every defendant
    proceeded against appears once, under their final outcome, so prosecuted =
    every row, convicted = ``Convicted`` rows, sentenced = rows with a sentence
    outcome. The police force area is where the court sits.

``moj_restraining_orders_v1``
    Restraining orders issued on conviction and on acquittal by police force area
    and calendar year (national counts are published in MoJ answers and the CPS
    VAWG report's annex; whether a current MoJ table gives them by police force
    area could not be confirmed). Columns: ``Year``, ``Police Force Area``,
    ``Offence`` (optional; ``All offences`` when absent), ``Restraining orders
    issued on conviction`` and ``Restraining orders issued on acquittal``.
"""

from __future__ import annotations

from hsinsight.sources.base import Column, Layout

_PFA = Column("police_force_area", ("Police Force Area", "Police force area"), "force")
_YEAR = Column("year", ("Year of Appearance", "Year"), "calendar_year")

_DIMENSIONS = (
    _PFA,
    _YEAR,
    Column("quarter", ("Quarter",), required=False),
    Column("type_of_defendant", ("Type of Defendant", "Type of Defendent"), required=False),
    Column("sex", ("Sex",), required=False),
    Column("age_group", ("Age Group",), required=False),
    Column("age_range", ("Age Range",), required=False),
    Column("ethnicity", ("Ethnicity",), required=False),
    Column("court_type", ("Court Type",), required=False),
    Column("offence_type", ("Offence Type",), required=False),
    Column("offence_group", ("Offence Group",), required=False),
    Column("offence", ("Offence",), "required_text"),
    Column("convicted", ("Convicted/Not Convicted", "Convicted/Not convicted"), "required_text"),
    Column("sentenced", ("Sentenced/Not Sentenced", "Sentenced/Not sentenced"), required=False),
    Column("outcome", ("Outcome", "Sentence Outcome"), "required_text"),
    Column("detailed_sentence", ("Detailed Sentence",), required=False),
    Column("custodial_sentence_length", ("Custodial Sentence Length",), required=False),
)

COURT_OUTCOMES = Layout(
    source="moj_court_outcomes",
    layout="moj_court_outcomes_pfa_v1",
    raw_table="moj__court_outcomes",
    description="Ministry of Justice Outcomes by Offence, court outcomes by police force area",
    columns=(*_DIMENSIONS, Column("count", ("Count",), "total")),
    key=tuple(c.name for c in _DIMENSIONS),
    period="year",
)

RESTRAINING_ORDERS = Layout(
    source="moj_restraining_orders",
    layout="moj_restraining_orders_v1",
    raw_table="moj__restraining_orders",
    description="Ministry of Justice restraining orders issued on conviction and on acquittal",
    columns=(
        _YEAR,
        _PFA,
        Column("offence", ("Offence",), required=False),
        Column(
            "orders_on_conviction",
            ("Restraining orders issued on conviction", "Restraining orders on conviction", "On conviction"),
            "total",
        ),
        Column(
            "orders_on_acquittal",
            ("Restraining orders issued on acquittal", "Restraining orders on acquittal", "On acquittal"),
            "total",
        ),
    ),
    key=("year", "police_force_area", "offence"),
    period="year",
)

LAYOUTS = (COURT_OUTCOMES, RESTRAINING_ORDERS)
