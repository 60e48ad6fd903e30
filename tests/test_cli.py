"""The ``hsinsight`` console script as a user runs it."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hsinsight.sources.base import SYNTHETIC_MARKER

BIN = Path(sys.executable).parent


def hsinsight(*args: str, tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        HSINSIGHT_QUALITY_DIR=str(tmp_path / "quality"),
        HSINSIGHT_QUARANTINE_DIR=str(tmp_path / "quarantine"),
        **extra_env,
    )
    return subprocess.run(
        [str(BIN / "hsinsight"), *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.parametrize("command", [[], ["sample"], ["run"], ["docs"], ["airflow"], ["dashboard"]])
def test_help(tmp_path, command):
    result = hsinsight(*command, "--help", tmp_path=tmp_path)
    assert result.returncode == 0
    assert "usage: hsinsight" in result.stdout


def test_output_cut_short_by_its_reader_is_not_an_error():
    """`hsinsight fetch --list | head -1`: the reader stops early; no traceback, exit 0."""
    listing = subprocess.Popen(
        [str(BIN / "hsinsight"), "fetch", "--list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    first = listing.stdout.readline()
    listing.stdout.close()  # as `head` does once it has its line
    stderr = listing.stderr.read().decode()
    assert listing.wait(timeout=60) == 0
    assert first.strip() and "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_sample_writes_labelled_files(tmp_path):
    result = hsinsight("sample", "--out", str(tmp_path / "s"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout
    files = list((tmp_path / "s").glob("*.csv"))
    assert files
    with open(files[0], newline="") as handle:
        assert next(csv.reader(handle))[0].startswith(SYNTHETIC_MARKER)


def test_malformed_file_exits_1_naming_file_row_and_column(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "prc.csv").write_text(
        "Financial Year,Financial Quarter,Force Name,Offence Description,Offence Group,"
        "Offence Subgroup,Offence Code,Number of Offences\n"
        "2016/17,1,Kent,Harassment,Violence against the person,Stalking and harassment,8L,12\n"
        "2016/17,2,Kent,Harassment,Violence against the person,Stalking and harassment,8L,n/k\n"
    )
    warehouse = tmp_path / "wh" / "hsinsight.duckdb"
    result = hsinsight("run", "--raw", str(raw), "--warehouse", str(warehouse), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "prc.csv" in result.stderr and "row 3" in result.stderr
    assert "'Number of Offences'" in result.stderr
    assert not warehouse.exists()


def test_unrecognised_file_exits_1(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "notes.csv").write_text("Name,Value\nfoo,1\n")
    result = hsinsight("run", "--raw", str(raw), "--warehouse", str(tmp_path / "w.duckdb"), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "notes.csv" in result.stderr and "no header row of a known layout" in result.stderr


@pytest.mark.e2e
def test_run_on_the_sample_publishes_and_says_synthetic(tmp_path):
    warehouse = tmp_path / "wh" / "hsinsight.duckdb"
    result = hsinsight("run", "--warehouse", str(warehouse), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert warehouse.exists()
    assert "SYNTHETIC" in result.stdout and "published" in result.stdout


def test_docs_without_a_published_warehouse_says_what_to_do(tmp_path):
    result = hsinsight(
        "docs",
        "--warehouse",
        str(tmp_path / "none.duckdb"),
        "--out",
        str(tmp_path / "docs"),
        tmp_path=tmp_path,
    )
    assert result.returncode == 1
    assert "no published warehouse" in result.stderr and "hsinsight run" in result.stderr


@pytest.mark.e2e
def test_docs_of_a_published_warehouse_open_from_disk(sample_warehouse, tmp_path):
    result = hsinsight(
        "docs", "--warehouse", str(sample_warehouse), "--out", str(tmp_path / "docs"), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    index = tmp_path / "docs" / "index.html"
    assert str(index) in result.stdout
    # the static page embeds the manifest: the dashboard exposure and the marts are in it
    page = index.read_text(encoding="utf-8")
    assert "dashboard_overview" in page and "problem_profile" in page


@pytest.mark.e2e
def test_run_through_airflow_reports_every_dag_and_changes_nothing_the_second_time(
    dags_published, airflow_home
):
    """What `make run` does first, on files the DAGs have already loaded (the session's
    first round, `dags_published`, built the warehouse): every ingest DAG finds nothing
    new, so no asset is updated, the transform DAG does not run, and the warehouse and
    the raw stores are exactly as they were."""
    import hashlib

    from hsinsight import pipeline
    from hsinsight.fetch import load_registry

    cfg, _ = dags_published
    files = [cfg.warehouse, *(pipeline.raw_store(cfg.warehouse, s) for s in load_registry())]
    before = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    result = subprocess.run(
        [str(BIN / "hsinsight"), "run", "--orchestrator", "airflow", "--warehouse", str(cfg.warehouse)],
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(
            os.environ,
            AIRFLOW_HOME=str(airflow_home),
            HSINSIGHT_QUALITY_DIR=str(cfg.quality_dir),
            HSINSIGHT_QUARANTINE_DIR=str(cfg.quarantine_dir),
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for source_id in load_registry():
        assert f"hsinsight_ingest_{source_id}: nothing new" in result.stdout
    assert "hsinsight_transform did not run; the warehouse is up to date" in result.stdout
    assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in files] == before
    # Airflow's own log goes to a file unless asked for (-v), and the data are labelled.
    assert "[info" not in result.stdout
    assert "SYNTHETIC" in result.stdout
