"""The dbt staging layer, built by the real ``dbt build`` on a throwaway DuckDB file.

The raw layer is written here by hand, the way ingest leaves it: every raw table
the staging models read, with every value as text under its canonical column name
and the five load columns, most of them holding a few rows that look like the
publishers' files. The tests then read the staging views back and check what the
parsing made of the text: markers, corrections, names, code prefixes, periods.

A second pass runs ``dbt docs generate`` on the built file and checks that every
column of every staging view, and every column of every raw table, is documented.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
LOADED_AT = datetime(2024, 5, 1, 9, 30)
SHA = "0" * 64
LOAD_COLUMNS = ("_file_name", "_sheet", "_sha256", "_loaded_at", "_row_number")

# Each raw table ingest creates, with its canonical columns (all VARCHAR).
RAW_TABLES: dict[str, tuple[str, ...]] = {
    "home_office__recorded_crime": (
        "financial_year",
        "financial_quarter",
        "force_name",
        "offence_description",
        "offence_group",
        "offence_subgroup",
        "offence_code",
        "number_of_offences",
    ),
    "home_office__outcomes": (
        "financial_year",
        "financial_quarter",
        "force_name",
        "offence_code",
        "offence_description",
        "offence_group",
        "offence_subgroup",
        "offence_code_expired",
        "outcome_type",
        "outcome_description",
        "outcome_group",
        "outcomes_recorded_basis",
        "outcomes_closed_basis",
    ),
    "ons__pfa_recorded_crime": (
        "area_code",
        "area_name",
        "stalking_and_harassment",
        "total_recorded_crime_excluding_fraud",
        "period_label",
    ),
    "ons__pfa_rates": (
        "area_code",
        "area_name",
        "population",
        "population_mid_year",
        "stalking_and_harassment_rate",
        "period_label",
    ),
    "ons__appendix_recorded_crime": (
        "offence_code",
        "offence_category",
        "period_label",
        "offences",
        "release_label",
    ),
    "home_office__pfa_rolling": ("twelve_months_ending", "force_name", "region", "offence", "rolling_total"),
    "ons__population": ("area_code", "area_name", "geography", "mid_year", "sex", "age_group", "population"),
    "csew__prevalence": (
        "survey_year",
        "behaviour",
        "measure",
        "age_group",
        "sex",
        "percentage",
        "lower_ci",
        "upper_ci",
        "unweighted_base",
    ),
    "cps__vawg": ("financial_year", "cps_area", "offence", "prosecutions", "convictions", "conviction_rate"),
    "moj__court_outcomes": (
        "police_force_area",
        "year",
        "quarter",
        "type_of_defendant",
        "sex",
        "age_group",
        "age_range",
        "ethnicity",
        "court_type",
        "offence_type",
        "offence_group",
        "offence",
        "convicted",
        "sentenced",
        "outcome",
        "detailed_sentence",
        "custodial_sentence_length",
        "count",
    ),
    "moj__restraining_orders": (
        "year",
        "police_force_area",
        "offence",
        "orders_on_conviction",
        "orders_on_acquittal",
    ),
}

# ------------------------------------------------------------------ raw rows
# Each row is (file name, sheet, row number, {column: text}); absent columns are
# written as empty text, as ingest does for a column a file does not have.

PRC = "prc-pfa-mar2013-onwards-tables-300125.ods"
OUTCOMES = "prc-outcomes-open-data-mar2017-tables-240724.xlsx"
ONS_PFA = "pfa-tables-ye-dec-2016.xlsx"
ONS_MYE = "mye-pfa-2016.csv"
ONS_MYE_LONG = "mye-by-sex-and-age-2016.xlsx"
CSEW = "csew-stalking.csv"
CPS = "cps-vawg-2015-16.csv"
MOJ = "obo_2010_2016.zip"
MOJ_RO = "restraining-orders-2016.csv"


def prc(quarter: str, force: str, code: str, count: str) -> dict:
    return {
        "financial_year": "2016/17",
        "financial_quarter": quarter,
        "force_name": force,
        "offence_description": f"offence {code}",
        "offence_group": "Violence against the person",
        "offence_subgroup": "Stalking and harassment",
        "offence_code": code,
        "number_of_offences": count,
    }


def outcome(force: str, code: str, outcome_type: str, recorded: str, closed: str, expired: str = "") -> dict:
    return {
        "financial_year": "2016-17",
        "financial_quarter": "3",
        "force_name": force,
        "offence_code": code,
        "offence_description": f"offence {code}",
        "offence_group": "Violence against the person",
        "offence_subgroup": "Stalking and harassment",
        "offence_code_expired": expired,
        "outcome_type": outcome_type,
        "outcome_description": f"outcome {outcome_type}",
        "outcome_group": "Investigation complete – no suspect identified",
        "outcomes_recorded_basis": recorded,
        "outcomes_closed_basis": closed,
    }


def court(
    row: int, force: str, offence: str, convicted: str, outcome_label: str, count: str, **more
) -> tuple:
    values = {
        "police_force_area": force,
        "year": "2016",
        "quarter": "",
        "type_of_defendant": "01: Person",
        "sex": "01: Male",
        "age_group": "03: Adults",
        "age_range": "06: 25+",
        "ethnicity": "01: White",
        "court_type": "02: Magistrates Court",
        "offence_type": "03: Summary non-motoring",
        "offence_group": "01: Violence against the person",
        "offence": offence,
        "convicted": convicted,
        "sentenced": "01: Sentenced" if convicted.endswith(": Convicted") else "02: Not sentenced",
        "outcome": outcome_label,
        "detailed_sentence": "",
        "custodial_sentence_length": "",
        "count": count,
    }
    values.update(more)
    return (MOJ, "court_outcomes_2016.csv", row, values)


ONS_P3 = "policeforceareatablesyearendingmarch2018.xlsx"
APPENDIX = "appendix-tables-year-ending-september-2025.xlsx"
ROLLING = "rec-crime-pfa.csv"


def appendix(code: str, category: str, period: str, offences: str) -> dict:
    return {
        "offence_code": code,
        "offence_category": category,
        "period_label": period,
        "offences": offences,
        "release_label": "year ending September 2025",
    }


def rolling(ending: str, force: str, offence: str, total: str) -> dict:
    return {
        "twelve_months_ending": ending,
        "force_name": force,
        "region": "",
        "offence": offence,
        "rolling_total": total,
    }


RAW_ROWS: dict[str, list[tuple]] = {
    "ons__pfa_rates": [
        (
            ONS_P3,
            "Table P3",
            7,
            {
                "area_code": "K04000001",
                "area_name": "ENGLAND AND WALES10",
                "population": "58744600",
                "population_mid_year": "2017",
                "stalking_and_harassment_rate": "5.657150245056587",
                "period_label": "year ending March 2018",
            },
        ),
        (
            ONS_P3,
            "Table P3",
            43,
            {
                "area_code": "E23000034",
                "area_name": "City of London11",
                "population": "7700",
                "population_mid_year": "2017",
                "stalking_and_harassment_rate": "+",
                "period_label": "year ending March 2018",
            },
        ),
    ],
    "ons__appendix_recorded_crime": [
        (APPENDIX, "Table_A5a", 60, appendix("8Q", "Stalking [note 25,27]", "Apr 2008 to Mar 2009", "[x]")),
        (APPENDIX, "Table_A5a", 60, appendix("8Q", "Stalking [note 25,27]", "Apr 2016 to Mar 2017", "5424")),
        (
            APPENDIX,
            "Table_A5a",
            60,
            appendix("8Q", "Stalking [note 25,27]", "Oct 2024 to Sep 2025", "135590"),
        ),
        (
            APPENDIX,
            "Table_A5a",
            57,
            appendix("", "Stalking and harassment [note 22, 27]", "Apr 2021 to Mar 2022", "716824"),
        ),
        (APPENDIX, "Table_A5a", 11, appendix("1", "Murder [note 3]", "Apr 2016 to Mar 2017", "589")),
    ],
    "home_office__pfa_rolling": [
        (ROLLING, None, 2, rolling("31/12/2018", "Surrey", "Stalking and harassment", "4964")),
        (ROLLING, None, 3, rolling("30/12/2017", "Surrey", "Stalking and harassment", "4366")),
        (ROLLING, None, 4, rolling("31/12/2018", "Action Fraud", "Action Fraud", "300000")),
        (ROLLING, None, 5, rolling("31/12/2018", "Kent", "Miscellaneous crimes against society", "-3")),
    ],
    "home_office__recorded_crime": [
        (PRC, "2016-17", 2, prc("3", "Kent", "8L", "1,234")),
        (PRC, "2016-17", 3, prc("3", "  devon  &   CORNWALL ", "8Q", "-4")),
        (PRC, "2016-17", 4, prc("3", "London, City of", "8L", "[x]")),
        (PRC, "2016-17", 5, prc("3", "Action Fraud", "8L", "n/a")),
        (PRC, "2016-17", 6, prc("3", "Kent", "9A", "17")),
    ],
    "home_office__outcomes": [
        (OUTCOMES, "Outcomes_open_data", 5, outcome("Kent", "8Q", "", "12", "3")),
        (OUTCOMES, "Outcomes_open_data", 6, outcome("Kent", "8Q", "1", "1,204", "-2")),
        (
            OUTCOMES,
            "Outcomes_open_data",
            7,
            outcome("Sussex", "8L", "16", "N/A - offence code expired", "na", "x"),
        ),
        (
            OUTCOMES,
            "Outcomes_open_data",
            8,
            outcome("Devon & Cornwall", "105A", "18", "N/A - data not provided", "9"),
        ),
    ],
    "ons__pfa_recorded_crime": [
        (
            ONS_PFA,
            "Table P1",
            8,
            {
                "area_code": "K04000001",
                "area_name": "England and Wales",
                "stalking_and_harassment": "207,368",
                "total_recorded_crime_excluding_fraud": "4,868,751",
                "period_label": "year ending December 2016",
            },
        ),
        (
            ONS_PFA,
            "Table P1",
            9,
            {
                "area_code": "E23000034",
                "area_name": "London, City of",
                "stalking_and_harassment": "[c]",
                "period_label": "Year ending December 2016",
            },
        ),
        (
            ONS_PFA,
            "Table P1",
            10,
            {
                "area_code": "e12000007",
                "area_name": "London",
                "stalking_and_harassment": "40,001",
                "period_label": "year ending December 2016",
            },
        ),
    ],
    "ons__population": [
        (
            ONS_MYE,
            None,
            2,
            {
                "area_code": "E23000032",
                "area_name": "Kent",
                "geography": "Police Force Area",
                "mid_year": "2016",
                "population": "1,846,478",
            },
        ),
        (
            ONS_MYE,
            None,
            3,
            {
                "area_code": "K04000001",
                "area_name": "England and Wales",
                "geography": "Country",
                "mid_year": "2016",
                "population": "58,381,217",
            },
        ),
        # the platform's long form: sex and age group columns, each spelt its own way
        *[
            (
                ONS_MYE_LONG,
                "Mid-2016",
                row_number,
                {
                    "area_code": "K04000001",
                    "area_name": "England and Wales",
                    "geography": "Country",
                    "mid_year": "2016",
                    "sex": sex,
                    "age_group": age_group,
                    "population": population,
                },
            )
            for row_number, sex, age_group, population in (
                (4, "Males", "16 to 59", "17,150,000"),
                (5, "FEMALE", "Aged 16-59", "17,250,000"),
                (6, "All persons", "16 – 59", "34,400,000"),
            )
        ],
    ],
    "csew__prevalence": [
        (
            CSEW,
            None,
            2,
            {
                "survey_year": "2015/16",
                "behaviour": "Stalking and/or harassment",
                "measure": "Since the age of 16",
                "age_group": "16-59",
                "sex": "All adults",
                "percentage": "15",
                "lower_ci": "14.5",
                "upper_ci": "15.5",
                "unweighted_base": "21,000",
            },
        ),
        (
            CSEW,
            None,
            3,
            {
                "survey_year": "year ending March 2016",
                "behaviour": "Stalking",
                "measure": "In the last year",
                "age_group": "16 to 59",
                "sex": "Women",
                "percentage": "[c]",
            },
        ),
    ],
    "cps__vawg": [
        (
            CPS,
            None,
            2,
            {
                "financial_year": "2015-16",
                "cps_area": "National",
                "offence": "STALKING",
                "prosecutions": "1,102",
                "convictions": "800",
                "conviction_rate": "72.6%",
            },
        ),
        (
            CPS,
            None,
            3,
            {
                "financial_year": "2015-16",
                "cps_area": "Wales/Cymru",
                "offence": "Harassment",
                "prosecutions": "..",
                "convictions": "..",
                "conviction_rate": "..",
            },
        ),
        (
            CPS,
            None,
            4,
            {
                "financial_year": "2015-16",
                "cps_area": "thames & chiltern",
                "offence": "Stalking and harassment",
                "prosecutions": "900",
                "convictions": "700",
                "conviction_rate": "77.8",
            },
        ),
    ],
    "moj__court_outcomes": [
        court(
            2,
            "Devon & Cornwall",
            "Protection from Harassment Act 1997 S.2 - Summary offence of harassment",
            "01: Convicted",
            "15: Immediate custody",
            "12",
            detailed_sentence="01: Immediate custody",
            custodial_sentence_length="03: Up to 6 months",
        ),
        court(
            3,
            "Metropolitan",
            "8Q Stalking involving fear of violence",
            "02: Not convicted",
            "03: Dismissed",
            "4",
            quarter="Q2",
            sex="02 Female",
        ),
        court(4, "Not known", "105 Common assault and battery", "01: Convicted", "12: Fine", "-1"),
        court(5, "Kent", "Breach of a restraining order", "01: Convicted", "13: Community sentence", "[z]"),
    ],
    "moj__restraining_orders": [
        (
            MOJ_RO,
            None,
            2,
            {
                "year": "2016",
                "police_force_area": "Kent",
                "offence": None,
                "orders_on_conviction": "1,021",
                "orders_on_acquittal": "96",
            },
        ),
        (
            MOJ_RO,
            None,
            3,
            {
                "year": "2016",
                "police_force_area": "Dyfed Powys",
                "offence": "Breach of a restraining order",
                "orders_on_conviction": "41",
                "orders_on_acquittal": "[c]",
            },
        ),
    ],
}

MANIFEST = [
    (PRC, "2016-17", "home_office_recorded_crime", "home_office_prc_pfa_v1", 5, "2016/17"),
    (OUTCOMES, "Outcomes_open_data", "home_office_outcomes", "home_office_outcomes_a", 4, "2016/17"),
    (ONS_PFA, "Table P1", "ons_pfa_recorded_crime", "ons_pfa_tables_v1", 3, "year ending December 2016"),
    (ONS_MYE, None, "ons_population", "ons_mye_pfa_v1", 2, "2016"),
    (ONS_MYE_LONG, "Mid-2016", "ons_population", "ons_mye_pfa_v1", 3, "2016"),
    (CSEW, None, "csew_prevalence", "csew_prevalence_v1", 2, "2015/16, 2016/17"),
    (CPS, None, "cps_vawg", "cps_vawg_v1", 3, "2015/16"),
    (MOJ, "court_outcomes_2016.csv", "moj_court_outcomes", "moj_court_outcomes_pfa_v1", 4, "2016"),
    (MOJ_RO, None, "moj_restraining_orders", "moj_restraining_orders_v1", 2, "2016"),
]


def sha_of(file_name: str) -> str:
    """A stand-in SHA-256 per file: each file its own, as ingest records them."""
    return hashlib.sha256(file_name.encode()).hexdigest()


def write_raw_layer(db: Path) -> None:
    """Every raw table and bookkeeping table ingest creates, with the rows above."""
    con = duckdb.connect(str(db))
    try:
        con.execute("create schema raw")
        for table, columns in RAW_TABLES.items():
            con.execute(
                f"""
                create table raw.{table} (
                    {", ".join(f'"{name}" varchar' for name in columns)},
                    _file_name varchar, _sheet varchar, _sha256 varchar,
                    _loaded_at timestamp, _row_number bigint
                )
                """
            )
            names = [*columns, *LOAD_COLUMNS]
            rows = [
                [values.get(name, "") for name in columns]
                + [file_name, sheet, sha_of(file_name), LOADED_AT, row_number]
                for file_name, sheet, row_number, values in RAW_ROWS.get(table, [])
            ]
            if rows:
                con.executemany(
                    f"insert into raw.{table} ({', '.join(f'{chr(34)}{n}{chr(34)}' for n in names)}) "
                    f"values ({', '.join('?' for _ in names)})",
                    rows,
                )
        con.execute(
            """
            create table raw._files (
                file_name varchar, file_path varchar, sheet varchar, source varchar, layout varchar,
                sha256 varchar, size_bytes bigint, rows bigint, header_row integer,
                is_synthetic boolean, preamble varchar, loaded_at timestamp, periods varchar
            )
            """
        )
        con.executemany(
            "insert into raw._files values (?, ?, ?, ?, ?, ?, 1000, ?, 1, false, null, ?, ?)",
            [
                [name, f"/data/raw/{name}", sheet, source, layout, sha_of(name), rows, LOADED_AT, periods]
                for name, sheet, source, layout, rows, periods in MANIFEST
            ],
        )
        con.execute(
            """
            create table raw._release_changes (
                source varchar, period varchar, previous_file varchar, previous_sha256 varchar,
                new_file varchar, new_sha256 varchar, rows_added bigint, rows_removed bigint,
                rows_revised bigint, count_change bigint, detected_at timestamp
            )
            """
        )
        con.execute(
            "insert into raw._release_changes values ('home_office_outcomes', '2016/17', "
            "'prc-outcomes-open-data-mar2017-tables-241023.xlsx', ?, ?, ?, 0, 0, 1, 6, ?)",
            ["1" * 64, OUTCOMES, SHA, LOADED_AT],
        )
        con.execute(
            """
            create table raw._revised_cells (
                source varchar, period varchar, new_file varchar, row_key varchar, column_name varchar,
                previous_value varchar, new_value varchar, detected_at timestamp
            )
            """
        )
        con.execute(
            "insert into raw._revised_cells values ('home_office_outcomes', '2016/17', ?, "
            "'2016/17|3|Kent|8Q|1', 'Outcomes for offences that were recorded in the quarter', "
            "'1,198', '1,204', ?)",
            [OUTCOMES, LOADED_AT],
        )
    finally:
        con.close()


# ---------------------------------------------------------------- running dbt


def run_dbt(command: list[str], db: Path, work: Path) -> subprocess.CompletedProcess:
    """One dbt command on ``db`` in a subprocess, with this run's own target and log folders."""
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [
            str(dbt),
            *command,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--no-partial-parse",
        ],
        env={
            **os.environ,
            "HSINSIGHT_DB": str(db),
            # a handful of hand-written rows cannot add up to the published figures
            "HSINSIGHT_RECONCILIATION_SEVERITY": "warn",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
            "DBT_USE_COLORS": "false",
        },
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(database, dbt work folder) after a successful ``dbt build``."""
    work = tmp_path_factory.mktemp("staging")
    db = work / "hsinsight.duckdb"
    write_raw_layer(db)
    completed = run_dbt(["build"], db, work)
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    return db, work


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def one_row(db: Path, sql: str) -> tuple:
    rows = query(db, sql)
    assert len(rows) == 1, rows
    return rows[0]


# ------------------------------------------------------------------------ tests

STAGING_VIEWS = {
    "stg_home_office__recorded_crime",
    "stg_home_office__pfa_rolling",
    "stg_ons__pfa_rates",
    "stg_ons__appendix_recorded_crime",
    "stg_home_office__outcomes",
    "stg_ons__pfa_recorded_crime",
    "stg_ons__population",
    "stg_csew__prevalence",
    "stg_cps__vawg",
    "stg_moj__court_outcomes",
    "stg_moj__restraining_orders",
    "stg_hsinsight__files",
    "stg_hsinsight__release_changes",
    "stg_hsinsight__revised_cells",
}


#: Staging models parsed once into a table: the two sources with millions of rows.
STAGING_TABLES = {"stg_home_office__outcomes", "stg_moj__court_outcomes"}


def test_every_staging_model_is_a_view_with_one_row_per_raw_row(built):
    """Views, except the two large sources, which are tables (parsed once, not once per
    test and reader); either way one row per raw row."""
    db, _ = built
    kinds = dict(
        query(
            db, "select table_name, table_type from information_schema.tables where table_schema = 'staging'"
        )
    )
    assert {name: kinds.get(name) for name in STAGING_VIEWS} == {
        name: "BASE TABLE" if name in STAGING_TABLES else "VIEW" for name in STAGING_VIEWS
    }
    for table, rows in RAW_ROWS.items():
        source, entity = table.split("__")
        model = f"stg_{source}__{entity}"
        assert one_row(db, f"select count(*) from staging.{model}") == (len(rows),), model


def test_markers_are_null_with_the_marker_kept_in_any_case(built):
    db, _ = built
    assert one_row(
        db,
        "select offences, suppression_marker from staging.stg_home_office__recorded_crime where _row_number = 4",
    ) == (None, "[x]")
    # `n/a` is a marker whatever its case, and is reported in the variable's spelling
    assert one_row(
        db,
        "select offences, suppression_marker from staging.stg_home_office__recorded_crime where _row_number = 5",
    ) == (None, "N/A")
    assert one_row(
        db,
        """
        select outcomes_recorded_basis, outcomes_recorded_basis_marker,
               outcomes_closed_basis, outcomes_closed_basis_marker, is_offence_code_expired
        from staging.stg_home_office__outcomes where _row_number = 7
        """,
    ) == (None, "N/A - Offence code expired", None, "NA", True)
    assert one_row(
        db,
        "select stalking_and_harassment, stalking_and_harassment_marker "
        "from staging.stg_ons__pfa_recorded_crime where area_code = 'E23000034'",
    ) == (None, "[c]")
    assert one_row(
        db,
        "select prosecutions, prosecutions_marker, conviction_rate, conviction_rate_marker "
        "from staging.stg_cps__vawg where cps_area_code = 'cps_cymru_wales'",
    ) == (None, "..", None, "..")
    assert one_row(
        db, "select prevalence, prevalence_marker from staging.stg_csew__prevalence where sex = 'women'"
    ) == (None, "[c]")
    assert one_row(
        db, "select defendants, defendants_marker from staging.stg_moj__court_outcomes where _row_number = 5"
    ) == (None, "[z]")
    assert one_row(
        db,
        "select orders_on_acquittal, orders_on_acquittal_marker "
        "from staging.stg_moj__restraining_orders where _row_number = 3",
    ) == (None, "[c]")
    # no marker anywhere became a zero
    assert query(db, "select count(*) from staging.stg_home_office__recorded_crime where offences = 0") == [
        (0,)
    ]


def test_negative_corrections_and_separators_are_kept(built):
    db, _ = built
    assert one_row(
        db, "select area_code, offences from staging.stg_home_office__recorded_crime where _row_number = 3"
    ) == ("E23000035", -4)
    assert one_row(
        db, "select offences from staging.stg_home_office__recorded_crime where _row_number = 2"
    ) == (1234,)
    assert one_row(
        db,
        "select outcomes_recorded_basis, outcomes_closed_basis "
        "from staging.stg_home_office__outcomes where _row_number = 6",
    ) == (1204, -2)
    assert one_row(db, "select defendants from staging.stg_moj__court_outcomes where _row_number = 4") == (
        -1,
    )
    assert one_row(
        db, "select population from staging.stg_ons__population where area_code = 'E23000032'"
    ) == (1_846_478,)


def test_outcome_types_blank_is_not_yet_assigned(built):
    db, _ = built
    rows = query(
        db,
        "select _row_number, outcome_type, outcome_group_key, is_assigned_outcome, offence_group "
        "from staging.stg_home_office__outcomes order by _row_number",
    )
    assert rows == [
        (5, 0, "not_yet_assigned", False, "stalking"),
        (6, 1, "charged_summonsed", True, "stalking"),
        (7, 16, "evidential_difficulties_victim_does_not_support", True, "harassment"),
        (8, 18, "no_suspect_identified", True, None),  # 105A is outside the platform
    ]
    assert one_row(
        db, "select distinct financial_year, period_end from staging.stg_home_office__outcomes"
    ) == ("2016/17", date(2016, 12, 31))


def test_names_are_mapped_to_codes(built):
    db, _ = built
    assert query(
        db,
        "select _row_number, area_code, reporting_body_type from staging.stg_home_office__recorded_crime "
        "order by _row_number",
    ) == [
        (2, "E23000032", "police_force_area"),
        (3, "E23000035", "police_force_area"),
        (4, "E23000034", "police_force_area"),
        (5, None, "central_fraud_body"),
        (6, "E23000032", "police_force_area"),
    ]
    assert query(
        db,
        "select cps_area, cps_area_code, area_type, offence from staging.stg_cps__vawg order by _row_number",
    ) == [
        ("National", "K04000001", "national", "stalking"),
        ("Wales/Cymru", "cps_cymru_wales", "cps_area", "harassment"),
        ("thames & chiltern", "cps_thames_and_chiltern", "cps_area", "stalking_and_harassment"),
    ]
    assert query(
        db,
        "select police_force_area, area_code, reporting_body_type from staging.stg_moj__court_outcomes "
        "order by _row_number",
    ) == [
        ("Devon & Cornwall", "E23000035", "police_force_area"),
        ("Metropolitan", "E23000001", "police_force_area"),
        ("Not known", None, "unknown_area"),
        ("Kent", "E23000032", "police_force_area"),
    ]
    assert query(
        db, "select area_code, area_type from staging.stg_ons__pfa_recorded_crime order by _row_number"
    ) == [("K04000001", "national"), ("E23000034", "force"), ("E12000007", "region")]
    assert one_row(
        db,
        "select area_code from staging.stg_moj__restraining_orders where police_force_area = 'Dyfed Powys'",
    ) == ("W15000004",)


def test_moj_code_prefixes_are_split(built):
    db, _ = built
    assert one_row(
        db,
        """
        select sex_code, sex, age_range_code, age_range, court_type_code, court_type,
               offence_group_code, offence_group, convicted_code, convicted, is_convicted,
               sentenced_code, sentenced, is_sentenced, outcome_code, outcome, disposal,
               detailed_sentence_code, detailed_sentence,
               custodial_sentence_length_code, custodial_sentence_length
        from staging.stg_moj__court_outcomes where _row_number = 2
        """,
    ) == (
        "01", "Male", "06", "25+", "02", "Magistrates Court",
        "01", "Violence against the person", "01", "Convicted", True,
        "01", "Sentenced", True, "15", "Immediate custody", "Immediate custody",
        "01", "Immediate custody",
        "03", "Up to 6 months",
    )  # fmt: skip
    # an older-style prefix without a colon, a quarter, and a defendant not convicted
    assert one_row(
        db,
        "select quarter, sex_code, sex, is_convicted, is_sentenced, disposal "
        "from staging.stg_moj__court_outcomes where _row_number = 3",
    ) == (2, "02", "Female", False, False, None)


def test_offence_sections_and_unknown_labels(built):
    db, _ = built
    assert query(
        db,
        """
        select _row_number, offence_code, offence, is_known_offence_label, offence_section, platform_offence_group
        from staging.stg_moj__court_outcomes order by _row_number
        """,
    ) == [
        (
            2,
            None,
            "Protection from Harassment Act 1997 S.2 - Summary offence of harassment",
            True,
            "s2",
            "harassment",
        ),
        (3, "8Q", "Stalking involving fear of violence", True, "s4A_fear_of_violence", "stalking"),
        # an offence the seed does not list stays, with its code, and no section
        (4, "105", "Common assault and battery", False, None, None),
        (
            5,
            None,
            "Breach of a restraining order",
            True,
            "breach_of_restraining_order",
            "breach_of_restraining_order",
        ),
    ]
    assert query(
        db,
        "select is_all_offences, offence, offence_section from staging.stg_moj__restraining_orders "
        "order by _row_number",
    ) == [(True, None, None), (False, "Breach of a restraining order", "breach_of_restraining_order")]


def test_periods_and_rates_are_parsed(built):
    db, _ = built
    assert one_row(
        db,
        "select period_label, period_start, period_end from staging.stg_ons__pfa_recorded_crime "
        "where area_code = 'E23000034'",
    ) == ("year ending December 2016", date(2016, 1, 1), date(2016, 12, 31))
    assert query(
        db,
        "select survey_year, survey_year_end, age_group from staging.stg_csew__prevalence order by _row_number",
    ) == [("2015/16", 2016, "16-59"), ("2015/16", 2016, "16-59")]
    rates = dict(query(db, "select cps_area_code, round(conviction_rate, 6) from staging.stg_cps__vawg"))
    assert rates == {"K04000001": 0.726, "cps_cymru_wales": None, "cps_thames_and_chiltern": 0.778}
    assert one_row(
        db,
        "select round(prevalence, 6), round(prevalence_lower_ci, 6) from staging.stg_csew__prevalence "
        "where sex = 'all_adults'",
    ) == (0.15, 0.145)
    assert one_row(
        db,
        "select mid_year, reference_date from staging.stg_ons__population "
        "where area_code = 'K04000001' and sex = 'persons' and age_group = 'all_ages'",
    ) == (2016, date(2016, 6, 30))


def test_the_real_tables_periods_markers_and_groups_are_parsed(built):
    """The ONS Appendix and rates tables and the Home Office rolling table, as their
    real releases write them."""
    db, _ = built
    appendix = query(
        db,
        "select period_start, period_end, offence_group, offences, offences_marker "
        "from staging.stg_ons__appendix_recorded_crime order by _row_number, period_end",
    )
    assert appendix == [
        (date(2016, 4, 1), date(2017, 3, 31), None, 589, None),  # murder: not the platform's
        (
            date(2021, 4, 1),
            date(2022, 3, 31),
            "stalking_and_harassment",
            716824,
            None,
        ),  # the subtotal, no code
        (date(2008, 4, 1), date(2009, 3, 31), None, None, "[x]"),  # stalking had no code yet
        (date(2016, 4, 1), date(2017, 3, 31), "stalking", 5424, None),
        (date(2024, 10, 1), date(2025, 9, 30), "stalking", 135590, None),  # a rolling 12-month column
    ]
    rolling = query(
        db,
        "select period_end, area_code, offence_group, rolling_total, release_label "
        "from staging.stg_home_office__pfa_rolling order by _row_number",
    )
    assert rolling == [
        (date(2018, 12, 31), "E23000031", "stalking_and_harassment", 4964, "year ending December 2018"),
        (date(2017, 12, 31), "E23000031", "stalking_and_harassment", 4366, "year ending December 2018"),
        (date(2018, 12, 31), None, None, 300000, "year ending December 2018"),
        (date(2018, 12, 31), "E23000032", None, -3, "year ending December 2018"),
    ]
    rates = query(
        db,
        "select area_code, stalking_and_harassment_rate, stalking_and_harassment_rate_marker "
        "from staging.stg_ons__pfa_rates order by _row_number",
    )
    assert rates[1] == ("E23000034", None, "+") and round(rates[0][1], 3) == 5.657


def test_population_sex_and_age_group_are_normalised(built):
    """A table without sex and age group columns is persons of all ages; the long
    form's spellings become `men`, `women`, `persons` and `16-59`."""
    db, _ = built
    assert query(
        db,
        "select area_code, sex, age_group, population from staging.stg_ons__population "
        "order by _file_name desc, _row_number",
    ) == [
        ("E23000032", "persons", "all_ages", 1_846_478),
        ("K04000001", "persons", "all_ages", 58_381_217),
        ("K04000001", "men", "16-59", 17_150_000),
        ("K04000001", "women", "16-59", 17_250_000),
        ("K04000001", "persons", "16-59", 34_400_000),
    ]


def test_bookkeeping_tables_are_staged(built):
    db, _ = built
    assert one_row(
        db, f"select periods, period_list from staging.stg_hsinsight__files where file_name = '{CSEW}'"
    ) == ("2015/16, 2016/17", ["2015/16", "2016/17"])
    assert one_row(
        db, "select rows_revised, count_change, has_row_changes from staging.stg_hsinsight__release_changes"
    ) == (1, 6, True)
    assert one_row(db, "select value_change from staging.stg_hsinsight__revised_cells") == (6.0,)
    # the marts still read the manifest through the renamed staging model
    assert one_row(db, "select count(*) from marts.source_files") == (len(MANIFEST),)


def test_every_staging_and_raw_column_is_documented(built):
    """The columns dbt documents (manifest) are exactly the columns the views and raw
    tables have (catalog), and each has a description."""
    db, work = built
    completed = run_dbt(["docs", "generate"], db, work)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    manifest = json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((work / "target" / "catalog.json").read_text(encoding="utf-8"))

    problems = []
    documented = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "staging"
    ]
    assert {node["name"] for node in documented} == STAGING_VIEWS
    catalogued = {**catalog["nodes"], **catalog["sources"]}
    for node in [*documented, *manifest["sources"].values()]:
        actual = {name.lower() for name in catalogued[node["unique_id"]]["columns"]}
        declared = {name.lower() for name in node["columns"]}
        if actual != declared:
            problems.append(
                f"{node['name']}: undocumented {sorted(actual - declared)}, not in the relation {sorted(declared - actual)}"
            )
        problems += [
            f"{node['name']}.{name}: no description"
            for name, column in node["columns"].items()
            if not (column.get("description") or "").strip()
        ]
        if not (node.get("description") or "").strip():
            problems.append(f"{node['name']}: no description")
    assert not problems, "\n".join(problems)
