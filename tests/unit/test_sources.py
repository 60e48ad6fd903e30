"""Every source layout in every accepted file type, and every kind of bad input.

The fixtures (tests/source_fixtures.py) copy the official layouts: title and notes
rows above the header, notes sheets in workbooks, suppression markers.
"""

from __future__ import annotations

import csv
import hashlib
import zipfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import isolated_settings
from hsinsight import ingest
from hsinsight.errors import InputFileError
from hsinsight.sources import LAYOUTS
from source_fixtures import FIXTURES, ONS_MYE_BY_SEX_AND_AGE, Fixture, prc, with_rows, write_table


@pytest.fixture
def cfg(tmp_path):
    return isolated_settings(tmp_path / "settings")


def ingest_folder(raw: Path, tmp_path: Path, cfg, previous: Path | None = None) -> tuple[dict, Path]:
    """Ingest the folder ``raw`` into a new build file under ``tmp_path``."""
    build = tmp_path / f"build-{len(list(tmp_path.glob('build-*')))}" / "hsinsight.duckdb"
    build.parent.mkdir()
    return ingest.ingest_directory(raw, build, cfg, previous=previous), build


def ingest_files(tmp_path: Path, cfg, files: dict[str, list[list[str]]], previous: Path | None = None):
    """Write ``files`` (name -> cells) into a fresh raw folder and ingest them into a new build."""
    raw = tmp_path / f"raw-{len(list(tmp_path.glob('raw-*')))}"
    raw.mkdir()
    for name, cells in files.items():
        write_table(raw / name, cells)
    report, build = ingest_folder(raw, tmp_path, cfg, previous)
    return report, build, raw


def query(db: Path, sql: str, params=None):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_every_layout_has_a_fixture():
    assert {layout.layout for layout in LAYOUTS} == set(FIXTURES)


# ------------------------------------------------------------------ parsing


CASES = [(name, suffix) for name in FIXTURES for suffix in (".csv", ".xlsx", ".ods")] + [
    ("moj_court_outcomes_pfa_v1", ".zip"),
    ("moj_restraining_orders_v1", ".zip"),
]


@pytest.mark.parametrize("layout_id,suffix", CASES, ids=[f"{a}{b}" for a, b in CASES])
def test_each_layout_in_each_file_type_lands_as_written(tmp_path, cfg, layout_id, suffix):
    fixture: Fixture = FIXTURES[layout_id]
    report, db, raw = ingest_files(tmp_path, cfg, {f"official{suffix}": fixture.cells()})
    (loaded,) = report["files"]
    assert loaded["layout"] == layout_id and loaded["rows"] == len(fixture.rows) * max(fixture.melt, 1)
    assert loaded["action"] == "loaded"
    # a wide table's rows repeat each cell once per period column: read the first
    for column, header in fixture.columns.items():
        position = fixture.header.index(header)
        got = query(
            db,
            f'select "{column}" from raw.{fixture.raw_table} '
            f"qualify row_number() over (partition by _row_number) = 1 order by _row_number",
        )
        assert [g[0] or "" for g in got] == [r[position] for r in fixture.rows], column
    rows = query(db, f"select _row_number from raw.{fixture.raw_table} order by 1")
    header_row = len(fixture.title) + (2 if fixture.title else 1) + (0 if fixture.title else 1)
    # the header sits below the title rows and one blank row; data follows it
    assert rows[0][0] == header_row + 1
    manifest = query(db, "select file_name, layout, rows, sha256, size_bytes, periods from raw._files")
    assert manifest[0][:3] == (f"official{suffix}", layout_id, len(fixture.rows) * max(fixture.melt, 1))
    assert manifest[0][3] == hashlib.sha256((raw / f"official{suffix}").read_bytes()).hexdigest()
    assert manifest[0][4] == (raw / f"official{suffix}").stat().st_size and manifest[0][5]


def test_period_from_the_title_row(tmp_path, cfg):
    fixture = FIXTURES["ons_pfa_tables_v1"]
    _, db, _ = ingest_files(tmp_path, cfg, {"pfa.xlsx": fixture.cells()})
    assert query(db, "select distinct period_label from raw.ons__pfa_recorded_crime") == [
        ("year ending December 2016",)
    ]
    population = FIXTURES["ons_mye_pfa_v1"]
    _, db, _ = ingest_files(tmp_path, cfg, {"mye.ods": population.cells()})
    assert query(db, "select distinct mid_year from raw.ons__population") == [("2016",)]


def test_population_without_sex_and_age_columns_loads_as_before(tmp_path, cfg):
    fixture = FIXTURES["ons_mye_pfa_v1"]
    report, db, _ = ingest_files(tmp_path, cfg, {"mye.csv": fixture.cells()})
    assert [f["rows"] for f in report["files"]] == [len(fixture.rows)]
    assert query(
        db, "select area_code, sex, age_group, population from raw.ons__population order by _row_number"
    ) == [(r[0], None, None, r[3]) for r in fixture.rows]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".ods"])
def test_population_by_sex_and_age_group_lands_as_written(tmp_path, cfg, suffix):
    fixture = ONS_MYE_BY_SEX_AND_AGE
    report, db, _ = ingest_files(tmp_path, cfg, {f"mye{suffix}": fixture.cells()})
    (loaded,) = report["files"]
    assert (loaded["layout"], loaded["rows"], loaded["periods"]) == (
        "ons_mye_pfa_v1",
        len(fixture.rows),
        ["2016"],
    )
    got = query(
        db,
        "select area_code, sex, age_group, population, mid_year from raw.ons__population order by _row_number",
    )
    assert got == [(r[0], r[3], r[4], r[5], "2016") for r in fixture.rows]


def test_population_sex_and_age_group_join_the_key(tmp_path, cfg):
    """Same area, year, sex and age group twice is refused at the second row (the sex
    and age group are compared ignoring case and surrounding spaces); a row of the same
    area and year for another sex or age group is not a duplicate."""
    fixture = ONS_MYE_BY_SEX_AND_AGE
    repeated = ["K04000001", "England and Wales", "Country", " MALES ", "16-59", "17,150,001"]
    error = refused(tmp_path, cfg, {"mye.csv": [*fixture.cells(), repeated]})
    header_row = len(fixture.title) + 2
    assert Path(error.file).name == "mye.csv"
    assert (error.row, error.column) == (header_row + len(fixture.rows) + 1, "Code")
    assert f"duplicates row {header_row + 2}" in error.reason
    assert "'Code', 'mid_year', 'Sex', 'Age group'" in error.reason
    # without the sex and age group columns, one area and year is one row
    wide = FIXTURES["ons_mye_pfa_v1"]
    error = refused(tmp_path, cfg, {"wide.xlsx": [*wide.cells(), wide.rows[1]]})
    assert (error.row, error.column, error.sheet) == (
        len(wide.title) + 2 + len(wide.rows) + 1,
        "Code",
        "Data",
    )
    assert f"duplicates row {len(wide.title) + 2 + 2}" in error.reason


@pytest.mark.parametrize(
    "column,value,expected",
    [
        ("Sex", "Boys", "is not one of the expected values"),
        ("Sex", "", "is empty"),
        ("Age group", " ", "is empty"),
    ],
)
def test_population_sex_and_age_group_are_checked(tmp_path, cfg, column, value, expected):
    fixture = ONS_MYE_BY_SEX_AND_AGE
    row = list(fixture.rows[1])
    row[fixture.header.index(column)] = value
    error = refused(
        tmp_path, cfg, {"mye.csv": with_rows(fixture.layout, [fixture.rows[0], row], fixture.header)}
    )
    assert (error.row, error.column) == (len(fixture.title) + 4, column) and expected in error.reason


def test_period_missing_from_title_is_refused(tmp_path, cfg):
    fixture = FIXTURES["ons_pfa_tables_v1"]
    cells = [["Police recorded crime by police force area"], [], fixture.header, *fixture.rows]
    error = refused(tmp_path, cfg, {"pfa.csv": cells})
    assert error.row == 3 and "year ending December 2016" in error.reason


def test_suppression_markers_are_kept_as_written_never_zero(tmp_path, cfg):
    fixture = FIXTURES["home_office_outcomes_a"]
    _, db, _ = ingest_files(tmp_path, cfg, {"outcomes.xlsx": fixture.cells()})
    markers = query(
        db,
        "select outcomes_closed_basis from raw.home_office__outcomes "
        "where outcomes_closed_basis like 'N%' order by _row_number",
    )
    assert markers == [("N/A",), ("N/A - data not provided",)]


def test_rows_outside_the_platform_are_kept(tmp_path, cfg):
    fixture = FIXTURES["home_office_prc_pfa_v1"]
    _, db, _ = ingest_files(tmp_path, cfg, {"prc.csv": fixture.cells()})
    assert query(db, "select count(*) from raw.home_office__recorded_crime where offence_code = '53A'") == [
        (1,)
    ]


def test_every_raw_table_exists_even_when_its_source_is_absent(tmp_path, cfg):
    _, db, _ = ingest_files(tmp_path, cfg, {"prc.csv": FIXTURES["home_office_prc_pfa_v1"].cells()})
    tables = {
        r[0] for r in query(db, "select table_name from information_schema.tables where table_schema='raw'")
    }
    assert {layout.raw_table for layout in LAYOUTS} <= tables


# ------------------------------------------------------------------ bad input


def refused(tmp_path: Path, cfg, files: dict[str, list[list[str]]]) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        ingest_files(tmp_path, cfg, files)
    error = caught.value
    name = Path(error.file).name
    copies = sorted(cfg.quarantine_dir.glob(f"*-{name}"))
    assert copies, "a refused file is copied to the quarantine folder"
    reason = copies[0].with_name(copies[0].name + ".reason.txt").read_text()
    assert error.reason in reason
    return error


PRC = FIXTURES["home_office_prc_pfa_v1"]
OUT = FIXTURES["home_office_outcomes_a"]


def test_missing_column(tmp_path, cfg):
    header = [h for h in PRC.header if h != "Offence Code"]
    error = refused(tmp_path, cfg, {"prc.csv": with_rows(PRC.layout, [prc()[:6] + ["10"]], header)})
    assert error.column == "Offence Code" and error.row == 3 and "missing required column" in error.reason


def test_wrong_columns(tmp_path, cfg):
    error = refused(tmp_path, cfg, {"odd.csv": [["Force", "Crimes"], ["Kent", "3"]]})
    assert error.row == 1 and "no header row of a known layout" in error.reason


@pytest.mark.parametrize("value", ["12.5", "ten", "1 000", "3e2"])
def test_count_not_a_whole_number(tmp_path, cfg, value):
    error = refused(tmp_path, cfg, {"prc.csv": with_rows(PRC.layout, [prc(), prc(code="8Q", count=value)])})
    assert (error.row, error.column) == (5, "Number of Offences")
    assert repr(value) in error.reason and "whole number" in error.reason


def test_negative_quarter_is_kept_but_negative_twelve_months_refused(tmp_path, cfg):
    ok = [prc(quarter=str(q), count=c) for q, c in zip("1234", ["5", "-2", "3", "1"], strict=True)]
    report, db, _ = ingest_files(tmp_path, cfg, {"prc.csv": with_rows(PRC.layout, ok)})
    assert query(db, "select min(number_of_offences::int) from raw.home_office__recorded_crime") == [(-2,)]
    bad = [prc(quarter=str(q), count=c) for q, c in zip("1234", ["1", "-7", "2", "1"], strict=True)]
    error = refused(tmp_path, cfg, {"prc.csv": with_rows(PRC.layout, bad)})
    assert (error.row, error.column) == (7, "Number of Offences")
    assert "12 months" in error.reason and "-3" in error.reason


def test_negative_twelve_months_across_two_yearly_files(tmp_path, cfg):
    first = [prc(year="2015/16", quarter=str(q), count="1") for q in "1234"]
    second = [
        prc(year="2016/17", quarter=str(q), count=c) for q, c in zip("123", ["-4", "1", "1"], strict=True)
    ]
    error = refused(
        tmp_path, cfg, {"a.csv": with_rows(PRC.layout, first), "b.csv": with_rows(PRC.layout, second)}
    )
    assert Path(error.file).name == "b.csv" and error.row == 4


def test_negative_annual_total_refused(tmp_path, cfg):
    rows = [["2015-16", "Wessex", "Stalking", "-3", "2", "70"]]
    error = refused(tmp_path, cfg, {"cps.csv": with_rows("cps_vawg_v1", rows)})
    assert (error.row, error.column) == (4, "Prosecutions") and "negative" in error.reason
    assert "expected zero or more" in error.reason


def test_unknown_force(tmp_path, cfg):
    error = refused(tmp_path, cfg, {"prc.csv": with_rows(PRC.layout, [prc(force="Kent Constabulary X")])})
    assert (error.row, error.column) == (4, "Force Name") and "force_name_variants.csv" in error.reason


def test_unknown_cps_area(tmp_path, cfg):
    rows = [
        ["2015-16", "Wessex", "Stalking", "3", "2", "70"],
        ["2015-16", "Atlantis", "Stalking", "3", "2", "70"],
    ]
    error = refused(tmp_path, cfg, {"cps.xlsx": with_rows("cps_vawg_v1", rows)})
    assert (error.row, error.column, error.sheet) == (5, "CPS Area", "Data") and "'Atlantis'" in error.reason


def test_unknown_outcome_type(tmp_path, cfg):
    row = list(OUT.rows[0])
    row[8] = "1a"  # an alternate-offence type from the separate file
    error = refused(tmp_path, cfg, {"out.csv": with_rows(OUT.layout, [row])})
    assert (error.row, error.column) == (5, "Outcome Type") and "outcome type" in error.reason


def test_unknown_ons_area_code(tmp_path, cfg):
    rows = [["E23999999", "Nowhere", "1", "1", "1"]]
    error = refused(tmp_path, cfg, {"pfa.csv": with_rows("ons_pfa_tables_v1", rows)})
    assert error.column == "Area Code" and "ONS area code" in error.reason


def test_truncated_csv(tmp_path, cfg):
    raw = tmp_path / "cut"
    raw.mkdir()
    write_table(raw / "prc.csv", with_rows(PRC.layout, [prc(), prc(code="8Q")]))
    data = (raw / "prc.csv").read_bytes()
    (raw / "prc.csv").write_bytes(data[: data.rindex(b"8Q") + 2])  # stops inside the last row
    with pytest.raises(InputFileError) as caught:
        ingest_folder(raw, tmp_path, cfg)
    assert caught.value.row == 5 and "truncated" in caught.value.reason


@pytest.mark.parametrize("suffix", [".xlsx", ".ods", ".zip"])
def test_truncated_workbook_or_archive(tmp_path, cfg, suffix):
    raw = tmp_path / "cut"
    raw.mkdir()
    path = write_table(raw / f"official{suffix}", FIXTURES["moj_restraining_orders_v1"].cells())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError) as caught:
        ingest_folder(raw, tmp_path, cfg)
    assert "truncated" in caught.value.reason
    assert list(cfg.quarantine_dir.glob(f"*-official{suffix}.reason.txt"))


def test_utf16_refused_but_windows_1252_and_bom_accepted(tmp_path, cfg):
    cells = with_rows("moj_restraining_orders_v1", [["2015", "Dyfed Powys", "Tîm", "2", "1"]])
    text = "\n".join(",".join(r) for r in cells) + "\n"
    for name, encoding in (("cp.csv", "cp1252"), ("bom.csv", "utf-8-sig")):
        raw = tmp_path / name
        raw.mkdir()
        (raw / name).write_bytes(text.encode(encoding))
        _, build = ingest_folder(raw, tmp_path, cfg)
        assert query(build, "select offence from raw.moj__restraining_orders") == [("Tîm",)]
    raw = tmp_path / "utf16"
    raw.mkdir()
    (raw / "wide.csv").write_bytes(text.encode("utf-16"))
    with pytest.raises(InputFileError) as caught:
        ingest_folder(raw, tmp_path, cfg)
    assert caught.value.row == 1 and "UTF-8 or Windows-1252" in caught.value.reason


def test_users_file_is_never_moved_or_changed(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    path = write_table(raw / "prc.csv", with_rows(PRC.layout, [prc(count="x")]))
    before = path.read_bytes()
    with pytest.raises(InputFileError):
        ingest_folder(raw, tmp_path, cfg)
    assert path.read_bytes() == before
    (copy,) = [p for p in cfg.quarantine_dir.iterdir() if p.name.endswith("-prc.csv")]
    assert copy.read_bytes() == before


# ---------------------------------------------------------- manifest and releases


def test_reingesting_the_same_file_is_a_no_op(tmp_path, cfg):
    cells = FIXTURES["home_office_prc_pfa_v1"].cells()
    _, first, _ = ingest_files(tmp_path, cfg, {"prc.csv": cells})
    report, second, _ = ingest_files(tmp_path, cfg, {"prc-copy.csv": cells}, previous=first)
    assert [f["action"] for f in report["files"]] == ["unchanged"]
    assert query(second, "select count(*) from raw.home_office__recorded_crime") == [(len(PRC.rows),)]
    assert query(second, "select count(*) from raw._files") == [(1,)]
    assert query(second, "select action from raw._ingest_log order by logged_at") == [
        ("loaded",),
        ("unchanged",),
    ]


def test_a_new_release_replaces_its_period_and_records_the_changes(tmp_path, cfg):
    old = [prc(quarter="1", count="10"), prc(quarter="2", count="11"), prc(year="2015/16", quarter="4")]
    new = [prc(quarter="1", count="12"), prc(quarter="3", count="7")]
    _, first, _ = ingest_files(tmp_path, cfg, {"prc-jan.csv": with_rows(PRC.layout, old)})
    report, second, _ = ingest_files(
        tmp_path, cfg, {"prc-apr.csv": with_rows(PRC.layout, new)}, previous=first
    )
    (change,) = report["changes"]
    assert change["period"] == "2016/17" and change["previous_file"] == "prc-jan.csv"
    assert (change["rows_added"], change["rows_removed"], change["rows_revised"]) == (1, 1, 1)
    assert change["count_change"] == (12 + 7) - (10 + 11)
    rows = query(
        second,
        "select financial_year, financial_quarter, number_of_offences, _file_name "
        "from raw.home_office__recorded_crime order by 1, 2",
    )
    assert rows == [
        ("2015/16", "4", "10", "prc-jan.csv"),  # a period the new release does not cover stays
        ("2016/17", "1", "12", "prc-apr.csv"),
        ("2016/17", "3", "7", "prc-apr.csv"),
    ]
    assert query(second, "select column_name, previous_value, new_value from raw._revised_cells") == [
        ("Number of Offences", "10", "12")
    ]
    assert query(second, "select source, period, new_file from raw._release_changes") == [
        ("home_office_recorded_crime", "2016/17", "prc-apr.csv")
    ]


def test_two_files_of_one_run_may_split_a_period_but_not_repeat_a_row(tmp_path, cfg):
    a = with_rows(PRC.layout, [prc(force="Kent")])
    b = with_rows(PRC.layout, [prc(force="Surrey")])
    report, db, _ = ingest_files(tmp_path, cfg, {"a.csv": a, "b.csv": b})
    assert query(db, "select count(*) from raw.home_office__recorded_crime") == [(2,)]
    error = refused(
        tmp_path, cfg, {"a.csv": a, "c.csv": with_rows(PRC.layout, [prc(force="Kent", count="9")])}
    )
    assert Path(error.file).name == "c.csv" and "a.csv row 4" in error.reason


def test_zip_member_is_named_in_the_manifest(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    with zipfile.ZipFile(raw / "obo.zip", "w") as archive:
        archive.writestr("readme.txt", "not data")
        for layout in ("moj_court_outcomes_pfa_v1", "moj_restraining_orders_v1"):
            lines = "\n".join(",".join(f'"{c}"' for c in row) for row in FIXTURES[layout].cells())
            archive.writestr(f"{layout}.csv", lines + "\n")
    report, _ = ingest_folder(raw, tmp_path, cfg)
    assert sorted((f["sheet"], f["layout"]) for f in report["files"]) == [
        ("moj_court_outcomes_pfa_v1.csv", "moj_court_outcomes_pfa_v1"),
        ("moj_restraining_orders_v1.csv", "moj_restraining_orders_v1"),
    ]


# ------------------------------------------------------------- round trip


def _row_strategy():
    forces = st.sampled_from(["Kent", "Devon & Cornwall", "London, City of", "BTP", "Dyfed Powys", "Cifas"])
    text = st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12
    ).map(str.strip)
    count = st.one_of(
        st.integers(min_value=0, max_value=10**7).map(str),
        st.integers(min_value=1000, max_value=10**7).map(lambda n: f"{n:,}"),
        st.sampled_from(["..", "[x]", "[c]", "*", "N/A - data not provided"]),
    )
    return st.tuples(
        st.integers(min_value=2002, max_value=2030).map(lambda y: f"{y}/{(y + 1) % 100:02d}"),
        st.sampled_from("1234"),
        forces,
        text,
        text,
        text,
        st.from_regex(r"[0-9]{1,3}[A-Z]?", fullmatch=True),
        count,
    ).map(list)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(_row_strategy(), min_size=1, max_size=15, unique_by=lambda r: (r[0], r[1], r[2], r[6])),
    suffix=st.sampled_from([".csv", ".xlsx"]),
)
def test_random_rows_round_trip_unchanged(tmp_path_factory, rows, suffix):
    """Whatever rows are written, the raw table holds exactly the text written."""
    base = tmp_path_factory.mktemp("roundtrip")
    cfg = isolated_settings(base / "settings")
    if suffix == ".xlsx":
        # a spreadsheet cell holding digits only is a number: expect the text a CSV export would hold
        rows = [[str(int(v)) if v.isascii() and v.lstrip("-").isdigit() else v for v in r] for r in rows]
    # Two names of one force, or codes equal but for case, would be one key: keep the first.
    bodies = {"Devon & Cornwall": "dc", "Dyfed Powys": "dp"}
    seen = {}
    rows = [r for r in rows if seen.setdefault((r[0], r[1], bodies.get(r[2], r[2]), r[6].upper()), r) is r]
    raw = base / "raw"
    raw.mkdir()
    write_table(raw / f"prc{suffix}", with_rows(PRC.layout, rows))
    _, build = ingest_folder(raw, base, cfg)
    got = query(
        build,
        "select financial_year, financial_quarter, force_name, offence_description, offence_group, "
        "offence_subgroup, offence_code, number_of_offences from raw.home_office__recorded_crime "
        "order by _row_number",
    )
    assert [[v or "" for v in g] for g in got] == rows


def test_csv_round_trip_keeps_quotes_commas_and_line_breaks(tmp_path, cfg):
    description = 'Harassment, "with" quotes\nand a line break'
    row = prc()
    row[3] = description
    raw = tmp_path / "raw"
    raw.mkdir()
    with open(raw / "prc.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(with_rows(PRC.layout, [row]))
    _, build = ingest_folder(raw, tmp_path, cfg)
    assert query(build, "select offence_description from raw.home_office__recorded_crime") == [(description,)]
