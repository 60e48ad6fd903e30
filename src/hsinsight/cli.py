"""The ``hsinsight`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from hsinsight.config import settings
from hsinsight.errors import HsinsightError

SYNTHETIC_NOTICE = (
    "SYNTHETIC SAMPLE DATA: these figures are invented for demonstration; only the England and "
    "Wales totals they are calibrated to are published figures. Not official statistics."
)


def _sample(args: argparse.Namespace) -> int:
    if args.scale == "national":
        from hsinsight.sample.national import write_national

        out = Path(args.out) if args.out else settings().project_root / "data" / "national"
        paths = write_national(out)
    else:
        from hsinsight.sample import write_sample

        out = Path(args.out) if args.out else settings().sample_dir
        paths = write_sample(out)
    for path in paths:
        print(f"wrote {path}")
    print(SYNTHETIC_NOTICE)
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from hsinsight import fetch
    from hsinsight.sources.registry import describe_registry, load_registry

    registry = load_registry(args.registry)
    if args.list:
        print(describe_registry(registry))
        return 0
    unknown = [source for source in args.sources if source not in registry]
    if unknown:
        raise HsinsightError(
            f"unknown source(s): {', '.join(unknown)}; the registry lists: {', '.join(registry)}"
        )
    out = Path(args.out) if args.out else settings().project_root / "data" / "raw"
    chosen = args.sources or list(registry)
    failed: list[str] = []
    for source_id in chosen:
        if not args.sources and not registry[source_id].downloadable:
            print(f"skipped {source_id}: no file to download automatically; supply it locally")
            continue
        try:
            paths = fetch.fetch_source(source_id, out, registry)
        except HsinsightError as exc:
            if len(chosen) == 1:
                raise
            print(f"error: {exc}", file=sys.stderr)
            failed.append(source_id)
            continue
        for path in paths:
            print(f"fetched {path}")
    if failed:
        raise HsinsightError(f"could not fetch {', '.join(failed)} (see above)")
    return 0


def _run_from_url(args: argparse.Namespace) -> int:
    from hsinsight import fetch

    warehouse = Path(args.warehouse) if args.warehouse else settings().warehouse
    with fetch.download_dir(warehouse) as workdir:
        print(f"downloading {args.raw}", flush=True)
        raw = fetch.materialise(args.raw, workdir)
        for path in sorted(raw.iterdir()):
            print(f"  downloaded {path.name} ({path.stat().st_size:,} bytes)")
        return _run(argparse.Namespace(**{**vars(args), "raw": str(raw)}))


def _run(args: argparse.Namespace) -> int:
    if args.raw:
        from hsinsight.sources.registry import is_url

        if is_url(args.raw):
            return _run_from_url(args)
    cfg = settings()
    warehouse = Path(args.warehouse) if args.warehouse else cfg.warehouse
    if args.dashboard_port is None:
        return _run_and_report(args, cfg, warehouse)
    serving = DashboardOnPublish(lambda: _start_dashboard(warehouse, "127.0.0.1", args.dashboard_port))
    try:
        status = _run_and_report(args, cfg, warehouse, on_event=serving.on_event)
    except BaseException:
        serving.stop()
        raise
    if status != 0:
        serving.stop()
        return status
    return serving.serve()


def _run_and_report(args: argparse.Namespace, cfg, warehouse: Path, on_event=None) -> int:
    raw = Path(args.raw) if args.raw else cfg.sample_dir
    print(f"raw files: {raw}")
    if args.orchestrator == "airflow":
        from hsinsight.airflow.environment import airflow_environment
        from hsinsight.airflow.runner import run_pipeline
        from hsinsight.names import INGEST_DAG_PREFIX, LAST_RUN_LOG, TRANSFORM_DAG_ID

        log_file = airflow_environment(cfg).home / LAST_RUN_LOG
        print(
            f"running the Airflow DAGs: every source's ingest DAG, then {TRANSFORM_DAG_ID} on the raw "
            f"assets they updated; log: {log_file}",
            flush=True,
        )
        outcome = run_pipeline(
            raw,
            warehouse,
            cfg,
            output=sys.stdout if args.verbose else None,
            fresh=args.fresh,
            wait=not args.no_wait,
            on_event=on_event,
        )
        loaded = {event["extra"].get("source"): event["extra"] for event in outcome.events}
        for run in outcome.ingest:
            source = run.dag_id.removeprefix(INGEST_DAG_PREFIX)
            if source in loaded:
                extra = loaded[source]
                flag = " [SYNTHETIC]" if extra.get("synthetic") else ""
                print(
                    f"  {run.dag_id}: loaded {extra.get('files_loaded', 0)} file(s), "
                    f"{extra.get('rows_loaded', 0):,} rows{flag}"
                )
            else:
                print(f"  {run.dag_id}: nothing new")
        if outcome.transform is None:
            print(f"no source had new data, so {TRANSFORM_DAG_ID} did not run; the warehouse is up to date")
        else:
            dbt_tasks = [t for t in outcome.transform.task_states if t.startswith("dbt.")]
            print(
                f"  {TRANSFORM_DAG_ID} {outcome.transform.run_id}: {outcome.transform.state} "
                f"(one dbt build, reported by {len(dbt_tasks) - 1} model and seed tasks)"
            )
        if warehouse.is_file():
            from hsinsight.report import describe_warehouse

            print(describe_warehouse(warehouse))
    else:
        from hsinsight import pipeline

        result = pipeline.run(
            raw,
            warehouse,
            cfg,
            fresh=args.fresh,
            wait=not args.no_wait,
            on_wait=lambda message: print(message, file=sys.stderr, flush=True),
        )
        for line in result.swept:
            print(f"  removed {line}")
        for f in result.files:
            sheet = f" sheet {f['sheet']!r}" if f.get("sheet") else ""
            flag = " [SYNTHETIC]" if f["synthetic"] else ""
            if f["action"] == "unchanged":
                print(f"  unchanged {f['file']}: already loaded (same SHA-256), not loaded again{flag}")
            else:
                print(f"  ingested {f['file']}{sheet}: {f['layout']}, {f['rows']:,} rows{flag}")
        for c in result.changes:
            print(
                f"  revised {c['period']}: {c['file']} replaces {c['previous_file']} "
                f"({c['rows_added']:,} rows added, {c['rows_removed']:,} removed, {c['rows_revised']:,} revised, "
                f"count change {c['count_change']:+,})"
            )
        for name in result.skipped:
            print(f"  skipped {name}: not a data file (.csv, .ods, .xlsx or .zip)")
        for note in result.notes:
            word = "not used" if note["action"] == "not_used" else "noted"
            detail = note["detail"].removeprefix("not used: ").replace(": not used: ", ": ")
            print(f"  {word} {note['file']}: {detail}")
        checks = result.checks or {}
        print(
            f"checks: {len(checks.get('checks', []))} run, "
            f"{checks.get('failures', 0)} failed, {checks.get('warnings', 0)} warned"
        )
        print(
            f"published {result.warehouse} in {result.seconds:.1f} s "
            f"(SHA-256 {result.published_sha256}, {result.published_bytes:,} bytes)"
        )
        if result.synthetic:
            print(SYNTHETIC_NOTICE)
    return 0


def _docs(args: argparse.Namespace) -> int:
    from hsinsight import transform

    cfg = settings()
    warehouse = Path(args.warehouse) if args.warehouse else cfg.warehouse
    out = Path(args.out) if args.out else cfg.project_root / "data" / "docs"
    print(f"documenting {warehouse} with dbt docs generate", flush=True)
    index = transform.write_docs_site(warehouse, out, cfg)
    print(f"wrote {index} (open it in a browser: models, columns, tests and lineage to the dashboards)")
    return 0


#: Addresses that serve this machine only.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _dashboard(args: argparse.Namespace) -> int:
    cfg = settings()
    warehouse = Path(args.warehouse).resolve() if args.warehouse else cfg.warehouse
    app = cfg.project_root / "dashboards" / "app.py"
    url = f"http://{args.host}:{args.port}"
    print(f"dashboard: {url}  (warehouse {warehouse}; Ctrl-C to stop)", flush=True)
    if args.host not in LOOPBACK_HOSTS:
        print(
            f"warning: listening on {args.host}, not on this machine only: the dashboard has no login, "
            "so anyone who can reach that address can read it",
            file=sys.stderr,
            flush=True,
        )
    command, env = _dashboard_command(app, warehouse, args.host, args.port)
    # Become the Streamlit server, so Ctrl-C and a terminate signal reach it directly.
    os.execve(sys.executable, command, env)


def _dashboard_command(app: Path, warehouse: Path, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The Streamlit server's command line and environment for the dashboard app."""
    env = dict(os.environ, HSINSIGHT_WAREHOUSE=str(warehouse))
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        # The app reads a published warehouse; it does not reload when its source changes.
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        # Readers get the app's own menu only; deploy and developer options stay hidden.
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    return command, env


def _start_dashboard(warehouse: Path, host: str, port: int):
    """The dashboard's Streamlit server, started in a process of its own."""
    import subprocess

    warehouse = Path(warehouse).resolve()
    command, env = _dashboard_command(
        settings().project_root / "dashboards" / "app.py", warehouse, host, port
    )
    print(f"dashboard: http://{host}:{port}  (warehouse {warehouse}; Ctrl-C to stop)", flush=True)
    return subprocess.Popen(command, env=env)


class DashboardOnPublish:
    """``hsinsight run --dashboard-port``: the dashboard served from the moment the
    transform publishes the warehouse (the profiles and the run log are still being
    written), or, when nothing was published this run, once the run has ended; then
    until Ctrl-C. A run that fails stops it.

    ``start`` starts the server and returns its process; ``on_event`` takes the Airflow
    runner's task events (see :func:`hsinsight.airflow.runner.run_pipeline`)."""

    def __init__(self, start) -> None:
        self._start = start
        self.process = None

    def on_event(self, event: dict) -> None:
        from hsinsight.names import TRANSFORM_DAG_ID

        published = (event.get("dag_id"), event.get("task_id"), event.get("state")) == (
            TRANSFORM_DAG_ID,
            "publish",
            "success",
        )
        if published and self.process is None:
            self.process = self._start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()

    def serve(self) -> int:
        """Start the server unless it runs, and wait for it (Ctrl-C or a terminate signal
        stops it); its exit status."""
        import signal

        if self.process is None:
            self.process = self._start()
        previous = signal.signal(signal.SIGTERM, lambda *_: self.process.terminate())
        try:
            return self.process.wait()
        except KeyboardInterrupt:
            self.process.send_signal(signal.SIGINT)
            return self.process.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)


def _prepare(args: argparse.Namespace) -> int:
    from hsinsight.airflow.environment import airflow_environment
    from hsinsight.airflow.runner import prepare
    from hsinsight.transform import manifest_path

    cfg = settings()
    prepare(cfg, progress=sys.stdout)
    print(f"dbt manifest: {manifest_path(cfg)}")
    print(f"Airflow metadata database: {airflow_environment(cfg).database}")
    return 0


def _airflow(args: argparse.Namespace) -> int:
    from hsinsight.airflow.standalone import serve

    return serve(settings(), host=args.host, port=args.port)


def _progress_bar(label: str):
    """A one-line progress bar on stderr: ``tick(stage, done, total)``."""
    terminal = sys.stderr.isatty()

    def tick(stage: str, done: int, total: int) -> None:
        if not terminal and done != total:
            return
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done == total else ""
        sys.stderr.write(f"\r{label} {stage:<4} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return tick


def _profile(args: argparse.Namespace) -> int:
    from hsinsight import profiles

    warehouse = Path(args.warehouse) if args.warehouse else settings().warehouse
    snapshot = profiles.load(warehouse)
    period = profiles.parse_period(args.period) if args.period else None
    out = Path(args.out)
    if args.all:
        if out.suffix.lower() in (".html", ".pdf"):
            raise HsinsightError(f"--all writes a folder of profiles; --out {out} looks like a file")
        result = profiles.write_all(
            warehouse,
            out,
            period=period,
            pdf=args.pdf,
            snapshot=snapshot,
            progress=_progress_bar("profiles"),
        )
        print(
            f"wrote {len(result.html)} profiles for the 12 months to {result.period:%d %B %Y}"
            + (f" with {len(result.pdf)} PDFs" if args.pdf else "")
            + f"; index: {result.index}"
        )
        if result.skipped:
            print(f"no figures for that period (listed in the index): {', '.join(result.skipped)}")
    else:
        for path in profiles.write_profile(
            warehouse, args.force, out, period=period, pdf=args.pdf, snapshot=snapshot
        ):
            print(f"wrote {path}")
    if snapshot.synthetic:
        print(SYNTHETIC_NOTICE)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hsinsight",
        description="Harassment and stalking crime in England and Wales: ingest the official "
        "statistics, build the warehouse, check it and serve the dashboards.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser(
        "sample",
        help="write the synthetic sample raw files",
        description="Write synthetic raw files for every source, in the official layouts and labelled "
        "SYNTHETIC SAMPLE DATA: the small sample the tests and `make run` use, or a data set the "
        "size of the real releases (every offence, about 5 million outcome rows) for benchmarks.",
    )
    sample.add_argument(
        "--scale",
        choices=("sample", "national"),
        default="sample",
        help="sample: the small committed sample (default); national: every offence code, force and "
        "quarter, about 1.5 GB, not committed",
    )
    sample.add_argument(
        "--out", metavar="DIR", help="folder to write to (default: data/sample, or data/national)"
    )
    sample.set_defaults(handler=_sample)

    run = commands.add_parser(
        "run",
        help="ingest, build with dbt, check with Great Expectations and publish the warehouse",
        description="Ingest every recognised file in DIR, build the dbt project, run the Great "
        "Expectations checks and publish the warehouse to PATH only if everything passed. "
        "On any failure the previously published warehouse is left as it was.",
    )
    run.add_argument(
        "--raw",
        metavar="DIR|URL",
        help="raw files to ingest: a folder, a file, or an http(s) URL downloaded first into a "
        "temporary folder (default: the bundled synthetic sample)",
    )
    run.add_argument(
        "--warehouse", metavar="PATH", help="where to publish (default: data/warehouse/hsinsight.duckdb)"
    )
    run.add_argument(
        "--orchestrator",
        choices=("direct", "airflow"),
        default="direct",
        help="run the steps in this process (direct), or as the Airflow DAGs (airflow): every "
        "source's ingest DAG, then hsinsight_transform on the raw assets they updated",
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="start from an empty raw layer instead of the published warehouse's (by default files "
        "already loaded stay, and a new release of a period replaces the old one)",
    )
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="when another run is building the warehouse, stop at once (exit status 1, recorded in the "
        "run log as refused) instead of waiting for it to finish",
    )
    run.add_argument(
        "--dashboard-port",
        type=int,
        metavar="PORT",
        help="then serve the dashboard on 127.0.0.1:PORT until Ctrl-C: with the Airflow DAGs, from "
        "the moment the transform publishes the warehouse, while the profiles are still written "
        "(make run)",
    )
    run.set_defaults(handler=_run)

    fetch = commands.add_parser(
        "fetch",
        help="download the official files listed in the sources registry",
        description="Download the current files of the named sources (default: every source "
        "whose files can be found automatically) from their publishers. Files are found on each "
        "source's landing page by their link text, as publishers re-issue them at new URLs.",
    )
    fetch.add_argument("sources", nargs="*", metavar="SOURCE", help="source ids (see --list)")
    fetch.add_argument("--out", metavar="DIR", help="folder to download into (default: data/raw)")
    fetch.add_argument(
        "--registry",
        metavar="FILE",
        help="sources registry to use (default: $HSINSIGHT_SOURCES_REGISTRY, else the bundled one)",
    )
    fetch.add_argument(
        "--list",
        action="store_true",
        help="print the registry (id, publisher, cadence, landing page) and download nothing",
    )
    fetch.set_defaults(handler=_fetch)

    docs = commands.add_parser(
        "docs",
        help="write dbt's documentation of the published warehouse",
        description="Write dbt's documentation of the published warehouse (every model, column and "
        "test, and the lineage from each raw source to the dashboard pages) as one page that opens "
        "from disk, with manifest.json and catalog.json beside it.",
    )
    docs.add_argument(
        "--warehouse", metavar="PATH", help="published warehouse (default: data/warehouse/hsinsight.duckdb)"
    )
    docs.add_argument("--out", metavar="DIR", help="folder to write to (default: data/docs)")
    docs.set_defaults(handler=_docs)

    airflow = commands.add_parser(
        "airflow",
        help="start Airflow locally with hsinsight's DAGs and print the URL and login",
        description="Start `airflow standalone` (SQLite, this machine only) with the ingest DAGs "
        "(one per source) and the transform DAG loaded, print the URL and the login, and run until "
        "Ctrl-C. New DAGs start paused.",
    )
    airflow.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    airflow.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    airflow.set_defaults(handler=_airflow)

    profile = commands.add_parser(
        "profile",
        help="write a force's problem profile (HTML, and PDF with --pdf), or every force's",
        description="Write a stalking and harassment problem profile for a police and crime "
        "commissioner: a one-page summary, a section per theme with its chart, table and caveats, "
        "questions for the commissioner raised by the figures, the trend since the series began and "
        "the sources. Every figure is read from the published warehouse's marts. The HTML is "
        "self-contained (opens with no network) and prints on A4; --pdf prints it with headless "
        "Chromium.",
    )
    which = profile.add_mutually_exclusive_group(required=True)
    which.add_argument("--force", metavar="NAME_OR_CODE", help="police force area name or ONS code")
    which.add_argument("--all", action="store_true", help="every force, with an index.html linking them")
    profile.add_argument(
        "--period",
        metavar="YYYY-MM-DD",
        help="end of the 12 months to profile (a quarter end; default: the latest in the warehouse)",
    )
    profile.add_argument(
        "--out",
        metavar="FILE|DIR",
        required=True,
        help="HTML file to write (with --force; a .pdf name writes the PDF and the HTML beside it), "
        "or the folder to write into (with --all)",
    )
    profile.add_argument("--pdf", action="store_true", help="also print each profile to PDF beside its HTML")
    profile.add_argument(
        "--warehouse", metavar="PATH", help="published warehouse (default: data/warehouse/hsinsight.duckdb)"
    )
    profile.set_defaults(handler=_profile)

    prepare = commands.add_parser(
        "prepare",
        help="write the dbt manifest and migrate the local Airflow home, when needed (make setup runs it)",
        description="What the DAGs need before their first run, done once: the dbt project parsed into "
        "dbt_project/target/manifest.json (again whenever the project changes) and the local Airflow "
        "home's metadata database migrated ($AIRFLOW_HOME, default .airflow/). Every run checks both.",
    )
    prepare.set_defaults(handler=_prepare)

    dash = commands.add_parser("dashboard", help="serve the Streamlit dashboards")
    dash.add_argument(
        "--warehouse",
        metavar="PATH",
        help="published warehouse to read (default: data/warehouse/hsinsight.duckdb)",
    )
    dash.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; the dashboard has no login)",
    )
    dash.add_argument("--port", type=int, default=8501, help="port (default: 8501)")
    dash.set_defaults(handler=_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    from hsinsight.config import turn_off_telemetry

    turn_off_telemetry()  # nothing hsinsight runs (dbt, Airflow, Great Expectations) reports usage
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        status = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:
        # Whoever read the output (`| head`) stopped reading: not a failure of the command.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except HsinsightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.command == "run":
            print("the published warehouse was left as it was", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
