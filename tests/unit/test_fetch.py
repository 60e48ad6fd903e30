"""Finding and downloading the official files, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
import urllib.parse
import zipfile
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from hsinsight import cli, fetch
from hsinsight.errors import HsinsightError
from hsinsight.sources import LAYOUTS
from hsinsight.sources import registry as source_registry

#: fast retries for every test: attempts follow each other within milliseconds
FAST = {"timeout": 2.0, "retries": 2, "backoff": 0.01}

COMPLETE = b"Financial Year,Force Name\n" + b"2016/17,Kent\n" * 400
DROPPED_LENGTH = 10_000
DROPPED_SENT = 3_000
HO_TITLE = "Police recorded crime open data Police Force Area tables, year ending March 2013 onwards"

LANDING_PAGE = f"""<!DOCTYPE html>
<html><head><title>Police recorded crime and outcomes open data tables</title></head>
<body>
<h3><a class="govuk-link" href="../media/aa11/prc-csp-mar2013-onwards-tables-230726.ods">
  Police recorded crime open data Community Safety Partnership tables, year ending March 2013 onwards</a></h3>
<h3><a class="govuk-link" href="../media/bb22/prc-pfa-mar2013-onwards-tables-230726.ods#section">
  <span>Police recorded crime open data   Police Force Area tables,
  year ending March 2013 onwards</span></a></h3>
<p><a href="/media/cc33/prc-outcomes-open-data-mar2015-tables-241024.xlsx">Outcomes open data, year ending
  March 2015</a></p>
<p><a href="http://127.0.0.1:PORT/media/dd44/prc-outcomes-open-data-mar2016-tables-240724.xlsx">Outcomes
  open data, year ending March 2016</a></p>
<p><a href="/media/ee55/alternate.xlsx">Outcomes for alternate offences open data, year ending March 2017
  to year ending March 2026</a></p>
<p><a name="anchor-without-href">{HO_TITLE}</a></p>
</body></html>
"""


COOKIE_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>Cookies on GOV.UK</title></head>
<body><form method="post"><button>Accept additional cookies</button></form></body></html>
"""
#: a Content-Disposition name longer than any file system allows (255 bytes)
LONG_NAME = "police-recorded-crime-" + "x" * 274 + ".csv"
#: bytes a trickling server sends, one every DRIP_SECONDS
DRIP_BYTES = 60
DRIP_SECONDS = 0.05
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
SAMPLE_ODS = (
    Path(__file__).resolve().parents[2]
    / "data/sample/police-force-area-data-tables-year-ending-march-2024-synthetic.ods"
)
BIG = b"Financial Year,Force Name\n" + b"2016/17,Kent\n" * 2_000


def _zip(members: dict[str, bytes], *, mimetype: bytes | None = None) -> bytes:
    """A zip archive as a workbook is one; with ``mimetype`` first and stored, as in an ODS."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if mimetype is not None:
            archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _workbook(path: str) -> bytes:
    """A stand-in for a spreadsheet at ``path``: the right container, naming its address."""
    if path.endswith(".ods"):
        return _zip({"content.xml": path.encode()}, mimetype=ODS_MIMETYPE)
    if path.endswith((".xlsx", ".zip")):
        return _zip({"[Content_Types].xml": path.encode()})
    return path.encode() + b"\n" + COMPLETE


def _unzip(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):  # keep the test output quiet
        pass

    def _send(self, body: bytes, *, status: int = 200, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        with self.server.lock:
            self.server.hits[path] += 1
            hits = self.server.hits[path]
        try:
            if path == "/files/complete.csv":
                self._send(COMPLETE)
            elif path == "/flaky/data.csv":
                if hits <= 2:
                    self._send(b"busy", status=503)
                else:
                    self._send(COMPLETE)
            elif path == "/missing.csv":
                self._send(b"not here", status=404)
            elif path == "/dropped.csv":
                self.send_response(200)
                self.send_header("Content-Length", str(DROPPED_LENGTH))
                self.end_headers()
                self.wfile.write(b"x" * DROPPED_SENT)
                self.wfile.flush()
                self.close_connection = True  # the body stops short and the connection closes
            elif path == "/slow-start.csv":
                time.sleep(self.server.slow_seconds)
                self._send(COMPLETE)
            elif path == "/slow-body.csv":
                self.send_response(200)
                self.send_header("Content-Length", str(len(COMPLETE)))
                self.end_headers()
                self.wfile.write(COMPLETE[:100])
                self.wfile.flush()
                time.sleep(self.server.slow_seconds)
                self.wfile.write(COMPLETE[100:])
            elif path == "/drip.csv":  # never silent for long, never finished soon
                self.send_response(200)
                self.send_header("Content-Length", str(DRIP_BYTES))
                self.end_headers()
                for _ in range(DRIP_BYTES):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(DRIP_SECONDS)
            elif path == "/big.csv":  # the size announced
                self._send(BIG)
            elif path == "/big-unannounced.csv":  # no Content-Length: the body ends when the connection does
                self.send_response(200)
                self.end_headers()
                self.wfile.write(BIG)
                self.close_connection = True
            elif path == "/download":
                self._send(
                    COMPLETE,
                    headers={"Content-Disposition": 'attachment; filename="../outcomes 2015.csv"'},
                )
            elif path == "/named":  # whatever name the test asks for, as Content-Disposition
                name = urllib.parse.parse_qs(query)["name"][0]
                disposition = f"attachment; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"
                self._send(COMPLETE, headers={"Content-Disposition": disposition})
            elif path.startswith("/cookies/"):  # a consent page in place of the file
                self._send(COOKIE_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
            elif path == "/not-an-ods/table.ods":
                self._send(_zip({"content.xml": b"<office:document/>"}))
            elif path == "/sample.ods":
                self._send(SAMPLE_ODS.read_bytes())
            elif path == "/utf16.csv":
                self._send(COMPLETE.decode().encode("utf-16"))
            elif path == "/file":  # the name and the type only in the query, as ONS addresses
                self._send(_workbook(urllib.parse.parse_qs(query).get("uri", [""])[0]))
            elif path.startswith("/same-name/"):  # one server name, different files
                self._send(
                    path.encode() + b"\n" + COMPLETE,
                    headers={"Content-Disposition": 'attachment; filename="table.csv"'},
                )
            elif path == "/redirect":
                target = urllib.parse.parse_qs(query)["to"][0]
                self._send(b"moved", status=302, headers={"Location": target})
            elif path == "/landing/":
                page = LANDING_PAGE.replace("PORT", str(self.server.server_address[1])).encode()
                self._send(page, headers={"Content-Type": "text/html; charset=utf-8"})
            elif path.startswith("/media/"):
                self._send(_workbook(path))
            else:
                self._send(b"no such page", status=404)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up waiting (the timeout scenarios)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.slow_seconds = 1.0

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"


@contextmanager
def _serving(tls: ssl.SSLContext | None = None):
    httpd = _Server(tls)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server():
    with _serving() as httpd:
        yield httpd


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and not for localhost): (cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a certificate for the HTTPS server")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate, monkeypatch):
    """The same server over HTTPS on another port of 127.0.0.1, trusted by the downloader."""
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with _serving(context) as httpd:
        yield httpd


def _everything_in(folder: Path) -> list[str]:
    """Every entry in a folder, hidden ones included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _files_in(folder: Path) -> list[str]:
    """Every entry in a folder but the record of where downloads came from."""
    return [name for name in _everything_in(folder) if name != fetch.DOWNLOADS_RECORD]


def _registry_file(tmp_path: Path, server: _Server) -> Path:
    document = {
        "sources": [
            {
                "id": "home_office_recorded_crime",
                "title": "Police recorded crime PFA tables",
                "publisher": "Home Office",
                "landing_page": f"{server.url}/landing/",
                "licence": "Open Government Licence v3.0",
                "cadence": "quarterly",
                "formats": ["ods"],
                "layouts": ["home_office_prc_pfa_v1"],
                "link_text": r"Police recorded crime open data Police Force Area tables,\s*year ending March 2013",
                "link_select": "first",
            },
            {
                "id": "home_office_outcomes",
                "title": "Crime outcomes open data",
                "publisher": "Home Office",
                "landing_page": f"{server.url}/landing/",
                "licence": "Open Government Licence v3.0",
                "cadence": "quarterly",
                "formats": ["xlsx"],
                "layouts": ["home_office_outcomes_a", "home_office_outcomes_b"],
                "link_text": r"^Outcomes open data,\s*year ending March \d{4}\b",
            },
            {
                "id": "moj_court_outcomes",
                "title": "Outcomes by offence",
                "publisher": "Ministry of Justice",
                "landing_page": f"{server.url}/landing/",
                "licence": "Open Government Licence v3.0",
                "cadence": "quarterly",
                "formats": ["csv"],
                "layouts": ["moj_court_outcomes_pfa_v1"],
                "urls": [f"{server.url}/files/complete.csv"],
            },
            {
                "id": "cps_vawg",
                "title": "CPS VAWG data",
                "publisher": "Crown Prosecution Service",
                "landing_page": "https://www.cps.gov.uk/publications",
                "licence": "Open Government Licence v3.0",
                "cadence": "annual",
                "formats": ["xlsx"],
                "layouts": ["cps_vawg_v1"],
                "notes": "Area figures come from FOI replies.",
            },
            {
                "id": "ons_pfa_recorded_crime",
                "title": "A page whose file link has vanished",
                "publisher": "Office for National Statistics",
                "landing_page": f"{server.url}/landing/",
                "licence": "Open Government Licence v3.0",
                "cadence": "quarterly",
                "formats": ["xlsx"],
                "layouts": ["ons_pfa_tables_v1"],
                "link_text": "^no such link text$",
                "last_known_urls": [f"{server.url}/media/old/pfa-tables.xlsx"],
            },
        ]
    }
    path = tmp_path / "registry.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# --------------------------------------------------------------------------- download


def test_complete_file_is_downloaded_under_its_url_name(server, tmp_path):
    path = fetch.download(f"{server.url}/files/complete.csv", tmp_path / "out", **FAST)
    assert path == tmp_path / "out" / "complete.csv"
    assert path.read_bytes() == COMPLETE
    assert _everything_in(tmp_path / "out") == [fetch.DOWNLOADS_RECORD, "complete.csv"]
    record = json.loads((tmp_path / "out" / fetch.DOWNLOADS_RECORD).read_text())
    assert record == {"complete.csv": f"{server.url}/files/complete.csv"}


def test_content_disposition_names_the_file_without_leaving_the_folder(server, tmp_path):
    path = fetch.download(f"{server.url}/download?id=3", tmp_path, **FAST)
    assert path == tmp_path / "outcomes 2015.csv"
    assert path.read_bytes() == COMPLETE


def test_503_twice_then_success_is_retried(server, tmp_path, caplog):
    path = fetch.download(f"{server.url}/flaky/data.csv", tmp_path, **FAST)
    assert path.read_bytes() == COMPLETE
    assert server.hits["/flaky/data.csv"] == 3
    retries = [r for r in caplog.records if "HTTP 503" in r.getMessage()]
    assert len(retries) == 2
    assert _files_in(tmp_path) == ["data.csv"]


def test_503_until_retries_run_out_counts_every_attempt(server, tmp_path):
    url = f"{server.url}/flaky/data.csv"
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, tmp_path, timeout=2.0, retries=1, backoff=0.01)
    assert caught.value.attempts == 2
    assert url in str(caught.value) and "HTTP 503" in str(caught.value) and "2 attempts" in str(caught.value)
    assert _everything_in(tmp_path) == []


def test_404_is_not_retried(server, tmp_path):
    url = f"{server.url}/missing.csv"
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, tmp_path, **FAST)
    assert server.hits["/missing.csv"] == 1
    message = str(caught.value)
    assert url in message and "HTTP 404" in message and "1 attempt" in message
    assert isinstance(caught.value, HsinsightError)
    assert _everything_in(tmp_path) == []


def test_dropped_connection_is_an_error_and_leaves_no_file(server, tmp_path):
    url = f"{server.url}/dropped.csv"
    out = tmp_path / "out"
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, out, **FAST)
    error = caught.value
    assert (error.received, error.expected, error.attempts) == (DROPPED_SENT, DROPPED_LENGTH, 3)
    message = str(error)
    assert url in message
    assert f"received {DROPPED_SENT:,} of {DROPPED_LENGTH:,} bytes" in message
    assert "3 attempts" in message
    assert server.hits["/dropped.csv"] == 3
    assert _everything_in(out) == []  # neither a partial nor a final file


def test_dropped_connection_never_replaces_an_earlier_complete_file(server, tmp_path):
    earlier = tmp_path / "dropped.csv"
    earlier.write_bytes(b"an earlier complete download")
    with pytest.raises(fetch.DownloadError):
        fetch.download(f"{server.url}/dropped.csv", tmp_path, timeout=2.0, retries=0, backoff=0)
    assert earlier.read_bytes() == b"an earlier complete download"
    assert _everything_in(tmp_path) == ["dropped.csv"]


@pytest.mark.parametrize("path", ["/slow-start.csv", "/slow-body.csv"])
def test_response_slower_than_the_timeout_is_retried_then_fails(server, tmp_path, path):
    server.slow_seconds = 1.0
    started = time.monotonic()
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(f"{server.url}{path}", tmp_path, timeout=0.2, retries=1, backoff=0.01)
    assert time.monotonic() - started < 5
    assert server.hits[path] == 2
    assert "timed out" in str(caught.value) and "2 attempts" in str(caught.value)
    assert _everything_in(tmp_path) == []


def test_unreachable_server_is_a_download_error(tmp_path):
    probe = _Server()  # take a free port, then close it so nothing listens there
    url = f"{probe.url}/file.csv"
    probe.server_close()
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, tmp_path, timeout=1.0, retries=1, backoff=0.01)
    assert caught.value.attempts == 2 and "could not connect" in str(caught.value)


def test_only_http_urls_are_downloaded(tmp_path):
    with pytest.raises(fetch.DownloadError, match="cannot download ftp://example.org/file.csv: only http"):
        fetch.download("ftp://example.org/file.csv", tmp_path)
    with pytest.raises(fetch.DownloadError, match="only http and https"):
        fetch.materialise("file:///etc/hostname", tmp_path / "work")
    assert _everything_in(tmp_path) == []


def test_download_settings_come_from_the_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv(fetch.RETRIES_ENV, "0")
    monkeypatch.setenv(fetch.BACKOFF_ENV, "0")
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(f"{server.url}/dropped.csv", tmp_path)
    assert caught.value.attempts == 1
    monkeypatch.setenv(fetch.RETRIES_ENV, "many")
    with pytest.raises(HsinsightError, match=fetch.RETRIES_ENV):
        fetch.download(f"{server.url}/files/complete.csv", tmp_path)


# --------------------------------------------------------------------------- size, deadline, partial files


def test_a_file_larger_than_the_limit_is_refused_at_once(server, tmp_path):
    url = f"{server.url}/big.csv"
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, tmp_path, max_bytes=len(BIG) - 1, **FAST)
    error = caught.value
    assert not error.retryable and error.attempts == 1 and server.hits["/big.csv"] == 1
    assert error.received == 0  # refused on the announced size, before reading the body
    assert f"more than the {len(BIG) - 1:,}-byte limit" in str(error) and url in str(error)
    assert _everything_in(tmp_path) == []
    assert fetch.download(url, tmp_path, max_bytes=len(BIG), **FAST).read_bytes() == BIG


def test_a_body_growing_past_the_limit_is_cut_off(server, tmp_path, monkeypatch):
    """No Content-Length: the limit is counted as the bytes arrive; the environment sets it."""
    monkeypatch.setenv(fetch.MAX_BYTES_ENV, "5000")
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(f"{server.url}/big-unannounced.csv", tmp_path, **FAST)
    error = caught.value
    assert not error.retryable and error.attempts == 1
    assert error.received == 5001 and error.expected is None  # read no further than needed
    assert "larger than the 5,000-byte limit" in str(error)
    assert _everything_in(tmp_path) == []
    assert fetch.DEFAULT_MAX_BYTES >= 100 * 1024 * 1024  # ample for the official files


def test_a_trickling_server_cannot_outlast_the_deadline(server, tmp_path):
    """One byte every 50 ms never trips the 1-second read timeout; the 0.5-second deadline
    for the whole download ends it, and leaves no time for another attempt."""
    url = f"{server.url}/drip.csv"
    started = time.monotonic()
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, tmp_path, timeout=1.0, retries=2, backoff=0.01, deadline=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < DRIP_BYTES * DRIP_SECONDS / 2, elapsed  # well before the body would end
    error = caught.value
    assert error.retryable and error.attempts == 1 and server.hits["/drip.csv"] == 1
    assert 0 < error.received < DRIP_BYTES
    assert "0.5-second deadline" in str(error) and url in str(error)
    assert _everything_in(tmp_path) == []


def test_a_stalled_read_ends_at_the_deadline_not_at_the_read_timeout(server, tmp_path):
    """The body stops for 3 seconds; the read timeout is 10 seconds, the deadline 0.5: the
    download ends at the deadline, not when the read timeout or the body would."""
    server.slow_seconds = 3.0
    started = time.monotonic()
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(f"{server.url}/slow-body.csv", tmp_path, timeout=10.0, retries=1, deadline=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed
    error = caught.value
    assert error.retryable and error.attempts == 1 and error.received == 100
    assert "0.5-second deadline" in str(error)
    assert _everything_in(tmp_path) == []


def test_partial_downloads_match_the_published_pattern(server, tmp_path):
    """While the body arrives the file is ``.<name>.part-<pid>-<random>`` in the destination,
    which :func:`partial_download_pattern` matches; the complete file is renamed into place."""
    server.slow_seconds = 1.0
    result: list[Path] = []
    worker = threading.Thread(
        target=lambda: result.append(fetch.download(f"{server.url}/slow-body.csv", tmp_path, **FAST))
    )
    worker.start()
    partials: list[Path] = []
    deadline = time.monotonic() + 5
    while not partials and time.monotonic() < deadline:
        partials = list(tmp_path.glob(fetch.partial_download_pattern()))
        time.sleep(0.02)
    worker.join(timeout=10)
    assert len(partials) == 1, _everything_in(tmp_path)
    name = partials[0].name
    assert name.startswith(".slow-body.csv.part-") and fetch.partial_download_pid(name) == os.getpid()
    assert result == [tmp_path / "slow-body.csv"] and result[0].read_bytes() == COMPLETE
    assert list(tmp_path.glob(fetch.partial_download_pattern())) == []
    assert fetch.partial_download_pid("slow-body.csv") is None
    assert fetch.partial_download_pid(fetch.DOWNLOADS_RECORD) is None


# --------------------------------------------------------------------------- redirects


def test_redirects_within_the_host_over_https_are_followed(server, tls_server, tmp_path):
    target = f"{tls_server.url}/files/complete.csv"
    # http to https on the same host (another port)
    upgraded = fetch.download(
        f"{server.url}/redirect?to={urllib.parse.quote(target)}", tmp_path / "a", **FAST
    )
    assert upgraded.name == "complete.csv" and upgraded.read_bytes() == COMPLETE
    # https to https on the same host, a relative address
    moved = fetch.download(f"{tls_server.url}/redirect?to=/files/complete.csv", tmp_path / "b", **FAST)
    assert moved.read_bytes() == COMPLETE
    assert tls_server.hits["/files/complete.csv"] == 2


@pytest.mark.parametrize(
    ("start", "target", "problem"),
    [
        ("http", "http://127.0.0.1:{http}/files/complete.csv", "only to https"),
        ("https", "http://127.0.0.1:{http}/files/complete.csv", "only to https"),
        ("http", "https://localhost:{https}/files/complete.csv", "only within 127.0.0.1"),
        ("https", "https://localhost:{https}/files/complete.csv", "only within 127.0.0.1"),
        ("https", "https://127.0.0.1@localhost:{https}/files/complete.csv", "only within 127.0.0.1"),
        ("http", "ftp://127.0.0.1/files/complete.csv", "only to https"),
    ],
    ids=["http-to-http", "https-to-http", "http-to-other-host", "https-to-other-host", "userinfo", "ftp"],
)
def test_redirects_elsewhere_are_refused(server, tls_server, tmp_path, start, target, problem):
    target = target.format(http=server.server_address[1], https=tls_server.server_address[1])
    origin = server if start == "http" else tls_server
    url = f"{origin.url}/redirect?to={urllib.parse.quote(target)}"
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, tmp_path, **FAST)
    error = caught.value
    assert not error.retryable and error.attempts == 1 and origin.hits["/redirect"] == 1
    assert f"to {target}" in str(error) and problem in str(error)
    assert server.hits["/files/complete.csv"] == tls_server.hits["/files/complete.csv"] == 0
    assert _everything_in(tmp_path) == []


def test_a_landing_page_redirected_to_another_host_is_refused(server, tls_server):
    url = f"{tls_server.url}/redirect?to={urllib.parse.quote(f'https://localhost:{tls_server.server_address[1]}/landing/')}"
    with pytest.raises(fetch.DownloadError, match="only within 127.0.0.1") as caught:
        fetch.find_links(url, "Outcomes", **FAST)
    assert not caught.value.retryable and tls_server.hits["/landing/"] == 0


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("path", ["/cookies/prc-outcomes-open-data-mar2015-tables.xlsx", "/cookies/data.csv"])
def test_an_html_page_in_place_of_the_file_is_refused(server, tmp_path, path):
    url = f"{server.url}{path}"
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, tmp_path, **FAST)
    error = caught.value
    assert not error.retryable and server.hits[path] == 1
    assert str(error).startswith(f"could not download {url}: the server sent an HTML page")
    assert _everything_in(tmp_path) == []


def test_an_html_page_after_a_redirect_names_both_addresses(server, tls_server, tmp_path):
    url = f"{server.url}/redirect?to={urllib.parse.quote(f'{tls_server.url}/cookies/table.xlsx')}"
    with pytest.raises(fetch.DownloadError, match="HTML page") as caught:
        fetch.download(url, tmp_path, **FAST)
    assert url in str(caught.value) and f"redirected to {tls_server.url}/cookies/table.xlsx" in str(
        caught.value
    )


def test_content_must_be_of_the_type_its_name_says(server, tmp_path):
    with pytest.raises(fetch.DownloadError, match="not an OpenDocument spreadsheet") as caught:
        fetch.download(f"{server.url}/not-an-ods/table.ods", tmp_path, **FAST)
    assert not caught.value.retryable
    with pytest.raises(fetch.DownloadError, match=r"not text \(CSV\)"):
        fetch.download(f"{server.url}/utf16.csv", tmp_path, **FAST)
    assert _everything_in(tmp_path) == []
    # the real thing passes: the bundled sample's ODS, a zip, a workbook
    ods = fetch.download(f"{server.url}/sample.ods", tmp_path, **FAST)
    assert ods.read_bytes() == SAMPLE_ODS.read_bytes()
    assert (
        fetch.download(f"{server.url}/media/ab12/tables.zip", tmp_path, **FAST).read_bytes()[:4]
        == b"PK\x03\x04"
    )


def test_without_an_extension_the_sources_formats_say_what_is_expected(server, tmp_path):
    def source(formats: list[str]) -> dict:
        entry = {
            "id": "ons_pfa_recorded_crime",
            "title": "t",
            "publisher": "Office for National Statistics",
            "landing_page": f"{server.url}/landing/",
            "licence": "Open Government Licence v3.0",
            "cadence": "quarterly",
            "formats": formats,
            "layouts": ["ons_pfa_tables_v1"],
            "urls": [f"{server.url}/file?uri=/tables/pfa"],
        }
        return source_registry.parse_registry({"sources": [entry]})

    (path,) = fetch.fetch_source("ons_pfa_recorded_crime", tmp_path / "a", source(["csv"]), **FAST)
    assert path.name == "file" and path.read_bytes().startswith(b"/tables/pfa\n")
    with pytest.raises(fetch.DownloadError, match="not an Excel workbook") as caught:
        fetch.fetch_source("ons_pfa_recorded_crime", tmp_path / "b", source(["xlsx"]), **FAST)
    assert not caught.value.retryable and _everything_in(tmp_path / "b") == []


# --------------------------------------------------------------------------- names


def test_two_addresses_with_one_server_name_keep_both_files(server, tmp_path):
    first, second = f"{server.url}/same-name/2024/", f"{server.url}/same-name/2025/"
    a = fetch.download(first, tmp_path, **FAST)
    b = fetch.download(second, tmp_path, **FAST)
    assert a.name == "table.csv"
    assert b.name == f"table-{hashlib.sha256(second.encode()).hexdigest()[:12]}.csv"
    assert a.read_bytes().startswith(b"/same-name/2024/\n") and b.read_bytes().startswith(
        b"/same-name/2025/\n"
    )
    # each address downloaded again replaces its own file, under the same name
    assert fetch.download(second, tmp_path, **FAST) == b
    assert fetch.download(first, tmp_path, **FAST) == a
    assert _files_in(tmp_path) == sorted([a.name, b.name])
    assert json.loads((tmp_path / fetch.DOWNLOADS_RECORD).read_text()) == {a.name: first, b.name: second}


def test_fetch_source_keeps_every_link_whose_files_share_a_name(server, tmp_path):
    urls = [f"{server.url}/same-name/{year}/" for year in (2023, 2024, 2025)]
    entry = {
        "id": "moj_court_outcomes",
        "title": "t",
        "publisher": "Ministry of Justice",
        "landing_page": f"{server.url}/landing/",
        "licence": "Open Government Licence v3.0",
        "cadence": "quarterly",
        "formats": ["csv"],
        "layouts": ["moj_court_outcomes_pfa_v1"],
        "urls": urls,
    }
    registry = source_registry.parse_registry({"sources": [entry]})
    paths = fetch.fetch_source("moj_court_outcomes", tmp_path, registry, **FAST)
    assert len(set(paths)) == 3 and paths[0].name == "table.csv"
    assert [p.read_bytes().split(b"\n", 1)[0] for p in paths] == [
        f"/same-name/{year}/".encode() for year in (2023, 2024, 2025)
    ]
    # the same names again, whatever order the links come in
    again = fetch.fetch_source(
        "moj_court_outcomes",
        tmp_path,
        source_registry.parse_registry({"sources": [{**entry, "urls": urls[::-1]}]}),
        **FAST,
    )
    assert again == paths[::-1] and len(_files_in(tmp_path)) == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../outcomes 2015.csv", "outcomes 2015.csv"),
        ("..\\..\\evil\x07name?.csv", "evil name_.csv"),
        (".hidden.csv", "hidden.csv"),
        ("tables\u2028 2024 .csv", "tables 2024 .csv"),
    ],
)
def test_server_names_are_made_safe(server, tmp_path, name, expected):
    path = fetch.download(f"{server.url}/named?{urllib.parse.urlencode({'name': name})}", tmp_path, **FAST)
    assert path == tmp_path / expected and path.read_bytes() == COMPLETE


def test_a_server_name_longer_than_the_file_system_allows_is_shortened(server, tmp_path):
    """300 characters (and 300 two-byte ones) would fail to open; the name is cut to
    MAX_NAME_BYTES, keeps its extension, and stays distinct from another long name."""
    wide = "é" * 296 + ".xlsx"
    paths = []
    for name in (LONG_NAME, LONG_NAME.replace(".csv", "-v2.csv"), wide):
        url = f"{server.url}/named?{urllib.parse.urlencode({'name': name})}"
        if name == wide:
            with pytest.raises(fetch.DownloadError, match="not an Excel workbook"):
                fetch.download(url, tmp_path, **FAST)  # the name is fine; the content is CSV
            paths.append(fetch.safe_file_name(name))
            continue
        path = fetch.download(url, tmp_path, **FAST)
        assert path.read_bytes() == COMPLETE
        paths.append(path.name)
    assert server.hits["/named"] == 3  # nothing retried
    for name in paths:
        assert len(name.encode()) <= fetch.MAX_NAME_BYTES
    assert paths[0].startswith("police-recorded-crime-xxx") and paths[0].endswith(".csv")
    assert paths[2].startswith("ééé") and paths[2].endswith(".xlsx")
    assert len(set(paths)) == 3
    assert _files_in(tmp_path) == sorted(paths[:2])


def test_a_file_that_cannot_be_written_is_not_retried(server, tmp_path):
    (tmp_path / "complete.csv").mkdir()  # a folder where the file should go
    url = f"{server.url}/files/complete.csv"
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(url, tmp_path, **FAST)
    error = caught.value
    assert not error.retryable and error.attempts == 1 and server.hits["/files/complete.csv"] == 1
    assert f"in {tmp_path}" in str(error) and url in str(error)
    assert _everything_in(tmp_path) == ["complete.csv"] and not any((tmp_path / "complete.csv").iterdir())


@pytest.mark.parametrize(
    ("path", "options", "retryable"),
    [
        ("/missing.csv", {}, False),
        ("/flaky/data.csv", {"retries": 0}, True),
        ("/dropped.csv", {"retries": 0}, True),
        ("/slow-start.csv", {"retries": 0, "timeout": 0.2}, True),
        ("/big.csv", {"max_bytes": 1000}, False),
        ("/cookies/table.xlsx", {}, False),
        ("/redirect?to=ftp://127.0.0.1/table.csv", {}, False),
        ("/drip.csv", {"deadline": 0.2}, True),
    ],
    ids=["404", "503", "dropped", "timeout", "too-large", "html", "redirect", "deadline"],
)
def test_every_failure_is_a_download_error_saying_whether_to_retry(
    server, tmp_path, path, options, retryable
):
    with pytest.raises(fetch.DownloadError) as caught:
        fetch.download(f"{server.url}{path}", tmp_path, **{**FAST, **options})
    assert caught.value.retryable is retryable
    assert _everything_in(tmp_path) == []


def test_bad_download_settings_are_a_download_error(tmp_path, monkeypatch):
    monkeypatch.setenv(fetch.DEADLINE_ENV, "soon")
    with pytest.raises(fetch.DownloadError, match=fetch.DEADLINE_ENV) as caught:
        fetch.download("https://127.0.0.1:9/x.csv", tmp_path)
    assert caught.value.attempts == 0 and not caught.value.retryable


# --------------------------------------------------------------------------- landing pages and sources


def test_find_links_matches_link_text_and_resolves_relative_hrefs(server):
    links = fetch.find_links(
        f"{server.url}/landing/", r"Police Force Area tables,\s*year ending March 2013", **FAST
    )
    assert links == [f"{server.url}/media/bb22/prc-pfa-mar2013-onwards-tables-230726.ods"]
    outcomes = fetch.find_links(
        f"{server.url}/landing/", r"^Outcomes open data,\s*year ending March \d{4}", **FAST
    )
    assert outcomes == [
        f"{server.url}/media/cc33/prc-outcomes-open-data-mar2015-tables-241024.xlsx",
        f"{server.url}/media/dd44/prc-outcomes-open-data-mar2016-tables-240724.xlsx",
    ]


def test_fetch_source_finds_the_file_on_the_landing_page(server, tmp_path, monkeypatch):
    monkeypatch.setenv(source_registry.REGISTRY_ENV, str(_registry_file(tmp_path, server)))
    paths = fetch.fetch_source("home_office_recorded_crime", tmp_path / "raw", **FAST)
    assert paths == [tmp_path / "raw" / "prc-pfa-mar2013-onwards-tables-230726.ods"]
    assert _unzip(paths[0], "content.xml") == b"/media/bb22/prc-pfa-mar2013-onwards-tables-230726.ods"
    assert server.hits["/landing/"] == 1


def test_fetch_source_downloads_every_matching_link(server, tmp_path):
    registry = source_registry.load_registry(_registry_file(tmp_path, server))
    paths = fetch.fetch_source("home_office_outcomes", tmp_path / "raw", registry, **FAST)
    assert [p.name for p in paths] == [
        "prc-outcomes-open-data-mar2015-tables-241024.xlsx",
        "prc-outcomes-open-data-mar2016-tables-240724.xlsx",
    ]
    assert "/media/ee55/alternate.xlsx" not in server.hits


def test_fetch_source_uses_direct_urls(server, tmp_path):
    paths = fetch.fetch_source(
        "moj_court_outcomes", tmp_path / "raw", _registry_file(tmp_path, server), **FAST
    )
    assert [p.name for p in paths] == ["complete.csv"]
    assert "/landing/" not in server.hits


def test_source_without_a_findable_file_must_be_supplied_locally(server, tmp_path):
    registry = _registry_file(tmp_path, server)
    with pytest.raises(fetch.NotDownloadableError) as caught:
        fetch.fetch_source("cps_vawg", tmp_path / "raw", registry)
    assert "cps_vawg" in str(caught.value) and "FOI" in str(caught.value) and "locally" in str(caught.value)
    assert not (tmp_path / "raw").exists()


def test_missing_link_names_the_page_pattern_and_last_known_url(server, tmp_path):
    registry = _registry_file(tmp_path, server)
    with pytest.raises(fetch.LinkNotFoundError) as caught:
        fetch.fetch_source("ons_pfa_recorded_crime", tmp_path / "raw", registry, **FAST)
    message = str(caught.value)
    assert f"{server.url}/landing/" in message and "no such link text" in message
    assert "/media/old/pfa-tables.xlsx" in message


def test_unknown_source_lists_the_known_ones(server, tmp_path):
    with pytest.raises(HsinsightError, match="unknown source 'nope'.*cps_vawg"):
        fetch.fetch_source("nope", tmp_path, _registry_file(tmp_path, server))


def test_materialise_returns_a_local_path_untouched(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "prc.csv").write_bytes(COMPLETE)
    before = (raw / "prc.csv").stat()
    assert fetch.materialise(str(raw), tmp_path / "work") == raw
    assert fetch.materialise(str(raw / "prc.csv"), tmp_path / "work") == raw / "prc.csv"
    after = (raw / "prc.csv").stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    assert _everything_in(raw) == ["prc.csv"]
    assert not (tmp_path / "work").exists()


def test_materialise_downloads_a_url_into_the_workdir(server, tmp_path):
    folder = fetch.materialise(f"{server.url}/files/complete.csv", tmp_path / "work", **FAST)
    assert folder == tmp_path / "work"
    assert _everything_in(folder) == ["complete.csv"]


# --------------------------------------------------------------------------- the registry


def _valid_entry(**changes) -> dict:
    entry = {
        "id": "home_office_recorded_crime",
        "title": "t",
        "publisher": "Home Office",
        "landing_page": "https://www.gov.uk/x",
        "licence": "Open Government Licence v3.0",
        "cadence": "quarterly",
        "formats": ["ods"],
        "layouts": ["home_office_prc_pfa_v1"],
        "link_text": "tables",
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([_valid_entry(publisher=None)], r"entry 1 \(home_office_recorded_crime\): field 'publisher'"),
        ([_valid_entry(landing_page="www.gov.uk/x")], r"field 'landing_page': must be an http\(s\) URL"),
        ([_valid_entry(layouts="home_office_prc_pfa_v1")], r"field 'layouts': must be a non-empty list"),
        ([_valid_entry(link_text="tables (")], r"field 'link_text': not a valid regular expression"),
        ([_valid_entry(link_select="last")], r"field 'link_select'"),
        ([_valid_entry(urls=["file:///tmp/x.csv"])], r"field 'urls': must be an http\(s\) URL"),
        ([_valid_entry(cadense="quarterly")], r"field 'cadense': unknown field"),
        ([_valid_entry(link_text=None)], r"field 'notes': required when an entry has neither"),
        ([_valid_entry(id="Home Office")], r"field 'id': must be lower-case"),
        (
            [_valid_entry(), _valid_entry()],
            r"entry 2 \(home_office_recorded_crime\): field 'id'.*already used",
        ),
        (["just text"], r"entry 1: expected a mapping"),
    ],
)
def test_malformed_registry_names_the_entry_and_field(tmp_path, entries, expected):
    path = tmp_path / "registry.yml"
    path.write_text(yaml.safe_dump({"sources": entries}))
    with pytest.raises(source_registry.RegistryError, match=expected) as caught:
        source_registry.load_registry(path)
    assert str(path) in str(caught.value)


def test_registry_that_is_not_yaml_or_missing_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("sources: [unclosed\n")
    with pytest.raises(source_registry.RegistryError, match="not valid YAML"):
        source_registry.load_registry(bad)
    with pytest.raises(source_registry.RegistryError, match="cannot be read"):
        source_registry.load_registry(tmp_path / "absent.yml")
    with pytest.raises(source_registry.RegistryError, match="'sources' list"):
        source_registry.parse_registry({"source": []}, "x.yml")


SOURCE_IDS = [
    "home_office_recorded_crime",
    "home_office_pfa_rolling",
    "ons_pfa_recorded_crime",
    "ons_appendix_tables",
    "home_office_outcomes",
    "cps_vawg",
    "moj_court_outcomes",
    "moj_restraining_orders",
    "ons_population",
    "csew_prevalence",
]
OFFICIAL_HOST = re.compile(
    r"^https://(www\.gov\.uk|assets\.publishing\.service\.gov\.uk|www\.ons\.gov\.uk|www\.cps\.gov\.uk)/"
)


def test_bundled_registry_is_complete_and_consistent_with_the_layouts(monkeypatch):
    monkeypatch.delenv(source_registry.REGISTRY_ENV, raising=False)
    registry = source_registry.load_registry()
    assert sorted(registry) == sorted(SOURCE_IDS)
    layouts = {layout.layout: layout for layout in LAYOUTS}
    listed = [layout_id for source in registry.values() for layout_id in source.layouts]
    assert len(listed) == len(set(listed)), "a layout is listed by two sources"
    for source in registry.values():
        for field_name in source_registry.REQUIRED_FIELDS:
            assert getattr(source, field_name), (source.id, field_name)
        assert source.licence == "Open Government Licence v3.0"
        assert OFFICIAL_HOST.match(source.landing_page), source.landing_page
        for url in (*source.urls, *source.last_known_urls, *source.see_also):
            assert OFFICIAL_HOST.match(url), url
        for layout_id in source.layouts:
            assert layout_id in layouts, f"{source.id}: unknown layout {layout_id}"
            assert layouts[layout_id].source == source.id, (
                f"{layout_id} belongs to {layouts[layout_id].source}"
            )
        if not source.downloadable:
            assert "local file" in source.notes, source.id
    assert set(layouts) == set(listed), "every layout the ingest knows belongs to a registered source"


def test_bundled_home_office_patterns_pick_the_right_links():
    registry = source_registry.load_registry(source_registry.DEFAULT_REGISTRY)
    crime = re.compile(registry["home_office_recorded_crime"].link_text, re.IGNORECASE)
    outcomes = re.compile(registry["home_office_outcomes"].link_text, re.IGNORECASE)
    assert crime.search(HO_TITLE)
    assert not crime.search(HO_TITLE.replace("Police Force Area", "Community Safety Partnership"))
    assert outcomes.search("Outcomes open data, year ending March 2015")
    assert not outcomes.search(
        "Outcomes for alternate offences open data, year ending March 2017 to year ending March 2026"
    )
    assert "prc-pfa-mar2013-onwards-tables-300125.ods" in " ".join(
        registry["home_office_recorded_crime"].last_known_urls
    )


# --------------------------------------------------------------------------- command line


def test_cli_fetch_list_prints_the_registry(capsys, monkeypatch):
    monkeypatch.delenv(source_registry.REGISTRY_ENV, raising=False)
    assert cli.main(["fetch", "--list"]) == 0
    out = capsys.readouterr().out
    for source_id in SOURCE_IDS:
        assert re.search(rf"^{source_id}$", out, re.MULTILINE)
    assert "publisher:    Home Office" in out
    assert "January, April, July and October" in out
    assert (
        "https://www.gov.uk/government/statistical-data-sets/police-recorded-crime-and-outcomes-open-data-tables"
        in out
    )


def test_cli_fetch_downloads_named_sources(server, tmp_path, capsys):
    registry = _registry_file(tmp_path, server)
    out = tmp_path / "raw"
    code = cli.main(["fetch", "home_office_recorded_crime", "--out", str(out), "--registry", str(registry)])
    assert code == 0
    assert f"fetched {out / 'prc-pfa-mar2013-onwards-tables-230726.ods'}" in capsys.readouterr().out


def test_cli_fetch_of_a_local_only_source_exits_1(server, tmp_path, capsys):
    registry = _registry_file(tmp_path, server)
    assert cli.main(["fetch", "cps_vawg", "--out", str(tmp_path / "raw"), "--registry", str(registry)]) == 1
    assert (
        "error: source cps_vawg has no file that can be downloaded automatically" in capsys.readouterr().err
    )
    assert cli.main(["fetch", "nope", "--registry", str(registry)]) == 1
    assert "unknown source(s): nope" in capsys.readouterr().err


def test_cli_fetch_without_names_fetches_every_findable_source(server, tmp_path, capsys):
    registry = _registry_file(tmp_path, server)
    out = tmp_path / "raw"
    assert cli.main(["fetch", "--out", str(out), "--registry", str(registry)]) == 1
    captured = capsys.readouterr()
    assert "skipped cps_vawg: no file to download automatically; supply it locally" in captured.out
    assert captured.out.count("fetched ") == 4
    assert "error: source ons_pfa_recorded_crime: no link on" in captured.err
    assert "error: could not fetch ons_pfa_recorded_crime (see above)" in captured.err
    assert _files_in(out) == [
        "complete.csv",
        "prc-outcomes-open-data-mar2015-tables-241024.xlsx",
        "prc-outcomes-open-data-mar2016-tables-240724.xlsx",
        "prc-pfa-mar2013-onwards-tables-230726.ods",
    ]


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse" / "hsinsight.duckdb"
    warehouse.parent.mkdir()
    monkeypatch.setenv("HSINSIGHT_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("HSINSIGHT_QUALITY_DIR", str(tmp_path / "quality"))
    monkeypatch.setenv("HSINSIGHT_QUARANTINE_DIR", str(tmp_path / "quarantine"))
    monkeypatch.setenv(fetch.RETRIES_ENV, "1")
    monkeypatch.setenv(fetch.BACKOFF_ENV, "0.01")
    monkeypatch.setenv(fetch.TIMEOUT_ENV, "2")
    return warehouse


def test_run_on_a_dropped_download_fails_and_leaves_the_warehouse(server, isolated_env, capsys):
    warehouse = isolated_env
    published = b"the published warehouse, byte for byte"
    warehouse.write_bytes(published)
    url = f"{server.url}/dropped.csv"
    assert cli.main(["run", "--raw", url]) == 1
    err = capsys.readouterr().err
    assert f"error: could not download {url}" in err
    assert f"received {DROPPED_SENT:,} of {DROPPED_LENGTH:,} bytes" in err
    assert "the published warehouse was left as it was" in err
    assert warehouse.read_bytes() == published
    assert _everything_in(warehouse.parent) == ["hsinsight.duckdb"]  # no download or build folder left
    assert server.hits["/dropped.csv"] == 2


def test_run_on_a_url_hands_the_downloaded_file_to_the_pipeline(server, isolated_env, capsys):
    """The downloaded file reaches the real pipeline (which refuses it: it is not an official
    layout, so ingest names it and quarantines it), and the download folder is cleaned up."""
    warehouse = isolated_env
    assert cli.main(["run", "--raw", f"{server.url}/files/complete.csv"]) == 1
    captured = capsys.readouterr()
    assert "downloaded complete.csv" in captured.out
    assert "complete.csv" in captured.err and "no header row of a known layout" in captured.err
    assert not list(warehouse.parent.glob(".hsinsight-download-*"))  # cleaned up afterwards
    assert not warehouse.exists()
