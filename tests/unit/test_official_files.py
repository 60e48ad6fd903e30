"""The publishers' own files, as released, through the ingest (no dbt).

The files in tests/fixtures/official/ are copies of real releases (Crown copyright,
Open Government Licence v3.0; see the README there). Every one must load unmodified;
faults the publishers really make in rows the platform does not use are logged, not
refused, while the same faults among the platform's own rows still are.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight import ingest
from hsinsight.errors import InputFileError

OFFICIAL = Path(__file__).resolve().parents[1] / "fixtures" / "official"
RECORDED_CRIME = OFFICIAL / "home_office_prc" / "prc-pfa-mar2013-onwards-tables201718.csv"
ROLLING = OFFICIAL / "home_office_prc_rolling" / "rec-crime-pfa.csv"
APPENDIX = OFFICIAL / "ons_appendix_tables" / "appendix-tables-year-ending-september-2025.xlsx"
ONS_PFA = sorted((OFFICIAL / "ons_pfa_tables").glob("*.xlsx"))


@pytest.fixture
def cfg(tmp_path):
    return isolated_settings(tmp_path / "settings")


def load(tmp_path: Path, cfg, *files: Path, previous: Path | None = None, name: str = "build"):
    """Copy ``files`` into a raw folder and ingest it into a new build file."""
    raw = tmp_path / f"raw-{name}"
    raw.mkdir()
    for file in files:
        shutil.copy(file, raw / file.name)
    db = tmp_path / name / "hsinsight.duckdb"
    db.parent.mkdir()
    return ingest.ingest_directory(raw, db, cfg, previous=previous), db


def query(db: Path, sql: str, params=None):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def log_details(db: Path, action: str) -> list[str]:
    return [
        r[0] for r in query(db, "select detail from raw._ingest_log where action = ? order by all", [action])
    ]


def rewrite_csv(source: Path, target: Path, change) -> Path:
    """Copy a CSV file, passing its rows (header first) through ``change``."""
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows = change(rows)
    with open(target, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    return target


# ------------------------------------------------------------- recorded crime


def national_12_months(db: Path, code: str) -> int:
    """The 12 months of the loaded financial year, England and Wales (forces and BTP,
    not the fraud bodies), straight from the raw text as published."""
    return query(
        db,
        """
        select sum(try_cast(trim(number_of_offences) as bigint))
        from raw.home_office__recorded_crime
        where offence_code = ? and force_name not in ('Action Fraud', 'CIFAS', 'Financial Fraud Action UK', 'UK Finance')
        """,
        [code],
    )[0][0]


def test_the_real_recorded_crime_sheet_loads_as_published(tmp_path, cfg):
    report, db = load(tmp_path, cfg, RECORDED_CRIME)
    (loaded,) = report["files"]
    assert loaded["rows"] == 23068 and loaded["periods"] == ["2017/18"]
    # padded counts and "-00" are kept as written, and read as numbers
    written = query(
        db,
        "select count(*) filter (where number_of_offences = '-00 '), count(*) filter (where number_of_offences = ' 66776 ') "
        "from raw.home_office__recorded_crime",
    )
    assert written[0][0] > 5000 and written[0][1] == 1
    assert national_12_months(db, "8L") == 124393
    assert national_12_months(db, "8M") == 1882
    assert national_12_months(db, "8Q") == 10296
    assert national_12_months(db, "8R") == 159377
    # homicide's four rows per force and quarter under one code are kept and counted
    homicide = query(
        db, "select count(*) from raw.home_office__recorded_crime where offence_code = '1/4.1/4.10/4.2'"
    )
    assert homicide[0][0] == 44 * 4 * 4  # 43 forces and British Transport Police, 4 quarters, 4 rows each
    (note,) = log_details(db, "noted")
    assert note.startswith(
        "528 rows repeating the key of an earlier row, outside the platform's offence codes"
    )
    # the fraud bodies and their text codes, Financial Fraud Action UK becoming UK Finance in-year
    bodies = query(
        db,
        "select force_name, min(financial_quarter), max(financial_quarter) from raw.home_office__recorded_crime "
        "where force_name in ('Financial Fraud Action UK', 'UK Finance') group by 1 order by 1",
    )
    assert bodies == [("Financial Fraud Action UK", "1", "1"), ("UK Finance", "2", "4")]


def test_a_repeated_key_among_the_platforms_codes_is_still_refused(tmp_path, cfg):
    def repeat_stalking(rows):
        first = next(i for i, r in enumerate(rows) if r[6] == "8Q")
        return [*rows[: first + 1], rows[first], *rows[first + 1 :]]

    bad = rewrite_csv(RECORDED_CRIME, tmp_path / RECORDED_CRIME.name, repeat_stalking)
    with pytest.raises(InputFileError) as caught:
        load(tmp_path, cfg, bad)
    error = caught.value
    assert error.column == "Financial Year" and "duplicates row" in error.reason
    assert error.row is not None and error.row > 2


def test_a_negative_twelve_month_total_among_the_platforms_codes_is_still_refused(tmp_path, cfg):
    def negative_stalking(rows):
        for row in rows:
            if row[2] == "Kent" and row[6] == "8Q":
                row[7] = " -50 "
        return rows

    bad = rewrite_csv(RECORDED_CRIME, tmp_path / RECORDED_CRIME.name, negative_stalking)
    with pytest.raises(InputFileError) as caught:
        load(tmp_path, cfg, bad)
    assert "cannot be negative" in caught.value.reason and caught.value.column == "Number of Offences"


def test_a_negative_twelve_month_total_outside_the_platforms_codes_is_logged(tmp_path, cfg):
    def negative_theft(rows):
        for row in rows:
            if row[2] == "Kent" and row[6] == "45":
                row[7] = " -5 "
        return rows

    changed = rewrite_csv(RECORDED_CRIME, tmp_path / RECORDED_CRIME.name, negative_theft)
    _, db = load(tmp_path, cfg, changed)
    notes = log_details(db, "noted")
    assert any(n.startswith("1 negative 12-month total (column number_of_offences)") for n in notes), notes


def test_zero_rows_for_a_code_before_it_existed_are_accepted(tmp_path, cfg):
    """Real 2019/20 sheets carry 8U rows of zeros before the code's first year."""

    def add_8u(rows):
        extra = [["2017/18", "1", "Kent", "Controlling or coercive behaviour", "Violence against the person",
                  "Stalking and harassment", "8U", " -00 "]]  # fmt: skip
        return [*rows, *extra]

    changed = rewrite_csv(RECORDED_CRIME, tmp_path / RECORDED_CRIME.name, add_8u)
    _, db = load(tmp_path, cfg, changed)
    assert query(
        db, "select number_of_offences from raw.home_office__recorded_crime where offence_code = '8U'"
    ) == [(" -00 ",)]


def test_one_csv_stacking_every_year_loads_like_the_workbook(tmp_path, cfg):
    """A stacked export: the 2017/18 sheet with an earlier year's rows under it."""

    def stack(rows):
        earlier = [["2016/17", *r[1:]] for r in rows[1:]]
        return [*rows, *earlier]

    stacked = rewrite_csv(RECORDED_CRIME, tmp_path / "prc-pfa-all-years.csv", stack)
    report, db = load(tmp_path, cfg, stacked)
    (loaded,) = report["files"]
    assert loaded["periods"] == ["2016/17", "2017/18"] and loaded["rows"] == 2 * 23068
    years = query(
        db, "select financial_year, count(*) from raw.home_office__recorded_crime group by 1 order by 1"
    )
    assert years == [("2016/17", 23068), ("2017/18", 23068)]


# ------------------------------------------------------------ ONS PFA tables


@pytest.fixture(scope="module")
def ons_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ons")
    report, db = load(tmp, isolated_settings(tmp / "settings"), *ONS_PFA)
    return report, db


def test_every_real_ons_pfa_workbook_loads(ons_build):
    report, db = ons_build
    loaded = {(f["file"], f["sheet"].strip(), f["layout"]): f for f in report["files"]}
    for path in ONS_PFA:
        assert loaded[(path.name, "Table P1", "ons_pfa_tables_v1")]["rows"] == 56
        assert loaded[(path.name, "Table P3", "ons_pfa_rates_v1")]["rows"] == 55
    # only the year-ending-March release has the mid-year estimates (mid-2002 to mid-2016)
    p9 = [f for f in report["files"] if f["layout"] == "ons_pfa_mye_wide_v1"]
    assert [(f["file"], f["rows"]) for f in p9] == [
        ("policeforceareatablesyearendingmarch2018v2.xlsx", 55 * 15)
    ]
    periods = query(db, "select distinct period_label from raw.ons__pfa_recorded_crime order by 1")
    assert periods == [
        ("year ending December 2018",),
        ("year ending June 2018",),  # the corrected edition's title writes "June 18"
        ("year ending June 2019",),
        ("year ending March 2018",),
    ]


def test_ons_totals_are_kept_exactly_as_printed(ons_build):
    _, db = ons_build
    england_and_wales = query(
        db,
        "select period_label, stalking_and_harassment, area_name from raw.ons__pfa_recorded_crime "
        "where area_code = 'K04000001' order by 1",
    )
    assert ("year ending March 2018", "295571", "ENGLAND AND WALES8") in england_and_wales
    btp = query(
        db,
        "select area_code, stalking_and_harassment from raw.ons__pfa_recorded_crime "
        "where area_name = 'British Transport Police' and period_label = 'year ending March 2018'",
    )
    assert btp == [(None, "153")]
    rates = query(
        db,
        "select area_name, population, population_mid_year, stalking_and_harassment_rate from raw.ons__pfa_rates "
        "where area_code = 'E23000034' and period_label = 'year ending June 2018'",
    )
    assert rates == [("City of London11", "7700", "2017", "+")]
    population = query(
        db, "select population from raw.ons__population where area_code = 'E23000013' and mid_year = '2016'"
    )
    assert population == [("564600",)]


def test_every_ons_sheet_is_loaded_or_said_to_be_unused(ons_build):
    report, db = ons_build
    from python_calamine import CalamineWorkbook

    loaded = {(f["file"], f["sheet"]) for f in report["files"]}
    unused = query(db, "select distinct file_name, detail from raw._ingest_log where action = 'not_used'")
    for path in ONS_PFA:
        for sheet in CalamineWorkbook.from_path(str(path)).sheet_names:
            said = [d for f, d in unused if f == path.name and d.startswith(f"{sheet}: not used")]
            assert (path.name, sheet) in loaded or said, (path.name, sheet)
    percentage = [d for _, d in unused if d.startswith("Table P2: ")]
    assert percentage and all("percentage changes" in d for d in percentage)
    assert any(d.startswith("Table P10: ") and "household" in d for _, d in unused)


def test_a_sheet_half_matching_a_layout_is_refused_not_skipped(tmp_path, cfg):
    import openpyxl

    source = ONS_PFA[0]
    book = openpyxl.load_workbook(source)
    sheet = book["Table P1"]
    header_row = next(r for r in range(1, 12) if sheet.cell(r, 1).value == "Area Code")
    sheet.cell(header_row, 2).value = "Name of the area"  # "Area Name" is gone
    broken = tmp_path / source.name
    book.save(broken)
    with pytest.raises(InputFileError) as caught:
        load(tmp_path, cfg, broken)
    error = caught.value
    assert error.sheet == "Table P1" and error.row == header_row and error.column == "Area Name"
    assert "missing required column" in error.reason


def test_an_ons_row_without_a_code_must_be_a_body_without_one(tmp_path, cfg):
    import openpyxl

    source = ONS_PFA[0]
    book = openpyxl.load_workbook(source)
    sheet = book["Table P1"]
    row = next(r for r in range(1, 80) if sheet.cell(r, 1).value == "E23000031")  # Surrey
    sheet.cell(row, 1).value = None
    broken = tmp_path / source.name
    book.save(broken)
    with pytest.raises(InputFileError) as caught:
        load(tmp_path, cfg, broken)
    error = caught.value
    assert error.sheet == "Table P1" and error.row == row and error.column == "Area Code"
    assert "Surrey" in error.reason and "is not a reporting body without one" in error.reason


# ---------------------------------------------------------- Appendix tables


def appendix_csv(target: Path, *, release: str, change=None) -> Path:
    """Table A5a of the real workbook saved as CSV (the same layout), with its title
    naming ``release`` and its cells passed through ``change``."""
    from python_calamine import CalamineWorkbook

    rows = (
        CalamineWorkbook.from_path(str(APPENDIX))
        .get_sheet_by_name("Table_A5a")
        .to_python(skip_empty_area=False)
    )
    cells = [[ingest._cell_text(v) for v in row] for row in rows]
    cells[0][0] = cells[0][0].replace("year ending September 2025", release)
    if change:
        cells = change(cells)
    with open(target, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(cells)
    return target


def test_the_real_appendix_table_loads_with_its_markers(tmp_path, cfg):
    report, db = load(tmp_path, cfg, APPENDIX)
    (loaded,) = report["files"]
    assert loaded["sheet"] == "Table_A5a" and loaded["layout"] == "ons_appendix_a5a_v1"
    assert len(loaded["periods"]) == 23 + 2  # 2002/03 to 2024/25, and two rolling 12-month columns
    rows = dict(
        query(
            db,
            "select period_label, offences from raw.ons__appendix_recorded_crime where offence_code = '8Q' "
            "and release_label = 'year ending September 2025'",
        )
    )
    assert rows["Apr 2008 to Mar 2009"] == "[x]"  # before stalking had a code
    assert rows["Apr 2016 to Mar 2017"] == "5424"
    subtotal = query(
        db,
        "select offences from raw.ons__appendix_recorded_crime where offence_code is null "
        "and offence_category = 'Stalking and harassment [note 22, 27]' and period_label = 'Apr 2021 to Mar 2022'",
    )
    assert subtotal == [("716824",)]
    unused = log_details(db, "not_used")
    assert len(unused) == 43 and any(d.startswith("Table_A5b: ") for d in unused)


def test_loading_appendix_releases_in_order_records_revisions(tmp_path, cfg):
    _, first = load(tmp_path, cfg, APPENDIX, name="first")

    def revise(cells):
        for row in cells:
            if row[0] == "8Q":
                header = next(c for c in cells if c and c[0].startswith("Offence"))
                column = next(
                    i for i, h in enumerate(header) if " ".join(h.split()) == "Apr 2020 to Mar 2021"
                )
                row[column] = str(int(row[column]) + 2)
        return cells

    later = appendix_csv(
        tmp_path / "appendix-tables-year-ending-december-2025.csv",
        release="year ending December 2025",
        change=revise,
    )
    report, second = load(tmp_path, cfg, later, previous=first, name="second")
    (loaded,) = report["files"]
    assert loaded["changes"] and all(
        c["rows_added"] == 0 and c["rows_removed"] == 0 for c in loaded["changes"]
    )
    revised = query(
        second,
        "select period, column_name, previous_value, new_value from raw._revised_cells where source = 'ons_appendix_tables'",
    )
    assert len(revised) == 1
    period, column, before, after = revised[0]
    assert period == "apr 2020 to mar 2021" and int(after) - int(before) == 2
    releases = query(second, "select distinct release_label from raw.ons__appendix_recorded_crime")
    assert releases == [("year ending December 2025",)]


# ------------------------------------------------------ rolling 12-month table


def test_the_real_rolling_table_loads(tmp_path, cfg):
    report, db = load(tmp_path, cfg, ROLLING)
    (loaded,) = report["files"]
    assert (
        loaded["rows"] == 46469
        and loaded["periods"][0] == "2003-03-31"
        and loaded["periods"][-1] == "2018-12-31"
    )
    surrey = dict(
        query(
            db,
            "select twelve_months_ending, rolling_total from raw.home_office__pfa_rolling "
            "where force_name = 'Surrey' and offence = 'Stalking and harassment'",
        )
    )
    assert surrey["31/12/2018"] == "4964"
    assert surrey["30/12/2017"] == "4366"  # the quarter ending 31 December 2017, as the file writes it
    assert "2017-12-31" in loaded["periods"] and "2017-12-30" not in loaded["periods"]
    (note,) = log_details(db, "noted")
    assert (
        note
        == "25 negative totals in rows outside 'Stalking and harassment' kept as published (column rolling_total)"
    )


def test_a_negative_stalking_and_harassment_total_is_refused(tmp_path, cfg):
    def negative(rows):
        for row in rows:
            if row[1] == "Kent" and row[3] == "Stalking and harassment" and row[0] == "31/03/2010":
                row[4] = "-4"
        return rows

    bad = rewrite_csv(ROLLING, tmp_path / ROLLING.name, negative)
    with pytest.raises(InputFileError) as caught:
        load(tmp_path, cfg, bad)
    error = caught.value
    assert error.column == "Rolling year total number of offences" and "is negative" in error.reason
    assert error.row is not None and error.row > 1
