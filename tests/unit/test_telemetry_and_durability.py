"""No usage reports from the tools hsinsight starts, and replaces that survive a power cut
(the file flushed before the rename, its folder after it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hsinsight import cli
from hsinsight import publish as publishing
from hsinsight.config import TELEMETRY_OFF

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_telemetry_settings(monkeypatch):
    for var in TELEMETRY_OFF:
        monkeypatch.delenv(var, raising=False)


def test_the_command_line_turns_usage_reports_off(no_telemetry_settings):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert {var: os.environ.get(var) for var in TELEMETRY_OFF} == TELEMETRY_OFF


@pytest.mark.parametrize("dag_file", ["hsinsight_ingest.py", "hsinsight_transform.py"])
def test_importing_a_dag_file_turns_usage_reports_off(tmp_path, dag_file):
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    # A bare Airflow home without a metadata database: Cosmos must not keep its dbt ls
    # cache in an Airflow Variable there (a deployment migrates the database first).
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__COSMOS__ENABLE_CACHE_DBT_LS="False",
    )
    script = (
        "import json, os, runpy, sys\n"
        f"runpy.run_path({str(ROOT / 'dags' / dag_file)!r})\n"
        f"print(json.dumps({{v: os.environ.get(v) for v in {sorted(TELEMETRY_OFF)!r}}}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert yaml.safe_load(done.stdout.strip().splitlines()[-1]) == TELEMETRY_OFF


def test_the_great_expectations_context_is_saved_with_analytics_off(tmp_path, no_telemetry_settings):
    from hsinsight import checks

    checks._gx_context(tmp_path / "quality")
    saved = yaml.safe_load((tmp_path / "quality" / "gx" / "great_expectations.yml").read_text())
    assert saved["analytics_enabled"] is False
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"


def test_a_replace_flushes_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    source, target = tmp_path / "work" / ".new", tmp_path / "published" / "file"
    source.parent.mkdir()
    target.parent.mkdir()
    source.write_text("new", encoding="utf-8")
    target.write_text("old", encoding="utf-8")
    flushed: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        flushed.append((os.readlink(f"/proc/self/fd/{fd}"), target.read_text(encoding="utf-8") == "new"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    publishing.durable_replace(source, target)

    assert target.read_text(encoding="utf-8") == "new" and not source.exists()
    assert flushed[0] == (str(source), False)  # the content, before the rename
    assert (str(target.parent), True) in flushed  # the new entry, after it
    assert (str(source.parent), True) in flushed  # and the folder it left
