"""The transform DAG's dbt tasks: one ``dbt build`` of the whole project, and a task per
dbt model or seed that reports from it the node's result and its data tests'. Imported by
the DAG file.

This is astronomer-cosmos's WATCHER idea (one dbt run, model-level visibility in
Airflow), done with the project's own dbt runner. Cosmos's ``ExecutionMode.WATCHER``
itself was measured here and not kept:

- its producer pushes every dbt event of every node to XCom while dbt runs (a node's
  start, compile, execute and finish, its status and its compiled SQL: several XComs
  for each of the project's 751 nodes), each a write to the metadata database inside
  dbt's own event callback; on the sample dbt reported 124 s for the build that way,
  against 27 s for the same build run as here;
- its node tasks wait beside the producer inside a task group and, when the producer did
  not report their node, run dbt on it themselves: a second writer on the build file,
  which is a DuckDB file (one writer), and a second dbt invocation in the run;
- its in-process dbt (the default when dbt is installed beside Airflow) keeps its
  DuckDB connection to the build file open in the worker after the build, so a check
  run in the same process (``airflow dags test``) cannot open the file.

Here the build task runs ``dbt build`` once (:func:`hsinsight.transform.build`, dbt in
a process of its own that has exited when the task ends) and pushes one XCom, the
result of every node read from dbt's ``run_results.json``. The node tasks start after
it, whether it succeeded or failed, read that one XCom and succeed or fail with their
node's result and its tests' (dbt's message for the node, or for each test that failed);
they never run dbt. A node's tests are reported by the node's own task, not by a task of
their own: the failed task is the same (a model whose test fails is not built, as dbt
build has it: its dependants do not run), and it halves the tasks, each of which costs
the run about 0.1 s whatever it does. Cosmos still reads the dbt graph (from the
manifest, or by ``dbt ls`` when there is none).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hsinsight.airflow.callbacks import task_wrapper

log = logging.getLogger(__name__)

#: The task, within the ``dbt`` group, that runs ``dbt build``.
BUILD_TASK = "build"
#: Its XCom key for every node's result.
RESULTS_KEY = "results"
#: dbt statuses of a node that did what it should (a test that warned passed).
PASSED = frozenset({"success", "pass", "warn"})
#: The node types that get a task of their own (``dbt.<node name>``), which reports the
#: node and the data tests on it.
NODE_TYPES = frozenset({"model", "seed", "snapshot"})


# --------------------------------------------------------------------------- the graph


def load_graph(project: Path, manifest: Path | None) -> tuple[dict[str, dict], dict[str, list[str]]]:
    """The project's models and seeds (unique id -> name, type, parents among them) and
    the data tests of each node, from ``manifest`` when given, else from ``dbt ls``
    (cosmos's loader; the profile's path defaults to an in-memory database, so no
    database is opened or written)."""
    import sys

    from cosmos import ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig, cache, settings
    from cosmos.dbt.graph import DbtGraph

    # Without a manifest, cosmos keeps what `dbt ls` listed (keyed by the project's hash),
    # so the DAG processor does not run dbt at every parse.
    cache_identifier = "hsinsight_transform__dbt" if manifest is None and settings.enable_cache else ""
    graph = DbtGraph(
        cache_dir=cache._obtain_cache_dir_path(cache_identifier) if cache_identifier else None,
        cache_identifier=cache_identifier,
        project=ProjectConfig(dbt_project_path=project, manifest_path=manifest, install_dbt_deps=False),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST if manifest else LoadMode.DBT_LS),
        execution_config=ExecutionConfig(
            dbt_executable_path=str(Path(sys.executable).parent / "dbt"), dbt_project_path=project
        ),
        profile_config=ProfileConfig(
            profile_name="hsinsight", target_name="build", profiles_yml_filepath=project / "profiles.yml"
        ),
    )
    graph.load(method=LoadMode.DBT_MANIFEST if manifest else LoadMode.DBT_LS)
    kinds = NODE_TYPES
    nodes = {
        key: {
            "name": node.resource_name,
            "type": node.resource_type.value,
            "parents": [p for p in node.depends_on if p.split(".", 1)[0] in kinds],
        }
        for key, node in graph.filtered_nodes.items()
        if node.resource_type.value in kinds
    }
    tests: dict[str, list[str]] = {}
    for key, node in graph.nodes.items():
        if node.resource_type.value == "test":
            for parent in node.depends_on:
                tests.setdefault(parent, []).append(key)
    return nodes, {key: sorted(found) for key, found in tests.items()}


# --------------------------------------------------------------------------- the tasks


def _node_name(unique_id: str) -> str:
    """``model.hsinsight.x`` -> ``x``; ``test.hsinsight.x.1a2b3c`` -> ``x``."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else parts[-1]


def node_results(target: Path) -> dict[str, dict]:
    """Every node's result in ``target/run_results.json``: its name, status, seconds, dbt's
    message, failing rows of a test, and for a node that failed the line describing it
    (what :mod:`hsinsight.transform` says of a failure: the file, the tested column)."""
    from hsinsight import transform

    results_file = Path(target) / "run_results.json"
    if not results_file.is_file():
        return {}
    results = json.loads(results_file.read_text(encoding="utf-8")).get("results", [])
    manifest = transform._manifest_nodes(Path(target))
    described = {(f.resource_type, f.name): f.describe() for f in transform.read_failures(Path(target))}
    found = {}
    for result in results:
        key = result.get("unique_id", "")
        node = manifest.get(key, {})
        name = node.get("name") or _node_name(key)
        found[key] = {
            "name": name,
            "status": str(result.get("status") or ""),
            "seconds": round(float(result.get("execution_time") or 0.0), 2),
            "message": str(result.get("message") or ""),
            "failures": result.get("failures"),
            "described": described.get((node.get("resource_type") or key.split(".", 1)[0], name)),
        }
    return found


def build(build: str) -> dict:
    """Run ``dbt build`` of the whole project on the build file, once; push every node's
    result (even when dbt failed, so each node's task can say what happened to it)."""
    from airflow.sdk import get_current_context

    from hsinsight import publish as publishing
    from hsinsight import transform
    from hsinsight.config import Settings

    context = get_current_context()
    ti = context["ti"]
    build_db = Path(build)
    try:
        # The warehouse's lock, held for the build like every writing task of the DAG.
        with publishing.locked(Path(context["params"]["warehouse"]), orchestrator="airflow"):
            publishing.mark_step(build_db, "dbt")
            transform.build(build_db, Settings.from_env())
    finally:
        results = node_results(transform.dbt_dirs(build_db)[0])
        ti.xcom_push(key=RESULTS_KEY, value=results)
        log.info("dbt build reported %d nodes", len(results))
    counts: dict[str, int] = {}
    for result in results.values():
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    return counts


def report_node(unique_id: str, name: str, kind: str, tests: list[str], build_task_id: str) -> dict:
    """Succeed or fail with what the build reported for the dbt node ``unique_id`` and for
    every data test on it (the node's own failure first; else each failed test)."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    results = get_current_context()["ti"].xcom_pull(task_ids=build_task_id, key=RESULTS_KEY) or {}
    result = results.get(unique_id)
    if result is None:
        raise AirflowFailException(
            f"{kind} {name}: the dbt build (task {build_task_id!r}) did not report it: dbt stopped before "
            "reaching it; see that task's log. This task never runs dbt itself"
        )
    status = result["status"]
    log.info("%s %s: %s in %.2f s %s", kind, name, status, result["seconds"], result["message"])
    if status == "skipped":
        raise AirflowFailException(
            f"{kind} {name}: skipped by the dbt build because a node or test it depends on failed "
            f"(see task {build_task_id!r})"
        )
    if status not in PASSED:
        raise AirflowFailException(
            result.get("described") or f"{kind} {name}: {status.upper()}: {result['message']}"
        )
    counts: dict[str, int] = {status: 1}
    failed = []
    for test in tests:
        found = results.get(test)
        test_name = _node_name(test)
        if found is None:
            failed.append(f"test {test_name}: not reported by the dbt build")
            continue
        log.info("test %s: %s in %.2f s %s", test_name, found["status"], found["seconds"], found["message"])
        if found["status"] == "skipped":
            # dbt skips a test over two nodes when the other node failed (or was skipped):
            # that node's task fails and says why; this node is not to blame.
            log.warning("test %s: skipped by dbt, because another node it tests did not build", test_name)
        elif found["status"] not in PASSED:
            failed.append(
                found.get("described") or f"test {test_name}: {found['status'].upper()}: {found['message']}"
            )
            continue
        counts[f"test {found['status']}"] = counts.get(f"test {found['status']}", 0) + 1
    if failed:
        raise AirflowFailException(
            f"{kind} {name} built, but {len(failed)} of the {len(tests)} tests on it failed:\n"
            + "\n".join(f"  - {f}" for f in failed)
        )
    return counts


def dbt_tasks(project: Path, manifest: Path | None, build_path: str, after: Any) -> Any:
    """The ``dbt`` task group: ``dbt.build`` (after ``after``), then ``dbt.<node>`` for
    every model or seed, reporting the node and the tests on it. Each runs in
    :func:`~hsinsight.airflow.callbacks.task_wrapper`, like every task of the DAGs."""
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import TaskGroup
    from airflow.task.trigger_rule import TriggerRule

    nodes, tests = load_graph(project, manifest)
    with TaskGroup(group_id="dbt", tooltip="one dbt build, and a task per dbt node") as group:
        build_task = PythonOperator(
            task_id=BUILD_TASK,
            python_callable=task_wrapper(build),
            op_kwargs={"build": build_path},
            doc_md="`dbt build` of the whole project on the build file: the run's one dbt invocation.",
        )
        task: dict[str, Any] = {}
        for key, node in sorted(nodes.items(), key=lambda item: item[1]["name"]):
            if node["name"] == BUILD_TASK:
                raise ValueError(f"dbt node {key} is named like the build task {BUILD_TASK!r}: rename it")
            task[key] = PythonOperator(
                task_id=node["name"],
                python_callable=task_wrapper(report_node),
                op_kwargs={
                    "unique_id": key,
                    "name": node["name"],
                    "kind": node["type"],
                    "tests": tests.get(key, []),
                    "build_task_id": build_task.task_id,
                },
                doc_md=(
                    f"The result of {node['type']} `{node['name']}` in the dbt build, and of the "
                    f"{len(tests.get(key, []))} data tests on it."
                ),
            )
        for key, node in nodes.items():
            parents = [p for p in node["parents"] if p in nodes]
            for parent in parents:
                task[parent] >> task[key]
            if not parents:
                # After the build, failed or not (so a failed node fails with its own
                # message), but not when the build never ran (``after`` failed).
                build_task >> task[key]
                after >> task[key]
                task[key].trigger_rule = TriggerRule.ALL_DONE_MIN_ONE_SUCCESS
    after >> build_task
    return group, build_task
