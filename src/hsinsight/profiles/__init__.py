"""Problem profiles of stalking and harassment: one document per police force area.

A profile is a self-contained HTML document (styles and SVG charts inline, no script,
nothing fetched), printable on A4, and optionally a PDF of the same document printed
by headless Chromium. Every figure it states is read from the published warehouse's
marts (:mod:`hsinsight.profiles.data`); every sentence is a template filled with those
figures (``summary.yml``, ``questions.yml``; :mod:`hsinsight.profiles.rules`).

Entry points:

:func:`write_profile`
    one force, one period, to an HTML file (and a PDF beside it);
:func:`write_all`
    every force for one period into a folder, with ``index.html`` linking them;
:func:`render_all_after_publish`
    every force's profile for the latest period into ``<out_root>/<period>/``, swapped
    into place whole, for the pipeline to call after it publishes a warehouse (with
    :func:`default_out_root`: ``data/profiles/`` beside ``data/warehouse/``);
:func:`render_bytes`
    one force's HTML (and PDF) as bytes, for the dashboard's downloads.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import fcntl
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hsinsight.profiles.data import (
    Profile,
    ProfileError,
    Snapshot,
    UnknownForceError,
    build,
    find_force,
    load,
    parse_period,
)
from hsinsight.profiles.document import render_html, render_index

__all__ = [
    "Profile",
    "ProfileError",
    "Snapshot",
    "UnknownForceError",
    "build",
    "default_out_root",
    "find_force",
    "load",
    "parse_period",
    "render_all_after_publish",
    "render_bytes",
    "render_html",
    "render_index",
    "write_all",
    "write_profile",
]

INDEX = "index.html"
#: Chromium processes printing PDFs at once for a set (the machine's cores, at most 2).
PDF_WORKERS = max(1, min(2, os.cpu_count() or 1))

Progress = Callable[[str, int, int], None]


def _write_text(path: Path, text: str) -> Path:
    """Write ``text`` beside ``path`` and move it into place, so a reader sees a whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_profile(
    warehouse: Path,
    force: str,
    out: Path,
    *,
    period: dt.date | None = None,
    pdf: bool = False,
    snapshot: Snapshot | None = None,
) -> list[Path]:
    """One force's profile to ``out`` (HTML); with ``pdf``, its PDF beside it (same name,
    ``.pdf``; or ``out`` itself when it ends ``.pdf``, the HTML then beside it)."""
    snapshot = snapshot or load(warehouse)
    code, _ = find_force(snapshot, force)
    profile = build(snapshot, code, period)
    out = Path(out)
    html_file = out.with_suffix(".html") if out.suffix.lower() == ".pdf" else out
    written = [_write_text(html_file, render_html(profile))]
    if pdf or out.suffix.lower() == ".pdf":
        from hsinsight.profiles import pdf as printing

        written.append(printing.print_pdf(html_file, html_file.with_suffix(".pdf")))
    return written


@dataclass(frozen=True)
class SetResult:
    """What :func:`write_all` wrote: the index, each force's files and the forces left out."""

    index: Path
    period: dt.date
    html: list[Path]
    pdf: list[Path]
    skipped: list[str]


def _split(items: Sequence, parts: int) -> list[list]:
    """``items`` dealt into ``parts`` lists of nearly equal length (none empty)."""
    parts = max(1, min(parts, len(items)))
    return [list(items[i::parts]) for i in range(parts)]


def write_all(
    warehouse: Path,
    out_dir: Path,
    *,
    period: dt.date | None = None,
    pdf: bool = False,
    progress: Progress | None = None,
    workers: int = PDF_WORKERS,
    snapshot: Snapshot | None = None,
) -> SetResult:
    """Every force's profile for ``period`` (default: the latest 12 months in the
    warehouse) into ``out_dir``: ``<force-slug>.html`` (and ``.pdf``) and ``index.html``.
    A force with no figures for the period is listed in the index as such.
    ``progress(stage, done, total)`` is called after each file (stage ``html`` or ``pdf``)."""
    snapshot = snapshot or load(warehouse)
    period = period or snapshot.periods()[0]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = dt.datetime.now(dt.UTC)
    forces = list(snapshot.forces.itertuples(index=False))
    entries, html_files, skipped = [], [], []
    for done, (code, name) in enumerate(forces, start=1):
        if period not in snapshot.periods(code):
            skipped.append(str(name))
            entries.append({"area_code": code, "area_name": name, "html": None})
        else:
            profile = build(snapshot, code, period, generated=generated)
            path = _write_text(out_dir / f"{profile.slug}.html", render_html(profile))
            html_files.append(path)
            f = profile.figures
            entries.append(
                {
                    "area_code": code,
                    "area_name": name,
                    "html": path.name,
                    "pdf": path.with_suffix(".pdf").name if pdf else None,
                    "peer_group_name": f.get("peer_group_name"),
                    "stalking_offences": f.get("stalking_offences"),
                    "harassment_to_stalking_ratio": f.get("harassment_to_stalking_ratio"),
                    "questions": len(profile.questions),
                }
            )
        if progress:
            progress("html", done, len(forces))
    pdf_files: list[Path] = []
    if pdf and html_files:
        pdf_files = _print_all(html_files, workers=workers, progress=progress)
    index = _write_text(
        out_dir / INDEX,
        render_index(
            entries,
            period=period,
            synthetic=snapshot.synthetic,
            generated=generated,
            version=snapshot.version,
        ),
    )
    return SetResult(index, period, html_files, pdf_files, skipped)


def _print_all(html_files: Sequence[Path], *, workers: int, progress: Progress | None) -> list[Path]:
    """Print every HTML file to a PDF beside it: ``workers`` Chromium processes at once,
    each printing its share of the files through one browser."""
    from hsinsight.profiles import pdf as printing

    chromium = printing.find_chromium()
    pairs = [(h, h.with_suffix(".pdf")) for h in html_files]
    total, done = len(pairs), 0

    def tick(*_: object) -> None:
        nonlocal done
        done += 1  # the GIL makes this safe enough for a progress count
        if progress:
            progress("pdf", done, total)

    batches = _split(pairs, workers)
    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        futures = [pool.submit(printing.print_many, b, chromium=chromium, progress=tick) for b in batches]
        written = [path for future in futures for path in future.result()]
    return sorted(written)


@functools.lru_cache(maxsize=2)
def _load_cached(path: str, inode: int, mtime_ns: int, size: int) -> Snapshot:
    """The marts of the file now at ``path``, read once per published version (a new
    publish is a new inode), so a dashboard's downloads do not read them for every force."""
    return load(Path(path))


def render_bytes(
    warehouse: Path, area_code: str, period: dt.date | None = None, *, pdf: bool = False
) -> tuple[bytes, bytes | None]:
    """One force's profile as HTML bytes and, with ``pdf``, PDF bytes (the same document),
    for a download button."""
    stat = Path(warehouse).stat()
    snapshot = _load_cached(str(Path(warehouse).resolve()), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    profile = build(snapshot, area_code, period)
    html = render_html(profile)
    if not pdf:
        return html.encode("utf-8"), None
    from hsinsight.profiles import pdf as printing

    with tempfile.TemporaryDirectory(prefix="hsinsight-profile-") as folder:
        html_file = _write_text(Path(folder) / f"{profile.slug}.html", html)
        pdf_file = printing.print_pdf(html_file, html_file.with_suffix(".pdf"))
        return html.encode("utf-8"), pdf_file.read_bytes()


# --------------------------------------------------------------------------- after a publish


@contextlib.contextmanager
def _locked(out_root: Path) -> Iterator[None]:
    out_root.mkdir(parents=True, exist_ok=True)
    with open(out_root / ".profiles.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False when the
    system cannot."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _swap_into_place(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target``, replacing any folder there. A reader sees
    the old set or the new one, never a mixture: an empty target takes a plain
    ``os.replace``; a full one is exchanged with the new folder in one step where the
    system allows, else moved aside just before the new one moves in."""
    if not target.exists():
        os.replace(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new)  # ``new`` now holds the old set
        return
    aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    os.replace(target, aside)
    os.replace(new, target)
    shutil.rmtree(aside, ignore_errors=True)


def default_out_root(warehouse: Path) -> Path:
    """Where the sets of a warehouse's profiles go: ``profiles/`` beside the warehouse's
    folder (``data/profiles/`` for ``data/warehouse/hsinsight.duckdb``)."""
    return Path(warehouse).resolve().parent.parent / "profiles"


def render_all_after_publish(warehouse: Path, out_root: Path, *, pdf: bool = True) -> Path:
    """Every force's profile for the latest 12 months of the warehouse just published,
    into ``<out_root>/<period>/`` (``YYYY-MM-DD``, the period's end), with ``index.html``
    and a PDF of each (when a Chromium is installed). The set is written into a
    temporary folder beside its final place and swapped in whole, replacing an older set
    of the same period; sets of other periods stay. Returns the folder."""
    warehouse, out_root = Path(warehouse), Path(out_root)
    snapshot = load(warehouse)
    period = snapshot.periods()[0]
    target = out_root / f"{period:%Y-%m-%d}"
    if pdf:
        from hsinsight.profiles import pdf as printing

        pdf = printing.chromium_available()[0]
    with _locked(out_root):
        for stale in out_root.glob(f".{target.name}.*"):  # left by a render that died
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=out_root))
        try:
            write_all(warehouse, staging, period=period, pdf=pdf, snapshot=snapshot)
            staging.chmod(0o755)
            _swap_into_place(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return target
