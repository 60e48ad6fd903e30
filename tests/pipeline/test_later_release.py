"""A later release of the Home Office recorded crime table, shaped as the publisher
ships it, through the whole pipeline (ingest, dbt, Great Expectations, publish).

The real 2017/18 sheet (tests/fixtures/official/) is the base: the workbook holds a
notes sheet, a sheet per financial year named in both of the publisher's styles
(``2016-17``, ``2017_18``), the earlier year revised, and the rows of zeros real
releases carry for a code in the year before it existed (8U in 2016/17 here, as in
2019/20 for real). It must publish, with the figures the sheets hold.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings

OFFICIAL = Path(__file__).resolve().parents[1] / "fixtures" / "official"
SHEET_2017_18 = OFFICIAL / "home_office_prc" / "prc-pfa-mar2013-onwards-tables201718.csv"


def _number(text: str):
    """A cell as the workbook holds it: counts as numbers, everything else as text."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return int(stripped)
    return text


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    import openpyxl

    from hsinsight import pipeline

    base = tmp_path_factory.mktemp("later-release")
    raw = base / "raw"
    raw.mkdir()
    with open(SHEET_2017_18, encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Police recorded crime open data tables: notes"])
    notes.append(["Counts may be revised in later releases."])
    earlier = book.create_sheet("2016-17")
    earlier.append(header)
    for row in rows:
        year, *rest = row
        revised = [_number(v) for v in rest]
        if row[6] == "8Q":  # the earlier year, revised: one fewer stalking crime a force and quarter
            revised[-1] = revised[-1] - 1 if revised[-1] > 0 else revised[-1]
        earlier.append(["2016/17", *revised])
        if row[6] == "8Q":
            # the code of the future, in zeros, under the publisher's description
            earlier.append(["2016/17", *rest[:2], "Controlling or coercive behaviour", *rest[3:5], "8U", 0])
    later = book.create_sheet("2017_18")
    later.append(header)
    for row in rows:
        later.append([_number(v) for v in row])
    book.save(raw / "prc-pfa-mar2013-onwards-tables-later.xlsx")
    cfg = isolated_settings(base)
    result = pipeline.run(raw, cfg.warehouse, cfg, fresh=True)
    return result


def _rows(warehouse: Path, sql: str, params=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_the_later_release_publishes_every_year(published):
    loaded = {(f["sheet"], tuple(f["periods"])) for f in published.files}
    assert loaded == {("2016-17", ("2016/17",)), ("2017_18", ("2017/18",))}
    assert any(n["detail"].startswith("Notes: not used") for n in published.notes)
    assert (published.checks or {}).get("failures") == 0
    national = dict(
        _rows(
            published.warehouse,
            "select offence_group, offences from marts.recorded_crime_12m "
            "where area_code = 'K04000001' and period_end = date '2018-03-31'",
        )
    )
    assert national["harassment"] == 124393 and national["stalking"] == 10296
    assert national["malicious_communications"] == 159377
    earlier = dict(
        _rows(
            published.warehouse,
            "select offence_group, offences from marts.recorded_crime_12m "
            "where area_code = 'K04000001' and period_end = date '2017-03-31'",
        )
    )
    # 8Q revised down by one a force and quarter where it was above zero
    positive = _rows(
        published.warehouse,
        "select count(*) from staging.stg_home_office__recorded_crime "
        "where offence_code = '8Q' and financial_year = '2017/18' and offences > 0 and area_code is not null",
    )[0][0]
    assert earlier["stalking"] == 10296 - positive


def test_zero_rows_of_a_code_before_its_time_stay_out_of_the_marts(published):
    codes = _rows(
        published.warehouse,
        "select distinct offence_code from marts.recorded_crime_quarterly order by 1",
    )
    assert ("8U",) not in codes
    zeros = _rows(
        published.warehouse,
        "select count(*), sum(offences) from staging.stg_home_office__recorded_crime where offence_code = '8U'",
    )
    assert zeros[0][0] > 0 and zeros[0][1] == 0
