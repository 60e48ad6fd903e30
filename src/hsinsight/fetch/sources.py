"""Registered sources: their file addresses, downloading them, a raw file or address made
local, and a temporary folder for downloads."""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from hsinsight.fetch.downloading import download
from hsinsight.fetch.http import DownloadError
from hsinsight.fetch.pages import find_links
from hsinsight.sources.registry import FetchError, Source, is_url, load_registry


class LinkNotFoundError(FetchError):
    """No link on a landing page has the expected text."""


class NotDownloadableError(FetchError):
    """The registry knows no way to download a source's file: it must be supplied locally."""


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
