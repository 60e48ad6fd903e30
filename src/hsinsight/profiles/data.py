"""Everything a problem profile states, read from the published warehouse's marts.

:func:`load` reads the marts once (for every force, so ``--all`` reads them once too)
into a :class:`Snapshot`; :func:`build` assembles one force's :class:`Profile` for one
12-month period from it: the ``marts.problem_profile`` row and the row a year earlier,
the outcome mix (``marts.outcomes_12m``), the CPS Area's path from crime to conviction
(``marts.attrition``), court outcomes and restraining orders in the force area
(``marts.court_outcomes``, ``marts.restraining_orders``), the trend since the series
began (``marts.problem_profile`` over time, whose counts and rates come from
``marts.recorded_crime_12m``), the files the warehouse was built from
(``marts.source_files``) and the run that published it (the run log). Nothing is
estimated here: a figure the marts do not hold is missing, and the document says so.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import importlib.metadata
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from hsinsight.errors import HsinsightError
from hsinsight.names import NATIONAL_CODE
from hsinsight.profiles.figures import is_missing

OFFENCES = ("stalking", "harassment")
#: The steps of marts.attrition, in order.
CPS_COUNTS = ("recorded", "charged_summonsed", "prosecuted", "convicted")
CPS_RATES = (
    "charged_per_recorded",
    "prosecuted_per_charged",
    "convicted_per_prosecuted",
    "prosecuted_per_recorded",
    "convicted_per_recorded",
)
#: Protection from Harassment Act 1997 sections in marts.court_outcomes, in the order shown.
COURT_SECTIONS = {
    "s2A": "Stalking (s2A)",
    "s4A_fear_of_violence": "Stalking involving fear of violence (s4A)",
    "s4A_serious_alarm_distress": "Stalking involving serious alarm or distress (s4A)",
    "s2": "Harassment (s2)",
    "s4": "Putting people in fear of violence (s4)",
    "breach_of_restraining_order": "Breach of a restraining order (s5)",
}
COURT_MEASURES = ("prosecuted", "convicted", "conviction_ratio")


class ProfileError(HsinsightError):
    """A problem profile that cannot be made (no such force or period, no warehouse)."""


class UnknownForceError(ProfileError):
    """No police force area by that name or code; ``suggestions`` are the closest names."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = (
            "closest names: " + "; ".join(suggestions)
            if suggestions
            else "run with --force and a name or code from marts.problem_profile"
        )
        super().__init__(f"no police force area called {query!r}; {hint}")


# --------------------------------------------------------------------------- reading


def _attach(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the warehouse attached read-only under its file stem
    (the catalog name its dbt views refer to)."""
    con = duckdb.connect(":memory:")
    alias = '"' + warehouse.stem.replace('"', '""') + '"'
    con.execute(f"attach ? as {alias} (read_only)", [str(warehouse)])
    con.execute(f"use {alias}")
    return con


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


PROFILE_SQL = "select * from marts.problem_profile order by area_name, period_end"
OUTCOMES_SQL = """
select area_code, period_end, offence_group, outcome_group, outcome_group_name, outcomes, assigned_outcomes, share
from marts.outcomes_12m
where offence_group in ('stalking', 'harassment') and area_type in ('force', 'national')
"""
ATTRITION_SQL = "select * from marts.attrition where offence_group in ('stalking', 'harassment')"
CPS_FORCES_SQL = """
select police_comparison_area, comparison_area_name, period_end, area_code
from intermediate.int_cps_comparison_area_forces
"""
COURTS_SQL = """
select area_code, calendar_year, offence_section, prosecuted, convicted, conviction_ratio
from marts.court_outcomes
where area_type in ('force', 'national')
"""
RESTRAINING_SQL = """
select area_code, calendar_year, orders_on_conviction, orders_on_acquittal
from marts.restraining_orders
where offence_scope = 'all_offences' and area_type in ('force', 'national')
"""
SOURCES_SQL = """
select file_name, string_agg(distinct sheet, '; ' order by sheet) as sheets, any_value(source) as source,
       any_value(layout) as layout, sha256, max(size_bytes) as size_bytes, sum(rows) as rows,
       bool_or(is_synthetic) as is_synthetic, max(loaded_at) as loaded_at
from marts.source_files
group by file_name, sha256
order by source, file_name
"""
FILE_PERIODS_SQL = "select sha256, string_agg(distinct periods, '; ' order by periods) as periods from raw._files group by sha256"
RELEASES_SQL = "select mart, source, release from intermediate.int_warehouse_releases order by mart"
PEER_GROUPS_SQL = "select area_code, peer_group from reference.force_peer_groups"
SYNTHETIC_SQL = "select coalesce(bool_or(is_synthetic), false) from marts.source_files"


@dataclass
class Snapshot:
    """The marts a set of problem profiles reads, read once from one warehouse."""

    warehouse: Path
    profile: pd.DataFrame
    outcomes: pd.DataFrame
    attrition: pd.DataFrame
    cps_forces: pd.DataFrame
    courts: pd.DataFrame
    restraining: pd.DataFrame
    sources: pd.DataFrame
    releases: pd.DataFrame
    peer_groups: pd.DataFrame
    synthetic: bool
    run: dict | None
    version: str
    read_at: dt.datetime
    warehouse_sha256: str = ""

    @property
    def forces(self) -> pd.DataFrame:
        """area_code, area_name of every force with a profile, by name."""
        return self.profile[["area_code", "area_name"]].drop_duplicates().sort_values("area_name")

    def periods(self, area_code: str | None = None) -> list[dt.date]:
        """12-month periods with a profile (of one force), latest first."""
        rows = self.profile if area_code is None else self.profile[self.profile["area_code"] == area_code]
        return sorted({pd.Timestamp(p).date() for p in rows["period_end"]}, reverse=True)


def _optional(con: duckdb.DuckDBPyConnection, sql: str, columns: list[str]) -> pd.DataFrame:
    """A table the document can do without (the raw layer's or an intermediate model's)."""
    try:
        return _frame(con, sql)
    except duckdb.CatalogException:
        return pd.DataFrame(columns=columns)


def platform_version() -> str:
    try:
        return importlib.metadata.version("hsinsight")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def load(warehouse: Path) -> Snapshot:
    """Read every mart the profiles need from the published warehouse at ``warehouse``."""
    warehouse = Path(warehouse).resolve()
    if not warehouse.is_file():
        raise ProfileError(f"no published warehouse at {warehouse}; build one with `hsinsight run`")
    try:
        con = _attach(warehouse)
    except duckdb.Error as exc:
        raise ProfileError(f"cannot open the warehouse {warehouse}: {exc}") from exc
    try:
        profile = _frame(con, PROFILE_SQL)
        snapshot = Snapshot(
            warehouse=warehouse,
            profile=profile,
            outcomes=_frame(con, OUTCOMES_SQL),
            attrition=_frame(con, ATTRITION_SQL),
            cps_forces=_optional(
                con,
                CPS_FORCES_SQL,
                ["police_comparison_area", "comparison_area_name", "period_end", "area_code"],
            ),
            courts=_frame(con, COURTS_SQL),
            restraining=_frame(con, RESTRAINING_SQL),
            sources=_frame(con, SOURCES_SQL),
            releases=_optional(con, RELEASES_SQL, ["mart", "source", "release"]),
            peer_groups=_optional(con, PEER_GROUPS_SQL, ["area_code", "peer_group"]),
            synthetic=bool(con.execute(SYNTHETIC_SQL).fetchone()[0]),
            run=None,
            version=platform_version(),
            read_at=dt.datetime.now(dt.UTC),
        )
        periods = _optional(con, FILE_PERIODS_SQL, ["sha256", "periods"])
    except duckdb.Error as exc:
        raise ProfileError(f"cannot read the marts of {warehouse}: {exc}") from exc
    finally:
        con.close()
    snapshot.sources = snapshot.sources.merge(periods, on="sha256", how="left")
    for frame in (snapshot.profile, snapshot.outcomes, snapshot.attrition, snapshot.cps_forces):
        if "period_end" in frame:
            frame["period_end"] = pd.to_datetime(frame["period_end"]).dt.date
    snapshot.warehouse_sha256 = _sha256(warehouse)
    snapshot.run = _publishing_run(warehouse, snapshot.warehouse_sha256)
    return snapshot


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _publishing_run(warehouse: Path, sha256: str) -> dict | None:
    """The run log's row for the run that published this very file (matched by its
    SHA-256), else the latest published run marked ``matched: False``; None without one."""
    from hsinsight import runs

    try:
        published = [r for r in runs.read_runs(warehouse, limit=500) if r.get("outcome") == "published"]
    except duckdb.Error:
        return None
    for run in published:
        if run.get("published_sha256") == sha256:
            return {**run, "matched": True}
    return {**published[0], "matched": False} if published else None


# --------------------------------------------------------------------------- finding a force


def _normalise(name: str) -> str:
    name = name.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name).split())


#: Other spellings of force names in the publishers' files (SOURCES.md).
_ALIASES = {
    "london city of": "City of London",
    "metropolitan police service": "Metropolitan Police",
    "met": "Metropolitan Police",
    "btp": "British Transport Police",
    "dyfed powys": "Dyfed-Powys",
}


def find_force(snapshot: Snapshot, query: str) -> tuple[str, str]:
    """(area_code, area_name) of the force called or coded ``query``; an
    :class:`UnknownForceError` listing the closest names when there is none."""
    forces = list(snapshot.forces.itertuples(index=False))
    wanted = _normalise(query)
    for code, name in forces:
        if wanted in (_normalise(code), _normalise(name)):
            return str(code), str(name)
    alias = _ALIASES.get(wanted)
    if alias:
        for code, name in forces:
            if name == alias:
                return str(code), str(name)
    by_key = {_normalise(name): str(name) for _, name in forces}
    close = difflib.get_close_matches(wanted, list(by_key), n=5, cutoff=0.5)
    partial = [name for key, name in by_key.items() if wanted and wanted in key]
    suggestions = list(dict.fromkeys([*(by_key[c] for c in close), *partial]))[:5]
    if not suggestions:
        suggestions = [by_key[c] for c in difflib.get_close_matches(wanted, list(by_key), n=3, cutoff=0.0)]
    raise UnknownForceError(query, suggestions)


def parse_period(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ProfileError(f"--period {text!r} is not a date (YYYY-MM-DD)") from exc


# --------------------------------------------------------------------------- one force


@dataclass
class Profile:
    """One force's problem profile for one 12-month period: every figure the document states."""

    area_code: str
    area_name: str
    period_end: dt.date
    row: dict[str, Any]
    #: The flat figures the sentences and the question rules read (docs/profile.md).
    figures: dict[str, Any]
    trend: pd.DataFrame
    outcome_mix: pd.DataFrame
    cps: pd.DataFrame
    courts: pd.DataFrame
    restraining: dict[str, Any]
    peer_forces: list[str]
    synthetic: bool
    sources: pd.DataFrame
    releases: pd.DataFrame
    run: dict | None
    version: str
    warehouse: Path
    generated: dt.datetime
    warehouse_sha256: str = ""
    questions: list = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)

    @property
    def period_label(self) -> str:
        return f"12 months to {self.period_end:%-d %B %Y}"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.area_name.lower()).strip("-")


def _record(frame: pd.DataFrame) -> dict[str, Any] | None:
    if frame.empty:
        return None
    return {k: (None if is_missing(v) else v) for k, v in frame.iloc[0].to_dict().items()}


def _year_earlier(period: dt.date) -> dt.date:
    """The same quarter end a year before (29 February never ends a quarter)."""
    return period.replace(year=period.year - 1)


def _financial_year_end(period: dt.date) -> dt.date:
    """The end of the last financial year that ended on or before ``period``."""
    end = dt.date(period.year, 3, 31)
    return end if period >= end else dt.date(period.year - 1, 3, 31)


def build(
    snapshot: Snapshot, area_code: str, period: dt.date | None = None, *, generated: dt.datetime | None = None
) -> Profile:
    """One force's profile for ``period`` (default: its latest 12 months)."""
    from hsinsight.profiles import rules

    rows = snapshot.profile[snapshot.profile["area_code"] == area_code]
    if rows.empty:
        raise ProfileError(f"no problem profile rows for {area_code}")
    available = snapshot.periods(area_code)
    period = period or available[0]
    if period not in available:
        shown = ", ".join(f"{p:%Y-%m-%d}" for p in available[:8])
        raise ProfileError(
            f"no problem profile for {rows['area_name'].iloc[0]} for the 12 months to {period:%Y-%m-%d}; "
            f"periods available (latest first): {shown}{', ...' if len(available) > 8 else ''}"
        )
    row = _record(rows[rows["period_end"] == period])
    assert row is not None
    previous = _record(rows[rows["period_end"] == _year_earlier(period)]) or {}
    name = str(row["area_name"])
    court_year = None if is_missing(row.get("court_calendar_year")) else int(row["court_calendar_year"])

    figures: dict[str, Any] = dict(row)
    figures["period"] = f"12 months to {period:%-d %B %Y}"
    for key in ("stalking_offences", "harassment_offences", "harassment_to_stalking_ratio"):
        figures[f"{key}_previous"] = previous.get(key)

    cps = _cps(snapshot, area_code, period)
    figures.update(_cps_figures(cps))
    courts = _courts(snapshot, area_code, court_year)
    for r in courts.itertuples(index=False):
        for measure in COURT_MEASURES:
            figures[f"court_{r.offence_section}_{measure}"] = getattr(r, measure)
            figures[f"court_{r.offence_section}_{measure}_england_and_wales"] = getattr(r, f"{measure}_ew")
    restraining = _restraining(snapshot, area_code, court_year)
    figures.update(restraining)

    peer_group = _record(snapshot.peer_groups[snapshot.peer_groups["area_code"] == area_code])
    peers = (
        snapshot.peer_groups[snapshot.peer_groups["peer_group"] == peer_group["peer_group"]]["area_code"]
        if peer_group
        else pd.Series(dtype="object")
    )
    names = snapshot.forces.set_index("area_code")["area_name"]
    peer_forces = sorted(str(names[c]) for c in peers if c in names.index and c != area_code)

    profile = Profile(
        area_code=area_code,
        area_name=name,
        period_end=period,
        row=row,
        figures=figures,
        trend=rows[rows["period_end"] <= period].reset_index(drop=True),
        outcome_mix=_outcome_mix(snapshot, area_code, period),
        cps=cps,
        courts=courts,
        restraining=restraining,
        peer_forces=peer_forces,
        synthetic=snapshot.synthetic,
        sources=snapshot.sources,
        releases=snapshot.releases,
        run=snapshot.run,
        version=snapshot.version,
        warehouse=snapshot.warehouse,
        generated=generated or dt.datetime.now(dt.UTC),
        warehouse_sha256=snapshot.warehouse_sha256,
    )
    profile.summary = rules.sentences(figures)
    profile.questions = rules.questions(figures)
    return profile


def _outcome_mix(snapshot: Snapshot, area_code: str, period: dt.date) -> pd.DataFrame:
    """offence_group, outcome_group, outcome_group_name, the force's outcomes and share,
    England and Wales's share; every outcome group either assigned in the period."""
    mix = snapshot.outcomes[snapshot.outcomes["period_end"] == period]
    force = mix[mix["area_code"] == area_code]
    national = mix[mix["area_code"] == NATIONAL_CODE]
    keys = ["offence_group", "outcome_group", "outcome_group_name"]
    merged = force[[*keys, "outcomes", "assigned_outcomes", "share"]].merge(
        national[[*keys, "outcomes", "share"]].rename(
            columns={"outcomes": "outcomes_ew", "share": "share_ew"}
        ),
        on=keys,
        how="outer",
    )
    order = {o: i for i, o in enumerate(OFFENCES)}
    merged["_offence"] = merged["offence_group"].map(order)
    return (
        merged.sort_values(["_offence", "share_ew", "outcome_group"], ascending=[True, False, True])
        .drop(columns="_offence")
        .reset_index(drop=True)
    )


def _cps(snapshot: Snapshot, area_code: str, period: dt.date) -> pd.DataFrame:
    """The CPS Area's (comparison area's) attrition rows for the last financial year that
    ended by ``period``, with England and Wales's beside them (columns ending ``_ew``)."""
    year_end = _financial_year_end(period)
    links = snapshot.cps_forces[snapshot.cps_forces["area_code"] == area_code]
    attrition = snapshot.attrition
    national = attrition[(attrition["area_code"] == NATIONAL_CODE) & (attrition["period_end"] <= year_end)]
    if links.empty or national.empty:
        return pd.DataFrame()
    candidates = attrition.merge(
        links[["police_comparison_area", "period_end"]],
        left_on=["area_code", "period_end"],
        right_on=["police_comparison_area", "period_end"],
    )
    candidates = candidates[candidates["period_end"] <= year_end]
    if candidates.empty:
        return pd.DataFrame()
    latest = candidates["period_end"].max()
    area = candidates[candidates["period_end"] == latest]
    columns = ["offence_group", *CPS_COUNTS, *CPS_RATES]
    merged = area[["area_code", "area_name", "financial_year", "period_end", *columns]].merge(
        national[national["period_end"] == latest][columns],
        on="offence_group",
        suffixes=("", "_ew"),
        how="left",
    )
    return merged.set_index("offence_group").reindex(
        [o for o in OFFENCES if o in set(merged["offence_group"])]
    )


def _cps_figures(cps: pd.DataFrame) -> dict[str, Any]:
    figures: dict[str, Any] = {"cps_area_name": None, "cps_financial_year": None}
    for offence in OFFENCES:
        for measure in (*CPS_COUNTS, *CPS_RATES):
            figures[f"cps_{offence}_{measure}"] = None
            figures[f"cps_{offence}_{measure}_england_and_wales"] = None
    if cps.empty:
        return figures
    first = cps.iloc[0]
    figures["cps_area_name"] = first["area_name"]
    figures["cps_financial_year"] = first["financial_year"]
    for offence, r in cps.iterrows():
        for measure in (*CPS_COUNTS, *CPS_RATES):
            figures[f"cps_{offence}_{measure}"] = None if is_missing(r[measure]) else r[measure]
            figures[f"cps_{offence}_{measure}_england_and_wales"] = (
                None if is_missing(r[f"{measure}_ew"]) else r[f"{measure}_ew"]
            )
    return figures


def _courts(snapshot: Snapshot, area_code: str, year: int | None) -> pd.DataFrame:
    """One row per Act section: offence_section, label, the force area's prosecuted,
    convicted and conviction_ratio, and England and Wales's (``_ew``), for ``year``."""
    columns = ["offence_section", "label", *COURT_MEASURES, *(f"{m}_ew" for m in COURT_MEASURES)]
    courts = snapshot.courts
    if year is None:
        return pd.DataFrame(columns=columns)
    force = courts[(courts["area_code"] == area_code) & (courts["calendar_year"] == year)]
    if force.empty:
        return pd.DataFrame(columns=columns)
    national = courts[(courts["area_code"] == NATIONAL_CODE) & (courts["calendar_year"] == year)]
    merged = force[["offence_section", *COURT_MEASURES]].merge(
        national[["offence_section", *COURT_MEASURES]], on="offence_section", how="left", suffixes=("", "_ew")
    )
    merged["label"] = merged["offence_section"].map(COURT_SECTIONS).fillna(merged["offence_section"])
    order = {s: i for i, s in enumerate(COURT_SECTIONS)}
    merged["_order"] = merged["offence_section"].map(order).fillna(len(order))
    return merged.sort_values("_order")[columns].reset_index(drop=True)


def _restraining(snapshot: Snapshot, area_code: str, year: int | None) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "restraining_orders_on_conviction": None,
        "restraining_orders_on_acquittal": None,
        "restraining_orders_on_conviction_england_and_wales": None,
        "restraining_orders_on_acquittal_england_and_wales": None,
    }
    if year is None:
        return figures
    orders = snapshot.restraining[snapshot.restraining["calendar_year"] == year]
    for code, suffix in ((area_code, ""), (NATIONAL_CODE, "_england_and_wales")):
        found = _record(orders[orders["area_code"] == code])
        if found:
            figures[f"restraining_orders_on_conviction{suffix}"] = found["orders_on_conviction"]
            figures[f"restraining_orders_on_acquittal{suffix}"] = found["orders_on_acquittal"]
    return figures
