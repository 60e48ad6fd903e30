"""Data quality and sources: the last pipeline runs and their checks, what each re-issued
release revised, the published figures the marts are reconciled with, the publishers' own
totals beside the warehouse's, the documentation sites, and every source with its
publisher, release and licence."""

from __future__ import annotations

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from hsinsight.config import Settings
from hsinsight.dashboard import docs_site, formatting
from hsinsight.dashboard.charts import shared as charts
from hsinsight.dashboard.connection import runs_path
from hsinsight.dashboard.frame import page_header, warehouse_or_stop
from hsinsight.dashboard.queries import data_quality as queries
from hsinsight.dashboard.queries import shared
from hsinsight.errors import HsinsightError
from hsinsight.sources.registry import load_registry

version = warehouse_or_stop()
settings = Settings.from_env()

page_header(
    "Data quality and sources",
    "Can these figures be trusted? How the last runs went, what their checks found, what each new "
    "release changed, and where every figure comes from.",
)

# ---- the last runs

st.header("The last runs", anchor="runs")
try:
    log = queries.run_log(version)
except (duckdb.Error, OSError) as exc:  # a log being replaced, or not a run log: say so
    log = None
    st.warning(
        f"The run log at {formatting.escape_markdown(runs_path(version), code=True)} could not be "
        f"read ({type(exc).__name__}). "
        "It is rewritten at the end of every run; reload in a moment.",
        icon=":material/history:",
    )
    unreadable = True
else:
    unreadable = False
if log is None or log.runs.empty:
    if not unreadable:
        st.info(
            "No runs recorded yet: the run log "
            f"{formatting.escape_markdown(runs_path(version), code=True)} is written by every "
            "`hsinsight run` and every run of the transform DAG.",
            icon=":material/history:",
        )
    latest = None
else:
    runs = log.runs
    latest = runs.iloc[0]
    outcome = str(latest["outcome"])
    when = pd.Timestamp(latest["finished_at"]) if pd.notna(latest["finished_at"]) else None
    summary = st.columns(4)
    summary[0].metric("Last run", outcome.capitalize())
    summary[1].metric("Checks passed", formatting.fmt_count(latest["checks_passed"]))
    summary[2].metric("Checks warned", formatting.fmt_count(latest["checks_warned"]))
    summary[3].metric("Checks failed", formatting.fmt_count(latest["checks_failed"]))
    st.caption(
        f"Run {formatting.escape_markdown(latest['run_id'], code=True)} "
        f"({formatting.escape_markdown(latest['orchestrator'])})"
        + (f", finished {when:%d %b %Y %H:%M} UTC" if when else "")
        + (f" after {latest['seconds']:.0f} seconds" if pd.notna(latest["seconds"]) else "")
        + "."
    )
    if latest["message"] and isinstance(latest["message"], str):
        (st.success if outcome == "published" else st.error)(formatting.escape_markdown(latest["message"]))

    chart_runs = runs.sort_values("started_at").reset_index(drop=True)
    labels = chart_runs["started_at"].dt.strftime("%d %b %H:%M") + " (" + chart_runs["outcome"] + ")"
    figure = go.Figure()
    for column, name, colour, pattern in (
        ("checks_passed", "Passed", charts.OKABE_ITO["bluish_green"], ""),
        ("checks_warned", "Warned", charts.OKABE_ITO["orange"], "/"),
        ("checks_failed", "Failed", charts.OKABE_ITO["vermillion"], "x"),
    ):
        figure.add_trace(
            go.Bar(
                x=labels,
                y=chart_runs[column].astype("float64"),
                name=name,
                marker={"color": colour, "pattern": {"shape": pattern}},
                hovertemplate=f"%{{x}}<br>{name}: %{{y:.0f}} checks<extra></extra>",
            )
        )
    figure.update_layout(barmode="stack")
    figure.update_yaxes(title="Checks", dtick=1 if chart_runs["checks_run"].fillna(0).max() <= 10 else None)
    charts.style(figure, height=340)
    charts.chart(
        "runs",
        "Recent runs and their checks",
        figure,
        runs,
        description=(
            f"Stacked bar chart of the checks passed, warned and failed in each of the last {len(runs)} run(s); the "
            f"latest was {outcome}, with {formatting.fmt_count(latest['checks_passed'])} checks "
            f"passed, {formatting.fmt_count(latest['checks_warned'])} warned and "
            f"{formatting.fmt_count(latest['checks_failed'])} failed."
        ),
        file_name="hsinsight_runs",
        column_config={
            "run_id": "Run",
            "orchestrator": "Orchestrator",
            "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="D MMM YYYY HH:mm"),
            "finished_at": st.column_config.DatetimeColumn("Finished (UTC)", format="D MMM YYYY HH:mm"),
            "seconds": st.column_config.NumberColumn("Seconds", format="%.1f"),
            "outcome": "Outcome",
            "published": "Published",
            "sources": "Sources ingested",
            "files_loaded": st.column_config.NumberColumn("Files", format="localized"),
            "rows_loaded": st.column_config.NumberColumn("Rows", format="localized"),
            "checks_run": "Checks",
            "checks_passed": "Passed",
            "checks_warned": "Warned",
            "checks_failed": "Failed",
            "message": "Message",
            "synthetic": "Synthetic",
            "data_docs": "Data Docs",
        },
        subtitle=f"The last {len(runs)} runs, latest first in the table" if len(runs) > 1 else "The last run",
    )
    charts.table(
        "check-results",
        "Checks of the latest run",
        log.check_results,
        file_name=f"hsinsight_checks_{formatting.file_slug(latest['run_id'])}",
        caption=f"Run {formatting.escape_markdown(latest['run_id'], code=True)}: every check, failed and "
        "warned first.",
        column_config={
            "run_id": "Run",
            "check_name": "Check",
            "severity": "Severity",
            "description": "What it checks",
            "success": "Passed",
            "rows": st.column_config.NumberColumn("Rows checked", format="localized"),
            "failed_expectations": "Expectations not met",
        },
    )
    if not log.check_findings.empty:
        charts.table(
            "check-findings",
            "What the latest run's checks found",
            log.check_findings,
            file_name=f"hsinsight_check_findings_{formatting.file_slug(latest['run_id'])}",
            caption="One row per force and period an unmet expectation points at.",
            column_config={
                "run_id": "Run",
                "check_name": "Check",
                "severity": "Severity",
                "expectation": "Expectation",
                "column_name": "Column",
                "message": "Finding",
                "area_code": "Area code",
                "area_name": "Area",
                "period": "Period",
                "detail": "Detail",
            },
        )

# ---- documentation

st.header("Documentation", anchor="documentation")
from_run = latest["data_docs"] if latest is not None and isinstance(latest["data_docs"], str) else None
sites = docs_site.sites(settings.quality_dir, settings.project_root, from_run)
for site, column in zip(sites, st.columns(len(sites)), strict=True):
    with column:
        st.markdown(f"**{site.title}**")
        url = docs_site.publish(site)
        if url:
            st.link_button(f"Open the {site.short_name}", url, icon=":material/open_in_new:")
            st.caption(
                f"Built {pd.Timestamp(site.index.stat().st_mtime, unit='s'):%d %b %Y %H:%M} UTC from "
                f"{formatting.escape_markdown(site.index, code=True)}."
            )
        elif site.index is not None:
            st.caption(
                f"At {formatting.escape_markdown(site.index, code=True)}: the dashboard could not copy it to "
                "serve it; open the file from disk."
            )
        else:
            st.caption(f"Not built yet. {site.how_to_build}")

# ---- what each release revised

st.header("What each new release revised", anchor="revisions")
changes = queries.release_changes(version)
cells = queries.revised_cells(version)
if changes.empty:
    st.info(
        "No release has replaced figures an earlier file loaded: every period in the warehouse was loaded once.",
        icon=":material/published_with_changes:",
    )
else:
    charts.table(
        "release-changes",
        "Releases that replaced earlier figures",
        changes,
        file_name="hsinsight_release_changes",
        caption="One row per source, period and replacing file: rows added, removed and revised, and the net change.",
        column_config={
            "source": "Source",
            "period": "Period",
            "previous_file": "Previous file",
            "new_file": "New file",
            "rows_added": st.column_config.NumberColumn("Rows added", format="localized"),
            "rows_removed": st.column_config.NumberColumn("Rows removed", format="localized"),
            "rows_revised": st.column_config.NumberColumn("Rows revised", format="localized"),
            "count_change": st.column_config.NumberColumn("Net change in counts", format="localized"),
            "has_row_changes": "Changed anything",
            "detected_at": st.column_config.DatetimeColumn("Loaded (UTC)", format="D MMM YYYY HH:mm"),
        },
    )
    more = len(cells) > queries.REVISED_CELLS_SHOWN
    cells = cells.head(queries.REVISED_CELLS_SHOWN)
    if not cells.empty:
        charts.table(
            "revised-cells",
            "Cells the new releases revised",
            cells,
            file_name="hsinsight_revised_cells",
            caption=(
                f"The latest {queries.REVISED_CELLS_SHOWN:,} revised cells; the rest are in "
                "staging.stg_hsinsight__revised_cells."
                if more
                else "Every count or rate cell a new release changed, previous and new value."
            ),
            column_config={
                "source": "Source",
                "period": "Period",
                "new_file": "New file",
                "row_key": "Row",
                "column_name": "Column",
                "previous_value": "Previous value",
                "new_value": "New value",
                "detected_at": st.column_config.DatetimeColumn("Loaded (UTC)", format="D MMM YYYY HH:mm"),
            },
        )

# ---- reconciliation with published figures

st.header("Reconciliation with published figures", anchor="reconciliation")
reconciliation = queries.reconciliation(version)
counts = reconciliation["status"].value_counts()
st.markdown(
    "Every figure the 2017 inspection and the statistics it cites publish, beside the value the warehouse "
    f"gives for it: **{counts.get('matches', 0)} match**, {counts.get('differs', 0)} differ, "
    f"{counts.get('revised_since_publication', 0)} were revised by a later release than the one they were "
    f"published from, {counts.get('not_in_warehouse', 0)} are for periods not loaded and "
    f"{counts.get('not_expressible', 0)} cannot be expressed in the marts."
)
st.caption(
    "A figure belongs to its release. When the warehouse holds that release, a difference blocks publishing; "
    "when it holds a later one, the publisher has revised the figure since, and the difference is shown here "
    "as a warning (published value and release beside the current value and release)."
)
charts.table(
    "reconciliation",
    "Published figures and the warehouse's values",
    reconciliation,
    file_name="hsinsight_reconciliation",
    column_config={
        "figure_id": "Figure",
        "status": "Status",
        "source": "Source",
        "measure": "Measure",
        "offence": "Offence",
        "period": "Period",
        "figure_release": "Published in",
        "warehouse_release": "Warehouse release",
        "published_value": st.column_config.NumberColumn("Published", format="%.1f"),
        "unit": "Unit",
        "mart_value": st.column_config.NumberColumn("Warehouse", format="%.1f"),
        "difference": st.column_config.NumberColumn("Difference", format="%.1f"),
        "tolerance": st.column_config.NumberColumn("Tolerance", format="%.1f"),
        "mart": "Mart",
        "mart_expressible_reason": "Where it comes from",
        "citation": "Citation",
    },
    height=320,
)

# ---- published totals beside the warehouse's

#: The publishers' tables in marts.published_totals, named for people.
PUBLISHER_TABLES = {
    "ons_pfa_tables": "ONS police force area data tables (Table P1)",
    "ons_appendix_tables": "ONS Appendix tables (Table A5a)",
    "home_office_pfa_rolling": "Home Office rolling 12-month totals (rec-crime-pfa.csv)",
}

st.header("Published totals beside the warehouse's", anchor="published-totals")
warning_share = queries.PUBLISHED_DIFFERENCE_WARNING
if not shared.published_totals_present(version):
    st.info(
        "This warehouse has no published totals: it was built before they were added. Run "
        "`hsinsight run` again to compare the publishers' own totals with the warehouse's.",
        icon=":material/difference:",
    )
else:
    totals = queries.published_totals(version)
    if totals.empty:
        st.info(
            "No publisher's own totals are loaded: add the ONS police force area data tables, the ONS "
            "Appendix tables or the Home Office rolling 12-month totals to the raw files to compare them "
            "with the warehouse's.",
            icon=":material/difference:",
        )
    else:
        loaded_tables = list(dict.fromkeys(totals["publisher_table"]))
        chosen_tables = st.multiselect(
            "Publisher tables",
            loaded_tables,
            default=loaded_tables,
            format_func=lambda t: PUBLISHER_TABLES.get(t, t),
            key="published_totals_tables",
        )
        selected = totals[totals["publisher_table"].isin(chosen_tables)].reset_index(drop=True)
        compared = selected["computed_value"].notna() & selected["published_value"].notna()
        beyond = selected["beyond_warning"].astype(bool)
        summary = st.columns(3)
        summary[0].metric("Published totals", formatting.fmt_count(len(selected)))
        summary[1].metric("Compared with the warehouse", formatting.fmt_count(int(compared.sum())))
        summary[2].metric(f"More than {warning_share:.0%} apart", formatting.fmt_count(int(beyond.sum())))
        shown_totals = selected.assign(
            publisher_table=selected["publisher_table"].map(lambda t: PUBLISHER_TABLES.get(t, t)),
            offence=selected["offence_group"].map(formatting.offence_label),
            period_start=selected["period_start"].dt.date,
            period_end=selected["period_end"].dt.date,
            beyond_warning=beyond.map({True: f"more than {warning_share:.0%} apart", False: ""}),
        )[
            [
                "beyond_warning",
                "publisher_table",
                "release",
                "area_code",
                "area_name",
                "area_type",
                "period_start",
                "period_end",
                "offence_group",
                "offence",
                "published_value",
                "published_marker",
                "published_value_basis",
                "computed_value",
                "difference",
                "pct_difference",
            ]
        ]
        charts.table(
            "published-totals",
            "The publishers' own totals and the warehouse's",
            shown_totals,
            file_name="hsinsight_published_totals",
            caption=(
                "Each total a publisher prints (ONS police force area and Appendix tables, Home Office rolling "
                "12-month totals), labelled with its release, beside the same total computed from the "
                f"force-level data; those more than {warning_share:.0%} apart come first and are shaded. "
                "Publishers revise their figures with every release, and the two sides can come from "
                "different releases: a difference is a warning to look at, never a failure. A marker "
                "(such as `[x]` or `..`) is the publisher's: the figure is not available, not zero."
            ),
            column_config={
                "beyond_warning": "Warning",
                "publisher_table": "Publisher table",
                "release": "Release",
                "area_code": "Area code",
                "area_name": "Area",
                "area_type": "Area type",
                "period_start": st.column_config.DateColumn("From", format="D MMM YYYY"),
                "period_end": st.column_config.DateColumn("To", format="D MMM YYYY"),
                "offence_group": "Offence group",
                "offence": "Offence",
                "published_value": st.column_config.NumberColumn("Published", format="localized"),
                "published_marker": "Marker",
                "published_value_basis": "Published as",
                "computed_value": st.column_config.NumberColumn("Warehouse", format="localized"),
                "difference": st.column_config.NumberColumn("Difference", format="localized"),
                "pct_difference": st.column_config.NumberColumn("Difference (share)", format="percent"),
            },
            height=360,
            highlight=lambda row: bool(row["beyond_warning"]),
        )

# ---- sources

st.header("Sources", anchor="sources")
files = queries.source_files(version)
loaded = (
    files.groupby("source")
    .agg(
        files=("file_name", "nunique"),
        rows=("rows", "sum"),
        latest_load=("loaded_at", "max"),
        synthetic=("is_synthetic", "any"),
    )
    .reset_index()
)
try:
    registry = load_registry()
except HsinsightError as exc:
    registry = {}
    st.warning(f"The sources registry could not be read: {formatting.escape_markdown(exc)}")
sources = pd.DataFrame(
    [
        {
            "source": s.id,
            "title": s.title,
            "publisher": s.publisher,
            "licence": s.licence,
            "cadence": " ".join(s.cadence.split()),
            "landing_page": s.landing_page,
        }
        for s in registry.values()
    ],
    columns=["source", "title", "publisher", "licence", "cadence", "landing_page"],
)
sources = sources.merge(loaded, on="source", how="outer").astype({"files": "Int64", "rows": "Int64"})
charts.table(
    "sources",
    "Every source, its publisher, release and licence",
    sources,
    file_name="hsinsight_sources",
    caption=(
        "From the sources registry (src/hsinsight/sources/registry.yml) and the files the warehouse was built "
        "from. A source with no files was not loaded into this warehouse."
    ),
    column_config={
        "source": "Source",
        "title": "Title",
        "publisher": "Publisher",
        "licence": "Licence",
        "cadence": "Release cadence",
        "landing_page": st.column_config.LinkColumn("Landing page"),
        "files": st.column_config.NumberColumn("Files loaded", format="localized"),
        "rows": st.column_config.NumberColumn("Rows loaded", format="localized"),
        "latest_load": st.column_config.DatetimeColumn("Last loaded (UTC)", format="D MMM YYYY HH:mm"),
        "synthetic": "Synthetic",
    },
)
charts.table(
    "source-files",
    "The files the warehouse was built from",
    files,
    file_name="hsinsight_source_files",
    caption="One row per file, or per sheet of a workbook, with its checksum; synthetic sample files are marked.",
    column_config={
        "file_name": "File",
        "sheet": "Sheet",
        "source": "Source",
        "layout": "Layout",
        "rows": st.column_config.NumberColumn("Rows", format="localized"),
        "size_bytes": st.column_config.NumberColumn("Bytes", format="localized"),
        "is_synthetic": "Synthetic",
        "sha256": "SHA-256",
        "loaded_at": st.column_config.DatetimeColumn("Loaded (UTC)", format="D MMM YYYY HH:mm"),
    },
    height=320,
)
