"""The local Airflow home hsinsight runs its DAGs in, and the environment Airflow runs with.

:func:`airflow_environment` says where the home (``<project>/.airflow`` unless
``AIRFLOW_HOME`` is set), the DAG folder and the SQLite metadata database are, and
builds the environment every ``airflow`` command and task gets: the project's settings,
no telemetry, cosmos's cache. :func:`ensure_database` migrates that database only
when the installed Airflow version changed. Used by the runner and by the standalone
Airflow; nothing here imports Airflow.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO

from hsinsight.config import Settings, turn_off_telemetry
from hsinsight.errors import HsinsightError

log = logging.getLogger(__name__)

#: Written in the Airflow home once ``airflow db migrate`` ran, naming the Airflow version.
MIGRATION_STAMP = ".hsinsight-db-migrated"

# Settings field -> the environment variable Settings.from_env() reads it from.
_SETTINGS_ENV = {
    "project_root": "HSINSIGHT_HOME",
    "sample_dir": "HSINSIGHT_SAMPLE_DIR",
    "warehouse": "HSINSIGHT_WAREHOUSE",
    "dbt_project_dir": "HSINSIGHT_DBT_PROJECT_DIR",
    "expectations_dir": "HSINSIGHT_EXPECTATIONS_DIR",
    "quality_dir": "HSINSIGHT_QUALITY_DIR",
    "quarantine_dir": "HSINSIGHT_QUARANTINE_DIR",
}


class AirflowRunError(HsinsightError):
    """The DAG run did not succeed (or could not be started or read back).

    ``failures`` holds the failure record of each failed task (dag_id, task_id, try_number,
    error_type, error and, for a rejected file, file/row/column; see
    :mod:`hsinsight.airflow.callbacks`); ``task_states`` maps task id to final state.
    """

    def __init__(
        self,
        message: str,
        *,
        run_id: str | None = None,
        state: str | None = None,
        task_states: dict[str, str] | None = None,
        failures: list[dict] | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.run_id = run_id
        self.state = state
        self.task_states = task_states or {}
        self.failures = failures or []
        self.log_file = log_file
        super().__init__(message)


@dataclass
class AirflowEnvironment:
    """Where the local Airflow lives and the environment its commands run with."""

    home: Path
    dags_folder: Path
    database: Path
    env: dict[str, str] = field(repr=False)

    @property
    def airflow(self) -> Path:
        return airflow_executable()


def airflow_executable() -> Path:
    """The ``airflow`` command installed beside the running Python interpreter."""
    candidate = Path(sys.executable).parent / "airflow"
    if not candidate.exists():
        raise AirflowRunError(
            f"the airflow command was not found beside {sys.executable}; "
            "install the project's dependencies (make setup)"
        )
    return candidate


def airflow_environment(cfg: Settings, warehouse: Path | None = None) -> AirflowEnvironment:
    """The Airflow home, DAG folder and SQLite database for this project, and the env to run with."""
    home = (
        Path(os.environ["AIRFLOW_HOME"]) if os.environ.get("AIRFLOW_HOME") else cfg.project_root / ".airflow"
    )
    home = home.resolve()
    dags_folder = (cfg.project_root / "dags").resolve()
    database = home / "airflow.db"
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW_CONFIG": str(home / "airflow.cfg"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{database}",
            "PYTHONUNBUFFERED": "1",
            # cosmos keeps dbt's partial parse here between the transform DAG's runs.
            "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
            # `airflow standalone` and friends start further `airflow` commands by name.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        }
    )
    # Offline and quiet: no usage reports from Airflow, cosmos, dbt or Great Expectations
    # (each would otherwise try the network, and wait for it, in every task).
    turn_off_telemetry(env)
    # The tasks build their Settings from the environment: hand them exactly this cfg.
    for name, var in _SETTINGS_ENV.items():
        env[var] = str(getattr(cfg, name))
    if warehouse is not None:
        env["HSINSIGHT_WAREHOUSE"] = str(Path(warehouse).resolve())
    return AirflowEnvironment(home=home, dags_folder=dags_folder, database=database, env=env)


def _migration_key(airflow_env: AirflowEnvironment) -> str:
    return f"apache-airflow-core {metadata.version('apache-airflow-core')}\n{airflow_env.database}\n"


def migration_needed(airflow_env: AirflowEnvironment) -> bool:
    """True unless this database was migrated by the installed Airflow version."""
    stamp = airflow_env.home / MIGRATION_STAMP
    if not airflow_env.database.exists() or not stamp.exists():
        return True
    return stamp.read_text() != _migration_key(airflow_env)


def ensure_database(airflow_env: AirflowEnvironment, *, output: IO[str] | None = None) -> bool:
    """Run ``airflow db migrate`` if needed. Returns True when it ran."""
    if not migration_needed(airflow_env):
        return False
    airflow_env.home.mkdir(parents=True, exist_ok=True)
    log.info("migrating the Airflow metadata database %s", airflow_env.database)
    completed = subprocess.run(
        [str(airflow_env.airflow), "db", "migrate"],
        env=airflow_env.env,
        cwd=airflow_env.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.splitlines()[-20:])
        raise AirflowRunError(f"airflow db migrate failed (exit code {completed.returncode}):\n{tail}")
    if output is not None:
        output.write(f"migrated the Airflow metadata database {airflow_env.database}\n")
    (airflow_env.home / MIGRATION_STAMP).write_text(_migration_key(airflow_env))
    return True
