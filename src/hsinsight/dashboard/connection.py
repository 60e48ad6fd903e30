"""Reading the published warehouse: where it is, one read-only connection per run,
and the cache.

A read opens an in-memory DuckDB connection, ATTACHes the published warehouse
READ_ONLY under its file stem (the catalog name the dbt build used, which its views
refer to) and runs statements with bound parameters (``$name``). The pipeline
publishes a new warehouse by ``os.replace`` onto the same path, so:

* no connection outlives a script run: :func:`batch` (which ``app.py`` wraps round
  every page run) shares one connection between the queries of that run, opened at
  the first query that misses the cache and closed when the run ends, stops or
  reruns; a query outside a batch opens and closes its own;
* a connection that is open while a new file is published goes on reading the file
  it attached (the old inode), so one run never mixes two versions;
* nothing here ever writes: the warehouse is attached read-only.

SQL lives only in the ``*_SQL`` constants of :mod:`hsinsight.dashboard.queries`. Values
chosen by users (force, CPS Area, offence, period) travel as bound parameters, never
as text in the statement.

Results are cached with ``st.cache_data``, keyed on the statement, its parameters and
a :data:`WarehouseVersion` ``(path, inode, mtime_ns)``. A newly published file has a
new inode and modification time, so every open page shows the new figures on its
next rerun and the old entries age out.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from hsinsight.config import Settings

#: (path, inode, mtime_ns) of a published file: the cache key of everything read from it.
WarehouseVersion = tuple[str, int, int]

#: The run log's file name, in the warehouse's folder.
RUNS_FILE = "runs.duckdb"

#: How every cached read is kept: no spinner, at most this many results.
CACHE_OPTIONS = {"show_spinner": False, "max_entries": 512}


# --------------------------------------------------------------------------- where


def warehouse_path(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The published warehouse the dashboard reads.

    In order: the ``HSINSIGHT_WAREHOUSE`` environment variable; ``--warehouse PATH``
    given after ``--`` on the ``streamlit run`` command line; the project default
    (``Settings.from_env().warehouse``).
    """
    environ = os.environ if environ is None else environ
    if environ.get("HSINSIGHT_WAREHOUSE"):
        return Path(environ["HSINSIGHT_WAREHOUSE"]).expanduser().resolve()
    from_args = _warehouse_argument(list(sys.argv[1:] if argv is None else argv))
    if from_args:
        return Path(from_args).expanduser().resolve()
    return Settings.from_env().warehouse


def _warehouse_argument(args: list[str]) -> str | None:
    # A hand parser rather than argparse: the script's argv may hold anything
    # (under a test runner it is the runner's own), and argparse exits on surprises.
    for i, arg in enumerate(args):
        if arg == "--warehouse" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--warehouse="):
            return arg.split("=", 1)[1]
    return None


def file_version(path: Path) -> WarehouseVersion | None:
    """The cache key for the file now at ``path``, or None when there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (str(path), stat.st_ino, stat.st_mtime_ns)


def warehouse_version(path: Path) -> WarehouseVersion | None:
    """The cache key for the warehouse now at ``path``, or None when nothing is published."""
    return file_version(path)


def runs_path(version: WarehouseVersion) -> Path:
    """Where the pipeline's run log lives: beside the warehouse."""
    return Path(version[0]).parent / RUNS_FILE


# --------------------------------------------------------------------------- how


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_read_only(path: str) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with ``path`` attached read-only under its file stem."""
    con = duckdb.connect(":memory:")
    try:
        alias = _quote_identifier(Path(path).stem)
        con.execute(f"attach ? as {alias} (read_only)", [path])
        con.execute(f"use {alias}")
    except BaseException:
        con.close()
        raise
    return con


@dataclass
class _Batch:
    """Connections shared by the queries of one script run, opened on first use."""

    connections: dict[str, duckdb.DuckDBPyConnection] = field(default_factory=dict)
    uncached: bool = False

    def connection(self, path: str) -> duckdb.DuckDBPyConnection:
        if path not in self.connections:
            self.connections[path] = open_read_only(path)
        return self.connections[path]

    def close(self) -> None:
        for con in self.connections.values():
            with contextlib.suppress(duckdb.Error):
                con.close()
        self.connections.clear()


_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("hsinsight_batch", default=None)


@contextlib.contextmanager
def batch(*, uncached: bool = False) -> Iterator[None]:
    """Share one connection per file between the queries run inside the block.

    Connections open at the first query that needs one and close when the block
    ends, however it ends (``st.stop`` and ``st.rerun`` end it by raising). With
    ``uncached`` every query runs against the file, bypassing the cache.
    """
    current = _BATCH.get()
    if current is not None and current.uncached == uncached:
        yield
        return
    run = _Batch(uncached=uncached)
    token = _BATCH.set(run)
    try:
        yield
    finally:
        _BATCH.reset(token)
        run.close()


def bypassing_cache() -> bool:
    """Whether the current code runs inside ``batch(uncached=True)``, reading every
    query from the file rather than the cache."""
    run = _BATCH.get()
    return run is not None and run.uncached


def _run_sql(path: str, sql: str, params: Mapping[str, object]) -> pd.DataFrame:
    """Run one statement against the file at ``path``."""
    run = _BATCH.get()
    if run is not None:
        return run.connection(path).execute(sql, dict(params)).df()
    con = open_read_only(path)
    try:
        return con.execute(sql, dict(params)).df()
    finally:
        con.close()


@st.cache_data(**CACHE_OPTIONS)
def _cached(version: WarehouseVersion, sql: str, params: tuple[tuple[str, object], ...]) -> pd.DataFrame:
    return _run_sql(version[0], sql, dict(params))


def read(version: WarehouseVersion, sql: str, **params: object) -> pd.DataFrame:
    """The rows of ``sql`` (one of the ``*_SQL`` constants of the queries) with ``params`` bound.

    Cached per file version, unless inside ``batch(uncached=True)``.
    """
    if bypassing_cache():
        return _run_sql(version[0], sql, params)
    return _cached(version, sql, tuple(sorted(params.items())))


def tables_read(sql: str) -> set[str]:
    """The dbt models and seeds a statement reads, as ``schema.name``."""
    return {f"{s}.{t}" for s, t in re.findall(r"\b(marts|staging|reference)\.(\w+)", sql)}


def with_dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with ``columns`` turned into datetimes (in place)."""
    for column in columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def to_date(value: dt.date | pd.Timestamp) -> dt.date:
    """A date or timestamp as a plain date."""
    return pd.Timestamp(value).date()
