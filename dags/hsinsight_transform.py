"""
### hsinsight_transform: build, check and publish the warehouse

Scheduled on the raw assets: it runs whenever any source's ingest DAG loaded something
new (events that arrive while a run is going are gathered into the next run).

| task | what it does |
| --- | --- |
| `start_build` | takes the warehouse's lock, removes what runs that died left behind (their builds, the run log's temporary files), reserves a fresh build file beside the published warehouse (setup) |
| `assemble` | fills the build's raw layer from every source's raw store |
| `dbt.build` | **the run's one dbt invocation**: `dbt build` of the whole project (seeds, models, data and unit tests, the tests that span two models) on the build file, with dbt's whole log; fails naming every node that failed and why; pushes every node's result as one XCom |
| `dbt.<node>` | one task per seed and per model (the WATCHER idea of astronomer-cosmos, see `hsinsight.airflow.dbt_tasks`): succeeds or fails with that node's result in the build and the result of every data test on it (the tests over two nodes, a relationships test from a staging model to a seed, under each of them), dbt's message in its own log: for a failed test, its name, failing rows and dbt's message; it never runs dbt itself |
| `quality_checks` | the Great Expectations suites in `expectations/`, once the build is complete; a failure-severity check fails the task and blocks publishing, a warning is recorded and the build is published; Data Docs are written to `data/quality/docs/` |
| `publish` | swaps the build onto the published warehouse in one atomic, flushed rename, unless another run published since `start_build`; updates the warehouse asset |
| `record_run` | writes the run's summary (sources, rows, checks, outcome, duration, the published file's SHA-256) to the run log `runs.duckdb` beside the warehouse, whatever happened; when dbt or a failure-severity check rejected the build, rolls the raw stores changed since the last publish back to their last published state (teardown) |
| `cleanup` | removes the build folder and gives the lock back, whatever happened (teardown) |

Nothing touches the published warehouse before `publish`, so a failure anywhere leaves
it exactly as it was. **One writer at a time**: every task that writes holds the
warehouse's lock (`<warehouse>.lock`), which `hsinsight run` and the ingest DAGs take
too; run by `airflow dags test` (or `hsinsight run --orchestrator airflow`) the whole
DAG run holds it from `start_build` to `cleanup`. One task runs at a time, and the per-node tasks start only once
the dbt build has finished: while dbt builds, it is the only thing using the build file
(DuckDB allows one writer), and the checks read a finished build. No task is retried,
and a node task never falls back to running dbt on its own: a failed model, test or
check fails the same way on the same input.

**Failures**: every task runs in `hsinsight.airflow.callbacks.task_wrapper`, which
records a failed task's error once, as the task's XCom `failure` (the error's type and
text, and for a rejected file its file, row and column); see `docs/airflow.md`.

**Idempotent**: the build is assembled from the raw stores alone, so a re-run on the
same stores publishes the same tables (only the run log and the build's run id differ).

**The dbt graph** is read (by astronomer-cosmos's loader) from dbt's manifest
(`dbt_project/target/manifest.json`) when it is current with the project, and otherwise
listed by `dbt ls`, which opens no database: the profile's path falls back to an
in-memory DuckDB when `HSINSIGHT_DB` is unset, so a fresh Airflow with nothing prepared
parses this file.

Params: `warehouse` (published DuckDB file) and `ingested` (filled in by `hsinsight run`).
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import Param, dag, get_current_context, setup, task, teardown

from hsinsight.airflow.assets import RAW_ASSETS, WAREHOUSE
from hsinsight.airflow.callbacks import record_failure, task_wrapper
from hsinsight.airflow.dbt_tasks import dbt_tasks
from hsinsight.config import Settings, turn_off_telemetry
from hsinsight.names import TRANSFORM_DAG_ID
from hsinsight.transform import manifest_is_current, manifest_path

turn_off_telemetry()  # no usage reports from Airflow, dbt or Great Expectations
_settings = Settings.from_env()
_project = Path(_settings.dbt_project_dir)
# A manifest older than the project would render an old graph: then `dbt ls` lists it.
_manifest = manifest_path(_settings) if manifest_is_current(_settings) else None

#: The build file `dbt.build` works on.
BUILD_PATH = "{{ ti.xcom_pull(task_ids='start_build') }}"

# Any source's new data triggers a build.
_schedule = None
for _asset in RAW_ASSETS.values():
    _schedule = _asset if _schedule is None else _schedule | _asset


def _params() -> dict:
    return get_current_context()["params"]


def _warehouse() -> Path:
    return Path(_params()["warehouse"]).resolve()


@dag(
    dag_id=TRANSFORM_DAG_ID,
    description="Build the warehouse with dbt, check it with Great Expectations and publish it",
    schedule=_schedule,
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    doc_md=__doc__,
    tags=["hsinsight", "warehouse", "dbt", "great-expectations"],
    default_args={
        "owner": "hsinsight",
        # A failed model, test or check is a data problem: it fails the same way again.
        "retries": 0,
        "on_failure_callback": record_failure,
    },
    params={
        "warehouse": Param(
            str(_settings.warehouse),
            type="string",
            minLength=1,
            title="Published warehouse",
            description="DuckDB file to publish to; the raw stores are in raw/ beside it.",
        ),
        "ingested": Param(
            [],
            type="array",
            title="Ingested",
            description="What the ingest DAGs loaded, when `hsinsight run` ran them itself rather than "
            "the scheduler (the run log records it); scheduled runs read the raw assets' events.",
        ),
    },
)
def hsinsight_transform():
    @setup
    @task_wrapper
    def start_build() -> str:
        """Take the lock, sweep what dead runs left behind, reserve a fresh build file."""
        from hsinsight import pipeline, raw, runs
        from hsinsight import publish as publishing

        ti = get_current_context()["ti"]
        ti.xcom_push(key="started_at", value=runs.utcnow().isoformat())
        warehouse = _warehouse()
        # Kept until `cleanup` when every task runs in this process (airflow dags test);
        # under a scheduler it goes with this task's process and each task takes it again.
        publishing.acquire(warehouse, run_id=str(ti.run_id), orchestrator="airflow")
        swept = pipeline.sweep_leftovers(warehouse, swept_by=str(ti.run_id))
        ti.xcom_push(key="swept", value=swept)
        # What is published now: `publish` refuses to replace anything else.
        ti.xcom_push(key="base", value=raw.store_fingerprint(warehouse))
        return str(pipeline.start_build(warehouse, run_id=str(ti.run_id), orchestrator="airflow"))

    @task
    @task_wrapper
    def assemble(build: str) -> dict:
        """Fill the build's raw layer from every source's raw store."""
        from hsinsight import pipeline
        from hsinsight import publish as publishing

        with publishing.locked(_warehouse(), orchestrator="airflow"):
            publishing.mark_step(Path(build), "assemble")
            return pipeline.assemble(Path(build), _warehouse(), Settings.from_env())

    @task
    @task_wrapper
    def quality_checks(build: str) -> dict:
        """Run the Great Expectations suites; a failure-severity check fails the task."""
        from hsinsight import pipeline
        from hsinsight import publish as publishing

        ti = get_current_context()["ti"]
        try:
            with publishing.locked(_warehouse(), orchestrator="airflow"):
                publishing.mark_step(Path(build), "checks")
                summary = pipeline.check(Path(build), Settings.from_env())
        except Exception as exc:
            # The run log records the checks that ran, failed or not.
            summary = getattr(exc, "summary", None)
            if summary is not None:
                ti.xcom_push(key="checks", value=summary)
            raise
        ti.xcom_push(key="checks", value=summary)
        return {key: summary.get(key) for key in ("failures", "warnings", "seconds", "data_docs")}

    @task(outlets=[WAREHOUSE])
    @task_wrapper
    def publish(build: str) -> str:
        """Swap the build onto the published warehouse (an atomic, flushed rename)."""
        from hsinsight import publish as publishing
        from hsinsight import raw
        from hsinsight.errors import PublishError

        context = get_current_context()
        ti, warehouse = context["ti"], _warehouse()
        with publishing.locked(warehouse, orchestrator="airflow"):
            if raw.store_fingerprint(warehouse) != ti.xcom_pull(task_ids="start_build", key="base"):
                raise PublishError(
                    f"{warehouse} was published by another run after this build started; "
                    "not replacing it with an older build (the next run builds on it)"
                )
            identity = publishing.publish_build(Path(build), warehouse)
            ti.xcom_push(key="published", value={"sha256": identity.sha256, "bytes": identity.size})
            assembled = ti.xcom_pull(task_ids="assemble") or {}
            raw.accept_raw_stores(warehouse, assembled.get("stores") or {})
        context["outlet_events"][WAREHOUSE].extra = {"path": str(warehouse)}
        return str(warehouse)

    @task
    @task_wrapper
    def render_profiles(warehouse: str) -> str | None:
        """Every force's problem profile for the latest period into data/profiles/<period>/,
        swapped in whole (HSINSIGHT_PROFILES: html, pdf or off). It reads the published file
        only."""
        from hsinsight import pipeline

        folder = pipeline.render_profiles(Path(warehouse))
        return str(folder) if folder else None

    @teardown
    @task_wrapper
    def record_run(build: str) -> None:
        """Write this run's summary to the run log, whatever happened; roll the raw
        stores back when dbt or the quality gate rejected the build."""
        from hsinsight import publish as publishing
        from hsinsight.airflow.run_record import record_transform_run

        with publishing.locked(_warehouse(), orchestrator="airflow"):
            record_transform_run(get_current_context(), _warehouse())

    @teardown
    @task_wrapper
    def cleanup(build: str) -> None:
        """Remove the build folder and give the lock back; the published warehouse is never touched."""
        from hsinsight import pipeline
        from hsinsight import publish as publishing

        pipeline.discard(Path(build))
        publishing.release(_warehouse())  # the hold `start_build` took, when in this process

    build = start_build()
    checked = quality_checks(build)
    # One `dbt build`, then a task per dbt node reporting its result; the checks start
    # once it has finished and every node passed.
    dbt, dbt_build = dbt_tasks(_project, _manifest, BUILD_PATH, after=assemble(build))
    dbt >> checked
    dbt_build >> checked
    published = publish(build)
    checked >> published
    recorded = record_run(build)
    published >> recorded >> cleanup(build)
    render_profiles(published)


hsinsight_transform()
