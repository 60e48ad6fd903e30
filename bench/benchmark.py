"""National-scale benchmarks of hsinsight: ``make bench``.

Runs every step of the platform several times on the national-scale synthetic data
set (``hsinsight sample --scale national``, written to ``data/national/`` first when
it is missing) and writes a table of medians and spreads to
``bench/results/latest.md`` and ``bench/results/latest.json``:

- ingest of each source into a fresh warehouse (rows per second, peak memory), and
  of every source at once;
- the same files read the way most analysts would, ``pandas.read_csv`` /
  ``pandas.read_excel`` and a ``create table ... as select * from df`` into DuckDB,
  as a ratio;
- ``dbt build`` of the whole project (with its slowest nodes);
- the Great Expectations checks;
- the whole pipeline, ``hsinsight run --fresh``, ingest to publish;
- both runners on the bundled sample (``runners``; on the national data too with
  ``runners-national``): ``hsinsight run --fresh`` against ``hsinsight run --fresh
  --orchestrator airflow`` (every ingest DAG, then the transform DAG, in an Airflow home
  of their own, migrated once beforehand and not timed), held to the Airflow runner
  within 1.5 times the direct one;
- ``make run`` to a serving dashboard (``make-run``): from ``make run`` (the Airflow
  runner on the sample, then ``hsinsight dashboard``) until Streamlit's health endpoint
  ``/_stcore/health`` answers, with a new Airflow home (a first ``make run``) and with
  the same home again, held to under 60 s;
- each dashboard page's queries, as ``PAGE_QUERIES`` in ``hsinsight.dashboard.queries.bench``
  runs them (default filters) without the cache, against the published national
  warehouse (median and 95th percentile per page, held to p95 < 200 ms).

Every measurement runs in a child process of its own, so one run's memory or
imports never help the next, and its peak resident memory is the child's (with
the children it waited for, such as dbt), read from ``os.wait4``. Times are
measured inside the child around the step itself, apart from the whole pipeline,
which is timed from outside as a user would (interpreter start included).

    python bench/benchmark.py [--data DIR] [--runs 3] [--query-runs 30] [--only ingest,dbt,...]
    python bench/benchmark.py --only pages --warehouse PATH   # pages alone, on a built warehouse

Steps, for ``--only``: ingest, pandas, dbt, checks, pipeline, pages, runners,
runners-national, make-run (the last three are left out unless named). The pages step
times the warehouse ``--warehouse`` names, else the one the pipeline (or dbt) step
built, else one ``hsinsight run --fresh`` builds for it (not timed). The scratch
warehouses go to a temporary folder that is removed at the end (``--keep`` keeps it).
A run of every step writes ``latest.md``/``latest.json``; a run of some steps writes
``latest-<steps>.md``/``.json`` (``latest-pages.md``), leaving the full results alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "BENCH-RESULT "
STEPS = ("ingest", "pandas", "dbt", "checks", "pipeline", "pages", "runners", "runners-national", "make-run")
#: What a run without ``--only`` measures (the national benchmark).
DEFAULT_STEPS = ("ingest", "pandas", "dbt", "checks", "pipeline", "pages")
#: Former names of steps, still accepted by ``--only``.
STEP_ALIASES = {"dashboard": "pages"}

#: Targets the results are held against (issue: national-scale benchmarks).
PIPELINE_TARGET_SECONDS = 60.0
AIRFLOW_RATIO_TARGET = 1.5  # the Airflow runner against the direct one
MAKE_RUN_TARGET_SECONDS = 60.0  # `make run` to a serving dashboard
INGEST_SPEED_TARGET = 3.0  # times the throughput of the pandas way
INGEST_MEMORY_TARGET = 1 / 3  # at most this share of its peak memory
PAGE_P95_TARGET_MS = 200.0
SLOWEST_NODES = 10


# --------------------------------------------------------------------------- children


@dataclass
class Measurement:
    seconds: float
    peak_mb: float
    result: dict[str, Any] = field(default_factory=dict)


class StepFailed(Exception):
    pass


def _peak_mb(rusage) -> float:
    return rusage.ru_maxrss / 1024  # kilobytes on Linux


def run_child(step: str, args: dict[str, Any], env: dict[str, str], log: Path) -> Measurement:
    """Run ``step`` in a child process of this script; its own timing, its peak memory."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", step, json.dumps(args)]
    with open(log, "a", encoding="utf-8") as errors:
        errors.write(f"\n--- {step} {dt.datetime.now():%H:%M:%S}\n")
        errors.flush()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
        output = process.stdout.read()
        _, status, rusage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        process.stdout.close()
    results = [line[len(RESULT_MARK) :] for line in output.splitlines() if line.startswith(RESULT_MARK)]
    if process.returncode != 0 or not results:
        raise StepFailed(f"{step} failed (exit {process.returncode}); see {log}")
    result = json.loads(results[-1])
    return Measurement(result.pop("seconds"), _peak_mb(rusage), result)


def run_command(command: list[str], env: dict[str, str], log: Path) -> Measurement:
    """Run a command (the CLI) timed from outside; its peak memory with its children's."""
    with open(log, "a", encoding="utf-8") as output:
        output.write(f"\n--- {' '.join(command)} {dt.datetime.now():%H:%M:%S}\n")
        output.flush()
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, rusage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise StepFailed(f"{' '.join(command[:2])} failed (exit {process.returncode}); see {log}")
    return Measurement(seconds, _peak_mb(rusage))


def child_main(step: str, args: dict[str, Any]) -> None:
    """Inside a child: do one step and print its result (with its own time)."""
    result = CHILD_STEPS[step](args)
    print(RESULT_MARK + json.dumps(result), flush=True)


def _child_ingest(args: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()  # imports included, on both sides
    from hsinsight.config import Settings
    from hsinsight.ingest import ingest_directory

    report = ingest_directory(Path(args["raw"]), Path(args["db"]), Settings.from_env())
    seconds = time.monotonic() - started
    return {"seconds": seconds, "rows": sum(f["rows"] for f in report["files"])}


def _child_pandas(args: dict[str, Any]) -> dict[str, Any]:
    """Each table read with pandas (its header row given, as an analyst who opened the
    file would) and loaded into a DuckDB file with ``create table as select``."""
    started = time.monotonic()  # imports included, on both sides
    import zipfile

    import duckdb
    import pandas as pd

    rows = 0
    con = duckdb.connect(args["db"])
    for number, table in enumerate(args["tables"]):
        skip = table["header_row"] - 1
        if table["kind"] == "csv":
            frame = pd.read_csv(table["file"], skiprows=skip)
        elif table["kind"] == "zip":
            with zipfile.ZipFile(table["file"]) as archive, archive.open(table["member"]) as handle:
                frame = pd.read_csv(handle, skiprows=skip)
        else:
            frame = pd.read_excel(table["file"], sheet_name=table["sheet"], skiprows=skip)
        con.register("frame", frame)
        con.execute(f"create table table_{number} as select * from frame")
        con.unregister("frame")
        rows += len(frame)
        del frame
    con.execute("checkpoint")
    con.close()
    return {"seconds": time.monotonic() - started, "rows": rows}


def _child_dbt(args: dict[str, Any]) -> dict[str, Any]:
    from hsinsight.config import Settings
    from hsinsight.transform import build, dbt_dirs

    started = time.monotonic()
    build(Path(args["db"]), Settings.from_env())
    seconds = time.monotonic() - started
    target, _ = dbt_dirs(Path(args["db"]))
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    nodes = sorted(
        ({"node": r["unique_id"], "seconds": r["execution_time"], "status": r["status"]} for r in results),
        key=lambda n: -n["seconds"],
    )
    return {
        "seconds": seconds,
        "nodes": len(nodes),
        "node_seconds": sum(n["seconds"] for n in nodes),
        "slowest": nodes[:SLOWEST_NODES],
    }


def _child_checks(args: dict[str, Any]) -> dict[str, Any]:
    from hsinsight.checks import run_checks
    from hsinsight.config import Settings

    started = time.monotonic()
    summary = run_checks(Path(args["db"]), Settings.from_env())
    return {
        "seconds": time.monotonic() - started,
        "checks": len(summary["checks"]),
        "failures": summary["failures"],
        "warnings": summary["warnings"],
    }


def _child_pages(args: dict[str, Any]) -> dict[str, Any]:
    """Time each dashboard page's queries as ``PAGE_QUERIES`` runs them (every
    query of the page, default filters), uncached: Streamlit's cache is cleared before
    each run, so every run is a page's first view after a publish, the worst case. One
    run per page first, not counted, brings the warehouse file into the OS cache.

    Each run's wall time is what the target is about; its CPU time (this process, all
    its threads) is recorded beside it, since on a shared machine the wall time's tail
    is mostly waiting for a core."""
    os.environ["HSINSIGHT_WAREHOUSE"] = args["warehouse"]
    import streamlit as st

    from hsinsight.dashboard import connection
    from hsinsight.dashboard.queries.bench import PAGE_QUERIES

    started = time.monotonic()
    page_queries = PAGE_QUERIES
    version = connection.warehouse_version(Path(args["warehouse"]))
    if version is None:
        return {"seconds": 0.0, "error": f"no published warehouse at {args['warehouse']}"}

    # Every statement the page runs, in order, with its time from execution to its rows
    # fetched (for the slowest), and the time spent opening connections. The dashboard
    # opens every connection with ``connection.open_read_only``: the connections it
    # returns are wrapped.
    calls: list[tuple[str, float]] = []
    opened: list[float] = []

    class TimedResult:
        def __init__(self, result, sql: str, began: float) -> None:
            self._result, self._sql, self._began, self._done = result, sql, began, False

        def __getattr__(self, name: str):
            attr = getattr(self._result, name)
            if not callable(attr):
                return attr

            def fetch(*args, **kwargs):
                try:
                    return attr(*args, **kwargs)
                finally:
                    if not self._done:
                        self._done = True
                        calls.append((self._sql, time.perf_counter() - self._began))

            return fetch

    class TimedConnection:
        def __init__(self, con) -> None:
            self._con = con

        def execute(self, sql, *args, **kwargs):
            began = time.perf_counter()
            return TimedResult(self._con.execute(sql, *args, **kwargs), str(sql), began)

        def __getattr__(self, name: str):
            return getattr(self._con, name)

    original_open = connection.open_read_only

    def timed_open(*args, **kwargs):
        began = time.perf_counter()
        try:
            return TimedConnection(original_open(*args, **kwargs))
        finally:
            opened.append(time.perf_counter() - began)

    connection.open_read_only = timed_open

    pages: dict[str, Any] = {}
    for slug, run_page in page_queries.items():
        samples: list[float] = []
        per_query: dict[int, list[float]] = {}
        sql_of: dict[int, str] = {}
        counts: set[int] = set()
        connect_ms: list[float] = []
        cpu_ms: list[float] = []
        errors: list[str] = []
        for run in range(args["runs"] + 1):
            st.cache_data.clear()
            calls.clear()
            opened.clear()
            began, cpu_began = time.perf_counter(), time.process_time()
            try:
                run_page(version)
            except Exception as exc:  # report the page as failed, go on with the others
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                break
            took, cpu = time.perf_counter() - began, time.process_time() - cpu_began
            if run == 0:
                continue
            samples.append(took)
            counts.add(len(calls))
            connect_ms.append(sum(opened) * 1000)
            cpu_ms.append(cpu * 1000)
            for i, (sql, seconds) in enumerate(calls):
                per_query.setdefault(i, []).append(seconds)
                sql_of[i] = sql
        slowest = max(per_query, key=lambda i: statistics.median(per_query[i]), default=None)
        pages[slug] = {
            "queries": max(counts, default=0),
            "connections": len(opened),
            "connect_ms_median": round(statistics.median(connect_ms), 2) if connect_ms else None,
            "samples_ms": [round(s * 1000, 2) for s in samples],
            "cpu_ms_median": round(statistics.median(cpu_ms), 2) if cpu_ms else None,
            "statements_ms_median": [
                [" ".join(sql_of[i].split())[:80], round(statistics.median(per_query[i]) * 1000, 2)]
                for i in sorted(per_query)
            ],
            "slowest_query": None
            if slowest is None
            else {
                "sql": " ".join(sql_of[slowest].split())[:160],
                "median_ms": round(statistics.median(per_query[slowest]) * 1000, 2),
            },
            "errors": errors,
        }
    return {"seconds": time.monotonic() - started, "pages": pages}


CHILD_STEPS = {
    "ingest": _child_ingest,
    "pandas": _child_pandas,
    "dbt": _child_dbt,
    "checks": _child_checks,
    "pages": _child_pages,
}


# --------------------------------------------------------------------------- statistics


def summary(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "p95": ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)],
        "runs": len(ordered),
    }


def _measure(runs: int, once) -> list[Measurement]:
    return [once(i) for i in range(runs)]


# --------------------------------------------------------------------------- the data


@dataclass
class SourceGroup:
    """The files of one source (or of every source) and how pandas would read them."""

    name: str
    files: list[Path]
    tables: list[dict[str, Any]]


def source_groups(data: Path, work: Path) -> list[SourceGroup]:
    """The data files grouped by the source(s) their tables belong to, as ingest recognises them."""
    from hsinsight.ingest import discover, tables_in

    files, _ = discover(data)
    (work / "recognise").mkdir(parents=True, exist_ok=True)
    groups: dict[str, SourceGroup] = {}
    every = SourceGroup("all sources", [], [])
    for path in files:
        tables = tables_in(path, work / "recognise")
        name = " + ".join(dict.fromkeys(t.layout.source for t in tables))
        group = groups.setdefault(name, SourceGroup(name, [], []))
        group.files.append(path)
        for table in tables:
            kind = path.suffix.lower().lstrip(".")
            entry = {
                "file": str(path),
                "kind": "csv" if kind == "csv" else kind,
                "header_row": table.header_row,
            }
            if kind == "zip":
                entry["member"] = table.sheet
            elif kind in ("xlsx", "ods"):
                entry["sheet"] = table.sheet
            group.tables.append(entry)
        every.files.append(path)
        every.tables.extend(group.tables[-len(tables) :])
    shutil.rmtree(work / "recognise", ignore_errors=True)
    return [*sorted(groups.values(), key=lambda g: -sum(p.stat().st_size for p in g.files)), every]


def _linked_folder(folder: Path, files: Sequence[Path]) -> Path:
    """A raw folder holding ``files``: hard links where the file system allows, else
    copies (ingest refuses a symbolic link, as it would in a real raw folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        try:
            os.link(path.resolve(), folder / path.name)
        except OSError:
            shutil.copyfile(path, folder / path.name)
    return folder


# --------------------------------------------------------------------------- the benchmark


def machine() -> dict[str, Any]:
    import duckdb
    import pandas as pd

    memory_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu
            )
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "pyarrow": version("pyarrow"),
        "dbt": version("dbt-core"),
        "great_expectations": version("great_expectations"),
        "streamlit": version("streamlit"),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", default=str(PROJECT_ROOT / "data" / "national"), help="national data folder"
    )
    parser.add_argument(
        "--out", default=str(PROJECT_ROOT / "bench" / "results"), help="where to write results"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each heavy step (default 3)")
    parser.add_argument("--query-runs", type=int, default=30, help="runs of each page's queries (default 30)")
    parser.add_argument("--only", default=",".join(DEFAULT_STEPS), help="comma-separated steps to run")
    parser.add_argument(
        "--sample",
        default=str(PROJECT_ROOT / "data" / "sample"),
        help="the sample folder (runners, make-run)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--warehouse",
        metavar="PATH",
        help="a published national warehouse for the pages step (default: the one the run builds)",
    )
    parser.add_argument("--child", nargs=2, metavar=("STEP", "ARGS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child[0], json.loads(args.child[1]))
        return 0

    steps = [STEP_ALIASES.get(s.strip(), s.strip()) for s in args.only.split(",") if s.strip()]
    unknown = set(steps) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; choose from {', '.join(STEPS)}")
    if args.warehouse and not Path(args.warehouse).is_file():
        parser.error(f"--warehouse {args.warehouse}: no such file")
    data = Path(args.data).resolve()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # A run of some steps only keeps its results apart from the full run's.
    stem = (
        "latest" if set(steps) == set(DEFAULT_STEPS) else "latest-" + "-".join(s for s in STEPS if s in steps)
    )
    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
        "machine": machine(),
        "steps": [s for s in STEPS if s in steps],
        "runs": args.runs,
        "query_runs": args.query_runs,
        "targets": {
            "pipeline_seconds": PIPELINE_TARGET_SECONDS,
            "ingest_speed_ratio": INGEST_SPEED_TARGET,
            "ingest_memory_ratio": INGEST_MEMORY_TARGET,
            "page_p95_ms": PAGE_P95_TARGET_MS,
            "airflow_ratio": AIRFLOW_RATIO_TARGET,
            "make_run_seconds": MAKE_RUN_TARGET_SECONDS,
        },
    }
    national = {"ingest", "pandas", "dbt", "checks", "pipeline", "runners-national"} & set(steps)
    if national or ("pages" in steps and not args.warehouse):
        from hsinsight.sample.national import is_complete, write_national

        if not is_complete(data):
            print(f"writing the national-scale data set to {data} ...", flush=True)
            began = time.monotonic()
            write_national(data)
            results["generate_seconds"] = round(time.monotonic() - began, 1)
        results["data"] = {
            "folder": str(data),
            "files": len([p for p in data.iterdir() if p.is_file()]),
            "bytes": sum(p.stat().st_size for p in data.iterdir() if p.is_file()),
        }

    work = Path(tempfile.mkdtemp(prefix="hsinsight-bench-"))
    log = out / f"{stem}.log"
    log.write_text(f"hsinsight benchmarks {results['started']}\n", encoding="utf-8")
    env = {
        **os.environ,
        "HSINSIGHT_QUARANTINE_DIR": str(work / "quarantine"),
        "HSINSIGHT_QUALITY_DIR": str(work / "quality"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("HSINSIGHT_WAREHOUSE", None)
    try:
        run_steps(steps, args, data, work, env, log, results)
    finally:
        results["finished"] = dt.datetime.now().isoformat(timespec="seconds")
        results["load_average_at_end"] = os.getloadavg()
        (out / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        (out / f"{stem}.md").write_text(markdown(results), encoding="utf-8")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(markdown(results))
    print(f"written {out / (stem + '.md')} and {out / (stem + '.json')} (log: {log})")
    return 0


def run_steps(steps, args, data: Path, work: Path, env, log: Path, results: dict[str, Any]) -> None:
    from hsinsight.publish import new_build_path

    ingested: Path | None = None
    if "ingest" in steps or "pandas" in steps:
        groups = source_groups(data, work)
        results["ingest"] = []
        for g, group in enumerate(groups):
            print(f"ingest: {group.name} ({len(group.files)} files)", flush=True)
            entry: dict[str, Any] = {
                "source": group.name,
                "files": len(group.files),
                "tables": len(group.tables),
            }
            if "ingest" in steps:

                def ingest_once(i: int, g=g, group=group) -> Measurement:
                    folder = _linked_folder(work / f"ingest-{g}-{i}" / "raw", group.files)
                    db = folder.parent / "hsinsight.duckdb"
                    measured = run_child("ingest", {"raw": str(folder), "db": str(db)}, env, log)
                    if i < args.runs - 1 or group.name != "all sources":
                        shutil.rmtree(folder.parent, ignore_errors=True)
                    return measured

                entry["hsinsight"] = _record(_measure(args.runs, ingest_once))
                if group.name == "all sources":
                    ingested = work / f"ingest-{g}-{args.runs - 1}" / "hsinsight.duckdb"
            if "pandas" in steps:

                def pandas_once(i: int, g=g, group=group) -> Measurement:
                    db = work / f"pandas-{g}-{i}.duckdb"
                    measured = run_child("pandas", {"tables": group.tables, "db": str(db)}, env, log)
                    db.unlink(missing_ok=True)
                    return measured

                entry["pandas"] = _record(_measure(args.runs, pandas_once))
            if "hsinsight" in entry and "pandas" in entry:
                ours, theirs = entry["hsinsight"], entry["pandas"]
                entry["speed_ratio"] = theirs["seconds"]["median"] / ours["seconds"]["median"]
                entry["memory_ratio"] = ours["peak_mb"]["median"] / theirs["peak_mb"]["median"]
            results["ingest"].append(entry)

    built: Path | None = None
    if "dbt" in steps or "checks" in steps:
        if ingested is None or not ingested.is_file():
            print("ingest: every source once, for dbt", flush=True)
            folder = data
            ingested = work / "ingested" / "hsinsight.duckdb"
            ingested.parent.mkdir(parents=True)
            run_child("ingest", {"raw": str(folder), "db": str(ingested)}, env, log)

    if "dbt" in steps:
        print("dbt build", flush=True)
        try:

            def dbt_once(i: int) -> Measurement:
                nonlocal built
                build_db = new_build_path(work / "dbt" / "hsinsight.duckdb")
                shutil.copy(ingested, build_db)
                measured = run_child("dbt", {"db": str(build_db)}, env, log)
                if built is not None:
                    shutil.rmtree(built.parent, ignore_errors=True)
                built = build_db
                return measured

            measurements = _measure(args.runs, dbt_once)
            results["dbt"] = _record(measurements)
            last = measurements[-1].result
            results["dbt"].update(
                nodes=last["nodes"], node_seconds=last["node_seconds"], slowest=last["slowest"]
            )
        except StepFailed as exc:
            results["dbt"] = {"error": str(exc)}

    if "checks" in steps:
        print("Great Expectations checks", flush=True)
        if built is None:
            results["checks"] = {"error": "needs a dbt build of the national data (run the dbt step)"}
        else:
            try:
                measurements = _measure(
                    args.runs, lambda i: run_child("checks", {"db": str(built)}, env, log)
                )
                results["checks"] = _record(measurements)
                results["checks"].update(
                    {k: measurements[-1].result[k] for k in ("checks", "failures", "warnings")}
                )
            except StepFailed as exc:
                results["checks"] = {"error": str(exc)}

    warehouse = work / "published" / "hsinsight.duckdb"
    if "pipeline" in steps:
        print("whole pipeline: hsinsight run --fresh", flush=True)
        command = [
            str(Path(sys.executable).parent / "hsinsight"),
            "run",
            "--fresh",
            "--raw",
            str(data),
            "--warehouse",
            str(warehouse),
        ]
        try:
            results["pipeline"] = _record(_measure(args.runs, lambda i: run_command(command, env, log)))
        except StepFailed as exc:
            results["pipeline"] = {"error": str(exc)}

    for step, folder in (("runners", Path(args.sample).resolve()), ("runners-national", data)):
        if step in steps:
            print(f"both runners on {folder}: hsinsight run --fresh [--orchestrator airflow]", flush=True)
            try:
                results[step] = _runners(folder, args.runs, work, env, log)
            except StepFailed as exc:
                results[step] = {"error": str(exc)}

    if "make-run" in steps:
        print("make run to a serving dashboard", flush=True)
        try:
            results["make-run"] = _make_run(args.runs, work, env, log)
        except StepFailed as exc:
            results["make-run"] = {"error": str(exc)}

    if "pages" in steps:
        print("dashboard pages: each page's queries, uncached", flush=True)
        source = _pages_warehouse(args, data, built, warehouse, env, log)
        if source is None:
            results["pages"] = {"error": f"no published warehouse could be built; see {log}"}
        else:
            results["pages_warehouse"] = {"path": str(source), "bytes": source.stat().st_size}
            try:
                measured = run_child("pages", {"warehouse": str(source), "runs": args.query_runs}, env, log)
                if "error" in measured.result:
                    results["pages"] = {"error": measured.result["error"]}
                else:
                    results["pages"] = {
                        slug: {
                            **info,
                            **({"ms": summary(info["samples_ms"])} if info["samples_ms"] else {}),
                            "met": bool(info["samples_ms"])
                            and summary(info["samples_ms"])["p95"] < PAGE_P95_TARGET_MS,
                        }
                        for slug, info in measured.result["pages"].items()
                    }
            except StepFailed as exc:
                results["pages"] = {"error": str(exc)}


def _runners(data: Path, runs: int, work: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    """``hsinsight run --fresh`` and ``hsinsight run --fresh --orchestrator airflow`` on
    ``data``, alternately, each with a warehouse of its own; the Airflow home is migrated
    first, untimed, as it is after a first ``make run``."""
    hsinsight = str(Path(sys.executable).parent / "hsinsight")
    folder = work / f"runners-{data.name}"
    airflow_env = {**env, "AIRFLOW_HOME": str(folder / "airflow")}
    commands = {
        "direct": [hsinsight, "run", "--fresh", "--raw", str(data), "--warehouse", str(folder / "direct" / "w.duckdb")],
        "airflow": [
            hsinsight, "run", "--fresh", "--orchestrator", "airflow",
            "--raw", str(data), "--warehouse", str(folder / "airflow" / "w.duckdb"),
        ],
    }  # fmt: skip
    # The Airflow home is migrated first (`airflow db migrate`), not timed: as after a first run.
    migrate = (
        "from hsinsight.airflow.environment import airflow_environment, ensure_database\n"
        "from hsinsight.config import Settings\n"
        "ensure_database(airflow_environment(Settings.from_env()))"
    )
    run_command([sys.executable, "-c", migrate], airflow_env, log)
    # dbt's parse of the project for a warehouse named w.duckdb, kept for the builds
    # (hsinsight.transform.parse_cache), is made first, not timed: as after any earlier
    # run, so that neither runner pays for it and the other not.
    parse = (
        "import dataclasses, sys, tempfile\n"
        "from pathlib import Path\n"
        "from hsinsight import transform\n"
        "from hsinsight.config import Settings\n"
        "with tempfile.TemporaryDirectory() as work:\n"
        "    cfg = dataclasses.replace(Settings.from_env(), warehouse=Path(work) / 'w.duckdb')\n"
        "    transform._run_dbt(['parse'], cfg.warehouse, cfg)\n"
    )
    run_command([sys.executable, "-c", parse], env, log)
    measured: dict[str, list[Measurement]] = {"direct": [], "airflow": []}
    for _ in range(runs):
        measured["direct"].append(run_command(commands["direct"], env, log))
        measured["airflow"].append(run_command(commands["airflow"], airflow_env, log))
    result = {name: _record(found) for name, found in measured.items()}
    result["ratio"] = result["airflow"]["seconds"]["median"] / result["direct"]["seconds"]["median"]
    return result


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_run_once(home: Path, warehouse: Path, env: dict[str, str], log: Path) -> float:
    """Seconds from ``make run`` until the dashboard's health endpoint answers."""
    import signal
    import urllib.request

    port = _free_port()
    run_env = {**env, "AIRFLOW_HOME": str(home), "HSINSIGHT_WAREHOUSE": str(warehouse)}
    with open(log, "a", encoding="utf-8") as output:
        output.write(f"\n--- make run (port {port}) {dt.datetime.now():%H:%M:%S}\n")
        output.flush()
        started = time.monotonic()
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"DASHBOARD_PORT={port}"],
            cwd=PROJECT_ROOT,
            env=run_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while True:
                if process.poll() is not None:
                    raise StepFailed(f"make run stopped (exit {process.returncode}); see {log}")
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/_stcore/health", timeout=1
                    ) as answer:
                        if answer.status == 200:
                            return time.monotonic() - started
                except OSError:
                    pass
                if time.monotonic() - started > 600:
                    raise StepFailed(f"no dashboard within 600 s; see {log}")
                time.sleep(0.2)
        finally:
            for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue


def _make_run(runs: int, work: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    """``make run`` to a serving dashboard: first with a new Airflow home and no warehouse
    (a newcomer's first run), then ``runs`` times with that home and a new warehouse."""
    folder = work / "make-run"
    home = folder / "airflow"
    first = _make_run_once(home, folder / "0" / "hsinsight.duckdb", env, log)
    again = [_make_run_once(home, folder / str(i) / "hsinsight.duckdb", env, log) for i in range(1, runs + 1)]
    return {"first": first, "seconds": summary(again)}


def _pages_warehouse(args, data: Path, built, published: Path, env, log: Path) -> Path | None:
    """The published warehouse the pages are timed on: ``--warehouse``, else the one
    this run published (pipeline step) or built (dbt step), else a new one."""
    if args.warehouse:
        return Path(args.warehouse).resolve()
    if published.is_file():
        return published
    if built is not None and built.is_file():
        source = built.parent / "published" / "hsinsight.duckdb"
        source.parent.mkdir(exist_ok=True)
        shutil.copy(built, source)
        return source
    print("  building the national warehouse once (hsinsight run --fresh, not timed)", flush=True)
    command = [
        str(Path(sys.executable).parent / "hsinsight"), "run", "--fresh",
        "--raw", str(data), "--warehouse", str(published),
    ]  # fmt: skip
    try:
        run_command(command, env, log)
    except StepFailed:
        return None
    return published


def _record(measurements: list[Measurement]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "seconds": summary([m.seconds for m in measurements]),
        "peak_mb": summary([m.peak_mb for m in measurements]),
    }
    rows = measurements[-1].result.get("rows")
    if rows is not None:
        record["rows"] = rows
        record["rows_per_second"] = rows / record["seconds"]["median"]
    return record


# --------------------------------------------------------------------------- the table


def _s(stats: dict[str, float]) -> str:
    return f"{stats['median']:.2f} s ({stats['min']:.2f}–{stats['max']:.2f})"


def _mb(stats: dict[str, float]) -> str:
    return f"{stats['median']:,.0f} MB"


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    sources = []
    if "data" in results:
        sources.append(
            f"Data: `hsinsight sample --scale national` ({results['data']['bytes'] / 1e9:.2f} GB in "
            f"{results['data']['files']} files)."
        )
    if "pages_warehouse" in results:
        where = results["pages_warehouse"]
        sources.append(
            f"Pages timed on the published warehouse `{where['path']}` ({where['bytes'] / 1e6:,.0f} MB)."
        )
    lines = [
        f"Measured {results['started'][:10]} on {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, "
        f"Python {m['python']}, DuckDB {m['duckdb']}, pandas {m['pandas']}, pyarrow {m['pyarrow']}, "
        f"dbt-core {m['dbt']}, Great Expectations {m['great_expectations']}, Streamlit {m['streamlit']}. "
        + " ".join(sources)
        + (
            f" Median of {results['runs']} runs, (min–max); peak memory is the "
            "peak resident set of the process (with its children)."
            if any(key in results for key in ("ingest", "dbt", "checks", "pipeline"))
            else ""
        )
        + " Load average (1 min) "
        f"{results['load_average_at_start'][0]:.2f} at the start"
        + (
            f", {results['load_average_at_end'][0]:.2f} at the end."
            if "load_average_at_end" in results
            else "."
        ),
        "",
    ]
    if "ingest" in results:
        lines += [
            "| ingest | rows | hsinsight | rows/s | peak memory | pandas way | rows/s | peak memory "
            "| speed × | memory share | target (≥3×, ≤⅓) |",
            "| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for entry in results["ingest"]:
            ours, theirs = entry.get("hsinsight"), entry.get("pandas")
            cells = [f"{entry['source']} ({entry['files']} file{'s' if entry['files'] > 1 else ''})"]
            cells.append(f"{(ours or theirs or {}).get('rows', 0):,}")
            for side in (ours, theirs):
                if side:
                    cells += [_s(side["seconds"]), f"{side['rows_per_second']:,.0f}", _mb(side["peak_mb"])]
                else:
                    cells += ["–", "–", "–"]
            if "speed_ratio" in entry:
                ok = (
                    entry["speed_ratio"] >= INGEST_SPEED_TARGET
                    and entry["memory_ratio"] <= INGEST_MEMORY_TARGET
                )
                cells += [f"{entry['speed_ratio']:.2f}", f"{entry['memory_ratio']:.2f}", _met(ok)]
            else:
                cells += ["–", "–", "–"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    steps = [
        ("dbt", "`dbt build` (whole project)", None),
        ("checks", "Great Expectations checks", None),
        ("pipeline", "whole pipeline, `hsinsight run --fresh` (ingest → publish)", PIPELINE_TARGET_SECONDS),
    ]
    if any(key in results for key, _, _ in steps):
        lines += ["| step | time | peak memory | target |", "| --- | --- | ---: | --- |"]
        for key, label, target in steps:
            if key not in results:
                continue
            entry = results[key]
            if "error" in entry:
                lines.append(f"| {label} | failed: {entry['error']} | | |")
                continue
            extra = ""
            if key == "dbt":
                extra = f" — {entry['nodes']} nodes"
            if key == "checks":
                extra = f" — {entry['checks']} checks, {entry['warnings']} warning(s)"
            verdict = (
                f"< {target:.0f} s: {_met(entry['seconds']['median'] < target)}" if target is not None else ""
            )
            lines.append(f"| {label}{extra} | {_s(entry['seconds'])} | {_mb(entry['peak_mb'])} | {verdict} |")
        lines.append("")
    runner_rows = [
        (key, where) for key, where in (("runners", "sample"), ("runners-national", "national data"))
    ]
    if any(key in results for key, _ in runner_rows) or "make-run" in results:
        lines += ["| runner | time | peak memory | target |", "| --- | --- | ---: | --- |"]
        for key, where in runner_rows:
            if key not in results:
                continue
            entry = results[key]
            if "error" in entry:
                lines.append(f"| both runners, {where} | failed: {entry['error']} | | |")
                continue
            lines.append(
                f"| `hsinsight run --fresh`, {where} | {_s(entry['direct']['seconds'])} "
                f"| {_mb(entry['direct']['peak_mb'])} | |"
            )
            ok = entry["ratio"] <= AIRFLOW_RATIO_TARGET
            lines.append(
                f"| `hsinsight run --fresh --orchestrator airflow`, {where} | {_s(entry['airflow']['seconds'])} "
                f"| {_mb(entry['airflow']['peak_mb'])} | {entry['ratio']:.2f}× direct, "
                f"≤ {AIRFLOW_RATIO_TARGET}×: {_met(ok)} |"
            )
        if "make-run" in results:
            entry = results["make-run"]
            if "error" in entry:
                lines.append(f"| `make run` to a serving dashboard | failed: {entry['error']} | | |")
            else:
                ok = entry["seconds"]["median"] < MAKE_RUN_TARGET_SECONDS
                lines.append(
                    f"| `make run` to a serving dashboard (`/_stcore/health`), sample | {_s(entry['seconds'])}; "
                    f"first run, new Airflow home: {entry['first']:.1f} s | | "
                    f"< {MAKE_RUN_TARGET_SECONDS:.0f} s: {_met(ok)} |"
                )
        lines.append("")
    if "pages" in results:
        pages = results["pages"]
        lines += [
            f"| dashboard page (its queries, uncached, {results['query_runs']} runs) | statements "
            f"| connections (opening) | median | p95 | CPU (median) | target (p95 < {PAGE_P95_TARGET_MS:.0f} ms) "
            "| slowest statement (median) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        if "error" in pages:
            lines.append(f"| failed: {pages['error']} | | | | | | | |")
        else:
            for slug, info in pages.items():
                slowest = info["slowest_query"]
                note = f"{slowest['median_ms']:.1f} ms: `{slowest['sql'][:70]}…`" if slowest else ""
                if info["errors"]:
                    note += f" (the page's queries raised: {info['errors'][0][:100]})"
                connect = info.get("connect_ms_median")
                cells = [
                    str(info["queries"]),
                    f"{info.get('connections', 0)}" + (f" ({connect:.1f} ms)" if connect is not None else ""),
                ]
                if "ms" in info:
                    ms = info["ms"]
                    cpu = info.get("cpu_ms_median")
                    cells += [
                        f"{ms['median']:.1f} ms",
                        f"{ms['p95']:.1f} ms",
                        "–" if cpu is None else f"{cpu:.1f} ms",
                        _met(info["met"]),
                    ]
                else:
                    cells += ["–", "–", "–", _met(False)]
                lines.append(f"| `{slug}` | " + " | ".join(cells) + f" | {note} |")
        lines.append("")
    if "dbt" in results and "slowest" in results["dbt"]:
        lines += [
            f"Slowest dbt nodes (last run; {results['dbt']['node_seconds']:.1f} s of node time in all):",
            "",
            "| node | seconds |",
            "| --- | ---: |",
            *[f"| `{n['node']}` | {n['seconds']:.2f} |" for n in results["dbt"]["slowest"]],
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
