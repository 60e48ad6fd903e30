"""Run the ingest DAGs and then, if they updated a raw asset, the transform DAG.

Started by :mod:`hsinsight.airflow.runner` in the project's Airflow environment::

    python -m hsinsight.airflow.driver '{"raw_dir": ..., "warehouse": ..., "fresh": false}'

It does for one round what the scheduler does continuously: every source's ingest DAG
runs once (as ``airflow dags test`` would run it: in this process, one task after
another); the raw assets they updated are read back from the metadata database; and
when there is at least one (or the warehouse is older than a raw store), the transform DAG, which the scheduler would start on
those asset events, runs once, handed their extras as its ``ingested`` param. One
process for all of it spares a fresh Airflow start-up per DAG.

Each task that starts or ends prints a line ``HSINSIGHT-PROGRESS <json>`` (the DAG, the
task, its state, the run's position and count of tasks, the seconds it took), which
``hsinsight run`` turns into its progress lines. The last line of output is
``HSINSIGHT-RESULT <json>``: every DAG run's id and state, and the asset events the
ingest runs produced.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from hsinsight.names import INGEST_DAG_PREFIX, TRANSFORM_DAG_ID

RESULT_PREFIX = "HSINSIGHT-RESULT "
PROGRESS_PREFIX = "HSINSIGHT-PROGRESS "


def _asset_events(run_ids: list[str]) -> list[dict[str, Any]]:
    """The asset events the DAG runs ``run_ids`` emitted, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    if not run_ids:
        return []
    with create_session() as session:
        rows = session.execute(
            select(AssetModel.name, AssetEvent.source_dag_id, AssetEvent.source_run_id, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetEvent.source_run_id.in_(run_ids))
            .order_by(AssetEvent.id)
        ).all()
    return [
        {"asset": name, "dag_id": dag_id, "run_id": run_id, "extra": dict(extra or {})}
        for name, dag_id, run_id, extra in rows
    ]


def _listening() -> Any:
    """A listener, registered with the task runner's listener manager, printing a
    progress line as each task starts and ends (Airflow is imported here, not on import)."""
    import time

    from airflow.sdk._shared.listeners import hookimpl
    from airflow.sdk.listener import get_listener_manager

    class Progress:
        def __init__(self) -> None:
            self.dag_id, self.step, self.total, self.ended = "", "", 0, 0
            self.started: dict[str, float] = {}

        def begin(self, dag_id: str, step: str, total: int) -> None:
            self.dag_id, self.step, self.total, self.ended = dag_id, step, total, 0
            self.started.clear()

        def emit(self, task_instance: Any, state: str) -> None:
            task_id = getattr(task_instance, "task_id", "?")
            line: dict[str, Any] = {
                "step": self.step,
                "dag_id": self.dag_id,
                "task_id": task_id,
                "state": state,
                "done": self.ended,
                "total": self.total,
            }
            if state == "running":
                self.started[task_id] = time.monotonic()
            elif task_id in self.started:
                line["seconds"] = round(time.monotonic() - self.started.pop(task_id), 1)
            print(PROGRESS_PREFIX + json.dumps(line), flush=True)

        @hookimpl
        def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
            self.emit(task_instance, "running")

        @hookimpl
        def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
            self.ended += 1
            self.emit(task_instance, "success")

        @hookimpl
        def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
            self.ended += 1
            self.emit(task_instance, "skipped")

        @hookimpl
        def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
            self.ended += 1
            self.emit(task_instance, "failed")

    progress = Progress()
    get_listener_manager().add_listener(progress)
    return progress


#: The file in the DAG folder that defines each DAG.
INGEST_FILE = "hsinsight_ingest.py"
TRANSFORM_FILE = "hsinsight_transform.py"


def _test(dag_id: str, conf: dict, progress: Any = None, step: str = "") -> dict[str, str]:
    from pathlib import Path

    from airflow.configuration import conf as airflow_conf
    from airflow.utils import timezone
    from airflow.utils.cli import get_bagged_dag

    # Only the file that defines the DAG is parsed (the transform DAG's file renders
    # every dbt node: once, not once per ingest DAG).
    dag_file = Path(airflow_conf.get("core", "dags_folder")) / (
        TRANSFORM_FILE if dag_id == TRANSFORM_DAG_ID else INGEST_FILE
    )
    dag = get_bagged_dag(bundle_names=None, dag_id=dag_id, dagfile_path=str(dag_file))
    if progress is not None:
        progress.begin(dag_id, step, len(dag.tasks))
    run = dag.test(logical_date=timezone.utcnow(), run_conf=conf)
    return {"dag_id": dag_id, "run_id": run.run_id, "state": str(run.state)}


def main(argv: list[str]) -> int:
    conf = json.loads(argv[0])
    from hsinsight.sources.registry import load_registry

    result: dict[str, Any] = {"ingest": [], "events": [], "transform": None}
    progress = _listening()
    sources = list(load_registry())
    for position, source_id in enumerate(sources, start=1):
        run = _test(
            f"{INGEST_DAG_PREFIX}{source_id}",
            {
                "raw_dir": conf["raw_dir"],
                "warehouse": conf["warehouse"],
                "download": False,
                "fresh": bool(conf.get("fresh")),
            },
            progress,
            f"ingest {position}/{len(sources)}",
        )
        result["ingest"].append(run)
    result["events"] = _asset_events([run["run_id"] for run in result["ingest"]])
    # A build is also due when the warehouse is behind the raw stores: the last
    # transform run failed after the ingest runs that triggered it (in a deployment,
    # clearing that failed run does the same).
    from pathlib import Path

    from hsinsight.pipeline import warehouse_is_behind

    result["behind"] = warehouse_is_behind(Path(conf["warehouse"]))
    if result["events"] or result["behind"]:
        # The checks run in this process: Great Expectations (seconds to import) is
        # imported while dbt builds in its own process, as the direct pipeline does.
        from hsinsight.pipeline import CHECK_IMPORTS, _import_in_background

        _import_in_background(CHECK_IMPORTS)
        result["transform"] = _test(
            TRANSFORM_DAG_ID,
            {"warehouse": conf["warehouse"], "ingested": [event["extra"] for event in result["events"]]},
            progress,
            "transform",
        )
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
