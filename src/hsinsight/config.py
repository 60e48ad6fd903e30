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

    @property
    def seeds_dir(self) -> Path:
        return self.dbt_project_dir / "seeds"

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
        )


def settings() -> Settings:
    return Settings.from_env()
