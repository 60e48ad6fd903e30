"""The Airflow DAG: it parses cleanly, has the intended shape, does no work at import
time, and run through ``airflow dags test`` it publishes the warehouse or, on failure,
names the cause and leaves the published warehouse exactly as it was."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight.airflow_runner import (
    DAG_ID,
    MIGRATION_STAMP,
    AirflowRunError,
    airflow_environment,
    ensure_database,
    migration_needed,
    run_dag,
)
from hsinsight.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGS = PROJECT_ROOT / "dags"
DAG_FILE = DAGS / "hsinsight_pipeline.py"
SAMPLE_FILE = "home_office_police_recorded_crime_pfa.csv"

PIPELINE_TASKS = ["start_build", "ingest", "dbt_build", "quality_checks", "publish"]

# Parses the dags/ folder the way Airflow's DAG processor does and reports what it found.
DESCRIBE_DAGS = textwrap.dedent(
    """
    import json, sys
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=sys.argv[1])
    out = {"import_errors": {str(k): v for k, v in bag.import_errors.items()}, "dag_ids": bag.dag_ids}
    dag = bag.dags.get("hsinsight_pipeline")
    if dag is not None:
        out["dag"] = {
            "tags": sorted(dag.tags),
            "owner": dag.owner,
            "default_args": {k: str(v) for k, v in dag.default_args.items()},
            "schedule": dag.schedule,
            "doc_md": dag.doc_md,
            "params": dag.params.dump(),
            "max_active_runs": dag.max_active_runs,
            "tasks": {
                t.task_id: {
                    "upstream": sorted(t.upstream_task_ids),
                    "trigger_rule": str(t.trigger_rule.value),
                    "is_setup": t.is_setup,
                    "is_teardown": t.is_teardown,
                    "owner": t.owner,
                    "retries": t.retries,
                    "retry_delay": t.retry_delay.total_seconds(),
                    "on_failure_callback": [f.__name__ for f in t.on_failure_callback or []],
                    "outlets": [getattr(o, "name", str(o)) for o in t.outlets],
                }
                for t in dag.tasks
            },
        }
    print("DAGBAG-JSON " + json.dumps(out))
    """
)

# Imports the DAG file alone and records everything it does beyond what Airflow does for any DAG.
PROBE_IMPORT = textwrap.dedent(
    """
    import importlib.util, json, os, sys, time
    from airflow.sdk import Asset, Param, dag, setup, task, teardown

    # Warm up: let Airflow load what it loads lazily for any TaskFlow DAG (timetables,
    # croniter, ...), so that what follows is attributable to the DAG file alone.
    @dag(dag_id="warm_up", schedule=None, params={"p": Param("x", type="string")})
    def warm_up():
        @setup
        def a():
            return 1
        @task(outlets=[Asset(name="warm_up")])
        def b(x):
            return x
        @teardown
        def c(x):
            pass
        a_ = a()
        b(a_) >> c(a_)
    warm_up()

    before = set(sys.modules)
    events = []
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    watched = {"sqlite3.connect", "socket.connect", "subprocess.Popen", "os.system", "os.exec",
               "os.posix_spawn", "os.mkdir", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree",
               "shutil.copyfile", "os.truncate", "os.symlink", "os.link", "os.chmod"}

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & writing
            ):
                events.append(["open for writing", str(path)])
        elif event in watched:
            events.append([event, str(args[0]) if args else ""])

    spec = importlib.util.spec_from_file_location("hsinsight_pipeline_probe", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    sys.addaudithook(hook)
    start = time.perf_counter()
    spec.loader.exec_module(module)
    seconds = time.perf_counter() - start
    print("PROBE-JSON " + json.dumps(
        {"seconds": seconds, "new_modules": sorted(set(sys.modules) - before), "events": events}
    ))
    """
)


def _airflow_python(script: str, *args: str, airflow_home: Path) -> dict:
    """Run ``script`` in a fresh interpreter with an isolated Airflow home; return its JSON report."""
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW_CONFIG=str(airflow_home / "airflow.cfg"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        PYTHONDONTWRITEBYTECODE="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    marker = [line for line in done.stdout.splitlines() if line.startswith(("DAGBAG-JSON ", "PROBE-JSON "))]
    assert marker, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(marker[-1].split(" ", 1)[1])


@pytest.fixture
def airflow_env(airflow_home: Path, monkeypatch) -> Path:
    monkeypatch.setenv("AIRFLOW_HOME", str(airflow_home))
    return airflow_home


@pytest.fixture(scope="session")
def dagbag(airflow_home: Path) -> dict:
    return _airflow_python(DESCRIBE_DAGS, str(DAGS), airflow_home=airflow_home)


@pytest.fixture(scope="session")
def pipeline_dag(dagbag: dict) -> dict:
    assert "dag" in dagbag, dagbag
    return dagbag["dag"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftover_builds(warehouse: Path) -> list[Path]:
    return sorted(warehouse.parent.glob(".build-*"))


# --- DAG integrity ---------------------------------------------------------------------------


def test_dags_folder_has_no_import_errors(dagbag: dict) -> None:
    assert dagbag["import_errors"] == {}
    assert dagbag["dag_ids"] == [DAG_ID]


def test_dag_metadata(pipeline_dag: dict) -> None:
    assert "hsinsight" in pipeline_dag["tags"]
    assert pipeline_dag["owner"] == "hsinsight"
    assert pipeline_dag["default_args"]["retries"] == "0"
    assert pipeline_dag["default_args"]["retry_delay"] == "0:05:00"
    assert pipeline_dag["schedule"] is None
    assert pipeline_dag["max_active_runs"] == 1
    assert "publish" in pipeline_dag["doc_md"] and "cleanup" in pipeline_dag["doc_md"]


def test_params_default_to_the_project_settings(pipeline_dag: dict) -> None:
    cfg = Settings.from_env()
    assert pipeline_dag["params"] == {
        "raw_dir": str(cfg.sample_dir),
        "warehouse": str(cfg.warehouse),
        "fresh": False,
    }


def test_every_task_has_owner_retries_and_failure_report(pipeline_dag: dict) -> None:
    tasks = pipeline_dag["tasks"]
    assert set(tasks) == {*PIPELINE_TASKS, "cleanup"}
    for task_id, task in tasks.items():
        assert task["owner"] == "hsinsight", task_id
        assert task["retries"] == 0, task_id
        assert task["retry_delay"] == 300, task_id
        assert task["on_failure_callback"] == ["record_failure"], task_id


def test_tasks_run_in_pipeline_order(pipeline_dag: dict) -> None:
    tasks = pipeline_dag["tasks"]
    assert tasks["start_build"]["upstream"] == []
    for upstream, task_id in itertools.pairwise(PIPELINE_TASKS):
        assert tasks[task_id]["upstream"] == [upstream], task_id
        assert tasks[task_id]["trigger_rule"] == "all_success", task_id
    assert tasks["publish"]["outlets"] == ["hsinsight_warehouse"]


def test_cleanup_is_a_teardown_that_cannot_mask_a_failure(pipeline_dag: dict) -> None:
    tasks = pipeline_dag["tasks"]
    cleanup = tasks["cleanup"]
    # Runs after publish whether or not the work succeeded, as long as a build was started ...
    assert cleanup["upstream"] == ["publish", "start_build"]
    assert cleanup["trigger_rule"] == "all_done_setup_success"
    # ... and as a teardown it is left out when Airflow decides the run's state.
    assert cleanup["is_teardown"] and tasks["start_build"]["is_setup"]
    assert not any(tasks[t]["is_teardown"] for t in PIPELINE_TASKS)


def test_importing_the_dag_file_does_no_work(airflow_home: Path) -> None:
    report = _airflow_python(PROBE_IMPORT, str(DAG_FILE), airflow_home=airflow_home)
    assert report["events"] == []  # no files written, no databases, sockets or subprocesses
    heavy = {"duckdb", "dbt", "great_expectations", "pandas", "streamlit", "cosmos"}
    assert not [m for m in report["new_modules"] if m.split(".")[0] in heavy]
    assert not {"hsinsight.pipeline", "hsinsight.publish", "hsinsight.ingest"} & set(report["new_modules"])
    assert report["seconds"] < 2.0


# --- the local Airflow home --------------------------------------------------------------------


@pytest.mark.e2e
def test_db_migrate_runs_once_per_airflow_version(airflow_env: Path) -> None:
    env = airflow_environment(Settings.from_env())
    assert env.home == airflow_env.resolve()
    ensure_database(env, output=None)  # migrates unless an earlier test already did
    assert not migration_needed(env)
    assert ensure_database(env, output=None) is False
    stamp = env.home / MIGRATION_STAMP
    assert "apache-airflow-core" in stamp.read_text()
    stamp.write_text("apache-airflow-core 0.0.0\n")  # as if another Airflow version migrated it
    assert migration_needed(env)
    assert ensure_database(env, output=None) is True
    assert not migration_needed(env)


# --- end to end through airflow dags test -----------------------------------------------------


@pytest.fixture(scope="session")
def dag_published(airflow_home: Path, tmp_path_factory) -> Settings:
    """The sample built and published by the DAG under ``airflow dags test``."""
    cfg = isolated_settings(tmp_path_factory.mktemp("dag-run"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_HOME", str(airflow_home))
        run_dag(cfg.sample_dir, cfg.warehouse, cfg, output=None)
    return cfg


@pytest.mark.e2e
def test_dag_run_publishes_the_sample(dag_published: Settings, airflow_home: Path) -> None:
    warehouse = dag_published.warehouse
    assert warehouse.exists()
    assert leftover_builds(warehouse) == []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = dict(
            con.execute(
                "select offence_group, offences from marts.recorded_crime_12m "
                "where area_code = 'K04000001' and period_end = ?",
                [date(2016, 12, 31)],
            ).fetchall()
        )
        synthetic = con.execute("select bool_or(is_synthetic) from marts.source_files").fetchone()[0]
    finally:
        con.close()
    assert rows["stalking"] == 4613
    assert rows["harassment"] == 202755
    assert synthetic is True
    # Airflow's own record agrees: the newest run succeeded and announced the warehouse asset.
    db = sqlite3.connect(airflow_home / "airflow.db")
    try:
        run_id, state = db.execute(
            "select run_id, state from dag_run where dag_id = ? order by id desc limit 1", (DAG_ID,)
        ).fetchone()
        states = dict(
            db.execute(
                "select task_id, state from task_instance where dag_id = ? and run_id = ?", (DAG_ID, run_id)
            ).fetchall()
        )
        (extra,) = db.execute(
            "select extra from asset_event where source_run_id = ? order by id desc limit 1", (run_id,)
        ).fetchone()
    finally:
        db.close()
    assert state == "success"
    assert set(states.values()) == {"success"}, states
    assert json.loads(extra) == {"path": str(warehouse.resolve())}


def write_malformed(raw: Path) -> Path:
    raw.mkdir(parents=True, exist_ok=True)
    path = raw / SAMPLE_FILE
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "Financial Year", "Financial Quarter", "Force Name", "Offence Description",
                "Offence Group", "Offence Subgroup", "Offence Code", "Number of Offences",
            ]
        )  # fmt: skip
        writer.writerow(["2016/17", "1", "Kent", "Harassment", "Violence against the person",
                         "Stalking and harassment", "8L", "120"])  # fmt: skip
        writer.writerow(["2016/17", "1", "Kent", "Stalking", "Violence against the person",
                         "Stalking and harassment", "8Q", "twelve"])  # fmt: skip
    return path


@pytest.mark.e2e
def test_failed_run_names_the_file_and_keeps_the_published_warehouse(
    dag_published: Settings, airflow_env: Path, tmp_path: Path
) -> None:
    warehouse = dag_published.warehouse
    before = (sha256(warehouse), warehouse.stat().st_mtime_ns, warehouse.stat().st_ino)
    bad = write_malformed(tmp_path / "raw")

    with pytest.raises(AirflowRunError) as caught:
        run_dag(bad.parent, warehouse, dag_published, output=None)

    error = caught.value
    message = str(error)
    assert bad.name in message and "row 3" in message and "Number of Offences" in message
    assert "task 'ingest' failed: InputFileError" in message
    assert error.state == "failed"
    assert error.task_states["ingest"] == "failed"
    assert error.task_states["publish"] == "upstream_failed"
    assert error.task_states["cleanup"] == "success"  # the teardown ran ...
    assert leftover_builds(warehouse) == []  # ... and removed the build
    assert [f["task_id"] for f in error.failures] == ["ingest"]
    assert error.failures[0]["row"] == 3 and error.failures[0]["column"] == "Number of Offences"
    # The published warehouse is the very same file, byte for byte.
    assert (sha256(warehouse), warehouse.stat().st_mtime_ns, warehouse.stat().st_ino) == before


@pytest.mark.e2e
def test_failure_after_ingest_also_keeps_the_published_warehouse(
    dag_published: Settings, airflow_env: Path, tmp_path: Path
) -> None:
    """A dbt failure (here: a project folder with the seeds but no dbt_project.yml) happens
    after the build file already holds the ingested data."""
    warehouse = dag_published.warehouse
    before = sha256(warehouse)
    broken = dataclasses.replace(dag_published, dbt_project_dir=tmp_path / "not-a-dbt-project")
    shutil.copytree(dag_published.seeds_dir, broken.seeds_dir)  # ingest reads force names from here

    with pytest.raises(AirflowRunError) as caught:
        run_dag(dag_published.sample_dir, warehouse, broken, output=None)

    assert caught.value.task_states["ingest"] == "success"
    assert caught.value.task_states["dbt_build"] == "failed"
    assert "task 'dbt_build' failed" in str(caught.value)
    assert leftover_builds(warehouse) == []
    assert sha256(warehouse) == before
