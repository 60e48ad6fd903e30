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


class _Folder:
    """The DAG folder, parsed once for the round.

    ``dag.test()`` parses the whole DAG folder and writes every DAG in it to the metadata
    database before each run it makes (so that sibling DAGs are current): about a second
    a run here, most of it the transform DAG rendering its dbt graph again. Nothing in
    the folder changes during a round, so the driver does what a deployment's DAG
    processor does: it parses the folder once, writes its DAGs to the database once, and
    while the round runs hands ``dag.test()`` that parse in place of a new one (any other
    folder or bundle is still parsed as Airflow would).
    """

    def __init__(self) -> None:
        from airflow.dag_processing import dagbag as dagbag_module
        from airflow.dag_processing.bundles.manager import DagBundlesManager

        self._module = dagbag_module
        self._parse, self._sync = dagbag_module.BundleDagBag, dagbag_module.sync_bag_to_db
        manager = DagBundlesManager()
        manager.sync_bundles_to_db()
        self.bags: dict[str, Any] = {}
        for bundle in manager.get_all_dag_bundles():
            if not bundle.is_initialized:
                bundle.initialize()
            bag = self._parse(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
            self._sync(bag, bundle.name, bundle.version)
            self.bags[bundle.name] = bag

    def dag(self, dag_id: str) -> Any:
        """The parsed DAG ``dag_id``; raises naming the folder's import errors when it is missing."""
        for bag in self.bags.values():
            if dag_id in bag.dags:
                return bag.dags[dag_id]
        errors = {path: error for bag in self.bags.values() for path, error in bag.import_errors.items()}
        detail = "".join(f"\n{path}: {error}" for path, error in errors.items())
        raise RuntimeError(
            f"DAG {dag_id!r} is not in the DAG folder{' (import errors below)' if errors else ''}{detail}"
        )

    def _bag(self, *args: Any, **kwargs: Any) -> Any:
        bag = self.bags.get(kwargs.get("bundle_name"))
        if bag is not None and not args and str(kwargs.get("dag_folder")) == str(bag.dag_folder):
            return bag
        return self._parse(*args, **kwargs)

    def _synced(self, bag: Any, *args: Any, **kwargs: Any) -> None:
        if any(bag is ours for ours in self.bags.values()):
            return None  # written when the round started
        return self._sync(bag, *args, **kwargs)

    def __enter__(self) -> _Folder:
        self._module.BundleDagBag, self._module.sync_bag_to_db = self._bag, self._synced
        return self

    def __exit__(self, *exc: object) -> None:
        self._module.BundleDagBag, self._module.sync_bag_to_db = self._parse, self._sync


def _test(folder: _Folder, dag_id: str, conf: dict, progress: Any = None, step: str = "") -> dict[str, str]:
    from airflow.utils import timezone

    dag = folder.dag(dag_id)
    if progress is not None:
        progress.begin(dag_id, step, len(dag.tasks))
    run = dag.test(logical_date=timezone.utcnow(), run_conf=conf)
    return {"dag_id": dag_id, "run_id": run.run_id, "state": str(run.state)}


def main(argv: list[str]) -> int:
    conf = json.loads(argv[0])
    from hsinsight.sources.registry import load_registry

    result: dict[str, Any] = {"ingest": [], "events": [], "transform": None}
    progress = _listening()
    with _Folder() as folder:
        return _round(folder, conf, progress, result, list(load_registry()))


def _round(folder: _Folder, conf: dict, progress: Any, result: dict[str, Any], sources: list[str]) -> int:
    for position, source_id in enumerate(sources, start=1):
        run = _test(
            folder,
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
            folder,
            TRANSFORM_DAG_ID,
            {"warehouse": conf["warehouse"], "ingested": [event["extra"] for event in result["events"]]},
            progress,
            "transform",
        )
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def _exit(code: int) -> None:
    """Leave without the interpreter's teardown. Everything is written by then (the metadata
    database committed, the result line printed); what is left is garbage-collecting what
    Airflow, the dbt graph and Great Expectations built, which took 2.4 s of every run."""
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main(sys.argv[1:]))
