"""Crash safety: a run killed anywhere leaves the last good warehouse published, the
next run sweeps what it left and publishes; readers never see a torn file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from conftest import isolated_settings
from hsinsight import pipeline, runs
from hsinsight import publish as publishing
from hsinsight.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HSINSIGHT = Path(sys.executable).parent / "hsinsight"
#: the smallest raw folder the whole pipeline publishes from: one SYNTHETIC sample file
SAMPLE_FILE = "home_office_police_recorded_crime_pfa.csv"
#: where a run is killed, in pipeline order
CRASH_POINTS = ("ingest", "dbt", "checks", "publish")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_like_the_dashboard(warehouse: Path, sql: str) -> list[tuple]:
    """An in-memory connection attaching the published file read-only for one query,
    as hsinsight.dashboard.connection does."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f'attach ? as "{warehouse.stem}" (read_only)', [str(warehouse)])
        con.execute(f'use "{warehouse.stem}"')
        return con.execute(sql).fetchall()
    finally:
        con.close()


def one_file_raw(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(Settings.from_env().sample_dir) / SAMPLE_FILE, folder / SAMPLE_FILE)
    return folder


def run_env(cfg: Settings, pause: str | None = None) -> dict[str, str]:
    env = dict(
        os.environ,
        HSINSIGHT_QUALITY_DIR=str(cfg.quality_dir),
        HSINSIGHT_QUARANTINE_DIR=str(cfg.quarantine_dir),
    )
    env.pop(publishing.PAUSE_ENV, None)
    if pause:
        env[publishing.PAUSE_ENV] = pause
    return env


def start_run(raw: Path, cfg: Settings, pause: str | None = None, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(HSINSIGHT), "run", "--raw", str(raw), "--warehouse", str(cfg.warehouse), *extra],
        env=run_env(cfg, pause),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(
                f"the run ended (exit {process.returncode}) before {path.name}:\n{out}\n{err}"
            )
        assert time.monotonic() < deadline, f"{path.name} not reached within {timeout} s"
        time.sleep(0.1)


def builds(cfg: Settings) -> list[Path]:
    return sorted(cfg.warehouse.parent.glob(f"{publishing.BUILD_PREFIX}*"))


# --------------------------------------------------------------------------- torn reads


def test_a_reader_never_sees_an_error_or_a_torn_file_across_20_publishes(tmp_path):
    """Publish 20 builds while a reader loops, each read on a fresh read-only attach, as the
    dashboard reads: every read sees one whole file (the marker's two values, written at
    the two ends of the build, agree) and none fails."""
    warehouse = tmp_path / "warehouse" / "hsinsight.duckdb"
    warehouse.parent.mkdir()
    publishes = 20

    def make_build(version: int) -> Path:
        build = publishing.new_build_path(warehouse, run_id=f"reader-test-{version}")
        con = duckdb.connect(str(build))
        try:
            con.execute("create table marker_start as select ? as version", [version])
            # enough rows that a file copied or written in place would be seen half-way
            con.execute(
                "create table padding as select range as n, md5(range::varchar || ?) as text "
                "from range(150000)",
                [str(version)],
            )
            con.execute("create table marker_end as select ? as version", [version])
        finally:
            con.close()
        return build

    publishing.publish(make_build(0), warehouse)
    stop = threading.Event()
    reads, errors, torn, seen = 0, [], [], set()

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                rows = read_like_the_dashboard(
                    warehouse,
                    "select s.version, e.version, (select count(*) from padding) "
                    "from marker_start s, marker_end e",
                )
            except Exception as exc:  # noqa: BLE001 - counted, the assertion below says which
                errors.append(repr(exc))
            else:
                start, end, count = rows[0]
                if start != end or count != 150000:
                    torn.append(rows[0])
                seen.add(start)
            reads += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for version in range(1, publishes + 1):
            build = make_build(version)
            with publishing.locked(warehouse):
                identity = publishing.publish_build(build, warehouse)
            publishing.discard_build(build)
            assert identity.sha256 == sha256(warehouse)
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()

    print(f"reader: {reads} reads across {publishes} publishes, {len(errors)} errors, {len(torn)} torn")
    assert errors == [] and torn == []
    assert reads >= publishes
    assert len(seen) >= 5, f"the reader saw only versions {sorted(seen)}"
    assert read_like_the_dashboard(warehouse, "select version from marker_end") == [(publishes,)]
    assert builds(isolated_settings(tmp_path)) == []


# --------------------------------------------------------------------------- killed runs


@pytest.mark.slow
def test_a_run_killed_in_each_step_leaves_the_last_good_warehouse_and_the_next_run_sweeps(tmp_path):
    """SIGKILL a run inside ingest, dbt, checks and publish in turn. After each kill the
    published warehouse is byte-identical and readable and the lock is free; the next run
    removes the dead run's build, gives it a run-log row, and the last one publishes.
    A direct run also leaves the Airflow raw stores in place, holding what it published."""
    cfg = isolated_settings(tmp_path)
    raw = one_file_raw(tmp_path / "raw")
    first = start_run(raw, cfg)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out + err
    good = cfg.warehouse.read_bytes()
    good_rows = read_like_the_dashboard(cfg.warehouse, "select count(*) from marts.recorded_crime_quarterly")
    assert good_rows[0][0] > 0
    # a partial download left in the raw folder by a process that died
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    partial = raw / f".{SAMPLE_FILE}.part-{dead.pid}-0123abcd"
    partial.write_bytes(b"half a file")

    killed: list[tuple[str, dict]] = []
    for point in CRASH_POINTS:
        pause = tmp_path / f"pause-{point}"
        pause.mkdir()
        run = start_run(raw, cfg, f"{point}:{pause}")
        wait_for(pause / f"{point}.reached", run)
        # the run before this one was swept by this one, under the lock
        for build_dir, _ in killed:
            assert not build_dir.exists(), f"{build_dir} was not swept"
        assert not partial.exists()
        [build_dir] = builds(cfg)
        owner = json.loads((build_dir / publishing.OWNER_FILE).read_text())
        assert owner["step"] == point and owner["pid"] == run.pid
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=60)
        assert cfg.warehouse.read_bytes() == good, f"killed in {point}: the published file changed"
        assert (
            read_like_the_dashboard(cfg.warehouse, "select count(*) from marts.recorded_crime_quarterly")
            == good_rows
        )
        # the operating system gave the lock back with the dead process
        with publishing.locked(cfg.warehouse, wait=False):
            pass
        killed.append((build_dir, owner))

    # an Airflow raw store beside the warehouse (the ingest DAG's own step)
    store = pipeline.ingest_source("home_office_recorded_crime", raw, cfg.warehouse, cfg)["store"]
    last = start_run(raw, cfg)
    out, err = last.communicate(timeout=600)
    assert last.returncode == 0, out + err
    assert f"removed stale build {killed[-1][0]}" in out
    assert builds(cfg) == []
    published = sha256(cfg.warehouse)
    assert published != hashlib.sha256(good).hexdigest()

    logged = {row["run_id"]: row for row in runs.read_runs(cfg.warehouse, limit=50)}
    for _, owner in killed:
        row = logged[owner["run_id"]]
        assert row["outcome"] == "failed" and row["published_sha256"] is None
        assert f"stopped at step {owner['step']!r}" in row["message"]
    [final] = [row for row in logged.values() if row["outcome"] == "published" and row["swept"]]
    assert final["published_sha256"] == published
    assert final["published_bytes"] == cfg.warehouse.stat().st_size
    assert str(killed[-1][0]) in final["swept"]
    # the raw store is still there, holding what the run published, and not newer than it
    assert Path(store).is_file()
    assert not pipeline.warehouse_is_behind(cfg.warehouse)
    [(files,)] = read_like_the_dashboard(
        Path(store), f"select count(*) from raw._files where file_name = '{SAMPLE_FILE}'"
    )
    assert files >= 1
