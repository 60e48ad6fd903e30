"""A raw store that took a file dbt then rejects is rolled back to its last published
state, so the next run is not poisoned by it (and needs no --fresh)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from conftest import isolated_settings
from hsinsight import pipeline, raw, runs
from hsinsight.airflow.runner import AirflowRunError, run_pipeline
from hsinsight.config import Settings
from test_crash_safety import SAMPLE_FILE, one_file_raw, read_like_the_dashboard, start_run

SOURCE = "home_office_recorded_crime"
#: a row of the SYNTHETIC sample whose count the re-issue changes
ROW = "2012/13,1,Avon and Somerset,Harassment,Violence against the person,Stalking and harassment,8L,360\n"
#: a whole number ingest accepts as written, and too big for the BIGINT staging casts it to
TOO_BIG = "99999999999999999999"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reissue_with_an_overflowing_count(folder: Path) -> Path:
    text = (Path(Settings.from_env().sample_dir) / SAMPLE_FILE).read_text(encoding="utf-8")
    assert ROW in text
    folder.mkdir(parents=True)
    path = folder / SAMPLE_FILE.replace(".csv", "_reissued.csv")
    path.write_text(text.replace(ROW, ROW.replace(",360\n", f",{TOO_BIG}\n")), encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_store_dbt_rejects_is_rolled_back_and_the_next_run_publishes(tmp_path, airflow_home, monkeypatch):
    cfg = isolated_settings(tmp_path)
    good_raw = one_file_raw(tmp_path / "raw")
    first = start_run(good_raw, cfg)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out + err
    # the source's raw store as its ingest DAG leaves it: its last published state
    store = raw.raw_store(cfg.warehouse, SOURCE)
    pipeline.ingest_source(SOURCE, good_raw, cfg.warehouse, cfg)
    store_before, published_before = sha256(store), cfg.warehouse.read_bytes()

    # a re-issue that passes ingest (a whole number) and that dbt rejects
    bad_raw = tmp_path / "reissue"
    reissue_with_an_overflowing_count(bad_raw)
    monkeypatch.setenv("AIRFLOW_HOME", str(airflow_home))
    with pytest.raises(AirflowRunError) as excinfo:
        run_pipeline(bad_raw, cfg.warehouse, cfg, output=None, progress=None)
    failed = {f["task_id"] for f in excinfo.value.failures}
    assert "dbt.build" in failed, excinfo.value
    assert cfg.warehouse.read_bytes() == published_before

    # the store is back to its last published state, and nothing is pending
    assert sha256(store) == store_before
    assert raw.pending_raw_stores(cfg.warehouse) == {}
    [(loaded,)] = read_like_the_dashboard(
        store, "select count(*) from raw._files where file_name like '%reissued%'"
    )
    assert loaded == 0
    [row] = [r for r in runs.read_runs(cfg.warehouse) if r["orchestrator"] == "airflow"]
    assert row["outcome"] == "failed" and row["published_sha256"] is None
    assert f"raw store {SOURCE}: back to its last published state" in row["swept"]

    # the next run, without the file and without --fresh, builds and publishes
    shutil.rmtree(bad_raw)
    last = start_run(good_raw, cfg)
    out, err = last.communicate(timeout=600)
    assert last.returncode == 0, out + err
    assert cfg.warehouse.read_bytes() != published_before
    assert runs.read_runs(cfg.warehouse, limit=1)[0]["outcome"] == "published"
