"""Find and download the official files: the sources registry and a careful downloader.

``sources/registry.yml`` lists every source the platform ingests: publisher, landing
page, licence, release cadence, file formats, the layouts its files have, and how the
files are found. Publishers re-issue their files at a new address with each release
(the Home Office puts every file under a fresh ``/media/<hash>/`` path with the
release date in its name), so an entry names its landing page and a regular
expression for the text of the link to the file, rather than a guessed address. A
source whose file cannot be found by a machine (figures from an FOI reply, survey
tables transcribed into the platform's layout) says so in ``notes`` and is supplied
as a local file.

Downloads are all or nothing: the body streams to a hidden partial file beside the
destination, its length is checked against ``Content-Length``, and only a complete
file is renamed into place (atomically, on the same file system). A dropped
connection, a short body or a timeout is retried with exponential backoff, as are
HTTP 5xx and 429 answers; other HTTP errors are not. When every attempt has failed a
:class:`DownloadError` names the URL, the bytes received and expected and the
attempts made, and no partial file is left behind. Partial files start with a dot,
which the ingest skips.

Environment variables:

``HSINSIGHT_SOURCES_REGISTRY``
    path of the registry to use instead of the bundled one;
``HSINSIGHT_DOWNLOAD_TIMEOUT``, ``HSINSIGHT_DOWNLOAD_RETRIES``, ``HSINSIGHT_DOWNLOAD_BACKOFF``
    defaults for seconds without data before a connection counts as stalled, retries
    after the first attempt, and the first retry's delay in seconds (doubled at each
    further retry).
"""

from __future__ import annotations

import contextlib
import email.message
import http.client
import logging
import os
import posixpath
import re
import secrets
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import yaml

from hsinsight.errors import HsinsightError

log = logging.getLogger(__name__)

REGISTRY_ENV = "HSINSIGHT_SOURCES_REGISTRY"
TIMEOUT_ENV = "HSINSIGHT_DOWNLOAD_TIMEOUT"
RETRIES_ENV = "HSINSIGHT_DOWNLOAD_RETRIES"
BACKOFF_ENV = "HSINSIGHT_DOWNLOAD_BACKOFF"
DEFAULT_REGISTRY = Path(__file__).resolve().parent / "sources" / "registry.yml"

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 2.0
#: a server's Retry-After is honoured up to this many seconds
MAX_RETRY_AFTER = 60.0
#: a landing page larger than this is not an HTML page worth parsing
MAX_PAGE_BYTES = 20 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
USER_AGENT = "hsinsight (official statistics downloader; Python urllib)"
PARTIAL_SUFFIX = ".part"

#: every field an entry may have; the first group is required
REQUIRED_FIELDS = ("id", "title", "publisher", "landing_page", "licence", "cadence", "formats", "layouts")
OPTIONAL_FIELDS = ("schedule", "link_text", "link_select", "urls", "last_known_urls", "see_also", "notes")
LINK_SELECT_CHOICES = ("all", "first")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class FetchError(HsinsightError):
    """A source could not be found or downloaded."""


class RegistryError(FetchError):
    """The sources registry is missing or malformed."""


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


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Source:
    """One entry of the sources registry."""

    id: str
    title: str
    publisher: str
    landing_page: str
    licence: str
    cadence: str
    formats: tuple[str, ...]
    layouts: tuple[str, ...]
    #: regular expression searched (case-insensitively) in the text of the links on
    #: the landing page
    link_text: str | None = None
    #: ``all`` matching links, or only the ``first`` one on the page
    link_select: str = "all"
    #: stable file addresses, downloaded as they are
    urls: tuple[str, ...] = ()
    #: file addresses seen at the last check: a record and a hint, never fetched
    #: automatically because a newer release lives elsewhere
    last_known_urls: tuple[str, ...] = ()
    see_also: tuple[str, ...] = ()
    notes: str | None = None
    #: when the source's ingest DAG runs: a five-field cron expression matching the
    #: publisher's release cadence
    schedule: str | None = None

    @property
    def downloadable(self) -> bool:
        return bool(self.urls or self.link_text)

    @property
    def how_found(self) -> str:
        if self.urls:
            return f"{len(self.urls)} direct URL(s)"
        if self.link_text:
            which = "the first link" if self.link_select == "first" else "every link"
            return f"{which} on the landing page whose text matches /{self.link_text}/"
        return "not downloadable: supply the file locally"


def registry_path(path: str | Path | None = None) -> Path:
    """The registry file: ``path``, else ``$HSINSIGHT_SOURCES_REGISTRY``, else the bundled one."""
    if path:
        return Path(path)
    env = os.environ.get(REGISTRY_ENV)
    return Path(env) if env else DEFAULT_REGISTRY


def load_registry(path: str | Path | None = None) -> dict[str, Source]:
    """Read and validate the registry; sources by id, in file order."""
    file = registry_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"sources registry {file}: cannot be read: {exc.strerror or exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(f"sources registry {file}: not valid YAML: {exc}") from exc
    return parse_registry(document, file)


def parse_registry(document: Any, origin: str | Path = "<registry>") -> dict[str, Source]:
    """Validate a loaded registry document; every problem names the entry and the field."""
    if not isinstance(document, Mapping) or not isinstance(document.get("sources"), list):
        raise RegistryError(f"sources registry {origin}: expected a mapping with a 'sources' list")
    sources: dict[str, Source] = {}
    for index, entry in enumerate(document["sources"], start=1):
        source = _parse_entry(entry, f"sources registry {origin}: entry {index}")
        if source.id in sources:
            raise RegistryError(
                f"sources registry {origin}: entry {index} ({source.id}): field 'id': "
                f"{source.id!r} is already used by an earlier entry"
            )
        sources[source.id] = source
    if not sources:
        raise RegistryError(f"sources registry {origin}: the 'sources' list is empty")
    return sources


def _parse_entry(entry: Any, where: str) -> Source:
    if not isinstance(entry, Mapping):
        raise RegistryError(f"{where}: expected a mapping of fields, got {type(entry).__name__}")
    raw_id = entry.get("id")
    if isinstance(raw_id, str) and raw_id:
        where = f"{where} ({raw_id})"

    def fail(field_name: str, problem: str) -> RegistryError:
        return RegistryError(f"{where}: field {field_name!r}: {problem}")

    unknown = sorted(str(k) for k in entry if k not in REQUIRED_FIELDS + OPTIONAL_FIELDS)
    if unknown:
        raise fail(unknown[0], f"unknown field (allowed: {', '.join(REQUIRED_FIELDS + OPTIONAL_FIELDS)})")
    for name in REQUIRED_FIELDS:
        if name not in entry or entry[name] is None or entry[name] == "" or entry[name] == []:
            raise fail(name, "required and missing or empty")

    def text(name: str, *, optional: bool = False) -> str | None:
        value = entry.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(name, f"must be non-empty text, got {value!r}")
        return value.strip()

    def url(name: str, value: Any) -> str:
        if not isinstance(value, str) or not is_url(value):
            raise fail(name, f"must be an http(s) URL, got {value!r}")
        return value.strip()

    def texts(name: str) -> tuple[str, ...]:
        value = entry.get(name)
        if not isinstance(value, list) or not value:
            raise fail(name, f"must be a non-empty list, got {value!r}")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise fail(name, f"every item must be non-empty text, got {item!r}")
        return tuple(item.strip() for item in value)

    def urls(name: str) -> tuple[str, ...]:
        value = entry.get(name)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise fail(name, f"must be a list of URLs, got {value!r}")
        return tuple(url(name, item) for item in value)

    source_id = text("id")
    if not _ID.match(source_id):
        raise fail("id", f"must be lower-case letters, digits and underscores, got {source_id!r}")
    link_text = text("link_text", optional=True)
    if link_text is not None:
        try:
            re.compile(link_text)
        except re.error as exc:
            raise fail("link_text", f"not a valid regular expression: {exc}") from exc
    link_select = text("link_select", optional=True) or "all"
    if link_select not in LINK_SELECT_CHOICES:
        raise fail("link_select", f"must be one of {', '.join(LINK_SELECT_CHOICES)}, got {link_select!r}")
    source = Source(
        id=source_id,
        title=text("title"),
        publisher=text("publisher"),
        landing_page=url("landing_page", entry.get("landing_page")),
        licence=text("licence"),
        cadence=text("cadence"),
        formats=texts("formats"),
        layouts=texts("layouts"),
        link_text=link_text,
        link_select=link_select,
        urls=urls("urls"),
        last_known_urls=urls("last_known_urls"),
        see_also=urls("see_also"),
        notes=text("notes", optional=True),
        schedule=text("schedule", optional=True),
    )
    if source.schedule is not None and len(source.schedule.split()) != 5:
        raise fail("schedule", f"must be a five-field cron expression, got {source.schedule!r}")
    if not source.downloadable and not source.notes:
        raise fail(
            "notes",
            "required when an entry has neither 'urls' nor 'link_text': say where the file comes from",
        )
    return source


def describe_registry(registry: Mapping[str, Source]) -> str:
    """A readable listing: id, publisher, cadence, landing page and how files are found."""
    blocks = []
    for source in registry.values():
        blocks.append(
            "\n".join(
                (
                    source.id,
                    f"  title:        {source.title}",
                    f"  publisher:    {source.publisher}",
                    f"  cadence:      {source.cadence}",
                    f"  landing page: {source.landing_page}",
                    f"  files:        {source.how_found}",
                )
            )
        )
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------- downloading


def is_url(value: str) -> bool:
    """True for an absolute http or https URL."""
    parts = urllib.parse.urlsplit(value.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


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


def _policy(timeout: float | None, retries: int | None, backoff: float | None) -> tuple[float, int, float]:
    timeout = _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT, float) if timeout is None else timeout
    retries = int(_env_number(RETRIES_ENV, DEFAULT_RETRIES, int)) if retries is None else retries
    backoff = _env_number(BACKOFF_ENV, DEFAULT_BACKOFF, float) if backoff is None else backoff
    if timeout <= 0 or retries < 0 or backoff < 0:
        raise FetchError(f"bad download settings: timeout {timeout}, retries {retries}, backoff {backoff}")
    return timeout, retries, backoff


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


def _with_retries(url: str, attempt_once: Callable[[], T], retries: int, backoff: float) -> T:
    """Run ``attempt_once`` until it succeeds, a failure is not retryable, or retries run out."""
    attempts = retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return attempt_once()
        except _AttemptFailed as failure:
            if not failure.retryable or attempt == attempts:
                raise DownloadError(
                    url,
                    failure.reason,
                    received=failure.received,
                    expected=failure.expected,
                    attempts=attempt,
                    retryable=failure.retryable,
                ) from failure
            delay = backoff * 2 ** (attempt - 1)
            if failure.retry_after is not None:
                delay = max(delay, min(failure.retry_after, MAX_RETRY_AFTER))
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


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        with contextlib.closing(exc):
            retryable = exc.code >= 500 or exc.code == 429
            raise _AttemptFailed(
                f"HTTP {exc.code} {exc.reason}",
                retryable=retryable,
                retry_after=_retry_after(exc.headers.get("Retry-After")) if exc.headers else None,
            ) from None
    except urllib.error.URLError as exc:
        raise _AttemptFailed(f"could not connect: {_describe(exc.reason)}", retryable=True) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _AttemptFailed(f"no response: {_describe(exc)}", retryable=True) from exc


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


def _stream(
    response: http.client.HTTPResponse, write: Callable[[bytes], None], limit: int | None = None
) -> tuple[int, int | None]:
    """Copy the body to ``write``; a body shorter than announced is a failed attempt."""
    expected = _content_length(response)
    received = 0
    while True:
        try:
            chunk = response.read(CHUNK_BYTES)
        except (OSError, http.client.HTTPException) as exc:
            raise _AttemptFailed(
                f"connection lost: {_describe(exc)}", retryable=True, received=received, expected=expected
            ) from exc
        if not chunk:
            break
        received += len(chunk)
        if limit is not None and received > limit:
            raise _AttemptFailed(
                f"larger than {limit:,} bytes", retryable=False, received=received, expected=expected
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


def _safe_name(candidate: str | None) -> str | None:
    """A plain file name from ``candidate``: no folders, not hidden, printable."""
    if not candidate:
        return None
    name = candidate.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".").strip()
    return name or None


def _file_name(response: http.client.HTTPResponse, url: str) -> str:
    """The name the server gives (Content-Disposition), else the URL's last path segment."""
    disposition = response.headers.get("Content-Disposition")
    if disposition:
        message = email.message.Message()
        message["Content-Disposition"] = disposition
        with contextlib.suppress(Exception):
            name = _safe_name(message.get_filename())
            if name:
                return name
    for address in (response.geturl() or url, url):
        parts = urllib.parse.urlsplit(address)
        name = _safe_name(posixpath.basename(urllib.parse.unquote(parts.path)))
        if name and Path(name).suffix:
            return name
        # addresses such as /file?uri=/path/to/table.xlsx carry the name in the query
        for _key, value in urllib.parse.parse_qsl(parts.query):
            candidate = _safe_name(posixpath.basename(value))
            if candidate and Path(candidate).suffix:
                return candidate
        if name:
            return name
    return "download"


def download(
    url: str,
    dest_dir: str | Path,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
) -> Path:
    """Download ``url`` into ``dest_dir`` and return the file's path.

    ``timeout`` is the seconds a connection may stay silent, ``retries`` the attempts
    after the first, ``backoff`` the delay before the first retry (doubled each time);
    ``None`` takes the environment's or the built-in default. A file of the same name
    in ``dest_dir`` is replaced only by a complete download.
    """
    if not is_url(url):
        raise DownloadError(url, "only http and https URLs can be downloaded", attempts=0)
    timeout, retries, backoff = _policy(timeout, retries, backoff)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)

    def attempt_once() -> Path:
        with _open(url, timeout) as response:
            name = _file_name(response, url)
            partial = dest_dir / f".{name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
            try:
                with open(partial, "wb") as handle:

                    def write(chunk: bytes) -> None:
                        try:
                            handle.write(chunk)
                        except OSError as exc:
                            raise _AttemptFailed(
                                f"could not write {partial}: {exc.strerror or exc}", retryable=False
                            ) from exc

                    received, expected = _stream(response, write)
                    handle.flush()
                    os.fsync(handle.fileno())
                if received == 0:
                    raise _AttemptFailed("the server sent an empty file", retryable=False, expected=expected)
                final = dest_dir / name
                os.replace(partial, final)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        log.info("downloaded %s (%s bytes) to %s", url, f"{received:,}", final)
        return final

    return _with_retries(url, attempt_once, retries, backoff)


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


def _fetch_page(url: str, timeout: float, retries: int, backoff: float) -> tuple[str, str]:
    """The page's text and its final address (after redirects)."""

    def attempt_once() -> tuple[str, str]:
        body = bytearray()
        with _open(url, timeout) as response:
            _stream(response, body.extend, limit=MAX_PAGE_BYTES)
            charset = response.headers.get_content_charset() or "utf-8"
            final_url = response.geturl() or url
        try:
            return bytes(body).decode(charset, errors="replace"), final_url
        except LookupError:  # an unknown charset name
            return bytes(body).decode("utf-8", errors="replace"), final_url

    return _with_retries(url, attempt_once, retries, backoff)


def find_links(
    landing_page_url: str,
    pattern: str | re.Pattern[str],
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
) -> list[str]:
    """Absolute http(s) URLs of the links on a page whose text matches ``pattern``.

    A text pattern is searched case-insensitively in each link's text with its
    whitespace collapsed. URLs come in page order, without duplicates or fragments.
    """
    if not is_url(landing_page_url):
        raise DownloadError(
            landing_page_url, "only http and https pages can be searched for links", attempts=0
        )
    timeout, retries, backoff = _policy(timeout, retries, backoff)
    regex = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
    page, final_url = _fetch_page(landing_page_url, timeout, retries, backoff)
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
) -> list[str]:
    """The file URLs of a source: its direct URLs, else the matching links on its landing page."""
    if source.urls:
        return list(source.urls)
    if source.link_text:
        links = find_links(
            source.landing_page, source.link_text, timeout=timeout, retries=retries, backoff=backoff
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
) -> list[Path]:
    """Download every current file of a registered source into ``dest_dir``."""
    sources = _registry(registry)
    if source_id not in sources:
        raise FetchError(f"unknown source {source_id!r}; the registry lists: {', '.join(sources)}")
    urls = source_urls(sources[source_id], timeout=timeout, retries=retries, backoff=backoff)
    return [download(url, dest_dir, timeout=timeout, retries=retries, backoff=backoff) for url in urls]


def materialise(
    raw: str,
    workdir: str | Path,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
) -> Path:
    """A local raw file or folder as it is; an http(s) URL downloaded into ``workdir``.

    A local path is returned untouched (never moved, copied or changed); for a URL the
    returned path is ``workdir``, holding the downloaded file.
    """
    if not is_url(raw):
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw.strip()):
            raise DownloadError(raw, "only http and https URLs can be downloaded", attempts=0)
        return Path(raw)
    workdir = Path(workdir)
    download(raw.strip(), workdir, timeout=timeout, retries=retries, backoff=backoff)
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
