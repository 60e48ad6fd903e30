"""Run the ``hsinsight_pipeline`` DAG locally with ``airflow dags test``.

``run_dag`` prepares a self-contained Airflow home (``<project>/.airflow`` unless
``AIRFLOW_HOME`` is set) with a SQLite metadata database, migrates that database
only when the installed Airflow version changed, runs the DAG once in a subprocess
while streaming its output, and then reads the run's real final state from the
metadata database. It raises :class:`AirflowRunError` unless the DAG run and every
task that decides it succeeded.

Why the database and not only the exit code: in Airflow 3.3 ``airflow dags test``
exits 1 when the run ends ``failed`` or the DAG cannot be loaded, but exits 0 for any
other end state, and the exit code never says which task failed. The metadata
database records what actually happened to the run and to every task.

The error a failed task raised is recorded by :func:`record_failure`, the DAG's
``on_failure_callback``: when the environment variable ``HSINSIGHT_AIRFLOW_FAILURES``
names a file, the callback appends one JSON line per failed task (task id, error
type, error text, and for a rejected raw file its file, row and column). The
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

from hsinsight.config import Settings
from hsinsight.errors import HsinsightError
from hsinsight.streaming import run_streaming

log = logging.getLogger(__name__)

DAG_ID = "hsinsight_pipeline"
FAILURES_ENV = "HSINSIGHT_AIRFLOW_FAILURES"
MIGRATION_STAMP = ".hsinsight-db-migrated"
LAST_RUN_LOG = "hsinsight-last-run.log"
LOCK_FILE = ".hsinsight.lock"

#: The DAG's tasks in pipeline order (used to list task states readably).
TASK_ORDER = ("start_build", "ingest", "dbt_build", "quality_checks", "publish", "cleanup")
# Teardown tasks do not decide a run's state in Airflow; they are reported, not required.
TEARDOWN_TASKS = frozenset({"cleanup"})

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
            # `airflow standalone` and friends start further `airflow` commands by name.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        }
    )
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


def _last_run_key(database: Path) -> int:
    rows = _query(database, "select coalesce(max(id), 0) from dag_run where dag_id = ?", (DAG_ID,))
    return int(rows[0][0])


def _runs_after(database: Path, key: int) -> list[tuple[int, str, str]]:
    return _query(
        database,
        "select id, run_id, state from dag_run where dag_id = ? and id > ? order by id",
        (DAG_ID, key),
    )


def _task_states(database: Path, run_id: str) -> dict[str, str]:
    rows = _query(
        database,
        "select task_id, coalesce(state, 'none') from task_instance where dag_id = ? and run_id = ?",
        (DAG_ID, run_id),
    )
    order = {task: i for i, task in enumerate(TASK_ORDER)}
    return dict(sorted(rows, key=lambda row: (order.get(row[0], len(order)), row[0])))


def record_failure(context: Any) -> None:
    """``on_failure_callback``: append the failed task and its error to ``$HSINSIGHT_AIRFLOW_FAILURES``.

    Does nothing when the variable is unset (a deployed Airflow shows the task log instead).
    """
    target = os.environ.get(FAILURES_ENV)
    if not target:
        return
    error = context.get("exception")
    ti = context.get("ti") or context.get("task_instance")
    entry: dict[str, Any] = {
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


def _stream(
    command: list[str], env: dict[str, str], cwd: Path, log_file: Path, output: IO[str] | None
) -> tuple[int, list[str]]:
    """Run ``command``, writing each output line to ``log_file`` and echoing it to ``output``."""
    with open(log_file, "w", encoding="utf-8") as saved:

        def on_line(line: str) -> None:
            saved.write(line + "\n")
            if output is not None:
                output.write(line + "\n")
                output.flush()

        try:
            return run_streaming(command, env=env, cwd=cwd, on_line=on_line)
        except OSError as exc:
            raise AirflowRunError(f"could not start {command[0]}: {exc}") from exc


def _describe(failures: list[dict]) -> str:
    parts = []
    for failure in failures:
        parts.append(
            f"task {failure.get('task_id')!r} failed: {failure.get('error_type')}: {failure.get('error')}"
        )
    return "\n".join(parts)


def run_dag(
    raw_dir: Path,
    warehouse: Path,
    cfg: Settings,
    *,
    output: IO[str] | None = sys.stdout,
    fresh: bool = False,
) -> tuple[str, dict[str, str]]:
    """Run ``hsinsight_pipeline`` once with ``airflow dags test`` and check that it succeeded.

    ``output`` receives Airflow's output as it is produced (``None`` to keep quiet; it is
    always saved to ``<AIRFLOW_HOME>/hsinsight-last-run.log``). Raises
    :class:`AirflowRunError` naming the failed task and its error unless the run succeeded;
    the published warehouse is then exactly as it was before. Returns the run id and the
    final state of every task.
    """
    raw_dir, warehouse = Path(raw_dir).resolve(), Path(warehouse).resolve()
    airflow_env = airflow_environment(cfg, warehouse)
    with _locked(airflow_env.home):
        ensure_database(airflow_env, output=output)
        failures_file = airflow_env.home / f"failures-{uuid.uuid4().hex}.jsonl"
        log_file = airflow_env.home / LAST_RUN_LOG
        env = dict(airflow_env.env, **{FAILURES_ENV: str(failures_file)})
        conf = json.dumps({"raw_dir": str(raw_dir), "warehouse": str(warehouse), "fresh": fresh})
        command = [str(airflow_env.airflow), "dags", "test", DAG_ID, "--conf", conf]
        before = _last_run_key(airflow_env.database)
        try:
            returncode, tail = _stream(command, env, airflow_env.home, log_file, output)
            failures = _read_failures(failures_file)
        finally:
            failures_file.unlink(missing_ok=True)
        return _check_outcome(airflow_env.database, before, returncode, tail, failures, log_file)


def _check_outcome(
    database: Path, before: int, returncode: int, tail: list[str], failures: list[dict], log_file: Path
) -> tuple[str, dict[str, str]]:
    runs = _runs_after(database, before)
    if not runs:
        raise AirflowRunError(
            f"airflow dags test {DAG_ID} did not create a DAG run (exit code {returncode}); "
            f"last output:\n" + "\n".join(tail[-15:]) + f"\nfull output: {log_file}",
            failures=failures,
            log_file=log_file,
        )
    _, run_id, state = runs[-1]
    states = _task_states(database, run_id)
    deciding = {task: s for task, s in states.items() if task not in TEARDOWN_TASKS}
    summary = ", ".join(f"{task}={s}" for task, s in states.items())
    if state == "success" and returncode == 0 and deciding and all(s == "success" for s in deciding.values()):
        for task in TEARDOWN_TASKS & states.keys():
            if states[task] != "success":
                log.warning("DAG run %s succeeded but teardown task %s ended %s", run_id, task, states[task])
        return run_id, states
    failed = [task for task, s in deciding.items() if s == "failed"]
    detail = _describe([f for f in failures if f.get("task_id") not in TEARDOWN_TASKS]) or (
        f"failed task(s): {', '.join(failed) or 'none recorded'}; last output:\n" + "\n".join(tail[-15:])
    )
    raise AirflowRunError(
        f"{detail}\nAirflow DAG run {run_id} ended {state} (exit code {returncode}); "
        f"task states: {summary}\nfull output: {log_file}",
        run_id=run_id,
        state=state,
        task_states=states,
        failures=failures,
        log_file=log_file,
    )
