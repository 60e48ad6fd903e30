"""marts.published_totals built by the real pipeline from the real official files in
tests/fixtures/official/: the publishers' totals exactly as printed, and the same
totals computed from the Home Office quarterly data.

One warehouse is built per module (``pipeline.run`` on a flat copy of the files:
four ONS police force area workbooks, the ONS Appendix tables for the year ending
September 2025, the Home Office rolling 12-month table and the Home Office 2017/18
recorded crime sheet).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight.names import NATIONAL_CODE

OFFICIAL = Path(__file__).resolve().parents[1] / "fixtures" / "official"
SURREY = "E23000031"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The pipeline's result on a flat copy of the official files (built once)."""
    from hsinsight import pipeline

    base = tmp_path_factory.mktemp("published-totals")
    raw = base / "raw"
    raw.mkdir()
    for path in sorted(OFFICIAL.rglob("*")):
        if path.is_file():
            shutil.copy2(path, raw / path.name)
    cfg = isolated_settings(base)
    return pipeline.run(raw, cfg.warehouse, cfg, fresh=True)


@pytest.fixture(scope="module")
def warehouse(built) -> Path:
    return built.warehouse


def _rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _one(warehouse: Path, publisher_table: str, area_code: str, period_end: dt.date, offence_group: str):
    rows = _rows(
        warehouse,
        """
        select release, area_type, period_start, published_value, published_marker,
               published_value_basis, computed_value, difference, pct_difference
        from marts.published_totals
        where publisher_table = ? and area_code = ? and period_end = ? and offence_group = ?
        """,
        [publisher_table, area_code, period_end, offence_group],
    )
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize(
    ("release", "period_end", "printed"),
    [
        ("year ending March 2018", dt.date(2018, 3, 31), 295_571),
        ("year ending June 2018", dt.date(2018, 6, 30), 332_327),
        ("year ending December 2018", dt.date(2018, 12, 31), 408_522),
        ("year ending June 2019", dt.date(2019, 6, 30), 458_881),
    ],
)
def test_ons_pfa_england_and_wales_total_is_as_printed(warehouse, release, period_end, printed):
    row = _one(warehouse, "ons_pfa_tables", NATIONAL_CODE, period_end, "stalking_and_harassment")
    assert row[0] == release
    assert row[1] == "national"
    assert row[3] == printed
    assert row[4] is None


def test_ons_pfa_british_transport_police_and_regions(warehouse):
    btp = _one(warehouse, "ons_pfa_tables", "BTP", dt.date(2018, 3, 31), "stalking_and_harassment")
    assert btp[1] == "force" and btp[3] == 153
    # the region West Midlands beside the force of the same name, matched on the code
    rows = dict(
        _rows(
            warehouse,
            """
            select area_code, published_value from marts.published_totals
            where publisher_table = 'ons_pfa_tables' and period_end = date '2018-03-31'
                and area_code in ('E12000005', 'E23000014')
            """,
        )
    )
    assert rows == {"E12000005": 26_022, "E23000014": 9_843}
    regions = _rows(
        warehouse,
        """
        select count(*), count(computed_value) from marts.published_totals
        where area_type = 'region'
        """,
    )[0]
    assert regions[0] > 0 and regions[1] == 0


def test_rolling_table_surrey_totals_and_the_quarter_written_30_12_2017(warehouse):
    december_2018 = _one(
        warehouse, "home_office_pfa_rolling", SURREY, dt.date(2018, 12, 31), "stalking_and_harassment"
    )
    assert december_2018[0] == "year ending December 2018"
    assert december_2018[3] == 4_964
    december_2017 = _one(
        warehouse, "home_office_pfa_rolling", SURREY, dt.date(2017, 12, 31), "stalking_and_harassment"
    )
    assert december_2017[2] == dt.date(2017, 1, 1)
    assert december_2017[3] == 4_366


def test_rolling_table_england_and_wales_is_the_sum_of_its_forces(warehouse):
    sums = _rows(
        warehouse,
        """
        select national.published_value, sum(forces.published_value), count(forces.area_code)
        from marts.published_totals as national
        inner join marts.published_totals as forces
            on forces.publisher_table = national.publisher_table
            and forces.period_end = national.period_end
            and forces.offence_group = national.offence_group
            and forces.area_type = 'force'
        where national.publisher_table = 'home_office_pfa_rolling'
            and national.area_code = 'K04000001'
            and national.period_end = date '2018-03-31'
        group by national.published_value
        """,
    )
    assert len(sums) == 1
    national, forces_total, forces = sums[0]
    assert national == forces_total and forces == 44


@pytest.mark.parametrize(
    ("offence_group", "computed"),
    [
        ("harassment", 124_393),
        ("racially_or_religiously_aggravated_harassment", 1_882),
        ("stalking", 10_296),
        ("malicious_communications", 159_377),
    ],
)
def test_computed_national_totals_to_march_2018_from_the_2017_18_sheet(warehouse, offence_group, computed):
    row = _one(warehouse, "ons_appendix_tables", NATIONAL_CODE, dt.date(2018, 3, 31), offence_group)
    assert row[0] == "year ending September 2025"
    assert row[2] == dt.date(2017, 4, 1)
    assert row[6] == computed
    assert row[7] == row[3] - computed
    assert row[8] == pytest.approx((row[3] - computed) / row[3])


def test_computed_subgroup_and_its_comparison_with_the_ons_pfa_table(warehouse):
    # 8L + 8M + 8Q + 8R in 2017/18 (8U only from April 2020)
    row = _one(warehouse, "ons_pfa_tables", NATIONAL_CODE, dt.date(2018, 3, 31), "stalking_and_harassment")
    assert row[6] == 124_393 + 1_882 + 10_296 + 159_377
    assert row[7] == 295_571 - row[6]
    # only 2017/18 is loaded: no window ending later is complete
    later = _one(warehouse, "ons_pfa_tables", NATIONAL_CODE, dt.date(2018, 12, 31), "stalking_and_harassment")
    assert later[6] is None and later[7] is None


def test_appendix_markers_and_the_subgroup_subtotal(warehouse):
    rows = _rows(
        warehouse,
        """
        select offence_group, period_end, published_value, published_marker
        from marts.published_totals
        where publisher_table = 'ons_appendix_tables'
            and period_end in (date '2018-03-31', date '2025-09-30')
        order by offence_group, period_end
        """,
    )
    by_key = {(group, end): (value, marker) for group, end, value, marker in rows}
    assert by_key[("stalking_and_harassment", dt.date(2018, 3, 31))] == (296_222, None)
    assert by_key[("stalking", dt.date(2025, 9, 30))] == (141_645, None)
    # 8U has no code of its own before April 2020: printed [x], and 2017/18 is outside its validity
    assert ("controlling_or_coercive_behaviour", dt.date(2018, 3, 31)) not in by_key


def test_differences_over_two_percent_are_a_warning_naming_area_and_period(built, warehouse):
    beyond = _rows(warehouse, "select count(*) from marts.published_totals where abs(pct_difference) > 0.02")[
        0
    ][0]
    (check,) = [c for c in built.checks["checks"] if c["name"] == "marts.published_totals.differences"]
    assert check["severity"] == "warning"  # the build above was published all the same
    assert check["success"] is (beyond == 0)
    for failed in check["failed_expectations"]:
        assert failed["affected"] and all(a["area_code"] and a["period"] for a in failed["affected"])
