"""The national-scale synthetic data set (``hsinsight sample --scale national``), written
small: a few forces and offence codes, the same files and layouts as the full set."""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight import cli, ingest
from hsinsight.config import Settings
from hsinsight.sample import national, outcomes, recorded_crime
from hsinsight.sample.common import read_forces
from hsinsight.sources.base import SYNTHETIC_MARKER

#: Metropolitan Police, Cumbria (no outcomes for 2014/15 Q1), Gwent, British Transport Police.
FORCES = ("E23000001", "E23000002", "W15000002", "BTP")
#: The five codes of the small sample and seven of the synthetic list.
MAX_CODES = 12
SETTINGS = Settings.from_env()

LAYOUTS = {
    national.RECORDED_CRIME_FILE: ["home_office_prc_pfa_v1"],
    national.OUTCOMES_FILE: ["home_office_outcomes_a"],
    national.MOJ_FILE: ["moj_court_outcomes_pfa_v1", "moj_restraining_orders_v1"],
}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[Path]:
    return national.write_national(tmp_path_factory.mktemp("national"), forces=FORCES, max_codes=MAX_CODES)


@pytest.fixture(scope="module")
def folder(written) -> Path:
    return written[0].parent


def csv_view(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    """A view ``name`` of a national CSV file as written: every column text, below the title row."""
    quoted = str(path).replace("'", "''")
    con.execute(
        f"create view {name} as select * from read_csv('{quoted}', skip = 1, header = true, all_varchar = true)"
    )


def test_every_file_is_recognised_and_labelled_synthetic(written, folder, tmp_path):
    assert national.is_complete(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(p.name for p in written), national.README])
    layouts = {}
    for path in written:
        tables = ingest.tables_in(path, tmp_path)
        assert tables, path.name
        assert all(table.is_synthetic for table in tables), path.name
        assert all(table.preamble[0].startswith(SYNTHETIC_MARKER) for table in tables), path.name
        layouts[path.name] = [table.layout.layout for table in tables]
    for name, expected in LAYOUTS.items():
        assert layouts[name] == expected
    ons = [name for name in layouts if name.startswith("police-force-area-data-tables")]
    assert len(ons) == 14 and all(layouts[name] == ["ons_pfa_tables_v1"] for name in ons)
    assert "SYNTHETIC" in (folder / national.README).read_text(encoding="utf-8")


def test_every_code_force_and_quarter_of_recorded_crime(folder):
    codes = national.codes(MAX_CODES)
    with duckdb.connect() as con:
        csv_view(con, "crimes", folder / national.RECORDED_CRIME_FILE)
        count, forces, quarters, listed = con.execute(
            """
            select count(*), count(distinct "Force Name"),
                   count(distinct "Financial Year" || ' Q' || "Financial Quarter"),
                   count(distinct "Offence Code")
            from crimes
            """
        ).fetchone()
    assert (forces, quarters, listed) == (len(FORCES), 52, MAX_CODES)
    # 8Q from 2014/15 and 8R from 2017/18; every other code in every quarter
    expected = sum(4 * (2024 - max(code.first_year, 2012) + 1) for code in codes) * len(FORCES)
    assert count == expected


def test_platform_codes_keep_the_small_samples_figures(folder):
    forces = [f for f in read_forces(SETTINGS.seeds_dir) if f.area_code in FORCES]
    sample = recorded_crime.generate(forces)
    names = {f.name: f.area_code for f in forces}
    with duckdb.connect() as con:
        csv_view(con, "crimes", folder / national.RECORDED_CRIME_FILE)
        rows = con.execute(
            """
            select "Offence Code", "Financial Year", "Financial Quarter", "Force Name", "Number of Offences"
            from crimes where "Offence Code" in ('8L', '8M', '8Q', '8R', '8U', '9A')
            """
        ).fetchall()
    got = {(code, int(year[:4]), int(q), names[force]): int(n) for code, year, q, force, n in rows}
    assert got == sample
    closed, on_recorded = outcomes.generate(forces, sample)
    with duckdb.connect() as con:
        csv_view(con, "outcome_rows", folder / national.OUTCOMES_FILE)
        rows = con.execute(
            f"""
            select "Offence Code", "Financial Year", "Financial Quarter", "Force Name", "Outcome Type",
                   "Outcomes for offences that were recorded in the quarter",
                   "Outcomes for investigations closed in the quarter"
            from outcome_rows
            where "Offence Code" in ('8L', '8M', '8Q', '8R') and "Force Name" <> 'Cumbria'
              and "Outcomes for investigations closed in the quarter" <> '{outcomes.NOT_PROVIDED}'
            """
        ).fetchall()
    keys = {(c, int(y[:4]), int(q), names[f], int(t)): (int(r), int(k)) for c, y, q, f, t, r, k in rows}
    expected = {
        key: (on_recorded.get(key, 0), closed.get(key, 0))
        for key in on_recorded.keys() | closed.keys()
        if key[3] != "E23000002"
    }
    assert keys == expected


def test_recorded_basis_outcomes_add_up_to_the_recorded_crimes(folder):
    # Every crime recorded in a quarter appears once on the recorded basis, under an
    # outcome or type 0, for the small sample's codes and the synthetic ones alike.
    with duckdb.connect() as con:
        csv_view(con, "crimes", folder / national.RECORDED_CRIME_FILE)
        csv_view(con, "outcome_rows", folder / national.OUTCOMES_FILE)
        mismatches, cells = con.execute(
            """
            with outcome_cells as (
                select "Financial Year" as y, "Financial Quarter" as q, "Force Name" as f, "Offence Code" as c,
                       sum(try_cast("Outcomes for offences that were recorded in the quarter" as bigint)) as n
                from outcome_rows group by all
            ), crime_cells as (
                select "Financial Year" as y, "Financial Quarter" as q, "Force Name" as f, "Offence Code" as c,
                       "Number of Offences"::bigint as n
                from crimes where "Financial Year" >= '2014/15'
            )
            select count(*) filter (where coalesce(o.n, 0) <> r.n), count(*)
            from crime_cells r left join outcome_cells o using (y, q, f, c)
            where not (r.y = '2014/15' and r.q = '1' and r.f = 'Cumbria')
            """
        ).fetchone()
        markers = con.execute(
            f"""
            select "Financial Year" || ' Q' || "Financial Quarter" || ' ' || "Force Name", count(*)
            from outcome_rows
            where "Outcomes for offences that were recorded in the quarter" = '{outcomes.NOT_PROVIDED}'
              and "Outcomes for investigations closed in the quarter" = '{outcomes.NOT_PROVIDED}'
            group by all
            """
        ).fetchall()
        cumbria = con.execute(
            """
            select count(*) from outcome_rows
            where "Financial Year" = '2014/15' and "Financial Quarter" = '1' and "Force Name" = 'Cumbria'
            """
        ).fetchone()[0]
    codes = national.codes(MAX_CODES)
    quarters = sum(4 * (2024 - max(code.first_year, 2014) + 1) for code in codes)  # 8R from 2017/18
    assert mismatches == 0 and cells == quarters * len(FORCES) - sum(c.first_year <= 2014 for c in codes)
    # Cumbria supplied no counts for 2014/15 Q1: all its rows say so, and only they
    assert markers == [("2014/15 Q1 Cumbria", cumbria)] and cumbria > 0


def test_outcome_types_exist_when_they_are_assigned(folder):
    with duckdb.connect() as con:
        csv_view(con, "rows", folder / national.OUTCOMES_FILE)
        early = con.execute(
            """
            select "Outcome Type", min("Financial Year" || ' Q' || "Financial Quarter")
            from rows where "Outcome Type" in ('21', '22') group by 1 order by 1
            """
        ).fetchall()
        types = {r[0] for r in con.execute('select distinct "Outcome Type"::int from rows').fetchall()}
        count = con.execute("select count(*) from rows").fetchone()[0]
    assert early == [("21", "2015/16 Q4"), ("22", "2019/20 Q1")]
    assert types <= set(range(23)) and 19 not in types
    sizes = (folder / national.README).read_text(encoding="utf-8")
    assert f"| crime outcomes | {count:,} |" in sizes


def test_ons_tables_are_sums_of_the_recorded_crime_table(folder, tmp_path):
    with duckdb.connect() as con:
        csv_view(con, "crimes", folder / national.RECORDED_CRIME_FILE)
        by_force = {
            force: (total, vap, sh)
            for force, total, vap, sh in con.execute(
                """
                select "Force Name", sum("Number of Offences"::bigint),
                       sum("Number of Offences"::bigint) filter (where "Offence Group" = 'Violence against the person'),
                       sum("Number of Offences"::bigint) filter (where "Offence Code" in ('8L', '8M', '8Q', '8R'))
                from crimes where "Financial Year" = '2016/17' group by all
                """
            ).fetchall()
        }
    (table,) = ingest.tables_in(
        folder / "police-force-area-data-tables-year-ending-march-2017-national-synthetic.xlsx", tmp_path
    )
    rows = {
        r[1]: tuple(int(v) for v in r[2:5])
        for r in ingest._head_rows(table.csv_path, 100)[table.header_row :]
    }
    assert rows["England and Wales"] == tuple(sum(v[i] for v in by_force.values()) for i in range(3))
    assert rows["Metropolitan Police"] == by_force["Metropolitan Police"]
    assert rows["Wales"] == rows["Gwent"] == by_force["Gwent"]


def test_court_outcomes_cover_every_offence(folder, tmp_path):
    tables = ingest.tables_in(folder / national.MOJ_FILE, tmp_path)
    court = next(t for t in tables if t.layout.layout == "moj_court_outcomes_pfa_v1")
    with duckdb.connect() as con:
        csv_view(con, "rows", court.csv_path)
        offences, areas, years, negative = con.execute(
            """
            select count(distinct "Offence"), count(distinct "Police Force Area"),
                   count(distinct "Year of Appearance"), count(*) filter (where "Count"::int <= 0)
            from rows
            """
        ).fetchone()
    # the small sample's seven court offences and one per synthetic code (the codes
    # beyond the small sample's six)
    assert offences == 7 + MAX_CODES - len(recorded_crime.ALL_OFFENCES)
    assert areas == 3 + 1 and years == 13 and negative == 0  # three police force areas and "Not known"


def test_the_same_seed_writes_the_same_bytes(written, tmp_path):
    again = national.write_national(tmp_path / "again", forces=FORCES, max_codes=MAX_CODES)
    assert [p.name for p in again] == [p.name for p in written]
    for first, second in zip(written, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_ingest_loads_every_file(folder, tmp_path):
    cfg = isolated_settings(tmp_path / "settings")
    db = tmp_path / "build" / "hsinsight.duckdb"
    db.parent.mkdir()
    report = ingest.ingest_directory(folder, db, cfg)
    assert report["synthetic"] is True and report["skipped"] == [national.README]
    loaded = {f["file"] for f in report["files"] if f["action"] == "loaded"}
    assert loaded == {p.name for p in folder.iterdir() if p.name != national.README}
    with duckdb.connect(str(db), read_only=True) as con:
        outcome_rows = con.execute("select count(*) from raw.home_office__outcomes").fetchone()[0]
    written_rows = sum(1 for _ in open(folder / national.OUTCOMES_FILE, encoding="utf-8")) - 2
    assert outcome_rows == written_rows


def test_cli_writes_the_national_set(tmp_path, monkeypatch, capsys):
    small = functools.partial(national.write_national, forces=FORCES, max_codes=6)
    monkeypatch.setattr(national, "write_national", small)
    assert cli.main(["sample", "--scale", "national", "--out", str(tmp_path / "n")]) == 0
    out = capsys.readouterr().out
    assert national.OUTCOMES_FILE in out and "SYNTHETIC SAMPLE DATA" in out
    assert national.is_complete(tmp_path / "n")


def test_pipeline_builds_the_national_set_for_every_force(tmp_path):
    # Every force (the quality gate wants them all), few offence codes: the national
    # files pass ingest, dbt's tests and the Great Expectations checks.
    from hsinsight import pipeline

    raw = tmp_path / "national"
    national.write_national(raw, max_codes=8)
    cfg = isolated_settings(tmp_path / "settings")
    result = pipeline.run(raw, cfg.warehouse, cfg, fresh=True)
    assert result.synthetic and result.checks["failures"] == 0
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        harassment = con.execute(
            """
            select offences from marts.recorded_crime_12m
            where area_code = 'K04000001' and offence_group = 'harassment' and period_end = date '2016-12-31'
            """
        ).fetchone()[0]
    assert harassment == 202_755  # the small sample's calibration holds at national scale
