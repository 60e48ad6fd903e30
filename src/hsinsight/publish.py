"""Atomic publishing of the warehouse.

A run builds into ``<warehouse dir>/.build-<id>/<warehouse file name>``: the same
file name as the published warehouse, so DuckDB's catalog name (taken from the file
name) is identical in the build and in the published file and the dbt views keep
resolving. When every step has passed, the build is checkpointed, closed and moved
onto the published path with ``os.replace``, which is atomic on one file system:
a reader sees either the old warehouse or the new one, never a half-built file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb

from hsinsight.errors import PublishError

BUILD_PREFIX = ".build-"


def new_build_path(warehouse: Path) -> Path:
    warehouse = warehouse.resolve()
    build_dir = warehouse.parent / f"{BUILD_PREFIX}{uuid.uuid4().hex[:12]}"
    build_dir.mkdir(parents=True, exist_ok=False)
    return build_dir / warehouse.name


def catalog_name(db_path: Path) -> str:
    """The catalog name DuckDB gives a database file: its name without the extension."""
    return Path(db_path).stem


def publish(build_db: Path, warehouse: Path) -> Path:
    build_db, warehouse = build_db.resolve(), warehouse.resolve()
    if build_db.name != warehouse.name:
        raise PublishError(f"build file {build_db} must have the published file's name {warehouse.name}")
    if not build_db.exists():
        raise PublishError(f"nothing to publish: {build_db} does not exist")
    try:
        con = duckdb.connect(str(build_db))
        try:
            con.execute("checkpoint")
        finally:
            con.close()
        wal = build_db.with_name(build_db.name + ".wal")
        if wal.exists():
            raise PublishError(f"{wal} is still present after checkpoint; refusing to publish")
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        os.replace(build_db, warehouse)
    except OSError as exc:
        raise PublishError(f"could not publish {build_db} to {warehouse}: {exc}") from exc
    discard_build(build_db)
    return warehouse


def discard_build(build_db: Path) -> None:
    """Remove a build's folder (the published warehouse is never touched)."""
    build_dir = Path(build_db).resolve().parent
    if build_dir.name.startswith(BUILD_PREFIX):
        shutil.rmtree(build_dir, ignore_errors=True)
