"""Crown Prosecution Service violence against women and girls data.

Layout implemented (``cps_vawg_v1``; docs/sources.md, section 3): prosecutions,
convictions and the conviction rate for stalking and for harassment, one row per
financial year x CPS Area (or the national total) x offence, with columns
``Financial Year`` (``2015-16``), ``CPS Area``, ``Offence``, ``Prosecutions``,
``Convictions`` and ``Conviction Rate``. The CPS publishes stalking and harassment
nationally in its annual VAWG crime report; figures by CPS Area come from FOI
replies in the same layout. The exact CPS table layout could not be confirmed, so
columns are matched through the synonyms below.

CPS counts are offences charged that reached a first hearing, not defendants: they
never reconcile exactly with the Ministry of Justice's defendant counts.
"""

from __future__ import annotations

from hsinsight.sources.base import Column, Layout

VAWG = Layout(
    source="cps_vawg",
    layout="cps_vawg_v1",
    raw_table="cps__vawg",
    description="CPS violence against women and girls data (stalking and harassment)",
    columns=(
        Column("financial_year", ("Financial Year", "Year"), "financial_year"),
        Column("cps_area", ("CPS Area", "Area"), "cps_area"),
        Column(
            "offence",
            ("Offence", "Strand", "Crime type"),
            "choice",
            choices=("Stalking", "Harassment", "Stalking and harassment"),
        ),
        Column("prosecutions", ("Prosecutions", "Prosecutions completed", "Completed prosecutions"), "total"),
        Column("convictions", ("Convictions",), "total"),
        Column(
            "conviction_rate",
            ("Conviction Rate", "Conviction rate (%)", "Conviction rate"),
            "rate",
            required=False,
        ),
    ),
    key=("financial_year", "cps_area", "offence"),
    period="financial_year",
)

LAYOUTS = (VAWG,)
