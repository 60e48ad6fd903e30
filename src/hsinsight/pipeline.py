"""The pipeline's steps, shared by the CLI and the Airflow DAG.

ingest -> transform (dbt build) -> check (Great Expectations) -> publish.

Every run builds a brand-new DuckDB file beside the published warehouse and only
swaps it into place when every step has passed, so the last good warehouse stays
published and readable whatever goes wrong.

One run at a time: a run holds the warehouse's lock (:mod:`hsinsight.publish`) from
before its build to after its run-log row, and at its start, under the lock, removes
what runs that died left behind (:func:`sweep_leftovers`): their build folders (the
run log gets a row for a run that never wrote one), partial downloads and the run
log's temporary copies. The Airflow raw stores are never deleted by a direct run: it
starts from them and leaves them holding what it published.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hsinsight import publish as publishing
from hsinsight.config import Settings
from hsinsight.config import settings as default_settings
from hsinsight.errors import HsinsightError, QualityCheckFailed
from hsinsight.raw import (
    RECOGNITION_RECORD,
    _keep_last_good,
    copy_raw_layer,
    last_good,
    load_recognition_record,
    raw_store,
    raw_store_dir,
    roll_back_raw_stores,
    save_recognition_record,
    store_fingerprint,
)

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
    run_id: str | None = None
    #: the published file's SHA-256 and size
    published_sha256: str | None = None
    published_bytes: int | None = None
    #: what the run removed at its start (see sweep_leftovers)
    swept: list[str] = field(default_factory=list)


def start_build(warehouse: Path, *, run_id: str | None = None, orchestrator: str | None = None) -> Path:
    """Create a fresh build file location for a run that will publish to ``warehouse``."""
    return publishing.new_build_path(Path(warehouse), run_id=run_id, orchestrator=orchestrator)


def ingest(
    raw_dir: Path,
    build_db: Path,
    cfg: Settings | None = None,
    previous: Path | None = None,
    sources: set[str] | None = None,
    recognised: dict | None = None,
) -> dict:
    """Load ``raw_dir`` into the build, starting from the raw layer of ``previous`` (the
    published warehouse) when it exists, so files already loaded are not loaded again
    and a new release of a period replaces the old one with its changes recorded."""
    from hsinsight import ingest as ingesting

    cfg = cfg or default_settings()
    return ingesting.ingest_directory(
        Path(raw_dir), Path(build_db), cfg, previous=previous, sources=sources, recognised=recognised
    )


# --------------------------------------------------------------------------- leftovers


def _describe_owner(owner: dict | None) -> str:
    if not owner:
        return "no owner record"
    text = f"pid {owner.get('pid', '?')}"
    if owner.get("run_id"):
        text += f", run {owner['run_id']}"
    return text + f", stopped at step {owner.get('step', '?')!r}"


def _log_dead_runs(warehouse: Path, dead: list[dict], swept_by: str) -> None:
    """Give every run that died (its build's owner record) without writing its run-log
    row one now: ``published`` when the file it was publishing is the one in place,
    ``failed`` otherwise."""
    from hsinsight import runs

    ids = [str(owner["run_id"]) for owner in dead if owner.get("run_id")]
    logged = runs.logged_run_ids(warehouse, ids)
    current = None
    for owner in dead:
        run_id = owner.get("run_id")
        if not run_id or run_id in logged:
            continue
        record = runs.RunRecord(
            run_id=str(run_id),
            orchestrator=str(owner.get("orchestrator") or "direct"),
            started_at=_parse_time(owner.get("started_at")) or runs.utcnow(),
            finished_at=_parse_time(owner.get("step_at")) or runs.utcnow(),
            outcome="failed",
            message=(
                f"the run stopped at step {owner.get('step', '?')!r} (pid {owner.get('pid', '?')} "
                f"ended without finishing); its build was removed by run {swept_by}"
            ),
        )
        if owner.get("step") == "publish" and owner.get("sha256") and warehouse.is_file():
            current = current or publishing.file_identity(warehouse)
            if current.sha256 == owner["sha256"]:
                record.outcome = "published"
                record.published_sha256, record.published_bytes = current.sha256, current.size
                record.message = (
                    f"the run stopped after putting its build in place (pid {owner.get('pid', '?')}); "
                    f"recorded by run {swept_by}"
                )
        _record(warehouse, record)


def _parse_time(text: object):
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def sweep_partial_downloads(folder: Path) -> list[str]:
    """Remove the partial downloads in ``folder`` whose downloading process has ended."""
    from hsinsight import fetch

    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for leftover in sorted(folder.glob(fetch.partial_download_pattern())):
        pid = fetch.partial_download_pid(leftover)
        if pid is None or publishing.process_alive({"pid": pid, "host": publishing.this_process()["host"]}):
            continue
        leftover.unlink(missing_ok=True)
        removed.append(f"partial download {leftover}")
    return removed


#: A download folder of ``hsinsight run --raw URL`` left by a run that died is removed
#: once it is this old (seconds) and nothing in it is being downloaded.
DOWNLOAD_FOLDER_GRACE = publishing.FOREIGN_GRACE_SECONDS


def sweep_leftovers(
    warehouse: Path, *, raw_dir: Path | None = None, swept_by: str = "?", foreign_grace: float | None = None
) -> list[str]:
    """Remove what runs that died left behind; call it holding the warehouse's lock.

    Swept: build folders beside the warehouse and beside the raw stores whose owner
    has stopped (:func:`hsinsight.publish.stale_builds`; the run log gets a row for
    each such run that has none), the run log's and the recognition record's temporary copies, partial downloads in
    ``raw_dir`` and in the download folders of ``hsinsight run --raw URL``, and those
    download folders once old and idle. Returns one line per thing removed.
    """
    from hsinsight import runs

    warehouse = Path(warehouse).resolve()
    removed: list[str] = []
    dead: list[dict] = []
    grace = publishing.FOREIGN_GRACE_SECONDS if foreign_grace is None else foreign_grace
    for folder in (warehouse.parent, raw_store_dir(warehouse)):
        if not folder.is_dir():
            continue
        for build_dir, owner in publishing.stale_builds(folder, foreign_grace=grace):
            shutil.rmtree(build_dir, ignore_errors=True)
            removed.append(f"stale build {build_dir} ({_describe_owner(owner)})")
            if owner and folder == warehouse.parent:
                dead.append(owner)
    removed += [f"run-log temporary file {p}" for p in runs.sweep_temp_files(warehouse)]
    for leftover in sorted(raw_store_dir(warehouse).glob(f".{RECOGNITION_RECORD}.*")):
        leftover.unlink(missing_ok=True)
        removed.append(f"recognition record temporary file {leftover}")
    if raw_dir is not None:
        removed += sweep_partial_downloads(Path(raw_dir))
    if warehouse.parent.is_dir():
        for folder in sorted(warehouse.parent.glob(".hsinsight-download-*")):
            removed += sweep_partial_downloads(folder)
            try:
                idle = time.time() - folder.stat().st_mtime > DOWNLOAD_FOLDER_GRACE
            except OSError:
                continue
            if idle and not any(folder.glob(".*.part-*")):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(f"download folder {folder}")
    for line in removed:
        log.info("removed what an earlier run left behind: %s", line)
    if dead:
        _log_dead_runs(warehouse, dead, swept_by)
    return removed


def _is_rejection(exc: BaseException) -> bool:
    """Whether the build was rejected by dbt or by the quality gate (its data are at fault)."""
    from hsinsight.errors import TransformError

    return isinstance(exc, TransformError | QualityCheckFailed)


def ingest_source(
    source_id: str, raw_dir: Path, warehouse: Path, cfg: Settings | None = None, *, fresh: bool = False
) -> dict:
    """Load the files of one source found in ``raw_dir`` into its raw store.

    The store starts from its previous state (or, the first time, from the published
    warehouse's rows of that source, so nothing loaded earlier is lost); ``fresh``
    starts it empty. Files already loaded (same SHA-256) are not loaded again, so a
    second run on the same files changes nothing. The report's ``changed`` says
    whether the store now holds anything new: only then is the transform needed.
    Runs under the warehouse's lock (waiting for a run that holds it); partial
    downloads left in ``raw_dir`` by a process that died are removed first.
    """
    from hsinsight.sources import SOURCES

    cfg = cfg or default_settings()
    if source_id not in SOURCES:
        raise HsinsightError(f"unknown source {source_id!r}; sources with a layout: {', '.join(SOURCES)}")
    warehouse = Path(warehouse).resolve()
    store = raw_store(warehouse, source_id)
    with publishing.locked(warehouse, orchestrator="airflow", run_id=f"ingest {source_id}"):
        swept = sweep_partial_downloads(Path(raw_dir)) if Path(raw_dir).is_dir() else []
        for line in swept:
            log.info("removed what an earlier run left behind: %s", line)
        if fresh:
            previous = None
        elif store.is_file():
            previous = store
        else:
            previous = warehouse if warehouse.is_file() else None
        build = publishing.new_build_path(store, orchestrator="ingest")  # one task, one process
        try:
            record = load_recognition_record(warehouse)
            before = dict(record)
            report = ingest(
                Path(raw_dir), build, cfg, previous=previous, sources={source_id}, recognised=record
            )
            if record != before:
                save_recognition_record(warehouse, record)
            loaded = [f for f in report["files"] if f["action"] == "loaded"]
            changed = bool(loaded) or fresh
            if changed:
                _keep_last_good(store)
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
        "swept": swept,
    }


def _fill_raw_layer(con, warehouse: Path, cfg: Settings) -> tuple[dict[str, int], dict[str, str | None]]:
    """Copy every source's raw rows into the open build: from its raw store, else from
    the published warehouse. Returns the rows per source and the stores used."""
    from hsinsight import ingest as ingesting
    from hsinsight.sources import SOURCES

    rows: dict[str, int] = {}
    used: dict[str, str | None] = {}
    ingesting.prepare_raw(con, cfg)
    for source_id, layouts in SOURCES.items():
        store = raw_store(warehouse, source_id)
        used[source_id] = store_fingerprint(store)
        origin = store if used[source_id] else warehouse if warehouse.is_file() else None
        if origin is not None:
            copy_raw_layer(con, origin, {source_id})
        tables = sorted({layout.raw_table for layout in layouts})
        rows[source_id] = sum(
            con.execute(f"select count(*) from raw.{table}").fetchone()[0] for table in tables
        )
    return rows, used


def assemble(build_db: Path, warehouse: Path, cfg: Settings | None = None) -> dict:
    """Fill the build's raw layer from every source's raw store.

    A source without a store contributes the published warehouse's rows, if any.
    Returns the rows each source contributed, whether any of them is synthetic, and
    the fingerprint of each store used (``stores``).
    """
    import duckdb

    from hsinsight import ingest as ingesting

    cfg = cfg or default_settings()
    warehouse = Path(warehouse).resolve()
    con = duckdb.connect(str(build_db))
    try:
        rows, used = _fill_raw_layer(con, warehouse, cfg)
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
    return {"rows": rows, "synthetic": synthetic, "stores": used}


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


def _sync_raw_stores(build_db: Path, warehouse: Path, cfg: Settings) -> list[str]:
    """Make every existing raw store hold its source's rows of the checked build (a
    direct run, which started from the stores): the next ingest DAG starts from what
    the direct run publishes, and nothing either runner loaded is lost."""
    import duckdb

    from hsinsight import ingest as ingesting

    synced = []
    for store in sorted(raw_store_dir(warehouse).glob("*.duckdb")):
        source_id = store.stem
        work = publishing.new_build_path(store, orchestrator="direct")
        try:
            con = duckdb.connect(str(work))
            try:
                ingesting.prepare_raw(con, cfg)
                copy_raw_layer(con, Path(build_db), {source_id})
                con.execute("checkpoint")
            finally:
                con.close()
            publishing.publish(work, store)
        finally:
            publishing.discard_build(work)
        last_good(store).unlink(missing_ok=True)
        synced.append(source_id)
    return synced


def _not_newer_than(warehouse: Path, stores: list[Path]) -> None:
    """Date the synced stores no later than the warehouse published from the same build,
    so the Airflow driver does not take them for news (see warehouse_is_behind)."""
    try:
        published = os.stat(warehouse).st_mtime_ns
        for store in stores:
            stat = os.stat(store)
            if stat.st_mtime_ns > published:
                os.utime(store, ns=(stat.st_atime_ns, published))
    except OSError as exc:  # the warehouse is published: at worst the next Airflow round rebuilds it
        log.warning("could not date the raw stores as the published warehouse: %s", exc)


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


def record_refusal(warehouse: Path, exc: publishing.WarehouseBusy, orchestrator: str, run_id: str) -> None:
    """Write the run-log row of a run that did not start because another run held the lock."""
    from hsinsight import runs

    now = runs.utcnow()
    _record(
        warehouse,
        runs.RunRecord(
            run_id=run_id,
            orchestrator=orchestrator,
            started_at=now,
            finished_at=now,
            outcome="refused",
            message=f"{exc}; not run (--no-wait)",
        ),
    )


def run(
    raw_dir: Path | None = None,
    warehouse: Path | None = None,
    cfg: Settings | None = None,
    *,
    fresh: bool = False,
    wait: bool = True,
    on_wait: Callable[[str], object] | None = None,
) -> RunResult:
    """Run every step in-process. On any failure the build is discarded and the
    published warehouse is left exactly as it was.

    The build starts from the raw stores and the published warehouse's raw layer
    unless ``fresh``. The whole run holds the warehouse's lock: when another run holds
    it, ``on_wait`` is told who and the run waits, or with ``wait=False`` it is refused
    (:class:`~hsinsight.publish.WarehouseBusy`, and a run-log row ``refused``).
    """
    from hsinsight import runs

    cfg = cfg or default_settings()
    raw_dir = Path(raw_dir or cfg.sample_dir)
    warehouse = Path(warehouse or cfg.warehouse).resolve()
    run_id = runs.new_run_id("direct")
    try:
        publishing.acquire(warehouse, wait=wait, on_wait=on_wait, run_id=run_id, orchestrator="direct")
    except publishing.WarehouseBusy as exc:
        record_refusal(warehouse, exc, "direct", run_id)
        raise
    try:
        return _run_locked(raw_dir, warehouse, cfg, run_id, fresh=fresh)
    finally:
        publishing.release(warehouse)


def _run_locked(raw_dir: Path, warehouse: Path, cfg: Settings, run_id: str, *, fresh: bool) -> RunResult:
    import duckdb

    from hsinsight import runs

    started = time.monotonic()
    record = runs.RunRecord(
        run_id=run_id,
        orchestrator="direct",
        started_at=runs.utcnow(),
        finished_at=runs.utcnow(),
        outcome="failed",
    )
    swept = sweep_leftovers(warehouse, raw_dir=raw_dir if raw_dir.is_dir() else None, swept_by=run_id)
    build_db = start_build(warehouse, run_id=run_id, orchestrator="direct")
    stores = list(raw_store_dir(warehouse).glob("*.duckdb"))
    try:
        previous: Path | None = None if fresh else warehouse
        if stores and not fresh:
            # The Airflow raw stores may hold rows the warehouse does not have yet.
            con = duckdb.connect(str(build_db))
            try:
                _fill_raw_layer(con, warehouse, cfg)
                con.execute("checkpoint")
            finally:
                con.close()
            previous = None
        publishing.mark_step(build_db, "ingest")
        report = ingest(raw_dir, build_db, cfg, previous=previous)
        loaded = [f for f in report["files"] if f["action"] == "loaded"]
        record.sources = sorted({f["source"] for f in loaded})
        record.files_loaded = len({f["file"] for f in loaded})
        record.rows_loaded = sum(int(f.get("rows") or 0) for f in loaded)
        record.synthetic = bool(report["synthetic"])
        _import_in_background(CHECK_IMPORTS)
        publishing.mark_step(build_db, "dbt")
        transform(build_db, cfg)
        publishing.mark_step(build_db, "checks")
        checks = check(build_db, cfg)
        record.checks = checks
        synced = _sync_raw_stores(build_db, warehouse, cfg) if stores else []
        identity = publishing.publish_build(build_db, warehouse)
        _not_newer_than(warehouse, [raw_store(warehouse, source_id) for source_id in synced])
        record.outcome = "published"
        record.published_sha256, record.published_bytes = identity.sha256, identity.size
    except BaseException as exc:
        rolled = roll_back_raw_stores(warehouse) if _is_rejection(exc) and stores else []
        record.swept = "\n".join(swept + rolled) or None
        record.checks = getattr(exc, "summary", None) or record.checks
        record.outcome = "blocked" if isinstance(exc, QualityCheckFailed) else "failed"
        record.message = f"{type(exc).__name__}: {exc}"
        _record(warehouse, record)
        discard(build_db)
        raise
    record.swept = "\n".join(swept) or None
    _record(warehouse, record)
    discard(build_db)
    try:
        render_profiles(warehouse, cfg)
    except Exception as exc:  # noqa: BLE001 - the warehouse is published; a failed profile does not undo that
        log.warning("the problem profiles were not written: %s", exc)
    return RunResult(
        warehouse=warehouse,
        files=report["files"],
        changes=report.get("changes", []),
        skipped=report.get("skipped", []),
        notes=report.get("notes", []),
        synthetic=report["synthetic"],
        checks=checks,
        seconds=time.monotonic() - started,
        run_id=run_id,
        published_sha256=identity.sha256,
        published_bytes=identity.size,
        swept=swept,
    )


def render_profiles(warehouse: Path, cfg: Settings | None = None) -> Path | None:
    """Write every force's problem profile for the latest period of the published
    ``warehouse`` into ``profiles/<period>/`` beside its folder, swapped in whole (as
    ``cfg.profiles`` asks: HTML, HTML and PDF, or nothing). Returns the folder."""
    cfg = cfg or default_settings()
    if cfg.profiles == "off":
        return None
    from hsinsight import profiles

    folder = profiles.render_all_after_publish(
        warehouse, profiles.default_out_root(warehouse), pdf=cfg.profiles == "pdf"
    )
    log.info("problem profiles written to %s", folder)
    return folder


def _record(warehouse: Path, record) -> None:
    """Add the run to the run log; a log that cannot be written is reported, not fatal
    (the warehouse itself is already published or left as it was)."""
    from hsinsight import runs

    record.finished_at = runs.utcnow()
    try:
        runs.record_run(warehouse, record)
    except Exception as exc:  # noqa: BLE001 - any failure here must not mask the run's own
        log.warning("could not record run %s in the run log: %s", record.run_id, exc)
