"""The quality gate (hsinsight.checks) on small real DuckDB build files.

Every warehouse here is SYNTHETIC: built from the forces and offence codes seeds
with made-up counts, laid out like the recorded crime raw table and two marts of
the contract, so the runs here are of the four checks those tables feed
(``SYNTHETIC_CHECKS``). Every check in checks.yml, run on the real sample, is in
test_expectations.py.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import isolated_settings
from hsinsight import checks
from hsinsight.config import Settings
from hsinsight.errors import QualityCheckFailed

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"

RAW = "raw.home_office__recorded_crime"
MART = "marts.recorded_crime_12m"
COVERAGE = "marts.recorded_crime_12m.force_coverage"
CHANGE = "marts.recorded_crime_quarterly.quarter_on_quarter_change"
#: the checks whose tables the synthetic warehouse has
SYNTHETIC_CHECKS = [RAW, CHANGE, MART, COVERAGE]  # in the order of checks.yml

# (financial year, quarter, period end): five quarters give two complete 12-month windows
QUARTERS = [
    ("2015/16", 3, "2015-12-31"),
    ("2015/16", 4, "2016-03-31"),
    ("2016/17", 1, "2016-06-30"),
    ("2016/17", 2, "2016-09-30"),
    ("2016/17", 3, "2016-12-31"),
]
# platform codes used by the synthetic data, and one code the marts leave out
CODES = [("8L", "Harassment", "harassment"), ("8Q", "Stalking", "stalking")]
OTHER_CODE = ("9A", "Public fear, alarm or distress", "public_order")


def _forces() -> list[dict]:
    with (SEEDS / "forces.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _index(area_code: str) -> int:
    return [force["area_code"] for force in _forces()].index(area_code)


def _count(force_index: int, code: str, quarter_index: int) -> int:
    """A made-up quarterly count: steady from quarter to quarter, different per force."""
    base = 120 + 9 * force_index if code == "8L" else 12 + force_index
    return base + 3 * quarter_index


def build_warehouse(path: Path, *statements: str) -> Path:
    """A SYNTHETIC build file with the raw table and the two marts, then ``statements``
    applied to it (to plant the fault a test is about)."""
    forces = _forces()
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw")
        con.execute("create schema marts")
        con.execute(
            f"""
            create table {RAW} (
                financial_year varchar, financial_quarter varchar, force_name varchar,
                offence_description varchar, offence_group varchar, offence_subgroup varchar,
                offence_code varchar, number_of_offences varchar,
                _file_name varchar, _sheet varchar, _sha256 varchar,
                _loaded_at timestamp, _row_number bigint
            )
            """
        )
        con.execute(
            """
            create table marts.recorded_crime_quarterly (
                area_code varchar, area_name varchar, area_type varchar,
                financial_year varchar, financial_quarter integer, period_end date,
                offence_code varchar, offence_group varchar, offences bigint
            )
            """
        )
        raw_rows, quarterly_rows = [], []
        row_number = 1
        for q, (year, quarter, period_end) in enumerate(QUARTERS):
            for f, force in enumerate(forces):
                for code, description, group in [*CODES, OTHER_CODE]:
                    row_number += 1
                    value = _count(f, code, q)
                    text = str(value)
                    if code == OTHER_CODE[0]:
                        # raw keeps what the marts leave out: markers, separators, corrections
                        text = ["..", "1,234", "-3", " 17 ", "[x]"][f % 5]
                    raw_rows.append(
                        (
                            year,
                            str(quarter),
                            force["area_name"],
                            description,
                            "Violence against the person",
                            "Stalking and harassment",
                            code,
                            text,
                            "synthetic_recorded_crime.csv",
                            None,
                            "0" * 64,
                            "2024-01-01 00:00:00",
                            row_number,
                        )
                    )
                    if code != OTHER_CODE[0]:
                        quarterly_rows.append(
                            (
                                force["area_code"],
                                force["area_name"],
                                "force",
                                year,
                                quarter,
                                period_end,
                                code,
                                group,
                                value,
                            )
                        )
        raw_frame = pd.DataFrame(raw_rows)  # noqa: F841 - read by DuckDB below
        quarterly_frame = pd.DataFrame(quarterly_rows)  # noqa: F841
        con.execute(f"insert into {RAW} select * from raw_frame")
        con.execute("insert into marts.recorded_crime_quarterly select * from quarterly_frame")
        con.execute(
            """
            insert into marts.recorded_crime_quarterly
            select 'K04000001', 'England and Wales', 'national', financial_year, financial_quarter,
                   period_end, offence_code, offence_group, sum(offences)
            from marts.recorded_crime_quarterly
            group by all
            """
        )
        con.execute(
            """
            create table twelve_months as
            with groups as (
                select area_code, area_name, area_type, period_end, offence_group,
                       sum(offences)::bigint as offences
                from marts.recorded_crime_quarterly
                group by all
            ),
            windows as (
                select *,
                       sum(offences) over w as window_offences,
                       count(*) over w as window_quarters
                from groups
                window w as (partition by area_code, offence_group order by period_end
                             rows between 3 preceding and current row)
            )
            select area_code, area_name, area_type, period_end, offence_group,
                   window_offences::bigint as offences, window_quarters::integer as quarters_in_window
            from windows
            where window_quarters = 4
            """
        )
        # the rest of the mart's contract: no previous year, no population, in these 15 months
        con.execute(
            """
            create table marts.recorded_crime_12m as
            select area_code, area_name, area_type, period_end, offence_group, offences,
                   null::bigint as offences_prev_12m, null::double as pct_change,
                   null::bigint as population, null::integer as population_mid_year,
                   null::double as rate_per_1000, quarters_in_window
            from twelve_months
            """
        )
        con.execute("drop table twelve_months")
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return path


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return isolated_settings(tmp_path)


def run(db: Path, cfg: Settings) -> dict:
    """The checks the synthetic warehouse feeds."""
    return checks.run_checks(db, cfg, only=SYNTHETIC_CHECKS)


def _failures_of(excinfo, check: str) -> list[dict]:
    return [f for f in excinfo.value.failures if f["check"] == check]


def _assert_closed(path: Path) -> None:
    """A read-write connection in this process fails while a read-only one is still open."""
    con = duckdb.connect(str(path))
    con.execute("create table closed_check as select 1 as ok")
    con.close()


# --------------------------------------------------------------------------- configuration


def test_every_check_has_a_suite_named_after_it_and_every_expectation_says_why():
    parameters, listed = checks.load_checks(PROJECT_ROOT / "expectations")
    severities = {c.name: c.severity for c in listed}
    assert {name: severities[name] for name in SYNTHETIC_CHECKS} == {
        RAW: "failure",
        MART: "failure",
        COVERAGE: "failure",
        CHANGE: "warning",
    }
    assert {p.name for p in parameters} >= {"offence_groups", "area_codes", "force_count"}
    for check in listed:
        assert check.suite_file.name == f"{check.name}.json"
        suite = checks.read_suite(check)
        assert suite["meta"]["notes"].strip()
        for expectation in suite["expectations"]:
            notes = (expectation.get("meta") or {}).get("notes", "")
            assert len(notes.strip()) > 10, f"{check.name}: {expectation['type']} has no meta note"


# --------------------------------------------------------------------------- clean data


def test_clean_synthetic_warehouse_passes_every_check(tmp_path, cfg):
    db = build_warehouse(tmp_path / "hsinsight.duckdb")

    summary = run(db, cfg)

    assert summary["failures"] == 0 and summary["warnings"] == 0
    assert [c["name"] for c in summary["checks"]] == SYNTHETIC_CHECKS
    for check in summary["checks"]:
        assert check["success"], check["failed_expectations"]
        assert check["failed_expectations"] == []
        assert check["rows"] > 0
    by_name = {c["name"]: c for c in summary["checks"]}
    # 44 forces x 5 quarters x 3 codes; 2 windows x 2 groups x 45 areas; the same for 44 forces
    assert by_name[RAW]["rows"] == 44 * 5 * 3
    assert by_name[MART]["rows"] == 2 * 2 * 45
    assert by_name[COVERAGE]["rows"] == 2 * 2 * 44
    json.dumps(summary)  # the summary travels through Airflow XComs
    _assert_closed(db)
    # the file-backed context and the run's validation results live under quality_dir,
    # the Data Docs beside them
    assert (cfg.quality_dir / "gx" / "great_expectations.yml").is_file()
    assert list((cfg.quality_dir / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert summary["data_docs"] == str(cfg.quality_dir / "docs" / "index.html")


def test_suites_are_reloaded_from_the_files_on_every_run(tmp_path, cfg):
    """A second run on the same quality_dir uses the edited suite file, not the stored copy."""
    db = build_warehouse(tmp_path / "hsinsight.duckdb")
    run(db, cfg)

    edited = tmp_path / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", edited)
    suite_path = edited / f"{MART}.json"
    suite = json.loads(suite_path.read_text())
    for expectation in suite["expectations"]:
        if (
            expectation["type"] == "expect_column_values_to_be_between"
            and expectation["kwargs"]["column"] == "offences"
        ):
            expectation["kwargs"]["min_value"] = 10**9  # every total now "too small"
    suite_path.write_text(json.dumps(suite))

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, dataclasses.replace(cfg, expectations_dir=edited))
    failures = _failures_of(excinfo, MART)
    assert [f["column"] for f in failures] == ["offences"]


# --------------------------------------------------------------------------- failure-severity checks


def test_a_force_missing_from_one_period_fails_coverage(tmp_path, cfg):
    db = build_warehouse(
        tmp_path / "hsinsight.duckdb",
        "delete from marts.recorded_crime_12m where area_code = 'E23000005' "
        "and period_end = date '2016-12-31' and offence_group = 'stalking'",
    )

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    message = str(excinfo.value)
    assert COVERAGE in message and "'in_mart'" in message
    assert "E23000005" in message and "2016-12-31" in message
    [failure] = _failures_of(excinfo, COVERAGE)
    assert failure["column"] == "in_mart"
    assert failure["unexpected"] == [
        {
            "value": False,
            "area_code": "E23000005",
            "area_name": "Greater Manchester",
            "period_end": "2016-12-31",
            "offence_group": "stalking",
        }
    ]
    assert failure["affected"] == [
        {
            "area_code": "E23000005",
            "area_name": "Greater Manchester",
            "period": "2016-12-31",
            "detail": "in_mart=False, offence_group=stalking",
        }
    ]
    assert failure["affected_total"] == 1
    # nothing else is wrong with this warehouse
    assert {f["check"] for f in excinfo.value.failures} == {COVERAGE}
    _assert_closed(db)


def test_a_negative_12_month_total_fails_the_mart_check(tmp_path, cfg):
    db = build_warehouse(
        tmp_path / "hsinsight.duckdb",
        "update marts.recorded_crime_12m set offences = -12 where area_code = 'E23000034' "
        "and period_end = date '2016-09-30' and offence_group = 'harassment'",
    )

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    message = str(excinfo.value)
    assert MART in message and "'offences'" in message and "-12" in message and "E23000034" in message
    failures = _failures_of(excinfo, MART)
    assert [(f["expectation"], f["column"]) for f in failures] == [
        ("expect_column_values_to_be_between", "offences")
    ]
    assert failures[0]["unexpected"][0]["value"] == -12
    assert "negative" in failures[0]["notes"]


def test_an_offence_group_not_in_the_seed_fails_the_mart_check(tmp_path, cfg):
    db = build_warehouse(
        tmp_path / "hsinsight.duckdb",
        "update marts.recorded_crime_12m set offence_group = 'public_order' "
        "where area_code = 'W15000001' and period_end = date '2016-12-31' and offence_group = 'stalking'",
    )

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    message = str(excinfo.value)
    assert MART in message and "'offence_group'" in message and "public_order" in message
    failures = _failures_of(excinfo, MART)
    assert [(f["expectation"], f["column"]) for f in failures] == [
        ("expect_column_values_to_be_in_set", "offence_group")
    ]
    # the stray group also leaves North Wales out of the real one, which coverage reports
    assert _failures_of(excinfo, COVERAGE)


def test_offence_groups_are_read_from_the_seed_at_run_time(tmp_path, cfg):
    """Add the group to a copy of the seed and the same warehouse is accepted by the mart check."""
    seeds = tmp_path / "dbt_project" / "seeds"
    shutil.copytree(SEEDS, seeds)
    with (seeds / "offence_codes.csv").open("a", encoding="utf-8") as f:
        f.write("9A,Public fear alarm or distress,public_order,2002-04-01,,synthetic test row\n")
    db = build_warehouse(
        tmp_path / "hsinsight.duckdb",
        "update marts.recorded_crime_12m set offence_group = 'public_order' "
        "where area_code = 'W15000001' and period_end = date '2016-12-31' and offence_group = 'stalking'",
    )

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, dataclasses.replace(cfg, dbt_project_dir=tmp_path / "dbt_project"))

    assert not _failures_of(excinfo, MART)
    assert _failures_of(excinfo, COVERAGE)


def test_an_incomplete_window_and_a_wrong_type_fail_the_mart_check(tmp_path, cfg):
    db = build_warehouse(
        tmp_path / "hsinsight.duckdb",
        "update marts.recorded_crime_12m set quarters_in_window = 3 where area_code = 'BTP' "
        "and period_end = date '2016-09-30' and offence_group = 'stalking'",
        "alter table marts.recorded_crime_12m alter offences type double",
    )

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    failures = {(f["expectation"], f["column"]) for f in _failures_of(excinfo, MART)}
    assert failures == {
        ("expect_column_values_to_be_in_set", "quarters_in_window"),
        ("expect_column_values_to_be_of_type", "offences"),
    }
    assert "quarters_in_window" in str(excinfo.value) and "BTP" in str(excinfo.value)


def test_an_unknown_area_code_fails_the_mart_check(tmp_path, cfg):
    db = build_warehouse(
        tmp_path / "hsinsight.duckdb",
        "update marts.recorded_crime_12m set area_code = 'ACTION_FRAUD' where area_code = 'E23000001'",
    )

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    mart = _failures_of(excinfo, MART)
    assert [(f["column"], f["unexpected"][0]["value"]) for f in mart] == [("area_code", "ACTION_FRAUD")]
    assert "E23000001" in str(excinfo.value)  # coverage names the force that went missing


@pytest.mark.parametrize(
    ("statement", "column", "bad_value"),
    [
        (f"update {RAW} set financial_quarter = '5' where _row_number = 7", "financial_quarter", "5"),
        (f"update {RAW} set financial_year = '2016' where _row_number = 8", "financial_year", "2016"),
        (f"update {RAW} set number_of_offences = '12a' where _row_number = 9", "number_of_offences", "12a"),
        (f"update {RAW} set number_of_offences = '4.5' where _row_number = 9", "number_of_offences", "4.5"),
        (f"update {RAW} set offence_code = null where _row_number = 10", "offence_code", None),
        (f"update {RAW} set _sha256 = null where _row_number = 11", "_sha256", None),
        (f"update {RAW} set _file_name = null where _row_number = 12", "_file_name", None),
    ],
)
def test_bad_raw_values_fail_the_raw_check(tmp_path, cfg, statement, column, bad_value):
    db = build_warehouse(tmp_path / "hsinsight.duckdb", statement)

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    assert RAW in str(excinfo.value) and repr(column) in str(excinfo.value)
    failures = _failures_of(excinfo, RAW)
    assert [f["column"] for f in failures] == [column]
    unexpected = failures[0]["unexpected"][0]
    assert unexpected["value"] == bad_value
    assert unexpected.get("_file_name", "synthetic_recorded_crime.csv") == "synthetic_recorded_crime.csv"
    assert unexpected["_row_number"] == int(statement.rsplit("=", 1)[1])


def test_a_missing_raw_column_fails_the_raw_check(tmp_path, cfg):
    db = build_warehouse(tmp_path / "hsinsight.duckdb", f"alter table {RAW} drop column offence_subgroup")

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    failures = {(f["expectation"], f["column"]): f for f in _failures_of(excinfo, RAW)}
    assert set(failures) == {
        ("expect_table_columns_to_match_set", "offence_subgroup"),
        ("expect_column_values_to_be_of_type", "offence_subgroup"),
    }
    assert (
        "missing from the table"
        in failures["expect_table_columns_to_match_set", "offence_subgroup"]["message"]
    )
    assert "offence_subgroup" in str(excinfo.value)


def test_a_missing_table_fails_every_check_that_reads_it(tmp_path, cfg):
    """The quarterly mart is read by a warning-level check (quarter-on-quarter change)
    and by a failure-level one (the 12-month coverage, which asks which quarters each
    force published). A check whose SQL cannot run looked at nothing, so it is an error
    whatever its severity: both block the build."""
    db = build_warehouse(tmp_path / "hsinsight.duckdb", "drop table marts.recorded_crime_quarterly")

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    summary = excinfo.value.summary
    for name in (CHANGE, COVERAGE):
        check = next(c for c in summary["checks"] if c["name"] == name)
        assert not check["success"], name
        assert check["failed_expectations"][0]["expectation"] == "query"
        assert "recorded_crime_quarterly" in check["failed_expectations"][0]["message"]
        assert check["error"] and "SQL failed" in check["error"]
    assert summary["warnings"] == 0 and summary["failures"] == 2


# --------------------------------------------------------------------------- warning-severity check


def test_a_quarter_on_quarter_jump_is_a_warning_not_a_failure(tmp_path, cfg):
    db = build_warehouse(
        tmp_path / "hsinsight.duckdb",
        "update marts.recorded_crime_quarterly set offences = offences * 5 where area_code = 'E23000014' "
        "and offence_code = '8L' and period_end = date '2016-12-31'",
        # a fall to under a third, and a jump on counts below 50 that is not compared
        "update marts.recorded_crime_quarterly set offences = 40 where area_code = 'E23000010' "
        "and offence_code = '8L' and period_end = date '2016-06-30'",
        "update marts.recorded_crime_quarterly set offences = 49 where area_code = 'E23000001' "
        "and offence_code = '8Q' and period_end = date '2016-06-30'",
        # exactly a third and exactly three times the previous quarter are on the threshold, not beyond
        f"update marts.recorded_crime_quarterly set offences = {_count(_index('E23000020'), '8L', 3) // 3} "
        "where area_code = 'E23000020' and offence_code = '8L' and period_end = date '2016-12-31'",
        f"update marts.recorded_crime_quarterly set offences = {_count(_index('E23000021'), '8L', 3) * 3} "
        "where area_code = 'E23000021' and offence_code = '8L' and period_end = date '2016-12-31'",
    )

    summary = run(db, cfg)  # does not raise

    assert summary["failures"] == 0 and summary["warnings"] == 1
    change = next(c for c in summary["checks"] if c["name"] == CHANGE)
    assert change["severity"] == "warning" and not change["success"]
    [failure] = change["failed_expectations"]
    assert failure["column"] == "change_ratio"
    assert "change_ratio" in failure["message"] and "E23000014" not in failure["message"]
    flagged = {(u["area_code"], u["offence_code"], u["period_end"]) for u in failure["unexpected"]}
    # West Yorkshire falls to 40 (flagged) and recovers the next quarter (flagged again)
    assert flagged == {
        ("E23000014", "8L", "2016-12-31"),
        ("E23000010", "8L", "2016-06-30"),
        ("E23000010", "8L", "2016-09-30"),
    }
    west_midlands = _index("E23000014")
    jump = next(u for u in failure["unexpected"] if u["area_code"] == "E23000014")
    assert jump["value"] == round(5 * _count(west_midlands, "8L", 4) / _count(west_midlands, "8L", 3), 4)
    assert (jump["previous_offences"], jump["offences"]) == (
        _count(west_midlands, "8L", 3),
        5 * _count(west_midlands, "8L", 4),
    )
    assert all(c["success"] for c in summary["checks"] if c["name"] != CHANGE)
    _assert_closed(db)


def test_severity_comes_from_checks_yml(tmp_path, cfg):
    """Downgrade coverage to a warning in a copy of the config: the same gap no longer blocks."""
    edited = tmp_path / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", edited)
    config = (edited / "checks.yml").read_text()
    marker = f"  - name: {COVERAGE}\n    suite: {COVERAGE}.json\n    severity: failure"
    assert marker in config
    (edited / "checks.yml").write_text(config.replace(marker, marker.replace("failure", "warning")))
    db = build_warehouse(
        tmp_path / "hsinsight.duckdb",
        "delete from marts.recorded_crime_12m where area_code = 'BTP' and period_end = date '2016-09-30'",
    )

    summary = run(db, dataclasses.replace(cfg, expectations_dir=edited))

    assert summary["failures"] == 0 and summary["warnings"] == 1
    coverage = next(c for c in summary["checks"] if c["name"] == COVERAGE)
    assert coverage["severity"] == "warning" and not coverage["success"]
    [missing] = coverage["failed_expectations"]
    assert {u["area_code"] for u in missing["unexpected"]} == {"BTP"}
    assert {(a["area_code"], a["period"]) for a in missing["affected"]} == {("BTP", "2016-09-30")}


def test_an_empty_mart_fails_instead_of_passing_on_no_rows(tmp_path, cfg):
    db = build_warehouse(tmp_path / "hsinsight.duckdb", "delete from marts.recorded_crime_12m")

    with pytest.raises(QualityCheckFailed) as excinfo:
        run(db, cfg)

    assert {(f["check"], f["expectation"]) for f in excinfo.value.failures} == {
        (MART, "expect_table_row_count_to_be_between"),
        (COVERAGE, "expect_table_row_count_to_be_between"),
    }
    assert "observed 0" in str(excinfo.value)
    _assert_closed(db)


def test_data_docs_show_why_each_expectation_exists(tmp_path, cfg):
    db = build_warehouse(tmp_path / "hsinsight.duckdb")
    summary = run(db, cfg)

    index = checks.build_data_docs(cfg)  # the whole site again

    assert index == cfg.quality_dir / "docs" / "index.html" and str(index) == summary["data_docs"]
    assert index.is_file()
    site = index.parent
    suite_page = (site / "expectations" / "marts" / "recorded_crime_12m.html").read_text(encoding="utf-8")
    assert "a negative total means a correction was counted" in suite_page
    assert list((site / "validations").rglob("*.html"))


def test_a_broken_suite_file_is_reported_with_the_check_name(tmp_path, cfg):
    edited = tmp_path / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", edited)
    suite_path = edited / f"{COVERAGE}.json"
    suite = json.loads(suite_path.read_text())
    suite["expectations"][0]["type"] = "expect_no_such_thing"
    suite_path.write_text(json.dumps(suite))
    db = build_warehouse(tmp_path / "hsinsight.duckdb")

    with pytest.raises(checks.QualityConfigError, match=COVERAGE.replace(".", r"\.")) as excinfo:
        run(db, dataclasses.replace(cfg, expectations_dir=edited))
    assert "expect_no_such_thing" in str(excinfo.value)
    _assert_closed(db)

    # a misspelt argument is refused too, rather than run with a default
    suite["expectations"][0] = {"type": "expect_column_values_to_not_be_null", "kwargs": {"colum": "x"}}
    suite_path.write_text(json.dumps(suite))
    with pytest.raises(checks.QualityConfigError, match=COVERAGE.replace(".", r"\.")):
        run(db, dataclasses.replace(cfg, expectations_dir=edited))
