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
    from hsinsight.sample import write_sample

    out = Path(args.out) if args.out else settings().sample_dir
    for path in write_sample(out):
        print(f"wrote {path}")
    print(SYNTHETIC_NOTICE)
    return 0


def _run(args: argparse.Namespace) -> int:
    cfg = settings()
    raw = Path(args.raw) if args.raw else cfg.sample_dir
    warehouse = Path(args.warehouse) if args.warehouse else cfg.warehouse
    print(f"raw files: {raw}")
    if args.orchestrator == "airflow":
        from hsinsight.airflow_runner import LAST_RUN_LOG, airflow_environment, run_dag

        log_file = airflow_environment(cfg).home / LAST_RUN_LOG
        print(
            f"running the Airflow DAG hsinsight_pipeline (airflow dags test); its log: {log_file}", flush=True
        )
        run_id, states = run_dag(raw, warehouse, cfg, output=sys.stdout if args.verbose else None)
        print(f"DAG run {run_id}: " + ", ".join(f"{task} {state}" for task, state in states.items()))
        from hsinsight.report import describe_warehouse

        print(describe_warehouse(warehouse))
    else:
        from hsinsight import pipeline

        result = pipeline.run(raw, warehouse, cfg)
        for f in result.files:
            sheet = f" sheet {f['sheet']!r}" if f.get("sheet") else ""
            flag = " [SYNTHETIC]" if f["synthetic"] else ""
            print(f"  ingested {f['file']}{sheet}: {f['layout']}, {f['rows']:,} rows{flag}")
        checks = result.checks or {}
        print(
            f"checks: {len(checks.get('checks', []))} run, "
            f"{checks.get('failures', 0)} failed, {checks.get('warnings', 0)} warned"
        )
        print(f"published {result.warehouse} in {result.seconds:.1f} s")
        if result.synthetic:
            print(SYNTHETIC_NOTICE)
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    cfg = settings()
    warehouse = Path(args.warehouse).resolve() if args.warehouse else cfg.warehouse
    app = cfg.project_root / "dashboards" / "app.py"
    url = f"http://{args.host}:{args.port}"
    print(f"dashboard: {url}  (warehouse {warehouse}; Ctrl-C to stop)", flush=True)
    env = dict(os.environ, HSINSIGHT_WAREHOUSE=str(warehouse))
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", args.host,
        "--server.port", str(args.port),
        "--server.headless", "true",
        # The app reads a published warehouse; it does not reload when its source changes.
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        # Readers get the app's own menu only; deploy and developer options stay hidden.
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    # Become the Streamlit server, so Ctrl-C and a terminate signal reach it directly.
    os.execve(sys.executable, command, env)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hsinsight",
        description="Harassment and stalking crime in England and Wales: ingest the official "
        "statistics, build the warehouse, check it and serve the dashboards.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample", help="write the synthetic sample raw files")
    sample.add_argument("--out", metavar="DIR", help="folder to write to (default: data/sample)")
    sample.set_defaults(handler=_sample)

    run = commands.add_parser(
        "run",
        help="ingest, build with dbt, check with Great Expectations and publish the warehouse",
        description="Ingest every recognised file in DIR, build the dbt project, run the Great "
        "Expectations checks and publish the warehouse to PATH only if everything passed. "
        "On any failure the previously published warehouse is left as it was.",
    )
    run.add_argument(
        "--raw", metavar="DIR", help="raw files to ingest (default: the bundled synthetic sample)"
    )
    run.add_argument(
        "--warehouse", metavar="PATH", help="where to publish (default: data/warehouse/hsinsight.duckdb)"
    )
    run.add_argument(
        "--orchestrator",
        choices=("direct", "airflow"),
        default="direct",
        help="run the steps in this process (direct) or as the Airflow DAG hsinsight_pipeline "
        "under `airflow dags test` (airflow)",
    )
    run.set_defaults(handler=_run)

    dash = commands.add_parser("dashboard", help="serve the Streamlit dashboards")
    dash.add_argument(
        "--warehouse",
        metavar="PATH",
        help="published warehouse to read (default: data/warehouse/hsinsight.duckdb)",
    )
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    dash.add_argument("--port", type=int, default=8501, help="port (default: 8501)")
    dash.set_defaults(handler=_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args)
    except HsinsightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("the published warehouse was left as it was", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
