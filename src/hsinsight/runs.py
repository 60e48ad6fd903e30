"""The run log: one row per pipeline run, with its quality checks, beside the warehouse.

Every run that tries to build the warehouse (the transform DAG, or ``hsinsight run``)
records what it ingested, how its checks went and whether it published, whatever the
outcome: a blocked run never reaches the published warehouse, so the log lives in its
own DuckDB file, ``runs.duckdb`` in the warehouse's folder. The dashboard's data
quality page reads it.

Tables:

``runs``
    run_id, orchestrator (``direct`` or ``airflow``), started_at, finished_at (UTC),
    seconds, outcome (``published``, ``blocked`` by a failed check, ``failed``, or
    ``refused``: it did not run because another run was building the warehouse),
    published, sources (comma-separated source ids ingested), files_loaded,
    rows_loaded, checks_run, checks_passed, checks_warned, checks_failed (a check
    whose SQL could not run counts as failed whatever its severity), message,
    synthetic, data_docs (the Data Docs index written by the run's checks),
    published_sha256 and published_bytes (the file the run published: a row says
    ``published`` only once that file is in place), swept (what the run removed, at its
    start, that earlier runs which died had left behind: builds, partial downloads,
    temporary files; and the raw stores it rolled back).
``check_results``
    one row per check of a run: run_id, check_name, severity, description, success,
    rows, failed_expectations.
``check_findings``
    one row per force and period a failed expectation points at: run_id, check_name,
    severity, expectation, column_name, message, area_code, area_name, period, detail.

The file is updated the way the warehouse is published: copied, changed, checkpointed,
flushed and moved into place with ``os.replace`` under a lock of its own
(``runs.duckdb.lock``), so a reader always sees a whole file. A copy left behind by a
process that died while writing (``.runs-<id>.duckdb``) is removed by
:func:`sweep_temp_files`, under the same lock, at the start of every run.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hsinsight import publish as publishing

HISTORY_FILE = "runs.duckdb"
OUTCOMES = ("published", "blocked", "failed", "refused")

_SCHEMA = (
    """
    create table if not exists runs (
        run_id varchar primary key, orchestrator varchar, started_at timestamp,
        finished_at timestamp, seconds double, outcome varchar, published boolean,
        sources varchar, files_loaded integer, rows_loaded bigint, checks_run integer,
        checks_passed integer, checks_warned integer, checks_failed integer, message varchar,
        synthetic boolean, data_docs varchar
    )
    """,
    # added later: a log written before has its rows' identity left empty
    "alter table runs add column if not exists published_sha256 varchar",
    "alter table runs add column if not exists published_bytes bigint",
    "alter table runs add column if not exists swept varchar",
    """
    create table if not exists check_results (
        run_id varchar, check_name varchar, severity varchar, description varchar,
        success boolean, rows bigint, failed_expectations integer
    )
    """,
    """
    create table if not exists check_findings (
        run_id varchar, check_name varchar, severity varchar, expectation varchar,
        column_name varchar, message varchar, area_code varchar, area_name varchar,
        period varchar, detail varchar
    )
    """,
)


@dataclass
class RunRecord:
    """What one run did. ``checks`` is the summary ``hsinsight.checks.run_checks``
    returns (or attaches to the error it raises), when the checks ran."""

    run_id: str
    orchestrator: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    sources: list[str] = field(default_factory=list)
    files_loaded: int = 0
    rows_loaded: int = 0
    message: str | None = None
    synthetic: bool = False
    checks: dict | None = None
    #: the published file's SHA-256 and size, set once it is in place
    published_sha256: str | None = None
    published_bytes: int | None = None
    #: leftovers of earlier runs this run removed, and raw stores it rolled back
    swept: str | None = None

    @property
    def seconds(self) -> float:
        return round((self.finished_at - self.started_at).total_seconds(), 3)


def history_path(warehouse: Path) -> Path:
    """The run log of the warehouse published at ``warehouse``."""
    return Path(warehouse).resolve().parent / HISTORY_FILE


def new_run_id(orchestrator: str) -> str:
    return f"{orchestrator}__{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}__{uuid.uuid4().hex[:8]}"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.duckdb")


def sweep_temp_files(warehouse: Path) -> list[Path]:
    """Remove the run log's working copies left by a process that died while writing it
    (under the run log's lock, so none is in use); return what was removed."""
    path = history_path(warehouse)
    if not path.parent.is_dir():
        return []
    removed = []
    with _locked(path):
        for leftover in sorted(path.parent.glob(f".{path.stem}-*.duckdb*")):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def logged_run_ids(warehouse: Path, run_ids: list[str]) -> set[str]:
    """Which of ``run_ids`` the run log already has a row for."""
    path = history_path(warehouse)
    if not run_ids or not path.is_file():
        return set()
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as history (read_only)")
        rows = con.execute(
            "select run_id from history.runs where run_id in (select unnest(?::varchar[]))", [run_ids]
        ).fetchall()
    finally:
        con.close()
    return {row[0] for row in rows}


def check_counts(checks: dict | None) -> tuple[int, int, int]:
    """(passed, warned, failed) among the checks of a run's summary: a check whose SQL
    failed is failed whatever its severity."""
    reports = (checks or {}).get("checks") or []
    passed = sum(1 for c in reports if c.get("success"))
    failed = sum(
        1 for c in reports if not c.get("success") and (c.get("severity") == "failure" or c.get("error"))
    )
    return passed, len(reports) - passed - failed, failed


def _check_rows(record: RunRecord) -> tuple[list[tuple], list[tuple]]:
    results, findings = [], []
    for check in (record.checks or {}).get("checks") or []:
        failed = check.get("failed_expectations") or []
        results.append(
            (
                record.run_id,
                check.get("name"),
                check.get("severity"),
                check.get("description"),
                bool(check.get("success")),
                check.get("rows"),
                len(failed),
            )
        )
        for expectation in failed:
            base = (
                record.run_id,
                check.get("name"),
                check.get("severity"),
                expectation.get("expectation"),
                expectation.get("column"),
                expectation.get("message"),
            )
            affected = expectation.get("affected") or [{}]
            for item in affected:
                findings.append(
                    (
                        *base,
                        item.get("area_code"),
                        item.get("area_name"),
                        None if item.get("period") is None else str(item.get("period")),
                        item.get("detail"),
                    )
                )
    return results, findings


def record_run(warehouse: Path, record: RunRecord) -> Path:
    """Append ``record`` (and its checks) to the run log of ``warehouse``; return the log's path."""
    if record.outcome not in OUTCOMES:
        raise ValueError(f"run outcome {record.outcome!r} is not one of {', '.join(OUTCOMES)}")
    if (record.outcome == "published") != bool(record.published_sha256):
        raise ValueError(
            f"run {record.run_id}: a published run names the file it published, and only a published one"
        )
    path = history_path(warehouse)
    checks = record.checks or {}
    reports = checks.get("checks") or []
    passed, warned, failed = check_counts(checks)
    results, findings = _check_rows(record)
    with _locked(path):
        work = _temp_path(path)
        if path.is_file():
            shutil.copyfile(path, work)
        try:
            con = duckdb.connect(str(work))
            try:
                for statement in _SCHEMA:
                    con.execute(statement)
                con.execute(
                    "insert or replace into runs (run_id, orchestrator, started_at, finished_at, seconds, "
                    "outcome, published, sources, files_loaded, rows_loaded, checks_run, checks_passed, "
                    "checks_warned, checks_failed, message, synthetic, data_docs, published_sha256, "
                    "published_bytes, swept) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        record.run_id,
                        record.orchestrator,
                        record.started_at,
                        record.finished_at,
                        record.seconds,
                        record.outcome,
                        record.outcome == "published",
                        ", ".join(sorted(record.sources)) or None,
                        record.files_loaded,
                        record.rows_loaded,
                        len(reports) if reports else None,
                        passed if reports else None,
                        warned if reports else None,
                        failed if reports else None,
                        record.message,
                        record.synthetic,
                        checks.get("data_docs"),
                        record.published_sha256,
                        record.published_bytes,
                        record.swept,
                    ],
                )
                con.execute("delete from check_results where run_id = ?", [record.run_id])
                con.execute("delete from check_findings where run_id = ?", [record.run_id])
                if results:
                    con.executemany("insert into check_results values (?, ?, ?, ?, ?, ?, ?)", results)
                if findings:
                    con.executemany(
                        "insert into check_findings values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", findings
                    )
                con.execute("checkpoint")
            finally:
                con.close()
            publishing.durable_replace(work, path)
        finally:
            work.unlink(missing_ok=True)
    return path


def read_runs(warehouse: Path, limit: int = 20) -> list[dict]:
    """The latest runs in the log, newest first (empty when there is no log yet)."""
    path = history_path(warehouse)
    if not path.is_file():
        return []
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as history (read_only)")
        cursor = con.execute("select * from history.runs order by started_at desc limit ?", [limit])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
