"""Downloading one file: stream it to a hidden partial file, check what it is, and rename
it into place under a name of its own."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from hsinsight.fetch.content import _expected_types, _Sniffer
from hsinsight.fetch.http import DownloadError, _AttemptFailed, _open, _policy, _stream, _with_retries
from hsinsight.fetch.names import (
    _address,
    _claim,
    _file_name,
    _folder_lock,
    _fsync_folder,
    _partial_name,
    _read_record,
    _write_record,
)
from hsinsight.sources.registry import FetchError, is_url

#: one logger for the whole package, named after it
log = logging.getLogger("hsinsight.fetch")


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
