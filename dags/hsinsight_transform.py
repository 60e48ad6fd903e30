"""
### hsinsight_transform: build, check and publish the warehouse

Scheduled on the raw assets: it runs whenever any source's ingest DAG loaded something
new (events that arrive while a run is going are gathered into the next run).

| task | what it does |
| --- | --- |
| `start_build` | reserves a fresh build file beside the published warehouse (setup) |
| `assemble` | fills the build's raw layer from every source's raw store |
| `seeds` | loads the reference tables (dbt seeds) and runs their tests |
| `dbt.*` | one task per dbt model (astronomer-cosmos): `dbt build` of that node, so its tests run with it and a failed model or test fails that task, with its own log |
| `cross_node_tests` | the dbt tests that span nodes built by different tasks (a relationships test from a staging model to a seed), once every node is built |
| `quality_checks` | the Great Expectations suites in `expectations/`; a failure-severity check fails the task and blocks publishing, a warning is recorded and the build is published; Data Docs are written to `data/quality/docs/` |
| `publish` | swaps the build onto the published warehouse in one atomic rename; updates the warehouse asset |
| `record_run` | writes the run's summary (sources, rows, checks, outcome, duration) to the run log `runs.duckdb` beside the warehouse, whatever happened (teardown) |
| `cleanup` | removes the build folder whatever happened (teardown) |

Nothing touches the published warehouse before `publish`, so a failure anywhere leaves
it exactly as it was. One task runs at a time: every task writes the same DuckDB build
file, and DuckDB allows one writer. No task is retried: a failed model, test or check
fails the same way on the same input.

**Idempotent**: the build is assembled from the raw stores alone, so a re-run on the
same stores publishes the same tables (only the run log and the build's run id differ).

Params: `warehouse` (published DuckDB file) and `ingested` (filled in by `hsinsight run`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from airflow.sdk import Param, dag, get_current_context, setup, task, teardown
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
    TestIndirectSelection,
)

from hsinsight.airflow_assets import RAW_ASSETS, WAREHOUSE
from hsinsight.airflow_runner import record_failure
from hsinsight.config import Settings

_settings = Settings.from_env()
_project = Path(_settings.dbt_project_dir)
_manifest = _project / "target" / "manifest.json"

#: The build file every dbt task works on, handed to dbt_project/profiles.yml.
BUILD_PATH = "{{ ti.xcom_pull(task_ids='start_build') }}"

# Any source's new data triggers a build.
_schedule = None
for _asset in RAW_ASSETS.values():
    _schedule = _asset if _schedule is None else _schedule | _asset


def _params() -> dict:
    return get_current_context()["params"]


def _push_error(exc: BaseException) -> None:
    get_current_context()["ti"].xcom_push(key="error", value=f"{type(exc).__name__}: {exc}")


@dag(
    dag_id="hsinsight_transform",
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
    def start_build() -> str:
        """Reserve a fresh build file beside the published warehouse."""
        from hsinsight import pipeline, runs

        context = get_current_context()
        context["ti"].xcom_push(key="started_at", value=runs.utcnow().isoformat())
        return str(pipeline.start_build(Path(_params()["warehouse"])))

    @task
    def assemble(build: str) -> dict:
        """Fill the build's raw layer from every source's raw store."""
        from hsinsight import pipeline

        try:
            return pipeline.assemble(Path(build), Path(_params()["warehouse"]), Settings.from_env())
        except Exception as exc:
            _push_error(exc)
            raise

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=_project,
            manifest_path=_manifest if _manifest.is_file() else None,
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="hsinsight",
            target_name="build",
            profiles_yml_filepath=_project / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=str(Path(sys.executable).parent / "dbt"),
            # A node's task runs the tests whose other parents are built already.
            test_indirect_selection=TestIndirectSelection.BUILDABLE,
        ),
        render_config=RenderConfig(
            # The manifest is written by `dbt parse` before Airflow starts
            # (hsinsight.transform.ensure_manifest); without it, `dbt ls` renders the graph.
            load_method=LoadMode.DBT_MANIFEST if _manifest.is_file() else LoadMode.DBT_LS,
            # The seeds are loaded together by the `seeds` task, before any model.
            exclude=["resource_type:seed"],
            test_behavior=TestBehavior.BUILD,
            emit_datasets=False,
        ),
        operator_args={
            "env": {
                "HSINSIGHT_DB": BUILD_PATH,
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DO_NOT_TRACK": "1",
                "PATH": os.environ.get("PATH", ""),
            },
            "append_env": True,
            "install_deps": False,
        },
        default_args={"retries": 0},
    )

    @task
    def seeds(build: str) -> None:
        """Load the reference tables (dbt seeds) and run their tests."""
        from hsinsight import transform

        try:
            transform.build_seeds(Path(build), Settings.from_env())
        except Exception as exc:
            _push_error(exc)
            raise

    @task
    def cross_node_tests(build: str) -> list[str]:
        """The dbt tests over nodes built by different tasks (a staging model and a seed)."""
        from hsinsight import transform

        try:
            return transform.run_cross_node_tests(Path(build), Settings.from_env())
        except Exception as exc:
            _push_error(exc)
            raise

    @task
    def quality_checks(build: str) -> dict:
        """Run the Great Expectations suites; a failure-severity check fails the task."""
        from hsinsight import pipeline

        ti = get_current_context()["ti"]
        try:
            summary = pipeline.check(Path(build), Settings.from_env())
        except Exception as exc:
            summary = getattr(exc, "summary", None)
            if summary is not None:
                ti.xcom_push(key="checks", value=summary)
            _push_error(exc)
            raise
        ti.xcom_push(key="checks", value=summary)
        return {key: summary.get(key) for key in ("failures", "warnings", "seconds", "data_docs")}

    @task(outlets=[WAREHOUSE])
    def publish(build: str) -> str:
        """Swap the build onto the published warehouse (an atomic rename)."""
        from hsinsight import pipeline

        try:
            published = pipeline.publish(Path(build), Path(_params()["warehouse"]))
        except Exception as exc:
            _push_error(exc)
            raise
        get_current_context()["outlet_events"][WAREHOUSE].extra = {"path": str(published)}
        return str(published)

    @teardown
    def record_run(build: str) -> None:
        """Write this run's summary to the run log, whatever happened."""
        from hsinsight import orchestration

        orchestration.record_transform_run(get_current_context(), Path(_params()["warehouse"]))

    @teardown
    def cleanup(build: str) -> None:
        """Remove the build folder; the published warehouse is never touched."""
        from hsinsight import pipeline

        pipeline.discard(Path(build))

    build = start_build()
    checked = quality_checks(build)
    assemble(build) >> seeds(build) >> dbt >> cross_node_tests(build) >> checked
    published = publish(build)
    checked >> published
    recorded = record_run(build)
    published >> recorded >> cleanup(build)


hsinsight_transform()
