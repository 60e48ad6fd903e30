"""The words that travel with a problem profile's figures: the synthetic-data banner, the
caveats users must see next to the numbers, and the recording-rule changes that break the
series. The dashboard shows these same words (``hsinsight.dashboard.frame`` and
``hsinsight.dashboard.charts.shared`` import them), so a profile and the page it is
downloaded from say the same thing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SYNTHETIC_BANNER = (
    "Synthetic sample data: these figures are invented for demonstration (only the England "
    "and Wales figures the 2017 inspection quotes, for 2014 to 2016, are calibrated to published "
    "figures). Not official statistics."
)

RECORDED_CRIME_CAVEAT = "Recorded crime measures police activity and recording practice, not true incidence."

#: The caveats of DOMAIN.md, worded for the place they are shown.
CAVEATS = {
    "recorded_crime": RECORDED_CRIME_CAVEAT,
    "series_breaks": (
        "Recording-rule changes in April 2014, 2015, 2017, 2018 and 2020 (dotted lines) break the series: "
        "a change across one of them is not a change in crime."
    ),
    "stalking_2020": (
        "From April 2020 a course of conduct between former partners is recorded as stalking unless the "
        "police are satisfied it is harassment only: stalking from the year ending March 2021 is not "
        "comparable with earlier years."
    ),
    "ratio": (
        "A high ratio can mean stalking recorded as harassment: the ratio measures recording practice, "
        "not how much stalking there is."
    ),
    "outliers": (
        "Outliers: a force whose log ratio is more than 3.5 robust z-scores (median and MAD of every "
        "territorial force in the same 12 months) from the middle."
    ),
    "peer_groups": (
        "Peer groups are hsinsight's own grouping of forces by population and urbanity, not "
        "HMICFRS's. British Transport Police and City of London are in no group."
    ),
    "btp_rate": "British Transport Police has no resident population, so no rate per 1,000.",
    "outcomes_closed": (
        "Outcomes are counted in the 12 months they were assigned, whatever period the crime was recorded "
        "in (closed basis); crimes not yet assigned an outcome are left out."
    ),
    "expired_codes": (
        "Devon and Cornwall, Hertfordshire, Kent, City of London, Metropolitan Police, Sussex and "
        "Northumbria recorded against expired codes in 2016/17, so outcome counts may not match recorded "
        "crime counts."
    ),
    "cps_units": (
        "The CPS counts offences reaching a first hearing, not defendants; the police count crimes. The "
        "steps are different units in the same year, not the same cases followed through."
    ),
    "cps_areas": (
        "CPS figures join police figures only by CPS Area or nationally. London North and London South "
        "are shown together; British Transport Police is in England and Wales but in no CPS Area."
    ),
    "financial_years": "Police and CPS figures are for financial years, April to March.",
    "stalking_code": "Stalking had no police code before April 2014, so there is no recorded stalking before 2014/15.",
    "moj": (
        "Ministry of Justice figures are for calendar years and count defendants by their principal "
        "offence, in the police force area where the court sits. They never reconcile exactly with the "
        "CPS's offences."
    ),
    "conviction_ratio": (
        "The conviction ratio is defendants convicted over defendants prosecuted in the same year, not "
        "the outcome of one cohort."
    ),
    "appendix_tables": (
        "The ONS's own England and Wales totals (Appendix tables, Table A5a), as one release publishes "
        "them: every release revises back years slightly, so they need not match the force figures above."
    ),
    "subgroup_2020": (
        "Controlling or coercive behaviour has its own code only from April 2020 (inside assault without "
        "injury before, and not separable), so the stalking and harassment subgroup jumps then for that "
        "reason too. Malicious communications has its own code from April 2017."
    ),
    "restraining_orders": (
        "Restraining orders are counted for any offence, including secondary disposals (Protection from "
        "Harassment Act 1997 s5 and s5A; Sentencing Act 2020 s360 from December 2020)."
    ),
}

#: The forces that recorded against expired codes in 2016/17 (the ``expired_codes`` caveat).
EXPIRED_CODE_FORCES = frozenset(
    {
        "Devon and Cornwall",
        "Hertfordshire",
        "Kent",
        "City of London",
        "Metropolitan Police",
        "Sussex",
        "Northumbria",
    }
)
#: The financial year the expired codes were used in.
EXPIRED_CODE_YEAR = (dt.date(2016, 4, 1), dt.date(2017, 3, 31))


@dataclass(frozen=True)
class SeriesBreak:
    """A recording-rule change after which the series is not comparable with before."""

    date: dt.date
    label: str
    description: str


SERIES_BREAKS: tuple[SeriesBreak, ...] = (
    SeriesBreak(
        dt.date(2014, 4, 1),
        "Stalking own category",
        "Stalking (8Q) recorded as its own classification; before, it was inside harassment (8L).",
    ),
    SeriesBreak(
        dt.date(2015, 4, 1),
        "Harassment widened",
        "Sending letters or electronic communications to cause distress or anxiety, and "
        "disclosing private sexual photographs and films, added to harassment.",
    ),
    SeriesBreak(
        dt.date(2017, 4, 1),
        "Malicious comms moved out",
        "Those two offences moved out of harassment into their own category, malicious communications.",
    ),
    SeriesBreak(
        dt.date(2018, 4, 1),
        "Additional recording",
        "A course of conduct amounting to stalking, harassment or controlling or coercive "
        "behaviour recorded in addition to the most serious other offence against the victim.",
    ),
    SeriesBreak(
        dt.date(2020, 4, 1),
        "Ex-partners as stalking",
        "A course of conduct between former partners recorded as stalking unless the police are "
        "satisfied it is harassment only: stalking from the year ending March 2021 is not "
        "comparable with earlier years.",
    ),
)


def breaks_between(start: dt.date, end: dt.date) -> list[SeriesBreak]:
    """Recording-rule changes after ``start`` and on or before ``end``."""
    return [b for b in SERIES_BREAKS if start < b.date <= end]
