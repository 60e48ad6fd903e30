"""Landing pages: fetch a publisher's page and find the links whose text matches a pattern."""

from __future__ import annotations

import re
import time
import urllib.parse
from html.parser import HTMLParser

from hsinsight.fetch.http import DownloadError, _open, _Policy, _policy, _stream, _with_retries
from hsinsight.sources.registry import FetchError, is_url

#: a landing page larger than this is not an HTML page worth parsing
MAX_PAGE_BYTES = 20 * 1024 * 1024


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
