"""What the transform DAG's ``record_run`` task writes to the run log.

It runs last, whatever happened before it, and reads the run from Airflow: the
ingest summaries that triggered it (the raw assets' events), the checks summary and
the failure records the tasks left as XComs (see :mod:`hsinsight.airflow.callbacks`),
and every task's final state. The row says
``published`` only when ``publish`` put the build in place (the SHA-256 and size it
pushed are recorded). When dbt or a failure-severity check rejected the build, the raw
stores changed since the last publish are rolled back to their last published state
first (see :func:`hsinsight.raw.roll_back_raw_stores`), and the row says so.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from hsinsight import runs
from hsinsight.airflow.callbacks import FAILURE_KEY, describe

log = logging.getLogger(__name__)

#: The tasks whose failure record is the run's message (a dbt node's task repeats what
#: the build's says), in pipeline order.
REPORTED_TASKS = ("start_build", "assemble", "dbt.build", "quality_checks", "publish")


def _task_states(context: Any) -> dict[str, str]:
    """Every task's final state in this DAG run, or nothing when Airflow cannot say."""
    ti = context["ti"]
    try:
        found = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    except Exception as exc:  # noqa: BLE001 - the record is still written, from the XComs
        log.warning("could not read the task states of run %s: %s", ti.run_id, exc)
        return {}
    return {task: str(state) for task, state in (found.get(ti.run_id) or {}).items()}


def _ingested(context: Any) -> list[dict]:
    """The ingest summaries behind this run: the triggering asset events' extras, or the
    ``ingested`` param when the ingest DAGs were run by ``hsinsight run``."""
    summaries: list[dict] = []
    events = context.get("triggering_asset_events") or {}
    for asset_events in events.values():
        for event in asset_events:
            extra = dict(getattr(event, "extra", None) or {})
            if extra.get("source"):
                summaries.append(extra)
    if not summaries:
        summaries = [dict(s) for s in (context["params"].get("ingested") or []) if isinstance(s, dict)]
    return summaries


def record_transform_run(context: Any, warehouse: Path) -> Path:
    """Write the transform DAG run in ``context`` to the run log of ``warehouse``."""
    ti = context["ti"]
    states = _task_states(context)
    checks = ti.xcom_pull(task_ids="quality_checks", key="checks")
    started = ti.xcom_pull(task_ids="start_build", key="started_at")
    published = ti.xcom_pull(task_ids="publish", key="published") or {}
    errors = {}
    for task in REPORTED_TASKS:
        record = ti.xcom_pull(task_ids=task, key=FAILURE_KEY)
        if record:
            errors[task] = describe(record)
    failed_tasks = sorted(
        t for t, s in states.items() if s in ("failed", "upstream_failed") and t != ti.task_id
    )
    if published.get("sha256"):
        outcome, message = "published", None
    elif checks and checks.get("failures"):
        outcome, message = "blocked", errors.get("quality_checks")
    else:
        outcome = "failed"
        detail = "; ".join(f"{task}: {error}" for task, error in errors.items() if error)
        message = detail or (
            f"failed task(s): {', '.join(t for t in failed_tasks if states.get(t) == 'failed')}"
            if failed_tasks
            else "the run stopped before publishing"
        )
    swept = list(ti.xcom_pull(task_ids="start_build", key="swept") or [])
    rejected = bool(errors.get("dbt.build") or errors.get("quality_checks") or (checks or {}).get("failures"))
    if outcome != "published" and rejected:
        from hsinsight import raw

        swept += raw.roll_back_raw_stores(warehouse)
    ingested = _ingested(context)
    assembled = ti.xcom_pull(task_ids="assemble") or {}
    record = runs.RunRecord(
        run_id=str(ti.run_id),
        orchestrator="airflow",
        started_at=datetime.fromisoformat(started) if started else runs.utcnow(),
        finished_at=runs.utcnow(),
        outcome=outcome,
        sources=sorted({s["source"] for s in ingested}),
        files_loaded=sum(int(s.get("files_loaded") or 0) for s in ingested),
        rows_loaded=sum(int(s.get("rows_loaded") or 0) for s in ingested),
        message=message,
        synthetic=bool(assembled.get("synthetic")),
        checks=checks,
        published_sha256=published.get("sha256"),
        published_bytes=published.get("bytes"),
        swept="\n".join(swept) or None,
    )
    path = runs.record_run(warehouse, record)
    log.info("run %s recorded as %s in %s", record.run_id, outcome, path)
    return path
