"""Finding and downloading the official files, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from hsinsight import cli, fetch
from hsinsight.errors import HsinsightError
from hsinsight.sources import LAYOUTS

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
        path = self.path.split("?", 1)[0]
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
            elif path == "/download":
                self._send(
                    COMPLETE,
                    headers={"Content-Disposition": 'attachment; filename="../outcomes 2015.csv"'},
                )
            elif path == "/landing/":
                page = LANDING_PAGE.replace("PORT", str(self.server.server_address[1])).encode()
                self._send(page, headers={"Content-Type": "text/html; charset=utf-8"})
            elif path.startswith("/media/"):
                self._send(path.encode() + b"\n" + COMPLETE)
            else:
                self._send(b"no such page", status=404)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout scenarios)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.slow_seconds = 1.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server():
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _everything_in(folder: Path) -> list[str]:
    """Every entry in a folder, hidden ones included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


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
    assert _everything_in(tmp_path / "out") == ["complete.csv"]


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
    assert _everything_in(tmp_path) == ["data.csv"]


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
    monkeypatch.setenv(fetch.REGISTRY_ENV, str(_registry_file(tmp_path, server)))
    paths = fetch.fetch_source("home_office_recorded_crime", tmp_path / "raw", **FAST)
    assert paths == [tmp_path / "raw" / "prc-pfa-mar2013-onwards-tables-230726.ods"]
    assert paths[0].read_bytes().startswith(b"/media/bb22/prc-pfa-mar2013-onwards-tables-230726.ods\n")
    assert server.hits["/landing/"] == 1


def test_fetch_source_downloads_every_matching_link(server, tmp_path):
    registry = fetch.load_registry(_registry_file(tmp_path, server))
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
    with pytest.raises(fetch.RegistryError, match=expected) as caught:
        fetch.load_registry(path)
    assert str(path) in str(caught.value)


def test_registry_that_is_not_yaml_or_missing_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("sources: [unclosed\n")
    with pytest.raises(fetch.RegistryError, match="not valid YAML"):
        fetch.load_registry(bad)
    with pytest.raises(fetch.RegistryError, match="cannot be read"):
        fetch.load_registry(tmp_path / "absent.yml")
    with pytest.raises(fetch.RegistryError, match="'sources' list"):
        fetch.parse_registry({"source": []}, "x.yml")


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
    monkeypatch.delenv(fetch.REGISTRY_ENV, raising=False)
    registry = fetch.load_registry()
    assert sorted(registry) == sorted(SOURCE_IDS)
    layouts = {layout.layout: layout for layout in LAYOUTS}
    listed = [layout_id for source in registry.values() for layout_id in source.layouts]
    assert len(listed) == len(set(listed)), "a layout is listed by two sources"
    for source in registry.values():
        for field_name in fetch.REQUIRED_FIELDS:
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
    registry = fetch.load_registry(fetch.DEFAULT_REGISTRY)
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
    monkeypatch.delenv(fetch.REGISTRY_ENV, raising=False)
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
    assert _everything_in(out) == [
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
