"""PDF copies of the HTML profiles, printed by headless Chromium.

Chromium is run as a subprocess (no Python dependency): :func:`print_many` starts one
Chromium and prints many files through its DevTools protocol over a pipe
(``--remote-debugging-pipe``: JSON messages separated by NUL bytes on file descriptors 3
and 4), which saves a browser start per file; :func:`print_pdf` prints one file the same
way, and :func:`devtools` is that browser, for anything else that drives one. A PDF is
A4 from the document's own ``@page`` rules, with backgrounds and no browser header or
footer. Each Chromium gets a fresh profile folder of its own,
removed afterwards, so it never meets another Chromium's profile.

The executable is ``$HSINSIGHT_CHROMIUM`` when set, else the first of ``chromium``,
``chromium-browser``, ``google-chrome`` on ``PATH``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from hsinsight.errors import HsinsightError

CHROMIUM_ENV = "HSINSIGHT_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: The flags every run uses: headless, no sandbox (containers), nothing from the network.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-default-apps",
)
TIMEOUT_SECONDS = 120.0


class ChromiumNotFound(HsinsightError):
    """No Chromium to print PDFs with."""


class PdfError(HsinsightError):
    """Chromium could not print a PDF."""


def find_chromium() -> Path:
    """The Chromium executable, or :class:`ChromiumNotFound` saying how to name one."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        path = Path(named)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        found = shutil.which(named)
        if found:
            return Path(found)
        raise ChromiumNotFound(
            f"{CHROMIUM_ENV}={named} is not an executable file; point it at a Chromium or Chrome executable"
        )
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ChromiumNotFound(
        "no Chromium found to print the PDF (looked for "
        + ", ".join(CANDIDATES)
        + f" on PATH); install one (Debian: apt-get install chromium) or set {CHROMIUM_ENV} to its path"
    )


def chromium_available() -> tuple[bool, str]:
    """Whether PDFs can be made here, and if not, why (for a button to explain)."""
    try:
        return True, str(find_chromium())
    except ChromiumNotFound as exc:
        return False, str(exc)


def print_pdf(html_file: Path, pdf_file: Path, *, chromium: Path | None = None) -> Path:
    """Print one HTML file to ``pdf_file``, the way :func:`print_many` prints a set."""
    return print_many([(Path(html_file), Path(pdf_file))], chromium=chromium)[0]


class _Pipe:
    """The DevTools protocol over Chromium's debugging pipe."""

    def __init__(self, process: subprocess.Popen, write_fd: int, read_fd: int) -> None:
        self.process = process
        self.write_fd = write_fd
        self.read_fd = read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self.next_id += 1
        message: dict = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            written = os.write(self.write_fd, data)
            data = data[written:]
        return self.next_id

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PdfError("Chromium did not answer within the time allowed")
            ready, _, _ = select.select([self.read_fd], [], [], min(left, 1.0))
            if not ready:
                if self.process.poll() is not None:
                    raise PdfError(f"Chromium stopped (exit {self.process.returncode})")
                continue
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise PdfError("Chromium closed its debugging pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = TIMEOUT_SECONDS) -> dict:  # fmt: skip
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise PdfError(f"Chromium refused {method}: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method: str, session: str, timeout: float = TIMEOUT_SECONDS) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            message = self._read(deadline)
            if "method" in message:
                self.events.append(message)


@contextlib.contextmanager
def devtools(*, chromium: Path | None = None, flags: Sequence[str] = ()) -> Iterator[tuple[_Pipe, str]]:
    """A headless Chromium driven over its DevTools pipe: yields the pipe and the session
    of one page (``Page`` events enabled). The browser and its profile folder are gone
    when the block ends. ``flags`` are added to :data:`FLAGS`."""
    chromium = chromium or find_chromium()
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    # Out of the way of 3 and 4, where the launcher puts them for Chromium.
    child_in = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
    child_out = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
    os.close(to_child_r)
    os.close(from_child_w)
    with tempfile.TemporaryDirectory(prefix="hsinsight-chromium-") as profile:
        # A small Python launcher puts the pipe ends on 3 and 4, where Chromium looks for them.
        launcher = (
            "import os, sys\n"
            "child_in, child_out = int(sys.argv[1]), int(sys.argv[2])\n"
            "os.dup2(child_in, 3)\nos.dup2(child_out, 4)\nos.close(child_in)\nos.close(child_out)\n"
            "os.execv(sys.argv[3], sys.argv[3:])\n"
        )
        command = [
            sys.executable,
            "-c",
            launcher,
            str(child_in),
            str(child_out),
            str(chromium),
            *FLAGS,
            *flags,
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        process = subprocess.Popen(
            command, pass_fds=(child_in, child_out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        os.close(child_in)
        os.close(child_out)
        pipe = _Pipe(process, to_child_w, from_child_r)
        try:
            target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            pipe.call("Page.enable", session=session)
            yield pipe, session
            try:
                pipe.send("Browser.close")
                process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            os.close(to_child_w)
            os.close(from_child_r)


def open_page(pipe: _Pipe, session: str, html_file: Path) -> None:
    """Load a file in the page and wait for its load event."""
    pipe.events.clear()
    pipe.call("Page.navigate", {"url": Path(html_file).resolve().as_uri()}, session=session)
    pipe.wait_for("Page.loadEventFired", session)


def print_many(
    pairs: Sequence[tuple[Path, Path]],
    *,
    chromium: Path | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
) -> list[Path]:
    """Print every (html, pdf) pair with one Chromium; ``progress(done, total, pdf)``
    after each. Each PDF is written beside its final name and moved into place."""
    if not pairs:
        return []
    written: list[Path] = []
    with devtools(chromium=chromium) as (pipe, session):
        for done, (html_file, pdf_file) in enumerate(pairs, start=1):
            pdf_file = Path(pdf_file).resolve()
            open_page(pipe, session, html_file)
            result = pipe.call(
                "Page.printToPDF",
                {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False},
                session=session,
            )
            pdf_file.parent.mkdir(parents=True, exist_ok=True)
            partial = pdf_file.with_name(f".{pdf_file.name}.part")
            partial.write_bytes(base64.b64decode(result["data"]))
            os.replace(partial, pdf_file)
            written.append(pdf_file)
            if progress:
                progress(done, len(pairs), pdf_file)
    return written
