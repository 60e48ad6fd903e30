"""The synthetic sample: layout, calibration to published figures, realism and determinism."""

from __future__ import annotations

import csv
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsinsight.config import Settings
from hsinsight.sample import FILE_NAME, allocate, read_forces, write_sample
from hsinsight.sources.base import SYNTHETIC_MARKER, normalise_name

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMMITTED = PROJECT_ROOT / "data" / "sample" / FILE_NAME

OFFICIAL_HEADER = [
    "Financial Year", "Financial Quarter", "Force Name", "Offence Description",
    "Offence Group", "Offence Subgroup", "Offence Code", "Number of Offences",
]  # fmt: skip

# The two 12-month windows ending 31 December, as (financial year, quarter).
YE_DEC_2015 = {("2014/15", 4), ("2015/16", 1), ("2015/16", 2), ("2015/16", 3)}
YE_DEC_2016 = {("2015/16", 4), ("2016/17", 1), ("2016/17", 2), ("2016/17", 3)}


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory) -> Path:
    (path,) = write_sample(tmp_path_factory.mktemp("sample"))
    return path


@pytest.fixture(scope="module")
def rows(sample_file: Path) -> list[dict[str, str]]:
    with open(sample_file, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # preamble
        header = next(reader)
        return [dict(zip(header, row, strict=True)) for row in reader]


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


def test_same_bytes_every_run(tmp_path: Path) -> None:
    (first,) = write_sample(tmp_path / "one")
    (second,) = write_sample(tmp_path / "two")
    assert first.name == second.name == FILE_NAME
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [FILE_NAME]  # no partial file left


def test_committed_sample_is_what_the_generator_writes(sample_file: Path) -> None:
    assert COMMITTED.exists(), "run `hsinsight sample --out data/sample`"
    assert COMMITTED.read_bytes() == sample_file.read_bytes(), (
        "data/sample is out of date: regenerate it with `hsinsight sample --out data/sample`"
    )


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
    assert sample_file.stat().st_size < 1_100_000


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
    labels = {
        (r["Offence Code"], r["Offence Description"], r["Offence Group"], r["Offence Subgroup"]) for r in rows
    }
    assert labels == {
        ("8L", "Harassment", "Violence against the person", "Stalking and harassment"),
        ("8M", "Racially or religiously aggravated harassment", "Violence against the person",
         "Stalking and harassment"),
        ("8Q", "Stalking", "Violence against the person", "Stalking and harassment"),
        ("8R", "Malicious communications", "Violence against the person", "Stalking and harassment"),
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
