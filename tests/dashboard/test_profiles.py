"""Problem profiles (``hsinsight profile``), on the warehouse the pipeline publishes from
the sample: the figures the document states are the marts' (read back from the HTML's
``data-figure`` cells and compared with ``marts.problem_profile`` read here), every
question is raised by its rule and no rule fires without its figures, the HTML loads
nothing from outside (headless Chromium with the network blocked), the PDF has the
pages and the text it should, ``--all`` writes a set with an index, and the set the
pipeline renders after a publish is swapped into place whole."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import threading
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from hsinsight import cli, profiles
from hsinsight.profiles import pdf as printing
from hsinsight.profiles import rules
from hsinsight.profiles.figures import TEXT_FIGURES, format_figure

GWENT = "W15000002"
CITY_OF_LONDON = "E23000034"
BTP = "E23000001"

needs_chromium = pytest.mark.skipif(not printing.chromium_available()[0], reason="no Chromium installed")


# --------------------------------------------------------------------------- helpers


def read_marts(warehouse: Path, sql: str, params: list | None = None) -> list[dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


class Cells(HTMLParser):
    """Every element with ``data-figure``: its name, raw value and the text shown; the
    rules shown (``data-rule``) and not raised (``data-rule-not-raised``); every URL an
    element names in ``src``, ``href``, ``srcset``, ``action`` or ``data``."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[tuple[str, str, str]] = []
        self.rules: list[str] = []
        self.not_raised: list[str] = []
        self.urls: list[str] = []
        self._open: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            if found.get(name):
                self.urls.append(found[name])
        if "data-rule" in found:
            self.rules.append(found["data-rule"])
        if "data-rule-not-raised" in found:
            self.not_raised.append(found["data-rule-not-raised"])
        if "data-figure" in found:
            self._open.append((found["data-figure"], found.get("data-value", ""), []))

    def handle_data(self, data):
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag):
        if self._open and tag in ("td", "span", "th"):
            key, value, text = self._open.pop()
            self.figures.append((key, value, "".join(text).strip()))


def parse(html: str) -> Cells:
    cells = Cells()
    cells.feed(html)
    return cells


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF Chromium printed (Skia: CID fonts whose ToUnicode
    maps glyphs to text, uncompressed object table, Flate streams); a line per text
    positioning. Enough to read what a page says, not a general PDF reader."""
    objects: dict[int, tuple[bytes, bytes | None]] = {}
    for m in re.finditer(rb"(\d+)\s+0\s+obj\b(.*?)endobj", data, re.S):
        body, stream = m.group(2), None
        start = re.search(rb"stream\r?\n", body)
        if start:
            raw = body[start.end() : body.rindex(b"endstream")]
            head = body[: start.start()]
            stream = zlib.decompress(raw) if b"FlateDecode" in head else raw
            body = head
        objects[int(m.group(1))] = (body, stream)

    def ref(body: bytes, key: bytes) -> int | None:
        m = re.search(rb"/" + key + rb"\s+(\d+)\s+0\s+R", body)
        return int(m.group(1)) if m else None

    def cmap(stream: bytes) -> dict[int, str]:
        table: dict[int, str] = {}
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
            for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    table[code] = chr(int(dst, 16) + i)
        return table

    pages = []
    for _, (body, _) in sorted(objects.items()):
        if not re.search(rb"/Type\s*/Page\b", body):
            continue
        resources = objects[ref(body, b"Resources")][0] if ref(body, b"Resources") else body
        fonts: dict[bytes, dict[int, str]] = {}
        block = re.search(rb"/Font\s*<<(.*?)>>", resources, re.S)
        for name, number in re.findall(rb"/(\w+)\s+(\d+)\s+0\s+R", block.group(1) if block else b""):
            unicode = ref(objects[int(number)][0], b"ToUnicode")
            fonts[name] = cmap(objects[unicode][1] or b"") if unicode else {}
        contents = re.search(rb"/Contents\s*(\[.*?\]|\d+\s+0\s+R)", body, re.S)
        numbers = [int(x) for x in re.findall(rb"(\d+)\s+0\s+R", contents.group(1))] if contents else []
        content = b"\n".join(objects[n][1] or b"" for n in numbers)
        text, font = [], {}
        pattern = rb"/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj|\[(.*?)\]\s*TJ|\bTm\b|\bBT\b"
        for token in re.finditer(pattern, content, re.S):
            if token.group(1):
                font = fonts.get(token.group(1), {})
            elif token.group(2) is not None or token.group(3) is not None:
                strings = (
                    [token.group(2)]
                    if token.group(2) is not None
                    else re.findall(rb"<([0-9A-Fa-f]*)>", token.group(3))
                )
                for string in strings:
                    text.extend(font.get(int(string[i : i + 4], 16), "") for i in range(0, len(string), 4))
            else:
                text.append("\n")
        pages.append(re.sub(r"\n\s*\n+", "\n", "".join(text)))
    return pages


def same_number(shown: str, expected: object) -> bool:
    return math.isclose(float(shown), float(expected), rel_tol=0, abs_tol=0)


@pytest.fixture(scope="module")
def snapshot(sample_warehouse):
    return profiles.load(sample_warehouse)


# --------------------------------------------------------------------------- the figures


@pytest.mark.parametrize("area_code", [GWENT, CITY_OF_LONDON, BTP])
def test_profile_states_the_figures_of_marts_problem_profile(sample_warehouse, tmp_path, area_code):
    out = tmp_path / "profile.html"
    assert (
        cli.main(["profile", "--force", area_code, "--out", str(out), "--warehouse", str(sample_warehouse)])
        == 0
    )
    html = out.read_text(encoding="utf-8")
    row = read_marts(
        sample_warehouse,
        "select * from marts.problem_profile where area_code = ? order by period_end desc limit 1",
        [area_code],
    )[0]
    cells = parse(html)
    stated = {}
    for key, value, text in cells.figures:
        if key in row:
            stated.setdefault(key, set()).add((value, text))
    # the measures every force has, stated wherever the document names them
    for key in ("stalking_offences", "harassment_offences", "harassment_to_stalking_ratio"):
        assert key in stated, key
    compared = 0
    for key, shown in stated.items():
        expected = row[key]
        for value, text in shown:
            if expected is None:
                assert (value, text) == ("", "not available"), key
            elif key in TEXT_FIGURES:
                assert value == str(expected), key
            elif isinstance(expected, bool):
                assert value == ("true" if expected else "false"), key
            else:
                assert same_number(value, expected), (key, value, expected)
                assert text == format_figure(key, expected), (key, text)
            compared += 1
    assert compared >= 30
    assert f"<h1>Stalking and harassment problem profile: {row['area_name']}</h1>" in html
    # the sentences carry the same figures as the cells
    assert (
        f"recorded {format_figure('stalking_offences', row['stalking_offences'])} stalking crimes in the "
        f"12 months to {row['period_end']:%-d %B %Y}" in html
    )
    # synthetic data are labelled as such, at the top and in every caveat box
    assert '<meta name="hsinsight-synthetic" content="true">' in html
    assert 'data-synthetic="true"' in html
    assert html.count("Synthetic sample data: these figures are invented") >= 6


def test_profile_of_an_earlier_period_and_its_sources(sample_warehouse, tmp_path):
    out = tmp_path / "gwent-2016.html"
    code = cli.main(
        [
            "profile",
            "--force",
            "gwent",
            "--period",
            "2016-12-31",
            "--out",
            str(out),
            "--warehouse",
            str(sample_warehouse),
        ]
    )
    assert code == 0
    html = out.read_text(encoding="utf-8")
    row = read_marts(
        sample_warehouse,
        "select * from marts.problem_profile where area_code = ? and period_end = date '2016-12-31'",
        [GWENT],
    )[0]
    values = {key: value for key, value, _ in parse(html).figures}
    assert same_number(values["stalking_offences"], row["stalking_offences"])
    assert same_number(
        values["harassment_to_stalking_ratio_peer_group"], row["harassment_to_stalking_ratio_peer_group"]
    )
    assert '<meta name="hsinsight-period-end" content="2016-12-31">' in html
    # every file the warehouse was built from, with its SHA-256
    files = read_marts(sample_warehouse, "select distinct file_name, sha256 from marts.source_files")
    assert files
    for f in files:
        assert f'data-sha256="{f["sha256"]}"' in html
        assert f["file_name"] in html
    assert "Living in fear – the police and CPS response to harassment and stalking" in html
    assert f"hsinsight {profiles.data.platform_version()}" in html


def test_a_period_the_warehouse_lacks_is_refused_with_the_periods_it_has(sample_warehouse, tmp_path, capsys):
    out = tmp_path / "x.html"
    args = ["profile", "--force", GWENT, "--period", "2016-12-30", "--out", str(out)]
    assert cli.main([*args, "--warehouse", str(sample_warehouse)]) == 1
    err = capsys.readouterr().err
    assert "no problem profile for Gwent for the 12 months to 2016-12-30" in err
    assert "2025-03-31" in err
    assert not out.exists()


# --------------------------------------------------------------------------- the rules


def _value_for(name: str):
    return "word" if name in TEXT_FIGURES else 1.0


def satisfying(rule: rules.Template) -> dict:
    """Figures that meet every condition of ``rule``, with every figure it names present."""
    figures = {name: _value_for(name) for name in rule.figures}
    for c in rule.when:
        if c.op == "missing":
            figures.pop(c.figure, None) if c.value else figures.setdefault(c.figure, 1.0)
        elif c.op == "is":
            figures[c.figure] = bool(c.value)
        elif c.op == "equals":
            figures[c.figure] = c.value
        else:
            if c.times:
                figures[c.times] = 2.0
            bound = float(c.value) * (2.0 if c.times else 1.0)
            step = max(abs(bound) * 0.1, 0.1)
            figures[c.figure] = {
                "greater_than": bound + step,
                "at_least": bound,
                "less_than": bound - step,
                "at_most": bound,
            }[c.op]
    return figures


def breaking(condition: rules.Condition, figures: dict) -> dict:
    """``figures`` changed so that ``condition`` no longer holds."""
    broken = dict(figures)
    if condition.op == "missing":
        if condition.value:
            broken[condition.figure] = 1.0
        else:
            broken.pop(condition.figure, None)
    elif condition.op == "is":
        broken[condition.figure] = not condition.value
    elif condition.op == "equals":
        broken[condition.figure] = f"not {condition.value}"
    else:
        bound = float(condition.value) * (float(figures[condition.times]) if condition.times else 1.0)
        step = max(abs(bound) * 0.1, 0.1)
        broken[condition.figure] = (
            bound - step if condition.op in ("greater_than", "at_least") else bound + step
        )
    return broken


QUESTION_RULES = rules.load_questions().rules


@pytest.mark.parametrize("rule", QUESTION_RULES, ids=lambda r: r.id)
def test_each_question_rule_fires_on_its_figures_and_not_without_them(rule):
    figures = satisfying(rule)
    raised = rules.questions(figures)
    assert [q.rule.id for q in raised if q.rule.id == rule.id] == [rule.id]
    question = next(q for q in raised if q.rule.id == rule.id)
    assert "{" not in question.text and "not available" not in question.text
    assert rule.inspection and rule.recommendation
    for condition in rule.when:
        broken = breaking(condition, figures)
        assert rule.id not in {q.rule.id for q in rules.questions(broken)}, condition.describe()
    for name in rule.figures:
        without = {k: v for k, v in figures.items() if k != name}
        assert rule.id not in {q.rule.id for q in rules.questions(without)}, f"fires without {name}"
        assert rule.id not in {q.rule.id for q in rules.questions({**figures, name: float("nan")})}


def test_the_issues_examples_raise_their_questions():
    base = {"area_name": "Northshire", "period": "12 months to 31 March 2025"}
    ratio = {
        **base,
        "harassment_to_stalking_ratio": 9.0,
        "harassment_to_stalking_ratio_peer_group": 3.0,
        "harassment_to_stalking_ratio_england_and_wales": 2.4,
    }
    raised = {q.rule.id: q for q in rules.questions(ratio)}
    assert set(raised) == {"recording-ratio-above-peer-group"}
    text = raised["recording-ratio-above-peer-group"].text
    assert "Northshire recorded 9.0 harassment crimes for every stalking crime" in text
    assert "audit" in text
    assert "recording" in raised["recording-ratio-above-peer-group"].rule.recommendation.lower()
    # a ratio near its peers' raises nothing
    assert rules.questions({**ratio, "harassment_to_stalking_ratio": 3.2}) == []

    outcomes = {
        **base,
        "stalking_share_charged_summonsed": 0.05,
        "stalking_share_charged_summonsed_england_and_wales": 0.10,
        "stalking_share_evidential_difficulties_victim_does_not_support": 0.60,
        "stalking_share_evidential_difficulties_victim_does_not_support_england_and_wales": 0.45,
    }
    raised = {q.rule.id: q for q in rules.questions(outcomes)}
    assert set(raised) == {"outcomes-stalking-victim-support"}
    assert "advocacy" in raised["outcomes-stalking-victim-support"].text
    assert "victims" in raised["outcomes-stalking-victim-support"].rule.recommendation.lower()
    # a low charge share alone, with victims supporting action as often as elsewhere, raises nothing
    steady = {**outcomes, "stalking_share_evidential_difficulties_victim_does_not_support": 0.45}
    assert rules.questions(steady) == []


def test_summary_sentences_need_every_figure_they_name():
    templates = rules.load_summary()
    full = {name: _value_for(name) for t in templates for name in t.figures}
    full["stalking_offences_previous"] = 10.0
    ids = [i for i, _ in rules.sentences(full)]
    assert "stalking-recorded" in ids and "stalking-recorded-first-year" not in ids
    without = {k: v for k, v in full.items() if k != "stalking_offences_previous"}
    ids = [i for i, _ in rules.sentences(without)]
    assert "stalking-recorded" not in ids and "stalking-recorded-first-year" in ids
    for template in templates:
        for name in template.fields:
            trimmed = {k: v for k, v in full.items() if k != name}
            assert template.id not in [i for i, _ in rules.sentences(trimmed)], (template.id, name)


def test_the_questions_a_profile_shows_are_exactly_the_rules_its_figures_meet(snapshot):
    seen = set()
    for code in snapshot.forces["area_code"]:
        profile = profiles.build(snapshot, code)
        cells = parse(profiles.render_html(profile))
        for rule in QUESTION_RULES:
            meets = rule.applies(profile.figures)
            assert (rule.id in cells.rules) is meets, (code, rule.id)
            assert (rule.id in cells.not_raised) is not meets, (code, rule.id)
            if meets:
                seen.add(rule.id)
    # the sample raises most of the rules somewhere, so this checks more than the empty case
    assert len(seen) >= 5


# --------------------------------------------------------------------------- finding a force


def test_an_unknown_force_is_an_error_listing_the_closest_names(sample_warehouse, tmp_path, capsys):
    out = tmp_path / "x.html"
    args = ["profile", "--force", "Devon & Cornwal", "--out", str(out), "--warehouse", str(sample_warehouse)]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "no police force area called 'Devon & Cornwal'" in err
    assert "closest names: Devon and Cornwall" in err
    assert not out.exists()
    with pytest.raises(profiles.UnknownForceError) as caught:
        profiles.find_force(profiles.load(sample_warehouse), "Yorkshire")
    assert {"North Yorkshire", "South Yorkshire", "West Yorkshire"} <= set(caught.value.suggestions)


def test_forces_are_found_by_code_name_and_publishers_spellings(snapshot):
    assert profiles.find_force(snapshot, GWENT) == (GWENT, "Gwent")
    assert profiles.find_force(snapshot, "  gwent ") == (GWENT, "Gwent")
    assert profiles.find_force(snapshot, "Devon & Cornwall")[1] == "Devon and Cornwall"
    assert profiles.find_force(snapshot, "London, City of") == (CITY_OF_LONDON, "City of London")


# --------------------------------------------------------------------------- a set


def test_all_writes_one_file_per_force_and_an_index(sample_warehouse, tmp_path):
    out = tmp_path / "set"
    assert cli.main(["profile", "--all", "--out", str(out), "--warehouse", str(sample_warehouse)]) == 0
    latest = read_marts(sample_warehouse, "select max(period_end) as p from marts.problem_profile")[0]["p"]
    forces = read_marts(
        sample_warehouse,
        "select area_code, area_name from marts.problem_profile where period_end = ? order by area_name",
        [latest],
    )
    written = sorted(p.name for p in out.glob("*.html") if p.name != "index.html")
    assert len(written) == len(forces) == 44
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    assert sorted(links) == written
    for force in forces:
        assert f'data-area-code="{force["area_code"]}"' in index
        page = (out / links[[f["area_code"] for f in forces].index(force["area_code"])]).read_text(
            encoding="utf-8"
        )
        assert f'<meta name="hsinsight-area-code" content="{force["area_code"]}">' in page
    assert not list(out.glob(".*")), "no partial files left behind"


def _set_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_render_all_after_publish_swaps_the_whole_set_into_place(sample_warehouse, tmp_path):
    root = tmp_path / "profiles"
    other = root / "2024-12-31"
    other.mkdir(parents=True)
    (other / "kept.txt").write_text("an older period's set stays")

    first = profiles.render_all_after_publish(sample_warehouse, root, pdf=False)
    assert first == root / "2025-03-31"
    expected = _set_files(first)
    assert "index.html" in expected and len(expected) == 45
    (first / "stale.html").write_text("from the set before")

    seen: list[set[str]] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                seen.append(_set_files(first))
            except FileNotFoundError:
                seen.append(set())
            time.sleep(0.002)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        again = profiles.render_all_after_publish(sample_warehouse, root, pdf=False)
    finally:
        done.set()
        thread.join()
    assert again == first
    assert _set_files(first) == expected, "the old set is replaced, not merged"
    assert seen, "the reader looked while the set was replaced"
    whole = {frozenset(expected), frozenset(expected | {"stale.html"})}
    assert all(frozenset(s) in whole for s in seen), "a reader saw a missing or half set"
    assert (other / "kept.txt").is_file()
    assert profiles.default_out_root(Path("/srv/hs/data/warehouse/hsinsight.duckdb")) == Path(
        "/srv/hs/data/profiles"
    )
    assert sorted(p.name for p in root.iterdir() if p.name != ".profiles.lock") == [
        "2024-12-31",
        "2025-03-31",
    ]


# --------------------------------------------------------------------------- the dashboard


def test_the_direct_run_wrote_every_profile_of_its_latest_period(sample_warehouse, snapshot):
    """``pipeline.run`` (the sample warehouse's own build) writes the HTML set after publishing."""
    folder = profiles.default_out_root(sample_warehouse) / f"{snapshot.periods()[0]:%Y-%m-%d}"
    written = sorted(p.name for p in folder.glob("*.html") if p.name != "index.html")
    assert (folder / "index.html").is_file()
    assert len(written) == len(snapshot.forces) >= 43
    assert not list(folder.glob("*.pdf"))  # PDFs only when HSINSIGHT_PROFILES=pdf


def test_the_dashboard_offers_the_same_document(sample_warehouse, monkeypatch, snapshot):
    from dashboard_support import Downloads, open_page

    downloads = Downloads(monkeypatch)
    at = open_page(sample_warehouse, monkeypatch, "force-profile", {"force": GWENT, "period": "2016-12-31"})
    button = at.download_button(key="download-profile-html")
    assert downloads.file_name(button) == "hsinsight_problem_profile_w15000002_20161231_synthetic.html"
    offered = downloads.data(button).decode("utf-8")
    generated = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    written = profiles.render_html(
        profiles.build(snapshot, GWENT, dt.date(2016, 12, 31), generated=generated)
    )

    def undated(html: str) -> str:
        return re.sub(r"Generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "Generated", html)

    assert undated(offered) == undated(written)
    pdf_button = at.download_button(key="download-profile-pdf")
    assert pdf_button.proto.label == "Download the problem profile (PDF)"
    assert pdf_button.proto.disabled is not printing.chromium_available()[0]


# --------------------------------------------------------------------------- in a browser


@pytest.mark.browser
@needs_chromium
def test_the_html_loads_nothing_from_outside_and_logs_no_errors(sample_warehouse, tmp_path):
    html_file = profiles.write_profile(sample_warehouse, "Cleveland", tmp_path / "cleveland.html")[0]
    source = html_file.read_text(encoding="utf-8")
    cells = parse(source)
    assert not [u for u in cells.urls if re.match(r"\s*(https?:)?//", u)]
    assert not re.search(r"url\(|@import|<script|<link|<iframe|<img", source, re.I)
    # the only absolute URL in the file is the SVG namespace, which is never fetched
    assert set(re.findall(r"https?://[^\s\"'<>]+", source)) == {"http://www.w3.org/2000/svg"}

    requests, problems = [], []
    with printing.devtools(flags=["--host-resolver-rules=MAP * ~NOTFOUND"]) as (pipe, session):
        for domain in ("Network", "Runtime", "Log"):
            pipe.call(f"{domain}.enable", session=session)
        pipe.call("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                  "downloadThroughput": -1, "uploadThroughput": -1}, session=session)  # fmt: skip
        printing.open_page(pipe, session, html_file)
        result = pipe.call(
            "Runtime.evaluate",
            {
                "expression": "[document.querySelectorAll('svg.chart').length, document.title]",
                "returnByValue": True,
            },
            session=session,
        )
        charts, title = result["result"]["value"]
        events = list(pipe.events)
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            problems.append(f"failed to load: {params.get('errorText')}")
        elif method == "Runtime.exceptionThrown":
            problems.append(str(params.get("exceptionDetails")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            problems.append(str(params.get("args")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            problems.append(str(params["entry"]))
    assert requests == [html_file.resolve().as_uri()]
    assert problems == []
    assert charts >= 7
    assert title.startswith("Stalking and harassment problem profile: Cleveland")


@pytest.mark.browser
@needs_chromium
def test_the_pdf_has_the_pages_and_the_key_figures(sample_warehouse, snapshot, tmp_path):
    html_file, pdf_file = profiles.write_profile(
        sample_warehouse, "Cleveland", tmp_path / "cleveland.html", pdf=True
    )
    pages = pdf_pages(pdf_file.read_bytes())
    total = len(pages)
    assert 7 <= total <= 14
    profile = profiles.build(snapshot, profiles.find_force(snapshot, "Cleveland")[0])
    f = profile.figures
    for number, text in enumerate(pages, start=1):
        flat = " ".join(text.split())
        # the running head on every page: the force, the period, the synthetic label, the page number
        assert "Stalking and harassment problem profile: Cleveland, 12 months to 31 March 2025" in flat
        assert "SYNTHETIC SAMPLE DATA" in flat
        assert f"Page {number} of {total}" in flat
    first = " ".join(pages[0].split())
    for key in ("stalking_offences", "harassment_offences", "harassment_to_stalking_ratio",
                "stalking_rate_per_1000", "stalking_share_charged_summonsed"):  # fmt: skip
        assert format_figure(key, f[key]) in first, key
    assert "Summary" in first
    # the summary, with its table, keeps to the first page; the themes start on the second
    assert "Restraining orders on acquittal (any offence)" in first
    assert "Recorded stalking and harassment Crimes the force recorded" in " ".join(pages[1].split())
    starts = {" ".join(t.split())[:400] for t in pages}
    for heading in (
        "Questions for the commissioner",
        "The trend since the series began",
        "Sources and reproducibility",
    ):
        assert any(heading in s for s in starts), heading
    everything = " ".join(" ".join(pages).split())
    for question in profile.questions:
        assert question.rule.title in everything
    assert pdf_file.read_bytes()[:5] == b"%PDF-"


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_all_with_pdfs_prints_every_profile(sample_warehouse, tmp_path):
    out = tmp_path / "set"
    assert (
        cli.main(["profile", "--all", "--pdf", "--out", str(out), "--warehouse", str(sample_warehouse)]) == 0
    )
    htmls = sorted(p.stem for p in out.glob("*.html") if p.name != "index.html")
    pdfs = sorted(p.stem for p in out.glob("*.pdf"))
    assert htmls == pdfs and len(pdfs) == 44
    index = (out / "index.html").read_text(encoding="utf-8")
    assert sorted(re.findall(r'href="([^"]+\.pdf)"', index)) == sorted(f"{s}.pdf" for s in pdfs)
    for name in itertools.islice(pdfs, 0, None, 11):
        pages = pdf_pages((out / f"{name}.pdf").read_bytes())
        assert len(pages) >= 7


def test_pdf_without_a_chromium_is_a_clear_error(sample_warehouse, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HSINSIGHT_CHROMIUM", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "gwent.html"
    args = ["profile", "--force", GWENT, "--pdf", "--out", str(out), "--warehouse", str(sample_warehouse)]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "HSINSIGHT_CHROMIUM=" in err and "is not an executable file" in err
    assert out.is_file() and not out.with_suffix(".pdf").exists()
