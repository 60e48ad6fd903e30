"""The Airflow DAGs: they parse cleanly, have the intended shape and schedules, do no work
at import time, and run on the sample they ingest every source, trigger the transform
through the raw assets, publish, record the run, and on failure name the cause and
leave the published warehouse exactly as it was. Retries happen for network failures
only."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import ROUND_LOG, isolated_settings
from hsinsight import raw, runs, transform
from hsinsight.airflow.callbacks import FAILURES_ENV
from hsinsight.airflow.environment import (
    MIGRATION_STAMP,
    airflow_environment,
    ensure_database,
    migration_needed,
)
from hsinsight.airflow.runner import AirflowRunError, run_pipeline
from hsinsight.config import Settings
from hsinsight.names import INGEST_DAG_PREFIX, TRANSFORM_DAG_ID
from hsinsight.sources import SOURCES
from hsinsight.sources.registry import load_registry

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS = PROJECT_ROOT / "dags"
INGEST_FILE = DAGS / "hsinsight_ingest.py"
TRANSFORM_FILE = DAGS / "hsinsight_transform.py"
SAMPLE_FILE = "home_office_police_recorded_crime_pfa.csv"
REGISTRY = load_registry()
INGEST_DAGS = [f"{INGEST_DAG_PREFIX}{source_id}" for source_id in REGISTRY]
#: The transform DAG's one dbt invocation: `dbt build` of the whole project.
PRODUCER = "dbt.build"

# Parses the dags/ folder the way Airflow's DAG processor does and reports what it found.
DESCRIBE_DAGS = textwrap.dedent(
    """
    import json, sys
    from airflow.dag_processing.dagbag import DagBag

    def assets(condition):
        if condition is None:
            return []
        if hasattr(condition, "objects"):
            return sorted(name for part in condition.objects for name in assets(part))
        return [condition.name]

    bag = DagBag(dag_folder=sys.argv[1])
    out = {"import_errors": {str(k): v for k, v in bag.import_errors.items()}, "dags": {}}
    for dag_id, dag in bag.dags.items():
        timetable = dag.timetable
        out["dags"][dag_id] = {
            "tags": sorted(dag.tags),
            "owner": dag.owner,
            "cron": dag.schedule if isinstance(dag.schedule, str) else None,
            "schedule_assets": assets(getattr(timetable, "asset_condition", None)),
            "doc_md": dag.doc_md,
            "description": dag.description,
            "params": dag.params.dump(),
            "max_active_runs": dag.max_active_runs,
            "max_active_tasks": dag.max_active_tasks,
            "catchup": dag.catchup,
            "tasks": {
                t.task_id: {
                    "upstream": sorted(t.upstream_task_ids),
                    "trigger_rule": str(t.trigger_rule.value),
                    "is_setup": t.is_setup,
                    "is_teardown": t.is_teardown,
                    "owner": t.owner,
                    "retries": t.retries,
                    "retry_delay": t.retry_delay.total_seconds(),
                    "retry_exponential_backoff": float(t.retry_exponential_backoff or 0),
                    "on_failure_callback": [f.__name__ for f in t.on_failure_callback or []],
                    "outlets": [getattr(o, "name", str(o)) for o in t.outlets],
                    "select": list(getattr(t, "select", None) or []),
                    "dbt_node": {
                        k: v for k, v in (getattr(t, "op_kwargs", None) or {}).items() if k in ("unique_id", "tests")
                    },
                }
                for t in dag.tasks
            },
        }
    print("DAGBAG-JSON " + json.dumps(out))
    """
)

# Imports one DAG file alone and records everything it does beyond what Airflow does for any DAG.
PROBE_IMPORT = textwrap.dedent(
    """
    import importlib.util, json, os, sys, time
    from airflow.sdk import Asset, Param, dag, setup, task, teardown

    # Warm up: let Airflow load what it loads lazily for any TaskFlow DAG (timetables,
    # croniter, ...), so that what follows is attributable to the DAG file alone.
    @dag(dag_id="warm_up", schedule="0 6 2 2,5,8,11 *", params={"p": Param("x", type="string")})
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

    spec = importlib.util.spec_from_file_location("hsinsight_dag_probe", sys.argv[1])
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


def _airflow_env(airflow_home: Path) -> dict[str, str]:
    return dict(
        os.environ,
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW_CONFIG=str(airflow_home / "airflow.cfg"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        PYTHONDONTWRITEBYTECODE="1",
    )


def _airflow_python(script: str, *args: str, airflow_home: Path) -> dict:
    """Run ``script`` in a fresh interpreter with an isolated Airflow home; return its JSON report."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=_airflow_env(airflow_home),
        capture_output=True,
        text=True,
        timeout=300,
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
    # The transform DAG is rendered from the dbt manifest, as `hsinsight run` prepares it.
    transform.ensure_manifest(Settings.from_env())
    return _airflow_python(DESCRIBE_DAGS, str(DAGS), airflow_home=airflow_home)


@pytest.fixture(scope="session")
def transform_dag(dagbag: dict) -> dict:
    return dagbag["dags"][TRANSFORM_DAG_ID]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftover_builds(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".build-*"))


def dbt_models(kind: str = "model") -> set[str]:
    manifest = json.loads(transform.ensure_manifest(Settings.from_env()).read_text())
    return {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == kind}


def dbt_seeds() -> set[str]:
    return dbt_models("seed")


# --- DAG integrity ---------------------------------------------------------------------------


def test_dags_folder_has_no_import_errors_and_one_ingest_dag_per_source(dagbag: dict) -> None:
    assert dagbag["import_errors"] == {}
    assert sorted(dagbag["dags"]) == sorted([*INGEST_DAGS, TRANSFORM_DAG_ID])
    # Every source the registry lists is one ingest recognises, and the other way round.
    assert set(REGISTRY) == set(SOURCES)


def test_every_dag_has_tags_owner_docs_and_retries_set(dagbag: dict) -> None:
    for dag_id, dag in dagbag["dags"].items():
        assert "hsinsight" in dag["tags"], dag_id
        assert dag["owner"] == "hsinsight", dag_id
        assert dag["doc_md"] and dag["description"], dag_id
        assert dag["max_active_runs"] == 1 and dag["catchup"] is False, dag_id
        for task_id, task in dag["tasks"].items():
            assert task["owner"] == "hsinsight", (dag_id, task_id)
            assert task["on_failure_callback"] == ["record_failure"], (dag_id, task_id)
            assert isinstance(task["retries"], int), (dag_id, task_id)


@pytest.mark.parametrize("source_id", list(REGISTRY))
def test_ingest_dag_schedule_graph_and_asset(dagbag: dict, source_id: str) -> None:
    dag = dagbag["dags"][f"{INGEST_DAG_PREFIX}{source_id}"]
    source = REGISTRY[source_id]
    # The schedule is the registry's, chosen from the publisher's cadence.
    assert source.schedule and dag["cron"] == source.schedule
    assert source.cadence in dag["description"]
    tasks = dag["tasks"]
    assert set(tasks) == {"fetch", "ingest"}
    assert tasks["fetch"]["upstream"] == [] and tasks["ingest"]["upstream"] == ["fetch"]
    assert tasks["ingest"]["outlets"] == [f"hsinsight_raw_{source_id}"]
    # Network failures are retried with a growing delay; bad data is refused with
    # AirflowFailException, which is never retried (tested below).
    for task in tasks.values():
        assert task["retries"] == 3
        assert task["retry_exponential_backoff"] == 2.0
        assert task["retry_delay"] > 0
    assert dag["params"]["download"] == source.downloadable
    assert dag["params"]["fresh"] is False


def test_transform_dag_is_scheduled_on_every_raw_asset(transform_dag: dict) -> None:
    assert transform_dag["cron"] is None
    assert transform_dag["schedule_assets"] == sorted(f"hsinsight_raw_{s}" for s in SOURCES)
    # Every task writes the one build file: one at a time.
    assert transform_dag["max_active_tasks"] == 1


def test_transform_dag_runs_dbt_once_and_has_a_task_per_dbt_node_and_the_pipeline_order(
    transform_dag: dict,
) -> None:
    tasks = transform_dag["tasks"]
    dbt_tasks = {t for t in tasks if t.startswith("dbt.")}
    # One task runs dbt (the whole project's `dbt build`); every other dbt task reports a node.
    assert tasks[PRODUCER]["upstream"] == ["assemble"]
    node_tasks = dbt_tasks - {PRODUCER}
    # One task per model and per seed, named by it (its tests are reported by it).
    assert {t.removeprefix("dbt.") for t in node_tasks} == dbt_models() | dbt_seeds()
    for task_id in node_tasks:
        assert tasks[task_id]["retries"] == 0, task_id
        upstream = set(tasks[task_id]["upstream"])
        # A node's task follows the tasks of the nodes it reads; a root node's task, the
        # dbt build, whether it failed or not (so a failed node's task fails with its message).
        assert upstream, task_id
        if upstream & (node_tasks - {task_id}):
            assert upstream <= node_tasks, task_id
            assert tasks[task_id]["trigger_rule"] == "all_success", task_id
        else:
            assert upstream == {"assemble", PRODUCER}, task_id
            assert tasks[task_id]["trigger_rule"] == "all_done_min_one_success", task_id
    assert tasks["start_build"]["upstream"] == [] and tasks["start_build"]["is_setup"]
    assert tasks["assemble"]["upstream"] == ["start_build"]
    assert tasks[PRODUCER]["retries"] == 0
    leaves = {t for t in dbt_tasks if not any(t in tasks[o]["upstream"] for o in dbt_tasks)}
    # The checks read a finished build every node of which passed.
    assert set(tasks["quality_checks"]["upstream"]) == leaves | {PRODUCER, "start_build"}
    assert tasks["publish"]["upstream"] == ["quality_checks", "start_build"]
    assert tasks["publish"]["outlets"] == ["hsinsight_warehouse"]
    for task_id in ("assemble", "quality_checks", "publish"):
        assert tasks[task_id]["retries"] == 0, task_id
        assert tasks[task_id]["trigger_rule"] == "all_success", task_id


def test_run_record_and_cleanup_are_teardowns_that_cannot_mask_a_failure(transform_dag: dict) -> None:
    tasks = transform_dag["tasks"]
    assert tasks["record_run"]["upstream"] == ["publish", "start_build"]
    assert tasks["cleanup"]["upstream"] == ["record_run", "start_build"]
    # the profiles are written from the published file, after the publish
    assert tasks["render_profiles"]["upstream"] == ["publish"]
    for task_id in ("record_run", "cleanup"):
        # They run whatever happened, as long as a build was started, and are left out
        # when Airflow decides the run's state.
        assert tasks[task_id]["is_teardown"], task_id
        assert tasks[task_id]["trigger_rule"] == "all_done_setup_success", task_id
    assert not any(task["is_teardown"] for t, task in tasks.items() if t not in ("record_run", "cleanup"))


@pytest.mark.parametrize("dag_file", [INGEST_FILE, TRANSFORM_FILE], ids=lambda p: p.stem)
def test_importing_a_dag_file_does_no_work(airflow_home: Path, dag_file: Path) -> None:
    transform.ensure_manifest(Settings.from_env())
    report = _airflow_python(PROBE_IMPORT, str(dag_file), airflow_home=airflow_home)
    # No files written, no databases, sockets or subprocesses (the transform DAG reads the
    # dbt manifest; it never runs dbt to build the graph). Two things cosmos does when
    # it renders a task group are let through: it opens /dev/null, and it makes sure its
    # cache folder exists (the tasks keep dbt's partial parse there).
    cache = str(Path(os.environ.get("AIRFLOW__COSMOS__CACHE_DIR", "/tmp/cosmos")))
    events = [
        event
        for event in report["events"]
        if event != ["open for writing", "/dev/null"]
        and not (dag_file == TRANSFORM_FILE and event[0] == "os.mkdir" and event[1].startswith(cache))
    ]
    assert events == []
    heavy = {"duckdb", "great_expectations", "pandas", "streamlit"}
    assert not [m for m in report["new_modules"] if m.split(".")[0] in heavy]
    assert not {"hsinsight.pipeline", "hsinsight.publish", "hsinsight.ingest"} & set(report["new_modules"])
    assert report["seconds"] < 5.0


def test_every_dbt_test_runs_in_the_one_build_and_fails_a_task_of_each_node_it_tests(
    transform_dag: dict,
) -> None:
    manifest = transform.ensure_manifest(Settings.from_env())
    nodes = json.loads(manifest.read_text())["nodes"]
    tasks = transform_dag["tasks"]
    tests_per_node = {
        task["dbt_node"]["unique_id"]: task["dbt_node"]["tests"]
        for task in tasks.values()
        if "tests" in task["dbt_node"]
    }
    reported = {test for tests in tests_per_node.values() for test in tests}
    data_tests = {key for key, node in nodes.items() if node["resource_type"] == "test"}
    # Every test on a model or seed is reported by a task; a source's tests (on the raw
    # tables) fail the build's own task, which names them, and the models that read it.
    on_nodes = {
        key
        for key in data_tests
        if any(p.split(".")[0] in ("model", "seed") for p in nodes[key]["depends_on"]["nodes"])
    }
    assert on_nodes and on_nodes <= reported
    for node_id in tests_per_node:
        assert f"dbt.{node_id.rsplit('.', 1)[-1]}" in tasks, node_id
    # A relationships test from a staging model to a seed, which no single node's run would
    # run, is in the build and fails the test task of each node it reads.
    by_name = {node["name"]: key for key, node in nodes.items()}
    names = transform.cross_node_tests(manifest)
    assert any(name.startswith("relationships_stg_home_office__recorded_crime_area_code") for name in names)
    for name in names:
        key = by_name[name]
        parents = [p for p in nodes[key]["depends_on"]["nodes"] if p.split(".")[0] in ("model", "seed")]
        assert len(parents) > 1, name
        for parent in parents:
            assert key in tests_per_node[parent], (name, parent)


# --- the local Airflow home --------------------------------------------------------------------


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


# --- end to end: ingest DAGs, asset events, transform DAG ------------------------------------


def test_ingest_dags_update_their_assets_and_trigger_the_transform(dags_published, airflow_home) -> None:
    cfg, outcome = dags_published
    assert [run.dag_id for run in outcome.ingest] == INGEST_DAGS
    for run in outcome.ingest:
        assert run.state == "success" and run.task_states == {"fetch": "success", "ingest": "success"}, run
    # Each ingest DAG announced its raw asset with what it loaded ...
    events = {event["asset"]: event["extra"] for event in outcome.events}
    assert sorted(events) == sorted(f"hsinsight_raw_{s}" for s in REGISTRY)
    for source_id in REGISTRY:
        extra = events[f"hsinsight_raw_{source_id}"]
        assert extra["source"] == source_id and extra["files_loaded"] >= 1 and extra["rows_loaded"] > 0
        assert raw.raw_store(cfg.warehouse, source_id).is_file()
    # ... and the transform DAG ran every task, one per dbt model among them.
    assert outcome.transform is not None and outcome.published
    states = outcome.transform.task_states
    assert set(states.values()) == {"success"}, states
    assert {f"dbt.{m}" for m in dbt_models() | dbt_seeds()} <= set(states)
    # The DAG folder was parsed once for the round (not again for each of the eleven runs).
    log = (cfg.warehouse.parent / ROUND_LOG).read_text(encoding="utf-8", errors="replace")
    assert log.count("Filling up the DagBag") == 1
    assert states[PRODUCER] == "success"
    # Airflow's own record: the warehouse asset was updated by publish.
    db = sqlite3.connect(airflow_home / "airflow.db")
    try:
        (extra,) = db.execute(
            "select e.extra from asset_event e join asset a on a.id = e.asset_id "
            "where a.name = 'hsinsight_warehouse' and e.source_run_id = ?",
            (outcome.transform.run_id,),
        ).fetchone()
    finally:
        db.close()
    assert json.loads(extra) == {"path": str(cfg.warehouse.resolve())}


def test_transform_dag_publishes_the_sample_and_records_the_run(dags_published) -> None:
    cfg, outcome = dags_published
    warehouse = cfg.warehouse
    assert leftover_builds(warehouse.parent) == []
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
    assert rows["stalking"] == 4613 and rows["harassment"] == 202755
    assert synthetic is True
    (run,) = [r for r in runs.read_runs(warehouse) if r["run_id"] == outcome.transform.run_id]
    assert run["orchestrator"] == "airflow" and run["outcome"] == "published" and run["published"]
    assert run["sources"].split(", ") == sorted(REGISTRY)
    total_rows = sum(event["extra"]["rows_loaded"] for event in outcome.events)
    assert run["rows_loaded"] == total_rows > 0
    assert run["checks_run"] >= 1 and run["checks_failed"] == 0
    assert run["checks_passed"] + run["checks_warned"] == run["checks_run"]
    assert run["seconds"] > 0 and run["synthetic"] is True
    # The Data Docs of this run's checks were written.
    assert run["data_docs"] and Path(run["data_docs"]).is_file()
    # Every force's problem profile was written for the latest period, as one set.
    sets = [p for p in (warehouse.resolve().parent.parent / "profiles").iterdir() if p.is_dir()]
    assert [p.name for p in sets if p.name.startswith(".")] == []
    (latest,) = sets
    assert (latest / "index.html").is_file()
    assert len([p for p in latest.glob("*.html") if p.name != "index.html"]) >= 43


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


def test_bad_file_fails_its_ingest_dag_once_and_keeps_everything_published(
    dags_published, airflow_env: Path, tmp_path: Path
) -> None:
    cfg, _ = dags_published
    warehouse = cfg.warehouse
    store = raw.raw_store(warehouse, "home_office_recorded_crime")
    before = (sha256(warehouse), warehouse.stat().st_ino, sha256(store))
    bad = write_malformed(tmp_path / "raw")

    with pytest.raises(AirflowRunError) as caught:
        run_pipeline(bad.parent, warehouse, cfg, output=None)

    error = caught.value
    message = str(error)
    assert bad.name in message and "row 3" in message and "Number of Offences" in message
    assert "hsinsight_ingest_home_office_recorded_crime.ingest' failed: InputFileError" in message
    assert "nothing was published" in message
    assert error.task_states == {"fetch": "success", "ingest": "failed"}
    (failure,) = [f for f in error.failures if f["task_id"] == "ingest"]
    assert failure["row"] == 3 and failure["column"] == "Number of Offences"
    assert failure["try_number"] == 1  # bad data is not retried, though the task allows 3 retries
    # The other sources' DAGs found nothing of theirs and succeeded; nothing triggered a build.
    others = [run for run in error.pipeline_run.ingest if run.dag_id != error.failures[0]["dag_id"]]
    assert all(run.succeeded for run in others) and error.pipeline_run.transform is None
    assert (sha256(warehouse), warehouse.stat().st_ino, sha256(store)) == before
    assert leftover_builds(warehouse.parent) == []


# --- retries: a flaky source server and a bad one ----------------------------------------------


class _SourceHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # keep the test output quiet
        pass

    def do_GET(self):
        with self.server.lock:
            self.server.hits[self.path] += 1
            hits = self.server.hits[self.path]
        if self.path == "/flaky.csv" and hits <= 2:
            body, status = b"busy", 503
        elif self.path == "/flaky.csv":
            body, status = self.server.good, 200
        elif self.path == "/bad.csv":
            body, status = self.server.bad, 200
        else:
            body, status = b"no such file", 404
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def source_server(tmp_path: Path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SourceHandler)
    httpd.daemon_threads = True
    httpd.lock = threading.Lock()
    httpd.hits = Counter()
    httpd.good = (Settings.from_env().sample_dir / SAMPLE_FILE).read_bytes()
    httpd.bad = write_malformed(tmp_path / "bad").read_bytes()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _test_ingest_dag(cfg: Settings, server, path: str, tmp_path: Path) -> tuple[str, dict, list[dict]]:
    """``airflow dags test`` of the recorded crime ingest DAG, downloading from ``server``."""
    document = yaml.safe_load((PROJECT_ROOT / "src/hsinsight/sources/registry.yml").read_text())
    for entry in document["sources"]:
        if entry["id"] == "home_office_recorded_crime":
            entry.pop("link_text", None)
            entry["urls"] = [f"http://127.0.0.1:{server.server_address[1]}{path}"]
    registry = tmp_path / "registry.yml"
    registry.write_text(yaml.safe_dump(document))
    airflow = airflow_environment(cfg)
    ensure_database(airflow, output=None)
    failures = tmp_path / "failures.jsonl"
    env = dict(
        airflow.env,
        HSINSIGHT_SOURCES_REGISTRY=str(registry),
        HSINSIGHT_RETRY_DELAY_SECONDS="0.5",
        **{FAILURES_ENV: str(failures)},
    )
    dag_id = f"{INGEST_DAG_PREFIX}home_office_recorded_crime"
    conf = {"raw_dir": str(tmp_path / "downloads"), "warehouse": str(cfg.warehouse), "download": True}
    done = subprocess.run(
        [str(airflow.airflow), "dags", "test", dag_id, "--conf", json.dumps(conf)],
        env=env,
        cwd=airflow.home,
        capture_output=True,
        text=True,
        timeout=600,
    )
    db = sqlite3.connect(airflow.database)
    try:
        (run_id,) = db.execute(
            "select run_id from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)
        ).fetchone()
        tries = {
            task: (state, try_number)
            for task, state, try_number in db.execute(
                "select task_id, state, try_number from task_instance where dag_id = ? and run_id = ?",
                (dag_id, run_id),
            )
        }
    finally:
        db.close()
    recorded = [json.loads(line) for line in failures.read_text().splitlines()] if failures.exists() else []
    return done.stdout + done.stderr, tries, recorded


def test_network_failures_are_retried_until_the_download_succeeds(
    source_server, airflow_env: Path, tmp_path: Path
) -> None:
    cfg = isolated_settings(tmp_path / "project")
    output, tries, failures = _test_ingest_dag(cfg, source_server, "/flaky.csv", tmp_path)
    # Two 503 answers, each a failed try of `fetch`, then the file: three tries in all.
    assert source_server.hits["/flaky.csv"] == 3, output[-3000:]
    assert tries == {"fetch": ("success", 3), "ingest": ("success", 1)}, output[-3000:]
    assert [f["task_id"] for f in failures] == []  # retried tries are not failures
    store = raw.raw_store(cfg.warehouse, "home_office_recorded_crime")
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert con.execute("select count(*) from raw.home_office__recorded_crime").fetchone()[0] > 0
    finally:
        con.close()


def test_bad_data_from_the_server_fails_once_without_retries(
    source_server, airflow_env: Path, tmp_path: Path
) -> None:
    cfg = isolated_settings(tmp_path / "project")
    output, tries, failures = _test_ingest_dag(cfg, source_server, "/bad.csv", tmp_path)
    assert source_server.hits["/bad.csv"] == 1
    assert tries == {"fetch": ("success", 1), "ingest": ("failed", 1)}, output[-3000:]
    (failure,) = failures
    assert failure["task_id"] == "ingest" and failure["error_type"] == "InputFileError"
    assert failure["row"] == 3 and failure["column"] == "Number of Offences"
    assert not raw.raw_store(cfg.warehouse, "home_office_recorded_crime").exists()


# --- the real scheduler: `hsinsight airflow` (make airflow) ------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_scheduler_starts_the_transform_on_an_ingest_dags_asset_event(tmp_path: Path) -> None:
    """`airflow dags test` never starts an asset-scheduled DAG: this runs the real
    scheduler (`hsinsight airflow`, as `make airflow` does), triggers one ingest DAG and
    waits for the scheduler to start the transform DAG on its asset event."""
    import signal
    import time

    cfg = isolated_settings(tmp_path / "project")
    home = tmp_path / "airflow"
    port = _free_port()
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        HSINSIGHT_WAREHOUSE=str(cfg.warehouse),
        HSINSIGHT_QUALITY_DIR=str(cfg.quality_dir),
        HSINSIGHT_QUARANTINE_DIR=str(cfg.quarantine_dir),
    )
    hsinsight = Path(sys.executable).parent / "hsinsight"
    server = subprocess.Popen(
        [str(hsinsight), "airflow", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed: list[str] = []
    try:
        for line in server.stdout:
            printed.append(line)
            if line.startswith("login:"):
                break
        assert any(line.startswith(f"Airflow: http://127.0.0.1:{port}") for line in printed), printed
        (login,) = [line for line in printed if line.startswith("login:")]
        assert login.split()[1] == "admin" and len(login.split()) == 4  # "login: admin / <password>"

        airflow = airflow_environment(cfg, cfg.warehouse)
        cli_env = dict(airflow.env, AIRFLOW_HOME=str(home), AIRFLOW_CONFIG=str(home / "airflow.cfg"))
        cli_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
        ingest_dag = f"{INGEST_DAG_PREFIX}ons_population"

        def airflow_cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [str(airflow.airflow), *args], env=cli_env, capture_output=True, text=True, timeout=120
            )

        deadline = time.monotonic() + 120
        while TRANSFORM_DAG_ID not in airflow_cli("dags", "list").stdout:
            assert time.monotonic() < deadline, "the DAG processor did not load the DAGs"
            time.sleep(2)
        for dag_id in (TRANSFORM_DAG_ID, ingest_dag):
            assert airflow_cli("dags", "unpause", dag_id).returncode == 0
        conf = json.dumps({"raw_dir": str(cfg.sample_dir), "download": False})
        assert airflow_cli("dags", "trigger", ingest_dag, "--conf", conf).returncode == 0

        def runs_of(dag_id: str) -> list[tuple[str, str]]:
            db = sqlite3.connect(home / "airflow.db")
            try:
                return db.execute(
                    "select run_type, state from dag_run where dag_id = ?", (dag_id,)
                ).fetchall()
            finally:
                db.close()

        deadline = time.monotonic() + 240
        while not runs_of(TRANSFORM_DAG_ID):
            assert time.monotonic() < deadline, f"no transform run; ingest runs: {runs_of(ingest_dag)}"
            time.sleep(2)
        assert runs_of(ingest_dag) == [("manual", "success")]
        assert [run_type for run_type, _ in runs_of(TRANSFORM_DAG_ID)] == ["asset_triggered"]
        assert raw.raw_store(cfg.warehouse, "ons_population").is_file()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    # Airflow and every worker it started are gone.
    with pytest.raises(ProcessLookupError):
        os.killpg(server.pid, 0)
