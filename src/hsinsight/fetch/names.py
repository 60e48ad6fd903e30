"""Local file names: partial downloads, names made safe from what a server says, the
record of which address each file came from, and the lock held while naming."""

from __future__ import annotations

import contextlib
import email.message
import hashlib
import http.client
import json
import logging
import os
import posixpath
import re
import secrets
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path

from hsinsight.fetch.http import _AttemptFailed

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: no folder lock
    fcntl = None  # type: ignore[assignment]

#: one logger for the whole package, named after it
log = logging.getLogger("hsinsight.fetch")

#: the longest local file name taken from a server, in UTF-8 bytes (file systems allow
#: 255; the partial file's affixes and a disambiguating hash need room too)
MAX_NAME_BYTES = 120
#: partial downloads are named ``.<name>.part-<pid>-<8 hex digits>``
PARTIAL_MARK = ".part-"
_PARTIAL = re.compile(r"^\..+\.part-(\d+)-[0-9a-f]{8}$")
#: which address each downloaded file in a folder came from (hidden: the ingest skips it)
DOWNLOADS_RECORD = ".hsinsight-downloads.json"


def partial_download_pattern() -> str:
    """The glob every partial download matches, in the folder it downloads into.

    A partial file is renamed into place when complete and removed when its attempt
    fails, so one found later was left by a process that died mid-download; its name
    ends with that process's id (:func:`partial_download_pid`).
    """
    return f".*{PARTIAL_MARK}*"


def partial_download_pid(name: str | Path) -> int | None:
    """The id of the process writing a partial download, or None when ``name`` is not one."""
    match = _PARTIAL.match(Path(name).name)
    return int(match.group(1)) if match else None


def _partial_name(name: str) -> str:
    return f".{name}{PARTIAL_MARK}{os.getpid()}-{secrets.token_hex(4)}"


_RESERVED = re.compile(r'[<>:"|?*]')


def _short_hash(text: str, digits: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:digits]


def _split_suffix(name: str) -> tuple[str, str]:
    """``(stem, extension)``; an extension is a dot and up to 10 letters or digits."""
    match = re.search(r"\.[A-Za-z0-9]{1,10}$", name)
    if not match or match.start() == 0:
        return name, ""
    return name[: match.start()], match.group()


def _cap(name: str) -> str:
    """``name`` if it fits in :data:`MAX_NAME_BYTES`, else its start, a hash of the whole
    name (distinct long names stay distinct) and its extension."""
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, suffix = _split_suffix(name)
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8")) - 9
    start = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip(" .-")
    return f"{start}-{_short_hash(name)}{suffix}"


def safe_file_name(candidate: str | None) -> str | None:
    """A plain local file name from a server's ``candidate``, or None when nothing is left.

    Only the last path segment is kept; control characters become spaces and the
    characters Windows reserves (``<>:"|?*``) underscores; runs of spaces are collapsed;
    leading dots (a hidden file) and trailing dots and spaces go; the result is capped at
    :data:`MAX_NAME_BYTES` bytes.
    """
    if not candidate:
        return None
    name = candidate.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch if ch.isprintable() else " " for ch in name)
    name = " ".join(_RESERVED.sub("_", name).split()).strip(". ")
    return _cap(name) if name else None


def _file_name(response: http.client.HTTPResponse, url: str) -> str:
    """The name the server gives (Content-Disposition), else the URL's last path segment."""
    disposition = response.headers.get("Content-Disposition")
    if disposition:
        message = email.message.Message()
        message["Content-Disposition"] = disposition
        with contextlib.suppress(Exception):
            name = safe_file_name(message.get_filename())
            if name:
                return name
    for address in (response.geturl() or url, url):
        parts = urllib.parse.urlsplit(address)
        name = safe_file_name(posixpath.basename(urllib.parse.unquote(parts.path)))
        if name and _split_suffix(name)[1]:
            return name
        # addresses such as /file?uri=/path/to/table.xlsx carry the name in the query
        for _key, value in urllib.parse.parse_qsl(parts.query):
            candidate = safe_file_name(posixpath.basename(value))
            if candidate and _split_suffix(candidate)[1]:
                return candidate
        if name:
            return name
    return "download"


def _address(url: str) -> str:
    return urllib.parse.urldefrag(url.strip())[0]


def _read_record(folder: Path) -> dict[str, str]:
    try:
        document = json.loads((folder / DOWNLOADS_RECORD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring the unreadable download record in %s: %s", folder, exc)
        return {}
    if not isinstance(document, dict):
        return {}
    return {str(k): str(v) for k, v in document.items() if isinstance(v, str)}


def _write_record(folder: Path, record: Mapping[str, str]) -> None:
    partial = folder / _partial_name(DOWNLOADS_RECORD.lstrip("."))
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(dict(sorted(record.items())), handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, folder / DOWNLOADS_RECORD)
    finally:
        partial.unlink(missing_ok=True)


def _claim(name: str, url: str, record: Mapping[str, str]) -> str:
    """The local name for ``url``'s file: the server's ``name`` unless the record says a
    file of that name came from another address, then the name with a hash of ``url``."""
    if record.get(name) in (None, url):
        return name
    stem, suffix = _split_suffix(name)
    for digits in (12, 24, 64):
        candidate = f"{stem}-{_short_hash(url, digits)}{suffix}"
        if record.get(candidate) in (None, url):
            return candidate
    raise _AttemptFailed(f"no free local name for {name}", retryable=False)  # pragma: no cover


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (naming and renaming are one step per process)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
