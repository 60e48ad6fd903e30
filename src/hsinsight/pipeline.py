"""The pipeline's steps, shared by the CLI and the Airflow DAG.

ingest -> transform (dbt build) -> check (Great Expectations) -> publish.

Every run builds a brand-new DuckDB file beside the published warehouse and only
swaps it into place when every step has passed, so the last good warehouse stays
published and readable whatever goes wrong.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hsinsight import publish as publishing
from hsinsight.config import Settings
from hsinsight.config import settings as default_settings

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    warehouse: Path
    files: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    synthetic: bool = False
    checks: dict | None = None
    seconds: float = 0.0


def start_build(warehouse: Path) -> Path:
    """Create a fresh build file location for a run that will publish to ``warehouse``."""
    return publishing.new_build_path(Path(warehouse))


def ingest(raw_dir: Path, build_db: Path, cfg: Settings | None = None, previous: Path | None = None) -> dict:
    """Load ``raw_dir`` into the build, starting from the raw layer of ``previous`` (the
    published warehouse) when it exists, so files already loaded are not loaded again
    and a new release of a period replaces the old one with its changes recorded."""
    from hsinsight import ingest as ingesting

    cfg = cfg or default_settings()
    return ingesting.ingest_directory(Path(raw_dir), Path(build_db), cfg, previous=previous)


def transform(build_db: Path, cfg: Settings | None = None) -> None:
    from hsinsight import transform as transforming

    transforming.build(Path(build_db), cfg or default_settings())


def check(build_db: Path, cfg: Settings | None = None) -> dict:
    from hsinsight import checks

    return checks.run_checks(Path(build_db), cfg or default_settings())


def publish(build_db: Path, warehouse: Path) -> Path:
    return publishing.publish(Path(build_db), Path(warehouse))


def discard(build_db: Path) -> None:
    publishing.discard_build(Path(build_db))


#: What the check step imports (Great Expectations takes seconds to import): loaded
#: while dbt runs in its own process and this one only waits.
CHECK_IMPORTS = ("great_expectations", "great_expectations.data_context.types.base")


def _import_in_background(modules: tuple[str, ...]) -> threading.Thread:
    """Import ``modules`` in a daemon thread; an import that fails there is simply
    attempted again (and reported) where the module is used."""

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the step that needs it imports it again and says why
                return

    thread = threading.Thread(target=load, name="hsinsight-import", daemon=True)
    thread.start()
    return thread


def run(
    raw_dir: Path | None = None,
    warehouse: Path | None = None,
    cfg: Settings | None = None,
    *,
    fresh: bool = False,
) -> RunResult:
    """Run every step in-process. On any failure the build is discarded and the
    published warehouse is left exactly as it was.

    The build starts from the published warehouse's raw layer unless ``fresh``.
    """
    cfg = cfg or default_settings()
    raw_dir = Path(raw_dir or cfg.sample_dir)
    warehouse = Path(warehouse or cfg.warehouse)
    started = time.monotonic()
    build_db = start_build(warehouse)
    try:
        report = ingest(raw_dir, build_db, cfg, previous=None if fresh else warehouse)
        _import_in_background(CHECK_IMPORTS)
        transform(build_db, cfg)
        checks = check(build_db, cfg)
        publish(build_db, warehouse)
    except BaseException:
        discard(build_db)
        raise
    return RunResult(
        warehouse=warehouse,
        files=report["files"],
        changes=report.get("changes", []),
        skipped=report.get("skipped", []),
        synthetic=report["synthetic"],
        checks=checks,
        seconds=time.monotonic() - started,
    )
