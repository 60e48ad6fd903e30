"""The transform DAG's one `dbt build` (cosmos WATCHER): a model that fails and a test
that fails are each a failed task naming the node and dbt's message, nothing after the
build runs, nothing is published, the run is recorded and the build is removed."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from conftest import isolated_settings
from hsinsight import runs
from hsinsight.airflow.runner import AirflowRunError, run_pipeline

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRODUCER = "dbt.build"

BROKEN_MODEL = "select no_such_column from {{ ref('forces') }}\n"
FAILING_TEST = (
    "-- every row is a failure: recorded crime is never negative, and this asks for the rest\n"
    "select * from {{ ref('recorded_crime_12m') }} where offences >= 0\n"
)


@pytest.fixture
def broken_project(tmp_path: Path):
    """Settings whose dbt project has one model that cannot build and one test that fails."""
    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "__pycache__")
    )
    (project / "models" / "broken_on_purpose.sql").write_text(BROKEN_MODEL)
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "fails_on_purpose.sql").write_text(FAILING_TEST)
    return dataclasses.replace(isolated_settings(tmp_path / "run"), dbt_project_dir=project)


def test_a_failed_model_and_a_failed_test_are_failed_tasks_and_nothing_is_published(
    broken_project, tmp_path: Path, monkeypatch
) -> None:
    cfg = broken_project
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    with pytest.raises(AirflowRunError) as caught:
        run_pipeline(cfg.sample_dir, cfg.warehouse, cfg, output=None)
    error = caught.value
    states = error.pipeline_run.transform.task_states
    # dbt ran once, and failed; each failed node is a failed task of its own ...
    assert states[PRODUCER] == "failed"
    assert states["dbt.broken_on_purpose"] == "failed"
    # (a model that built but failed a test fails its task; its dependants do not run)
    assert states["dbt.recorded_crime_12m"] == "failed"
    assert states["dbt.problem_profile"] == "upstream_failed"
    # ... the rest of the graph that does not depend on them is reported built ...
    assert states["dbt.forces"] == "success" and states["dbt.stg_ons__population"] == "success"
    # ... and nothing after the build ran: no checks on a failed build, no publish.
    assert states["quality_checks"] == "upstream_failed" and states["publish"] == "upstream_failed"
    assert states["record_run"] == "success" and states["cleanup"] == "success"
    by_task = {failure["task_id"]: failure for failure in error.failures}
    assert "broken_on_purpose" in by_task["dbt.broken_on_purpose"]["error"]
    test_failure = by_task["dbt.recorded_crime_12m"]["error"]
    assert "recorded_crime_12m built, but 1 of the" in test_failure and "fails_on_purpose" in test_failure
    # The build's own failure names both nodes and dbt's reason for each.
    build_error = by_task[PRODUCER]["error"]
    assert "broken_on_purpose" in build_error and "no_such_column" in build_error
    assert "fails_on_purpose" in build_error
    message = str(error)
    assert "nothing was published" in message and "fails_on_purpose" in message
    # The node task's log has dbt's message for its node.
    log = error.log_file.read_text(encoding="utf-8", errors="replace")
    assert "no_such_column" in log
    assert not cfg.warehouse.exists()
    (run,) = runs.read_runs(cfg.warehouse)
    assert run["outcome"] == "failed" and not run["published"]
    assert "broken_on_purpose" in run["message"] and "fails_on_purpose" in run["message"]
    assert sorted(cfg.warehouse.parent.rglob(".build-*")) == []
