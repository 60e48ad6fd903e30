"""Serving the dashboard and driving it in Debian's Chromium, for the browser tests.

``serving`` starts a server command in the project root and waits until Streamlit says
it is healthy; ``dashboard_server`` does that for `hsinsight dashboard` the way a user
starts it. ``chromium`` launches the headless browser through Playwright.
``copy_published`` copies a published warehouse with its run log, for a server of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboard_support import PROJECT_ROOT

#: Debian's Chromium (a browser download is not possible here) and how it is started.
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
#: The app once a script run has finished and the page is connected.
IDLE_APP = (
    "[data-testid='stApp'][data-test-script-state='notRunning'][data-test-connection-state='CONNECTED']"
)
#: The pipeline's run log, beside the warehouse.
RUN_LOG = "runs.duckdb"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hsinsight_dashboard(warehouse: Path, port: int) -> list[str]:
    """The `hsinsight dashboard` command serving ``warehouse`` on ``port``."""
    return [
        str(Path(sys.executable).parent / "hsinsight"), "dashboard",
        "--warehouse", str(warehouse),
        "--port", str(port),
    ]  # fmt: skip


@contextmanager
def serving(
    command: Sequence[str],
    port: int,
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 90,
) -> Iterator[subprocess.Popen]:
    """``command`` started in the project root with its output in ``log_path``, yielded
    once Streamlit's health check answers on 127.0.0.1:``port``; always stopped on exit."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            list(command),
            cwd=PROJECT_ROOT,
            env=dict(os.environ if env is None else env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                pytest.fail(f"the server exited with {server.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not become healthy:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@contextmanager
def dashboard_server(warehouse: Path, log_path: Path) -> Iterator[str]:
    """`hsinsight dashboard` on a free loopback port, as a user starts it: its address,
    once it serves (the command first says where the dashboard is)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(hsinsight_dashboard(warehouse, port), port, log_path):
        assert log_path.read_text().splitlines()[0].startswith(f"dashboard: {url}")
        yield url


@contextmanager
def chromium() -> Iterator:
    """Headless Chromium launched by Playwright; closed on exit. Fails the test when
    Debian's chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def copy_published(warehouse: Path, folder: Path) -> Path:
    """A copy of a published warehouse (same file name, so the same catalog) with the run
    log beside it (the data quality page charts the runs), in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / warehouse.name
    shutil.copyfile(warehouse, copy)
    log = warehouse.parent / RUN_LOG
    if log.exists():
        shutil.copyfile(log, folder / RUN_LOG)
    return copy
