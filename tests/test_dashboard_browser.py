"""The dashboard as a person sees it: `streamlit run` in a subprocess, Debian's Chromium
driven by Playwright, on the warehouse the real pipeline publishes from the sample."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboard_support import PROJECT_ROOT, latest_national, read_value, set_latest_national

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
SYNTHETIC_TEXT = "Synthetic sample data: these figures are invented for demonstration"
CAVEAT = "Recorded crime measures police activity and recording practice, not true incidence."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard_server(warehouse: Path, log_path: Path) -> Iterator[str]:
    """`hsinsight dashboard` on a free loopback port, as a user starts it; always stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(Path(sys.executable).parent / "hsinsight"), "dashboard",
        "--warehouse", str(warehouse),
        "--port", str(port),
    ]  # fmt: skip
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while True:
                if server.poll() is not None:
                    pytest.fail(f"streamlit exited with {server.returncode}:\n{log_path.read_text()}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not become healthy:\n{log_path.read_text()}")
                time.sleep(0.25)
            # The command says where the dashboard is before it serves it.
            assert log_path.read_text().splitlines()[0].startswith(f"dashboard: {url}")
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def own_warehouse(sample_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the published sample warehouse (same file name, so the same catalog)."""
    copy = tmp_path / "warehouse" / sample_warehouse.name
    copy.parent.mkdir()
    shutil.copyfile(sample_warehouse, copy)
    return copy


def open_overview(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_rendered(page)


def wait_rendered(page) -> None:
    page.wait_for_selector(".js-plotly-plot svg.main-svg", timeout=60_000)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=60_000)
    # Let the last elements of the run arrive and settle.
    page.wait_for_load_state("networkidle")


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


def national_metric(page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=label)
    )
    return metric.first.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_overview_renders_in_chromium(own_warehouse, page, artifacts_dir, tmp_path):
    with dashboard_server(own_warehouse, tmp_path / "streamlit.log") as url:
        open_overview(page, url)

        assert page.locator(".js-plotly-plot").count() == 1  # England and Wales only
        assert page.locator(".js-plotly-plot svg.main-svg").count() >= 1
        assert page.locator("[data-testid='stException']").count() == 0
        text = page.locator("body").inner_text()
        assert SYNTHETIC_TEXT in text
        assert CAVEAT in text
        assert "Recorded stalking and harassment" in text
        # Readers see the app, not Streamlit's developer menu.
        assert page.get_by_role("button", name="Deploy").count() == 0
        page.screenshot(path=str(artifacts_dir / "overview-1280x800.png"))
        full_page_screenshot(page, artifacts_dir / "overview.png")

        # A shared link with a force opens that force beside England and Wales.
        force_code, force_name = (
            read_value(own_warehouse, sql, ["force"])
            for sql in (
                "select min(area_code) from marts.recorded_crime_12m where area_type = ?",
                "select area_name from marts.recorded_crime_12m where area_type = ? order by area_code limit 1",
            )
        )
        open_overview(page, f"{url}/?force={force_code}")
        assert page.locator("[data-testid='stException']").count() == 0
        # One chart for England and Wales and one for the force, each headed by its name.
        assert page.locator(".js-plotly-plot").count() == 2
        assert page.get_by_text(force_name, exact=True).count() >= 1
        assert f"force={force_code}" in page.url
        full_page_screenshot(page, artifacts_dir / "overview-force.png")


def test_newly_published_warehouse_shows_after_reload(own_warehouse, page, tmp_path):
    _, old = latest_national(own_warehouse, "stalking")
    new = old + 54_321
    inode_before = own_warehouse.stat().st_ino
    with dashboard_server(own_warehouse, tmp_path / "streamlit.log") as url:
        open_overview(page, url)
        assert national_metric(page, "Stalking") == f"{old:,}"

        # Publish a different warehouse onto the same path while the page is open.
        set_latest_national(own_warehouse, "stalking", new)
        assert own_warehouse.stat().st_ino != inode_before

        page.reload(wait_until="domcontentloaded")
        wait_rendered(page)
        assert national_metric(page, "Stalking") == f"{new:,}"
        assert page.locator("[data-testid='stException']").count() == 0
