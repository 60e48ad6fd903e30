"""The pipeline end to end on the sample, and what a failed run must leave behind."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight import pipeline, runs
from hsinsight.errors import InputFileError, QualityCheckFailed

SAMPLE_FILE = "home_office_police_recorded_crime_pfa.csv"


def query(warehouse: Path, sql: str, params=None):
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{warehouse}' as {warehouse.stem} (read_only)")
        con.execute(f"use {warehouse.stem}")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def fingerprint(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_ino, stat.st_mtime_ns


@pytest.fixture
def published(tmp_path, sample_warehouse) -> tuple[Path, object]:
    """A separate copy of the sample warehouse, published where a failing run will aim."""
    cfg = isolated_settings(tmp_path)
    cfg.warehouse.parent.mkdir(parents=True)
    shutil.copy2(sample_warehouse, cfg.warehouse)
    return cfg.warehouse, cfg


def sample_rows() -> tuple[list[str], list[str], list[list[str]]]:
    with open(Path(pipeline.default_settings().sample_dir) / SAMPLE_FILE, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1], rows[2:]


def test_national_totals_reproduce_the_published_figures(sample_warehouse):
    got = dict(
        query(
            sample_warehouse,
            """
            select offence_group, offences from marts.recorded_crime_12m
            where area_type = 'national' and period_end = date '2016-12-31'
            """,
        )
    )
    assert got["harassment"] == 202_755
    assert got["stalking"] == 4_613


def test_every_force_and_england_and_wales_are_in_the_marts(sample_warehouse):
    rows = query(
        sample_warehouse,
        """
        select area_type, count(distinct area_code) from marts.recorded_crime_quarterly group by 1 order by 1
        """,
    )
    assert rows == [("force", 44), ("national", 1)]
    codes = {
        r[0]
        for r in query(sample_warehouse, "select distinct offence_code from marts.recorded_crime_quarterly")
    }
    assert "9A" not in codes and {"8L", "8M", "8Q"} <= codes
    assert (
        query(
            sample_warehouse, "select count(*) from raw.home_office__recorded_crime where offence_code = '9A'"
        )[0][0]
        > 0
    )


def test_stalking_starts_in_2014_15(sample_warehouse):
    first = query(
        sample_warehouse,
        "select min(period_end) from marts.recorded_crime_quarterly where offence_group = 'stalking'",
    )[0][0]
    assert str(first) == "2014-06-30"


def test_sample_is_recorded_as_synthetic(sample_warehouse):
    assert query(sample_warehouse, "select bool_and(is_synthetic) from marts.source_files")[0][0] is True


def test_bad_file_stops_the_run_and_leaves_the_warehouse(tmp_path, published):
    warehouse, cfg = published
    before = fingerprint(warehouse)
    raw = tmp_path / "raw"
    raw.mkdir()
    preamble, header, rows = sample_rows()
    rows[100][header.index("Number of Offences")] = "12a"
    with open(raw / "recorded.csv", "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])
    with pytest.raises(InputFileError) as caught:
        pipeline.run(raw, warehouse, cfg)
    assert (caught.value.row, caught.value.column) == (102, "Number of Offences")
    assert fingerprint(warehouse) == before
    assert not [p for p in warehouse.parent.iterdir() if p.name.startswith(".build-")]
    # The run log says the run failed, and why.
    run = runs.read_runs(warehouse)[0]
    assert (run["outcome"], run["published"], run["checks_run"]) == ("failed", False, None)
    assert "InputFileError" in run["message"] and "row 102" in run["message"]


def test_failing_expectation_blocks_publishing(tmp_path, published, monkeypatch):
    """Kent is missing from a new release of recorded crime: every row is well formed
    and dbt builds (its own coverage test looks for a force dropping out of some
    periods, not out of all), but the coverage expectation (every force of the seed in
    every period) fails. Without Kent the England and Wales totals are not the
    published ones, so the reconciliation is lowered to a warning for this run."""
    monkeypatch.setenv("HSINSIGHT_RECONCILIATION_SEVERITY", "warn")
    warehouse, cfg = published
    before = fingerprint(warehouse)
    raw = tmp_path / "raw"
    raw.mkdir()
    preamble, header, rows = sample_rows()
    force = header.index("Force Name")
    kept = [r for r in rows if r[force] != "Kent"]
    assert len(kept) < len(rows)
    with open(raw / "recorded.csv", "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([[preamble[0]], header, *kept])
    with pytest.raises(QualityCheckFailed) as caught:
        pipeline.run(raw, warehouse, cfg)
    assert "coverage" in str(caught.value)
    assert fingerprint(warehouse) == before
    assert query(warehouse, "select count(*) from marts.recorded_crime_12m")[0][0] > 0
    # The run log records the blocked run, every check's result and the failed check's
    # findings, which name the periods Kent is missing from.
    run = runs.read_runs(warehouse)[0]
    assert (run["outcome"], run["published"]) == ("blocked", False)
    assert run["checks_failed"] >= 1 and "coverage" in run["message"]
    assert run["checks_run"] == run["checks_passed"] + run["checks_warned"] + run["checks_failed"]
    findings = query(
        runs.history_path(warehouse),
        "select area_code, period from check_findings where run_id = ? and check_name like '%coverage%'",
        [run["run_id"]],
    )
    kent = query(warehouse, "select area_code from reference.forces where area_name = 'Kent'")[0][0]
    assert findings and {area for area, _ in findings} == {kent}
    assert all(period for _, period in findings)


def test_warning_publishes_and_is_recorded_with_the_force_and_period(tmp_path, published, monkeypatch):
    """One force's stalking count in one quarter is ten times what it was: a
    recording change, which the quarter-on-quarter check reports as a warning. The
    warehouse is published all the same, and the run log names the force and quarter."""
    monkeypatch.setenv("HSINSIGHT_RECONCILIATION_SEVERITY", "warn")
    warehouse, cfg = published
    raw = tmp_path / "raw"
    raw.mkdir()
    preamble, header, rows = sample_rows()
    force, code = header.index("Force Name"), header.index("Offence Code")
    year, quarter = header.index("Financial Year"), header.index("Financial Quarter")
    count = header.index("Number of Offences")
    target = next(
        r
        for r in rows
        if r[force] == "Cumbria" and r[code] == "8Q" and r[year] == "2022/23" and r[quarter] == "3"
    )
    target[count] = str(int(target[count]) * 10)
    with open(raw / SAMPLE_FILE, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(preamble)
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])

    result = pipeline.run(raw, warehouse, cfg)

    assert result.checks["failures"] == 0 and result.checks["warnings"] >= 1
    run = runs.read_runs(warehouse)[0]
    assert (run["outcome"], run["published"]) == ("published", True)
    assert run["checks_warned"] == result.checks["warnings"]
    cumbria = query(warehouse, "select area_code from reference.forces where area_name = 'Cumbria'")[0][0]
    findings = query(
        runs.history_path(warehouse),
        "select area_code, area_name, period, severity from check_findings "
        "where run_id = ? and check_name like '%quarter_on_quarter%'",
        [run["run_id"]],
    )
    assert (cumbria, "Cumbria", "2022-12-31", "warning") in findings, findings


def test_every_source_reaches_staging(sample_warehouse):
    counts = dict(
        query(
            sample_warehouse,
            """
            select 'recorded', count(*) from staging.stg_home_office__recorded_crime union all
            select 'outcomes', count(*) from staging.stg_home_office__outcomes union all
            select 'ons_pfa', count(*) from staging.stg_ons__pfa_recorded_crime union all
            select 'cps', count(*) from staging.stg_cps__vawg union all
            select 'moj', count(*) from staging.stg_moj__court_outcomes union all
            select 'orders', count(*) from staging.stg_moj__restraining_orders union all
            select 'population', count(*) from staging.stg_ons__population union all
            select 'csew', count(*) from staging.stg_csew__prevalence
            """,
        )
    )
    assert all(n > 0 for n in counts.values()), counts
    sources = {r[0] for r in query(sample_warehouse, "select distinct source from marts.source_files")}
    assert len(sources) == 8


def test_a_rerun_loads_only_what_changed_and_records_the_revision(tmp_path, published):
    """The same sample again, with one count revised in the recorded crime file: every
    other file is already loaded (a no-op), the recorded crime release replaces its
    periods, and the revision is recorded for users to see."""
    warehouse, cfg = published
    raw = tmp_path / "raw"
    shutil.copytree(pipeline.default_settings().sample_dir, raw)
    preamble, header, rows = sample_rows()
    count = header.index("Number of Offences")
    rows[0][count] = str(int(rows[0][count]) + 7)
    with open(raw / SAMPLE_FILE, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(preamble)
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])

    result = pipeline.run(raw, warehouse, cfg)

    actions = {f["file"]: f["action"] for f in result.files}
    assert actions.pop(SAMPLE_FILE) == "loaded"
    assert set(actions.values()) == {"unchanged"}
    assert result.synthetic
    assert {
        (c["rows_added"], c["rows_removed"], c["rows_revised"], c["count_change"]) for c in result.changes
    } == {
        (0, 0, 1, 7),
        (0, 0, 0, 0),
    }
    revised = query(
        warehouse,
        "select period, column_name, previous_value::int + 7 = new_value::int "
        "from staging.stg_hsinsight__revised_cells",
    )
    assert revised == [(rows[0][header.index("Financial Year")], "Number of Offences", True)]
    assert query(warehouse, "select count(*) from staging.stg_hsinsight__release_changes")[0][0] == len(
        result.changes
    )
