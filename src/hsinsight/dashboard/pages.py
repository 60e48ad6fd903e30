"""The dashboard's pages: each one's address, title, script under ``dashboards/``,
icon and navigation section, in navigation order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page: its address (``/slug``), title, file under dashboards/ and icon."""

    slug: str
    title: str
    file: str
    icon: str
    section: str


#: Every page, in navigation order; the first is the default (served at ``/`` too).
PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "Overview", "views/overview.py", ":material/show_chart:", "Police"),
    PageSpec(
        "force-comparison",
        "Force comparison",
        "views/force_comparison.py",
        ":material/leaderboard:",
        "Police",
    ),
    PageSpec("outcomes", "Outcomes", "views/outcomes.py", ":material/rule:", "Police"),
    PageSpec(
        "conversion",
        "Conversion and prosecution gap",
        "views/conversion.py",
        ":material/filter_alt:",
        "Justice",
    ),
    PageSpec("courts", "Courts", "views/courts.py", ":material/gavel:", "Justice"),
    PageSpec("force-profile", "Force profile", "views/force_profile.py", ":material/assignment:", "Profiles"),
    PageSpec(
        "data-quality",
        "Data quality and sources",
        "views/data_quality.py",
        ":material/fact_check:",
        "About the data",
    ),
)
