"""
### hsinsight_ingest_&lt;source&gt;: one ingest DAG per official source

One DAG is generated for every entry of the sources registry
(`src/hsinsight/sources/registry.yml`). Each loads its source's files into that
source's raw store (`<warehouse folder>/raw/<source>.duckdb`) and, when it loaded
something new, updates the source's asset, on which `hsinsight_transform` is
scheduled.

| task | what it does |
| --- | --- |
| `fetch` | downloads the source's current files from its publisher (only when the `download` param is on and the registry knows where they are) |
| `ingest` | under the warehouse's lock (one writer at a time), removes partial downloads left in `raw_dir` by a process that died, recognises the source's files by their header rows, validates them and replaces the raw store atomically (keeping its last published state until the transform publishes, so a change dbt rejects is rolled back); updates the asset when anything new was loaded, and is *skipped* when every file was already loaded |

**Schedule**: the registry's `schedule` for the source, chosen from the publisher's
release cadence (see the DAG's description and the registry).

**Retries**: a network failure in `fetch` (a dropped connection, a timeout, a 5xx or
429 answer) is retried three times with exponential backoff (2, 4, 8 minutes).
Anything else fails at once and is not retried, because running it again on the same input gives the same
answer: a file that is malformed, a page whose links changed, a source with no
downloadable file, or bad data found by `ingest`.

**Failures**: every task runs in `hsinsight.airflow.callbacks.task_wrapper`, which
records a failed task's error once, as the task's XCom `failure` (the error's type and
text, and for a rejected file its file, row and column); see `docs/airflow.md`.

**Idempotent**: a file already loaded (same SHA-256) is never loaded again, so a
re-run on the same files leaves the raw store as it was and updates no asset.

Params: `raw_dir` (folder of raw files; the default is the folder `hsinsight fetch`
downloads into), `warehouse` (the published warehouse, beside which the raw stores
live), `download` and `fresh` (start the raw store empty).
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task

from hsinsight.airflow.assets import raw_asset
from hsinsight.airflow.callbacks import record_failure, task_wrapper
from hsinsight.config import Settings, turn_off_telemetry
from hsinsight.names import INGEST_DAG_PREFIX
from hsinsight.sources.registry import Source, load_registry

turn_off_telemetry()  # no usage reports from Airflow or the tools the tasks start
_settings = Settings.from_env()

#: Seconds before the first retry of a network failure; doubled at each retry.
RETRY_DELAY = timedelta(seconds=float(os.environ.get("HSINSIGHT_RETRY_DELAY_SECONDS", "120")))
NETWORK_RETRIES = 3


def _ingest_dag(source: Source):
    asset = raw_asset(source.id)

    @dag(
        dag_id=f"{INGEST_DAG_PREFIX}{source.id}",
        description=f"{source.publisher}: {source.title}. Cadence: {source.cadence}",
        schedule=source.schedule,
        catchup=False,
        max_active_runs=1,
        doc_md=__doc__,
        tags=["hsinsight", "ingest", source.publisher],
        default_args={
            "owner": "hsinsight",
            # Retries are for network failures only: task_wrapper raises every other
            # error as AirflowFailException, which Airflow never retries.
            "retries": NETWORK_RETRIES,
            "retry_delay": RETRY_DELAY,
            "retry_exponential_backoff": 2.0,
            "max_retry_delay": timedelta(hours=1),
            "on_failure_callback": record_failure,
        },
        params={
            "raw_dir": Param(
                str(_settings.project_root / "data" / "raw"),
                type="string",
                minLength=1,
                title="Raw files folder",
                description="Folder holding the raw files (or one file); files of other sources are left alone.",
            ),
            "warehouse": Param(
                str(_settings.warehouse),
                type="string",
                minLength=1,
                title="Published warehouse",
                description="The raw store lives in the folder raw/ beside it.",
            ),
            "download": Param(
                source.downloadable,
                type="boolean",
                title="Download first",
                description="Download the current files from the publisher into raw_dir before ingesting.",
            ),
            "fresh": Param(False, type="boolean", title="Fresh", description="Start the raw store empty."),
        },
    )
    def ingest_dag():
        @task
        @task_wrapper
        def fetch() -> list[str]:
            """Download the source's files when asked; a network failure is retried, nothing else."""
            from hsinsight import fetch as fetching

            params = get_current_context()["params"]
            if not params["download"]:
                return []
            # Airflow does the retrying, with the task's own backoff and log: a retryable
            # DownloadError goes through task_wrapper as it is.
            paths = fetching.fetch_source(source.id, params["raw_dir"], retries=0)
            return [str(path) for path in paths]

        @task(outlets=[asset])
        @task_wrapper
        def ingest(downloaded: list[str]) -> dict:
            """Load the source's files into its raw store; skipped when nothing is new."""
            from pathlib import Path

            from airflow.sdk.exceptions import AirflowSkipException

            from hsinsight import pipeline

            context = get_current_context()
            params = context["params"]
            # Bad data (or a bug) gives the same answer every time: task_wrapper fails
            # the task at once, with no retry.
            report = pipeline.ingest_source(
                source.id,
                Path(params["raw_dir"]),
                Path(params["warehouse"]),
                Settings.from_env(),
                fresh=bool(params["fresh"]),
            )
            summary = {
                "source": source.id,
                "files_loaded": report["files_loaded"],
                "rows_loaded": report["rows_loaded"],
                "files": [f["file"] for f in report["files"] if f["action"] == "loaded"],
                "synthetic": report["synthetic"],
            }
            if not report["changed"]:
                raise AirflowSkipException(f"{source.id}: every file was already loaded; nothing new")
            context["outlet_events"][asset].extra = summary
            return summary

        ingest(fetch())

    return ingest_dag()


for _source in load_registry().values():
    _ingest_dag(_source)
