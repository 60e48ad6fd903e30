"""Serving the documentation sites from the dashboard.

Browsers will not follow a ``file://`` link from an ``http://`` page, so the data
quality page cannot simply link to Great Expectations' Data Docs or dbt's docs on
disk. Streamlit serves files under ``dashboards/static/`` at ``app/static/``
(``server.enableStaticServing`` in ``dashboards/.streamlit/config.toml``) with their
real content type, but only files really inside that folder (a symlink out of it is
refused). So the page copies each site there, once per version of its index page:

    dashboards/static/docs/<site>-<stamp>/index.html  ->  app/static/docs/<site>-<stamp>/index.html

``<stamp>`` changes whenever the source index changes, so a link never shows a
half-copied or stale site: a copy is made in a hidden folder and renamed into place,
and older copies of the same site beyond the last two are removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from hsinsight.dashboard.paths import STATIC_DIR

#: Where the copies of the documentation sites go, inside the app's static folder.
DOCS_DIR = STATIC_DIR / "docs"
#: The URL of DOCS_DIR, relative to any page of the app.
URL_PREFIX = "app/static/docs"
KEEP = 2


@dataclass(frozen=True)
class Site:
    """One documentation site: where it is built, and how to build it when it is not."""

    name: str  # folder-safe id
    title: str
    index: Path | None  # the built index page, or None when there is none
    how_to_build: str
    whole_folder: bool  # copy the index's folder (True) or the index alone (self-contained)

    @property
    def short_name(self) -> str:
        return self.title.split(" (")[0].split(":")[0]


def data_docs_index(quality_dir: Path, from_run: str | None = None) -> Path | None:
    """Great Expectations' Data Docs: the index the last run wrote (the run log says
    where), else the one under the quality folder; None when neither is built."""
    for candidate in (Path(from_run) if from_run else None, Path(quality_dir) / "docs" / "index.html"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def dbt_docs_index(project_root: Path) -> Path | None:
    """dbt's documentation site as ``hsinsight docs`` writes it; None when not built."""
    index = Path(project_root) / "data" / "docs" / "index.html"
    return index if index.is_file() else None


def sites(quality_dir: Path, project_root: Path, data_docs_from_run: str | None = None) -> tuple[Site, Site]:
    """The two documentation sites the data quality page offers."""
    return (
        Site(
            "data-docs",
            "Data Docs (Great Expectations)",
            data_docs_index(quality_dir, data_docs_from_run),
            "Every run writes them: `make run` (or `hsinsight run`).",
            whole_folder=True,
        ),
        Site(
            "dbt-docs",
            "dbt docs: models, columns, tests and lineage to these pages",
            dbt_docs_index(project_root),
            "Build them with `make docs` (or `hsinsight docs`).",
            whole_folder=False,
        ),
    )


def stamp(index: Path) -> str:
    stat = index.stat()
    return hashlib.sha1(f"{index.resolve()}|{stat.st_mtime_ns}|{stat.st_size}".encode()).hexdigest()[:12]


def publish(site: Site, docs_dir: Path | None = None) -> str | None:
    """Copy ``site`` under the static folder if this version is not there yet and
    return its URL (relative to the app's pages); None when there is nothing to copy
    or the folder cannot be written (a read-only install)."""
    if site.index is None or not site.index.is_file():
        return None
    docs_dir = DOCS_DIR if docs_dir is None else docs_dir
    folder = f"{site.name}-{stamp(site.index)}"
    target = docs_dir / folder
    try:
        if not (target / "index.html").is_file():
            docs_dir.mkdir(parents=True, exist_ok=True)
            work = docs_dir / f".{folder}-{uuid.uuid4().hex[:8]}"
            if site.whole_folder:
                shutil.copytree(site.index.parent, work, ignore=shutil.ignore_patterns(".*"))
                if site.index.name != "index.html":
                    shutil.copyfile(site.index, work / "index.html")
            else:
                work.mkdir()
                shutil.copyfile(site.index, work / "index.html")
            try:
                os.rename(work, target)
            except OSError:  # another session put the same version in place first
                shutil.rmtree(work, ignore_errors=True)
            _prune(docs_dir, site.name, keep=folder)
    except OSError:
        return None
    return f"{URL_PREFIX}/{folder}/index.html"


def _prune(docs_dir: Path, name: str, keep: str) -> None:
    copies = sorted(
        (p for p in docs_dir.glob(f"{name}-*") if p.is_dir() and p.name != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in copies[KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
