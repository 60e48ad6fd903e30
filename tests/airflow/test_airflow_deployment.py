"""A deployment of the DAG folder into a fresh Airflow: nothing prepared by the project.

No dbt manifest, none of hsinsight's environment variables, a new Airflow home: what a
team gets when it points its Airflow at `dags/` with the package installed. The DAG
folder must parse with no import error, and render the transform DAG's dbt tasks
without a database (`dbt ls` on the profile's in-memory default).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hsinsight.names import INGEST_DAG_PREFIX, TRANSFORM_DAG_ID
from hsinsight.sources.registry import load_registry

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).parent / "airflow"


def _deployment(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The project's package and dbt project as a deployment has them (no target/, no
    logs/, nothing generated), imported from there, and a clean environment."""
    root = tmp_path / "deployed"
    ignore = shutil.ignore_patterns("__pycache__", "target", "logs", "*.pyc")
    shutil.copytree(PROJECT_ROOT / "src", root / "src", ignore=ignore)
    shutil.copytree(PROJECT_ROOT / "dbt_project", root / "dbt_project", ignore=ignore)
    assert not (root / "dbt_project" / "target").exists()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HSINSIGHT_", "AIRFLOW", "DBT_", "PYTEST", "COV_"))
    }
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow-home"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_ROOT / "dags"),
        # The package is imported from the deployed copy, so its project root is the copy's.
        PYTHONPATH=str(root / "src"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return root, env


def _airflow(env: dict[str, str], *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(AIRFLOW), *args],
        env=env,
        cwd=env["AIRFLOW_HOME"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _json_rows(stdout: str) -> list[dict]:
    """The rows a ``--output json`` command printed (Airflow's log lines go to stdout too)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("["):
            return json.loads(line)
    assert "No data found" in stdout, stdout[-3000:]
    return []


def test_the_dag_folder_deploys_into_a_fresh_airflow_with_nothing_prepared(tmp_path: Path) -> None:
    root, env = _deployment(tmp_path)
    Path(env["AIRFLOW_HOME"]).mkdir()
    probe = subprocess.run(
        [sys.executable, "-c", "import hsinsight.config as c; print(c.Settings.from_env().dbt_project_dir)"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == str(root / "dbt_project"), probe.stderr

    _airflow(env, "db", "migrate")
    _airflow(env, "dags", "reserialize")
    errors = _airflow(env, "dags", "list-import-errors", "--output", "json")
    assert _json_rows(errors.stdout) == [], errors.stdout[-3000:]
    listed = _airflow(env, "dags", "list", "--output", "json")
    dag_ids = {dag["dag_id"] for dag in _json_rows(listed.stdout)}
    expected = {f"{INGEST_DAG_PREFIX}{source_id}" for source_id in load_registry()} | {TRANSFORM_DAG_ID}
    assert dag_ids == expected
    # The transform DAG was rendered from `dbt ls` with the profile's in-memory default:
    # no manifest was written into the project and no database file anywhere in it.
    assert not (root / "dbt_project" / "target" / "manifest.json").exists()
    assert not [p for p in root.rglob("*.duckdb")]
    details = _airflow(env, "tasks", "list", TRANSFORM_DAG_ID)
    assert "dbt.build" in details.stdout
    assert "dbt.recorded_crime_12m" in details.stdout
