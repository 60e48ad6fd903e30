"""The dashboards against hostile input: text a user or a file controls is shown as text,
never as Markdown; every CSV download is safe to open in a spreadsheet; a link with values
the warehouse does not know falls back with a note on every page; the server listens on
this machine only, however it is started.

Markdown is checked by rendering what the app hands Streamlit with a CommonMark renderer
(markdown-it): no link, image, HTML, heading or list may come out of a value. The
browser test at the end checks the same in the page Chromium draws.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import html
import io
import os
import re
import socket
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from browser_support import IDLE_APP, VIEWPORT, chromium, free_port, serving
from dashboard_support import (
    DASHBOARDS,
    PROJECT_ROOT,
    Downloads,
    build_warehouse,
    copy_warehouse,
    open_page,
    republish,
    shown_table,
    write_run_log,
)
from hsinsight import cli
from hsinsight.dashboard import docs_site, filters, formatting
from hsinsight.dashboard.pages import PAGES

SLUGS = [p.slug for p in PAGES]
EVIL = "evil.example"
#: Text that Markdown would turn into a link, an image, HTML, a heading, a list, maths,
#: an icon or an emoji, were it not escaped.
HOSTILE_TEXTS = [
    f"[open the report](https://{EVIL}/phish)",
    f"![tracker](https://{EVIL}/pixel.png)",
    f"<https://{EVIL}/auto>",
    f"<img src=x onerror=alert(1)> <a href='https://{EVIL}'>x</a>",
    "<script>alert(document.cookie)</script>",
    "# A heading\n\n- a list item\n1. numbered",
    "**bold** _italic_ ~~struck~~ `code`",
    "$x^2$ and $$\\sum$$",
    ":material/warning: :smile: :red[red text] :blue-background[x]",
    f"[ref]: https://{EVIL}\n[ref]",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "&lt;b&gt; &amp; &#x3C;",
    "line one  \nline two\\\nthree",
    "``` fenced\ncode\n```",
    f"bare https://{EVIL}/a, http://{EVIL}, www.{EVIL}/b, WWW.{EVIL} and mailto:help@{EVIL}",
]
#: What GitHub-flavoured Markdown (Streamlit's) makes a link of in plain text, escaped or
#: not: the patterns of its "autolink literal" extension.
GFM_BARE_LINK = re.compile(r"(https?://|www(?=\.))[-.\w]+|[-.\w+]+@[-\w]+(\.[-\w]+)+", re.ASCII | re.I)
#: Every starting character a spreadsheet may read as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
#: What no escaped value may become once rendered.
ACTIVE_HTML = re.compile(r"<(a|img|script|h[1-6]|li|ul|ol|table|em|strong|s|del|pre|blockquote|hr)\b", re.I)


def render(markdown: str) -> str:
    return _MARKDOWN.render(markdown)


def shown_text(markdown: str) -> str:
    """The text a reader sees: the rendered HTML without its tags, entities decoded, word
    joiners dropped."""
    return html.unescape(re.sub(r"<[^>]+>", "", render(markdown))).replace("\u2060", "").strip()


#: What no element of a page may hold, whatever its own Markdown: an image, a script, a
#: link to the hostile host.
ON_PAGE = re.compile(rf"<(img|script)\b|<a [^>]*href=[^>]*{re.escape(EVIL)}", re.I)


def assert_inert(markdown: str) -> None:
    """An escaped value renders as plain text (a code span at most), with no bare address
    GitHub's Markdown would make a link of outside code."""
    rendered = render(markdown)
    assert not ACTIVE_HTML.search(rendered), rendered
    text = html.unescape(re.sub(r"<code>.*?</code>|<[^>]+>", "", rendered))
    assert not GFM_BARE_LINK.search(text), text


def assert_safe_element(markdown: str) -> None:
    """A page element (the app's own Markdown around escaped values) shows no image, no
    script and no link to the hostile host."""
    rendered = render(markdown)
    assert not ON_PAGE.search(rendered), rendered
    text = html.unescape(re.sub(r"<code>.*?</code>|<[^>]+>", "", rendered))
    assert not [m.group() for m in GFM_BARE_LINK.finditer(text) if EVIL in m.group()], text


@pytest.fixture(autouse=True)
def docs_served_from_tmp(monkeypatch, tmp_path) -> Path:
    """The data quality page copies the documentation sites here, not into dashboards/static/."""
    folder = tmp_path / "static" / "docs"
    monkeypatch.setattr(docs_site, "DOCS_DIR", folder)
    return folder


@pytest.fixture
def downloads(monkeypatch) -> Downloads:
    return Downloads(monkeypatch)


# =========================================================================== escape_markdown


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_escaped_text_renders_as_itself_and_nothing_else(text):
    flat = " ".join(text.split())
    escaped = formatting.escape_markdown(text)
    assert_inert(escaped)
    assert shown_text(escaped) == flat
    # streamlit's own directives (:material/...:, :red[...]) need a colon before a word
    assert not re.search(r":\w", escaped)
    as_code = formatting.escape_markdown(text, code=True)
    rendered = render(as_code)
    assert rendered.count("<code>") == 1 and not ACTIVE_HTML.search(rendered), rendered
    assert shown_text(as_code) == flat
    assert not re.search(r":\w", as_code)


def test_without_escaping_the_hostile_texts_do_render_as_markdown():
    """The renderer used here would show the attacks: the checks above can fail."""
    assert "<a href" in render(HOSTILE_TEXTS[0]) and "<img" in render(HOSTILE_TEXTS[1])
    assert "<h1>" in render(HOSTILE_TEXTS[5]) and "<strong>" in render(HOSTILE_TEXTS[6])
    assert len(GFM_BARE_LINK.findall(HOSTILE_TEXTS[-1])) == 5


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"))
        | st.sampled_from("\n\t[]()!<>`*_#:$\\&;|~-+=."),
        max_size=60,
    )
)
def test_any_text_escaped_is_shown_exactly(text):
    flat = " ".join(text.split()).replace("\u2060", "")  # what a reader sees of it
    for escaped in (formatting.escape_markdown(text), formatting.escape_markdown(text, code=True)):
        assert shown_text(escaped) == flat.strip()
        assert not ACTIVE_HTML.search(render(escaped))


# =========================================================================== CSV downloads


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def assert_no_formula(data: bytes, where: str) -> int:
    """Every cell of a CSV either starts with no formula character or is a plain number;
    returns the number of cells looked at."""
    rows = _cells(data)
    for row in rows:
        for cell in row:
            assert not (cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(cell)), (where, cell)
    return sum(len(row) for row in rows)


def test_csv_bytes_neutralises_formulas_and_keeps_numbers():
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tx", "\rx", "plain", "'=quoted"],
            "numbers_as_text": ["-12", "-00", "+5", "-1.5e3", "3", "-", "--1", None],
            "count": [-5, 0, 3, -1_000_000, 7, 8, -9, 10],
            "share": [-0.25, 0.5, None, 1.0, -1e-9, 2.0, 3.0, 4.0],
            "nullable": pd.array([-1, None, 2, 3, 4, 5, 6, -7], dtype="Int64"),
            "string": pd.array(["=A1", None, "ok", "-x", "@", "+", "=", "b"], dtype="string"),
            "category": pd.Categorical(["=c", "d", "=c", "d", "d", "d", "d", "d"]),
            "when": pd.to_datetime(["2016-12-31"] * 8),
            '=HYPERLINK("https://evil.example")': [True] * 8,
        }
    )
    original = frame.copy()
    data = formatting.csv_bytes(frame)
    pd.testing.assert_frame_equal(frame, original)  # the table shown is not changed
    rows = _cells(data)
    header, body = rows[0], rows[1:]
    assert header[-1] == '\'=HYPERLINK("https://evil.example")'
    column = {name: [row[i] for row in body] for i, name in enumerate(header)}
    assert column["text"] == [
        "'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1:A9)", "'\tx", "'\rx", "plain", "'=quoted",
    ]  # fmt: skip
    assert column["numbers_as_text"] == ["-12", "-00", "+5", "-1.5e3", "3", "'-", "'--1", ""]
    assert column["string"] == ["'=A1", "", "ok", "'-x", "'@", "'+", "'=", "b"]
    assert column["category"][:2] == ["'=c", "d"]
    assert column["when"][0].startswith("2016-12-31")
    read_back = pd.read_csv(io.BytesIO(data))
    # negative numbers stay numbers
    assert read_back["count"].tolist() == [-5, 0, 3, -1_000_000, 7, 8, -9, 10]
    assert read_back["count"].dtype.kind == "i" and read_back["share"].dtype.kind == "f"
    assert read_back["share"].iloc[0] == -0.25 and read_back["nullable"].iloc[-1] == -7
    assert_no_formula(data, "csv_bytes")
    # without it, the same table is a spreadsheet attack
    with pytest.raises(AssertionError):
        assert_no_formula(frame.to_csv(index=False).encode(), "to_csv")


def test_a_line_break_in_a_cell_cannot_start_a_row_of_its_own():
    """A bare carriage return would end the line in a spreadsheet, and the text after it
    would start a new row, as a formula; csv_bytes quotes every cell holding a line break."""
    values = ["note\r=cmd|' /C calc'!A0", "note\n@SUM(1)", "note\r\n+1+1"]
    data = formatting.csv_bytes(pd.DataFrame({"value": values}))
    assert _cells(data) == [["value"], *([value] for value in values)]
    lines = re.split(rb"\r\n(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", data)  # line ends outside quotes
    assert len([line for line in lines if line]) == 1 + len(values)
    # what a plain to_csv would have written: a row that starts with a formula
    plain = pd.DataFrame({"value": values}).to_csv(index=False).encode()
    assert any(line.startswith(b"=cmd") for line in re.split(rb"\r", plain))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_csv_bytes_defuses_any_text(values):
    data = formatting.csv_bytes(pd.DataFrame({"value": values}))
    assert_no_formula(data, "csv_bytes")
    shown = [row[0] for row in _cells(data)[1:]]
    for value, cell in zip(values, shown, strict=False):
        if value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
            assert cell.startswith("'")


#: The dashboard's shared code, inside the installed package.
PACKAGE = Path(docs_site.__file__).parent


def _download_calls() -> list[tuple[str, ast.Call]]:
    """Every ``st.download_button(...)`` call in the dashboard's code (the page scripts and
    the package), named by its file and
    its widget key (else its line)."""
    calls = []
    for path in sorted([*DASHBOARDS.rglob("*.py"), *PACKAGE.rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "download_button"
            ):
                key = next((k.value for k in node.keywords if k.arg == "key"), None)
                name = ast.unparse(key) if key is not None else f"line {node.lineno}"
                calls.append((f"{path.relative_to(PROJECT_ROOT)}:{name}", node))
    return calls


DOWNLOAD_CALLS = _download_calls()


def test_the_dashboards_have_download_buttons_to_check():
    assert len(DOWNLOAD_CALLS) >= 2, [where for where, _ in DOWNLOAD_CALLS]


#: What a download that is not a CSV may be: a document the app writes itself.
DOCUMENT_TYPES = ("text/html", "application/pdf")


@pytest.mark.parametrize("where", [where for where, _ in DOWNLOAD_CALLS])
def test_every_download_button_offers_csv_through_csv_bytes(where):
    """A CSV download (``mime="text/csv"``, or a ``.csv`` file name) gets its data from
    ``csv_bytes(...)``; any other download declares a document type, never a CSV one."""
    call = dict(DOWNLOAD_CALLS)[where]
    keywords = {k.arg: k.value for k in call.keywords}
    data = call.args[1] if len(call.args) > 1 else keywords["data"]
    mime = keywords.get("mime")
    assert isinstance(mime, ast.Constant) and isinstance(mime.value, str), f"{where}: say the mime type"
    file_name = ast.unparse(keywords.get("file_name", ast.Constant("")))
    if mime.value == "text/csv" or ".csv" in file_name:
        assert mime.value == "text/csv", where
        assert isinstance(data, ast.Call), (where, ast.unparse(data))
        assert ast.unparse(data.func) in ("csv_bytes", "formatting.csv_bytes"), (where, ast.unparse(data))
    else:
        assert mime.value in DOCUMENT_TYPES and "csv" not in file_name.lower(), (where, mime.value)


# ---- the pages, on a warehouse and run log holding formulas and Markdown

HOSTILE_FILE = '=HYPERLINK("https://evil.example/x","open me")'
HOSTILE_SHEET = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_MESSAGE = (
    'ingest refused police.csv, row 7, column "count": the value '
    f'"![x](https://{EVIL}/x.png)" is not a whole number; see [the fix](https://{EVIL}/fix) '
    "<img src=x onerror=alert(1)> :material/warning: # not a heading; ask www.evil.example or "
    "help@evil.example"
)
HOSTILE_RUN_ID = "=1+1 [run](https://evil.example)"


@pytest.fixture(scope="module")
def hostile_warehouse(sample_warehouse: Path, tmp_path_factory) -> Path:
    """The sample's warehouse with a source file and sheet named as formulas, and a run
    log whose run id, orchestrator, message and checks hold formulas and Markdown."""
    warehouse = copy_warehouse(sample_warehouse, tmp_path_factory.mktemp("hostile"))

    def change(con) -> None:
        first = con.execute("select min(file_name) from marts.source_files").fetchone()[0]
        con.execute(
            "update marts.source_files set file_name = ?, sheet = ? where file_name = ?",
            [HOSTILE_FILE, HOSTILE_SHEET, first],
        )

    republish(warehouse, change)
    started = dt.datetime(2025, 7, 1, 9, 0)
    write_run_log(
        warehouse.parent / "runs.duckdb",
        runs=[
            (
                HOSTILE_RUN_ID,
                f"[direct](https://{EVIL})",
                started,
                started + dt.timedelta(seconds=5),
                5.0,
                "failed",
                False,
                "=cmd|' /C calc'!A0",
                1,
                10,
                2,
                1,
                0,
                1,
                HOSTILE_MESSAGE,
                True,
                None,
            ),
        ],  # fmt: skip
        results=[
            (HOSTILE_RUN_ID, "+check_name()", "error", "@description", False, 10, 1),
            (HOSTILE_RUN_ID, "counts_positive", "warning", "-2+3", True, 10, 0),
        ],
        findings=[
            (
                HOSTILE_RUN_ID,
                "+check_name()",
                "error",
                "=expectation",
                "count",
                "-1 is negative",
                "E23000001",
                "=Force",
                "2016",
                "@detail",
            ),
        ],  # fmt: skip
    )
    return warehouse


@pytest.mark.parametrize("slug", SLUGS)
def test_every_csv_download_on_every_page_is_safe_to_open(slug, hostile_warehouse, monkeypatch, downloads):
    at = open_page(hostile_warehouse, monkeypatch, slug)
    buttons = at.get("download_button")
    csv_buttons = [b for b in buttons if b.proto.label.startswith("Download CSV")]
    assert csv_buttons, f"no CSV download on {slug}"
    cells = 0
    for button in csv_buttons:
        data = downloads.data(button)
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.csv", downloads.file_name(button)), (
            downloads.file_name(button)
        )
        cells += assert_no_formula(data, f"{slug}: {button.proto.label}")
    assert cells > 0
    if slug == "data-quality":

        def offered(key: str) -> set[str]:
            button = next(b for b in csv_buttons if b.proto.id.endswith(f"download-{key}"))
            return {cell for row in _cells(downloads.data(button)) for cell in row}

        assert {"'" + HOSTILE_FILE, "'" + HOSTILE_SHEET} <= offered("source-files")
        assert {"'" + HOSTILE_RUN_ID, "'=cmd|' /C calc'!A0"} <= offered("runs")
        assert {"'+check_name()", "'-2+3"} <= offered("check-results")
        assert {"'=expectation", "'=Force", "'@detail", "'-1 is negative"} <= offered("check-findings")
        # the table on the page still shows the values as they are
        assert HOSTILE_FILE in set(shown_table(at, "source-files")["file_name"])


def test_run_log_text_on_the_data_quality_page_is_shown_as_text(hostile_warehouse, monkeypatch):
    at = open_page(hostile_warehouse, monkeypatch, "data-quality")
    message = [e.value for e in at.error if "ingest refused" in e.value]
    assert len(message) == 1, [e.value for e in at.error]
    assert_inert(message[0])
    assert shown_text(message[0]) == HOSTILE_MESSAGE
    run_caption = next(c.value for c in at.caption if c.value.startswith("Run "))
    assert_inert(run_caption)
    assert HOSTILE_RUN_ID in shown_text(run_caption) and f"[direct](https://{EVIL})" in shown_text(
        run_caption
    )
    for element in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success]:
        assert_safe_element(element.value)


def test_a_warehouse_path_holding_markdown_is_shown_as_text(tmp_path, monkeypatch):
    missing = tmp_path / f"[here](https://{EVIL})" / "![x](https://evil.example/x.png)" / "hsinsight.duckdb"
    monkeypatch.setenv("HSINSIGHT_WAREHOUSE", str(missing))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(DASHBOARDS / "app.py"), default_timeout=60).run()
    assert not at.exception
    (error,) = at.error
    assert "No warehouse has been published" in error.value
    assert_inert(error.value)
    assert str(missing) in shown_text(error.value)


# =========================================================================== links with unknown values


def test_periods_that_are_no_date_are_refused_not_raised():
    for text in ("0000", "0000-01-01", "2020-13-45", "9999/00", "10000", "2016-02-30", "-1", "2016/1",
                 "２０１６-１２-３１", "1" * 400, "2016-12-31T00:00", ""):  # fmt: skip
        assert filters.parse_period(text) is None, text
    assert filters.parse_period(" 2016 ") == dt.date(2016, 12, 31)
    assert filters.parse_period("9998/99") == dt.date(9999, 3, 31)


BAD_LINKS = {
    "markup": {
        "force": "<script>alert(1)</script>",
        "cps_area": f"[CPS Wessex](https://{EVIL})",
        "offence": "junk",
        "period": "0000",
    },
    "more": {
        "force": f"![x](https://{EVIL}/x.png)",
        "cps_area": ":material/warning: :red[alarm]",
        "offence": "`stalking`",
        "period": "2020-13-45",
    },
}


@pytest.mark.parametrize("case", list(BAD_LINKS))
@pytest.mark.parametrize("slug", SLUGS)
def test_unknown_values_in_a_link_fall_back_with_a_note_on_every_page(
    slug, case, sample_warehouse, monkeypatch
):
    params = BAD_LINKS[case]
    at = open_page(sample_warehouse, monkeypatch, slug, params)
    assert not at.exception and not at.error, [e.value for e in at.error]
    notes = [w.value for w in at.warning if w.value.startswith("The link's")]
    assert len(notes) == len(params), notes
    for note, value in zip(notes, params.values(), strict=True):
        assert_inert(note)
        assert value in shown_text(note), (note, value)
    assert at.query_params == {}
    for element in [*at.markdown, *at.caption, *at.info, *at.warning]:
        assert_safe_element(element.value)


# =========================================================================== listening address


def _other_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback."""
    return [
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family == socket.AF_INET and not address.address.startswith("127.")
    ]


@contextmanager
def _serving(command: list[str], port: int, tmp_path: Path, warehouse: Path) -> Iterator[psutil.Process]:
    """``command`` started in the project root, once it serves on 127.0.0.1:``port``;
    stopped on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env |= {"HOME": str(tmp_path), "HSINSIGHT_WAREHOUSE": str(warehouse)}
    with serving(command, port, tmp_path / "server.log", env=env, timeout=60) as server:
        yield psutil.Process(server.pid)


def _listening(command: list[str], port: int, tmp_path: Path, warehouse: Path) -> list[str]:
    """The addresses the server ``command`` starts listens on for ``port`` (and a check
    that it cannot be reached on this machine's other addresses)."""
    with _serving(command, port, tmp_path, warehouse) as process:
        listening = sorted(
            {
                c.laddr.ip
                for p in [process, *process.children(recursive=True)]
                for c in p.net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN and c.laddr.port == port
            }
        )
        for address in _other_addresses():
            with socket.socket() as sock, pytest.raises(OSError):
                sock.settimeout(2)
                sock.connect((address, port))
        return listening


@pytest.fixture
def small_warehouse(tmp_path) -> Path:
    return build_warehouse(tmp_path / "warehouse" / "hsinsight.duckdb")


def test_streamlit_run_from_the_project_root_listens_on_loopback_only(tmp_path, small_warehouse):
    """As the README documents it: `streamlit run dashboards/app.py`, no address given."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "dashboards/app.py",
               "--server.port", str(port), "--server.headless", "true"]  # fmt: skip
    assert _listening(command, port, tmp_path, small_warehouse) == ["127.0.0.1"]


def test_hsinsight_dashboard_listens_on_loopback_only(tmp_path, small_warehouse):
    port = free_port()
    command = [str(Path(sys.executable).parent / "hsinsight"), "dashboard", "--port", str(port),
               "--warehouse", str(small_warehouse)]  # fmt: skip
    assert _listening(command, port, tmp_path, small_warehouse) == ["127.0.0.1"]


def test_the_project_config_binds_loopback_and_sends_no_statistics(tmp_path):
    import tomllib

    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False
    # and no other config of the project's says otherwise
    for other in PROJECT_ROOT.glob("dashboards/**/.streamlit/config.toml"):
        settings_ = tomllib.loads(other.read_text())
        assert settings_.get("server", {}).get("address", "127.0.0.1") == "127.0.0.1", other
        assert settings_.get("browser", {}).get("gatherUsageStats", False) is False, other


def test_hsinsight_dashboard_passes_the_address_and_turns_statistics_off(monkeypatch, tmp_path, capsys):
    """The command it becomes (captured instead of executed), with the default address and
    with another one asked for."""
    started: list[list[str]] = []

    def capture(path, argv, env):
        started.append(list(argv))

    monkeypatch.setattr(cli.os, "execve", capture)
    warehouse = str(tmp_path / "hsinsight.duckdb")
    cli.main(["dashboard", "--warehouse", warehouse])
    cli.main(["dashboard", "--warehouse", warehouse, "--host", "0.0.0.0", "--port", "8600"])
    default, other = started

    def option(argv: list[str], name: str) -> str:
        return argv[argv.index(name) + 1]

    assert option(default, "--server.address") == "127.0.0.1" and option(default, "--server.port") == "8501"
    assert option(other, "--server.address") == "0.0.0.0" and option(other, "--server.port") == "8600"
    assert option(default, "--browser.gatherUsageStats") == "false"
    err = capsys.readouterr().err
    assert err.count("warning: listening on 0.0.0.0") == 1 and "no login" in err  # said out loud, once


# =========================================================================== in the browser


@pytest.mark.browser
def test_hostile_text_is_drawn_as_text_in_the_browser(hostile_warehouse, tmp_path):
    """`hsinsight dashboard` on the hostile warehouse, its data quality page opened in
    Chromium by a link with Markdown in its values: no image, link or script comes of
    them, and the text is on the page as written."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "hsinsight"), "dashboard", "--port", str(port),
               "--warehouse", str(hostile_warehouse)]  # fmt: skip
    link = BAD_LINKS["more"] | {"cps_area": f"[CPS Wessex](https://{EVIL}/area)"}
    url = f"http://127.0.0.1:{port}/data-quality?{urllib.parse.urlencode(link)}"
    with _serving(command, port, tmp_path, hostile_warehouse), chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("ingest refused police.csv").wait_for(timeout=60_000)
        page.wait_for_selector(IDLE_APP, timeout=60_000)
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator(f"img[src*='{EVIL}']").count() == 0
        assert page.locator(f"a[href*='{EVIL}']").count() == 0
        assert page.locator("img[src='x']").count() == 0
        body = page.locator("body").inner_text().replace("\u2060", "")
        assert HOSTILE_MESSAGE in " ".join(body.split())
        for value in link.values():
            assert value in body, value
        assert not dialogs
        assert not [u for u in asked if (urllib.parse.urlsplit(u).hostname or "").endswith(EVIL)]
