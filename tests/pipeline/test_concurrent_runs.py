"""Two runs at once: one waits for the other (or, with --no-wait, is refused), and the run
log says truthfully what each did."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import isolated_settings
from hsinsight import publish as publishing
from hsinsight import runs
from test_crash_safety import HSINSIGHT, one_file_raw, run_env, sha256, start_run, wait_for


@pytest.mark.slow
def test_a_second_run_waits_a_third_is_refused_and_the_log_matches_what_each_published(tmp_path):
    cfg = isolated_settings(tmp_path)
    raw = one_file_raw(tmp_path / "raw")
    pause_a, pause_b = tmp_path / "pause-a", tmp_path / "pause-b"
    pause_a.mkdir()
    pause_b.mkdir()

    first = start_run(raw, cfg, f"ingest:{pause_a}")
    wait_for(pause_a / "ingest.reached", first)  # it holds the lock now
    second = start_run(raw, cfg, f"publish:{pause_b}")
    # whenever it gets there, the second run finds the lock taken: it waits
    third = start_run(raw, cfg, None, "--no-wait")
    out, err = third.communicate(timeout=120)
    assert third.returncode == 1, out + err
    assert "another run is building" in err and f"pid {first.pid}" in err
    assert not (pause_b / "publish.reached").exists()  # still waiting

    (pause_a / "ingest.go").touch()
    out_a, err_a = first.communicate(timeout=600)
    assert first.returncode == 0, out_a + err_a
    # the second run has the lock now and stops before its publish: the file in place is
    # the first run's
    wait_for(pause_b / "publish.reached", second, timeout=600)
    published_by_first = sha256(cfg.warehouse)
    (pause_b / "publish.go").touch()
    out_b, err_b = second.communicate(timeout=600)
    assert second.returncode == 0, out_b + err_b
    assert f"another run is building {cfg.warehouse} (pid {first.pid}" in err_b and "waiting" in err_b
    published_by_second = sha256(cfg.warehouse)
    assert published_by_first != published_by_second

    logged = runs.read_runs(cfg.warehouse, limit=10)
    assert sorted(row["outcome"] for row in logged) == ["published", "published", "refused"]
    refused = next(row for row in logged if row["outcome"] == "refused")
    assert refused["published_sha256"] is None and f"pid {first.pid}" in refused["message"]
    published = sorted(
        (row for row in logged if row["outcome"] == "published"), key=lambda r: r["started_at"]
    )
    assert [row["published_sha256"] for row in published] == [published_by_first, published_by_second]
    assert published[1]["published_bytes"] == cfg.warehouse.stat().st_size
    # the second built after the first had finished: one writer at a time
    assert published[0]["finished_at"] <= published[1]["finished_at"]


def test_an_airflow_run_with_no_wait_is_refused_while_another_run_builds(tmp_path, airflow_home):
    """The Airflow runner takes the same lock before starting any DAG."""
    cfg = isolated_settings(tmp_path)
    raw = one_file_raw(tmp_path / "raw")
    cfg.warehouse.parent.mkdir(parents=True)
    with publishing.locked(cfg.warehouse, run_id="holding-run"):
        result = subprocess.run(
            [str(HSINSIGHT), "run", "--orchestrator", "airflow", "--no-wait", "--raw", str(raw)]
            + ["--warehouse", str(cfg.warehouse)],
            env=dict(run_env(cfg), AIRFLOW_HOME=str(airflow_home)),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"another run is building {cfg.warehouse} (pid {os.getpid()}" in result.stderr
    assert "run holding-run" in result.stderr
    [row] = runs.read_runs(cfg.warehouse)
    assert row["outcome"] == "refused" and row["orchestrator"] == "airflow"
    assert not cfg.warehouse.exists()
    assert not list((cfg.warehouse.parent / "raw").glob("*.duckdb"))
