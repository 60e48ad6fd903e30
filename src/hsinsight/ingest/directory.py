"""Ingesting a raw folder: every file, one table at a time, with its report.

Each table is loaded, checked and recorded in its own transaction; a file already
loaded (same SHA-256) is found unchanged; every decision goes to ``raw._ingest_log``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hsinsight.config import Settings
from hsinsight.errors import InputFileError
from hsinsight.ingest.keys import _check_rolling_totals
from hsinsight.ingest.load import _load_rows, _this_table
from hsinsight.ingest.quarantine import _refuse
from hsinsight.ingest.recognition import recognition_key
from hsinsight.ingest.reference import prepare_raw
from hsinsight.ingest.releases import _check_same_run, _replace_release
from hsinsight.ingest.sql import _quote
from hsinsight.ingest.tables import Table, discover, tables_in
from hsinsight.ingest.text import file_sha256
from hsinsight.ingest.validate import _validate
from hsinsight.raw import INGEST_LOG_TABLE, MANIFEST_TABLE, copy_raw_layer
from hsinsight.sources import LAYOUTS
from hsinsight.sources.base import Layout

log = logging.getLogger(__name__)


#: DuckDB's memory while ingesting (its default is 80% of the machine's). Loading and
#: checking a file of millions of rows streams through it; whatever does not fit
#: spills to the build folder, so memory stays flat however big the release.
MEMORY_LIMIT = "1GB"


@dataclass
class FileResult:
    """What ingest did with one file (or one table of it)."""

    file: str
    sheet: str | None
    source: str
    layout: str
    rows: int
    synthetic: bool
    action: str  # "loaded" or "unchanged"
    periods: list[str] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def ingest_directory(
    raw_dir: Path,
    build_db: Path,
    cfg: Settings,
    previous: Path | None = None,
    sources: Collection[str] | None = None,
    recognised: MutableMapping[str, list[str]] | None = None,
) -> dict:
    """Ingest every data file in ``raw_dir`` (a folder or one file) into ``build_db``.

    ``previous`` is the published warehouse whose raw layer the build starts from
    (None for a fresh start). With ``sources`` (source ids), only the tables of those
    sources are loaded and only their rows are taken from ``previous``: files of other
    sources are recognised by their header and left alone. ``recognised`` (see
    :func:`recognition_key`) remembers, per file content, the sources whose tables the
    file holds: a file it names as holding none of ``sources`` is not read again, and
    every file read is added to it. Returns a report: the files loaded or found unchanged,
    the files skipped, whether any data is synthetic and what each release revised.
    A refused file is copied to ``cfg.quarantine_dir`` and the error re-raised.
    """
    from hsinsight.publish import pause_point

    files, skipped = discover(Path(raw_dir))
    workdir = build_db.parent / "ingest-work"
    workdir.mkdir(parents=True, exist_ok=True)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    report: dict = {
        "files": [],
        "skipped": [p.name for p in skipped],
        "synthetic": False,
        "changes": [],
        "notes": [],
    }
    con = duckdb.connect(str(build_db))
    try:
        con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
        con.execute("set enable_progress_bar = false")  # ingest reports through its log
        prepare_raw(con, cfg)
        if previous is not None and Path(previous).is_file():
            copy_raw_layer(con, Path(previous), sources)
        known = {r[0] for r in con.execute(f"select sha256 from raw.{MANIFEST_TABLE}").fetchall()}
        touched: set[Layout] = set()
        for path in files:
            try:
                results = _ingest_file(con, path, workdir, loaded_at, known, touched, sources, recognised)
            except InputFileError as exc:
                _refuse(path, exc, cfg)
                raise
            pause_point("ingest")  # a test hook, inert unless asked for
            for result in results:
                report["files"].append(result.as_dict())
                report["synthetic"] = report["synthetic"] or result.synthetic
                report["changes"].extend({"file": result.file, **c} for c in result.changes)
        for layout in sorted(touched, key=lambda t: t.layout):
            try:
                notes = _check_rolling_totals(con, layout, loaded_at)
            except InputFileError as exc:
                _refuse(next((p for p in files if p.name == exc.file), Path(exc.file)), exc, cfg)
                raise
            for note in notes:
                _log(con, None, None, layout.source, "noted", 0, note, loaded_at)
        # Sheets and members not loaded, and what ingest kept but noticed, this run.
        report["notes"] = [
            {"file": f, "source": src, "action": a, "detail": d}
            for f, src, a, d in con.execute(
                f"select file_name, string_agg(distinct source, ', ' order by source), action, detail "
                f"from raw.{INGEST_LOG_TABLE} where logged_at = ? and action in ('not_used', 'noted') "
                "group by file_name, action, detail order by min(rowid)",
                [loaded_at],
            ).fetchall()
        ]
        # The synthetic flag covers every row the warehouse holds, not only this run's.
        report["synthetic"] = holds_synthetic_rows(con)
        for (name,) in con.execute("select table_name from duckdb_tables() where temporary").fetchall():
            con.execute(f"drop table if exists temp.{_quote(name)}")
        con.execute("checkpoint")
    finally:
        con.close()
    return report


def _log(con, file_name, sha256, source, action: str, rows: int, detail: str | None, loaded_at) -> None:
    con.execute(
        f"insert into raw.{INGEST_LOG_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
        [file_name, sha256, source, action, rows, detail, loaded_at],
    )


def holds_synthetic_rows(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any row in the raw layer (this run's or an earlier one's) came from a synthetic file."""
    in_use = " union ".join(
        f"select distinct _sha256 from raw.{table}"
        for table in sorted({layout.raw_table for layout in LAYOUTS})
    )
    found = con.execute(
        f"select count(*) from raw.{MANIFEST_TABLE} where is_synthetic and sha256 in ({in_use})"
    ).fetchone()[0]
    return found > 0


def _ingest_file(
    con, path, workdir, loaded_at, known, touched, sources=None, recognised=None
) -> list[FileResult]:
    sha256 = file_sha256(path)
    if sources is not None and recognised is not None and sha256 not in known:
        holds = recognised.get(recognition_key(sha256))
        if holds is not None and not set(holds) & set(sources):
            # read before (by another source's ingest): it holds none of these sources' tables
            log.info("skipped %s: its tables belong to %s", path.name, ", ".join(holds) or "no source")
            return []
    if sha256 in known:
        row = con.execute(
            f"select source, layout, bool_or(is_synthetic) from raw.{MANIFEST_TABLE} where sha256 = ? "
            "group by all limit 1",
            [sha256],
        ).fetchone()
        con.execute(
            f"insert into raw.{INGEST_LOG_TABLE} values (?, ?, ?, 'unchanged', 0, ?, ?)",
            [path.name, sha256, row[0], "already loaded: same SHA-256", loaded_at],
        )
        log.info("unchanged %s: already loaded", path.name)
        return [FileResult(path.name, None, row[0], row[1], 0, bool(row[2]), "unchanged")]
    results = []
    not_used: list[tuple[str, str]] = []
    tables = tables_in(path, workdir, not_used)
    if recognised is not None:
        recognised[recognition_key(sha256)] = sorted({t.layout.source for t in tables})
    # a sheet that is not used is logged against the sources of the file's tables
    # (every source's store keeps the whole story of the files it read)
    file_sources = sorted({t.layout.source for t in tables if sources is None or t.layout.source in sources})
    for sheet, why in not_used:
        for source in file_sources:
            _log(con, path.name, sha256, source, "not_used", 0, f"{sheet}: {why}", loaded_at)
    for table in tables:
        if sources is not None and table.layout.source not in sources:
            continue  # another source's table: its own ingest loads it
        # One transaction per table: a table refused half way leaves nothing behind.
        con.execute("begin transaction")
        try:
            result = _ingest_table(con, path, table, sha256, loaded_at, workdir)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        touched.add(table.layout)
        results.append(result)
        log.info("loaded %s (%s): %d rows", path.name, table.layout.layout, result.rows)
    known.add(sha256)
    return results


def _drop_footnotes(con, table: Table, this: str) -> int:
    """Delete the rows under the table that are footnotes ("Source: ...", "1. ...": the
    layout's ``footer_after`` column is empty from there to the end); note how many."""
    column = table.layout.footer_after
    if column is None or column not in table.positions:
        return 0
    raw = f"raw.{table.layout.raw_table}"
    filled = f"coalesce(trim({_quote(column)}), '') <> ''"
    last = con.execute(f"select max(_row_number) from {raw} where {this} and {filled}").fetchone()[0]
    if last is None:
        return 0
    footer = f"{this} and _row_number > {int(last)}"
    lines = con.execute(f"select count(distinct _row_number), count(*) from {raw} where {footer}").fetchone()
    if lines[1]:
        con.execute(f"delete from {raw} where {footer}")
        table.notes.append(
            f"{lines[0]} footnote row{'s' if lines[0] > 1 else ''} under the table not loaded as data"
        )
    return int(lines[1])


def _ingest_table(
    con, path: Path, table: Table, sha256: str, loaded_at: datetime, workdir: Path
) -> FileResult:
    """Load, check and record one table of ``path`` (in the open transaction)."""
    layout = table.layout
    rows = _load_rows(con, table, sha256, loaded_at, workdir)
    if rows == 0:
        raise InputFileError(
            table.file,
            "has a header row but no data rows below it; expected at least one data row",
            row=table.header_row + 1,
            sheet=table.sheet,
        )
    this = _this_table(table, sha256, loaded_at)
    rows -= _drop_footnotes(con, table, this)
    _validate(con, table, this)
    _check_same_run(con, table, loaded_at, this)
    periods, changes = _replace_release(con, table, sha256, loaded_at, this)
    con.execute(
        f"insert into raw.{MANIFEST_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            path.name,
            str(path.resolve()),
            table.sheet,
            layout.source,
            layout.layout,
            sha256,
            path.stat().st_size,
            rows,
            table.header_row,
            table.is_synthetic,
            "\n".join(table.preamble) or None,
            loaded_at,
            ", ".join(periods),
        ],
    )
    detail = "; ".join(
        f"{c['period']}: replaced {c['previous_file']} (+{c['rows_added']} -{c['rows_removed']} "
        f"~{c['rows_revised']} rows)"
        for c in changes
    )
    where = f"sheet {table.sheet!r}: " if table.sheet else ""
    _log(
        con, path.name, sha256, layout.source, "loaded", rows, (where + detail) if detail else None, loaded_at
    )
    for note in table.notes:
        _log(con, path.name, sha256, layout.source, "noted", 0, where + note, loaded_at)
    return FileResult(
        path.name,
        table.sheet,
        layout.source,
        layout.layout,
        rows,
        table.is_synthetic,
        "loaded",
        periods,
        changes,
    )
