"""Find and download the official files named by the sources registry, carefully.

The registry (``sources/registry.yml``, read by :mod:`hsinsight.sources.registry`)
lists every source the platform ingests: publisher, landing page, licence, release
cadence, file formats, the layouts its files have, and how the files are found. Publishers re-issue their files at a new address with each release
(the Home Office puts every file under a fresh ``/media/<hash>/`` path with the
release date in its name), so an entry names its landing page and a regular
expression for the text of the link to the file, rather than a guessed address. A
source whose file cannot be found by a machine (figures from an FOI reply, survey
tables transcribed into the platform's layout) says so in ``notes`` and is supplied
as a local file.

Downloads are all or nothing: the body streams to a hidden partial file beside the
destination (``.<name>.part-<pid>-<random>``, see :func:`partial_download_pattern`),
its length is checked against ``Content-Length``, and only a complete file is renamed
into place (atomically, on the same file system). What a download accepts:

* at most ``HSINSIGHT_DOWNLOAD_MAX_BYTES`` (an announced larger size is refused before
  the body is read);
* a whole download, every attempt included, within ``HSINSIGHT_DOWNLOAD_DEADLINE``
  seconds, besides the per-read timeout (a server that trickles bytes cannot hold it
  open for ever);
* redirects only over HTTPS and only to the host first asked (``http://host`` to
  ``https://host`` included); a redirect anywhere else is refused;
* content of the type its name (or the source's formats) says: a spreadsheet or zip
  starts as a zip archive does, an ODS names its mimetype first, a PDF starts with
  ``%PDF-``, a CSV is text; an HTML page (a cookie, sign-in or error page served in
  place of the file) is always refused.

The local name is the server's (``Content-Disposition``, else the address), made safe:
no folders, not hidden, no control or reserved characters, at most
:data:`MAX_NAME_BYTES` bytes (a longer name keeps its extension and ends with a short
hash of itself). A hidden record in the folder (:data:`DOWNLOADS_RECORD`) remembers
which address each file came from, so a second address whose server gives the same
name gets ``<stem>-<hash of its address><extension>`` instead of replacing the first
file, while the same address downloaded again replaces its own file.

A dropped connection, a short body, a timeout, HTTP 5xx and 429 are retried with
exponential backoff; nothing else is. Every failure is a :class:`DownloadError` naming
the URL, the bytes received and expected and the attempts made, whose ``retryable``
says whether another try later may succeed; no partial file is left behind.

Environment variables:

``HSINSIGHT_SOURCES_REGISTRY``
    path of the registry to use instead of the bundled one;
``HSINSIGHT_DOWNLOAD_TIMEOUT``, ``HSINSIGHT_DOWNLOAD_RETRIES``, ``HSINSIGHT_DOWNLOAD_BACKOFF``
    defaults for seconds without data before a connection counts as stalled, retries
    after the first attempt, and the first retry's delay in seconds (doubled at each
    further retry);
``HSINSIGHT_DOWNLOAD_MAX_BYTES``, ``HSINSIGHT_DOWNLOAD_DEADLINE``
    the largest file accepted (default 200 MiB) and the seconds one download may take
    in all (default 1,800).
"""

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
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

from hsinsight.sources.registry import (
    FetchError,
    Source,
    is_url,
    load_registry,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: no folder lock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

TIMEOUT_ENV = "HSINSIGHT_DOWNLOAD_TIMEOUT"
RETRIES_ENV = "HSINSIGHT_DOWNLOAD_RETRIES"
BACKOFF_ENV = "HSINSIGHT_DOWNLOAD_BACKOFF"
MAX_BYTES_ENV = "HSINSIGHT_DOWNLOAD_MAX_BYTES"
DEADLINE_ENV = "HSINSIGHT_DOWNLOAD_DEADLINE"

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 2.0
#: the largest official file is a few megabytes: this leaves ample room
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
#: seconds one download may take, every attempt and wait included
DEFAULT_DEADLINE = 1800.0
#: a server's Retry-After is honoured up to this many seconds
MAX_RETRY_AFTER = 60.0
#: a landing page larger than this is not an HTML page worth parsing
MAX_PAGE_BYTES = 20 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
USER_AGENT = "hsinsight (official statistics downloader; Python urllib)"
#: the longest local file name taken from a server, in UTF-8 bytes (file systems allow
#: 255; the partial file's affixes and a disambiguating hash need room too)
MAX_NAME_BYTES = 120
#: partial downloads are named ``.<name>.part-<pid>-<8 hex digits>``
PARTIAL_MARK = ".part-"
_PARTIAL = re.compile(r"^\..+\.part-(\d+)-[0-9a-f]{8}$")
#: which address each downloaded file in a folder came from (hidden: the ingest skips it)
DOWNLOADS_RECORD = ".hsinsight-downloads.json"
#: bytes of a body looked at to tell what it is
SNIFF_BYTES = 1024


class DownloadError(FetchError):
    """Every attempt to download a URL failed; nothing was written."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        received: int = 0,
        expected: int | None = None,
        attempts: int = 1,
        retryable: bool = False,
    ) -> None:
        self.url = url
        #: whether the last failure was a network problem another attempt may get past
        #: (a dropped connection, a timeout, a 5xx or 429), rather than a refusal
        self.retryable = retryable
        self.reason = reason
        self.received = received
        self.expected = expected
        self.attempts = attempts
        if expected is None:
            size = f"received {received:,} bytes; the server did not announce the size"
        else:
            size = f"received {received:,} of {expected:,} bytes"
        if attempts == 0:
            super().__init__(f"cannot download {url}: {reason}")
            return
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"could not download {url}: {reason} ({size}; gave up after {tries})")


class LinkNotFoundError(FetchError):
    """No link on a landing page has the expected text."""


class NotDownloadableError(FetchError):
    """The registry knows no way to download a source's file: it must be supplied locally."""


# --------------------------------------------------------------------------- downloading


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


def _env_number(name: str, default: float, kind: type) -> float:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = kind(value.strip())
    except ValueError:
        number = -1
    if number < 0:
        raise FetchError(f"{name} must be a {'whole ' if kind is int else ''}number >= 0, got {value!r}")
    return number


@dataclass(frozen=True)
class _Policy:
    """How one download behaves: see :func:`download`."""

    timeout: float
    retries: int
    backoff: float
    max_bytes: int
    deadline: float


def _policy(
    timeout: float | None,
    retries: int | None,
    backoff: float | None,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> _Policy:
    timeout = _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT, float) if timeout is None else timeout
    retries = int(_env_number(RETRIES_ENV, DEFAULT_RETRIES, int)) if retries is None else retries
    backoff = _env_number(BACKOFF_ENV, DEFAULT_BACKOFF, float) if backoff is None else backoff
    max_bytes = int(_env_number(MAX_BYTES_ENV, DEFAULT_MAX_BYTES, int)) if max_bytes is None else max_bytes
    deadline = _env_number(DEADLINE_ENV, DEFAULT_DEADLINE, float) if deadline is None else deadline
    if timeout <= 0 or retries < 0 or backoff < 0 or max_bytes <= 0 or deadline <= 0:
        raise FetchError(
            f"bad download settings: timeout {timeout}, retries {retries}, backoff {backoff}, "
            f"largest file {max_bytes} bytes, deadline {deadline} s"
        )
    return _Policy(timeout, retries, backoff, max_bytes, deadline)


class _AttemptFailed(Exception):
    """One attempt failed; ``retryable`` says whether another attempt may succeed."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        received: int = 0,
        expected: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.received = received
        self.expected = expected
        self.retry_after = retry_after


T = TypeVar("T")


def _with_retries(url: str, attempt_once: Callable[[], T], policy: _Policy, ends: float) -> T:
    """Run ``attempt_once`` until it succeeds, a failure is not retryable, retries run
    out, or the next attempt could not start before ``ends`` (a monotonic time)."""
    attempts = policy.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return attempt_once()
        except _AttemptFailed as failure:
            delay = policy.backoff * 2 ** (attempt - 1)
            if failure.retryable and failure.retry_after is not None:
                delay = max(delay, min(failure.retry_after, MAX_RETRY_AFTER))
            out_of_time = time.monotonic() + delay >= ends
            if not failure.retryable or attempt == attempts or out_of_time:
                reason = failure.reason
                if failure.retryable and attempt < attempts and out_of_time:
                    reason += (
                        f"; no time left for another attempt within the {policy.deadline:g}-second deadline"
                    )
                raise DownloadError(
                    url,
                    reason,
                    received=failure.received,
                    expected=failure.expected,
                    attempts=attempt,
                    retryable=failure.retryable,
                ) from failure
            log.warning(
                "download of %s failed (%s); attempt %d of %d in %.1f s",
                url,
                failure.reason,
                attempt + 1,
                attempts,
                delay,
            )
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


def redirect_problem(origin: str, target: str) -> str | None:
    """Why a redirect from a download of ``origin`` to ``target`` is refused, or None.

    Only HTTPS addresses on the host first asked are followed: an ``http://`` address
    may move to ``https://`` on the same host, and nothing may move to another host, to
    plain HTTP or to another scheme.
    """
    source = urllib.parse.urlsplit(origin)
    goal = urllib.parse.urlsplit(target)
    if goal.scheme.lower() != "https":
        return "redirects are followed only to https addresses"
    if (goal.hostname or "") != (source.hostname or ""):
        return f"redirects are followed only within {source.hostname}"
    return None


class _SameSiteRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only when :func:`redirect_problem` finds nothing wrong with it."""

    def __init__(self, origin: str) -> None:
        super().__init__()
        self.origin = origin

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        problem = redirect_problem(self.origin, newurl)
        if problem:
            fp.close()
            raise _AttemptFailed(
                f"refused to follow the redirect (HTTP {code}) from {req.full_url} to {newurl}: {problem}",
                retryable=False,
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _open(url: str, timeout: float, ends: float) -> http.client.HTTPResponse:
    remaining = ends - time.monotonic()
    if remaining <= 0:
        raise _AttemptFailed("the deadline passed before the server could be asked", retryable=True)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    opener = urllib.request.build_opener(_SameSiteRedirects(url))
    try:
        return opener.open(request, timeout=min(timeout, remaining))
    except urllib.error.HTTPError as exc:
        with contextlib.closing(exc):
            retryable = exc.code >= 500 or exc.code == 429
            raise _AttemptFailed(
                f"HTTP {exc.code} {exc.reason}",
                retryable=retryable,
                retry_after=_retry_after(exc.headers.get("Retry-After")) if exc.headers else None,
            ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            raise _AttemptFailed(
                f"the server's certificate is not trusted: {exc.reason}", retryable=False
            ) from exc
        raise _AttemptFailed(f"could not connect: {_describe(exc.reason)}", retryable=True) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _AttemptFailed(f"no response: {_describe(exc)}", retryable=True) from exc
    except ValueError as exc:  # an address urllib cannot even send
        raise _AttemptFailed(f"not an address that can be downloaded: {exc}", retryable=False) from exc


def _describe(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, http.client.IncompleteRead):
        return "connection closed mid-transfer"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None or "chunked" in (response.headers.get("Transfer-Encoding") or "").lower():
        return None
    try:
        length = int(value.strip())
    except ValueError:
        return None
    return length if length >= 0 else None


def _socket_of(response: http.client.HTTPResponse) -> Any:
    """The socket a response reads from (to bound each read by the deadline), if reachable."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if hasattr(sock, "settimeout") else None


def _stream(
    response: http.client.HTTPResponse,
    write: Callable[[bytes], None],
    *,
    limit: int,
    ends: float,
    deadline: float,
    timeout: float,
) -> tuple[int, int | None]:
    """Copy the body to ``write``.

    A body shorter than announced or still arriving at ``ends`` (a monotonic time) is a
    failed attempt another may get past; one larger than ``limit`` bytes is refused. Each
    read may wait ``timeout`` seconds, and never past ``ends``.
    """
    expected = _content_length(response)
    if expected is not None and expected > limit:
        raise _AttemptFailed(
            f"the server announced {expected:,} bytes, more than the {limit:,}-byte limit ({MAX_BYTES_ENV})",
            retryable=False,
            expected=expected,
        )
    received = 0
    sock = _socket_of(response)
    while True:
        remaining = ends - time.monotonic()
        if remaining <= 0:
            raise _AttemptFailed(
                f"still arriving after the {deadline:g}-second deadline ({DEADLINE_ENV})",
                retryable=True,
                received=received,
                expected=expected,
            )
        try:
            if sock is not None:
                sock.settimeout(min(timeout, remaining))
            # never ask for more than one byte past the limit: an oversized body is
            # recognised without reading (or holding) the rest of it
            chunk = response.read1(min(CHUNK_BYTES, limit - received + 1))
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError) and time.monotonic() >= ends:
                raise _AttemptFailed(
                    f"still arriving after the {deadline:g}-second deadline ({DEADLINE_ENV})",
                    retryable=True,
                    received=received,
                    expected=expected,
                ) from exc
            raise _AttemptFailed(
                f"connection lost: {_describe(exc)}", retryable=True, received=received, expected=expected
            ) from exc
        if not chunk:
            break
        received += len(chunk)
        if received > limit:
            raise _AttemptFailed(
                f"larger than the {limit:,}-byte limit ({MAX_BYTES_ENV})",
                retryable=False,
                received=received,
                expected=expected,
            )
        write(chunk)
    if expected is not None and received != expected:
        raise _AttemptFailed(
            "the connection closed before the whole body arrived",
            retryable=True,
            received=received,
            expected=expected,
        )
    return received, expected


# --------------------------------------------------------------------------- names


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


# --------------------------------------------------------------------------- content


_ZIP = b"PK\x03\x04"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
#: what a file of each type looks like in its first bytes, and the type's name
_SIGNATURES: dict[str, tuple[Callable[[bytes], bool], str]] = {
    "xlsx": (lambda head: head.startswith(_ZIP), "an Excel workbook (a zip archive)"),
    "xlsm": (lambda head: head.startswith(_ZIP), "an Excel workbook (a zip archive)"),
    "zip": (lambda head: head.startswith(_ZIP), "a zip archive"),
    "ods": (
        lambda head: head.startswith(_ZIP) and head[30:38] == b"mimetype" and _ODS_MIMETYPE in head[38:200],
        "an OpenDocument spreadsheet (a zip archive naming its mimetype first)",
    ),
    "xls": (lambda head: head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "an Excel 97-2003 workbook"),
    "pdf": (lambda head: head.startswith(b"%PDF-"), "a PDF"),
    "csv": (lambda head: b"\x00" not in head, "text (CSV)"),
    "txt": (lambda head: b"\x00" not in head, "text"),
}
_HTML_TAGS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<meta", b"<title", b"<div")


def looks_like_html(head: bytes) -> bool:
    """True when the first bytes of a body are an HTML page."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<") and any(tag in text for tag in _HTML_TAGS)


def _expected_types(name: str, formats: Sequence[str]) -> tuple[str, ...]:
    """The types a file may be: its name's extension when known, else the source's formats."""
    suffix = _split_suffix(name)[1].lower().lstrip(".")
    if suffix in _SIGNATURES:
        return (suffix,)
    return tuple(dict.fromkeys(f.lower() for f in formats if f.lower() in _SIGNATURES))


def content_problem(head: bytes, types: Sequence[str]) -> str | None:
    """Why a body starting with ``head`` is not a file of one of ``types``, or None.

    An HTML page is never accepted; with no ``types`` anything else is.
    """
    wanted = " or ".join(dict.fromkeys(_SIGNATURES[t][1] for t in types)) or "a data file"
    if looks_like_html(head):
        return f"the server sent an HTML page (a cookie, sign-in or error page?), not {wanted}"
    if types and not any(_SIGNATURES[t][0](head) for t in types):
        return f"the content is not {wanted}: it starts {head[:12]!r}"
    return None


class _Sniffer:
    """Hold back the first :data:`SNIFF_BYTES` of a body until they show what it is."""

    def __init__(self, types: Sequence[str], url: str, final_url: str) -> None:
        self.types = tuple(types)
        self.where = "" if final_url == url else f" (redirected to {final_url})"
        self.head = bytearray()
        self.decided = False

    def feed(self, chunk: bytes) -> bytes:
        """What may be written now."""
        if self.decided:
            return chunk
        self.head.extend(chunk)
        if len(self.head) < SNIFF_BYTES:
            return b""
        return self._decide()

    def finish(self) -> bytes:
        """The rest, at the end of a body shorter than :data:`SNIFF_BYTES`."""
        return b"" if self.decided else self._decide()

    def _decide(self) -> bytes:
        problem = content_problem(bytes(self.head[:SNIFF_BYTES]), self.types)
        if problem:
            raise _AttemptFailed(problem + self.where, retryable=False, received=len(self.head))
        self.decided = True
        held, self.head = bytes(self.head), bytearray()
        return held


# --------------------------------------------------------------------------- download


def download(
    url: str,
    dest_dir: str | Path,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
    formats: Sequence[str] = (),
    record: bool = True,
) -> Path:
    """Download ``url`` into ``dest_dir`` and return the file's path.

    ``timeout`` is the seconds a connection may stay silent, ``retries`` the attempts
    after the first, ``backoff`` the delay before the first retry (doubled each time),
    ``max_bytes`` the largest file accepted and ``deadline`` the seconds the whole
    download may take; ``None`` takes the environment's or the built-in default.
    ``formats`` (the source's, such as ``("xlsx", "csv")``) say what the content may be
    when the file's name has no known extension. A file of the same name that came from
    the same address is replaced only by a complete download; with ``record`` the folder
    remembers the address of each file, so another address never replaces it.
    """
    if not is_url(url):
        raise DownloadError(url, "only http and https URLs can be downloaded", attempts=0)
    try:
        policy = _policy(timeout, retries, backoff, max_bytes, deadline)
    except FetchError as exc:
        raise DownloadError(url, str(exc), attempts=0) from exc
    ends = time.monotonic() + policy.deadline
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(url, f"cannot create {dest_dir}: {exc.strerror or exc}", attempts=0) from exc
    address = _address(url)

    def attempt_once() -> Path:
        with _open(url, policy.timeout, ends) as response:
            final_url = response.geturl() or url
            name = _file_name(response, url)
            sniffer = _Sniffer(_expected_types(name, formats), url, final_url)
            partial = dest_dir / _partial_name(name)

            def local_failure(action: str, exc: OSError) -> _AttemptFailed:
                return _AttemptFailed(f"could not {action}: {exc.strerror or exc}", retryable=False)

            try:
                try:
                    handle = open(partial, "xb")
                except OSError as exc:
                    raise local_failure(f"write {partial}", exc) from exc
                with handle:

                    def write(chunk: bytes) -> None:
                        if not chunk:
                            return
                        try:
                            handle.write(chunk)
                        except OSError as exc:
                            raise local_failure(f"write {partial}", exc) from exc

                    received, expected = _stream(
                        response,
                        lambda chunk: write(sniffer.feed(chunk)),
                        limit=policy.max_bytes,
                        ends=ends,
                        deadline=policy.deadline,
                        timeout=policy.timeout,
                    )
                    if received == 0:
                        raise _AttemptFailed(
                            "the server sent an empty file", retryable=False, expected=expected
                        )
                    write(sniffer.finish())
                    try:
                        handle.flush()
                        os.fsync(handle.fileno())
                    except OSError as exc:
                        raise local_failure(f"write {partial}", exc) from exc
                try:
                    with _folder_lock(dest_dir):
                        owners = _read_record(dest_dir) if record else {}
                        final = dest_dir / _claim(name, address, owners)
                        os.replace(partial, final)
                        _fsync_folder(dest_dir)
                        if record:
                            _write_record(dest_dir, {**owners, final.name: address})
                except OSError as exc:
                    raise local_failure(f"put the download in place in {dest_dir}", exc) from exc
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        log.info("downloaded %s (%s bytes) to %s", url, f"{received:,}", final)
        return final

    return _with_retries(url, attempt_once, policy, ends)


# --------------------------------------------------------------------------- landing pages


class _LinkCollector(HTMLParser):
    """Every ``<a href>`` on a page with its text (whitespace collapsed), and any ``<base href>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href") or None
        elif tag == "a":
            self._finish()  # an unclosed <a> ends where the next one starts
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish()

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._finish()

    def _finish(self) -> None:
        if self._href is not None and self._href.strip():
            self.links.append((self._href.strip(), " ".join("".join(self._text).split())))
        self._href, self._text = None, []


def _fetch_page(url: str, policy: _Policy) -> tuple[str, str]:
    """The page's text and its final address (after redirects)."""
    ends = time.monotonic() + policy.deadline

    def attempt_once() -> tuple[str, str]:
        body = bytearray()
        with _open(url, policy.timeout, ends) as response:
            _stream(
                response,
                body.extend,
                limit=min(policy.max_bytes, MAX_PAGE_BYTES),
                ends=ends,
                deadline=policy.deadline,
                timeout=policy.timeout,
            )
            charset = response.headers.get_content_charset() or "utf-8"
            final_url = response.geturl() or url
        try:
            return bytes(body).decode(charset, errors="replace"), final_url
        except LookupError:  # an unknown charset name
            return bytes(body).decode("utf-8", errors="replace"), final_url

    return _with_retries(url, attempt_once, policy, ends)


def find_links(
    landing_page_url: str,
    pattern: str | re.Pattern[str],
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    deadline: float | None = None,
) -> list[str]:
    """Absolute http(s) URLs of the links on a page whose text matches ``pattern``.

    A text pattern is searched case-insensitively in each link's text with its
    whitespace collapsed. URLs come in page order, without duplicates or fragments. The
    page is fetched as :func:`download` fetches a file (the same redirects, deadline and
    retries), and may be at most :data:`MAX_PAGE_BYTES`.
    """
    if not is_url(landing_page_url):
        raise DownloadError(
            landing_page_url, "only http and https pages can be searched for links", attempts=0
        )
    try:
        policy = _policy(timeout, retries, backoff, deadline=deadline)
    except FetchError as exc:
        raise DownloadError(landing_page_url, str(exc), attempts=0) from exc
    regex = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
    page, final_url = _fetch_page(landing_page_url, policy)
    parser = _LinkCollector()
    parser.feed(page)
    parser.close()
    base = urllib.parse.urljoin(final_url, parser.base) if parser.base else final_url
    found: list[str] = []
    for href, text in parser.links:
        if not regex.search(text):
            continue
        absolute, _fragment = urllib.parse.urldefrag(urllib.parse.urljoin(base, href))
        if is_url(absolute) and absolute not in found:
            found.append(absolute)
    return found


# --------------------------------------------------------------------------- sources


def _registry(registry: Mapping[str, Source] | str | Path | None) -> Mapping[str, Source]:
    if registry is None or isinstance(registry, str | Path):
        return load_registry(registry)
    return registry


def source_urls(
    source: Source,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    deadline: float | None = None,
) -> list[str]:
    """The file URLs of a source: its direct URLs, else the matching links on its landing page."""
    if source.urls:
        return list(source.urls)
    if source.link_text:
        links = find_links(
            source.landing_page,
            source.link_text,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            deadline=deadline,
        )
        if not links:
            hint = (
                f"; the last known file URL(s): {', '.join(source.last_known_urls)}"
                if source.last_known_urls
                else ""
            )
            raise LinkNotFoundError(
                f"source {source.id}: no link on {source.landing_page} has text matching "
                f"/{source.link_text}/ (the page may have changed){hint}"
            )
        return links[:1] if source.link_select == "first" else links
    raise NotDownloadableError(
        f"source {source.id} has no file that can be downloaded automatically: {source.notes} "
        f"Supply the file locally (hsinsight run --raw DIR)."
    )


def fetch_source(
    source_id: str,
    dest_dir: str | Path,
    registry: Mapping[str, Source] | str | Path | None = None,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> list[Path]:
    """Download every current file of a registered source into ``dest_dir``.

    Each file must be of the type its name says, or else one of the source's formats;
    files whose servers give the same name keep distinct local names.
    """
    sources = _registry(registry)
    if source_id not in sources:
        raise FetchError(f"unknown source {source_id!r}; the registry lists: {', '.join(sources)}")
    source = sources[source_id]
    urls = source_urls(source, timeout=timeout, retries=retries, backoff=backoff, deadline=deadline)
    return [
        download(
            url,
            dest_dir,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_bytes=max_bytes,
            deadline=deadline,
            formats=source.formats,
        )
        for url in urls
    ]


def materialise(
    raw: str,
    workdir: str | Path,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> Path:
    """A local raw file or folder as it is; an http(s) URL downloaded into ``workdir``.

    A local path is returned untouched (never moved, copied or changed); for a URL the
    returned path is ``workdir``, holding the downloaded file and nothing else.
    """
    if not is_url(raw):
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw.strip()):
            raise DownloadError(raw, "only http and https URLs can be downloaded", attempts=0)
        return Path(raw)
    workdir = Path(workdir)
    download(
        raw.strip(),
        workdir,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        max_bytes=max_bytes,
        deadline=deadline,
        record=False,
    )
    return workdir


@contextlib.contextmanager
def download_dir(warehouse: str | Path) -> Iterator[Path]:
    """A temporary folder for downloads, removed afterwards.

    It sits beside the warehouse when that folder exists (same disk as the build),
    else in the system's temporary folder.
    """
    parent = Path(warehouse).resolve().parent
    with tempfile.TemporaryDirectory(
        prefix=".hsinsight-download-", dir=parent if parent.is_dir() else None
    ) as folder:
        yield Path(folder)
