"""Load the official files into the warehouse's ``raw`` schema, losing nothing.

Files are recognised by their header row (searched for in the first rows of a CSV
file, of each workbook sheet and of each CSV inside a zip archive), never by their
names. Values land exactly as they are written, as text, under canonical column
names, with the file name, its SHA-256, the load time and the row number beside them.

The raw layer is cumulative: a build starts from the raw tables of the published
warehouse, so

* a file already loaded (same SHA-256) is not loaded again (``unchanged``);
* a new release covering a period already loaded (a financial year, a calendar
  year ...) replaces that period's rows, and what it changed (rows added, removed,
  counts revised) is recorded in ``raw._release_changes`` and ``raw._revised_cells``;
* every file is listed in the manifest ``raw._files`` and every decision in
  ``raw._ingest_log``.

A file that cannot be accepted stops the run with an
:class:`~hsinsight.errors.InputFileError` naming the file, the row and the column and
saying what was expected. The refused file is copied (never moved) to the quarantine
folder with the reason beside it; the build is discarded by the caller, so the
published warehouse is untouched.

The modules of this package, in the order a file goes through them:

* ``text`` -- a file's digest, its encoding (UTF-8 or Windows-1252), its first rows
  and the text of workbook cells;
* ``recognition`` -- finding the header row and the layout it belongs to, the values
  taken from title rows and header cells, and the key a file's recognition is kept under;
* ``tables`` -- the data files of a raw folder and the tables in each (CSV files,
  workbook sheets, zip members), as :class:`Table` records;
* ``reference`` -- the raw tables and the seed lookups the checks use;
* ``load`` -- inserting a table's rows into its raw table (DuckDB's CSV reader, or
  Arrow's for a big file);
* ``sql`` -- SQL pieces shared by the checks (quoting, counts, suppression markers);
* ``validate`` -- the checks of a loaded table's cells;
* ``keys`` -- row keys and periods: duplicate rows and rolling totals;
* ``releases`` -- a new release replacing the rows of earlier ones, and what it revised;
* ``quarantine`` -- copies of refused files with their reasons;
* ``directory`` -- ingesting a raw folder, file by file and table by table.

The raw schema itself (table names, lineage columns, copying a raw layer) and the raw
stores kept between runs are in :mod:`hsinsight.raw`.

The names other modules use are importable from here.
"""

from __future__ import annotations

from hsinsight.ingest.directory import (
    MEMORY_LIMIT,
    FileResult,
    holds_synthetic_rows,
    ingest_directory,
)
from hsinsight.ingest.load import ARROW_BLOCK_SIZE, ARROW_MIN_BYTES, _ArrowUnreadable, _insert_with_arrow
from hsinsight.ingest.quarantine import QUARANTINE_LOCK, QUARANTINE_REASON_SUFFIX, quarantine
from hsinsight.ingest.recognition import HEADER_SEARCH_ROWS, LAYOUTS_FINGERPRINT, recognise, recognition_key
from hsinsight.ingest.reference import prepare_raw
from hsinsight.ingest.tables import DATA_SUFFIXES, TABLE_SUFFIXES, NotUsedTable, Table, discover, tables_in
from hsinsight.ingest.text import UTF8_HEAD_BYTES, _cell_text, _head_rows, sha256_of
from hsinsight.raw import (
    BOOKKEEPING_TABLES,
    INGEST_LOG_TABLE,
    LINEAGE_COLUMNS,
    MANIFEST_TABLE,
    RELEASE_CHANGES_TABLE,
    REVISED_CELLS_TABLE,
    copy_raw_layer,
)

__all__ = [
    "ARROW_BLOCK_SIZE",
    "ARROW_MIN_BYTES",
    "BOOKKEEPING_TABLES",
    "DATA_SUFFIXES",
    "HEADER_SEARCH_ROWS",
    "INGEST_LOG_TABLE",
    "LAYOUTS_FINGERPRINT",
    "LINEAGE_COLUMNS",
    "MANIFEST_TABLE",
    "MEMORY_LIMIT",
    "QUARANTINE_LOCK",
    "QUARANTINE_REASON_SUFFIX",
    "RELEASE_CHANGES_TABLE",
    "REVISED_CELLS_TABLE",
    "TABLE_SUFFIXES",
    "UTF8_HEAD_BYTES",
    "FileResult",
    "NotUsedTable",
    "Table",
    "_ArrowUnreadable",
    "_cell_text",
    "_head_rows",
    "_insert_with_arrow",
    "copy_raw_layer",
    "discover",
    "holds_synthetic_rows",
    "ingest_directory",
    "prepare_raw",
    "quarantine",
    "recognise",
    "recognition_key",
    "sha256_of",
    "tables_in",
]
