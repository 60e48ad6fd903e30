"""The recognition record beside the raw stores: each source's ingest (one Airflow DAG
per source) remembers which sources' tables every file it read holds, by content, so the
other sources' ingests do not read those files' header rows again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from hsinsight import ingest, pipeline
from hsinsight import raw as raw_layer
from hsinsight.config import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
CSEW = "csew-stalking-prevalence-2012-13-to-2023-24-synthetic.xlsx"
CPS = "cps-vawg-stalking-harassment-2012-13-to-2024-25-synthetic.xlsx"


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    base = Settings.from_env()
    return Settings(
        project_root=base.project_root,
        sample_dir=base.sample_dir,
        warehouse=tmp_path / "warehouse" / "hsinsight.duckdb",
        dbt_project_dir=base.dbt_project_dir,
        expectations_dir=base.expectations_dir,
        quality_dir=tmp_path / "quality",
        quarantine_dir=tmp_path / "quarantine",
    )


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw-in"
    folder.mkdir()
    for name in (CSEW, CPS):
        shutil.copy(SAMPLE / name, folder / name)
    return folder


def rows_of(store: str, table: str) -> int:
    con = duckdb.connect(store, read_only=True)
    try:
        return con.execute(f"select count(*) from raw.{table}").fetchone()[0]
    finally:
        con.close()


def test_each_file_is_recorded_with_the_sources_its_tables_belong_to(cfg, raw):
    report = pipeline.ingest_source("csew_prevalence", raw, cfg.warehouse, cfg)
    assert report["files_loaded"] == 1
    record = raw_layer.load_recognition_record(cfg.warehouse)
    assert record == {
        ingest.recognition_key(ingest.sha256_of(raw / CSEW)): ["csew_prevalence"],
        ingest.recognition_key(ingest.sha256_of(raw / CPS)): ["cps_vawg"],
    }
    # The next source's ingest loads its own file, and leaves the record as it was.
    report = pipeline.ingest_source("cps_vawg", raw, cfg.warehouse, cfg)
    assert report["files_loaded"] == 1 and report["rows_loaded"] > 0
    assert raw_layer.load_recognition_record(cfg.warehouse) == record


def test_a_file_the_record_gives_to_another_source_is_not_read(cfg, raw):
    """Shown by a record that lies: the CPS file said to hold the Crime Survey's tables
    is not read by the CPS ingest (and under the true record it is)."""
    folder = raw_layer.raw_store_dir(cfg.warehouse)
    folder.mkdir(parents=True)
    lie = {ingest.recognition_key(ingest.sha256_of(raw / CPS)): ["csew_prevalence"]}
    (folder / raw_layer.RECOGNITION_RECORD).write_text(json.dumps(lie), encoding="utf-8")
    report = pipeline.ingest_source("cps_vawg", raw, cfg.warehouse, cfg)
    assert report["files_loaded"] == 0

    # A record made by other recognition code (another key) is not trusted.
    stale = {f"{ingest.sha256_of(raw / CPS)}:0000000000000000": ["csew_prevalence"]}
    (folder / raw_layer.RECOGNITION_RECORD).write_text(json.dumps(stale), encoding="utf-8")
    report = pipeline.ingest_source("cps_vawg", raw, cfg.warehouse, cfg)
    assert report["files_loaded"] == 1
    assert rows_of(report["store"], "cps__vawg") > 0


def test_an_unreadable_record_is_an_empty_one(cfg, raw):
    folder = raw_layer.raw_store_dir(cfg.warehouse)
    folder.mkdir(parents=True)
    (folder / raw_layer.RECOGNITION_RECORD).write_text("{not json", encoding="utf-8")
    assert raw_layer.load_recognition_record(cfg.warehouse) == {}
    report = pipeline.ingest_source("cps_vawg", raw, cfg.warehouse, cfg)
    assert report["files_loaded"] == 1
    assert len(raw_layer.load_recognition_record(cfg.warehouse)) == 2
