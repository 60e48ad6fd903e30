"""Shared fixtures: a warehouse published by the real pipeline from the bundled sample."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hsinsight.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


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
    from hsinsight.airflow_runner import run_pipeline

    cfg = isolated_settings(tmp_path_factory.mktemp("dag-run"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_HOME", str(airflow_home))
        outcome = run_pipeline(cfg.sample_dir, cfg.warehouse, cfg, output=None)
    return cfg, outcome
