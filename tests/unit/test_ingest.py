"""File recognition, parsing and refusal of bad files."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight import ingest
from hsinsight.config import Settings
from hsinsight.errors import InputFileError, UnrecognisedFileError
from hsinsight.ingest import load as ingest_load

HEADER = [
    "Financial Year",
    "Financial Quarter",
    "Force Name",
    "Offence Description",
    "Offence Group",
    "Offence Subgroup",
    "Offence Code",
    "Number of Offences",
]


def prc_row(year="2016/17", quarter="1", force="Kent", code="8L", count="120", description="Harassment"):
    return [
        year,
        quarter,
        force,
        description,
        "Violence against the person",
        "Stalking and harassment",
        code,
        count,
    ]


GOOD_ROWS = [
    prc_row(),
    prc_row(code="8Q", count="9", description="Stalking"),
    prc_row(force="London, City of", count="4"),
    prc_row(force="Devon & Cornwall", count="-3"),  # a published correction: kept
    prc_row(force="Action Fraud", code="53A", count="..", description="Fraud"),
    prc_row(code="9A", count="310", description="Public fear, alarm or distress"),
]


def write_csv(path: Path, rows, header=HEADER, preamble=None, encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if preamble:
            writer.writerow([preamble])
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def cfg(tmp_path) -> Settings:
    return isolated_settings(tmp_path / "settings")


def run_ingest(raw: Path, tmp_path: Path, cfg: Settings):
    db = tmp_path / "build" / "hsinsight.duckdb"
    db.parent.mkdir(exist_ok=True)
    return ingest.ingest_directory(raw, db, cfg), db


def refused(tmp_path: Path, cfg: Settings, rows, **kwargs) -> InputFileError:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(raw / "recorded.csv", rows, **kwargs)
    with pytest.raises(InputFileError) as caught:
        run_ingest(raw, tmp_path, cfg)
    assert caught.value.file.endswith("recorded.csv")
    return caught.value


def test_good_file_lands_unchanged_with_provenance(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(raw / "anything.csv", GOOD_ROWS)
    (raw / "README.md").write_text("notes\n")
    report, db = run_ingest(raw, tmp_path, cfg)
    assert report["skipped"] == ["README.md"]
    assert report["synthetic"] is False
    assert report["files"][0]["layout"] == "home_office_prc_pfa_v1"
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select force_name, offence_code, number_of_offences, _row_number, _file_name, length(_sha256) "
            "from raw.home_office__recorded_crime order by _row_number"
        ).fetchall()
        manifest = con.execute("select file_name, rows, header_row, is_synthetic from raw._files").fetchall()
    assert [r[:3] for r in rows] == [(r[2], r[6], r[7]) for r in GOOD_ROWS]
    assert [r[3] for r in rows] == [2, 3, 4, 5, 6, 7]
    assert rows[3][2] == "-3"  # negative quarterly correction kept as published
    assert {r[4] for r in rows} == {"anything.csv"} and rows[0][5] == 64
    assert manifest == [("anything.csv", 6, 1, False)]


def test_columns_are_found_by_name_in_any_order(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    order = [7, 0, 2, 1, 6, 3, 4, 5]
    write_csv(
        raw / "x.csv", [[r[i] for i in order] for r in GOOD_ROWS], header=[HEADER[i].upper() for i in order]
    )
    _, db = run_ingest(raw, tmp_path, cfg)
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "select force_name, number_of_offences from raw.home_office__recorded_crime"
        ).fetchall()
    assert got[0] == ("Kent", "120")


def test_preamble_marks_a_synthetic_file(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(raw / "s.csv", GOOD_ROWS, preamble="SYNTHETIC SAMPLE DATA - invented figures")
    report, db = run_ingest(raw, tmp_path, cfg)
    assert report["synthetic"] is True
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select min(_row_number) from raw.home_office__recorded_crime").fetchone()[0] == 3


def test_windows_1252_and_bom_are_accepted(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    rows = [prc_row(description="Harassment – en dash")]
    write_csv(raw / "cp.csv", rows, encoding="cp1252")
    write_csv(
        raw / "bom.csv", [prc_row(force="Essex", description="Harassment – en dash")], encoding="utf-8-sig"
    )
    _, db = run_ingest(raw, tmp_path, cfg)
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "select distinct offence_description from raw.home_office__recorded_crime"
        ).fetchall()
    assert got == [("Harassment – en dash",)]


def test_missing_column_is_named(tmp_path, cfg):
    header = [h for h in HEADER if h != "Offence Code"]
    rows = [[v for i, v in enumerate(r) if HEADER[i] != "Offence Code"] for r in GOOD_ROWS]
    error = refused(tmp_path, cfg, rows, header=header)
    assert error.row == 1 and error.column == "Offence Code"
    assert "missing required column" in str(error)


def test_text_in_a_count_names_row_and_column(tmp_path, cfg):
    rows = list(GOOD_ROWS) + [prc_row(force="Essex", count="twelve")]
    error = refused(tmp_path, cfg, rows)
    assert (error.row, error.column) == (8, "Number of Offences")
    assert "'twelve' is not a whole number" in str(error)
    assert "row 8" in str(error) and "recorded.csv" in str(error)


@pytest.mark.parametrize("count", ["12.5", "1e3", "", "12 "])
def test_counts_must_be_whole_numbers(tmp_path, cfg, count):
    rows = [prc_row(count=count)]
    if count.strip().isdigit():
        raw = tmp_path / "raw"
        raw.mkdir()
        write_csv(raw / "recorded.csv", rows)
        run_ingest(raw, tmp_path, cfg)  # surrounding spaces are tolerated
        return
    error = refused(tmp_path, cfg, rows)
    assert (error.row, error.column) == (2, "Number of Offences")


def test_unknown_force_is_refused(tmp_path, cfg):
    rows = list(GOOD_ROWS) + [prc_row(force="Gotham City")]
    error = refused(tmp_path, cfg, rows)
    assert (error.row, error.column) == (8, "Force Name")
    assert "'Gotham City' is not a known police force" in str(error)


def test_force_name_variants_come_from_reference_data(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(raw / "v.csv", [prc_row(force="  devon AND   cornwall "), prc_row(force="Dyfed Powys")])
    report, _ = run_ingest(raw, tmp_path, cfg)
    assert report["files"][0]["rows"] == 2


def test_duplicate_row_names_both_rows(tmp_path, cfg):
    rows = [prc_row(), prc_row(code="8Q"), prc_row(count="121")]
    error = refused(tmp_path, cfg, rows)
    assert error.row == 4
    assert "duplicates row 2" in str(error)


def test_duplicate_through_a_name_variant(tmp_path, cfg):
    rows = [prc_row(force="Devon and Cornwall"), prc_row(force="Devon & Cornwall")]
    error = refused(tmp_path, cfg, rows)
    assert error.row == 3


def test_duplicate_across_files_names_both_files(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(raw / "a.csv", [prc_row()])
    write_csv(raw / "b.csv", [prc_row(code="8Q"), prc_row()])
    with pytest.raises(InputFileError) as caught:
        run_ingest(raw, tmp_path, cfg)
    assert caught.value.file.endswith("b.csv") and caught.value.row == 3
    assert "a.csv row 2" in str(caught.value)


def test_empty_file(tmp_path, cfg):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "recorded.csv").write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        run_ingest(raw, tmp_path, cfg)


def test_header_without_data(tmp_path, cfg):
    error = refused(tmp_path, cfg, [])
    assert error.row == 2 and "no data rows" in str(error)


def test_unrecognised_file(tmp_path, cfg):
    error = refused(tmp_path, cfg, [["a", "b"]], header=["Name", "Value"])
    assert isinstance(error, UnrecognisedFileError)
    assert "no header row of a known layout" in str(error)


@pytest.mark.parametrize(
    "field,value,column",
    [
        ("year", "2016/18", "Financial Year"),
        ("year", "FY16", "Financial Year"),
        ("quarter", "5", "Financial Quarter"),
    ],
)
def test_periods_are_checked(tmp_path, cfg, field, value, column):
    error = refused(tmp_path, cfg, [prc_row(**{field: value})])
    assert (error.row, error.column) == (2, column)


def test_xlsx_workbook_with_notes_sheet_and_title_rows(tmp_path, cfg):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["This workbook holds police recorded crime by police force area."])
    data = book.create_sheet("2016_17")
    data.append(["Police recorded crime, year ending March 2017"])
    data.append([])
    data.append(HEADER)
    for row in GOOD_ROWS:
        data.append([int(v) if v.lstrip("-").isdigit() else v for v in row])
    raw = tmp_path / "raw"
    raw.mkdir()
    book.save(raw / "prc.xlsx")
    report, db = run_ingest(raw, tmp_path, cfg)
    assert report["files"][0]["sheet"] == "2016_17"
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "select number_of_offences, _row_number from raw.home_office__recorded_crime order by _row_number"
        ).fetchall()
    assert got[0] == ("120", 4) and got[3] == ("-3", 7)


def many_rows(n: int, description: str = "Harassment") -> list[list[str]]:
    """``n`` distinct recorded crime rows (one per quarter of a run of years), enough
    to take a file past the part read to tell its encoding."""
    return [
        prc_row(
            year=f"{year}/{(year + 1) % 100:02d}",
            quarter=str(q),
            count=str(year + q),
            description=description,
        )
        for year in range(1000, 1000 + n // 4)
        for q in range(1, 5)
    ]


def test_windows_1252_after_the_first_part_of_a_big_file(tmp_path, cfg, monkeypatch):
    # The head is plain ASCII; the only Windows-1252 byte comes after the part read
    # to tell the encoding, so the fast reader meets it first and hands over.
    monkeypatch.setattr(ingest_load, "ARROW_MIN_BYTES", 0)
    rows = many_rows(2000)
    rows[-1] = prc_row(year="1499/00", quarter="4", count="7", description="Harassment – en dash")
    raw = tmp_path / "raw"
    raw.mkdir()
    path = write_csv(raw / "big.csv", rows, encoding="cp1252")
    assert path.stat().st_size > ingest.UTF8_HEAD_BYTES
    report, db = run_ingest(raw, tmp_path, cfg)
    assert report["files"][0]["rows"] == len(rows)
    with duckdb.connect(str(db), read_only=True) as con:
        last = con.execute(
            "select offence_description, _row_number from raw.home_office__recorded_crime "
            "order by _row_number desc limit 1"
        ).fetchone()
    assert last == ("Harassment – en dash", len(rows) + 1)


@pytest.mark.parametrize("arrow_min_bytes", [0, ingest.ARROW_MIN_BYTES], ids=["arrow-first", "duckdb"])
def test_short_rows_blank_lines_and_quoted_line_breaks(tmp_path, cfg, monkeypatch, arrow_min_bytes):
    # A row short of its trailing empty cells is padded, an empty line is no row, a
    # row of empty cells is no row but keeps its number, a quoted value may span lines.
    monkeypatch.setattr(ingest_load, "ARROW_MIN_BYTES", arrow_min_bytes)
    order = [0, 1, 2, 3, 4, 6, 7, 5]  # Offence Subgroup (free text) last

    def line(row: list[str]) -> str:
        return ",".join(row[i] for i in order)

    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [
        line(HEADER),
        line(prc_row(count="5")),
        "",
        line(prc_row(quarter="2", count="6")).rsplit(",", 1)[0],
        ",,,,,,,",
        line(prc_row(quarter="3", count="7", description='"Harassment\nover two lines"')),
    ]
    (raw / "ragged.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report, db = run_ingest(raw, tmp_path, cfg)
    assert report["files"][0]["rows"] == 3
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "select financial_quarter, offence_description, offence_subgroup, number_of_offences, _row_number "
            "from raw.home_office__recorded_crime order by _row_number"
        ).fetchall()
    assert got == [
        ("1", "Harassment", "Stalking and harassment", "5", 2),
        ("2", "Harassment", None, "6", 3),
        ("3", "Harassment\nover two lines", "Stalking and harassment", "7", 5),
    ]


def test_both_readers_load_a_file_alike(tmp_path, cfg, monkeypatch):
    # The same file through Arrow's reader and through DuckDB's: the same raw rows.
    rows = many_rows(400)
    rows[7] = prc_row(year="1001/02", quarter="4", count="..", description='Quoted "text", with a comma')
    rows[9] = prc_row(year="1002/03", quarter="2", description="")
    loaded = []
    monkeypatch.setattr(ingest_load, "ARROW_MIN_BYTES", 0)
    for reader in ("arrow", "duckdb"):
        if reader == "duckdb":
            monkeypatch.setattr(ingest_load, "_insert_with_arrow", _refuse_fast_path)
        raw = tmp_path / reader / "raw"
        raw.mkdir(parents=True)
        write_csv(raw / "same.csv", rows, preamble="A title row")
        _, db = run_ingest(raw, tmp_path / reader, isolated_settings(tmp_path / reader / "settings"))
        with duckdb.connect(str(db), read_only=True) as con:
            loaded.append(
                con.execute(
                    "select * exclude (_loaded_at) from raw.home_office__recorded_crime order by _row_number"
                ).fetchall()
            )
    assert loaded[0] == loaded[1] and len(loaded[0]) == len(rows)


def _refuse_fast_path(*args, **kwargs):
    raise ingest._ArrowUnreadable("switched off for the test")


@pytest.mark.parametrize("damaged", ["notes.txt", "orders.csv"])
def test_a_damaged_zip_member_is_named(tmp_path, damaged):
    # Each member is read once, to the end, which checks its CRC: a table and a note alike.
    path = tmp_path / "moj.zip"
    members = {
        "notes.txt": "About these tables. " * 50,
        "orders.csv": "Year,Police Force Area,Offence,Restraining orders issued on conviction,"
        "Restraining orders issued on acquittal\n"
        + "".join(f"{y},Kent,All offences,5,1\n" for y in range(2012, 2025)),
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    data = bytearray(path.read_bytes())
    at = data.find(members[damaged][-30:].encode())
    data[at] ^= 0x01  # one flipped bit in the member's stored bytes
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError) as caught:
        ingest.tables_in(path, tmp_path / "work")
    assert f"member {damaged!r} is damaged" in caught.value.reason
