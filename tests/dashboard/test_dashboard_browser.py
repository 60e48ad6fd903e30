"""The dashboard as a person sees it: `hsinsight dashboard` in a subprocess, Debian's
Chromium driven by Playwright at 1280×800, on the warehouse the real pipeline publishes
from the sample.

One dashboard server serves the module (the publish test starts its own, since it
replaces the warehouse under it). Screenshots of every page go to
``test-artifacts/browser/``, with the server's log.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from browser_support import (
    IDLE_APP,
    VIEWPORT,
    copy_published,
    dashboard_server,
)
from browser_support import chromium as launch_chromium
from dashboard_support import latest_national, read_value, set_latest_national
from hsinsight.dashboard.filters import WIDGET_KEYS as APP_WIDGET_KEYS
from hsinsight.dashboard.pages import PAGES as APP_PAGE_SPECS
from hsinsight.names import NATIONAL_CODE

pytestmark = pytest.mark.browser

SYNTHETIC_TEXT = "Synthetic sample data: these figures are invented for demonstration"

#: The pages the issue asks for, by url_path; the first is the default, served at "/".
ISSUE_PAGES = (
    "overview",
    "force-comparison",
    "outcomes",
    "conversion",
    "courts",
    "force-profile",
    "data-quality",
)
DEFAULT_PAGE = ISSUE_PAGES[0]
#: The filters every page shares through the address.
SHARED_FILTERS = ("force", "cps_area", "offence", "period")

RENDERED = ".js-plotly-plot svg.main-svg"
EXCEPTION = "[data-testid='stException']"
DOWNLOAD_CSV = re.compile(r"Download CSV")

APP_PAGES = [spec.slug for spec in APP_PAGE_SPECS]
#: The shared filters' widget keys, as the app names them.
WIDGET_KEYS = {name: f"{name}_select" for name in SHARED_FILTERS} | dict(APP_WIDGET_KEYS)
#: Every page: the issue's, then any other the app lists.
PAGES = list(dict.fromkeys([*ISSUE_PAGES, *APP_PAGES]))


# --------------------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def shots(artifacts_dir: Path) -> Path:
    folder = artifacts_dir / "browser"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def warehouse(sample_warehouse: Path, tmp_path_factory) -> Path:
    """The module's copy of the warehouse published from the sample."""
    return copy_published(sample_warehouse, tmp_path_factory.mktemp("browser-warehouse"))


@pytest.fixture(scope="module")
def app_url(warehouse: Path, shots: Path) -> Iterator[str]:
    with dashboard_server(warehouse, shots / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def own_warehouse(sample_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the published sample warehouse, for a test that republishes it."""
    return copy_published(sample_warehouse, tmp_path / "warehouse")


# --------------------------------------------------------------------------- pages


def page_url(base: str, slug: str, **params: str) -> str:
    """A page's address, with filters in its query string as a shared link has them."""
    path = "/" if slug == DEFAULT_PAGE else f"/{slug}"
    return f"{base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")


def query_params(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def wait_idle(page) -> None:
    """Until the script run has finished and its last elements have arrived."""
    page.wait_for_selector(IDLE_APP, timeout=60_000)
    page.wait_for_load_state("networkidle")


def wait_rendered(page) -> None:
    """Until the page has drawn a chart (or raised), and its run has finished."""
    page.wait_for_selector(f"{RENDERED}, {EXCEPTION}", timeout=60_000)
    wait_idle(page)


def open_page(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_rendered(page)


def assert_no_exception(page) -> None:
    exceptions = page.locator(EXCEPTION)
    assert exceptions.count() == 0, exceptions.all_inner_texts()
    body = page.locator("body").inner_text()
    assert "Traceback (most recent call last)" not in body
    # An unknown address falls back to the default page with this notice.
    assert "Page not found" not in body


def full_page_screenshot(page, path: Path) -> None:
    """Streamlit scrolls inside its main panel, so grow the window to the content first."""
    height = page.evaluate(
        "() => Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? 0,"
        " document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height)})
    page.wait_for_timeout(1_000)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)


def navigation_slugs(page) -> list[str]:
    """The pages the app's navigation links to, by url_path (the default page's link is "/")."""
    hrefs = page.locator(
        "[data-testid='stSidebarNav'] a, [data-testid='stSidebarNavLink'], [data-testid='stTopNavLink']"
    ).evaluate_all("links => links.map(a => a.href)")
    slugs = []
    for href in hrefs:
        path = urllib.parse.urlsplit(href).path.strip("/")
        slugs.append(path or DEFAULT_PAGE)
    return list(dict.fromkeys(slugs))


# --------------------------------------------------------------------------- charts


def _no_nan(values):
    """NaN (a gap in a line) as None, as JSON has it, so that equal charts compare equal."""
    if isinstance(values, list):
        return [_no_nan(v) for v in values]
    return None if isinstance(values, float) and math.isnan(values) else values


def _values(array) -> list | None:
    """A trace's array as Python values: Plotly's typed-array encoding decoded."""
    if array is None:
        return None
    if isinstance(array, dict) and "bdata" in array:
        values = np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
        if "shape" in array:
            shape = [int(n) for n in str(array["shape"]).split(",")]
            values = values.reshape(shape)
        return _no_nan(values.tolist())
    if isinstance(array, dict):  # a typed array serialised as {"0": .., "1": ..}
        return [array[k] for k in sorted(array, key=int)]
    if isinstance(array, list):
        return [_values(v) if isinstance(v, dict | list) else v for v in array]
    return array


TRACE_ARRAYS = ("x", "y", "z", "values", "labels", "locations", "text", "customdata")


def figures(page) -> list[list[dict]]:
    """The data of every Plotly chart on the page, read from the chart elements themselves."""
    raw = page.evaluate(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".map(el => JSON.parse(JSON.stringify(el.data ?? [])))"
    )
    return [
        [
            {"name": t.get("name"), "type": t.get("type")}
            | {k: _values(t.get(k)) for k in TRACE_ARRAYS if k in t}
            for t in traces
        ]
        for traces in raw
    ]


def points(trace: dict) -> int:
    return max(
        (len(trace[k]) for k in ("x", "y", "z", "values") if isinstance(trace.get(k), list)), default=0
    )


def wait_figures_change(page, before: list[list[dict]], timeout_s: float = 60) -> list[list[dict]]:
    """The charts' data once it differs from ``before`` and the run has finished."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        if page.locator(IDLE_APP).count() == 0:
            continue
        now = figures(page)
        if now != before and page.locator(RENDERED).count() > 0:
            wait_idle(page)
            return figures(page)
    pytest.fail("the charts did not change")


# --------------------------------------------------------------------------- widgets


def filter_widget(page, name: str):
    """The select box of a shared filter, found by its widget key."""
    return page.locator(f".st-key-{WIDGET_KEYS[name]}")


def choose(page, name: str, option: str) -> None:
    """Pick ``option`` in a shared filter's select box as a person does: open it, type
    to narrow the options, click the one wanted."""
    box = filter_widget(page, name)
    assert box.count() == 1, f"the page has no {name} filter ({WIDGET_KEYS[name]})"
    box.locator("input").click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()


def shown_choice(page, name: str) -> str:
    return filter_widget(page, name).locator("input").input_value()


# --------------------------------------------------------------------------- tables and downloads


def download_buttons(page):
    return page.locator("[data-testid='stDownloadButton']").filter(has_text=DOWNLOAD_CSV)


COMPONENT_KEYS_JS = r"""() => Array.from(
    document.querySelectorAll('[class*="st-key-chart-"], [class*="st-key-tableview-"]'),
    e => e.className.match(/\bst-key-(?:chart|tableview)-(\S+)/)?.[1],
).filter(Boolean)"""


def component_keys(page) -> list[str]:
    """The keys of the chart and table components on the page (``st-key-chart-<key>``)."""
    return page.evaluate(COMPONENT_KEYS_JS)


def component_key(button) -> str:
    """The key a chart (or table) component gave its parts, from its download button's
    container (``st-key-download-<key>``)."""
    classes = button.evaluate(
        "b => b.closest('[class*=\"st-key-download-\"]')?.className ?? b.className ?? ''"
    )
    match = re.search(r"\bst-key-download-(\S+)", classes)
    return match.group(1) if match else ""


def download(page, button) -> tuple[str, list[list[str]]]:
    """Click a download button; the file's name and its CSV rows (header first)."""
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=30_000) as info:
        button.locator("button").click()
    got = info.value
    text = Path(got.path()).read_text(encoding="utf-8-sig")
    return got.suggested_filename, list(csv.reader(io.StringIO(text)))


def table_view(page, key: str):
    """A component's table view, shown: its *Table* tab opened when it has one."""
    component = page.locator(f".st-key-chart-{key}, .st-key-tableview-{key}")
    assert component.count() == 1, f"no chart or table component keyed {key}"
    tab = component.get_by_role("tab", name="Table")
    if tab.count():
        tab.first.click()
    table = component.locator(f".st-key-table-{key} [data-testid='stDataFrame']")
    if table.count() == 0:
        table = component.locator("[data-testid='stDataFrame']")
    table = table.first
    table.scroll_into_view_if_needed()
    table.locator("table[role='grid']").wait_for(state="attached", timeout=30_000)
    return table


def read_table(table) -> tuple[list[str], int, dict[int, list[str]]]:
    """A table view as the browser shows it. Streamlit's data grid draws on a canvas;
    its accessible table holds the rows in sight. Returns the column headings, the
    number of rows and the rows in sight at the top and at the bottom, by position."""
    grid = table.locator("table[role='grid']")
    rows_shown = int(grid.get_attribute("aria-rowcount")) - 1
    headers = grid.locator("thead th").all_inner_texts()
    read: dict[int, list[str]] = {}

    def collect() -> None:
        for index, cells in grid.evaluate(
            "t => Array.from(t.querySelectorAll('tbody tr')).map(r => [Number(r.getAttribute('aria-rowindex')),"
            " Array.from(r.querySelectorAll('td')).map(c => c.innerText)])"
        ):
            read[index - 2] = cells

    first_row = "t => t.querySelector('tbody tr')?.getAttribute('aria-rowindex')"
    collect()
    was = grid.evaluate(first_row)
    scrolled = table.locator(".dvn-scroller").evaluate(
        "s => { const top = s.scrollTop; s.scrollTop = s.scrollHeight; return s.scrollTop > top; }"
    )
    if scrolled:  # the grid draws the rows now in sight a moment later
        deadline = time.monotonic() + 5
        while grid.evaluate(first_row) == was and time.monotonic() < deadline:
            table.page.wait_for_timeout(50)
        collect()
    return headers, rows_shown, read


def same_value(shown: str, written: str) -> bool:
    """A cell as the table shows it against the value the CSV file holds."""
    shown, written = shown.strip(), written.strip()
    if shown.casefold() == written.casefold():
        return True
    if shown in ("", "None", "null", "NaN", "nan", "<NA>") and written in ("", "nan", "NaN", "<NA>", "None"):
        return True
    if re.fullmatch(r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d)?)?", shown) and written.replace(
        "T", " "
    ).startswith(shown.replace("T", " ")):  # a timestamp shown to the day, minute or second
        return True
    try:
        a, b = float(shown.replace(",", "").rstrip("%")), float(written)
    except ValueError:
        return False
    decimals = len(shown.split(".")[1].rstrip("%")) if "." in shown else 0
    scale = 100 if shown.endswith("%") else 1
    return math.isclose(a, b * scale, rel_tol=1e-9, abs_tol=0.5 * 10**-decimals + 1e-9)


def assert_download_is_table(rows: list[list[str]], headers: list[str], rows_shown: int, read) -> None:
    """The CSV file holds exactly the rows the table view shows, in the same order:
    as many rows, and every cell in sight is a value of the file's row at its place."""
    assert rows, "an empty CSV file"
    header, *body = rows
    assert len(body) == rows_shown, f"the CSV file has {len(body)} rows, the table shows {rows_shown}"
    assert len(header) >= len(headers)
    for index, cells in read.items():
        written = body[index]
        for column, cell in zip(headers, cells, strict=True):
            assert any(same_value(cell, value) for value in written), (
                f"row {index}, column {column!r}: the table shows {cell!r}, the CSV row is {written}"
            )


# --------------------------------------------------------------------------- tests


def test_navigation_lists_every_page(app_url, page):
    open_page(page, app_url)
    assert_no_exception(page)
    assert page.url.rstrip("/") == app_url
    assert set(navigation_slugs(page)) == set(PAGES)
    # Readers see the app, not Streamlit's developer menu.
    assert page.get_by_role("button", name="Deploy").count() == 0


@pytest.mark.parametrize("slug", PAGES)
def test_page_renders_with_its_charts(slug, app_url, page, shots):
    open_page(page, page_url(app_url, slug))
    page.screenshot(path=str(shots / f"{slug}-1280x800.png"))
    full_page_screenshot(page, shots / f"{slug}.png")

    assert_no_exception(page)
    assert urllib.parse.urlsplit(page.url).path.strip("/") == ("" if slug == DEFAULT_PAGE else slug)
    assert page.locator("h1").count() >= 1
    assert SYNTHETIC_TEXT in page.locator("body").inner_text()  # the sample is synthetic
    charts = figures(page)
    assert page.locator(RENDERED).count() >= 1
    assert any(points(trace) > 0 for chart in charts for trace in chart), charts
    # Every chart is drawn by the chart component: a Table tab and a CSV download beside it.
    plots = page.locator(".js-plotly-plot")
    for i in range(plots.count()):
        component = plots.nth(i).locator("xpath=ancestor::div[contains(@class, 'st-key-chart-')][1]")
        assert component.count() == 1, f"chart {i} is not in a chart component"
        assert component.get_by_role("tab", name="Table").count() == 1
        assert (
            component.locator("[data-testid='stDownloadButton']").filter(has_text=DOWNLOAD_CSV).count() == 1
        )


@pytest.mark.parametrize("slug", PAGES)
def test_every_csv_download_holds_the_rows_shown(slug, app_url, page):
    open_page(page, page_url(app_url, slug))
    buttons = download_buttons(page)
    assert buttons.count() >= 1
    keys = component_keys(page)
    assert keys, "no chart or table component on the page"
    for i in range(buttons.count()):
        button = buttons.nth(i)
        name, rows = download(page, button)
        assert name.endswith(".csv"), name
        assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows), name
        key = component_key(button)
        if key not in keys:
            continue  # a download of more than the page shows (say, every period): no table to match
        headers, rows_shown, read = read_table(table_view(page, key))
        assert_download_is_table(rows, headers, rows_shown, read)
        keys.remove(key)
    assert not keys, f"components without a CSV download: {keys}"
    assert_no_exception(page)


def first_force(warehouse: Path) -> tuple[str, str]:
    """The police force area with the lowest code: (area_code, area_name)."""
    code = read_value(
        warehouse, "select min(area_code) from marts.recorded_crime_12m where area_type = 'force'"
    )
    name = read_value(
        warehouse, "select min(area_name) from marts.recorded_crime_12m where area_code = ?", [code]
    )
    return code, name


def first_cps_area(warehouse: Path) -> tuple[str, str]:
    """The CPS Area first by name: (area_code, area_name) as the dashboard offers it."""
    code = read_value(
        warehouse,
        "select arg_min(area_code, area_name) from marts.attrition where area_type = 'cps_area'",
    )
    name = read_value(
        warehouse, "select arg_max(area_name, period_end) from marts.attrition where area_code = ?", [code]
    )
    return code, name


def filter_choice(warehouse: Path, name: str) -> tuple[str, str]:
    """A value of a shared filter other than its default: (value in the address, option text)."""
    if name == "force":
        return first_force(warehouse)
    if name == "cps_area":
        return first_cps_area(warehouse)
    if name == "offence":
        return "harassment", "Harassment"
    raise AssertionError(name)


#: (page, shared filter) changed through the page's widget.
FILTER_CHANGES = [("overview", "force"), ("force-comparison", "offence"), ("conversion", "cps_area")]


@pytest.mark.parametrize(("slug", "name"), FILTER_CHANGES)
def test_filter_change_updates_charts_address_and_link(slug, name, app_url, warehouse, context, page, shots):
    value, option = filter_choice(warehouse, name)
    open_page(page, page_url(app_url, slug))
    before = figures(page)
    assert name not in query_params(page.url)

    choose(page, name, option)
    after = wait_figures_change(page, before)

    assert_no_exception(page)
    assert query_params(page.url).get(name) == value
    assert shown_choice(page, name) == option
    full_page_screenshot(page, shots / f"{slug}-{name}.png")

    # The address is a link to this view: opened afresh, it shows the same charts.
    shared = context.new_page()
    open_page(shared, page.url)
    assert_no_exception(shared)
    assert shown_choice(shared, name) == option
    assert figures(shared) == after
    shared.close()


def test_shared_filter_follows_to_another_page(app_url, warehouse, page):
    force_code, force_name = first_force(warehouse)
    open_page(page, page_url(app_url, DEFAULT_PAGE))
    before = figures(page)
    choose(page, "force", force_name)
    wait_figures_change(page, before)

    page.locator("[data-testid='stSidebarNav'] a, [data-testid='stSidebarNavLink']").filter(
        has_text="Outcomes"
    ).first.click()
    page.wait_for_url(re.compile(r"/outcomes\b"), timeout=30_000)
    wait_rendered(page)
    assert_no_exception(page)
    assert query_params(page.url).get("force") == force_code
    assert shown_choice(page, "force") == force_name


def test_overview_download_matches_chart_and_warehouse(app_url, warehouse, page):
    force_code, force_name = first_force(warehouse)
    open_page(page, page_url(app_url, DEFAULT_PAGE, force=force_code))
    # the first chart and the first download: the 12-month trend (the ONS national
    # series since 2002/03 follows them)
    traces = {trace["name"]: trace for trace in figures(page)[0]}
    _, rows = download(page, download_buttons(page).first)
    header, *body = rows
    records = [dict(zip(header, row, strict=True)) for row in body]
    assert {r["area_code"] for r in records} == {NATIONAL_CODE, force_code}

    # Every line of the chart is the file's rows for its offence and area, in order.
    drawn = 0
    for (offence, area), group in _group(records, "offence", "area_name").items():
        trace = traces[f"{offence}, {area}"]
        assert trace["y"] == [float(r["offences"]) for r in group]
        assert [str(x)[:10] for x in trace["x"]] == [r["period_end"] for r in group]
        drawn += len(group)
    assert drawn == len(records) == sum(points(t) for t in traces.values() if t.get("y"))

    # And the warehouse holds the same figures, read independently.
    for record in records[:: max(1, len(records) // 25)]:
        expected = read_value(
            warehouse,
            "select offences from marts.recorded_crime_12m "
            "where area_code = ? and offence_group = ? and period_end = ?",
            [record["area_code"], record["offence_group"], record["period_end"]],
        )
        assert int(record["offences"]) == expected, record


def _group(records: list[dict], *columns: str) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        groups.setdefault(tuple(record[c] for c in columns), []).append(record)
    return groups


def national_metric(page, label: str) -> str:
    """A headline figure in England and Wales's row (the first row of figures)."""
    metric = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    return metric.first.locator("[data-testid='stMetricValue']").inner_text().strip()


def stalking_line(page) -> list:
    """England and Wales's stalking line on the overview's chart, as drawn."""
    return {t["name"]: t for chart in figures(page) for t in chart}["Stalking, England and Wales"]["y"]


def test_newly_published_warehouse_shows_in_open_pages(own_warehouse, context, page, shots, tmp_path):
    _, old = latest_national(own_warehouse, "stalking")
    new = old + 54_321
    force_code, force_name = first_force(own_warehouse)
    inode_before = own_warehouse.stat().st_ino
    with dashboard_server(own_warehouse, tmp_path / "streamlit.log") as url:
        open_page(page, url)
        assert national_metric(page, "Stalking") == f"{old:,}"
        assert stalking_line(page)[-1] == old
        other_slug = PAGES[1]
        other = context.new_page()
        open_page(other, page_url(url, other_slug))

        # Publish a different warehouse onto the same path while the pages are open.
        set_latest_national(own_warehouse, "stalking", new)
        assert own_warehouse.stat().st_ino != inode_before

        # The open session's next run reads the new file: a filter change, no reload.
        before = figures(page)
        choose(page, "force", force_name)
        wait_figures_change(page, before)
        assert_no_exception(page)
        assert national_metric(page, "Stalking") == f"{new:,}"
        assert stalking_line(page)[-1] == new

        # And a refresh of each open page renders, with the new figures.
        page.reload(wait_until="domcontentloaded")
        wait_rendered(page)
        assert_no_exception(page)
        assert query_params(page.url).get("force") == force_code
        assert national_metric(page, "Stalking") == f"{new:,}"
        assert stalking_line(page)[-1] == new
        full_page_screenshot(page, shots / "overview-after-publish.png")
        other.reload(wait_until="domcontentloaded")
        wait_rendered(other)
        assert_no_exception(other)
        assert other.locator(RENDERED).count() >= 1, other_slug
