"""The ``hsinsight`` console script as a user runs it: help, the sample, refusals."""

from __future__ import annotations

import csv
import os
import subprocess

import pytest

from cli_support import BIN, hsinsight
from hsinsight.sources.base import SYNTHETIC_MARKER


@pytest.mark.parametrize(
    "command", [[], ["sample"], ["run"], ["docs"], ["airflow"], ["dashboard"], ["prepare"]]
)
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


class _Server:
    """Stands in for the dashboard's server process."""

    def __init__(self) -> None:
        self.stopped = False

    def poll(self):
        return 0 if self.stopped else None

    def terminate(self) -> None:
        self.stopped = True

    def wait(self) -> int:
        return 0


def test_run_serves_the_dashboard_from_the_transforms_publish_once() -> None:
    from hsinsight.cli import DashboardOnPublish

    started: list[_Server] = []
    serving = DashboardOnPublish(lambda: started.append(_Server()) or started[-1])
    for event in (
        {"dag_id": "hsinsight_ingest_cps_vawg", "task_id": "ingest", "state": "success"},
        {"dag_id": "hsinsight_transform", "task_id": "publish", "state": "running"},
        {"dag_id": "hsinsight_transform", "task_id": "quality_checks", "state": "success"},
    ):
        serving.on_event(event)
    assert started == []
    published = {"dag_id": "hsinsight_transform", "task_id": "publish", "state": "success"}
    serving.on_event(published)
    serving.on_event(published)
    assert len(started) == 1 and serving.process is started[0]
    # a run that fails afterwards stops it
    serving.stop()
    assert started[0].stopped


def test_run_serves_the_dashboard_when_the_run_ends_if_nothing_was_published() -> None:
    from hsinsight.cli import DashboardOnPublish

    started: list[_Server] = []
    serving = DashboardOnPublish(lambda: started.append(_Server()) or started[-1])
    serving.on_event({"dag_id": "hsinsight_ingest_cps_vawg", "task_id": "ingest", "state": "success"})
    assert started == []
    assert serving.serve() == 0
    assert len(started) == 1


def test_the_airflow_runner_hands_each_task_event_on_as_it_comes(tmp_path) -> None:
    import json
    import sys

    from hsinsight.airflow.driver import PROGRESS_PREFIX
    from hsinsight.airflow.runner import _stream

    events = [
        {"step": "transform", "dag_id": "hsinsight_transform", "task_id": "publish", "state": state}
        for state in ("running", "success")
    ]
    script = (
        "".join(f"print({PROGRESS_PREFIX + json.dumps(e)!r})\n" for e in events) + "print('other output')\n"
    )
    seen: list[dict] = []
    code, _ = _stream(
        [sys.executable, "-c", script], dict(os.environ), tmp_path, tmp_path / "log", None, None, seen.append
    )
    assert code == 0 and seen == events
    assert "other output" in (tmp_path / "log").read_text()
