"""Reading a raw file as text: its digest, its encoding, its first rows and its cells.

A CSV file is loaded as UTF-8: a byte-order mark is dropped and a file that is not
valid UTF-8 is copied as Windows-1252 text. Workbook cells are written as the text a
CSV export would hold.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from pathlib import Path

from hsinsight.errors import InputFileError
from hsinsight.limits import Limits

#: How much of a file is read to tell its encoding before the whole file is.
UTF8_HEAD_BYTES = 1 << 16


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: The digests this process worked out, by file and the file's state (see ``file_sha256``).
_DIGESTS: dict[tuple, str] = {}


def file_sha256(path: Path) -> str:
    """``sha256_of(path)``, worked out once per process for a file as it stands.

    Every source's ingest looks at every file of the raw folder, and each needs the
    file's digest (to know it, or to skip it as another source's): when the ingests run
    in one process (``hsinsight run --orchestrator airflow`` runs every DAG in one), the
    national data's 1.3 GB were read ten times over. The digest is kept against the
    file's device, inode, size and modification and change times (nanoseconds): a file
    written since, by any means, is read again.
    """
    state = Path(path).stat()
    key = (
        str(Path(path).resolve()),
        state.st_dev,
        state.st_ino,
        state.st_size,
        state.st_mtime_ns,
        state.st_ctime_ns,
    )
    found = _DIGESTS.get(key)
    if found is None:
        found = _DIGESTS[key] = sha256_of(path)
    return found


def _utf8_copy(
    path: Path,
    workdir: Path,
    shown: Path | None = None,
    sheet: str | None = None,
    *,
    whole_file: bool = True,
) -> Path:
    """The file itself when it is plain UTF-8; otherwise a UTF-8 copy in ``workdir``.

    A UTF-8 byte-order mark is dropped and a file that is not valid UTF-8 is read as
    Windows-1252 (the encoding of CSV files saved from Excel on Windows). A file
    with NUL bytes (UTF-16, or not text at all) is refused.

    With ``whole_file=False`` only the first ``UTF8_HEAD_BYTES`` are decoded: a file
    without a byte-order mark whose head is UTF-8 is returned as it is, and whoever
    reads it must check the rest (``_load_rows`` does, and comes back here if it is
    not).
    """
    shown = shown or path
    with open(path, "rb") as handle:
        head = handle.read(UTF8_HEAD_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise InputFileError(
            shown,
            "is not a text file in a supported encoding (it holds NUL bytes, as UTF-16 or binary files do); "
            "expected a CSV file saved as UTF-8 or Windows-1252",
            row=1,
            sheet=sheet,
        )
    has_bom = head.startswith(codecs.BOM_UTF8)
    if not whole_file and not has_bom:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head)  # a character cut at the end is fine
        except UnicodeDecodeError:
            pass  # decide on the whole file
        else:
            return path
    encoding = "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        encoding = "cp1252"
    if encoding == "utf-8-sig" and not has_bom:
        return path
    target = workdir / f"{path.stem}.{abs(hash(str(shown))) % 10**8}.utf8.csv"
    try:
        with (
            open(path, encoding=encoding, newline="") as src,
            open(target, "w", encoding="utf-8", newline="") as dst,
        ):
            for chunk in iter(lambda: src.read(1 << 20), ""):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            shown,
            f"cannot be read as UTF-8 or Windows-1252 text (byte {exc.start}); expected a CSV file",
            sheet=sheet,
        ) from exc
    return target


def _head_rows(
    csv_path: Path,
    limit: int,
    bounds: Limits | None = None,
    shown: Path | None = None,
    sheet: str | None = None,
) -> list[list[str]]:
    """The first ``limit`` rows of a UTF-8 CSV file, each line read no further than the
    limit ``csv_line_length`` and each row no wider than ``csv_columns`` (a refusal
    naming ``shown``, the row and the limit otherwise)."""
    bounds = bounds or Limits.from_env()
    shown = shown or csv_path
    rows: list[list[str]] = []
    line_number = 0

    def lines(handle):
        nonlocal line_number
        while True:
            line = handle.readline(bounds.csv_line_length + 1)
            if not line:
                return
            line_number += 1
            if len(line) > bounds.csv_line_length and not line.endswith(("\n", "\r")):
                raise InputFileError(
                    shown,
                    bounds.breach("csv_line_length", len(line), "the line's length in characters, at least"),
                    row=line_number,
                    sheet=sheet,
                )
            yield line

    with open(csv_path, encoding="utf-8", newline="") as handle:
        for row in csv.reader(lines(handle)):
            if len(row) > bounds.csv_columns:
                raise InputFileError(
                    shown,
                    bounds.breach("csv_columns", len(row), "the row's number of columns"),
                    row=line_number,
                    sheet=sheet,
                )
            rows.append(row)
            if len(rows) >= limit:
                break
    return rows


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export would hold (12.0 -> '12')."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN: an empty cell
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)
