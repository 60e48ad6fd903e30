"""One typed settings object: where everything lives, read from the environment and defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _project_root() -> Path:
    env = os.environ.get("HSINSIGHT_HOME")
    if env:
        return Path(env).resolve()
    # src/hsinsight/config.py -> project root is two levels above the package
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Paths the pipeline, the DAGs and the dashboard agree on.

    Every path can be overridden through an environment variable so tests and
    deployments never need to edit code.
    """

    project_root: Path
    sample_dir: Path
    warehouse: Path
    dbt_project_dir: Path
    expectations_dir: Path
    quality_dir: Path
    quarantine_dir: Path
    #: quarantine retention: the refused files kept (one copy per content, the most
    #: recently refused first) and the days one is kept after its last refusal
    quarantine_keep: int = 200
    quarantine_days: float = 90.0
    #: the problem profiles written after each publish into ``profiles/<period>/``
    #: beside the warehouse's folder: ``html`` (every force and an index), ``pdf``
    #: (HTML and a PDF of each, when Chromium is installed) or ``off``
    profiles: str = "html"

    @property
    def seeds_dir(self) -> Path:
        return self.dbt_project_dir / "seeds"

    @property
    def limits(self):
        """How much of a raw file ingest reads (:class:`hsinsight.limits.Limits`): the
        defaults, each overridable as ``HSINSIGHT_LIMIT_<NAME>``."""
        from hsinsight.limits import Limits

        return Limits.from_env()

    @classmethod
    def from_env(cls) -> Settings:
        root = _project_root()

        def path(var: str, default: Path) -> Path:
            value = os.environ.get(var)
            return Path(value).resolve() if value else default

        return cls(
            project_root=root,
            sample_dir=path("HSINSIGHT_SAMPLE_DIR", root / "data" / "sample"),
            warehouse=path("HSINSIGHT_WAREHOUSE", root / "data" / "warehouse" / "hsinsight.duckdb"),
            dbt_project_dir=path("HSINSIGHT_DBT_PROJECT_DIR", root / "dbt_project"),
            expectations_dir=path("HSINSIGHT_EXPECTATIONS_DIR", root / "expectations"),
            quality_dir=path("HSINSIGHT_QUALITY_DIR", root / "data" / "quality"),
            quarantine_dir=path("HSINSIGHT_QUARANTINE_DIR", root / "data" / "quarantine"),
            quarantine_keep=int(_number("HSINSIGHT_QUARANTINE_KEEP", 200)),
            quarantine_days=_number("HSINSIGHT_QUARANTINE_DAYS", 90.0),
            profiles=_choice("HSINSIGHT_PROFILES", ("html", "pdf", "off"), "html"),
        )


def settings() -> Settings:
    return Settings.from_env()


def _choice(var: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(var, "").strip().lower() or default
    if value not in allowed:
        raise ValueError(f"{var} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _number(var: str, default: float) -> float:
    value = os.environ.get(var, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number < 0:
        raise ValueError(f"{var} must be a number >= 0, got {value!r}")
    return number


#: Usage reporting of the tools the pipeline runs, switched off: Great Expectations
#: (GX_ANALYTICS_ENABLED; the context's analytics_enabled is set off too), Airflow
#: (its [usage_data_collection] section, where the installed version still has one),
#: astronomer-cosmos, dbt, and anything honouring DO_NOT_TRACK or Scarf's opt-out.
TELEMETRY_OFF = {
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "SCARF_ANALYTICS": "false",
    "SCARF_NO_ANALYTICS": "true",
    "DO_NOT_TRACK": "1",
}


def turn_off_telemetry(environ: dict | None = None) -> None:
    """Set :data:`TELEMETRY_OFF` in ``environ`` (this process's environment by default),
    so nothing this process runs or starts reports usage."""
    target = os.environ if environ is None else environ
    target.update(TELEMETRY_OFF)
