"""``hsinsight airflow``: a standalone Airflow on this machine with hsinsight's DAGs.

:func:`serve` runs ``airflow standalone`` (scheduler, DAG processor, triggerer and web
server, on SQLite) in the project's Airflow home, prints the URL and the login once it
answers, and stops it cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from hsinsight.airflow.environment import AirflowRunError, airflow_environment, ensure_database
from hsinsight.config import Settings
from hsinsight.names import INGEST_DAG_PREFIX, TRANSFORM_DAG_ID

#: How long ``serve`` waits for the web server to answer before giving up.
STARTUP_SECONDS = 300
LOGIN_USER = "admin"


def _password(home: Path) -> str | None:
    """The generated password of the login user, once ``airflow standalone`` wrote it."""
    generated = home / "simple_auth_manager_passwords.json.generated"
    try:
        return json.loads(generated.read_text(encoding="utf-8")).get(LOGIN_USER)
    except (OSError, ValueError):
        return None


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _group_alive(group: int) -> bool:
    """Whether any process of the process group ``group`` is still running."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serve(cfg: Settings, *, host: str = "127.0.0.1", port: int = 8080, output: IO[str] = sys.stdout) -> int:
    """Run ``airflow standalone`` (scheduler, DAG processor, triggerer and web server, on
    SQLite) with hsinsight's DAGs, print the URL and the login once it answers, and stop
    it cleanly (SIGINT, as it expects) on Ctrl-C or SIGTERM. Returns its exit code."""
    import signal
    import time

    from hsinsight import transform

    airflow_env = airflow_environment(cfg)
    transform.ensure_manifest(cfg)
    ensure_database(airflow_env, output=output)
    env = dict(
        airflow_env.env,
        AIRFLOW__API__HOST=host,
        AIRFLOW__API__PORT=str(port),
        # The workers report to the web server's execution API, wherever it listens.
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://{host}:{port}/execution/",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{LOGIN_USER}:admin",
        # New DAGs start paused: nothing is fetched from a publisher until you switch a DAG on.
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
    )
    log_file = airflow_env.home / "standalone.log"
    url = f"http://{host}:{port}"
    with open(log_file, "w", encoding="utf-8") as saved:
        process = subprocess.Popen(
            [str(airflow_env.airflow), "standalone"],
            env=env,
            cwd=airflow_env.home,
            stdout=saved,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def stop(*_: object) -> None:
            # SIGINT to standalone itself, which stops its components; then whatever of
            # them is left (the scheduler's workers) is terminated, and killed at last.
            for target, sig, grace in (
                (process.pid, signal.SIGINT, 30),
                (-process.pid, signal.SIGTERM, 15),
                (-process.pid, signal.SIGKILL, 5),
            ):
                try:
                    os.kill(target, sig)
                except ProcessLookupError:
                    pass
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    continue
                if not _group_alive(process.pid):
                    return

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            output.write(
                f"starting Airflow (airflow standalone, SQLite) in {airflow_env.home}; log: {log_file}\n"
            )
            output.flush()
            deadline = time.monotonic() + STARTUP_SECONDS
            while not (_answers(f"{url}/api/v2/monitor/health") and _password(airflow_env.home)):
                if process.poll() is not None:
                    raise AirflowRunError(
                        f"airflow standalone stopped (exit code {process.returncode}); see {log_file}"
                    )
                if time.monotonic() > deadline:
                    raise AirflowRunError(
                        f"Airflow did not answer at {url} within {STARTUP_SECONDS} s; see {log_file}"
                    )
                time.sleep(1)
            output.write(
                f"Airflow: {url}\n"
                f"login:   {LOGIN_USER} / {_password(airflow_env.home)}\n"
                f"DAGs:    {INGEST_DAG_PREFIX}<source> (one per source, paused until you switch them on) and\n"
                f"         {TRANSFORM_DAG_ID} (runs when an ingest DAG loads something new)\n"
                "To load the bundled SYNTHETIC sample, trigger an ingest DAG with the config\n"
                f'         {{"raw_dir": "{cfg.sample_dir}", "download": false}}\n'
                "Ctrl-C stops Airflow.\n"
            )
            output.flush()
            return process.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop()
            signal.signal(signal.SIGTERM, previous)
