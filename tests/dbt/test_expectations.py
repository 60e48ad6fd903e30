"""Every check of expectations/checks.yml, made to fire on the sample warehouse.

The sample warehouse is the one the real pipeline publishes from data/sample
(SYNTHETIC data: conftest's ``sample_warehouse``). Each case copies it, plants one
fault with SQL and runs the check it is about: a failure-severity check must
block the run (QualityCheckFailed naming the check and the expectation, with the
whole run's summary), a warning-severity check must let it through with the
warning and the affected forces and periods listed. The whole sample, run
through every check, passes every failure-severity check.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight import checks
from hsinsight.config import Settings
from hsinsight.errors import QualityCheckFailed

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALL_CHECKS = {c.name: c for c in checks.load_checks(PROJECT_ROOT / "expectations")[1]}

QOQ = "marts.recorded_crime_quarterly.quarter_on_quarter_change"
OUTLIERS = "marts.recording_practice.outliers"
#: what the warnings find in the sample itself (see their descriptions in checks.yml)
SAMPLE_FINDINGS = {
    QOQ: {("E23000026", "Bedfordshire", "2020-06-30")},
    OUTLIERS: {("E23000013", "Cleveland", "2017-12-31"), ("E23000013", "Cleveland", "2018-06-30")},
}
KENT = ("E23000032", "Kent")
NATIONAL = ("K04000001", "England and Wales")
OUTCOMES_2017 = "_file_name = 'prc-outcomes-open-data-mar2017-tables-synthetic.xlsx'"


class Case(NamedTuple):
    check: str
    id: str
    statements: tuple[str, ...]
    expectation: str  # the expectation that fails
    column: str | None  # its column(s), as the summary names them
    affected: set[tuple[str | None, str | None, str | None]]  # (area_code, area_name, period) listed


def case(check, id, statements, expectation, column, *affected):
    if isinstance(statements, str):
        statements = (statements,)
    return pytest.param(Case(check, id, tuple(statements), expectation, column, set(affected)), id=id)


IN_SET = "expect_column_values_to_be_in_set"
REGEX = "expect_column_values_to_match_regex"
BETWEEN = "expect_column_values_to_be_between"
A_GE_B = "expect_column_pair_values_a_to_be_greater_than_b"

CASES = [
    # ----------------------------------------------------------------- raw sources
    case(
        "raw.home_office__recorded_crime",
        "recorded_crime_unknown_force",
        "update raw.home_office__recorded_crime set force_name = 'Wessex Constabulary' where force_name = 'Kent' "
        "and financial_year = '2016/17' and financial_quarter = '3' and offence_code = '8Q'",
        IN_SET,
        "force_name_key",
        (None, "Wessex Constabulary", "2016/17 Q3"),
    ),
    case(
        "raw.home_office__recorded_crime",
        "recorded_crime_count_not_whole",
        "update raw.home_office__recorded_crime set number_of_offences = '12.5' where force_name = 'Kent' "
        "and financial_year = '2016/17' and financial_quarter = '3' and offence_code = '8L'",
        REGEX,
        "number_of_offences",
        (None, "Kent", "2016/17 Q3"),
    ),
    case(
        "raw.home_office__outcomes",
        "outcomes_unknown_outcome_type",
        f"update raw.home_office__outcomes set outcome_type = '23' where {OUTCOMES_2017} and _row_number = 579",
        IN_SET,
        "outcome_type_key",
        (None, "Kent", "2016/17"),
    ),
    case(
        "raw.home_office__outcomes",
        "outcomes_missing_year",
        f"update raw.home_office__outcomes set financial_year = null where {OUTCOMES_2017} and _row_number = 578",
        "expect_column_values_to_not_be_null",
        "financial_year",
        (None, "Kent", None),
    ),
    case(
        "raw.ons__pfa_recorded_crime",
        "ons_pfa_unknown_area_code",
        "update raw.ons__pfa_recorded_crime set area_code = 'E23000099' where area_name = 'Kent' "
        "and period_label = 'year ending December 2016'",
        IN_SET,
        "area_code_key",
        ("E23000099", "Kent", "year ending December 2016"),
    ),
    case(
        "raw.ons__population",
        "population_negative",
        "update raw.ons__population set population = '-5' where area_name = 'Kent' and mid_year = '2016'",
        REGEX,
        "population",
        (*KENT, "2016"),
    ),
    case(
        "raw.csew__prevalence",
        "prevalence_not_a_number",
        "update raw.csew__prevalence set percentage = 'about 5' where _row_number = 6",
        REGEX,
        "percentage",
        (None, None, "2012/13"),
    ),
    case(
        "raw.cps__vawg",
        "cps_unknown_area",
        "update raw.cps__vawg set cps_area = 'Atlantis' where _row_number = 138",
        IN_SET,
        "cps_area_key",
        (None, "Atlantis", "2016-17"),
    ),
    case(
        "raw.moj__court_outcomes",
        "court_negative_count",
        "update raw.moj__court_outcomes set count = '-1' where _row_number = 14266",
        REGEX,
        "count",
        (None, "Kent", "2016"),
    ),
    case(
        "raw.moj__restraining_orders",
        "orders_year_not_a_year",
        "update raw.moj__restraining_orders set year = '16' where _row_number = 198",
        REGEX,
        "year",
        (None, "Kent", "16"),
    ),
    # ----------------------------------------------------------------- recorded crime marts
    case(
        "marts.recorded_crime_quarterly",
        "quarterly_unknown_code",
        "update marts.recorded_crime_quarterly set offence_code = '8X' where area_code = 'E23000032' "
        "and period_end = date '2016-12-31' and offence_code = '8Q'",
        IN_SET,
        "offence_code",
        (*KENT, "2016-12-31"),
    ),
    case(
        "marts.recorded_crime_quarterly.force_coverage",
        "quarterly_force_code_missing",
        "delete from marts.recorded_crime_quarterly where area_code = 'E23000032' and period_end = date '2016-12-31' "
        "and offence_code = '8Q'",
        IN_SET,
        "in_mart",
        (*KENT, "2016-12-31"),
    ),
    case(
        "marts.recorded_crime_quarterly.force_quarter_gaps",
        "quarterly_force_missing_from_a_quarter",
        "delete from marts.recorded_crime_quarterly where area_code = 'E23000032' and period_end = date '2016-12-31'",
        IN_SET,
        "published",
        (*KENT, "2016-12-31"),
    ),
    case(
        "marts.recorded_crime_quarterly.force_coverage",
        "quarterly_quarter_missing",
        "delete from marts.recorded_crime_quarterly where period_end = date '2016-12-31'",
        IN_SET,
        "in_mart",
        (*KENT, "2016-12-31"),
        ("BTP", "British Transport Police", "2016-12-31"),
    ),
    case(
        "marts.recorded_crime_quarterly.national_total",
        "national_not_the_sum_of_forces",
        "update marts.recorded_crime_quarterly set offences = offences + 1 where area_code = 'K04000001' "
        "and period_end = date '2016-12-31' and offence_code = '8Q'",
        "expect_column_pair_values_to_be_equal",
        "national_total, forces_total",
        (*NATIONAL, "2016-12-31"),
    ),
    case(
        QOQ,
        "quarter_jumps_tenfold",
        "update marts.recorded_crime_quarterly set offences = offences * 10 where area_code = 'E23000032' "
        "and offence_code = '8L' and period_end = date '2016-12-31'",
        BETWEEN,
        "change_ratio",
        (*KENT, "2016-12-31"),  # up tenfold,
        (*KENT, "2017-03-31"),  # and down again
        *SAMPLE_FINDINGS[QOQ],
    ),
    case(
        "marts.recorded_crime_12m",
        "negative_12_month_total",
        "update marts.recorded_crime_12m set offences = -12 where area_code = 'E23000032' "
        "and period_end = date '2016-12-31' and offence_group = 'harassment'",
        BETWEEN,
        "offences",
        (*KENT, "2016-12-31"),
    ),
    case(
        "marts.recorded_crime_12m",
        "rate_for_british_transport_police",
        "update marts.recorded_crime_12m set rate_per_1000 = 0.5 where area_code = 'BTP' "
        "and period_end = date '2016-12-31' and offence_group = 'stalking'",
        "expect_column_values_to_be_null",
        "rate_per_1000",
        ("BTP", "British Transport Police", "2016-12-31"),
    ),
    case(
        "marts.recorded_crime_12m.force_coverage",
        "12m_force_missing",
        "delete from marts.recorded_crime_12m where area_code = 'BTP' and period_end = date '2016-12-31'",
        IN_SET,
        "in_mart",
        ("BTP", "British Transport Police", "2016-12-31"),
    ),
    case(
        "marts.recording_practice",
        "outlier_without_direction",
        "update marts.recording_practice set outlier_flag = true, outlier_direction = null "
        "where area_code = 'E23000032' and period_end = date '2016-12-31'",
        "expect_column_values_to_not_be_null",
        "outlier_direction",
        (*KENT, "2016-12-31"),
    ),
    case(
        OUTLIERS,
        "kent_flagged_outlier",
        "update marts.recording_practice set outlier_flag = true, outlier_direction = 'high' "
        "where area_code = 'E23000032' and period_end = date '2016-12-31'",
        IN_SET,
        "outlier_flag",
        (*KENT, "2016-12-31"),
        *SAMPLE_FINDINGS[OUTLIERS],
    ),
    # ----------------------------------------------------------------- outcomes, courts, gaps
    case(
        "marts.outcomes_12m",
        "outcomes_exceed_all_assigned",
        "update marts.outcomes_12m set outcomes = assigned_outcomes + 1 where area_code = 'E23000032' "
        "and period_end = date '2016-12-31' and offence_group = 'stalking' and outcome_group = 'charged_summonsed'",
        A_GE_B,
        "assigned_outcomes, outcomes",
        (*KENT, "2016-12-31"),
    ),
    case(
        "marts.court_outcomes",
        "more_convicted_than_prosecuted",
        "update marts.court_outcomes set convicted = prosecuted + 1 where area_code = 'E23000032' "
        "and calendar_year = 2016 and offence_section = 's2A'",
        A_GE_B,
        "prosecuted, convicted",
        (*KENT, "2016"),
    ),
    case(
        "marts.restraining_orders",
        "negative_orders",
        "update marts.restraining_orders set orders_on_conviction = -1 where area_code = 'E23000032' "
        "and calendar_year = 2016",
        BETWEEN,
        "orders_on_conviction",
        (*KENT, "2016"),
    ),
    case(
        "marts.attrition",
        "attrition_unknown_cps_area",
        "update marts.attrition set area_code = 'cps_atlantis' where area_code = 'cps_wessex' "
        "and financial_year = '2016/17' and offence_group = 'stalking'",
        IN_SET,
        "area_code",
        ("cps_atlantis", "Wessex", "2016/17"),
    ),
    case(
        "marts.prosecution_gap",
        "conviction_rate_above_one",
        "update marts.prosecution_gap set conviction_rate = 1.2 where area_code = 'cps_wessex' "
        "and financial_year = '2016/17'",
        BETWEEN,
        "conviction_rate",
        ("cps_wessex", "Wessex", "2016/17"),
    ),
    case(
        "marts.prevalence_gap",
        "prevalence_below_its_interval",
        "update marts.prevalence_gap set prevalence_lower_ci = prevalence + 0.01 where survey_year = '2012/13' "
        "and behaviour = 'stalking' and measure = 'last_year' and sex = 'women'",
        A_GE_B,
        "prevalence, prevalence_lower_ci",
        (*NATIONAL, "2012/13"),
    ),
    case(
        "marts.problem_profile",
        "share_above_one",
        "update marts.problem_profile set stalking_share_charged_summonsed = 1.5 where area_code = 'E23000032' "
        "and period_end = date '2016-12-31'",
        BETWEEN,
        "stalking_share_charged_summonsed",
        (*KENT, "2016-12-31"),
    ),
    case(
        "marts.reconciliation",
        "unknown_status",
        "update marts.reconciliation set status = 'unchecked' where figure_id = 'prc_stalking_ye_dec2016'",
        IN_SET,
        "status",
        (*NATIONAL, "2016-01-01/2016-12-31"),
    ),
    case(
        "marts.reconciliation",
        "figure_dropped",
        "delete from marts.reconciliation where figure_id = 'prc_stalking_ye_dec2016'",
        "expect_column_distinct_values_to_equal_set",
        "figure_id",
    ),
    case(
        "marts.reconciliation.published_figures",
        "figure_differs",
        "update marts.reconciliation set status = 'differs', mart_value = published_value + 1 "
        "where figure_id = 'prc_stalking_ye_dec2016'",
        IN_SET,
        "status",
        (*NATIONAL, "2016-01-01/2016-12-31"),
    ),
    case(
        "marts.reconciliation.revised_since_publication",
        "figure_revised",
        "update marts.reconciliation set status = 'revised_since_publication', mart_value = published_value + 1, "
        "warehouse_release = 'year ending March 2025', warehouse_release_period_end = date '2025-03-31' "
        "where figure_id = 'prc_stalking_ye_dec2016'",
        "expect_column_values_to_not_be_in_set",
        "status",
        (*NATIONAL, "2016-01-01/2016-12-31"),
    ),
    case(
        "staging.home_office__codes_outside_validity",
        "code_before_its_dates",
        # 8U (own code from April 2020) in 2019/20 Q4: zero for Surrey is accepted, 3 for Kent is not
        [
            "insert into raw.home_office__recorded_crime "
            "select financial_year, financial_quarter, force_name, 'Controlling or coercive behaviour', "
            f"offence_group, offence_subgroup, '8U', '{count}', _file_name, _sheet, _sha256, _loaded_at, "
            "_row_number + 1000000 from raw.home_office__recorded_crime "
            "where trim(financial_year) = '2019/20' and trim(financial_quarter) = '4' "
            f"and trim(force_name) = '{force}' and trim(offence_code) = '8L'"
            for force, count in (("Kent", 3), ("Surrey", 0))
        ],
        IN_SET,
        "offences",
        (*KENT, "2020-03-31"),
    ),
    case(
        "raw.home_office__pfa_rolling",
        "rolling_unknown_force",
        "update raw.home_office__pfa_rolling set force_name = 'Wessex Constabulary' where force_name = 'Kent' "
        "and twelve_months_ending = '31/03/2017' and offence = 'Stalking and harassment'",
        IN_SET,
        "force_name_key",
        (None, "Wessex Constabulary", "31/03/2017"),
    ),
    case(
        "raw.ons__appendix_recorded_crime",
        "appendix_count_not_whole",
        "update raw.ons__appendix_recorded_crime set offences = '12.5' where offence_code = '8Q' "
        "and period_label = 'Apr 2016 to Mar 2017'",
        REGEX,
        "offences",
        (None, None, "Apr 2016 to Mar 2017"),
    ),
    case(
        "raw.ons__pfa_rates",
        "rates_not_a_number",
        # the sample's ONS tables have no rates sheet: one row of Table P3, planted
        "insert into raw.ons__pfa_rates (area_code, area_name, population, population_mid_year, "
        "stalking_and_harassment_rate, period_label, _file_name, _sheet, _sha256, _loaded_at, _row_number) "
        "values ('E23000032', 'Kent', '1846500', '2016', 'about 5', 'year ending December 2016', 'p3.xlsx', "
        "'Table P3', repeat('a', 64), timestamp '2026-01-01 00:00:00', 7)",
        REGEX,
        "stalking_and_harassment_rate",
        (*KENT, "year ending December 2016"),
    ),
    case(
        "marts.published_totals",
        "published_total_unknown_group",
        "update marts.published_totals set offence_group = 'burglary' where area_code = 'K04000001' "
        "and publisher_table = 'ons_appendix_tables' and period_end = date '2017-03-31' and offence_group = 'stalking'",
        IN_SET,
        "offence_group",
        (*NATIONAL, "2017-03-31"),
    ),
    case(
        "marts.published_totals.differences",
        "published_total_five_percent_away",
        "update marts.published_totals set pct_difference = 0.05 where area_code = 'E23000032' "
        "and publisher_table = 'ons_pfa_tables' and period_end = date '2016-12-31'",
        IN_SET,
        "beyond_two_percent",
        (*KENT, "2016-12-31"),
    ),
    case(
        "marts.source_files",
        "unknown_source",
        "update marts.source_files set source = 'home_office_recorded_crimes' "
        "where file_name = 'home_office_police_recorded_crime_pfa.csv'",
        IN_SET,
        "source",
        (None, None, None),
    ),
]


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def shared_quality(tmp_path_factory) -> Path:
    """One Great Expectations context for the single-check runs, so each reuses its stored suites."""
    return tmp_path_factory.mktemp("quality")


def settings_for(tmp_path: Path, quality_dir: Path | None = None) -> Settings:
    cfg = isolated_settings(tmp_path)
    return dataclasses.replace(cfg, quality_dir=quality_dir) if quality_dir else cfg


def copy_of(sample_warehouse: Path, tmp_path: Path, *statements: str) -> Path:
    """A copy of the sample warehouse with ``statements`` applied to it."""
    db = tmp_path / "build.duckdb"
    shutil.copy2(sample_warehouse, db)
    con = duckdb.connect(str(db))
    try:
        for statement in statements:
            changed = con.execute(statement).fetchone()
            assert changed is None or changed[0] > 0, f"no row changed: {statement}"
    finally:
        con.close()
    return db


def check_report(summary: dict, name: str) -> dict:
    return next(c for c in summary["checks"] if c["name"] == name)


def listed(failure: dict) -> set[tuple]:
    return {(a["area_code"], a["area_name"], a["period"]) for a in failure["affected"]}


# --------------------------------------------------------------------------- every check fires


def test_every_check_has_a_case_that_makes_it_fire():
    cased = {p.values[0].check for p in CASES}
    assert cased == set(ALL_CHECKS), f"without a case: {sorted(set(ALL_CHECKS) - cased)}"
    assert {p.values[0].check for p in CASES if ALL_CHECKS[p.values[0].check].severity == "warning"} == {
        name for name, c in ALL_CHECKS.items() if c.severity == "warning"
    }


@pytest.mark.parametrize("fault", CASES)
def test_the_fault_fires_its_check(fault: Case, sample_warehouse, shared_quality, tmp_path):
    check = ALL_CHECKS[fault.check]
    db = copy_of(sample_warehouse, tmp_path, *fault.statements)
    cfg = settings_for(tmp_path, shared_quality)

    if check.severity == "failure":
        with pytest.raises(QualityCheckFailed) as excinfo:
            checks.run_checks(db, cfg, only=[fault.check])
        message = str(excinfo.value)
        assert "the build is not published" in message
        assert f"check {fault.check!r}: {fault.expectation}" in message
        summary = excinfo.value.summary
        assert summary["failures"] == 1 and [c["name"] for c in summary["checks"]] == [fault.check]
        assert {f["check"] for f in excinfo.value.failures} == {fault.check}
    else:
        summary = checks.run_checks(db, cfg, only=[fault.check])  # published, with a warning
        assert summary["failures"] == 0 and summary["warnings"] == 1

    report = check_report(summary, fault.check)
    assert report["severity"] == check.severity and not report["success"]
    failure = next(
        (
            f
            for f in report["failed_expectations"]
            if (f["expectation"], f["column"]) == (fault.expectation, fault.column)
        ),
        None,
    )
    assert failure is not None, [(f["expectation"], f["column"]) for f in report["failed_expectations"]]
    assert failure["notes"] and fault.check not in failure["message"]
    assert fault.affected <= listed(failure), failure["affected"]
    assert failure["affected_total"] >= len(failure["affected"]) >= len(fault.affected)
    for affected in failure["affected"]:
        assert set(affected) == {"area_code", "area_name", "period", "detail"} and affected["detail"]
    assert Path(summary["data_docs"]).is_file()
    json.dumps(summary)  # the summary travels through Airflow XComs and into the run record


# --------------------------------------------------------------------------- the whole sample


@pytest.fixture(scope="module")
def sample_run(sample_warehouse, tmp_path_factory) -> tuple[dict, Settings]:
    """Every check, run once on an unchanged copy of the sample warehouse."""
    base = tmp_path_factory.mktemp("sample-checks")
    cfg = settings_for(base)
    return checks.run_checks(copy_of(sample_warehouse, base), cfg), cfg


def test_the_sample_passes_every_failure_check_and_warns_only_of_real_findings(sample_run):
    summary, _ = sample_run

    assert [c["name"] for c in summary["checks"]] == list(ALL_CHECKS)
    assert summary["failures"] == 0
    failing = {c["name"]: c for c in summary["checks"] if not c["success"]}
    assert set(failing) == set(SAMPLE_FINDINGS) and summary["warnings"] == len(SAMPLE_FINDINGS)
    for name, findings in SAMPLE_FINDINGS.items():
        [failure] = failing[name]["failed_expectations"]
        assert listed(failure) == findings
    assert all(c["rows"] is not None for c in summary["checks"])
    json.dumps(summary)


def test_data_docs_are_built_on_every_run_and_show_every_suite(sample_run):
    summary, cfg = sample_run

    index = Path(summary["data_docs"])
    assert index == cfg.quality_dir / "docs" / "index.html" and index.is_file()
    text = index.read_text(encoding="utf-8")
    for name in ALL_CHECKS:
        assert name in text, name
    suite_page = cfg.quality_dir / "docs" / "expectations" / "marts" / "recorded_crime_12m.html"
    assert "a negative total means a correction was counted" in suite_page.read_text(encoding="utf-8")
    pages = list((cfg.quality_dir / "docs" / "validations").rglob("*.html"))
    assert len(pages) == len(ALL_CHECKS)  # this run's results, one page per check
    assert summary["data_docs_seconds"] >= 0


def test_a_failure_blocks_the_run_and_its_summary_has_every_check(sample_warehouse, tmp_path):
    """Kent is missing from one 12-month period: blocked, and the summary the run
    record reads still lists every check, the warnings included."""
    db = copy_of(
        sample_warehouse,
        tmp_path,
        "delete from marts.recorded_crime_12m where area_code = 'E23000032' and period_end = date '2016-12-31'",
    )

    with pytest.raises(QualityCheckFailed) as excinfo:
        checks.run_checks(db, settings_for(tmp_path))

    coverage = "marts.recorded_crime_12m.force_coverage"
    assert f"check {coverage!r}: expect_column_values_to_be_in_set on column 'in_mart'" in str(excinfo.value)
    summary = excinfo.value.summary
    assert [c["name"] for c in summary["checks"]] == list(ALL_CHECKS)
    assert {c["name"] for c in summary["checks"] if not c["success"]} == {coverage, *SAMPLE_FINDINGS}
    assert summary["failures"] == 1 and summary["warnings"] == len(SAMPLE_FINDINGS)
    [failure] = check_report(summary, coverage)["failed_expectations"]
    # one row per offence group with a window ending then (malicious communications, 8R, starts in
    # 2017), and one for the derived group stalking_and_harassment (the ONS subgroup)
    assert listed(failure) == {(*KENT, "2016-12-31")} and failure["affected_total"] == 4
    assert Path(summary["data_docs"]).is_file()


# --------------------------------------------------------------------------- raw tables, limits, history


def test_raw_checks_pass_on_empty_raw_tables(sample_warehouse, shared_quality, tmp_path):
    """A build from some of the sources leaves the other sources' raw tables empty."""
    raw_checks = [name for name in ALL_CHECKS if name.startswith("raw.")]
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        # the sample has no rates table (ONS Table P3): that one is empty already
        filled = [name for name in raw_checks if con.execute(f"select count(*) from {name}").fetchone()[0]]
    assert len(filled) >= len(raw_checks) - 1
    db = copy_of(sample_warehouse, tmp_path, *(f"delete from {name}" for name in filled))

    summary = checks.run_checks(db, settings_for(tmp_path, shared_quality), only=raw_checks)

    assert summary["failures"] == 0 and summary["warnings"] == 0
    assert {c["rows"] for c in summary["checks"]} == {0}


def test_affected_rows_are_capped_with_their_total(sample_warehouse, shared_quality, tmp_path):
    """Two quarters missing for every force: 2 x 44 forces x 4 codes."""
    coverage = "marts.recorded_crime_quarterly.force_coverage"
    db = copy_of(
        sample_warehouse,
        tmp_path,
        "delete from marts.recorded_crime_quarterly where period_end in (date '2019-12-31', date '2020-03-31')",
    )

    with pytest.raises(QualityCheckFailed) as excinfo:
        checks.run_checks(db, settings_for(tmp_path, shared_quality), only=[coverage])

    [failure] = excinfo.value.failures
    assert failure["affected_total"] == 2 * 44 * 4
    assert len(failure["affected"]) == checks.AFFECTED_LIMIT
    assert len(failure["unexpected"]) == checks.SAMPLE_SIZE


def test_only_the_latest_runs_are_kept_for_data_docs(sample_warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "KEEP_RUNS", 2)
    db = copy_of(sample_warehouse, tmp_path)
    cfg = settings_for(tmp_path)

    names = [checks.run_checks(db, cfg, only=["marts.source_files"])["run_name"] for _ in range(3)]

    stored = cfg.quality_dir / "gx" / "uncommitted" / "validations"
    assert {p.parent.parent.name for p in stored.rglob("*.json")} == set(names[1:])
    assert {p.name for p in stored.rglob("hsinsight-*") if p.is_dir()} == set(names[1:])
    pages = {p.parent.parent.name for p in (cfg.quality_dir / "docs" / "validations").rglob("*.html")}
    assert pages == set(names[1:])


def test_an_unknown_check_name_is_refused(sample_warehouse, tmp_path):
    with pytest.raises(checks.QualityConfigError, match="no such check"):
        checks.run_checks(copy_of(sample_warehouse, tmp_path), settings_for(tmp_path), only=["raw.nothing"])


def test_source_files_suite_knows_every_source_and_layout():
    """The suite lists the sources and layouts by hand: it must follow hsinsight.sources."""
    from hsinsight.sources import LAYOUTS

    suite = checks.read_suite(ALL_CHECKS["marts.source_files"])
    value_sets = {
        e["kwargs"]["column"]: set(e["kwargs"]["value_set"])
        for e in suite["expectations"]
        if e["type"] == IN_SET
    }
    assert value_sets["source"] == {layout.source for layout in LAYOUTS}
    assert value_sets["layout"] == {layout.layout for layout in LAYOUTS}
