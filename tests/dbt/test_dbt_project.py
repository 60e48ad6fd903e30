"""The dbt project, run through ``hsinsight.transform`` on throwaway DuckDB files.

Each test writes a raw layer the way ingest does (every value as text, canonical
column names, the load metadata and the ``raw._files`` manifest), runs the real
``dbt build`` in a subprocess and reads the marts back. Expected values are
computed here from the rows written, independently of the SQL under test.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from hsinsight import ingest, transform
from hsinsight.config import Settings
from hsinsight.errors import TransformError
from hsinsight.names import NATIONAL_CODE
from hsinsight.sources.home_office import RECORDED_CRIME_PFA

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CSV = PROJECT_ROOT / "data" / "sample" / "home_office_police_recorded_crime_pfa.csv"

RAW_COLUMNS = [c.name for c in RECORDED_CRIME_PFA.columns]
METADATA_COLUMNS = ["_file_name", "_sheet", "_sha256", "_loaded_at", "_row_number"]
LOADED_AT = datetime(2024, 5, 1, 9, 30)


@pytest.fixture(autouse=True, scope="module")
def handmade_totals_are_not_the_published_ones():
    """The hand-made recorded crime of these tests is a few forces with round numbers,
    so the reconciliation with the published figures may only warn here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HSINSIGHT_RECONCILIATION_SEVERITY", "warn")
        yield


def settings() -> Settings:
    return dataclasses.replace(Settings.from_env(), dbt_project_dir=PROJECT_ROOT / "dbt_project")


# ----------------------------------------------------------------------- raw layer


def write_raw(db: Path, rows: list[dict], *, file_name: str = "recorded.csv", synthetic: bool = True) -> None:
    """A raw layer as ingest leaves it: ``rows`` hold the canonical raw columns as text."""
    con = duckdb.connect(str(db))
    try:
        ingest.prepare_raw(con, settings())  # every raw table, empty, as ingest creates them
        names = RAW_COLUMNS + METADATA_COLUMNS
        con.executemany(
            f"insert into raw.home_office__recorded_crime ({', '.join(names)}) "
            f"values ({', '.join('?' for _ in names)})",
            [
                [row.get(name) for name in RAW_COLUMNS] + [file_name, None, "0" * 64, LOADED_AT, number]
                for number, row in enumerate(rows, start=3)
            ],
        )
        write_manifest(con, file_name, len(rows), synthetic)
    finally:
        con.close()


def write_manifest(con: duckdb.DuckDBPyConnection, file_name: str, rows: int, synthetic: bool) -> None:
    con.execute(
        "insert into raw._files (file_name, file_path, sheet, source, layout, sha256, size_bytes, rows, "
        "header_row, is_synthetic, preamble, loaded_at) values (?, ?, null, ?, ?, ?, ?, ?, 2, ?, ?, ?)",
        [
            file_name,
            f"/data/raw/{file_name}",
            RECORDED_CRIME_PFA.source,
            RECORDED_CRIME_PFA.layout,
            "0" * 64,
            12_345,
            rows,
            synthetic,
            "SYNTHETIC SAMPLE DATA: made up for tests" if synthetic else None,
            LOADED_AT,
        ],
    )


def row(year: str, quarter: int, force: str, code: str, count: str) -> dict:
    return {
        "financial_year": year,
        "financial_quarter": str(quarter),
        "force_name": force,
        "offence_description": f"offence {code}",
        "offence_group": "Violence against the person",
        "offence_subgroup": "Stalking and harassment",
        "offence_code": code,
        "number_of_offences": count,
    }


def query(db: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------ a small hand-made file

# (financial year as the file writes it, quarter, period end). The labels use all
# three separators the files are known to use.
QUARTERS = [
    ("2015_16", 3, date(2015, 12, 31)),
    ("2015_16", 4, date(2016, 3, 31)),
    ("2016/17", 1, date(2016, 6, 30)),
    ("2016/17", 2, date(2016, 9, 30)),
    ("2016-17", 3, date(2016, 12, 31)),
    ("2016-17", 4, date(2017, 3, 31)),
    ("2017/18", 1, date(2017, 6, 30)),
]
# Name as written -> area code (None: a central fraud body, not a force).
BODIES = {
    "Kent": "E23000032",
    "  devon  &   CORNWALL ": "E23000035",
    "London, City of": "E23000034",
    "British Transport Police": "BTP",
    "Action Fraud": None,
    "Cifas": None,
}
BASE = {
    "Kent": 300,
    "  devon  &   CORNWALL ": 200,
    "London, City of": 3,
    "British Transport Police": 7,
    "Action Fraud": 90_000,
    "Cifas": 70_000,
}
FACTOR = {"8L": 10, "8Q": 1, "9A": 1_000}
GROUP = {"8L": "harassment", "8Q": "stalking"}

SUPPRESSED = ("London, City of", "8L", date(2017, 6, 30))  # '[x]' in the file
CORRECTION = ("  devon  &   CORNWALL ", "8Q", date(2016, 9, 30))  # a negative quarter: -4
MISSING = ("Kent", "8Q", date(2016, 3, 31))  # no row at all


def handmade_counts() -> dict[tuple[str, str, date], int | None]:
    """(body as written, code, period end) -> count; None = suppressed."""
    counts: dict[tuple[str, str, date], int | None] = {}
    for index, (_, _, end) in enumerate(QUARTERS):
        for body in BODIES:
            for code in ("8L", "8Q", "9A"):
                counts[(body, code, end)] = BASE[body] * FACTOR[code] + index
        # 8R is the platform's only from April 2017: its 2016/17 Q4 row stays out.
        if end >= date(2017, 3, 31):
            counts[("Kent", "8R", end)] = 40 + index
    counts[SUPPRESSED] = None
    counts[CORRECTION] = -4
    del counts[MISSING]
    return counts


def handmade_rows() -> list[dict]:
    label = {end: (year, quarter) for year, quarter, end in QUARTERS}
    rows = []
    for (body, code, end), count in handmade_counts().items():
        year, quarter = label[end]
        # Kent's harassment counts are in the thousands and written with a separator.
        text = "[x]" if count is None else f"{count:,}"
        rows.append(row(year, quarter, body, code, text))
    return rows


def window(end: date) -> list[date]:
    ends = [q[2] for q in QUARTERS]
    position = ends.index(end)
    return ends[position - 3 : position + 1]


@pytest.fixture(scope="module")
def handmade(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("handmade") / "hsinsight.duckdb"
    write_raw(db, handmade_rows())
    transform.build(db, settings())
    return db


def test_marts_are_built_in_the_exact_schemas(handmade):
    tables = set(query(handmade, "select table_schema, table_name from information_schema.tables"))
    assert {
        ("marts", "recorded_crime_quarterly"),
        ("marts", "recorded_crime_12m"),
        ("marts", "source_files"),
        ("staging", "stg_home_office__recorded_crime"),
        ("staging", "stg_hsinsight__files"),
        ("reference", "forces"),
        ("reference", "force_name_variants"),
        ("reference", "offence_codes"),
    } <= tables
    schemas = {schema for schema, _ in tables}
    assert schemas == {"raw", "reference", "staging", "intermediate", "marts"}
    # The catalog is the file's stem, as in the published warehouse.
    assert query(handmade, "select distinct table_catalog from information_schema.tables") == [("hsinsight",)]


def test_marts_have_the_contract_columns_and_types(handmade):
    got = {}
    for table, column, data_type in query(
        handmade,
        """
        select table_name, column_name, data_type from information_schema.columns
        where table_schema = 'marts' order by table_name, ordinal_position
        """,
    ):
        got.setdefault(table, []).append((column, data_type))
    assert got["recorded_crime_quarterly"] == [
        ("area_code", "VARCHAR"),
        ("area_name", "VARCHAR"),
        ("area_type", "VARCHAR"),
        ("financial_year", "VARCHAR"),
        ("financial_quarter", "INTEGER"),
        ("period_end", "DATE"),
        ("offence_code", "VARCHAR"),
        ("offence_group", "VARCHAR"),
        ("offences", "BIGINT"),
    ]
    assert got["recorded_crime_12m"] == [
        ("area_code", "VARCHAR"),
        ("area_name", "VARCHAR"),
        ("area_type", "VARCHAR"),
        ("period_end", "DATE"),
        ("offence_group", "VARCHAR"),
        ("offences", "BIGINT"),
        ("offences_prev_12m", "BIGINT"),
        ("pct_change", "DOUBLE"),
        ("population", "BIGINT"),
        ("population_mid_year", "INTEGER"),
        ("rate_per_1000", "DOUBLE"),
        ("quarters_in_window", "INTEGER"),
    ]
    assert got["source_files"] == [
        ("file_name", "VARCHAR"),
        ("sheet", "VARCHAR"),
        ("source", "VARCHAR"),
        ("layout", "VARCHAR"),
        ("sha256", "VARCHAR"),
        ("size_bytes", "BIGINT"),
        ("rows", "BIGINT"),
        ("is_synthetic", "BOOLEAN"),
        ("loaded_at", "TIMESTAMP"),
    ]


def test_national_12_months_to_december_2016_is_the_sum_of_the_force_rows(handmade):
    counts = handmade_counts()
    quarters = window(date(2016, 12, 31))
    assert quarters == [date(2016, 3, 31), date(2016, 6, 30), date(2016, 9, 30), date(2016, 12, 31)]
    expected = {
        group: sum(
            count
            for (body, c, end), count in counts.items()
            if c == code and end in quarters and BODIES[body] is not None
        )
        for code, group in GROUP.items()
    }
    got = dict(
        query(
            handmade,
            """
            select offence_group, offences from marts.recorded_crime_12m
            where area_code = ? and period_end = date '2016-12-31'
            """,
            [NATIONAL_CODE],
        )
    )
    assert got == expected
    # The fraud bodies' counts are large: had they been added, the totals would show it.
    assert expected["harassment"] < 90_000


def test_a_window_runs_across_the_financial_year_boundary(handmade):
    # 12 months to 31 December 2016 = 2015/16 Q4 + 2016/17 Q1-Q3: the file labels those
    # years '2015_16', '2016/17' and '2016-17', and Kent's counts carry separators.
    kent = [300 * 10 + index for index in (1, 2, 3, 4)]
    got = query(
        handmade,
        """
        select offences, quarters_in_window from marts.recorded_crime_12m
        where area_code = 'E23000032' and offence_group = 'harassment' and period_end = date '2016-12-31'
        """,
    )
    assert got == [(sum(kent), 4)]
    # Every complete window of Kent's harassment, and only those: the first ends with
    # the fourth quarter in the file.
    ends = [
        r[0]
        for r in query(
            handmade,
            """
        select period_end from marts.recorded_crime_12m
        where area_code = 'E23000032' and offence_group = 'harassment' order by period_end
        """,
        )
    ]
    assert ends == [q[2] for q in QUARTERS[3:]]


def test_a_missing_quarter_leaves_its_windows_out(handmade):
    # Kent has no stalking row for 2016-03-31: the windows ending 2016-09-30 and
    # 2016-12-31 contain it and are left out (counting rows back would have made
    # them from older quarters); the later windows are complete.
    got = [
        r[0]
        for r in query(
            handmade,
            """
        select period_end from marts.recorded_crime_12m
        where area_code = 'E23000032' and offence_group = 'stalking' order by period_end
        """,
        )
    ]
    assert got == [date(2017, 3, 31), date(2017, 6, 30)]


def test_a_negative_quarter_is_kept_and_counted(handmade):
    quarterly = query(
        handmade,
        """
        select offences from marts.recorded_crime_quarterly
        where area_code = 'E23000035' and offence_code = '8Q' and period_end = date '2016-09-30'
        """,
    )
    assert quarterly == [(-4,)]
    total = query(
        handmade,
        """
        select offences from marts.recorded_crime_12m
        where area_code = 'E23000035' and offence_group = 'stalking' and period_end = date '2016-12-31'
        """,
    )
    # Devon and Cornwall's stalking: 201, 202, -4 (the correction) and 204.
    assert total == [(201 + 202 - 4 + 204,)]


def test_a_suppressed_count_is_null_and_makes_no_total(handmade):
    rows = query(
        handmade,
        """
        select area_code, offences from marts.recorded_crime_quarterly
        where offence_code = '8L' and period_end = date '2017-06-30' and area_code in ('E23000034', ?)
        order by area_code
        """,
        [NATIONAL_CODE],
    )
    # City of London's cell is '[x]' (never zero) and England and Wales has no total
    # that quarter, rather than one short of a force.
    assert rows == [("E23000034", None), (NATIONAL_CODE, None)]
    windows = query(
        handmade,
        """
        select area_code from marts.recorded_crime_12m
        where offence_group = 'harassment' and period_end = date '2017-06-30' order by area_code
        """,
    )
    assert windows == [("BTP",), ("E23000032",), ("E23000035",)]


def test_codes_outside_the_platform_are_left_out(handmade):
    codes = query(
        handmade,
        "select offence_code, min(period_end) from marts.recorded_crime_quarterly group by 1 order by 1",
    )
    # 9A never; 8R only from April 2017, its 2016/17 Q4 row (outside the seed's dates) left out.
    assert codes == [("8L", date(2015, 12, 31)), ("8Q", date(2015, 12, 31)), ("8R", date(2017, 6, 30))]
    assert query(
        handmade, "select count(*) from raw.home_office__recorded_crime where offence_code = '9A'"
    ) == [(len(QUARTERS) * len(BODIES),)]
    assert query(
        handmade, "select count(*) from staging.stg_home_office__recorded_crime where offence_code = '9A'"
    ) == [(len(QUARTERS) * len(BODIES),)]


def test_central_fraud_bodies_are_left_out(handmade):
    areas = query(
        handmade,
        "select area_type, area_code, area_name from marts.recorded_crime_quarterly group by all order by all",
    )
    assert areas == [
        ("force", "BTP", "British Transport Police"),
        ("force", "E23000032", "Kent"),
        ("force", "E23000034", "City of London"),
        ("force", "E23000035", "Devon and Cornwall"),
        ("national", NATIONAL_CODE, "England and Wales"),
    ]
    # They are in staging, recognised for what they are.
    assert query(
        handmade,
        """
        select force_name, reporting_body_type, count(*) from staging.stg_home_office__recorded_crime
        where area_code is null group by all order by all
        """,
    ) == [("Action Fraud", "central_fraud_body", 21), ("Cifas", "central_fraud_body", 21)]


def test_quarterly_national_rows_add_up_every_force(handmade):
    mismatches = query(
        handmade,
        f"""
        with forces as (
            select period_end, offence_code, sum(offences) as offences
            from marts.recorded_crime_quarterly where area_type = 'force'
            group by all having count(offences) = count(*)
        )
        select n.period_end, n.offence_code, n.offences, forces.offences
        from marts.recorded_crime_quarterly n
        full join forces using (period_end, offence_code)
        where n.area_code = '{NATIONAL_CODE}' and n.offences is distinct from forces.offences
        """,
    )
    assert mismatches == []
    assert query(
        handmade,
        "select financial_year, financial_quarter from marts.recorded_crime_quarterly "
        "where period_end = date '2017-03-31' group by all",
    ) == [("2016/17", 4)]


def test_source_files_come_from_the_manifest(handmade):
    assert query(
        handmade, "select file_name, sheet, source, layout, rows, is_synthetic from marts.source_files"
    ) == [
        (
            "recorded.csv",
            None,
            "home_office_recorded_crime",
            "home_office_prc_pfa_v1",
            len(handmade_rows()),
            True,
        )
    ]


def test_dbt_artefacts_stay_beside_the_build_file(handmade):
    target, logs = transform.dbt_dirs(handmade)
    assert target.parent == handmade.parent / "dbt"
    results = json.loads((target / "run_results.json").read_text())
    statuses = {r["status"] for r in results["results"]}
    assert statuses <= {"success", "pass", "warn", "no-op"}
    # Only the reconciliation with the published figures may warn on hand-made data.
    warned = {r["unique_id"].split(".")[2] for r in results["results"] if r["status"] == "warn"}
    assert warned <= {
        "reconciliation_no_published_figure_differs",
        "reconciliation_every_expressible_figure_is_in_the_warehouse",
    }
    kinds = {r["unique_id"].split(".")[0] for r in results["results"]}
    assert kinds == {"seed", "model", "test", "unit_test", "exposure"}
    assert (logs / "dbt.log").is_file()


def test_each_build_starts_from_the_last_parse_and_sees_what_changed_since(tmp_path):
    """dbt's parse of the project is kept between builds (each in a new folder) and handed
    to the next; a model edited since is parsed again, not read from the old parse."""
    import shutil

    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "__pycache__")
    )
    cfg = dataclasses.replace(Settings.from_env(), dbt_project_dir=project)
    cache = transform.parse_cache(project, "hsinsight.duckdb")

    def parse(run: str) -> tuple[str, dict]:
        build = tmp_path / run / "hsinsight.duckdb"
        build.parent.mkdir()
        target, logs = transform._run_dbt(["parse"], build, cfg)
        text = (logs / "dbt.log").read_text(encoding="utf-8")
        return text, json.loads((target / "manifest.json").read_text())["nodes"]

    first, _ = parse("first")
    assert "Starting full parse" in first or "Unable to do partial parsing" in first
    assert cache.is_file()
    second, _ = parse("second")
    assert "Unable to do partial parsing" not in second and "Starting full parse" not in second
    model = project / "models" / "marts" / "recorded_crime" / "recorded_crime_12m.sql"
    model.write_text(model.read_text() + "\n-- edited after the last parse\n")
    third, nodes = parse("third")
    assert "Starting full parse" not in third
    assert "edited after the last parse" in nodes["model.hsinsight.recorded_crime_12m"]["raw_code"]


# ------------------------------------------------------------------------- failures


def test_a_negative_12_month_total_fails_the_build_naming_the_test(tmp_path):
    db = tmp_path / "hsinsight.duckdb"
    # Quarters are allowed to be negative (corrections); a 12-month total is not.
    write_raw(
        db,
        [
            row("2016/17", 1, "Kent", "8L", "10"),
            row("2016/17", 2, "Kent", "8L", "10"),
            row("2016/17", 3, "Kent", "8L", "10"),
            row("2016/17", 4, "Kent", "8L", "-50"),
        ],
    )
    with pytest.raises(TransformError) as caught:
        transform.build(db, settings())
    message = str(caught.value)
    assert "not_negative_recorded_crime_12m_offences" in message
    assert "marts.recorded_crime_12m.offences" in message
    # Kent and England and Wales both have -20 for the 12 months to March 2017.
    assert "FAIL, 2 failing rows" in message
    assert "1 node failed" in message


def test_values_ingest_would_refuse_fail_the_staging_tests(tmp_path):
    """dbt does not rely on ingest alone: an unknown force and a count that is not a
    number fail staging's tests, and nothing is built on top of them."""
    db = tmp_path / "hsinsight.duckdb"
    write_raw(
        db,
        [
            row("2016/17", 1, "Kent", "8L", "10"),
            row("2016/17", 1, "Kent Constabulary", "8Q", "10"),
            row("2016/17", 2, "Kent", "8L", "12a"),
        ],
    )
    with pytest.raises(TransformError) as caught:
        transform.build(db, settings())
    failed = [line for line in str(caught.value).splitlines() if line.startswith("  - ")]
    assert len(failed) == 2
    assert failed[0].startswith(
        "  - test not_null_stg_home_office__recorded_crime_offences "
        "(on staging.stg_home_office__recorded_crime.offences)"
    )
    assert "FAIL, 1 failing row" in failed[0]
    assert failed[1].startswith(
        "  - test not_null_stg_home_office__recorded_crime_reporting_body_type "
        "(on staging.stg_home_office__recorded_crime.reporting_body_type)"
    )
    # No mart built on the failed staging model was built (source_files reads it too,
    # to list only the files whose rows are in use); marts of other sources were.
    built = {
        name
        for (name,) in query(
            db, "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert built.isdisjoint(
        {
            "recorded_crime_quarterly",
            "recorded_crime_12m",
            "recording_practice",
            "attrition",
            "problem_profile",
            "source_files",
        }
    )


def test_a_build_file_without_raw_tables_fails_saying_what_is_missing(tmp_path):
    db = tmp_path / "hsinsight.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(TransformError) as caught:
        transform.build(db, settings())
    message = str(caught.value)
    first = next(
        line
        for line in message.splitlines()
        if "source_not_null_home_office_home_office__recorded_crime" in line
    )
    assert "(on raw.home_office__recorded_crime." in first
    assert ': ERROR: Catalog Error: Table with name "raw.home_office__recorded_crime" does not exist' in first
    assert "Runtime Error in test" not in message  # dbt's preamble is dropped
    assert "downstream of a failure skipped" in message


def test_a_folder_that_is_not_a_dbt_project_is_refused(tmp_path):
    db = tmp_path / "hsinsight.duckdb"
    cfg = dataclasses.replace(settings(), dbt_project_dir=tmp_path / "nowhere")
    with pytest.raises(TransformError, match="no dbt_project.yml"):
        transform.build(db, cfg)


def test_parse_puts_every_node_in_its_exact_schema(tmp_path):
    project = PROJECT_ROOT / "dbt_project"
    target = tmp_path / "target"
    completed = subprocess.run(
        [
            str(transform.dbt_executable()),
            "parse",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(target),
            "--log-path",
            str(tmp_path / "logs"),
            "--no-partial-parse",
        ],
        env={**os.environ, transform.DB_ENV: str(tmp_path / "hsinsight.duckdb")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    schemas = {
        node["name"]: node["schema"] for node in nodes.values() if node["resource_type"] in ("model", "seed")
    }
    expected_layer = {
        node["name"]: "reference"
        if node["resource_type"] == "seed"
        else "staging"
        if node["name"].startswith("stg_")
        else "intermediate"
        if node["name"].startswith("int_")
        else "marts"
        for node in nodes.values()
        if node["resource_type"] in ("model", "seed")
    }
    assert schemas == expected_layer
    assert {
        "forces": "reference",
        "offence_codes": "reference",
        "cps_area_forces": "reference",
        "stg_home_office__recorded_crime": "staging",
        "stg_home_office__outcomes": "staging",
        "stg_hsinsight__files": "staging",
        "recorded_crime_12m": "marts",
        "source_files": "marts",
    }.items() <= schemas.items()
    marts = [n for n in nodes.values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert all(n["config"]["contract"]["enforced"] and n["config"]["materialized"] == "table" for n in marts)
    assert all(c.get("data_type") for n in marts for c in n["columns"].values())

    # The lineage runs staging -> intermediate -> marts: a model in models/intermediate/
    # reads no mart, and a model built on marts lives in models/marts/ and says so.
    folder = {
        node["unique_id"]: node["original_file_path"].split("/")[1]
        for node in nodes.values()
        if node["resource_type"] == "model"
    }
    back_edges = [
        (node["name"], parent)
        for node in nodes.values()
        if node["resource_type"] == "model" and folder[node["unique_id"]] == "intermediate"
        for parent in node["depends_on"]["nodes"]
        if folder.get(parent) == "marts"
    ]
    assert back_edges == []
    for node in nodes.values():
        if node["resource_type"] != "model":
            continue
        built_on_marts = any(folder.get(parent) == "marts" for parent in node["depends_on"]["nodes"])
        if node["schema"] == "intermediate" and built_on_marts:
            assert folder[node["unique_id"]] == "marts", node["name"]
            assert "Built on the mart" in node["description"], node["name"]


# --------------------------------------------------------------------------- sample


@pytest.mark.skipif(not SAMPLE_CSV.exists(), reason="data/sample has no recorded crime file yet")
def test_sample_national_totals_match_the_inspection(tmp_path):
    """The sample's national 12 months to December 2016 reproduce the inspection's
    figures (harassment 202,755; stalking 4,613), and equal the sums of its rows."""
    db = tmp_path / "hsinsight.duckdb"
    header = {
        "Financial Year": "financial_year",
        "Financial Quarter": "financial_quarter",
        "Force Name": "force_name",
        "Offence Description": "offence_description",
        "Offence Group": "offence_group",
        "Offence Subgroup": "offence_subgroup",
        "Offence Code": "offence_code",
        "Number of Offences": "number_of_offences",
    }
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "create temp table sample as select *, row_number() over () + 2 as _row_number "
            "from read_csv(?, skip = 1, header = true, all_varchar = true)",
            [str(SAMPLE_CSV)],
        )
        rows = con.execute("select count(*) from sample").fetchone()[0]
        ingest.prepare_raw(con, settings())
        select = ", ".join(f'"{source}" as {name}' for source, name in header.items())
        con.execute(
            f"""
            insert into raw.home_office__recorded_crime by name
            select {select}, '{SAMPLE_CSV.name}' as _file_name, null::varchar as _sheet,
                   '{"0" * 64}' as _sha256, timestamp '{LOADED_AT}' as _loaded_at, _row_number::bigint as _row_number
            from sample
            """
        )
        write_manifest(con, SAMPLE_CSV.name, rows, True)
        # The expected sums, straight from the file: forces only (the seed's names with an
        # area code), 2015/16 Q4 and 2016/17 Q1-Q3.
        expected = dict(
            con.execute(
                """
                with variants as (
                    select lower(trim(regexp_replace(name_variant, '\\s+', ' ', 'g'))) as name_key
                    from read_csv(?, header = true, all_varchar = true) where area_code is not null
                )
                select offence_code, sum(replace(number_of_offences, ',', '')::bigint)
                from raw.home_office__recorded_crime
                where lower(trim(regexp_replace(force_name, '\\s+', ' ', 'g'))) in (select name_key from variants)
                  and offence_code in ('8L', '8Q')
                  and ((left(financial_year, 4) = '2015' and financial_quarter = '4')
                       or (left(financial_year, 4) = '2016' and financial_quarter in ('1', '2', '3')))
                group by 1
                """,
                [str(PROJECT_ROOT / "dbt_project" / "seeds" / "force_name_variants.csv")],
            ).fetchall()
        )
    finally:
        con.close()

    transform.build(db, settings())

    got = dict(
        query(
            db,
            "select offence_group, offences from marts.recorded_crime_12m "
            "where area_code = ? and period_end = date '2016-12-31'",
            [NATIONAL_CODE],
        )
    )
    assert got["harassment"] == expected["8L"] == 202_755
    assert got["stalking"] == expected["8Q"] == 4_613
    assert query(db, "select count(*) from marts.recorded_crime_quarterly where offence_code = '9A'") == [
        (0,)
    ]
    assert query(
        db, "select count(distinct area_code) from marts.recorded_crime_quarterly where area_type = 'force'"
    ) == [(44,)]
