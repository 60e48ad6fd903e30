"""Run the ingest DAGs and then, if they updated a raw asset, the transform DAG.

Started by :mod:`hsinsight.airflow_runner` in the project's Airflow environment::

    python -m hsinsight.airflow_driver '{"raw_dir": ..., "warehouse": ..., "fresh": false}'

It does for one round what the scheduler does continuously: every source's ingest DAG
runs once (as ``airflow dags test`` would run it: in this process, one task after
another); the raw assets they updated are read back from the metadata database; and
when there is at least one (or the warehouse is older than a raw store), the transform DAG, which the scheduler would start on
those asset events, runs once, handed their extras as its ``ingested`` param. One
process for all of it spares a fresh Airflow start-up per DAG.

The last line of output is ``HSINSIGHT-RESULT <json>``: every DAG run's id and state,
and the asset events the ingest runs produced.
"""

from __future__ import annotations

import json
import sys
from typing import Any

RESULT_PREFIX = "HSINSIGHT-RESULT "
INGEST_PREFIX = "hsinsight_ingest_"
TRANSFORM_DAG = "hsinsight_transform"


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


def _test(dag_id: str, conf: dict) -> dict[str, str]:
    from airflow.utils import timezone
    from airflow.utils.cli import get_bagged_dag

    dag = get_bagged_dag(bundle_names=None, dag_id=dag_id)
    run = dag.test(logical_date=timezone.utcnow(), run_conf=conf)
    return {"dag_id": dag_id, "run_id": run.run_id, "state": str(run.state)}


def main(argv: list[str]) -> int:
    conf = json.loads(argv[0])
    from hsinsight.fetch import load_registry

    result: dict[str, Any] = {"ingest": [], "events": [], "transform": None}
    for source_id in load_registry():
        run = _test(
            f"{INGEST_PREFIX}{source_id}",
            {
                "raw_dir": conf["raw_dir"],
                "warehouse": conf["warehouse"],
                "download": False,
                "fresh": bool(conf.get("fresh")),
            },
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
        result["transform"] = _test(
            TRANSFORM_DAG,
            {"warehouse": conf["warehouse"], "ingested": [event["extra"] for event in result["events"]]},
        )
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
