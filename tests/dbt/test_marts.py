"""The public marts, built by the real pipeline (``dbt build`` included) from the
bundled synthetic sample, which is calibrated to the published figures.

Three kinds of test:

- reconciliation: one test per figure in the published-figures seed, read from the
  seed itself, against ``marts.reconciliation`` (exact counts, half a percentage
  point for rounded percentages); a figure the marts cannot express must say why;
- the marts against each other and against their inputs, recomputed here in Python
  or plain SQL (roll-ups, comparators, estimates), so a join that drops or doubles
  rows fails;
- the contract: every mart documented column by column with an enforced contract,
  and lineage from the raw sources to the dashboard exposures in ``dbt docs``.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight import checks, transform
from hsinsight.config import Settings
from hsinsight.errors import TransformError
from hsinsight.names import NATIONAL_CODE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "published_figures.csv"
SEEDS_DOC = PROJECT_ROOT / "dbt_project" / "seeds" / "_seeds.yml"
QUERIES = PROJECT_ROOT / "src" / "hsinsight" / "dashboard" / "queries"

FIGURES = list(csv.DictReader(SEED.open(encoding="utf-8")))

#: The marts the issue of record fixes, with the columns each must have.
REQUIRED_COLUMNS = {
    "recorded_crime_12m": {"offences", "offences_prev_12m", "pct_change", "population", "rate_per_1000"},
    "recording_practice": {
        "period_end",
        "harassment_to_stalking_ratio",
        "national_ratio",
        "peer_group_ratio",
        "msg_ratio",  # deprecated alias of peer_group_ratio, kept for one release
        "outlier_flag",
    },
    "outcomes_12m": {"period_end", "offence_group", "outcome_group", "outcomes", "share"},
    "court_outcomes": {
        "calendar_year",
        "offence_section",
        "prosecuted",
        "convicted",
        "conviction_ratio",
        "restraining_orders_on_conviction",
        "restraining_orders_on_acquittal",
    },
    "attrition": {
        "financial_year",
        "offence_group",
        "recorded",
        "charged_summonsed",
        "prosecuted",
        "convicted",
        "charged_per_recorded",
        "convicted_per_prosecuted",
    },
    "prosecution_gap": {
        "financial_year",
        "recorded_stalking",
        "stalking_prosecutions",
        "stalking_convictions",
        "share_prosecuted",
    },
    "prevalence_gap": {"survey_year", "sex", "prevalence", "estimated_victims", "police_recorded_crimes"},
    "problem_profile": {"period_end", "stalking_rate_per_1000", "stalking_rate_per_1000_england_and_wales"},
}


def rows(db: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def records(db: Path, sql: str, params=None) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


# --------------------------------------------------------------------------- reconciliation


@pytest.mark.parametrize("figure", FIGURES, ids=[f["figure_id"] for f in FIGURES])
def test_published_figure_reconciles(sample_warehouse, figure):
    """Each published figure: the sample's England and Wales value equals it (counts)
    or rounds to it (percentages); a figure the marts cannot express says why, in the
    seed and in the seed's documentation."""
    (got,) = records(
        sample_warehouse, "select * from marts.reconciliation where figure_id = ?", [figure["figure_id"]]
    )
    if figure["mart_expressible"] != "yes":
        assert got["status"] == "not_expressible"
        assert figure["mart_expressible_reason"].strip()
        assert figure["figure_id"] in SEEDS_DOC.read_text(encoding="utf-8")
        return
    published = float(figure["value"])
    assert got["mart_value"] is not None, f"{figure['figure_id']}: the marts hold no value for it"
    if figure["unit"] == "percent":
        assert abs(got["mart_value"] - published) <= 0.5 + 1e-9, got
    else:
        assert got["mart_value"] == published, got
    assert got["status"] == "matches"


def test_a_difference_from_the_figures_own_release_fails_the_build(sample_warehouse, tmp_path):
    """The warehouse's recorded crime ends on 31 December 2016, the end of the release
    the inspection's police figures came from (year ending December 2016), and one
    Kent stalking count is one more: the reconciliation test fails the build and
    names the figure, so nothing that disagrees with its own release is published."""
    db = tmp_path / "hsinsight.duckdb"
    shutil.copyfile(sample_warehouse, db)
    con = duckdb.connect(str(db))
    try:
        changed = con.execute(
            """
            update raw.home_office__recorded_crime
            set number_of_offences = cast(cast(trim(number_of_offences) as integer) + 1 as varchar)
            where trim(financial_year) = '2016/17' and trim(financial_quarter) = '2'
              and trim(force_name) = 'Kent' and upper(trim(offence_code)) = '8Q'
            returning 1
            """
        ).fetchall()
        assert changed == [(1,)]
        # the release of the year ending December 2016: nothing after 2016/17 Q3
        con.execute(
            """
            delete from raw.home_office__recorded_crime
            where trim(financial_year) > '2016/17'
               or (trim(financial_year) = '2016/17' and trim(financial_quarter) = '4')
            """
        )
    finally:
        con.close()
    settings = Settings.from_env()
    with pytest.raises(TransformError, match="reconciliation_no_published_figure_differs") as caught:
        transform.build(db, settings)
    assert (
        "published figure prc_stalking_ye_dec2016: published 4613 crimes, recorded_crime_12m gives 4614"
        in str(caught.value)
    )


def test_a_difference_in_a_later_release_is_published_as_a_revision(sample_warehouse, tmp_path):
    """The sample's CPS data run to 2024-25, a later release than the CPS VAWG report
    2015-16 the inspection quotes: a 2015-16 count that differs is a revision since
    publication. The build is published, and the quality gate's warning gives the
    published value and release beside the current value and release."""
    db = tmp_path / "hsinsight.duckdb"
    shutil.copyfile(sample_warehouse, db)
    con = duckdb.connect(str(db))
    try:
        changed = con.execute(
            """
            update raw.cps__vawg set prosecutions = '1104'
            where trim(financial_year) like '2015%' and lower(offence) = 'stalking'
              and lower(trim(cps_area)) = 'national'
            returning 1
            """
        ).fetchall()
        assert changed == [(1,)]
    finally:
        con.close()
    cfg = isolated_settings(tmp_path)

    transform.build(db, cfg)  # no TransformError: the build publishes
    summary = checks.run_checks(
        db,
        cfg,
        only=[
            "marts.reconciliation",
            "marts.reconciliation.published_figures",
            "marts.reconciliation.revised_since_publication",
        ],
    )

    assert summary["failures"] == 0 and summary["warnings"] == 1
    [report] = [c for c in summary["checks"] if not c["success"]]
    assert report["name"] == "marts.reconciliation.revised_since_publication"
    assert report["severity"] == "warning"
    [failure] = report["failed_expectations"]
    revised = {row["figure_id"]: row for row in failure["unexpected"]}
    # each figure it changes: stalking, and stalking and harassment together
    assert set(revised) == {"cps_stalking_prosecutions_fy2015_16", "cps_hs_prosecutions_fy2015_16"}
    stalking = revised["cps_stalking_prosecutions_fy2015_16"]
    assert (stalking["published_value"], stalking["figure_release"]) == (1102, "year ending March 2016")
    assert (stalking["mart_value"], stalking["warehouse_release"]) == (1104, "year ending March 2025")
    assert {(a["area_code"], a["period"]) for a in failure["affected"]} == {
        (NATIONAL_CODE, "2015-04-01/2016-03-31")
    }


# --------------------------------------------------------------------------- shape


@pytest.mark.parametrize("mart", sorted(REQUIRED_COLUMNS))
def test_every_mart_has_its_columns_and_area_columns(sample_warehouse, mart):
    columns = {
        name
        for (name,) in rows(
            sample_warehouse,
            "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ?",
            [mart],
        )
    }
    assert REQUIRED_COLUMNS[mart] | {"area_code", "area_name", "area_type"} <= columns
    types = {t for (t,) in rows(sample_warehouse, f"select distinct area_type from marts.{mart}")}
    assert types and types <= {"force", "cps_area", "national"}
    national = rows(
        sample_warehouse,
        f"select distinct area_name, area_type from marts.{mart} where area_code = ?",
        [NATIONAL_CODE],
    )
    assert national in ([("England and Wales", "national")], [])
    assert rows(sample_warehouse, f"select count(*) from marts.{mart}")[0][0] > 0


# --------------------------------------------------------------------------- cross-checks


def test_rate_and_change_follow_from_offences_and_population(sample_warehouse):
    got = records(
        sample_warehouse,
        """
        select area_code, offences, offences_prev_12m, pct_change, population, population_mid_year,
               rate_per_1000,
               (select offences from marts.recorded_crime_12m p
                where p.area_code = r.area_code and p.offence_group = r.offence_group
                  and p.period_end = r.period_end - interval 12 month) as previous
        from marts.recorded_crime_12m r
        where offence_group = 'stalking' and period_end = date '2017-03-31'
        """,
    )
    assert len(got) == 45  # 44 forces and England and Wales
    population = dict(
        rows(
            sample_warehouse,
            "select area_code, population from staging.stg_ons__population "
            "where mid_year = 2016 and sex = 'persons' and age_group = 'all_ages'",
        )
    )
    for row in got:
        assert row["offences_prev_12m"] == row["previous"]
        assert math.isclose(row["pct_change"], row["offences"] / row["previous"] - 1)
        if row["area_code"] == "BTP":
            assert row["population"] is None and row["rate_per_1000"] is None
            continue
        assert row["population_mid_year"] == 2016
        assert row["population"] == population[row["area_code"]]
        assert math.isclose(row["rate_per_1000"], 1000 * row["offences"] / row["population"])


def test_outcome_shares_of_each_area_add_up_to_one(sample_warehouse):
    sums = rows(
        sample_warehouse,
        "select min(total), max(total), count(*) from (select sum(share) as total from marts.outcomes_12m "
        "group by area_code, period_end, offence_group having count(share) > 0)",
    )
    low, high, groups = sums[0]
    assert groups > 1000
    assert abs(low - 1) < 1e-9 and abs(high - 1) < 1e-9


def test_cps_area_police_figures_are_the_sum_of_their_forces(sample_warehouse):
    """Recomputed from the seeds in Python: every CPS Area's recorded stalking in
    2016/17 (one London Area) and 2018/19 (London North and South together) is the
    sum of its forces' 12 months to March."""
    forces_of = {}
    with (PROJECT_ROOT / "dbt_project" / "seeds" / "cps_area_forces.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            forces_of.setdefault(row["cps_area_code"], set()).add(row["area_code"])
    for year, period_end, areas in (
        (
            "2016/17",
            "2017-03-31",
            {a for a in forces_of if a not in ("cps_london_north", "cps_london_south")},
        ),
        ("2018/19", "2019-03-31", {a for a in forces_of if a != "cps_london"}),
    ):
        recorded = dict(
            rows(
                sample_warehouse,
                "select area_code, offences from marts.recorded_crime_12m "
                "where offence_group = 'stalking' and period_end = ?::date",
                [period_end],
            )
        )
        got = dict(
            rows(
                sample_warehouse,
                "select area_code, recorded from marts.attrition where financial_year = ? "
                "and offence_group = 'stalking' and area_type = 'cps_area'",
                [year],
            )
        )
        expected: dict[str, int] = {}
        for area in areas:
            key = "cps_london" if area.startswith("cps_london") else area
            expected[key] = sum(recorded[force] for force in forces_of[area])
        assert got == expected
        national = rows(
            sample_warehouse,
            "select recorded from marts.attrition where area_type = 'national' and financial_year = ? "
            "and offence_group = 'stalking'",
            [year],
        )
        # England and Wales includes British Transport Police, which is in no CPS Area.
        assert national == [(sum(expected.values()) + recorded["BTP"],)]


def test_london_areas_are_compared_together_after_the_split(sample_warehouse):
    names = dict(
        rows(
            sample_warehouse,
            "select financial_year, area_name from marts.attrition where area_code = 'cps_london' "
            "and offence_group = 'stalking' and financial_year in ('2016/17', '2017/18')",
        )
    )
    assert names == {"2016/17": "London", "2017/18": "London North and London South"}
    cps = rows(
        sample_warehouse,
        "select sum(prosecutions) from staging.stg_cps__vawg where financial_year = '2017/18' "
        "and offence = 'stalking' and cps_area_code in ('cps_london_north', 'cps_london_south')",
    )
    got = rows(
        sample_warehouse,
        "select stalking_prosecutions from marts.prosecution_gap where area_code = 'cps_london' "
        "and financial_year = '2017/18'",
    )
    assert got == cps


def test_problem_profile_comparators_match_their_marts(sample_warehouse):
    """Kent, 12 months to December 2016: the force's figures and England and Wales's
    are those of the marts; the group's rate is the group's offences over its
    residents, recomputed from recorded_crime_12m and the peer-group seed."""
    (profile,) = records(
        sample_warehouse,
        "select * from marts.problem_profile where area_code = 'E23000032' and period_end = date '2016-12-31'",
    )
    group = [
        row["area_code"]
        for row in csv.DictReader((PROJECT_ROOT / "dbt_project" / "seeds" / "force_peer_groups.csv").open())
        if row["peer_group"] == profile["peer_group"]
    ]
    recorded = {
        (code, group_name): (offences, population)
        for code, group_name, offences, population in rows(
            sample_warehouse,
            "select area_code, offence_group, offences, population from marts.recorded_crime_12m "
            "where period_end = date '2016-12-31'",
        )
    }
    assert profile["stalking_offences"] == recorded[("E23000032", "stalking")][0]
    assert profile["stalking_offences_england_and_wales"] == 4613
    offences = sum(recorded[(code, "stalking")][0] for code in group)
    residents = sum(recorded[(code, "stalking")][1] for code in group)
    assert profile["stalking_offences_peer_group"] == offences
    assert math.isclose(profile["stalking_rate_per_1000_peer_group"], 1000 * offences / residents)
    (practice,) = records(
        sample_warehouse,
        "select * from marts.recording_practice where area_code = 'E23000032' and period_end = date '2016-12-31'",
    )
    assert profile["harassment_to_stalking_ratio"] == practice["harassment_to_stalking_ratio"]
    assert profile["harassment_to_stalking_ratio_peer_group"] == pytest.approx(practice["peer_group_ratio"])
    # The deprecated `_msg` columns, kept for one release, repeat the peer-group ones.
    assert practice["msg_ratio"] == practice["peer_group_ratio"]
    for name in [column for column in profile if column.endswith("_peer_group")]:
        assert profile[name.removesuffix("_peer_group") + "_msg"] == profile[name]
    assert profile["harassment_to_stalking_ratio_england_and_wales"] == pytest.approx(
        practice["national_ratio"]
    )
    (share,) = rows(
        sample_warehouse,
        "select share from marts.outcomes_12m where area_code = ? and period_end = date '2016-12-31' "
        "and offence_group = 'stalking' and outcome_group = 'charged_summonsed'",
        [NATIONAL_CODE],
    )
    assert profile["stalking_share_charged_summonsed_england_and_wales"] == pytest.approx(share[0])


@pytest.mark.parametrize(
    ("mart", "aliases"),
    [
        ("recording_practice", {"msg_ratio": "peer_group_ratio"}),
        ("problem_profile", None),  # every `<measure>_msg` column and its `<measure>_peer_group`
    ],
)
def test_deprecated_msg_columns_equal_their_peer_group_columns(sample_warehouse, mart, aliases):
    """The deprecated `msg` columns, kept for one release, repeat their peer-group columns on every row."""
    columns = [name for (name,) in rows(sample_warehouse, f"select column_name from (describe marts.{mart})")]
    if aliases is None:
        aliases = {c: c.removesuffix("_msg") + "_peer_group" for c in columns if c.endswith("_msg")}
        assert len(aliases) == 21
    for old, new in aliases.items():
        assert old in columns and new in columns
        ((differing, total),) = rows(
            sample_warehouse,
            f'select count(*) filter (where "{old}" is distinct from "{new}"), count(*) from marts.{mart}',
        )
        assert total > 0
        assert differing == 0, f"{mart}.{old} differs from {new} on {differing} rows"


def test_estimated_victims_are_prevalence_times_population(sample_warehouse):
    got = records(
        sample_warehouse,
        "select * from marts.prevalence_gap where survey_year = '2015/16' and measure = 'last_year' "
        "and behaviour = 'stalking'",
    )
    assert {row["sex"] for row in got} == {"women", "men", "all_adults"}
    for row in got:
        assert row["population_mid_year"] == 2015
        assert row["estimated_victims"] == round(row["prevalence"] * row["population"])
        if row["sex"] == "all_adults":
            assert (
                row["police_recorded_crimes"]
                == rows(
                    sample_warehouse,
                    "select offences from marts.recorded_crime_12m where area_code = ? "
                    "and offence_group = 'stalking' and period_end = date '2016-03-31'",
                    [NATIONAL_CODE],
                )[0][0]
            )
        else:
            assert row["police_recorded_crimes"] is None


def test_outliers_follow_the_documented_rule(sample_warehouse):
    """Recomputed in Python for every period: modified z of the log ratio against the
    territorial forces, |z| > 3.5."""
    territorial = {
        row["area_code"]
        for row in csv.DictReader((PROJECT_ROOT / "dbt_project" / "seeds" / "forces.csv").open())
        if row["has_resident_population"] == "true"
    }
    got = rows(
        sample_warehouse,
        "select period_end, area_code, harassment_to_stalking_ratio, outlier_flag from marts.recording_practice "
        "where area_type = 'force' and harassment_to_stalking_ratio is not null",
    )
    by_period: dict = {}
    for period, code, ratio, flag in got:
        by_period.setdefault(period, []).append((code, ratio, flag))
    flagged = 0
    for members in by_period.values():
        logs = sorted(math.log(r) for c, r, _ in members if c in territorial)
        median = _median(logs)
        mad = _median(sorted(abs(x - median) for x in logs))
        for _, ratio, flag in members:
            z = 0.6745 * (math.log(ratio) - median) / mad
            assert flag == (abs(z) > 3.5)
            flagged += flag
    assert flagged >= 1  # the sample has an outlier, so the rule is exercised


def _median(values: list[float]) -> float:
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


# --------------------------------------------------------------------------- contract and lineage


@pytest.fixture(scope="module")
def docs(sample_warehouse, tmp_path_factory) -> tuple[dict, dict]:
    """The documentation site ``hsinsight docs`` writes for the sample warehouse:
    (manifest, catalog); its index page opens from disk with both embedded."""
    out = tmp_path_factory.mktemp("docs")
    index = transform.write_docs_site(sample_warehouse, out, Settings.from_env())
    assert index == out / "index.html"
    assert "dashboard_overview" in index.read_text(encoding="utf-8")  # embedded, not fetched
    assert sorted(p.name for p in out.iterdir()) == ["catalog.json", "index.html", "manifest.json"]
    return (
        json.loads((out / "manifest.json").read_text(encoding="utf-8")),
        json.loads((out / "catalog.json").read_text(encoding="utf-8")),
    )


def test_every_mart_column_is_documented_under_an_enforced_contract(docs):
    manifest, catalog = docs
    marts = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    ]
    assert set(REQUIRED_COLUMNS) | {"reconciliation", "restraining_orders"} <= {n["name"] for n in marts}
    problems = []
    for node in marts:
        if not node["config"]["contract"]["enforced"]:
            problems.append(f"{node['name']}: contract not enforced")
        actual = set(catalog["nodes"][node["unique_id"]]["columns"])
        declared = set(node["columns"])
        if actual != declared:
            problems.append(f"{node['name']}: undocumented {sorted(actual - declared)}")
        problems += [
            f"{node['name']}.{name}: no description"
            for name, column in node["columns"].items()
            if len((column.get("description") or "").strip()) < 5
        ]
    assert not problems, "\n".join(problems)


def test_lineage_runs_from_official_files_to_the_dashboard(docs):
    """Walking the manifest's parent map up from every dashboard exposure reaches the
    raw source tables; there is one exposure per dashboard page, and each depends on
    exactly the models and seeds that page's queries read (PAGE_SQL of
    hsinsight.dashboard.queries.bench, the frame's queries included)."""
    from hsinsight.dashboard.queries import bench as queries

    manifest, _ = docs
    exposures = manifest["exposures"]
    assert exposures
    upstream: set[str] = set()
    for exposure_id in exposures:
        stack = [exposure_id]
        while stack:
            for parent in manifest["parent_map"].get(stack.pop(), []):
                if parent not in upstream:
                    upstream.add(parent)
                    stack.append(parent)
    assert "source.hsinsight.home_office.home_office__recorded_crime" in upstream
    assert any(node.startswith("source.hsinsight.hsinsight.") for node in upstream)
    declared = {
        exposure["name"]: {manifest["nodes"][node]["name"] for node in exposure["depends_on"]["nodes"]}
        for exposure in exposures.values()
    }
    read = {
        f"dashboard_{slug.replace('-', '_')}": {table.split(".")[1] for table in queries.page_tables(slug)}
        for slug in queries.PAGE_SQL
    }
    assert declared == read
    # No statement of the dashboard's queries reads a mart that no page declares.
    in_file = {
        name
        for path in QUERIES.glob("*.py")
        for name in re.findall(r"\bmarts\.(\w+)", path.read_text(encoding="utf-8"))
    }
    assert in_file <= set().union(*read.values())
