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

Modules:

* :mod:`~hsinsight.fetch.http`: download settings from the environment, retries,
  same-site redirects, opening a response and streaming its body;
* :mod:`~hsinsight.fetch.names`: partial-download names, safe local file names, the
  downloads record and the folder lock;
* :mod:`~hsinsight.fetch.content`: telling from its first bytes what a body is (HTML,
  zip, ODS, Excel, PDF, text);
* :mod:`~hsinsight.fetch.downloading`: :func:`download`, one file into a folder;
* :mod:`~hsinsight.fetch.pages`: landing pages and :func:`find_links`;
* :mod:`~hsinsight.fetch.sources`: :func:`source_urls`, :func:`fetch_source`,
  :func:`materialise` and :func:`download_dir`.
"""

from hsinsight.fetch.content import SNIFF_BYTES, content_problem, looks_like_html
from hsinsight.fetch.downloading import download
from hsinsight.fetch.http import (
    BACKOFF_ENV,
    CHUNK_BYTES,
    DEADLINE_ENV,
    DEFAULT_BACKOFF,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BYTES,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    MAX_BYTES_ENV,
    MAX_RETRY_AFTER,
    RETRIES_ENV,
    TIMEOUT_ENV,
    USER_AGENT,
    DownloadError,
    redirect_problem,
)
from hsinsight.fetch.names import (
    DOWNLOADS_RECORD,
    MAX_NAME_BYTES,
    PARTIAL_MARK,
    partial_download_pattern,
    partial_download_pid,
    safe_file_name,
)
from hsinsight.fetch.pages import MAX_PAGE_BYTES, find_links
from hsinsight.fetch.sources import (
    LinkNotFoundError,
    NotDownloadableError,
    download_dir,
    fetch_source,
    materialise,
    source_urls,
)

__all__ = [
    "BACKOFF_ENV",
    "CHUNK_BYTES",
    "DEADLINE_ENV",
    "DEFAULT_BACKOFF",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "DOWNLOADS_RECORD",
    "MAX_BYTES_ENV",
    "MAX_NAME_BYTES",
    "MAX_PAGE_BYTES",
    "MAX_RETRY_AFTER",
    "PARTIAL_MARK",
    "RETRIES_ENV",
    "SNIFF_BYTES",
    "TIMEOUT_ENV",
    "USER_AGENT",
    "DownloadError",
    "LinkNotFoundError",
    "NotDownloadableError",
    "content_problem",
    "download",
    "download_dir",
    "fetch_source",
    "find_links",
    "looks_like_html",
    "materialise",
    "partial_download_pattern",
    "partial_download_pid",
    "redirect_problem",
    "safe_file_name",
    "source_urls",
]
