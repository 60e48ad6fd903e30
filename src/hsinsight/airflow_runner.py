"""Run hsinsight's Airflow DAGs locally, the way the scheduler would, and check the outcome.

``run_pipeline`` prepares a self-contained Airflow home (``<project>/.airflow`` unless
``AIRFLOW_HOME`` is set) with a SQLite metadata database, migrates that database
only when the installed Airflow version changed, writes the dbt manifest the
transform DAG is rendered from, and runs :mod:`hsinsight.airflow_driver` in a
subprocess while streaming its output: every ingest DAG once, then the transform DAG
if they updated a raw asset. It then reads every run's real final state, and every
task's, from the metadata database, and raises :class:`AirflowRunError` unless all of
them succeeded.

Why the database and not only an exit code: a DAG run that ends ``failed`` does not
say which task failed or why. The metadata database records what actually happened
to the run and to every task.

The error a failed task raised is recorded by :func:`record_failure`, the DAGs'
``on_failure_callback``: when the environment variable ``HSINSIGHT_AIRFLOW_FAILURES``
names a file, the callback appends one JSON line per failed task (DAG and task id,
error type, error text, and for a rejected raw file its file, row and column). The
runner reads those lines to say which task failed and why.

Nothing here imports Airflow: the DAG file imports :func:`record_failure` at parse
time, so this module must stay light.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from hsinsight.config import Settings, turn_off_telemetry
from hsinsight.errors import HsinsightError
from hsinsight.streaming import run_streaming

log = logging.getLogger(__name__)

INGEST_DAG_PREFIX = "hsinsight_ingest_"
TRANSFORM_DAG_ID = "hsinsight_transform"
FAILURES_ENV = "HSINSIGHT_AIRFLOW_FAILURES"
MIGRATION_STAMP = ".hsinsight-db-migrated"
LAST_RUN_LOG = "hsinsight-last-run.log"
LOCK_FILE = ".hsinsight.lock"

#: The DAG's tasks in pipeline order (used to list task states readably).
TASK_ORDER = (
    "fetch",
    "ingest",
    "start_build",
    "assemble",
    "dbt",  # the dbt build and the dbt.<node> tasks sort here
    "quality_checks",
    "publish",
    "record_run",
    "cleanup",
)
# Teardown tasks do not decide a run's state in Airflow; they are reported, not required.
TEARDOWN_TASKS = frozenset({"record_run", "cleanup"})

# Settings field -> the environment variable Settings.from_env() reads it from.
_SETTINGS_ENV = {
    "project_root": "HSINSIGHT_HOME",
    "sample_dir": "HSINSIGHT_SAMPLE_DIR",
    "warehouse": "HSINSIGHT_WAREHOUSE",
    "dbt_project_dir": "HSINSIGHT_DBT_PROJECT_DIR",
    "expectations_dir": "HSINSIGHT_EXPECTATIONS_DIR",
    "quality_dir": "HSINSIGHT_QUALITY_DIR",
    "quarantine_dir": "HSINSIGHT_QUARANTINE_DIR",
}


class AirflowRunError(HsinsightError):
    """The DAG run did not succeed (or could not be started or read back).

    ``failures`` holds what each failed task recorded (task_id, error_type, error and,
    for a rejected file, file/row/column); ``task_states`` maps task id to final state.
    """

    def __init__(
        self,
        message: str,
        *,
        run_id: str | None = None,
        state: str | None = None,
        task_states: dict[str, str] | None = None,
        failures: list[dict] | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.run_id = run_id
        self.state = state
        self.task_states = task_states or {}
        self.failures = failures or []
        self.log_file = log_file
        super().__init__(message)


@dataclass
class AirflowEnvironment:
    """Where the local Airflow lives and the environment its commands run with."""

    home: Path
    dags_folder: Path
    database: Path
    env: dict[str, str] = field(repr=False)

    @property
    def airflow(self) -> Path:
        return airflow_executable()


def airflow_executable() -> Path:
    """The ``airflow`` command installed beside the running Python interpreter."""
    candidate = Path(sys.executable).parent / "airflow"
    if not candidate.exists():
        raise AirflowRunError(
            f"the airflow command was not found beside {sys.executable}; "
            "install the project's dependencies (make setup)"
        )
    return candidate


def airflow_environment(cfg: Settings, warehouse: Path | None = None) -> AirflowEnvironment:
    """The Airflow home, DAG folder and SQLite database for this project, and the env to run with."""
    home = (
        Path(os.environ["AIRFLOW_HOME"]) if os.environ.get("AIRFLOW_HOME") else cfg.project_root / ".airflow"
    )
    home = home.resolve()
    dags_folder = (cfg.project_root / "dags").resolve()
    database = home / "airflow.db"
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW_CONFIG": str(home / "airflow.cfg"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{database}",
            "PYTHONUNBUFFERED": "1",
            # cosmos keeps dbt's partial parse here between the transform DAG's runs.
            "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
            # `airflow standalone` and friends start further `airflow` commands by name.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        }
    )
    # Offline and quiet: no usage reports from Airflow, cosmos, dbt or Great Expectations
    # (each would otherwise try the network, and wait for it, in every task).
    turn_off_telemetry(env)
    # The tasks build their Settings from the environment: hand them exactly this cfg.
    for name, var in _SETTINGS_ENV.items():
        env[var] = str(getattr(cfg, name))
    if warehouse is not None:
        env["HSINSIGHT_WAREHOUSE"] = str(Path(warehouse).resolve())
    return AirflowEnvironment(home=home, dags_folder=dags_folder, database=database, env=env)


def _migration_key(airflow_env: AirflowEnvironment) -> str:
    return f"apache-airflow-core {metadata.version('apache-airflow-core')}\n{airflow_env.database}\n"


def migration_needed(airflow_env: AirflowEnvironment) -> bool:
    """True unless this database was migrated by the installed Airflow version."""
    stamp = airflow_env.home / MIGRATION_STAMP
    if not airflow_env.database.exists() or not stamp.exists():
        return True
    return stamp.read_text() != _migration_key(airflow_env)


def ensure_database(airflow_env: AirflowEnvironment, *, output: IO[str] | None = None) -> bool:
    """Run ``airflow db migrate`` if needed. Returns True when it ran."""
    if not migration_needed(airflow_env):
        return False
    airflow_env.home.mkdir(parents=True, exist_ok=True)
    log.info("migrating the Airflow metadata database %s", airflow_env.database)
    completed = subprocess.run(
        [str(airflow_env.airflow), "db", "migrate"],
        env=airflow_env.env,
        cwd=airflow_env.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.splitlines()[-20:])
        raise AirflowRunError(f"airflow db migrate failed (exit code {completed.returncode}):\n{tail}")
    if output is not None:
        output.write(f"migrated the Airflow metadata database {airflow_env.database}\n")
    (airflow_env.home / MIGRATION_STAMP).write_text(_migration_key(airflow_env))
    return True


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """One run at a time per Airflow home (SQLite, and we identify our run as the newest)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _query(database: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _task_states(database: Path, dag_id: str, run_id: str) -> dict[str, str]:
    rows = _query(
        database,
        "select task_id, coalesce(state, 'none') from task_instance where dag_id = ? and run_id = ?",
        (dag_id, run_id),
    )
    order = {task: i for i, task in enumerate(TASK_ORDER)}

    def position(task_id: str) -> int:
        return order.get(task_id.split(".", 1)[0], len(order))

    return dict(sorted(rows, key=lambda row: (position(row[0]), row[0])))


def record_failure(context: Any) -> None:
    """``on_failure_callback``: append the failed task and its error to ``$HSINSIGHT_AIRFLOW_FAILURES``.

    Does nothing when the variable is unset (a deployed Airflow shows the task log instead).
    """
    target = os.environ.get(FAILURES_ENV)
    if not target:
        return
    error = context.get("exception")
    # A task that refuses to be retried raises AirflowFailException from the real error.
    cause = getattr(error, "__cause__", None)
    if isinstance(cause, HsinsightError):
        error = cause
    ti = context.get("ti") or context.get("task_instance")
    entry: dict[str, Any] = {
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "try_number": getattr(ti, "try_number", None),
        "error_type": type(error).__name__ if error is not None else None,
        "error": str(error) if error is not None else None,
    }
    # Where a rejected file is wrong (InputFileError), and which checks failed (QualityCheckFailed).
    for attribute in ("file", "row", "column", "sheet", "failures"):
        value = getattr(error, attribute, None)
        if value is not None:
            entry[attribute] = value
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, default=str) + "\n")


def _read_failures(path: Path) -> list[dict]:
    if not path.exists():
        return []
    failures = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            failures.append(json.loads(line))
    return failures


def progress_line(line: str) -> str | None:
    """The progress line to show for one ``HSINSIGHT-PROGRESS`` line of the driver, or
    None for a line not worth one: the start of a task that only reports a dbt node."""
    from hsinsight.airflow_dbt import BUILD_TASK
    from hsinsight.airflow_driver import PROGRESS_PREFIX

    event = json.loads(line[len(PROGRESS_PREFIX) :])
    task, state = event["task_id"], event["state"]
    build = task == f"dbt.{BUILD_TASK}"
    if state == "running" and task.startswith("dbt.") and not build:
        return None
    where = f"[{event['step']}] {event['dag_id']}: {task}"
    if state == "running":
        return f"{where} running" + (" (dbt build of the whole project)" if build else "")
    took = f" in {event['seconds']:.1f} s" if "seconds" in event else ""
    return f"{where} {state}{took} ({event['done']}/{event['total']} tasks done)"


def _stream(
    command: list[str],
    env: dict[str, str],
    cwd: Path,
    log_file: Path,
    output: IO[str] | None,
    progress: IO[str] | None = None,
) -> tuple[int, list[str]]:
    """Run ``command``, writing each output line to ``log_file`` and echoing it to ``output``
    (and its progress lines, readably, to ``progress``)."""
    from hsinsight.airflow_driver import PROGRESS_PREFIX

    with open(log_file, "w", encoding="utf-8") as saved:

        def on_line(line: str) -> None:
            saved.write(line + "\n")
            if output is not None:
                output.write(line + "\n")
                output.flush()
            if progress is not None and line.startswith(PROGRESS_PREFIX):
                try:
                    shown = progress_line(line)
                except (ValueError, KeyError):
                    shown = None
                if shown:
                    progress.write(shown + "\n")
                    progress.flush()

        try:
            return run_streaming(command, env=env, cwd=cwd, on_line=on_line)
        except OSError as exc:
            raise AirflowRunError(f"could not start {command[0]}: {exc}") from exc


def _describe(failures: list[dict]) -> str:
    parts = []
    for failure in failures:
        where = (
            f"{failure.get('dag_id')}.{failure.get('task_id')}"
            if failure.get("dag_id")
            else failure.get("task_id")
        )
        parts.append(f"task {where!r} failed: {failure.get('error_type')}: {failure.get('error')}")
    return "\n".join(parts)


@dataclass
class DagRunResult:
    """One DAG run: its id, final state and every task's final state."""

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        deciding = {t: s for t, s in self.task_states.items() if t not in TEARDOWN_TASKS}
        return self.state == "success" and all(s in ("success", "skipped") for s in deciding.values())

    def summary(self) -> str:
        return ", ".join(f"{task} {state}" for task, state in self.task_states.items())


@dataclass
class PipelineRun:
    """What one round of the DAGs did: each ingest DAG run, the raw asset events they
    produced (with what each loaded) and the transform DAG run, if it was triggered."""

    ingest: list[DagRunResult]
    events: list[dict]
    transform: DagRunResult | None

    @property
    def published(self) -> bool:
        return self.transform is not None and self.transform.succeeded


def run_pipeline(
    raw_dir: Path,
    warehouse: Path,
    cfg: Settings,
    *,
    output: IO[str] | None = sys.stdout,
    progress: IO[str] | None | bool = True,
    fresh: bool = False,
    wait: bool = True,
) -> PipelineRun:
    """Run every ingest DAG once on ``raw_dir`` and, if any loaded something new, the
    transform DAG, the way the scheduler would on their asset events (see
    :mod:`hsinsight.airflow_driver`).

    ``output`` receives Airflow's output as it is produced (``None`` to keep quiet; it is
    always saved to ``<AIRFLOW_HOME>/hsinsight-last-run.log``); ``progress`` receives a
    line as each task starts or ends: the DAG, the task, its state and how far the run is
    (by default standard output when ``output`` is None; ``None`` or ``False`` for none). Raises
    :class:`AirflowRunError` naming each failed task and its error unless every DAG run
    succeeded; the published warehouse is then exactly as it was, unless the transform
    DAG published the other sources' new data.

    The warehouse's lock is taken first and handed to the DAGs' tasks (see
    :func:`hsinsight.publish.delegate_env`): when another run holds it, the call waits
    saying so on ``progress`` (or standard error), or with ``wait=False`` raises
    :class:`~hsinsight.publish.WarehouseBusy` after writing a ``refused`` row to the
    run log.
    """
    from hsinsight import pipeline, runs, transform
    from hsinsight import publish as publishing

    raw_dir, warehouse = Path(raw_dir).resolve(), Path(warehouse).resolve()
    if progress is True:
        progress = sys.stdout if output is None else None
    elif progress is False:
        progress = None
    airflow_env = airflow_environment(cfg, warehouse)
    # The transform DAG renders its dbt tasks from the project's manifest.
    transform.ensure_manifest(cfg)
    run_id = runs.new_run_id("airflow")

    def say(message: str) -> None:
        where = progress if progress is not None else sys.stderr
        where.write(message + "\n")
        where.flush()

    try:
        publishing.acquire(warehouse, wait=wait, on_wait=say, run_id=run_id, orchestrator="airflow")
    except publishing.WarehouseBusy as exc:
        pipeline.record_refusal(warehouse, exc, "airflow", run_id)
        raise
    try:
        airflow_env.env = publishing.delegate_env(warehouse, airflow_env.env)
        return _run_locked(airflow_env, raw_dir, warehouse, output, progress, fresh)
    finally:
        publishing.release(warehouse)


def _run_locked(
    airflow_env: AirflowEnvironment,
    raw_dir: Path,
    warehouse: Path,
    output: IO[str] | None,
    progress: IO[str] | None,
    fresh: bool,
) -> PipelineRun:
    with _locked(airflow_env.home):
        if progress is not None and migration_needed(airflow_env):
            progress.write(f"migrating the Airflow metadata database {airflow_env.database}\n")
            progress.flush()
        ensure_database(airflow_env, output=output)
        failures_file = airflow_env.home / f"failures-{uuid.uuid4().hex}.jsonl"
        log_file = airflow_env.home / LAST_RUN_LOG
        env = dict(airflow_env.env, **{FAILURES_ENV: str(failures_file)})
        conf = json.dumps({"raw_dir": str(raw_dir), "warehouse": str(warehouse), "fresh": fresh})
        command = [sys.executable, "-m", "hsinsight.airflow_driver", conf]
        try:
            returncode, tail = _stream(command, env, airflow_env.home, log_file, output, progress)
            failures = _read_failures(failures_file)
        finally:
            failures_file.unlink(missing_ok=True)
        return _check_outcome(airflow_env.database, returncode, tail, failures, log_file)


def _result_line(log_file: Path) -> dict | None:
    from hsinsight.airflow_driver import RESULT_PREFIX

    if not log_file.exists():
        return None
    for line in reversed(log_file.read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    return None


def _check_outcome(
    database: Path, returncode: int, tail: list[str], failures: list[dict], log_file: Path
) -> PipelineRun:
    result = _result_line(log_file)
    if returncode != 0 or result is None:
        raise AirflowRunError(
            f"the Airflow DAGs could not be run (exit code {returncode}); last output:\n"
            + "\n".join(tail[-15:])
            + f"\nfull output: {log_file}",
            failures=failures,
            log_file=log_file,
        )

    def read(run: dict) -> DagRunResult:
        return DagRunResult(
            dag_id=run["dag_id"],
            run_id=run["run_id"],
            state=str(run["state"]).removeprefix("DagRunState.").lower(),
            task_states=_task_states(database, run["dag_id"], run["run_id"]),
        )

    outcome = PipelineRun(
        ingest=[read(run) for run in result["ingest"]],
        events=result["events"],
        transform=read(result["transform"]) if result.get("transform") else None,
    )
    failed = [run for run in [*outcome.ingest, outcome.transform] if run is not None and not run.succeeded]
    if not failed:
        return outcome
    deciding = [f for f in failures if f.get("task_id") not in TEARDOWN_TASKS]
    detail = _describe(deciding) or "failed task(s): " + "; ".join(
        f"{run.dag_id}: {', '.join(t for t, s in run.task_states.items() if s == 'failed') or 'none recorded'}"
        for run in failed
    )
    states = "\n".join(f"  {run.dag_id} ({run.run_id}) ended {run.state}: {run.summary()}" for run in failed)
    published = (
        "the transform DAG published the other sources' new data"
        if outcome.published
        else "nothing was published"
    )
    error = AirflowRunError(
        f"{detail}\n{published}; DAG runs that did not succeed:\n{states}\nfull output: {log_file}",
        run_id=failed[0].run_id,
        state=failed[0].state,
        task_states=failed[0].task_states,
        failures=failures,
        log_file=log_file,
    )
    error.pipeline_run = outcome
    raise error


# --------------------------------------------------------------------------- make airflow

#: How long ``serve`` waits for the web server to answer before giving up.
STARTUP_SECONDS = 300
LOGIN_USER = "admin"


def _password(home: Path) -> str | None:
    """The generated password of the login user, once ``airflow standalone`` wrote it."""
    generated = home / "simple_auth_manager_passwords.json.generated"
    try:
        return json.loads(generated.read_text(encoding="utf-8")).get(LOGIN_USER)
    except (OSError, ValueError):
        return None


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _group_alive(group: int) -> bool:
    """Whether any process of the process group ``group`` is still running."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serve(cfg: Settings, *, host: str = "127.0.0.1", port: int = 8080, output: IO[str] = sys.stdout) -> int:
    """Run ``airflow standalone`` (scheduler, DAG processor, triggerer and web server, on
    SQLite) with hsinsight's DAGs, print the URL and the login once it answers, and stop
    it cleanly (SIGINT, as it expects) on Ctrl-C or SIGTERM. Returns its exit code."""
    import signal
    import time

    from hsinsight import transform

    airflow_env = airflow_environment(cfg)
    transform.ensure_manifest(cfg)
    ensure_database(airflow_env, output=output)
    env = dict(
        airflow_env.env,
        AIRFLOW__API__HOST=host,
        AIRFLOW__API__PORT=str(port),
        # The workers report to the web server's execution API, wherever it listens.
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://{host}:{port}/execution/",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{LOGIN_USER}:admin",
        # New DAGs start paused: nothing is fetched from a publisher until you switch a DAG on.
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
    )
    log_file = airflow_env.home / "standalone.log"
    url = f"http://{host}:{port}"
    with open(log_file, "w", encoding="utf-8") as saved:
        process = subprocess.Popen(
            [str(airflow_env.airflow), "standalone"],
            env=env,
            cwd=airflow_env.home,
            stdout=saved,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def stop(*_: object) -> None:
            # SIGINT to standalone itself, which stops its components; then whatever of
            # them is left (the scheduler's workers) is terminated, and killed at last.
            for target, sig, grace in (
                (process.pid, signal.SIGINT, 30),
                (-process.pid, signal.SIGTERM, 15),
                (-process.pid, signal.SIGKILL, 5),
            ):
                try:
                    os.kill(target, sig)
                except ProcessLookupError:
                    pass
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    continue
                if not _group_alive(process.pid):
                    return

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            output.write(
                f"starting Airflow (airflow standalone, SQLite) in {airflow_env.home}; log: {log_file}\n"
            )
            output.flush()
            deadline = time.monotonic() + STARTUP_SECONDS
            while not (_answers(f"{url}/api/v2/monitor/health") and _password(airflow_env.home)):
                if process.poll() is not None:
                    raise AirflowRunError(
                        f"airflow standalone stopped (exit code {process.returncode}); see {log_file}"
                    )
                if time.monotonic() > deadline:
                    raise AirflowRunError(
                        f"Airflow did not answer at {url} within {STARTUP_SECONDS} s; see {log_file}"
                    )
                time.sleep(1)
            output.write(
                f"Airflow: {url}\n"
                f"login:   {LOGIN_USER} / {_password(airflow_env.home)}\n"
                "DAGs:    hsinsight_ingest_<source> (one per source, paused until you switch them on) and\n"
                "         hsinsight_transform (runs when an ingest DAG loads something new)\n"
                "To load the bundled SYNTHETIC sample, trigger an ingest DAG with the config\n"
                f'         {{"raw_dir": "{cfg.sample_dir}", "download": false}}\n'
                "Ctrl-C stops Airflow.\n"
            )
            output.flush()
            return process.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop()
            signal.signal(signal.SIGTERM, previous)
