"""The synthetic sample's other sources, read back from the written files: calibration
to published figures, consistency between sources, and the shape of each file."""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest

from hsinsight.config import Settings
from hsinsight.sample import write_sample
from hsinsight.sources.base import normalise_name

OUTCOME_HEADER = "Outcomes for offences that were recorded in the quarter"
RECORDED = OUTCOME_HEADER
CLOSED = "Outcomes for investigations closed in the quarter"
NOT_PROVIDED = "N/A - data not provided"
WINDOW = {("2015/16", 4), ("2016/17", 1), ("2016/17", 2), ("2016/17", 3)}  # 12 months to Dec 2016

#: Published shares of assigned outcomes, closed basis, 12 months to December 2016,
#: by outcome group key (published_figures.csv: outcome_share_<offence>_<measure>).
PUBLISHED_SHARES = {
    "8L": {
        "charged_summonsed": 11, "evidential_difficulties_victim_does_not_support": 39,
        "evidential_difficulties_victim_supports": 23, "no_suspect_identified": 19,
        "prosecution_prevented_or_not_in_public_interest": 2, "out_of_court_informal": 2,
        "out_of_court_formal": 2, "further_investigation_not_in_public_interest": 1,
        "transferred_to_another_body": 0, "taken_into_consideration": 0,
    },
    "8Q": {
        "charged_summonsed": 20, "evidential_difficulties_victim_does_not_support": 33,
        "evidential_difficulties_victim_supports": 28, "no_suspect_identified": 11,
        "prosecution_prevented_or_not_in_public_interest": 2, "out_of_court_informal": 1,
        "out_of_court_formal": 3, "further_investigation_not_in_public_interest": 1,
        "transferred_to_another_body": 1, "taken_into_consideration": 0,
    },
}  # fmt: skip

S2 = "Protection from Harassment Act 1997 S.2 - Summary offence of harassment"
S2A = "Pursue course of conduct in breach of prohibition of harassment, which amounts to stalking"
S4 = "Other harassment - Putting people in fear of violence"
S4A_FEAR = "Stalking involving fear of violence"
S4A_DISTRESS = "Stalking involving serious alarm or distress"
BREACH = "Breach of a restraining order"
NON_MOLESTATION = "Breach of a non-molestation order"
STALKING_OFFENCES = (S2A, S4A_FEAR, S4A_DISTRESS)
MORE_THAN_12_MONTHS = (
    "05: More than 12 months and up to 18 months",
    "06: More than 18 months and up to 2 years",
    "07: More than 2 years and up to 3 years",
    "08: More than 3 years and up to 5 years",
    "09: More than 5 years",
)


# --------------------------------------------------------------------------- reading


def table(rows: list[list[object]]) -> list[dict[str, object]]:
    """Rows below the first row that looks like a header (most non-empty text cells)."""
    filled = [sum(1 for v in row[:30] if v not in (None, "")) for row in rows[:30]]
    index = filled.index(max(filled))
    header = [str(v) for v in rows[index]]
    return [
        dict(zip(header, row, strict=False))
        for row in rows[index + 1 :]
        if any(v not in (None, "") for v in row)
    ]


def workbook_rows(path: Path, name: str) -> list[list[object]]:
    """A sheet's rows as pandas reads them (whole numbers as int, empty cells as None)."""
    engine = "odf" if path.suffix == ".ods" else "calamine"
    frame = pd.read_excel(path, sheet_name=name, header=None, dtype=object, engine=engine)
    return [[_plain(v) for v in row] for row in frame.itertuples(index=False)]


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def sheet(path: Path, name: str) -> list[dict[str, object]]:
    return table(workbook_rows(path, name))


def title_rows(path: Path, name: str) -> list[str]:
    return [str(row[0]) for row in workbook_rows(path, name)[:4] if row and row[0]]


def csv_table(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)  # title row
    header = next(reader)
    return [dict(zip(header, row, strict=True)) for row in reader]


def seed_rows(name: str) -> list[dict[str, str]]:
    with open(Settings.from_env().seeds_dir / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def number(value: object) -> int | None:
    """A count cell: an int, or None for a suppression marker."""
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


# -------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(out)
    return out


@pytest.fixture(scope="module")
def recorded_crime(folder: Path) -> dict[tuple[str, str, int, str], int]:
    """(force name, financial year, quarter, code) -> crimes."""
    text = (folder / "home_office_police_recorded_crime_pfa.csv").read_text(encoding="utf-8")
    return {
        (r["Force Name"], r["Financial Year"], int(r["Financial Quarter"]), r["Offence Code"]): int(
            r["Number of Offences"]
        )
        for r in csv_table(text)
    }


@pytest.fixture(scope="module")
def outcome_rows(folder: Path) -> list[dict[str, object]]:
    rows = []
    for year in range(2015, 2026):
        rows += sheet(
            folder / f"prc-outcomes-open-data-mar{year}-tables-synthetic.xlsx", "Outcomes_open_data"
        )
    return rows


@pytest.fixture(scope="module")
def group_key() -> dict[int, str]:
    return {int(r["outcome_type"]): r["outcome_group_key"] for r in seed_rows("outcome_types.csv")}


@pytest.fixture(scope="module")
def court_rows(folder: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(folder / "moj-outcomes-by-offence-2012-2024-synthetic.zip") as archive:
        return csv_table(archive.read("court-outcomes-by-pfa-2012-2024-synthetic.csv").decode("utf-8"))


@pytest.fixture(scope="module")
def order_rows(folder: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(folder / "moj-outcomes-by-offence-2012-2024-synthetic.zip") as archive:
        return csv_table(archive.read("restraining-orders-by-pfa-2012-2024-synthetic.csv").decode("utf-8"))


@pytest.fixture(scope="module")
def cps_rows(folder: Path) -> list[dict[str, object]]:
    return sheet(
        folder / "cps-vawg-stalking-harassment-2012-13-to-2024-25-synthetic.xlsx", "Stalking and harassment"
    )


def charged(outcome_rows, code: str, fy: str) -> int:
    return sum(
        number(r[CLOSED]) or 0
        for r in outcome_rows
        if r["Offence Code"] == code and r["Financial Year"] == fy and r["Outcome Type"] == 1
    )


def moj_total(court_rows, offences, year: int, convicted: bool | None = None) -> int:
    return sum(
        int(r["Count"])
        for r in court_rows
        if r["Offence"] in offences
        and int(r["Year of Appearance"]) == year
        and (convicted is None or (r["Convicted/Not Convicted"] == "01: Convicted") == convicted)
    )


# ------------------------------------------------------------------ crime outcomes


def test_outcome_shares_round_to_the_published_ones(outcome_rows, group_key) -> None:
    for code, published in PUBLISHED_SHARES.items():
        groups: Counter[str] = Counter()
        for r in outcome_rows:
            if r["Offence Code"] == code and (r["Financial Year"], r["Financial Quarter"]) in WINDOW:
                if r["Outcome Type"] != 0:
                    groups[group_key[r["Outcome Type"]]] += number(r[CLOSED])
        assigned = sum(groups.values())
        assert set(groups) <= set(published), code
        shares = {g: round(100 * groups[g] / assigned) for g in published}
        assert shares == published, code


def test_outcomes_cover_every_force_code_and_valid_type(outcome_rows, group_key) -> None:
    forces = {r["Force Name"] for r in outcome_rows}
    assert len(forces) == 44 and "London, City of" in forces and "British Transport Police" in forces
    assert {r["Financial Year"] for r in outcome_rows} == {
        f"{y}/{(y + 1) % 100:02d}" for y in range(2014, 2025)
    }
    assert {r["Offence Code"] for r in outcome_rows} == {"8L", "8M", "8Q", "8R"}
    assert min(r["Financial Year"] for r in outcome_rows if r["Offence Code"] == "8R") == "2017/18"
    assert all(r["Outcome Type"] in group_key and r["Outcome Type"] != 19 for r in outcome_rows)
    assert min(
        (r["Financial Year"], r["Financial Quarter"]) for r in outcome_rows if r["Outcome Type"] == 21
    ) == (
        "2015/16",
        4,
    )
    assert min(r["Financial Year"] for r in outcome_rows if r["Outcome Type"] == 22) == "2019/20"
    assert all(r["Offence code expired"] in (None, "") for r in outcome_rows)
    for r in outcome_rows:
        assert r[RECORDED] != 0 or r[CLOSED] != 0, "only rows with a count on either basis"
    keys = Counter(
        (r["Financial Year"], r["Financial Quarter"], r["Force Name"], r["Offence Code"], r["Outcome Type"])
        for r in outcome_rows
    )
    assert max(keys.values()) == 1


def test_outcome_labels_are_those_of_the_seed(outcome_rows) -> None:
    seed = {
        int(r["outcome_type"]): (r["outcome_description"], r["outcome_group"])
        for r in seed_rows("outcome_types.csv")
    }
    for r in outcome_rows:
        assert (r["Outcome Description"], r["Outcome Group"]) == seed[r["Outcome Type"]]


def test_closed_outcomes_follow_recorded_crime(outcome_rows, recorded_crime) -> None:
    closed: Counter[tuple[str, str, str]] = Counter()
    crimes: Counter[tuple[str, str, str]] = Counter()
    for r in outcome_rows:
        if r["Outcome Type"] != 0 and number(r[CLOSED]) is not None:
            closed[(r["Force Name"], r["Financial Year"], r["Offence Code"])] += number(r[CLOSED])
    for (force, fy, _, code), n in recorded_crime.items():
        if code in ("8L", "8M", "8Q", "8R") and fy >= "2015/16":
            crimes[(force, fy, code)] += n
    for key, n in crimes.items():
        if n >= 100:
            assert 0.85 * n <= closed[key] <= 1.02 * n, key
    national = defaultdict(lambda: [0, 0])
    for (_, fy, code), n in crimes.items():
        national[(fy, code)][0] += n
    for (_, fy, code), n in closed.items():
        if fy >= "2015/16":
            national[(fy, code)][1] += n
    for key, (n, assigned) in national.items():
        assert 0.9 * n <= assigned <= n, key


def test_recorded_basis_counts_every_recorded_crime_once(outcome_rows, recorded_crime) -> None:
    sums: Counter[tuple[str, str, int, str]] = Counter()
    missing = set()
    for r in outcome_rows:
        key = (r["Force Name"], r["Financial Year"], r["Financial Quarter"], r["Offence Code"])
        if number(r[RECORDED]) is None:
            missing.add(key)
        else:
            sums[key] += number(r[RECORDED])
    for key, n in recorded_crime.items():
        if key[3] in ("8L", "8M", "8Q", "8R") and key[1] >= "2014/15" and key not in missing:
            assert sums[key] == n, key


def test_not_yet_assigned_is_larger_for_recent_quarters(outcome_rows) -> None:
    def share(fy: str, q: int) -> float:
        rows = [r for r in outcome_rows if (r["Financial Year"], r["Financial Quarter"]) == (fy, q)]
        pending = sum(number(r[RECORDED]) or 0 for r in rows if r["Outcome Type"] == 0)
        return pending / sum(number(r[RECORDED]) or 0 for r in rows)

    assert share("2024/25", 4) > share("2024/25", 2) > share("2023/24", 4) > share("2019/20", 4)
    assert share("2024/25", 4) > 0.3 and share("2018/19", 1) < 0.05


def test_charge_rates_fall_as_reported(outcome_rows, group_key) -> None:
    def rate(code: str, fy: str) -> float:
        assigned = sum(
            number(r[CLOSED]) or 0
            for r in outcome_rows
            if r["Offence Code"] == code and r["Financial Year"] == fy and r["Outcome Type"] != 0
        )
        return charged(outcome_rows, code, fy) / assigned

    assert 0.34 <= rate("8Q", "2014/15") <= 0.40  # about 37% (BBC Shared Data Unit)
    assert 0.045 <= rate("8Q", "2021/22") <= 0.08  # about 6%
    assert 0.13 <= rate("8L", "2014/15") <= 0.17
    assert 0.045 <= rate("8L", "2021/22") <= 0.075
    assert rate("8Q", "2014/15") > rate("8Q", "2017/18") > rate("8Q", "2019/20") > rate("8Q", "2021/22")


def test_outcome_corrections_and_missing_counts(outcome_rows) -> None:
    negative = [r for r in outcome_rows if (number(r[CLOSED]) or 0) < 0 or (number(r[RECORDED]) or 0) < 0]
    assigned_negative = [r for r in negative if r["Outcome Type"] != 0]
    assert 3 <= len(assigned_negative) <= 12
    assert all(min(number(r[CLOSED]) or 0, number(r[RECORDED]) or 0) >= -3 for r in assigned_negative)
    assert not any((r["Financial Year"], r["Financial Quarter"]) in WINDOW for r in negative)

    for basis in (RECORDED, CLOSED):
        series: dict[tuple[str, str, int], dict[int, int]] = defaultdict(dict)
        for r in outcome_rows:
            value = number(r[basis])
            if r["Outcome Type"] != 0 and value is not None:
                index = int(r["Financial Year"][:4]) * 4 + r["Financial Quarter"]
                series[(r["Force Name"], r["Offence Code"], r["Outcome Type"])][index] = value
        for key, values in series.items():
            for end in range(min(values) + 3, max(values) + 4):
                assert sum(values.get(i, 0) for i in range(end - 3, end + 1)) >= 0, (basis, key, end)

    missing = [r for r in outcome_rows if r[RECORDED] == NOT_PROVIDED or r[CLOSED] == NOT_PROVIDED]
    assert missing and all(r[RECORDED] == r[CLOSED] == NOT_PROVIDED for r in missing)
    assert {r["Financial Year"] for r in missing} == {"2014/15"}
    assert 2 <= len({r["Force Name"] for r in missing}) <= 3
    assert all(isinstance(number(r[RECORDED]), int) for r in outcome_rows if r not in missing)


# -------------------------------------------------------------- ONS force area tables


@pytest.mark.parametrize(
    ("name", "period", "quarters"),
    [
        ("police-force-area-data-tables-year-ending-december-2016-synthetic.xlsx", "year ending December 2016",
         WINDOW),
        ("police-force-area-data-tables-year-ending-march-2024-synthetic.ods", "year ending March 2024",
         {("2023/24", q) for q in range(1, 5)}),
    ],
)  # fmt: skip
def test_ons_stalking_and_harassment_is_the_recorded_crime_sum(
    folder, recorded_crime, name, period, quarters
):
    path = folder / name
    raw = workbook_rows(path, "Table P1")
    assert any(period in str(row[0]) and str(row[0]).startswith("Table P1") for row in raw[:4])
    rows = {r["Area Code"]: r for r in table(raw)}
    forces = {r["area_code"]: r["area_name"] for r in seed_rows("forces.csv")}
    variants = {
        normalise_name(r["name_variant"]): r["area_code"] for r in seed_rows("force_name_variants.csv")
    }
    ho_name = {variants[normalise_name(k[0])]: k[0] for k in recorded_crime}
    codes = ("8L", "8M", "8Q", "8R", "8U")  # the ONS subgroup, each code over the years it exists

    def recorded(area: str) -> int:
        return sum(
            n
            for (f, fy, q, c), n in recorded_crime.items()
            if f == ho_name[area] and (fy, q) in quarters and c in codes
        )

    territorial = [c for c in forces if c != "BTP"]
    assert set(rows) == {"K04000001", "E92000001", "W92000004", *territorial}
    for code in territorial:
        assert int(rows[code]["Stalking and harassment"]) == recorded(code), code
        assert int(rows[code]["Total recorded crime (excluding fraud)"]) > int(
            rows[code]["Violence against the person"]
        )
        assert int(rows[code]["Violence against the person"]) >= int(rows[code]["Stalking and harassment"])
    column = "Stalking and harassment"
    assert int(rows["K04000001"][column]) == sum(
        recorded(c) for c in forces
    )  # British Transport Police included
    assert int(rows["E92000001"][column]) == sum(recorded(c) for c in territorial if c.startswith("E"))
    assert int(rows["W92000004"][column]) == sum(recorded(c) for c in territorial if c.startswith("W"))
    assert rows["E23000034"]["Area Name"] == "London, City of"


# ------------------------------------------------------ ONS Appendix Table A5a


APPENDIX = "appendix-tables-year-ending-march-2025-synthetic.xlsx"
FINANCIAL_YEARS = [f"{y}/{(y + 1) % 100:02d}" for y in range(2012, 2025)]
PERIOD_HEADERS = [f"Apr {y} to \n Mar {y + 1}" for y in range(2012, 2025)]
FIRST_YEAR_OF = {"8L": "2012/13", "8M": "2012/13", "8Q": "2014/15", "8R": "2017/18", "8U": "2020/21"}


def financial_year_sums(recorded_crime, code: str) -> dict[str, int]:
    sums: Counter[str] = Counter()
    for (_, fy, _, c), n in recorded_crime.items():
        if c == code:
            sums[fy] += n
    return dict(sums)


@pytest.fixture(scope="module")
def appendix_rows(folder: Path) -> list[list[object]]:
    return workbook_rows(folder / APPENDIX, "Table_A5a")


def test_appendix_is_laid_out_like_table_a5a(folder, appendix_rows) -> None:
    names = list(pd.read_excel(folder / APPENDIX, sheet_name=None, header=None, engine="calamine"))
    assert names == ["Cover Sheet", "Notes", "Table_A5a"]
    preamble = [str(row[0]) for row in appendix_rows[:5]]
    assert preamble[0].startswith("SYNTHETIC SAMPLE DATA")
    assert "year ending March 2013 to year ending March 2025" in preamble[1]
    header = appendix_rows[5]
    assert header == [
        "Offence\n code",
        "Offence category",
        *PERIOD_HEADERS,
        "Mar 2024 with\n Mar 2025\n % change",
    ]
    rows = appendix_rows[6:]
    assert [r[0] for r in rows] == [1, "8L", "8M", "8Q", "8R", "8U", None, "9A"]
    assert all(re.search(r"\[notes? [\d, ]+\]$", str(r[1])) for r in rows)
    assert rows[6][1] == "Stalking and harassment [note 22, 27]"
    # no rolling 12-month columns: the sample's last quarter ends March 2025
    assert len(header) == 2 + len(PERIOD_HEADERS) + 1


def test_appendix_totals_are_the_recorded_crime_sums(appendix_rows, recorded_crime) -> None:
    rows = {r[0] if r[0] is not None else r[1]: r[2:-1] for r in appendix_rows[6:]}
    subtotal = [0] * len(FINANCIAL_YEARS)
    for code, first in FIRST_YEAR_OF.items():
        sums = financial_year_sums(recorded_crime, code)
        for i, fy in enumerate(FINANCIAL_YEARS):
            value = rows[code][i]
            if fy < first:
                assert value == "[x]" and fy not in sums, (code, fy)
            else:
                assert value == sums[fy], (code, fy)  # England and Wales, British Transport Police included
                subtotal[i] += value
    assert rows["Stalking and harassment [note 22, 27]"] == subtotal
    fear = financial_year_sums(recorded_crime, "9A")
    assert rows["9A"] == [fear[fy] for fy in FINANCIAL_YEARS]
    assert all(isinstance(v, int) and 400 <= v <= 700 for v in rows[1])  # Murder, invented
    for r in appendix_rows[6:]:
        latest, previous, change = r[-2], r[-3], r[-1]
        assert math.isclose(change, (latest / previous - 1) * 100)


def test_appendix_is_read_with_its_layout(folder, tmp_path) -> None:
    from hsinsight import ingest

    raw = tmp_path / "raw"
    raw.mkdir()
    for name in (APPENDIX, ROLLING):
        shutil.copy(folder / name, raw / name)
    report = ingest.ingest_directory(raw, tmp_path / "w.duckdb", Settings.from_env())
    loaded = {(f["file"], f["layout"]): f["rows"] for f in report["files"] if f.get("action") == "loaded"}
    assert loaded == {
        (APPENDIX, "ons_appendix_a5a_v1"): 8 * len(FINANCIAL_YEARS),
        (ROLLING, "home_office_prc_rolling_v1"): 49 * 44 * 2,
    }
    assert report["synthetic"]


# ------------------------------------------------- Home Office rolling 12-month totals


ROLLING = "rec-crime-pfa-synthetic.csv"


def quarter_end(fy: str, q: int) -> str:
    year = int(fy[:4])
    return {1: f"30/06/{year}", 2: f"30/09/{year}", 3: f"31/12/{year}", 4: f"31/03/{year + 1}"}[q]


def test_rolling_totals_are_12_month_sums_of_recorded_crime(folder, recorded_crime) -> None:
    data = (folder / ROLLING).read_bytes()
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines), "CRLF line ends"
    assert lines[1] == b"12 months ending,PFA,Region,Offence,Rolling year total number of offences"
    rows = csv_table(data.decode("utf-8"))
    periods = [(fy, q) for fy in FINANCIAL_YEARS for q in range(1, 5)]
    ends = [quarter_end(*p) for p in periods]
    ends[ends.index("31/12/2017")] = "30/12/2017"  # the real file's slip, reproduced once
    dates = list(dict.fromkeys(r["12 months ending"] for r in rows))
    assert dates == ends[3:]  # from the first complete 12 months, 31 March 2013
    assert "31/12/2017" not in dates

    ho_name = {"City of London": "London, City of"}
    forces = {r["PFA"] for r in rows}
    assert len(forces) == 44 and {"City of London", "British Transport Police"} <= forces
    assert "London, City of" not in forces
    assert all(r["Region"] for r in rows)
    assert {r["Region"] for r in rows if r["PFA"] == "British Transport Police"} == {
        "British Transport Police"
    }
    assert {r["Offence"] for r in rows} == {"Stalking and harassment", "Public order offences"}
    assert len(rows) == len(dates) * 44 * 2
    codes = {"Stalking and harassment": ("8L", "8M", "8Q", "8R", "8U"), "Public order offences": ("9A",)}
    index = dict(zip(ends, range(len(ends)), strict=True))
    for r in rows:
        end = index[r["12 months ending"]]
        window = periods[end - 3 : end + 1]
        force = ho_name.get(r["PFA"], r["PFA"])
        expected = sum(
            recorded_crime.get((force, fy, q, code), 0) for code in codes[r["Offence"]] for fy, q in window
        )
        assert int(r["Rolling year total number of offences"]) == expected, r


# --------------------------------------------------------------------------- CPS


def test_cps_national_is_the_sum_of_areas_and_matches_published_figures(cps_rows) -> None:
    national = {}
    areas: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for r in cps_rows:
        key = (r["Financial Year"], r["Offence"])
        pair = (int(r["Prosecutions"]), int(r["Convictions"]))
        assert pair[1] <= pair[0]
        assert r["Conviction Rate"] == round(100 * pair[1] / pair[0], 1)
        if r["CPS Area"] == "National":
            national[key] = pair
        else:
            areas[key].append(pair)
    assert len(national) == 26
    for key, pair in national.items():
        assert pair == tuple(map(sum, zip(*areas[key], strict=True))), key
        assert 0.65 <= pair[1] / pair[0] <= 0.80, key
    assert national[("2014-15", "Stalking")][0] == 1103  # cps_stalking_prosecutions_fy2014_15
    assert national[("2015-16", "Stalking")][0] == 1102  # cps_stalking_prosecutions_fy2015_16
    assert national[("2015-16", "Stalking")][0] + national[("2015-16", "Harassment")][0] == 12986
    assert national[("2013-14", "Stalking")][0] == 743  # docs/sources.md, section 3 (unconfirmed)
    assert national[("2013-14", "Harassment")][0] == 9792
    assert national[("2012-13", "Stalking")][0] + national[("2012-13", "Harassment")][0] == 8648


def test_cps_areas_change_with_the_london_split(cps_rows) -> None:
    variants = {normalise_name(r["name_variant"]) for r in seed_rows("cps_area_name_variants.csv")}
    by_year: dict[str, set[str]] = defaultdict(set)
    for r in cps_rows:
        assert normalise_name(r["CPS Area"]) in variants
        by_year[r["Financial Year"]].add(r["CPS Area"])
    assert sorted(by_year) == [f"{y}-{(y + 1) % 100:02d}" for y in range(2012, 2025)]
    for fy, names in by_year.items():
        if fy <= "2016-17":
            assert len(names) == 14 and "London" in names and "London North" not in names, fy
        else:
            assert len(names) == 15 and {"London North", "London South"} <= names and "London" not in names, (
                fy
            )
    assert all(int(r["Prosecutions"]) > 0 for r in cps_rows)


def test_stalking_prosecutions_rise_far_less_than_recorded_stalking(cps_rows, recorded_crime) -> None:
    def prosecutions(fy: str) -> int:
        return next(
            int(r["Prosecutions"])
            for r in cps_rows
            if r["CPS Area"] == "National" and r["Offence"] == "Stalking" and r["Financial Year"] == fy
        )

    def stalking(fy: str) -> int:
        return sum(n for (_, year, _, code), n in recorded_crime.items() if year == fy and code == "8Q")

    assert prosecutions("2024-25") > 2 * prosecutions("2015-16")
    assert prosecutions("2021-22") / prosecutions("2015-16") < stalking("2021/22") / stalking("2015/16") / 4
    assert prosecutions("2021-22") / stalking("2021/22") < prosecutions("2015-16") / stalking("2015/16") / 5


# --------------------------------------------------------------------------- MoJ


def test_moj_totals_match_published_figures(court_rows) -> None:
    assert moj_total(court_rows, (S2, S4), 2014) == 7875  # moj_s2_s4_prosecuted_2014
    assert moj_total(court_rows, (S2, S4), 2015) == 8419  # moj_s2_s4_prosecuted_2015
    assert moj_total(court_rows, (S2A,), 2014) == 509
    assert moj_total(court_rows, (S2A,), 2015) == 481
    assert round(100 * moj_total(court_rows, (S2A,), 2014, True) / 509) == 68
    assert round(100 * moj_total(court_rows, (S2A,), 2015, True) / 481) == 70
    assert moj_total(court_rows, (S4A_FEAR,), 2014) == 94
    assert moj_total(court_rows, (S4A_FEAR,), 2015) == 74
    assert round(100 * moj_total(court_rows, (S4A_FEAR,), 2014, True) / 94) == 40
    assert round(100 * moj_total(court_rows, (S4A_FEAR,), 2015, True) / 74) == 61
    assert moj_total(court_rows, (S4A_DISTRESS,), 2014) == 218
    assert moj_total(court_rows, (S4A_DISTRESS,), 2015) == 225
    assert moj_total(court_rows, (S4A_DISTRESS,), 2014, True) == 109
    assert moj_total(court_rows, (S4A_DISTRESS,), 2015, True) == 149
    assert moj_total(court_rows, (BREACH,), 2014) == 8506
    assert moj_total(court_rows, (BREACH,), 2015) == 9594
    assert moj_total(court_rows, (BREACH,), 2014, True) == 7543
    assert moj_total(court_rows, (BREACH,), 2015, True) == 8631


def test_moj_long_custodial_sentences_match_mappa_figures(court_rows) -> None:
    def long(offences, lengths) -> int:
        return sum(
            int(r["Count"])
            for r in court_rows
            if r["Offence"] in offences
            and r["Year of Appearance"] == "2016"
            and r["Outcome"] == "15: Immediate custody"
            and r["Sentenced/Not Sentenced"] == "01: Sentenced"
            and r["Custodial Sentence Length"] in lengths
        )

    assert long(STALKING_OFFENCES, MORE_THAN_12_MONTHS) == 37  # moj_mappa_stalking_12m_plus_2016
    assert long((S4,), MORE_THAN_12_MONTHS) == 93  # moj_mappa_harassment_12m_plus_2016
    # "12 months or more" gives the same figures.
    with_twelve = (*MORE_THAN_12_MONTHS, "04: 12 months")
    assert long(STALKING_OFFENCES, with_twelve) == 37 and long((S4,), with_twelve) == 93


def test_restraining_orders_match_published_figures(order_rows) -> None:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in order_rows:
        assert r["Offence"] == "All offences"
        sums[r["Year"]][0] += int(r["Restraining orders issued on conviction"])
        sums[r["Year"]][1] += int(r["Restraining orders issued on acquittal"])
    assert sums["2014"] == [19410, 2062]  # moj_ro_on_conviction_2014, moj_ro_on_acquittal_2014
    assert sums["2015"] == [20693, 2328]  # moj_ro_on_conviction_2015, moj_ro_on_acquittal_2015
    assert sorted(sums) == [str(y) for y in range(2012, 2025)]
    assert len({(r["Year"], r["Police Force Area"]) for r in order_rows}) == len(order_rows)


def test_moj_rows_are_well_formed(court_rows, order_rows) -> None:
    variants = {
        normalise_name(r["name_variant"]): r["area_code"] for r in seed_rows("force_name_variants.csv")
    }
    areas = {r["Police Force Area"] for r in court_rows} | {r["Police Force Area"] for r in order_rows}
    assert all(normalise_name(a) in variants for a in areas)
    assert {"Devon & Cornwall", "Dyfed Powys", "Metropolitan Police", "Not known"} <= areas
    assert len({variants[normalise_name(a)] for a in areas if a != "Not known"}) == 43
    assert not areas & {"British Transport Police", "BTP"}
    dimensions = [h for h in court_rows[0] if h != "Count"]
    keys = Counter(tuple(r[h] for h in dimensions) for r in court_rows)
    assert max(keys.values()) == 1
    assert all(int(r["Count"]) > 0 for r in court_rows)
    assert {r["Offence"] for r in court_rows} == {
        S2,
        S2A,
        S4,
        S4A_FEAR,
        S4A_DISTRESS,
        BREACH,
        NON_MOLESTATION,
    }
    for offence in STALKING_OFFENCES:
        assert min(int(r["Year of Appearance"]) for r in court_rows if r["Offence"] == offence) == 2013
    for r in court_rows:
        custody = r["Outcome"] == "15: Immediate custody"
        assert bool(r["Custodial Sentence Length"]) == custody
        assert (r["Convicted/Not Convicted"] == "01: Convicted") == (
            r["Sentenced/Not Sentenced"] == "01: Sentenced"
        )
        if r["Court Type"] == "02: Magistrates Court" and custody:
            assert r["Custodial Sentence Length"] == "01: Up to and including 6 months"
        if r["Offence"] in (S2, S2A):
            assert r["Court Type"] == "02: Magistrates Court"
        assert r["Outcome"][:2].isdigit() and r["Outcome"][2:4] == ": "


def test_convicted_never_exceeds_prosecuted_and_prosecutions_trail_charges(court_rows, outcome_rows) -> None:
    tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in court_rows:
        entry = tally[(r["Police Force Area"], r["Year of Appearance"], r["Offence"])]
        entry[0] += int(r["Count"])
        entry[1] += int(r["Count"]) if r["Convicted/Not Convicted"] == "01: Convicted" else 0
    assert all(convicted <= prosecuted for prosecuted, convicted in tally.values())
    for year in range(2014, 2025):
        fy = f"{year}/{(year + 1) % 100:02d}"
        assert moj_total(court_rows, STALKING_OFFENCES, year) < charged(outcome_rows, "8Q", fy), year
        assert moj_total(court_rows, (S2, S4), year) < charged(outcome_rows, "8L", fy), year
        for offences in (STALKING_OFFENCES, (S2, S4), (BREACH,)):
            ratio = moj_total(court_rows, offences, year, True) / moj_total(court_rows, offences, year)
            assert 0.55 <= ratio <= 0.95, (year, offences)


# ------------------------------------------------------------------ population, CSEW


def test_population_is_consistent_and_of_real_magnitude(folder) -> None:
    path = folder / "ons-mid-year-population-estimates-pfa-mid-2012-to-mid-2024-synthetic.xlsx"
    assert list(pd.read_excel(path, sheet_name=None, header=None, engine="calamine")) == [
        "Notes",
        *[f"Mid-{y}" for y in range(2012, 2025)],
    ]
    forces = {r["area_code"] for r in seed_rows("forces.csv")} - {"BTP"}
    totals = {}
    for year in range(2012, 2025):
        assert f"mid-{year}" in title_rows(path, f"Mid-{year}")[1]
        table = sheet(path, f"Mid-{year}")
        by_key = {(r["Code"], r["Sex"], r["Age group"]): r for r in table}
        assert len(by_key) == len(table), "one row per area, sex and age group"
        rows = {code: r for (code, sex, age), r in by_key.items() if (sex, age) == ("Persons", "All ages")}
        assert set(rows) == forces | {"K04000001"}
        # the only other rows: England and Wales aged 16 to 59 by sex
        assert set(by_key) - {(c, "Persons", "All ages") for c in rows} == {
            ("K04000001", sex, "Aged 16 to 59") for sex in ("Males", "Females", "Persons")
        }
        assert rows["K04000001"]["Population"] == sum(rows[c]["Population"] for c in forces)
        assert {rows[c]["Geography"] for c in forces} == {"Police Force Area"}
        assert rows["K04000001"]["Geography"] == "Country"
        assert rows["E23000034"]["Population"] < 12_000  # City of London
        assert 7_500_000 < rows["E23000001"]["Population"] < 9_500_000  # Metropolitan Police
        totals[year] = rows["K04000001"]["Population"]
        aged = {
            sex: by_key[("K04000001", sex, "Aged 16 to 59")]["Population"]
            for sex in ("Males", "Females", "Persons")
        }
        assert aged["Persons"] == aged["Males"] + aged["Females"]
        assert 0.57 <= aged["Persons"] / totals[year] <= 0.60
        assert 0.48 <= aged["Males"] / aged["Persons"] <= 0.52
    assert abs(totals[2012] - 56_900_000) < 200_000
    assert abs(totals[2024] - 61_800_000) < 200_000
    assert all(totals[y] < totals[y + 1] for y in range(2012, 2024))


def test_csew_prevalence_matches_the_published_figure_and_is_coherent(folder) -> None:
    rows = sheet(folder / "csew-stalking-prevalence-2012-13-to-2023-24-synthetic.xlsx", "Table S1")
    values = {(r["Survey year"], r["Behaviour"], r["Measure"], r["Sex"]): r for r in rows}
    assert len(values) == len(rows)
    assert (
        values[("2015/16", "Stalking and/or harassment", "Since the age of 16", "All adults")]["Percentage"]
        == 15.0
    )
    years = sorted({r["Survey year"] for r in rows})
    assert years[0] == "2012/13" and years[-1] == "2023/24" and "2020/21" not in years
    for r in rows:
        assert r["Age group"] == "16-59"
        assert r["Lower 95% confidence interval"] < r["Percentage"] < r["Upper 95% confidence interval"]
        assert round(r["Percentage"], 1) == r["Percentage"]
        assert r["Unweighted base"] > 1000
    for year in years:

        def pct(behaviour, measure, sex, year=year):
            return values[(year, behaviour, measure, sex)]["Percentage"]

        for behaviour, measure in (
            ("Stalking", "In the last year"),
            ("Stalking", "Since the age of 16"),
            ("Stalking and/or harassment", "Since the age of 16"),
        ):
            assert (
                pct(behaviour, measure, "Men")
                < pct(behaviour, measure, "All adults")
                < pct(behaviour, measure, "Women")
            )
        assert 3.5 <= pct("Stalking", "In the last year", "All adults") <= 4.7
        assert 18 <= pct("Stalking", "Since the age of 16", "Women") <= 22  # about 1 in 5 women
        assert 8 <= pct("Stalking", "Since the age of 16", "Men") <= 11  # about 1 in 10 men
        for sex in ("Men", "Women", "All adults"):
            assert pct("Stalking and/or harassment", "Since the age of 16", sex) >= pct(
                "Stalking", "Since the age of 16", sex
            )
    assert not math.isnan(sum(r["Percentage"] for r in rows))
