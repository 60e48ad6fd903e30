"""Shared fixtures, and the tiers the suite is organised in.

Each folder under ``tests/`` is a tier, cheapest first; its name is also a marker
set on every test in it (``pytest -m dbt``), so no test is marked by hand:

* ``unit``: no dbt, Airflow or warehouse build (``make test-fast``);
* ``properties``: long property-based runs over every layout;
* ``dbt``: the dbt project, the marts and the Great Expectations suites;
* ``pipeline``: whole runs, bad and hostile input, crashes, concurrent runs;
* ``airflow``: the DAGs under Airflow, and a fresh deployment;
* ``dashboard``: the pages, the problem profiles and the browser tests.

Fixtures add markers too: a test that uses the sample warehouse built once per
session (``sample_warehouse``, ``dags_published``) is marked ``warehouse``, one that
uses an Airflow home ``airflow``. A unit test may use neither: collection fails if
one does, so ``make test-fast`` never builds anything.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from hsinsight.config import Settings
from hsinsight.names import LAST_RUN_LOG

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
TESTS = Path(__file__).resolve().parent
#: The log of the round ``dags_published`` ran, kept beside its warehouse.
ROUND_LOG = "airflow-round.log"

#: The tiers, cheapest first: each is a folder of tests/ and a marker.
TIERS = ("unit", "properties", "dbt", "pipeline", "airflow", "dashboard")
#: Fixtures that build something, and the marker a test using them gets.
BUILDING_FIXTURES = {
    "sample_warehouse": "warehouse",
    "dags_published": "warehouse",
    "airflow_home": "airflow",
}


def pytest_collection_modifyitems(config, items):
    """Mark every test with its folder's tier and with what its fixtures build; refuse
    a unit test that would build a warehouse or start Airflow."""
    misplaced = []
    for item in items:
        path = Path(str(item.path)).resolve()
        tier = path.relative_to(TESTS).parts[0] if path.is_relative_to(TESTS) else None
        if tier not in TIERS:
            misplaced.append(f"{item.nodeid}: not in a tier folder ({', '.join(TIERS)})")
            continue
        item.add_marker(getattr(pytest.mark, tier))
        built = {BUILDING_FIXTURES[name] for name in item.fixturenames if name in BUILDING_FIXTURES}
        for marker in sorted(built):
            if marker != tier:
                item.add_marker(getattr(pytest.mark, marker))
        if tier == "unit" and built:
            misplaced.append(f"{item.nodeid}: a unit test using {', '.join(sorted(built))} fixtures")
    if misplaced:
        raise pytest.UsageError("tests in the wrong tier:\n  " + "\n  ".join(misplaced))


def isolated_settings(base: Path) -> Settings:
    """Project settings whose writable folders live under ``base``, not in the repository."""
    return dataclasses.replace(
        Settings.from_env(),
        warehouse=base / "warehouse" / "hsinsight.duckdb",
        quality_dir=base / "quality",
        quarantine_dir=base / "quarantine",
    )


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory) -> Settings:
    return isolated_settings(tmp_path_factory.mktemp("sample-run"))


@pytest.fixture(scope="session")
def sample_warehouse(sample_settings: Settings) -> Path:
    """The warehouse published by ``pipeline.run`` on data/sample (built once per session)."""
    from hsinsight import pipeline

    result = pipeline.run(sample_settings.sample_dir, sample_settings.warehouse, sample_settings)
    assert result.warehouse.exists()
    return result.warehouse


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """One Airflow home (SQLite metadata DB) for the session, so the DB is migrated once."""
    return tmp_path_factory.mktemp("airflow-home")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def dags_published(airflow_home: Path, tmp_path_factory):
    """The sample ingested by every source's Airflow DAG and built by the transform DAG
    (``airflow dags test`` semantics): the settings used and the runs' outcome."""
    from hsinsight.airflow.runner import run_pipeline

    cfg = isolated_settings(tmp_path_factory.mktemp("dag-run"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_HOME", str(airflow_home))
        outcome = run_pipeline(cfg.sample_dir, cfg.warehouse, cfg, output=None)
    # The round's log, kept from the runs later tests make in the same Airflow home.
    shutil.copyfile(airflow_home / LAST_RUN_LOG, cfg.warehouse.parent / ROUND_LOG)
    return cfg, outcome
