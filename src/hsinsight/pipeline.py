"""The pipeline's steps, shared by the CLI and the Airflow DAG.

ingest -> transform (dbt build) -> check (Great Expectations) -> publish.

Every run builds a brand-new DuckDB file beside the published warehouse and only
swaps it into place when every step has passed, so the last good warehouse stays
published and readable whatever goes wrong.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hsinsight import publish as publishing
from hsinsight.config import Settings
from hsinsight.config import settings as default_settings
from hsinsight.errors import HsinsightError, QualityCheckFailed

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    warehouse: Path
    files: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: sheets or members not used, and faults kept in rows the platform does not use
    notes: list[dict] = field(default_factory=list)
    synthetic: bool = False
    checks: dict | None = None
    seconds: float = 0.0


def start_build(warehouse: Path) -> Path:
    """Create a fresh build file location for a run that will publish to ``warehouse``."""
    return publishing.new_build_path(Path(warehouse))


def ingest(
    raw_dir: Path,
    build_db: Path,
    cfg: Settings | None = None,
    previous: Path | None = None,
    sources: set[str] | None = None,
) -> dict:
    """Load ``raw_dir`` into the build, starting from the raw layer of ``previous`` (the
    published warehouse) when it exists, so files already loaded are not loaded again
    and a new release of a period replaces the old one with its changes recorded."""
    from hsinsight import ingest as ingesting

    cfg = cfg or default_settings()
    return ingesting.ingest_directory(Path(raw_dir), Path(build_db), cfg, previous=previous, sources=sources)


# --------------------------------------------------------------------------- raw stores
#
# Under Airflow every source has its own ingest DAG, so its raw rows persist between
# runs in a raw store of its own: <warehouse folder>/raw/<source id>.duckdb, replaced
# atomically like the warehouse. The transform DAG assembles a build from every store.

RAW_STORE_FOLDER = "raw"


def raw_store_dir(warehouse: Path) -> Path:
    """The folder of the raw stores of the warehouse published at ``warehouse``."""
    return Path(warehouse).resolve().parent / RAW_STORE_FOLDER


def raw_store(warehouse: Path, source_id: str) -> Path:
    """The raw store of ``source_id`` for the warehouse published at ``warehouse``."""
    return raw_store_dir(warehouse) / f"{source_id}.duckdb"


def ingest_source(
    source_id: str, raw_dir: Path, warehouse: Path, cfg: Settings | None = None, *, fresh: bool = False
) -> dict:
    """Load the files of one source found in ``raw_dir`` into its raw store.

    The store starts from its previous state (or, the first time, from the published
    warehouse's rows of that source, so nothing loaded earlier is lost); ``fresh``
    starts it empty. Files already loaded (same SHA-256) are not loaded again, so a
    second run on the same files changes nothing. The report's ``changed`` says
    whether the store now holds anything new: only then is the transform needed.
    """
    from hsinsight.sources import SOURCES

    cfg = cfg or default_settings()
    if source_id not in SOURCES:
        raise HsinsightError(f"unknown source {source_id!r}; sources with a layout: {', '.join(SOURCES)}")
    warehouse = Path(warehouse).resolve()
    store = raw_store(warehouse, source_id)
    if fresh:
        previous = None
    elif store.is_file():
        previous = store
    else:
        previous = warehouse if warehouse.is_file() else None
    build = publishing.new_build_path(store)
    try:
        report = ingest(Path(raw_dir), build, cfg, previous=previous, sources={source_id})
        loaded = [f for f in report["files"] if f["action"] == "loaded"]
        changed = bool(loaded) or fresh
        if changed or not store.is_file():
            publishing.publish(build, store)
        else:
            publishing.discard_build(build)
    except BaseException:
        publishing.discard_build(build)
        raise
    return {
        **report,
        "source": source_id,
        "store": str(store),
        "changed": changed,
        "files_loaded": len({f["file"] for f in loaded}),
        "rows_loaded": sum(int(f.get("rows") or 0) for f in loaded),
    }


def assemble(build_db: Path, warehouse: Path, cfg: Settings | None = None) -> dict:
    """Fill the build's raw layer from every source's raw store.

    A source without a store contributes the published warehouse's rows, if any.
    Returns the rows each source contributed and whether any of them is synthetic.
    """
    import duckdb

    from hsinsight import ingest as ingesting
    from hsinsight.sources import SOURCES

    cfg = cfg or default_settings()
    warehouse = Path(warehouse).resolve()
    rows: dict[str, int] = {}
    con = duckdb.connect(str(build_db))
    try:
        ingesting.prepare_raw(con, cfg)
        for source_id, layouts in SOURCES.items():
            store = raw_store(warehouse, source_id)
            origin = store if store.is_file() else warehouse if warehouse.is_file() else None
            if origin is not None:
                ingesting.copy_raw_layer(con, origin, {source_id})
            tables = sorted({layout.raw_table for layout in layouts})
            rows[source_id] = sum(
                con.execute(f"select count(*) from raw.{table}").fetchone()[0] for table in tables
            )
        if not any(rows.values()):
            raise HsinsightError(
                f"no raw data to build from: no source has rows in {raw_store_dir(warehouse)} "
                "or in the published warehouse; run the ingest DAGs first"
            )
        synthetic = ingesting.holds_synthetic_rows(con)
        for (name,) in con.execute("select table_name from duckdb_tables() where temporary").fetchall():
            con.execute(f'drop table if exists temp."{name}"')
        con.execute("checkpoint")
    finally:
        con.close()
    return {"rows": rows, "synthetic": synthetic}


def warehouse_is_behind(warehouse: Path) -> bool:
    """Whether a raw store has changed since the warehouse was published (or there is
    no warehouse yet while a store exists): a build is then due even without a new
    asset event, for instance after a build that failed."""
    warehouse = Path(warehouse).resolve()
    stores = list(raw_store_dir(warehouse).glob("*.duckdb"))
    if not stores:
        return False
    if not warehouse.is_file():
        return True
    published = warehouse.stat().st_mtime
    return any(store.stat().st_mtime > published for store in stores)


def forget_raw_stores(warehouse: Path) -> None:
    """Remove the raw stores after a build that did not come from them (a direct run):
    the next ingest DAG of each source starts again from the published warehouse."""
    for store in raw_store_dir(warehouse).glob("*.duckdb"):
        store.unlink(missing_ok=True)


def transform(build_db: Path, cfg: Settings | None = None) -> None:
    from hsinsight import transform as transforming

    transforming.build(Path(build_db), cfg or default_settings())


def check(build_db: Path, cfg: Settings | None = None) -> dict:
    from hsinsight import checks

    return checks.run_checks(Path(build_db), cfg or default_settings())


def publish(build_db: Path, warehouse: Path) -> Path:
    return publishing.publish(Path(build_db), Path(warehouse))


def discard(build_db: Path) -> None:
    publishing.discard_build(Path(build_db))


#: What the check step imports (Great Expectations takes seconds to import): loaded
#: while dbt runs in its own process and this one only waits.
CHECK_IMPORTS = ("great_expectations", "great_expectations.data_context.types.base")


def _import_in_background(modules: tuple[str, ...]) -> threading.Thread:
    """Import ``modules`` in a daemon thread; an import that fails there is simply
    attempted again (and reported) where the module is used."""

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the step that needs it imports it again and says why
                return

    thread = threading.Thread(target=load, name="hsinsight-import", daemon=True)
    thread.start()
    return thread


def run(
    raw_dir: Path | None = None,
    warehouse: Path | None = None,
    cfg: Settings | None = None,
    *,
    fresh: bool = False,
) -> RunResult:
    """Run every step in-process. On any failure the build is discarded and the
    published warehouse is left exactly as it was.

    The build starts from the published warehouse's raw layer unless ``fresh``.
    """
    from hsinsight import runs

    cfg = cfg or default_settings()
    raw_dir = Path(raw_dir or cfg.sample_dir)
    warehouse = Path(warehouse or cfg.warehouse)
    started = time.monotonic()
    record = runs.RunRecord(
        run_id=runs.new_run_id("direct"),
        orchestrator="direct",
        started_at=runs.utcnow(),
        finished_at=runs.utcnow(),
        outcome="failed",
    )
    build_db = start_build(warehouse)
    try:
        report = ingest(raw_dir, build_db, cfg, previous=None if fresh else warehouse)
        loaded = [f for f in report["files"] if f["action"] == "loaded"]
        record.sources = sorted({f["source"] for f in loaded})
        record.files_loaded = len({f["file"] for f in loaded})
        record.rows_loaded = sum(int(f.get("rows") or 0) for f in loaded)
        record.synthetic = bool(report["synthetic"])
        _import_in_background(CHECK_IMPORTS)
        transform(build_db, cfg)
        checks = check(build_db, cfg)
        record.checks = checks
        publish(build_db, warehouse)
        record.outcome = "published"
    except BaseException as exc:
        discard(build_db)
        record.checks = getattr(exc, "summary", None) or record.checks
        record.outcome = "blocked" if isinstance(exc, QualityCheckFailed) else "failed"
        record.message = f"{type(exc).__name__}: {exc}"
        _record(warehouse, record)
        raise
    forget_raw_stores(warehouse)
    _record(warehouse, record)
    return RunResult(
        warehouse=warehouse,
        files=report["files"],
        changes=report.get("changes", []),
        skipped=report.get("skipped", []),
        notes=report.get("notes", []),
        synthetic=report["synthetic"],
        checks=checks,
        seconds=time.monotonic() - started,
    )


def _record(warehouse: Path, record) -> None:
    """Add the run to the run log; a log that cannot be written is reported, not fatal
    (the warehouse itself is already published or left as it was)."""
    from hsinsight import runs

    record.finished_at = runs.utcnow()
    try:
        runs.record_run(warehouse, record)
    except Exception as exc:  # noqa: BLE001 - any failure here must not mask the run's own
        log.warning("could not record run %s in the run log: %s", record.run_id, exc)
