"""How a task of hsinsight's DAGs reports that it failed, in one place.

Every task's callable runs inside :func:`task_wrapper`. When it raises, the wrapper
describes the error once, as a *failure record* (:func:`failure_record`: the DAG and
task, the try, the error's type and text, and for a rejected file its file, sheet, row
and column, for a failed check the failures), and pushes that record as the task's
XCom :data:`FAILURE_KEY`. It then raises :class:`AirflowFailException` from the error,
so that Airflow does not retry it: the same input fails the same way. The one exception
is an error that says it may pass on another try (a ``retryable`` attribute that is
true, such as a dropped download), which is raised as it is, for Airflow to retry.

The failure record is what the rest reads: the transform DAG's ``record_run`` task
writes it to the run log (:mod:`hsinsight.airflow.run_record`), and
``hsinsight run --orchestrator airflow`` reads it from the metadata database and
prints it (:mod:`hsinsight.airflow.runner`).

:func:`record_failure`, every task's ``on_failure_callback``, adds nothing of its own:
when ``$HSINSIGHT_AIRFLOW_FAILURES`` names a file (for a DAG run by hand with
``airflow dags test``) it appends the same record there, one JSON line per task that
failed for good (a try that Airflow retries is not a failure).

Airflow is imported inside the functions only: the DAG files import this module at
parse time, and the runner reads :data:`FAILURE_KEY` from it without Airflow.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: The XCom key under which a failed task leaves its failure record.
FAILURE_KEY = "failure"
#: The environment variable naming a file that the failure callback appends records to.
FAILURES_ENV = "HSINSIGHT_AIRFLOW_FAILURES"
#: Attributes of an error copied into its record: where a rejected file is wrong
#: (InputFileError) and which checks failed (QualityCheckFailed).
DETAIL_ATTRIBUTES = ("file", "row", "column", "sheet", "failures")


def _cause(error: BaseException | None) -> BaseException | None:
    """The error a task actually hit: the one behind an AirflowFailException raised from it."""
    from airflow.sdk.exceptions import AirflowFailException

    cause = getattr(error, "__cause__", None)
    if isinstance(error, AirflowFailException) and cause is not None:
        return cause
    return error


def failure_record(error: BaseException | None, ti: Any) -> dict[str, Any]:
    """The one description of a failed task: its DAG, task and try, and the error it hit."""
    error = _cause(error)
    record: dict[str, Any] = {
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "try_number": getattr(ti, "try_number", None),
        "error_type": type(error).__name__ if error is not None else None,
        "error": str(error) if error is not None else None,
    }
    for attribute in DETAIL_ATTRIBUTES:
        value = getattr(error, attribute, None)
        if value is not None:
            record[attribute] = value
    # As stored in an XCom or a JSON line: plain JSON values only.
    return json.loads(json.dumps(record, default=str))


def describe(record: dict[str, Any]) -> str:
    """A failure record's error in one line: ``ErrorType: text``."""
    return f"{record.get('error_type')}: {record.get('error')}"


def _retryable(error: BaseException) -> bool:
    """Whether another try may succeed (a network failure says so); nothing else is retried."""
    return getattr(error, "retryable", False) is True


def task_wrapper(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``function`` as a DAG task: a failure is recorded once, and not retried unless
    the error is retryable. Skips pass through. Put it under Airflow's ``@task``."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, DownstreamTasksSkipped

        try:
            return function(*args, **kwargs)
        except (AirflowSkipException, DownstreamTasksSkipped):
            raise
        except Exception as exc:
            ti = get_current_context()["ti"]
            try:
                ti.xcom_push(key=FAILURE_KEY, value=failure_record(exc, ti))
            except Exception:  # noqa: BLE001 - the task's own error is the one to raise
                log.exception("could not record the failure of task %s", getattr(ti, "task_id", "?"))
            if isinstance(exc, AirflowFailException) or _retryable(exc):
                raise
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    return run


def record_failure(context: Any) -> None:
    """``on_failure_callback``: append the failed task's record to ``$HSINSIGHT_AIRFLOW_FAILURES``.

    Does nothing when the variable is unset: the record is the task's XCom either way.
    """
    target = os.environ.get(FAILURES_ENV)
    if not target:
        return
    ti = context.get("ti") or context.get("task_instance")
    record = failure_record(context.get("exception"), ti)
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
