"""Office for National Statistics: police force area data tables, mid-year population
estimates and Crime Survey for England and Wales prevalence.

Layouts implemented (docs/sources.md, sections 5 to 8):

``ons_pfa_tables_v1`` (Table P1) and ``ons_pfa_rates_v1`` (Table P3)
    The *Police force area data tables* workbook that accompanies *Crime in England
    and Wales*, one a quarter. Confirmed on four real releases (years ending March
    2018, June 2018 corrected, December 2018, June 2019). One row per area (England
    and Wales, England, Wales, the nine English regions, the 43 police force areas,
    British Transport Police without a code) with ``Area Code``, ``Area Name`` and
    a 12-month figure per offence group, of which hsinsight reads ``Stalking and
    harassment``: counts in P1, rates per 1,000 with the ``Population figures
    (mid-YYYY) rounded to 100`` used in P3. The header sits under a merged row of
    super-headers and above a units row (``Numbers``); footnote digits are glued to
    titles, headers and names (``Stalking and harassment4``, ``Surrey7,8``) or set
    apart (``Stalking and harassment 4``); footnotes follow the data. The 12 months
    are named in the title ("... year ending December 2016", once "year ending June
    18"). Areas are matched on their code; a row without one must name a reporting
    body that has none. P2 (percentage change) shares P1's header and is told apart
    by its title: it, and every other sheet, is listed in the ingest log as not used.

``ons_pfa_mye_wide_v1`` (Table P9)
    The mid-year population estimates the year-ending-March releases add, one
    column per mid-year (2002 ... 2016); each cell becomes a row of the
    ``ons__population`` table, the column's year beside it. P10 (household
    estimates) has the same header and is told apart by its title.

``ons_appendix_a5a_v1`` (Appendix Table A5a)
    *Crime in England and Wales: Appendix tables*, police recorded crime for
    England and Wales by offence code: ``Offence code``, ``Offence category``, one
    column per financial year from ``Apr 2002 to Mar 2003`` and two rolling 12-month
    columns (``Oct 2024 to Sep 2025``), each cell a row with its column's label.
    Codes are text or numbers; the subgroup subtotal ``Stalking and harassment
    [note 22, 27]`` has no code; markers ``[x]`` and ``[u]`` are kept. The release is
    the last "year ending ..." the title names. Confirmed on the release for the
    year ending September 2025; the sheet's name drifts between releases, so it is
    found by its header. Rows for other offences stay in raw as published.

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

import re

from hsinsight.sources.base import Column, Layout, Melt, PreambleField, Scope

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTHS_SHORT = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"


def _twelve_months(match: re.Match) -> str:
    """``year ending June 18`` (a two-digit year, as one real title writes it) and
    ``year ending June 2018`` both give ``year ending June 2018``."""
    month, year = match.group(2), match.group(3)
    if len(year) == 2:
        year = "20" + year
    return f"year ending {month.capitalize()} {year}"


#: The 12 months an ONS table title names. Footnote digits may be glued to the year
#: ("year ending June 20181,2", and once "year ending June 181,2"): a year is four
#: digits starting 19 or 20, or else two.
_TWELVE_MONTHS = PreambleField(
    "period_label",
    rf"(year ending ({_MONTHS}) ((?:19|20)\d{{2}}|\d{{2}}))",
    "a title naming the 12 months, such as 'year ending December 2016'",
    canonical=_twelve_months,
)

_AREA_CODE = Column("area_code", ("Area Code", "Area code", "Area Codes", "PFA code"), "ons_area_code")
_AREA_NAME = Column("area_name", ("Area Name", "Area name", "Police Force Area", "PFA name"), "required_text")
_PERIOD_LABEL = Column("period_label", ("Period", "Time period"), "required_text")

#: What the ONS police force area tables share (docs/sources.md, section 7): the header under a
#: merged row of super-headers and above a units row, footnotes under the data,
#: British Transport Police without an area code.
_PFA_SHARED = dict(
    key=("period_label", "area_code", "area_name"),
    period="period_label",
    preamble_fields=(_TWELVE_MONTHS,),
    units_row=True,
    footer_after="area_name",
    code_or_name=("area_code", "area_name"),
)

PFA_TABLES = Layout(
    source="ons_pfa_recorded_crime",
    layout="ons_pfa_tables_v1",
    raw_table="ons__pfa_recorded_crime",
    description="ONS police force area data tables, Table P1 (recorded crime by offence group, numbers)",
    columns=(
        _AREA_CODE,
        _AREA_NAME,
        Column("stalking_and_harassment", ("Stalking and harassment",), "total"),
        Column(
            "total_recorded_crime_excluding_fraud",
            ("Total recorded crime (excluding fraud)", "Total recorded crime excluding fraud"),
            "total",
            required=False,
        ),
        _PERIOD_LABEL,
    ),
    signature=("stalking_and_harassment",),
    not_used_titles=(
        (r"percentage change", "a table of percentage changes, which the counts of two releases give"),
        (
            r"rate of offences|rates? per 1,?000",
            "a table of rates (read from its own layout when it has a population column)",
        ),
    ),
    **_PFA_SHARED,
)

PFA_RATES = Layout(
    source="ons_pfa_recorded_crime",
    layout="ons_pfa_rates_v1",
    raw_table="ons__pfa_rates",
    description="ONS police force area data tables, Table P3 (rates per 1,000 population, with the population used)",
    columns=(
        _AREA_CODE,
        _AREA_NAME,
        # "Population figures (mid-2017) rounded to 100"
        Column("population", (r"population figures.*",), "total", pattern=True),
        Column("population_mid_year", (), "calendar_year"),
        Column("stalking_and_harassment_rate", ("Stalking and harassment",), "rate"),
        _PERIOD_LABEL,
    ),
    header_fields=(("population_mid_year", "population", r"mid-?\s*((?:19|20)\d{2})"),),
    signature=("population", "stalking_and_harassment_rate"),
    **_PFA_SHARED,
)

#: Table P9 of the year-ending-March releases: one column per mid-year.
PFA_MID_YEAR_ESTIMATES = Layout(
    source="ons_population",
    layout="ons_pfa_mye_wide_v1",
    raw_table="ons__population",
    description="ONS police force area data tables, Table P9 (mid-year population estimates, a column per year)",
    columns=(
        _AREA_CODE,
        _AREA_NAME,
        Column("mid_year", (), "calendar_year"),
        Column("population", (), "total"),
    ),
    key=("area_code", "mid_year"),
    period="mid_year",
    melt=Melt(r"(?:19|20)\d{2}", "mid_year", "population"),
    not_used_titles=((r"household", "household estimates, which no measure uses"),),
    units_row=True,
    footer_after="area_name",
)

#: The release an Appendix table belongs to: the last 12 months its title names.
_APPENDIX_RELEASE = PreambleField(
    "release_label",
    rf"(year ending ({_MONTHS}) ((?:19|20)\d{{2}}))",
    "a title naming the latest 12 months, such as '... to year ending September 2025'",
    canonical=_twelve_months,
    last=True,
)

APPENDIX_A5A = Layout(
    source="ons_appendix_tables",
    layout="ons_appendix_a5a_v1",
    raw_table="ons__appendix_recorded_crime",
    description="ONS Crime in England and Wales Appendix tables, Table A5a (police recorded crime by offence code)",
    columns=(
        Column("offence_code", ("Offence code",)),
        Column("offence_category", ("Offence category", "Offence"), "required_text"),
        Column("period_label", (), "required_text"),
        Column("offences", (), "total"),
        Column("release_label", ("Release",), "required_text"),
    ),
    key=("offence_code", "offence_category", "period_label"),
    period="period_label",
    melt=Melt(rf"(?:{_MONTHS_SHORT}) \d{{4}} to (?:{_MONTHS_SHORT}) \d{{4}}", "period_label", "offences"),
    preamble_fields=(_APPENDIX_RELEASE,),
    # the platform's codes and the subgroup subtotal, which has no code
    scope=Scope(
        "offence_code", offence_codes=True, name_column="offence_category", names=("Stalking and harassment",)
    ),
    footer_after="offence_category",
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

LAYOUTS = (PFA_TABLES, PFA_RATES, MID_YEAR_POPULATION, PFA_MID_YEAR_ESTIMATES, APPENDIX_A5A, CSEW_PREVALENCE)
