"""The synthetic sample: every file written, labelled synthetic, reproducible and committed;
the recorded crime table's layout, calibration and realism."""

from __future__ import annotations

import csv
import io
import itertools
import re
import shutil
import zipfile
from collections import defaultdict
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsinsight.config import Settings
from hsinsight.sample import FILE_NAME, SEED, allocate, read_forces, write_sample
from hsinsight.sources.base import SYNTHETIC_MARKER, normalise_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_DIR = PROJECT_ROOT / "data" / "sample"
COMMITTED = COMMITTED_DIR / FILE_NAME

OFFICIAL_HEADER = [
    "Financial Year", "Financial Quarter", "Force Name", "Offence Description",
    "Offence Group", "Offence Subgroup", "Offence Code", "Number of Offences",
]  # fmt: skip

OUTCOME_FILES = [f"prc-outcomes-open-data-mar{y}-tables-synthetic.xlsx" for y in range(2015, 2026)]
ONS_DEC_2016 = "police-force-area-data-tables-year-ending-december-2016-synthetic.xlsx"
ONS_MAR_2024 = "police-force-area-data-tables-year-ending-march-2024-synthetic.ods"
CPS = "cps-vawg-stalking-harassment-2012-13-to-2024-25-synthetic.xlsx"
MOJ = "moj-outcomes-by-offence-2012-2024-synthetic.zip"
POPULATION = "ons-mid-year-population-estimates-pfa-mid-2012-to-mid-2024-synthetic.xlsx"
CSEW = "csew-stalking-prevalence-2012-13-to-2023-24-synthetic.xlsx"
APPENDIX = "appendix-tables-year-ending-march-2025-synthetic.xlsx"
ROLLING = "rec-crime-pfa-synthetic.csv"
EXPECTED_FILES = [
    FILE_NAME, *OUTCOME_FILES, ONS_DEC_2016, ONS_MAR_2024, CPS, MOJ, POPULATION, CSEW, APPENDIX, ROLLING,
]  # fmt: skip
#: Sheets of prose (no table) a workbook may open with.
PROSE_SHEETS = ("Notes", "Cover Sheet")

#: The header each data table must carry (first header text of each layout column).
HEADERS = {
    "home_office_prc_pfa_v1": OFFICIAL_HEADER,
    "home_office_outcomes_a": [
        "Financial Year", "Financial Quarter", "Force Name", "Offence Code", "Offence Description",
        "Offence Group", "Offence Subgroup", "Offence code expired", "Outcome Type", "Outcome Description",
        "Outcome Group", "Outcomes for offences that were recorded in the quarter",
        "Outcomes for investigations closed in the quarter",
    ],
    "ons_pfa_tables_v1": [
        "Area Code", "Area Name", "Total recorded crime (excluding fraud)", "Violence against the person",
        "Stalking and harassment",
    ],
    "cps_vawg_v1": ["Financial Year", "CPS Area", "Offence", "Prosecutions", "Convictions", "Conviction Rate"],
    "moj_court_outcomes_pfa_v1": [
        "Police Force Area", "Year of Appearance", "Sex", "Age Group", "Court Type", "Offence Type",
        "Offence Group", "Offence", "Convicted/Not Convicted", "Sentenced/Not Sentenced", "Outcome",
        "Custodial Sentence Length", "Count",
    ],
    "moj_restraining_orders_v1": [
        "Year", "Police Force Area", "Offence", "Restraining orders issued on conviction",
        "Restraining orders issued on acquittal",
    ],
    # the platform's long form: Population is the column's first header
    "ons_mye_pfa_v1": ["Code", "Name", "Geography", "Sex", "Age group", "Population"],
    "csew_prevalence_v1": [
        "Survey year", "Behaviour", "Measure", "Age group", "Sex", "Percentage",
        "Lower 95% confidence interval", "Upper 95% confidence interval", "Unweighted base",
    ],
    # as the real Table A5a writes it: line breaks inside the header cells
    "ons_appendix_a5a_v1": [
        "Offence\n code", "Offence category", *[f"Apr {y} to \n Mar {y + 1}" for y in range(2012, 2025)],
        "Mar 2024 with\n Mar 2025\n % change",
    ],
    "home_office_prc_rolling_v1": [
        "12 months ending", "PFA", "Region", "Offence", "Rolling year total number of offences",
    ],
}  # fmt: skip

#: Every data table the sample holds: (file, sheet or zip member, layout).
TABLES = [
    (FILE_NAME, None, "home_office_prc_pfa_v1"),
    *[(name, "Outcomes_open_data", "home_office_outcomes_a") for name in OUTCOME_FILES],
    (ONS_DEC_2016, "Table P1", "ons_pfa_tables_v1"),
    (ONS_MAR_2024, "Table P1", "ons_pfa_tables_v1"),
    (CPS, "Stalking and harassment", "cps_vawg_v1"),
    (MOJ, "court-outcomes-by-pfa-2012-2024-synthetic.csv", "moj_court_outcomes_pfa_v1"),
    (MOJ, "restraining-orders-by-pfa-2012-2024-synthetic.csv", "moj_restraining_orders_v1"),
    *[(POPULATION, f"Mid-{year}", "ons_mye_pfa_v1") for year in range(2012, 2025)],
    (CSEW, "Table S1", "csew_prevalence_v1"),
    (APPENDIX, "Table_A5a", "ons_appendix_a5a_v1"),
    (ROLLING, None, "home_office_prc_rolling_v1"),
]

#: Total size the committed sample may take.
MAX_SAMPLE_BYTES = 6_000_000

# The two 12-month windows ending 31 December, as (financial year, quarter).
YE_DEC_2015 = {("2014/15", 4), ("2015/16", 1), ("2015/16", 2), ("2015/16", 3)}
YE_DEC_2016 = {("2015/16", 4), ("2016/17", 1), ("2016/17", 2), ("2016/17", 3)}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[Path]:
    return write_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def sample_file(written: list[Path]) -> Path:
    return written[0]


@pytest.fixture(scope="module")
def rows(sample_file: Path) -> list[dict[str, str]]:
    with open(sample_file, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # preamble
        header = next(reader)
        return [dict(zip(header, row, strict=True)) for row in reader]


def table_rows(path: Path, part: str | None, limit: int = 40) -> list[list[object]]:
    """The first rows of one table as written: a CSV file, a workbook sheet or a CSV inside a zip."""
    if path.suffix in (".csv", ".zip"):
        if path.suffix == ".csv":
            text = path.read_text(encoding="utf-8")
        else:
            with zipfile.ZipFile(path) as archive:
                text = archive.read(part).decode("utf-8")
        return list(itertools.islice(csv.reader(io.StringIO(text, newline="")), limit))
    if path.suffix == ".ods":
        frame = pd.read_excel(path, sheet_name=part, header=None, dtype=object, engine="odf", nrows=limit)
        return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(r) for r in book[part].iter_rows(max_row=limit, values_only=True)]
    finally:
        book.close()


def cells(row: list[object]) -> list[str]:
    """The non-empty cells of a row, as text."""
    return [str(v) for v in row if v is not None and str(v) != ""]


def total(rows, code: str, window: set[tuple[str, int]], force: str | None = None) -> int:
    return sum(
        int(r["Number of Offences"])
        for r in rows
        if r["Offence Code"] == code
        and (r["Financial Year"], int(r["Financial Quarter"])) in window
        and (force is None or r["Force Name"] == force)
    )


def national(rows, code: str) -> dict[tuple[str, int], int]:
    sums: dict[tuple[str, int], int] = defaultdict(int)
    for r in rows:
        if r["Offence Code"] == code:
            sums[(r["Financial Year"], int(r["Financial Quarter"]))] += int(r["Number of Offences"])
    return dict(sums)


def same_archive_content(first: Path, second: Path) -> bool:
    """Two zip containers (XLSX, ODS, zip) holding the same members, in the same order,
    with the same times and the same uncompressed bytes. Deflate output can differ
    between zlib builds, so on another machine the compressed bytes may differ while
    the content is the same."""
    try:
        with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
            return [(i.filename, i.date_time) for i in a.infolist()] == [
                (i.filename, i.date_time) for i in b.infolist()
            ] and all(a.read(name) == b.read(name) for name in a.namelist())
    except zipfile.BadZipFile:
        return False


# ------------------------------------------------------------------------ every file


def test_every_source_is_written_once(written: list[Path]) -> None:
    assert [p.name for p in written] == EXPECTED_FILES
    folder = written[0].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPECTED_FILES)  # no partial files left


def test_same_bytes_every_run(written: list[Path], tmp_path: Path) -> None:
    again = write_sample(tmp_path / "again")
    assert [p.name for p in again] == [p.name for p in written]
    for first, second in zip(written, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_committed_sample_is_what_the_generator_writes(written: list[Path]) -> None:
    """Byte for byte; a workbook or zip whose compressed bytes differ (another zlib
    build) passes only if every member's content and time are the same."""
    committed = sorted(p.name for p in COMMITTED_DIR.iterdir() if p.name != "README.md")
    assert committed == sorted(EXPECTED_FILES), (
        "regenerate data/sample with `hsinsight sample --out data/sample`"
    )
    for path in written:
        mine = COMMITTED_DIR / path.name
        same = mine.read_bytes() == path.read_bytes()
        if not same and path.suffix in (".xlsx", ".ods", ".zip"):
            same = same_archive_content(mine, path)
        assert same, (
            f"data/sample/{path.name} is out of date: regenerate it with `hsinsight sample --out data/sample`"
        )


def test_committed_sample_is_small() -> None:
    assert sum(p.stat().st_size for p in COMMITTED_DIR.iterdir()) < MAX_SAMPLE_BYTES
    assert COMMITTED.stat().st_size < 1_200_000


@pytest.mark.parametrize(("name", "part", "layout"), TABLES, ids=[f"{t[0]}:{t[1]}" for t in TABLES])
def test_every_table_has_the_synthetic_title_above_its_official_header(written, name, part, layout) -> None:
    folder = written[0].parent
    table = table_rows(folder / name, part)
    assert cells(table[0]) == [cells(table[0])[0]], "the title row is a single cell"
    assert cells(table[0])[0].startswith(SYNTHETIC_MARKER)
    assert f"(seed {SEED})" in cells(table[0])[0] and "Not official statistics" in cells(table[0])[0]
    header = HEADERS[layout]
    found = [i for i, row in enumerate(table[:30]) if cells(row) == header]
    assert found and found[0] > 0, f"{name} {part}: no header row {header} below the title"
    assert len(table) > found[0] + 1, "no data under the header"


def test_workbooks_have_fixed_properties_and_zip_times(written: list[Path]) -> None:
    for path in written:
        if path.suffix in (".xlsx", ".ods", ".zip"):
            with zipfile.ZipFile(path) as archive:
                assert {i.date_time for i in archive.infolist()} == {(2017, 7, 5, 0, 0, 0)}, path.name
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            assert book.properties.created == book.properties.modified
            assert book.properties.created.year == 2017
            book.close()


def test_notes_sheets_hold_no_table(written: list[Path]) -> None:
    """Cover sheets are prose: nothing in them looks like a header ingest would take."""
    for path in written:
        if path.suffix not in (".xlsx", ".ods"):
            continue
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            names = book.sheetnames
            book.close()
        else:
            names = list(pd.read_excel(path, sheet_name=None, header=None, engine="odf"))
        assert names[0] in PROSE_SHEETS, path.name
        for name in names:
            if name in PROSE_SHEETS:
                notes = table_rows(path, name)
                assert cells(notes[0])[0].startswith(SYNTHETIC_MARKER), (path.name, name)
                assert all(len(cells(row)) <= 1 for row in notes), (path.name, name)


# --------------------------------------------------------------- recorded crime table


def test_preamble_says_synthetic_and_header_is_the_official_one(sample_file: Path) -> None:
    data = sample_file.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    data.decode("utf-8")
    with open(sample_file, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        preamble = next(reader)
        header = next(reader)
    assert len(preamble) == 1
    assert preamble[0].startswith(SYNTHETIC_MARKER)
    assert "Not official statistics" in preamble[0]
    assert header == OFFICIAL_HEADER


def test_england_and_wales_totals_match_published_figures(rows) -> None:
    assert total(rows, "8L", YE_DEC_2016) == 202755  # prc_harassment_ye_dec2016
    assert total(rows, "8Q", YE_DEC_2016) == 4613  # prc_stalking_ye_dec2016
    assert total(rows, "8L", YE_DEC_2015) == 132520
    assert total(rows, "8Q", YE_DEC_2015) == 3750


def test_year_on_year_changes_round_to_the_published_ones(rows) -> None:
    harassment = total(rows, "8L", YE_DEC_2016) / total(rows, "8L", YE_DEC_2015) - 1
    stalking = total(rows, "8Q", YE_DEC_2016) / total(rows, "8Q", YE_DEC_2015) - 1
    assert round(harassment * 100) == 53  # prc_harassment_change_ye_dec2016
    assert round(stalking * 100) == 23  # prc_stalking_change_ye_dec2016


def test_every_force_in_every_quarter_with_home_office_spelling(rows) -> None:
    cfg = Settings.from_env()
    with open(cfg.seeds_dir / "forces.csv", encoding="utf-8", newline="") as handle:
        area_codes = {r["area_code"] for r in csv.DictReader(handle)}
    with open(cfg.seeds_dir / "force_name_variants.csv", encoding="utf-8", newline="") as handle:
        variants = {normalise_name(r["name_variant"]): r["area_code"] for r in csv.DictReader(handle)}
    names = {r["Force Name"] for r in rows}
    assert len(names) == 44
    assert {variants[normalise_name(n)] for n in names} == area_codes
    assert "London, City of" in names and "City of London" not in names
    assert "Devon and Cornwall" in names and "British Transport Police" in names

    forces_per_cell: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in rows:
        forces_per_cell[(r["Financial Year"], r["Financial Quarter"], r["Offence Code"])].add(r["Force Name"])
    assert all(len(forces) == 44 for forces in forces_per_cell.values())
    assert len(rows) == sum(len(forces) for forces in forces_per_cell.values())  # no duplicate keys


def test_codes_appear_only_when_they_existed(rows) -> None:
    years = [f"{y}/{(y + 1) % 100:02d}" for y in range(2012, 2025)]
    periods = {(y, q) for y in years for q in range(1, 5)}
    assert all(re.fullmatch(r"20\d\d/\d\d", r["Financial Year"]) for r in rows)
    assert set(national(rows, "8L")) == periods
    assert set(national(rows, "8M")) == periods
    assert set(national(rows, "9A")) == periods
    assert set(national(rows, "8Q")) == {(y, q) for y, q in periods if y >= "2014/15"}
    assert set(national(rows, "8R")) == {(y, q) for y, q in periods if y >= "2017/18"}
    assert set(national(rows, "8U")) == {(y, q) for y, q in periods if y >= "2020/21"}
    labels = {
        (r["Offence Code"], r["Offence Description"], r["Offence Group"], r["Offence Subgroup"]) for r in rows
    }
    assert labels == {
        ("8L", "Harassment", "Violence against the person", "Stalking and harassment"),
        ("8M", "Racially or religiously aggravated harassment", "Violence against the person",
         "Stalking and harassment"),
        ("8Q", "Stalking", "Violence against the person", "Stalking and harassment"),
        ("8R", "Malicious communications", "Violence against the person", "Stalking and harassment"),
        ("8U", "Controlling or coercive behaviour", "Violence against the person", "Stalking and harassment"),
        ("9A", "Public fear, alarm or distress", "Public order offences", "Public order offences"),
    }  # fmt: skip


def test_national_series_follow_the_counting_rule_changes(rows) -> None:
    harassment = national(rows, "8L")
    assert harassment[("2015/16", 1)] > 1.3 * harassment[("2014/15", 4)]  # April 2015: additions
    assert harassment[("2017/18", 1)] < 0.75 * harassment[("2016/17", 4)]  # April 2017: to 8R
    assert harassment[("2018/19", 1)] > 1.2 * harassment[("2017/18", 4)]  # April 2018
    stalking = national(rows, "8Q")

    def year(series, fy):
        return sum(series[(fy, q)] for q in range(1, 5))

    assert 2500 < year(stalking, "2014/15") < 4500
    assert 80_000 <= year(stalking, "2020/21") <= 90_000  # April 2020: former partners
    assert 95_000 <= year(stalking, "2021/22") <= 105_000
    assert year(stalking, "2020/21") > 2 * year(stalking, "2019/20")


def test_controlling_or_coercive_behaviour_from_april_2020(rows) -> None:
    """8U: rows from 2020/21 Q1 only, for every force, about 9,000-11,000 a quarter at
    first and about 12,000 by 2024/25 in England and Wales."""
    coercive = national(rows, "8U")
    assert min(coercive) == ("2020/21", 1)
    assert all(9_000 <= n <= 11_000 for (fy, _), n in coercive.items() if fy == "2020/21")
    assert all(11_000 <= n <= 13_000 for (fy, _), n in coercive.items() if fy == "2024/25")
    assert sum(coercive[("2024/25", q)] for q in range(1, 5)) > sum(
        coercive[("2020/21", q)] for q in range(1, 5)
    )
    assert all(int(r["Number of Offences"]) >= 0 for r in rows if r["Offence Code"] == "8U")
    small = {r["Force Name"] for r in rows if r["Offence Code"] == "8U" and int(r["Number of Offences"]) < 20}
    assert small <= {"London, City of", "British Transport Police"}


def test_adding_8u_left_the_other_codes_alone(rows) -> None:
    """8U is drawn from its own stream after the rest: the other codes' figures are
    those the sample had before it (spot checks of England and Wales totals)."""
    assert national(rows, "8L")[("2024/25", 4)] == 58324
    assert national(rows, "8R")[("2020/21", 1)] == 36772
    assert national(rows, "9A")[("2023/24", 2)] == 67605
    assert total(rows, "8M", {("2022/23", q) for q in range(1, 5)}, "Metropolitan Police") == 1811


def test_forces_differ_widely_in_harassment_per_stalking_crime(rows) -> None:
    names = {r["Force Name"] for r in rows}
    ratios = {}
    for name in names:
        stalking = total(rows, "8Q", YE_DEC_2016, name)
        assert stalking > 0, name
        ratios[name] = total(rows, "8L", YE_DEC_2016, name) / stalking
    assert max(ratios.values()) / min(ratios.values()) > 5
    assert min(ratios.values()) < 20 and max(ratios.values()) > 150
    assert 43 < 202755 / 4613 < 45  # the national ratio the forces spread around


def test_corrections_are_negative_cells_but_no_negative_12_months(rows) -> None:
    negative = [r for r in rows if int(r["Number of Offences"]) < 0]
    assert negative
    assert {r["Offence Code"] for r in negative} == {"8M"}
    assert all(int(r["Number of Offences"]) >= -2 for r in negative)
    assert not any(
        (r["Financial Year"], int(r["Financial Quarter"])) in YE_DEC_2015 | YE_DEC_2016 for r in negative
    )

    series: dict[tuple[str, str], list[tuple[str, int, int]]] = defaultdict(list)
    for r in rows:
        series[(r["Force Name"], r["Offence Code"])].append(
            (r["Financial Year"], int(r["Financial Quarter"]), int(r["Number of Offences"]))
        )
    for key, values in series.items():
        values.sort()
        counts = [v for _, _, v in values]
        windows = [sum(counts[i : i + 4]) for i in range(len(counts) - 3)]
        assert min(windows) >= 0, key


def test_a_spelling_ingest_would_refuse_is_refused(tmp_path: Path) -> None:
    seeds = Settings.from_env().seeds_dir
    shutil.copy(seeds / "forces.csv", tmp_path / "forces.csv")
    with open(seeds / "force_name_variants.csv", encoding="utf-8", newline="") as src:
        kept = [line for line in src if not line.startswith('"London, City of"')]
    (tmp_path / "force_name_variants.csv").write_text("".join(kept), encoding="utf-8")
    with pytest.raises(ValueError, match="London, City of"):
        read_forces(tmp_path)
    assert len(read_forces(seeds)) == 44


@given(
    st.integers(min_value=0, max_value=10**7),
    st.lists(st.floats(min_value=0.001, max_value=1000), min_size=1, max_size=50),
)
def test_allocate_adds_up_exactly_and_stays_within_one_of_the_share(
    amount: int, weights: list[float]
) -> None:
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    weight_sum = sum(weights)
    assert all(abs(p - amount * w / weight_sum) < 1 + 1e-6 for p, w in zip(parts, weights, strict=True))
    assert all(p >= 0 for p in parts)
