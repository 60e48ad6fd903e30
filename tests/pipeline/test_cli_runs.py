"""The ``hsinsight`` console script running the whole pipeline, directly and through Airflow."""

from __future__ import annotations

import os
import subprocess

from cli_support import BIN, hsinsight


def test_run_on_the_sample_publishes_and_says_synthetic(tmp_path):
    warehouse = tmp_path / "wh" / "hsinsight.duckdb"
    result = hsinsight("run", "--warehouse", str(warehouse), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert warehouse.exists()
    assert "SYNTHETIC" in result.stdout and "published" in result.stdout


def test_docs_of_a_published_warehouse_open_from_disk(sample_warehouse, tmp_path):
    result = hsinsight(
        "docs", "--warehouse", str(sample_warehouse), "--out", str(tmp_path / "docs"), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    index = tmp_path / "docs" / "index.html"
    assert str(index) in result.stdout
    # the static page embeds the manifest: the dashboard exposure and the marts are in it
    page = index.read_text(encoding="utf-8")
    assert "dashboard_overview" in page and "problem_profile" in page


def test_run_through_airflow_reports_every_dag_and_changes_nothing_the_second_time(
    dags_published, airflow_home
):
    """What `make run` does first, on files the DAGs have already loaded (the session's
    first round, `dags_published`, built the warehouse): every ingest DAG finds nothing
    new, so no asset is updated, the transform DAG does not run, and the warehouse and
    the raw stores are exactly as they were."""
    import hashlib

    from hsinsight import raw
    from hsinsight.sources.registry import load_registry

    cfg, _ = dags_published
    files = [cfg.warehouse, *(raw.raw_store(cfg.warehouse, s) for s in load_registry())]
    before = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    result = subprocess.run(
        [str(BIN / "hsinsight"), "run", "--orchestrator", "airflow", "--warehouse", str(cfg.warehouse)],
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(
            os.environ,
            AIRFLOW_HOME=str(airflow_home),
            HSINSIGHT_QUALITY_DIR=str(cfg.quality_dir),
            HSINSIGHT_QUARANTINE_DIR=str(cfg.quarantine_dir),
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for source_id in load_registry():
        assert f"hsinsight_ingest_{source_id}: nothing new" in result.stdout
    assert "hsinsight_transform did not run; the warehouse is up to date" in result.stdout
    assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in files] == before
    # Airflow's own log goes to a file unless asked for (-v), and the data are labelled.
    assert "[info" not in result.stdout
    assert "SYNTHETIC" in result.stdout
