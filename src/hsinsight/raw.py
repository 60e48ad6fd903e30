"""The raw layer: its schema in the warehouse and the raw stores kept beside it.

Schema: the ``raw`` tables, one per layout (text columns under canonical names, then
the lineage columns), and the bookkeeping tables listing every file loaded
(``raw._files``), every ingest decision (``raw._ingest_log``) and what each release
revised (``raw._release_changes``, ``raw._revised_cells``).

Stores: under Airflow each source keeps its raw rows between runs in a store of its
own, with the last good state of a changed store kept until a build made from it is
published, and a recognition record saying which sources' tables each file holds.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from hsinsight import publish as publishing
from hsinsight.sources import LAYOUTS
from hsinsight.sources.base import Column, Layout

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- schema

#: Names of the bookkeeping tables in the ``raw`` schema.
MANIFEST_TABLE = "_files"
INGEST_LOG_TABLE = "_ingest_log"
RELEASE_CHANGES_TABLE = "_release_changes"
REVISED_CELLS_TABLE = "_revised_cells"

#: The bookkeeping tables of the raw layer; each row names its source.
BOOKKEEPING_TABLES = (MANIFEST_TABLE, INGEST_LOG_TABLE, RELEASE_CHANGES_TABLE, REVISED_CELLS_TABLE)

#: Bookkeeping columns every raw table carries after the layout's own columns.
LINEAGE_COLUMNS = (
    ("_file_name", "varchar"),
    ("_sheet", "varchar"),
    ("_sha256", "varchar"),
    ("_loaded_at", "timestamp"),
    ("_row_number", "bigint"),
)


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The raw schema, its bookkeeping tables and every layout's raw table (kept when they exist)."""
    con.execute("create schema if not exists raw")
    con.execute(
        f"""
        create table if not exists raw.{MANIFEST_TABLE} (
            file_name varchar, file_path varchar, sheet varchar, source varchar, layout varchar,
            sha256 varchar, size_bytes bigint, rows bigint, header_row integer,
            is_synthetic boolean, preamble varchar, loaded_at timestamp, periods varchar
        )
        """
    )
    con.execute(
        f"""
        create table if not exists raw.{INGEST_LOG_TABLE} (
            file_name varchar, sha256 varchar, source varchar, action varchar, rows bigint,
            detail varchar, logged_at timestamp
        )
        """
    )
    con.execute(
        f"""
        create table if not exists raw.{RELEASE_CHANGES_TABLE} (
            source varchar, period varchar, previous_file varchar, previous_sha256 varchar,
            new_file varchar, new_sha256 varchar, rows_added bigint, rows_removed bigint,
            rows_revised bigint, count_change bigint, detected_at timestamp
        )
        """
    )
    con.execute(
        f"""
        create table if not exists raw.{REVISED_CELLS_TABLE} (
            source varchar, period varchar, new_file varchar, row_key varchar, column_name varchar,
            previous_value varchar, new_value varchar, detected_at timestamp
        )
        """
    )
    for table in {layout.raw_table: layout for layout in LAYOUTS}.values():
        _ensure_raw_table(con, table)


def _ensure_raw_table(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    """Create a layout's raw table, or add columns a newer layout version brought."""
    columns = [(c.name, "varchar") for c in _raw_columns(layout)] + list(LINEAGE_COLUMNS)
    con.execute(
        f"create table if not exists raw.{layout.raw_table} ("
        + ", ".join(f'"{n}" {t}' for n, t in columns)
        + ")"
    )
    existing = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [layout.raw_table],
        ).fetchall()
    }
    for name, sql_type in columns:
        if name not in existing:
            con.execute(f'alter table raw.{layout.raw_table} add column "{name}" {sql_type}')


def _raw_columns(layout: Layout) -> list[Column]:
    """The columns of a layout's raw table: the union over layouts sharing the table."""
    seen: dict[str, Column] = {}
    for other in LAYOUTS:
        if other.raw_table == layout.raw_table:
            for column in other.columns:
                seen.setdefault(column.name, column)
    return list(seen.values())


def _raw_tables_of(sources: Collection[str] | None) -> set[str] | None:
    """The raw tables holding the rows of ``sources`` (None: every table)."""
    if sources is None:
        return None
    return {layout.raw_table for layout in LAYOUTS if layout.source in sources}


def copy_raw_layer(
    con: duckdb.DuckDBPyConnection, previous: Path, sources: Collection[str] | None = None
) -> None:
    """Add the raw layer of the DuckDB file ``previous`` to the open database's.

    With ``sources``, only those sources' rows are copied: their raw tables, and the
    bookkeeping rows whose ``source`` is one of them.
    """
    con.execute(f"attach '{str(previous).replace(chr(39), chr(39) * 2)}' as previous_build (read_only)")
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'previous_build' and table_schema = 'raw' and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        current = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' "
                "and table_catalog = current_database()"
            ).fetchall()
        }
        wanted = _raw_tables_of(sources)
        for name in tables:
            if name not in current:
                continue
            if wanted is None:
                con.execute(f"insert into raw.{name} by name select * from previous_build.raw.{name}")
            elif name in BOOKKEEPING_TABLES:
                con.execute(
                    f"insert into raw.{name} by name select * from previous_build.raw.{name} "
                    "where source in (select unnest(?::varchar[]))",
                    [sorted(sources)],
                )
            elif name in wanted:
                con.execute(f"insert into raw.{name} by name select * from previous_build.raw.{name}")
    finally:
        con.execute("detach previous_build")


# --------------------------------------------------------------------------- raw stores
#
# Under Airflow every source has its own ingest DAG, so its raw rows persist between
# runs in a raw store of its own: <warehouse folder>/raw/<source id>.duckdb, replaced
# atomically like the warehouse. The transform DAG assembles a build from every store.
#
# A store's last good state (the one the last published build was made from) is kept
# beside it, as <store>.last-good (a hard link to the old file; an empty file when
# there was no store), from the moment an ingest changes the store until a transform
# publishes a build made from it. When dbt or a quality check rejects the build, the
# stores are rolled back to that state, so one bad release does not fail every later
# transform: the rejected file is loaded again (and rejected again) only if it is
# still in the raw folder.

RAW_STORE_FOLDER = "raw"
LAST_GOOD_SUFFIX = ".last-good"


def raw_store_dir(warehouse: Path) -> Path:
    """The folder of the raw stores of the warehouse published at ``warehouse``."""
    return Path(warehouse).resolve().parent / RAW_STORE_FOLDER


def raw_store(warehouse: Path, source_id: str) -> Path:
    """The raw store of ``source_id`` for the warehouse published at ``warehouse``."""
    return raw_store_dir(warehouse) / f"{source_id}.duckdb"


def last_good(store: Path) -> Path:
    """Where the last good state of ``store`` is kept while a change is not yet published."""
    return Path(store).with_name(Path(store).name + LAST_GOOD_SUFFIX)


def store_fingerprint(path: Path) -> str | None:
    """What identifies the file now at ``path`` (inode, size, modification time), or None."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"


def _keep_last_good(store: Path) -> None:
    """Before ``store`` is replaced: keep its state as the last good one, unless a state
    not yet published is kept already (the older, published one stays the last good)."""
    good = last_good(store)
    if good.exists():
        return
    work = good.with_name(f".{good.name}.{os.getpid()}")
    work.unlink(missing_ok=True)
    if store.is_file():
        try:
            os.link(store, work)
        except OSError:  # a file system without hard links: a copy
            shutil.copy2(store, work)
    else:
        work.write_bytes(b"")
    publishing.durable_replace(work, good)


def pending_raw_stores(warehouse: Path) -> dict[str, Path]:
    """The stores changed since the last publish, by source id, each with its last good state."""
    folder = raw_store_dir(warehouse)
    found = {}
    for good in sorted(folder.glob(f"*.duckdb{LAST_GOOD_SUFFIX}")):
        found[good.name.removesuffix(f".duckdb{LAST_GOOD_SUFFIX}")] = good
    return found


def accept_raw_stores(warehouse: Path, used: dict[str, str | None] | None = None) -> list[str]:
    """After a publish: the stores the build was made from are the last good state now.

    ``used`` maps a source to the fingerprint of the store the build was assembled from;
    a store changed since then keeps its last good state. Returns the sources accepted.
    """
    accepted = []
    for source_id, good in pending_raw_stores(warehouse).items():
        store = raw_store(warehouse, source_id)
        if used is not None and used.get(source_id) != store_fingerprint(store):
            continue
        good.unlink(missing_ok=True)
        accepted.append(source_id)
    if accepted:
        publishing.fsync_dir(raw_store_dir(warehouse))
    return accepted


def roll_back_raw_stores(warehouse: Path) -> list[str]:
    """Put every store changed since the last publish back to its last good state (a
    store that did not exist then is removed). Returns one line per store."""
    rolled = []
    for source_id, good in pending_raw_stores(warehouse).items():
        store = raw_store(warehouse, source_id)
        if good.stat().st_size == 0:
            store.unlink(missing_ok=True)
            good.unlink(missing_ok=True)
            publishing.fsync_dir(store.parent)
            rolled.append(f"raw store {source_id}: removed (it did not exist before the rejected change)")
        else:
            publishing.durable_replace(good, store)
            rolled.append(f"raw store {source_id}: back to its last published state")
    for line in rolled:
        log.warning("rolled back %s", line)
    return rolled


#: Beside the raw stores: which sources' tables each file read by an ingest DAG holds,
#: by content, so the other sources' DAGs need not read its header rows again.
RECOGNITION_RECORD = "recognised.json"


def load_recognition_record(warehouse: Path) -> dict[str, list[str]]:
    """The recognition record of the raw stores of ``warehouse`` (empty when missing or
    unreadable: it is only a shortcut, every file it lacks is read)."""
    import json

    try:
        record = json.loads((raw_store_dir(warehouse) / RECOGNITION_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    return {k: v for k, v in record.items() if isinstance(v, list) and all(isinstance(s, str) for s in v)}


def save_recognition_record(warehouse: Path, record: dict[str, list[str]]) -> None:
    """Write the record durably (under the warehouse's lock, which the ingest holds)."""
    import json
    import uuid

    folder = raw_store_dir(warehouse)
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f".{RECOGNITION_RECORD}.{uuid.uuid4().hex[:8]}"
    try:
        work.write_text(json.dumps(record, sort_keys=True, indent=0), encoding="utf-8")
        publishing.durable_replace(work, folder / RECOGNITION_RECORD)
    finally:
        work.unlink(missing_ok=True)
