"""
### hsinsight_pipeline

Builds the hsinsight warehouse (harassment and stalking crime in England and Wales)
from a folder of raw files and publishes it only when every step has passed.

| task | what it does |
| --- | --- |
| `start_build` | reserves a fresh build file beside the published warehouse (setup) |
| `ingest` | recognises each raw file by its header row, validates it and loads the `raw` schema |
| `dbt_build` | runs `dbt build`: staging views, marts tables and every dbt test |
| `quality_checks` | runs the Great Expectations suites on the build |
| `publish` | swaps the build onto the published warehouse in one atomic rename |
| `cleanup` | removes the build folder whatever happened (teardown) |

The build path travels between tasks as each task's return value. A failure in any
task leaves the published warehouse exactly as it was: nothing touches it before
`publish`. `cleanup` is a teardown task, so it runs after a failure too but does not
decide the run's state: a failed step still fails the run.

Params: `raw_dir` (folder of raw files) and `warehouse` (published DuckDB file).
Run locally with `hsinsight run --orchestrator airflow`, which calls
`airflow dags test hsinsight_pipeline --conf '{"raw_dir": ..., "warehouse": ...}'`.

This file only describes the graph: the work is done by `hsinsight.pipeline`, which
each task imports when it runs.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, Param, dag, get_current_context, setup, task, teardown

from hsinsight.airflow_runner import record_failure
from hsinsight.config import Settings

_defaults = Settings.from_env()

#: The published warehouse, as an asset: dashboards and downstream DAGs can be scheduled on it.
WAREHOUSE = Asset(name="hsinsight_warehouse", group="warehouse")


def _params() -> dict:
    return get_current_context()["params"]


@dag(
    dag_id="hsinsight_pipeline",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["hsinsight", "warehouse", "dbt", "great-expectations"],
    default_args={
        "owner": "hsinsight",
        # A failed step is a data problem (a malformed file, a failed test or check):
        # running it again on the same input gives the same answer, so no retries yet.
        "retries": 0,
        "retry_delay": timedelta(minutes=5),
        # Tells `hsinsight run --orchestrator airflow` which task failed and why.
        "on_failure_callback": record_failure,
    },
    params={
        "raw_dir": Param(
            str(_defaults.sample_dir),
            type="string",
            minLength=1,
            title="Raw files folder",
            description="Folder holding the raw files to ingest.",
        ),
        "warehouse": Param(
            str(_defaults.warehouse),
            type="string",
            minLength=1,
            title="Published warehouse",
            description="DuckDB file to publish to; left untouched unless every step passes.",
        ),
        "fresh": Param(
            False,
            type="boolean",
            title="Fresh build",
            description="Ignore the raw files already loaded in the published warehouse and load only "
            "the raw files folder.",
        ),
    },
)
def hsinsight_pipeline():
    @setup
    def start_build() -> str:
        """Reserve a fresh build file beside the published warehouse."""
        from pathlib import Path

        from hsinsight import pipeline

        return str(pipeline.start_build(Path(_params()["warehouse"])))

    @task
    def ingest(build: str) -> str:
        """Validate the raw files and load them into the build's raw schema."""
        from pathlib import Path

        from hsinsight import pipeline

        params = _params()
        previous = None if params.get("fresh") else Path(params["warehouse"])
        report = pipeline.ingest(Path(params["raw_dir"]), Path(build), Settings.from_env(), previous=previous)
        get_current_context()["ti"].xcom_push(key="ingest_report", value=report)
        return build

    @task
    def dbt_build(build: str) -> str:
        """Build and test the dbt project against the build file."""
        from pathlib import Path

        from hsinsight import pipeline

        pipeline.transform(Path(build), Settings.from_env())
        return build

    @task
    def quality_checks(build: str) -> str:
        """Run the Great Expectations suites; a failing check fails the task."""
        from pathlib import Path

        from hsinsight import pipeline

        results = pipeline.check(Path(build), Settings.from_env())
        get_current_context()["ti"].xcom_push(key="quality_summary", value=_summary(results))
        return build

    @task(outlets=[WAREHOUSE])
    def publish(build: str) -> str:
        """Swap the build onto the published warehouse (an atomic rename)."""
        from pathlib import Path

        from hsinsight import pipeline

        published = pipeline.publish(Path(build), Path(_params()["warehouse"]))
        get_current_context()["outlet_events"][WAREHOUSE].extra = {"path": str(published)}
        return str(published)

    @teardown
    def cleanup(build: str) -> None:
        """Remove the build folder; the published warehouse is never touched."""
        from pathlib import Path

        from hsinsight import pipeline

        pipeline.discard(Path(build))

    build = start_build()
    published = publish(quality_checks(dbt_build(ingest(build))))
    # cleanup takes start_build's output, so it is linked to its setup, and runs after publish.
    published >> cleanup(build)


def _summary(results: dict | None) -> dict:
    """The JSON-safe counts of a checks result, for the UI."""
    results = results or {}
    return {key: results[key] for key in ("failures", "warnings") if isinstance(results.get(key), int)} | {
        "checks": len(results.get("checks", []) or []),
    }


hsinsight_pipeline()
