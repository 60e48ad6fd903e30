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


def test_make_runs_command_serves_the_dashboard_and_ctrl_c_stops_both(dags_published, airflow_home, tmp_path):
    """`make run` is `hsinsight run --orchestrator airflow --dashboard-port PORT`: here nothing
    is new (the session's first round built the warehouse), so the dashboard is served
    once the run has ended, on the published warehouse; Ctrl-C stops the server and the run."""
    import signal
    import socket

    from browser_support import free_port, serving

    cfg, _ = dags_published
    port = free_port()
    command = [
        str(BIN / "hsinsight"), "run", "--orchestrator", "airflow",
        "--warehouse", str(cfg.warehouse), "--dashboard-port", str(port),
    ]  # fmt: skip
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(airflow_home),
        HSINSIGHT_QUALITY_DIR=str(cfg.quality_dir),
        HSINSIGHT_QUARANTINE_DIR=str(cfg.quarantine_dir),
    )
    log = tmp_path / "make-run.log"
    with serving(command, port, log, env=env, timeout=600) as process:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    output = log.read_text()
    assert "hsinsight_transform did not run; the warehouse is up to date" in output
    assert f"dashboard: http://127.0.0.1:{port}" in output
    with socket.socket() as sock:  # the server has stopped with the run
        assert sock.connect_ex(("127.0.0.1", port)) != 0
