"""``hsinsight run --orchestrator airflow``: run the DAGs locally, the way the scheduler would,
and say what happened.

:func:`run_pipeline` takes the warehouse's lock, prepares the local Airflow home (see
:mod:`hsinsight.airflow.environment`), writes the dbt manifest the transform DAG is
rendered from, and runs :mod:`hsinsight.airflow.driver` in a subprocess while streaming
its output to ``<AIRFLOW_HOME>/hsinsight-last-run.log`` (and its progress lines to the
terminal): every ingest DAG once, then the transform DAG if they updated a raw asset.
It then reads every run's real final state, and every task's, from the metadata
database, and raises :class:`AirflowRunError` unless all of them succeeded.

Why the database and not only an exit code: a DAG run that ends ``failed`` does not
say which task failed or why. The metadata database records what actually happened
to the run and to every task, and holds the *failure record* each failed task left as
its XCom ``failure`` (see :mod:`hsinsight.airflow.callbacks`): the error's type and
text, and for a rejected raw file its file, row and column. The runner reads those
records, the same ones the run log is written from, to say which task failed and why.

Nothing here imports Airflow.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from hsinsight.airflow.callbacks import FAILURE_KEY, describe
from hsinsight.airflow.environment import (
    AirflowEnvironment,
    AirflowRunError,
    airflow_environment,
    ensure_database,
    migration_needed,
)
from hsinsight.config import Settings
from hsinsight.names import LAST_RUN_LOG
from hsinsight.streaming import run_streaming

__all__ = ["AirflowRunError", "DagRunResult", "PipelineRun", "prepare", "progress_line", "run_pipeline"]

#: Taken in the Airflow home: one run at a time per home.
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


def _failures(database: Path, run: DagRunResult) -> list[dict]:
    """The failure records the failed tasks of ``run`` left (their XCom ``failure``, see
    :mod:`hsinsight.airflow.callbacks`), in pipeline order."""
    rows = dict(
        _query(
            database,
            "select task_id, value from xcom where dag_id = ? and run_id = ? and key = ?",
            (run.dag_id, run.run_id, FAILURE_KEY),
        )
    )
    records = []
    for task_id, state in run.task_states.items():
        if state == "failed" and task_id in rows:
            value = rows[task_id]
            record = json.loads(value) if isinstance(value, str | bytes) else value
            if isinstance(record, dict):
                records.append(record)
    return records


def progress_line(line: str) -> str | None:
    """The progress line to show for one ``HSINSIGHT-PROGRESS`` line of the driver, or
    None for a line not worth one: the start of a task that only reports a dbt node."""
    from hsinsight.airflow.dbt_tasks import BUILD_TASK
    from hsinsight.airflow.driver import PROGRESS_PREFIX

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
    on_event: Callable[[dict], None] | None = None,
) -> tuple[int, list[str]]:
    """Run ``command``, writing each output line to ``log_file`` and echoing it to ``output``
    (and its progress lines, readably, to ``progress``, and as events to ``on_event``)."""
    from hsinsight.airflow.driver import PROGRESS_PREFIX

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
            if on_event is not None and line.startswith(PROGRESS_PREFIX):
                try:
                    event = json.loads(line[len(PROGRESS_PREFIX) :])
                except ValueError:
                    return
                on_event(event)

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
        parts.append(f"task {where!r} failed: {describe(failure)}")
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
    on_event: Callable[[dict], None] | None = None,
) -> PipelineRun:
    """Run every ingest DAG once on ``raw_dir`` and, if any loaded something new, the
    transform DAG, the way the scheduler would on their asset events (see
    :mod:`hsinsight.airflow.driver`).

    ``output`` receives Airflow's output as it is produced (``None`` to keep quiet; it is
    always saved to ``<AIRFLOW_HOME>/hsinsight-last-run.log``); ``progress`` receives a
    line as each task starts or ends: the DAG, the task, its state and how far the run is
    (by default standard output when ``output`` is None; ``None`` or ``False`` for none), and
    ``on_event`` the same as a dict (``dag_id``, ``task_id``, ``state``, ...) as it happens. Raises
    :class:`AirflowRunError` naming each failed task and its error unless every DAG run
    succeeded; the published warehouse is then exactly as it was, unless the transform
    DAG published the other sources' new data.

    The warehouse's lock is taken first and handed to the DAGs' tasks (see
    :func:`hsinsight.publish.delegate_env`): when another run holds it, the call waits
    saying so on ``progress`` (or standard error), or with ``wait=False`` raises
    :class:`~hsinsight.publish.WarehouseBusy` after writing a ``refused`` row to the
    run log.
    """
    from hsinsight import pipeline, runs
    from hsinsight import publish as publishing

    raw_dir, warehouse = Path(raw_dir).resolve(), Path(warehouse).resolve()
    if progress is True:
        progress = sys.stdout if output is None else None
    elif progress is False:
        progress = None
    airflow_env = airflow_environment(cfg, warehouse)
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
        return _run_locked(airflow_env, cfg, raw_dir, warehouse, output, progress, fresh, on_event)
    finally:
        publishing.release(warehouse)


def prepare(cfg: Settings, *, output: IO[str] | None = None, progress: IO[str] | None = None) -> None:
    """Make the project ready to run its DAGs here (``make setup`` does it once, and every
    run checks it): the dbt manifest written when the project changed or was never parsed,
    the local Airflow home's metadata database migrated when needed."""
    airflow_env = airflow_environment(cfg)
    with _locked(airflow_env.home):
        _prepare(airflow_env, cfg, output, progress)


def _prepare(
    airflow_env: AirflowEnvironment, cfg: Settings, output: IO[str] | None, progress: IO[str] | None
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from hsinsight import transform

    if progress is not None and migration_needed(airflow_env):
        progress.write(f"migrating the Airflow metadata database {airflow_env.database}\n")
        progress.flush()
    # The transform DAG renders its dbt tasks from the project's manifest: written (when
    # the project changed, or the first time) by `dbt parse` while `airflow db migrate`
    # runs, each in a process of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        manifest = pool.submit(transform.ensure_manifest, cfg)
        ensure_database(airflow_env, output=output)
        manifest.result()


def _run_locked(
    airflow_env: AirflowEnvironment,
    cfg: Settings,
    raw_dir: Path,
    warehouse: Path,
    output: IO[str] | None,
    progress: IO[str] | None,
    fresh: bool,
    on_event: Callable[[dict], None] | None = None,
) -> PipelineRun:
    with _locked(airflow_env.home):
        _prepare(airflow_env, cfg, output, progress)
        log_file = airflow_env.home / LAST_RUN_LOG
        conf = json.dumps({"raw_dir": str(raw_dir), "warehouse": str(warehouse), "fresh": fresh})
        command = [sys.executable, "-m", "hsinsight.airflow.driver", conf]
        returncode, tail = _stream(
            command, airflow_env.env, airflow_env.home, log_file, output, progress, on_event
        )
        return _check_outcome(airflow_env.database, returncode, tail, log_file)


def _result_line(log_file: Path) -> dict | None:
    from hsinsight.airflow.driver import RESULT_PREFIX

    if not log_file.exists():
        return None
    for line in reversed(log_file.read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    return None


def _check_outcome(database: Path, returncode: int, tail: list[str], log_file: Path) -> PipelineRun:
    """What the round did, from the driver's result line and the metadata database;
    raises :class:`AirflowRunError` with the failed tasks' records unless every run succeeded."""
    result = _result_line(log_file)
    if returncode != 0 or result is None:
        raise AirflowRunError(
            f"the Airflow DAGs could not be run (exit code {returncode}); last output:\n"
            + "\n".join(tail[-15:])
            + f"\nfull output: {log_file}",
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
    failures = [record for run in failed for record in _failures(database, run)]
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
