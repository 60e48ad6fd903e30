"""Run the dbt project (``dbt_project/``) against a build file.

``build`` runs ``dbt build`` (seeds, staging views, marts tables, every data test
and unit test) in a subprocess: dbt keeps global state per process, so running it
in-process would leak between runs and into the Airflow worker. The ``dbt``
executable is the one installed beside the running Python interpreter.

Every run gets its own ``target`` and ``logs`` folders beside the build file
(``<build folder>/dbt/``), so two runs never share dbt's artefacts and a discarded
build takes them with it. What they do share is dbt's parse of the project (a fifth of
a build's time on the sample): the last successful run's ``partial_parse.msgpack`` is
kept in the project's ``target/`` folder (:func:`parse_cache`, one per name of build
file, since the profile names it) and handed to the next run's target folder, and dbt re-parses whatever it finds changed since (files, dbt's
version, variables, environment variables, the profile).

The build file is handed to dbt through the ``HSINSIGHT_DB`` environment variable
that ``dbt_project/profiles.yml`` reads, by its name, with dbt started in the build's
folder: the profile then reads the same for every build of a warehouse, which its
parse depends on. A failed run raises
:class:`~hsinsight.errors.TransformError` naming every model, seed or test that
failed and why, read from dbt's ``run_results.json`` (and, when dbt stopped before
running anything, from its output).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hsinsight.config import Settings, turn_off_telemetry
from hsinsight.errors import TransformError
from hsinsight.streaming import run_streaming

log = logging.getLogger(__name__)

#: The environment variable dbt_project/profiles.yml reads the database path from.
DB_ENV = "HSINSIGHT_DB"
#: dbt's folder beside the build file.
DBT_FOLDER = "dbt"
#: The name dbt gives its parse in a target folder.
PARTIAL_PARSE = "partial_parse.msgpack"
#: Statuses in run_results.json that mean a node did not do its job.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
#: Output lines kept for an error message when dbt fails before writing results.
OUTPUT_TAIL = 40
#: Failed nodes spelled out in an error message before the rest are counted.
MESSAGE_FAILURES = 25
#: Lines of one node's message kept in the summary.
MESSAGE_LINES = 20
#: dbt's own preamble to a node's error ("Runtime Error in test x (path)"): the
#: summary names the node already.
_DBT_ERROR_PREFIX = re.compile(r"^(?:\w+ )?Error in \w+ \S+ \([^)]*\)\s*")


@dataclass(frozen=True)
class Failure:
    """One node of a dbt run that failed."""

    resource_type: str  # model, seed, test, unit_test
    name: str
    status: str
    message: str
    relation: str | None = None  # what a data test was testing, e.g. marts.recorded_crime_12m.offences
    failures: int | None = None  # rows a failed data test returned
    path: str | None = None  # the file defining the node, within the project

    def describe(self) -> str:
        what = f"{self.resource_type} {self.name}"
        if self.relation:
            what += f" (on {self.relation})"
        detail = self.status.upper()
        if self.failures and self.resource_type == "test":
            detail += f", {self.failures} failing row{'s' if self.failures != 1 else ''}"
        # dbt's messages can span lines (a unit test's diff table): keep the lines,
        # indented under the node they belong to.
        message_lines = [line.rstrip() for line in (self.message or "").strip().splitlines() if line.strip()]
        if message_lines:
            message_lines[0] = _DBT_ERROR_PREFIX.sub("", message_lines[0].strip())
            message_lines = [line.strip() if i == 0 else line for i, line in enumerate(message_lines)]
            if not message_lines[0]:
                message_lines = [line.strip() for line in message_lines[1:2]] + message_lines[2:]
        if len(message_lines) > MESSAGE_LINES:
            message_lines = [*message_lines[:MESSAGE_LINES], "..."]
        message = "\n      ".join(message_lines)
        if self.path:
            what += f" [{self.path}]"
        line = f"{what}: {detail}"
        if message:
            line += f": {message}"
        return line


def dbt_executable() -> Path:
    """The ``dbt`` command installed with the running interpreter."""
    return Path(sys.executable).parent / "dbt"


def dbt_dirs(build_db: Path) -> tuple[Path, Path]:
    """The target and log folders of the dbt runs on ``build_db``."""
    base = Path(build_db).resolve().parent / DBT_FOLDER
    return base / "target", base / "logs"


def build(build_db: Path, cfg: Settings) -> None:
    """Build and test the dbt project on ``build_db``; raise TransformError on any failure."""
    from hsinsight.publish import pause_point

    _run_dbt(["build"], Path(build_db), cfg)
    pause_point("dbt")  # a test hook, inert unless asked for


def docs_generate(build_db: Path, cfg: Settings) -> Path:
    """Generate dbt's documentation site for a built ``build_db``; return its folder.

    The site (``index.html``, ``manifest.json``, ``catalog.json``, and
    ``static_index.html`` with both embedded, which a browser opens from disk) is
    written to the run's target folder beside the build file.
    """
    target, _ = _run_dbt(["docs", "generate", "--static"], Path(build_db), cfg)
    return target


def write_docs_site(warehouse: Path, out: Path, cfg: Settings) -> Path:
    """dbt's documentation of a published ``warehouse`` (models, columns, tests and
    the lineage from each raw source to the dashboard exposures), written to
    ``out`` as one self-contained ``index.html`` plus ``manifest.json`` and
    ``catalog.json``. dbt opens its database for writing, so it reads a copy and
    the published file stays free for the dashboard. Returns the index page."""
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise TransformError(f"no published warehouse at {warehouse}: run `hsinsight run` first")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".docs-", dir=out) as work:
        copy = Path(work) / warehouse.name
        shutil.copyfile(warehouse, copy)
        target = docs_generate(copy, cfg)
        shutil.copyfile(target / "static_index.html", out / "index.html")
        for name in ("manifest.json", "catalog.json"):
            shutil.copyfile(target / name, out / name)
    return out / "index.html"


#: The project's manifest, which the transform DAG renders its dbt tasks from.
MANIFEST = Path("target") / "manifest.json"
#: The project's own files: a manifest older than any of them is stale.
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


def manifest_path(cfg: Settings) -> Path:
    return Path(cfg.dbt_project_dir).resolve() / MANIFEST


def manifest_is_current(cfg: Settings) -> bool:
    """Whether ``target/manifest.json`` is newer than every file of the dbt project."""
    manifest = manifest_path(cfg)
    if not manifest.is_file():
        return False
    built = manifest.stat().st_mtime
    project = Path(cfg.dbt_project_dir).resolve()
    for name in _PROJECT_FILES:
        entry = project / name
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        if any(p.stat().st_mtime > built for p in files):
            return False
    return True


def ensure_manifest(cfg: Settings) -> Path:
    """Write the dbt project's manifest with ``dbt parse`` unless it is current.

    Parsing reads no database: the profile's path is only a placeholder here, named like
    the warehouse so that the parse dbt keeps (see :func:`parse_cache`) serves the first
    build too.
    """
    manifest = manifest_path(cfg)
    if manifest_is_current(cfg):
        return manifest
    project = Path(cfg.dbt_project_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="hsinsight-parse-") as work:
        placeholder = Path(work) / Path(cfg.warehouse).name
        _run_dbt(["parse"], placeholder, cfg, target=manifest.parent, logs=project / "logs")
    return manifest


def cross_node_tests(manifest: Path) -> list[str]:
    """The data tests no single node's ``dbt build`` runs with buildable selection.

    When every node is built by its own task (the transform DAG), a test runs with
    the last of its parents to be built, provided its other parents are that node's
    ancestors. A test over two nodes neither of which depends on the other (a
    relationships test from a staging model to a seed, say) would run with neither:
    these are run together once every node is built. Tests over seeds alone run
    with the seeds, which are built together in one step.
    """
    document = json.loads(Path(manifest).read_text(encoding="utf-8"))
    nodes = document.get("nodes", {})
    kinds = ("model", "seed", "snapshot")
    parents = {
        key: [p for p in node.get("depends_on", {}).get("nodes", []) if p.split(".", 1)[0] in kinds]
        for key, node in nodes.items()
    }

    def ancestors(key: str) -> set[str]:
        found: set[str] = set()
        stack = list(parents.get(key, []))
        while stack:
            parent = stack.pop()
            if parent not in found:
                found.add(parent)
                stack.extend(parents.get(parent, []))
        return found

    names = []
    for key, node in nodes.items():
        own = parents[key]
        if node.get("resource_type") != "test" or len(own) <= 1:
            continue
        if all(parent.startswith("seed.") for parent in own):
            continue
        if not any(all(other == last or other in ancestors(last) for other in own) for last in own):
            names.append(node["name"])
    return sorted(names)


def _run_dbt(
    command: list[str], build_db: Path, cfg: Settings, *, target: Path | None = None, logs: Path | None = None
) -> tuple[Path, Path]:
    build_db = build_db.resolve()
    project_dir = Path(cfg.dbt_project_dir).resolve()
    executable = dbt_executable()
    if not executable.exists():
        raise TransformError(f"dbt is not installed beside {sys.executable} (looked for {executable})")
    if not (project_dir / "dbt_project.yml").is_file():
        raise TransformError(f"{project_dir} is not a dbt project: it has no dbt_project.yml")
    if not build_db.parent.is_dir():
        raise TransformError(f"the build folder {build_db.parent} does not exist")

    if target is None or logs is None:
        target, logs = dbt_dirs(build_db)
    # Results of an earlier command on the same build must not be read as this one's.
    (target / "run_results.json").unlink(missing_ok=True)
    cache = parse_cache(project_dir, build_db.name)
    _copy_parse(cache, target / PARTIAL_PARSE, replace=False)
    args = [
        str(executable),
        *command,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
        # dbt's log file at its own default level holds every statement it sends (some 8 MB
        # for a build of the sample, a second of the build's time to write); the compiled
        # SQL of every node is in the target folder, and the file keeps what the console shows.
        "--log-level-file",
        "info",
    ]
    env = {**os.environ, DB_ENV: build_db.name, "DBT_USE_COLORS": "false"}
    turn_off_telemetry(env)  # no usage reports from dbt
    log.info("running dbt %s on %s", " ".join(command), build_db)
    try:
        returncode, tail = run_streaming(
            args,
            env=env,
            cwd=build_db.parent,
            on_line=lambda line: log.info("dbt: %s", line),
            tail_lines=OUTPUT_TAIL,
        )
    except OSError as exc:
        raise TransformError(f"could not start dbt ({executable}): {exc}") from exc

    failures = read_failures(target)
    if returncode == 0 and not failures:
        _copy_parse(target / PARTIAL_PARSE, cache, replace=True)
        return target, logs
    message = _summary(command, returncode, failures, _skipped(target), tail, logs)
    if any((f.relation or "").startswith("marts.reconciliation") for f in failures):
        message += _published_figure_differences(build_db)
    raise TransformError(message)


def parse_cache(project_dir: Path, db_name: str) -> Path:
    """Where dbt's parse of the project is kept between builds of files named ``db_name``."""
    return Path(project_dir) / "target" / f"partial_parse.{db_name}.msgpack"


def _copy_parse(source: Path, destination: Path, *, replace: bool) -> None:
    """Copy dbt's parse of the project from ``source`` to ``destination`` (whole or not at
    all; ``replace=False`` leaves an existing one). A parse that cannot be copied only
    costs the next run a full parse."""
    if not source.is_file() or (destination.exists() and not replace):
        return
    partial = destination.with_name(f".{destination.name}.{os.getpid()}")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, partial)
        os.replace(partial, destination)
    except OSError as exc:
        log.info("dbt's parse of the project not kept (%s): the next run parses it afresh", exc)
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def _published_figure_differences(build_db: Path) -> str:
    """The published figures the marts disagree with, read from the build before it is
    discarded, so the message says which figure and by how much."""
    import duckdb

    try:
        con = duckdb.connect(str(build_db), read_only=True)
        try:
            rows = con.execute(
                "select figure_id, published_value, unit, mart, mart_value from marts.reconciliation "
                "where status = 'differs' order by figure_id"
            ).fetchall()
        finally:
            con.close()
    except duckdb.Error:
        return ""
    lines = [
        f"\n  published figure {figure}: published {published:g} {unit}, {mart} gives {value:g}"
        for figure, published, unit, mart, value in rows
    ]
    return "".join(lines)


def read_failures(target: Path) -> list[Failure]:
    """The failed nodes listed in ``target/run_results.json`` (empty when there is none)."""
    results_file = target / "run_results.json"
    if not results_file.is_file():
        return []
    results = json.loads(results_file.read_text(encoding="utf-8")).get("results", [])
    nodes = _manifest_nodes(target)
    failures = []
    for result in results:
        status = str(result.get("status") or "")
        if status not in FAILED_STATUSES:
            continue
        unique_id = result.get("unique_id", "")
        node = nodes.get(unique_id, {})
        failures.append(
            Failure(
                resource_type=node.get("resource_type") or unique_id.split(".", 1)[0],
                name=node.get("name") or unique_id.rsplit(".", 1)[-1],
                status=status,
                message=str(result.get("message") or ""),
                relation=_tested_relation(node, nodes),
                failures=result.get("failures"),
                path=node.get("original_file_path"),
            )
        )
    # Nodes run two at a time, so run_results' order varies between runs; a message
    # should not.
    return sorted(failures, key=lambda f: (f.resource_type, f.name))


def _skipped(target: Path) -> int:
    results_file = target / "run_results.json"
    if not results_file.is_file():
        return 0
    results = json.loads(results_file.read_text(encoding="utf-8")).get("results", [])
    return sum(1 for result in results if result.get("status") == "skipped")


def _manifest_nodes(target: Path) -> dict[str, dict]:
    manifest_file = target / "manifest.json"
    if not manifest_file.is_file():
        return {}
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    return {**manifest.get("nodes", {}), **manifest.get("unit_tests", {}), **manifest.get("sources", {})}


def _tested_relation(node: dict, nodes: dict[str, dict]) -> str | None:
    """``schema.table[.column]`` a data test was attached to, or a unit test's model."""
    if node.get("resource_type") == "unit_test":
        return node.get("model")
    if node.get("resource_type") != "test":
        return None
    attached = node.get("attached_node") or next(iter(node.get("depends_on", {}).get("nodes", [])), None)
    parent = nodes.get(attached or "", {})
    if not parent:
        return None
    relation = f"{parent.get('schema')}.{parent.get('alias') or parent.get('name')}"
    column = node.get("column_name")
    return f"{relation}.{column}" if column else relation


def _summary(
    command: list[str],
    returncode: int,
    failures: list[Failure],
    skipped: int,
    output: list[str],
    logs: Path,
) -> str:
    head = f"dbt {' '.join(command)} failed (exit code {returncode})"
    if failures:
        lines = [f"{head}: {len(failures)} node{'s' if len(failures) != 1 else ''} failed"]
        lines += [f"  - {failure.describe()}" for failure in failures[:MESSAGE_FAILURES]]
        if len(failures) > MESSAGE_FAILURES:
            lines.append(f"  ... and {len(failures) - MESSAGE_FAILURES} more (see run_results.json)")
        if skipped:
            lines.append(f"  ({skipped} node{'s' if skipped != 1 else ''} downstream of a failure skipped)")
    else:
        # dbt stopped before running any node (a project, profile or compilation
        # error): its own words are the best summary.
        stamped = (re.sub(r"^\d{2}:\d{2}:\d{2}\s+", "", line) for line in output)
        interesting = [
            line
            for line in stamped
            if line.strip() and not line.startswith(("Running with dbt=", "Registered adapter:"))
        ]
        lines = [f"{head} before running the project:", *[f"  {line}" for line in interesting[-15:]]]
    lines.append(f"dbt's log: {logs / 'dbt.log'}")
    return "\n".join(lines)
