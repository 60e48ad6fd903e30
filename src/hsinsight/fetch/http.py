"""Talking to a web server: the download settings read from the environment, retries with
backoff, redirects kept to the host first asked, opening a response and streaming its
body within the size limit and the deadline."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hsinsight.sources.registry import FetchError

#: one logger for the whole package, named after it
log = logging.getLogger("hsinsight.fetch")

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
CHUNK_BYTES = 1024 * 1024
USER_AGENT = "hsinsight (official statistics downloader; Python urllib)"


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
