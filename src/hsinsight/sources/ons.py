"""Office for National Statistics: police force area data tables, mid-year population
estimates and Crime Survey for England and Wales prevalence.

Layouts implemented (SOURCES.md, sections 1, 5 and 6):

``ons_pfa_tables_v1``
    The *Police force area data tables* workbook that accompanies *Crime in England
    and Wales*: one row per area (England and Wales, countries, regions, police
    force areas) with ``Area Code``, ``Area Name`` and a 12-month count per offence
    group, of which hsinsight reads ``Stalking and harassment`` (and ``Total recorded
    crime (excluding fraud)`` when present). The 12 months are named in the table's
    title, e.g. "... year ending December 2016"; ``[note N]`` marks in headers are
    ignored. A second layout for police recorded crime: a total per force for the
    stalking and harassment subgroup, not by offence code.

``ons_mye_pfa_v1``
    Mid-year population estimates by police force area, in the column layout of the
    ONS mid-year estimate tables (``Code``, ``Name``, ``Geography``, ``All ages``),
    one table per mid-year. The year comes from a ``Mid-year`` column or from the
    title or sheet name ("mid-2016"). ONS publishes the estimates by local
    authority; police force area totals in this layout come from the ONS PFA
    tables or from summing local authorities with the ONS LAD to PFA lookup.

    Two optional columns, ``Sex`` (``Persons``/``All``/``All persons``,
    ``Male``/``Males``/``Men``, ``Female``/``Females``/``Women``) and ``Age group``
    (``All ages`` or a range such as ``16-59``, ``16 to 59``, ``Aged 16 to 59``),
    let one table hold, for the same area and year, the all-ages total for persons
    and the populations of men and women aged 16-59 that turn Crime Survey
    prevalence into a number of victims. A table without them is persons of all
    ages, as before. This long form is the platform's own documented layout (the
    population column is then headed ``Population`` rather than ``All ages``), not a confirmed ONS
    table: ONS prints each sex and single year of age as its own sheet or column.
    A table with a ``Sex`` or ``Age group`` column must fill it on every row.

``csew_prevalence_v1``
    Crime Survey for England and Wales prevalence, one row per survey year x
    behaviour (stalking, harassment, stalking or harassment) x measure (in the last
    year, since the age of 16) x age group x sex, with the percentage and its
    confidence interval. The ONS stalking tables print each measure as its own
    table with the sexes in columns; this long layout carries the same figures, one
    per row (the exact ONS table layout could not be confirmed).
"""

from __future__ import annotations

from hsinsight.sources.base import Column, Layout, PreambleField

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"

PFA_TABLES = Layout(
    source="ons_pfa_recorded_crime",
    layout="ons_pfa_tables_v1",
    raw_table="ons__pfa_recorded_crime",
    description="ONS police force area data tables (recorded crime by offence group)",
    columns=(
        Column("area_code", ("Area Code", "Area code", "PFA code"), "ons_area_code"),
        Column("area_name", ("Area Name", "Area name", "Police Force Area", "PFA name"), "required_text"),
        Column("stalking_and_harassment", ("Stalking and harassment",), "total"),
        Column(
            "total_recorded_crime_excluding_fraud",
            ("Total recorded crime (excluding fraud)", "Total recorded crime excluding fraud"),
            "total",
            required=False,
        ),
        Column("period_label", ("Period", "Time period"), "required_text"),
    ),
    key=("period_label", "area_code"),
    period="period_label",
    preamble_fields=(
        PreambleField(
            "period_label",
            rf"(year ending (?:{_MONTHS}) \d{{4}})",
            "a title naming the 12 months, such as 'year ending December 2016'",
        ),
    ),
)

MID_YEAR_POPULATION = Layout(
    source="ons_population",
    layout="ons_mye_pfa_v1",
    raw_table="ons__population",
    description="ONS mid-year population estimates by police force area",
    columns=(
        Column("area_code", ("Code", "Area Code", "Area code"), "ons_area_code"),
        Column("area_name", ("Name", "Area Name", "Area name"), "required_text"),
        Column("geography", ("Geography", "Geography type"), required=False),
        Column("mid_year", ("Mid-year", "Mid year", "Year"), "calendar_year"),
        Column(
            "sex",
            ("Sex",),
            "choice",
            required=False,
            choices=("Persons", "All", "All persons", "Male", "Males", "Men", "Female", "Females", "Women"),
        ),
        Column("age_group", ("Age group", "Age band", "Ages"), "required_text", required=False),
        # "Population" first: the header a long table (and the sample) writes
        Column("population", ("Population", "All ages", "All Ages", "Persons"), "total"),
    ),
    # area first, so a repeated row is reported at the Code column even when the year
    # comes from the title; absent sex and age group count as empty (persons, all ages)
    key=("area_code", "mid_year", "sex", "age_group"),
    period="mid_year",
    preamble_fields=(
        PreambleField(
            "mid_year", r"mid[- ]?(\d{4})", "a title or sheet name naming the year, such as 'mid-2016'"
        ),
    ),
)

CSEW_PREVALENCE = Layout(
    source="csew_prevalence",
    layout="csew_prevalence_v1",
    raw_table="csew__prevalence",
    description="Crime Survey for England and Wales prevalence of stalking and harassment",
    columns=(
        Column("survey_year", ("Survey year", "Year ending March", "Year"), "survey_year"),
        Column(
            "behaviour",
            ("Behaviour", "Type of behaviour"),
            "choice",
            choices=("Stalking", "Harassment", "Stalking or harassment", "Stalking and/or harassment"),
        ),
        Column(
            "measure",
            ("Measure", "Prevalence measure"),
            "choice",
            choices=("In the last year", "Last year", "Since the age of 16", "Since age 16"),
        ),
        Column("age_group", ("Age group", "Age"), "required_text"),
        Column("sex", ("Sex",), "choice", choices=("Men", "Women", "All adults", "Male", "Female", "All")),
        Column("percentage", ("Percentage", "Prevalence (%)", "Percentage of adults", "%"), "rate"),
        Column(
            "lower_ci", ("Lower 95% confidence interval", "Lower CI", "Lower 95% CI"), "rate", required=False
        ),
        Column(
            "upper_ci", ("Upper 95% confidence interval", "Upper CI", "Upper 95% CI"), "rate", required=False
        ),
        Column(
            "unweighted_base",
            ("Unweighted base", "Unweighted base - number of adults"),
            "total",
            required=False,
        ),
    ),
    key=("survey_year", "behaviour", "measure", "age_group", "sex"),
    period="survey_year",
)

LAYOUTS = (PFA_TABLES, MID_YEAR_POPULATION, CSEW_PREVALENCE)
