"""Atomic, durable publishing of the warehouse, one writer at a time.

Builds
    A run builds into ``<warehouse dir>/.build-<id>/<warehouse file name>``: the same
    file name as the published warehouse, so DuckDB's catalog name (taken from the
    file name) is identical in the build and in the published file and the dbt views
    keep resolving. Beside the build file, ``run.json`` names the build's owner (the
    process id and its start time, the host, the run id) and the step the run has
    reached; it is how a later run tells a build left by a run that died from a build
    still in progress, and what that run was doing when it stopped.

Publishing
    When every step has passed, the build is checkpointed, closed, flushed to disk
    (``fsync``), its SHA-256 computed, and moved onto the published path with
    ``os.replace``, which is atomic on one file system: a reader sees either the old
    warehouse or the new one, never a half-built file. The folder is flushed after the
    rename, so the new entry survives a power cut. Everything else that is replaced
    (the run log, the raw stores, quarantined files) goes through
    :func:`durable_replace` the same way.

One writer at a time
    ``<warehouse>.lock`` beside the published file is locked (``flock``) from the
    start of a build to the end of its publish and its run-log row. A second run waits
    for it, saying who holds it, or with ``wait=False`` refuses at once
    (:class:`WarehouseBusy`). The operating system releases the lock when its holder
    dies, however it dies. The lock is re-entrant within a process: the transform
    DAG's tasks, which ``airflow dags test`` runs in one process, take it again
    without waiting for themselves. A holder can hand it to the processes it starts
    (:func:`delegate_env`: ``hsinsight run --orchestrator airflow`` does, for its
    Airflow driver), which then use it as their own while the holder keeps it.

Test hook
    :func:`pause_point` makes a run stop at a named point when the environment
    variable ``HSINSIGHT_TEST_PAUSE`` asks it to: the crash tests use it to kill a run
    at a known place. It does nothing otherwise.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hsinsight.errors import PublishError

log = logging.getLogger(__name__)

BUILD_PREFIX = ".build-"
#: The owner record in every build folder.
OWNER_FILE = "run.json"
LOCK_SUFFIX = ".lock"
#: A build folder with no owner record is only swept once it is this old (seconds):
#: it was made by a run that died before writing one, or by a tool that writes none.
UNOWNED_GRACE_SECONDS = 300
#: A build whose owner runs on another host, or a build of the Airflow transform DAG
#: between two of its tasks (no process holds it then), is left alone by other runs
#: until its owner record is this old (seconds).
FOREIGN_GRACE_SECONDS = 6 * 3600
#: Test hook: ``<point>:<folder>`` makes the run pause at ``point`` (see pause_point).
PAUSE_ENV = "HSINSIGHT_TEST_PAUSE"
#: Set by a process that holds the lock for the processes it starts (``hsinsight run
#: --orchestrator airflow`` for its Airflow driver): the token written in the lock file.
#: A process whose environment carries the holder's token uses the lock as its own.
LOCK_TOKEN_ENV = "HSINSIGHT_LOCK_TOKEN"
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- durability


def fsync_file(path: Path) -> None:
    """Flush ``path``'s content to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush ``folder``'s entries (a rename, a new or removed file) to disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:  # a few file systems cannot sync a folder: nothing more to do there
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def durable_replace(source: Path, target: Path) -> None:
    """``os.replace(source, target)`` that survives a crash: the file is flushed before
    the rename and the folder (both folders, when they differ) after it."""
    source, target = Path(source), Path(target)
    fsync_file(source)
    os.replace(source, target)
    fsync_dir(target.parent)
    if source.parent.resolve() != target.parent.resolve():
        fsync_dir(source.parent)


@dataclass(frozen=True)
class FileIdentity:
    """What a published file is: its SHA-256 and size in bytes."""

    sha256: str
    size: int


def file_identity(path: Path) -> FileIdentity:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileIdentity(digest.hexdigest(), size)


# --------------------------------------------------------------------------- processes


def _process_start(pid: int) -> tuple[str | None, str | None]:
    """(start time in clock ticks since boot, state letter) of ``pid`` from /proc, or Nones."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None, None
    fields = stat[stat.rfind(")") + 2 :].split()
    # after the command name: state is field 3 of stat(5), starttime field 22
    return (fields[19] if len(fields) > 19 else None), (fields[0] if fields else None)


def this_process() -> dict:
    """The pid, its start time and the host: enough to tell later whether it still runs."""
    return {"pid": os.getpid(), "pid_start": _process_start(os.getpid())[0], "host": socket.gethostname()}


def process_alive(owner: dict) -> bool | None:
    """Whether the process ``owner`` names (pid, pid_start, host) is still running: None
    when that cannot be told from here (another host)."""
    if owner.get("host") != socket.gethostname():
        return None
    try:
        pid = int(owner["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start, state = _process_start(pid)
    if state in ("Z", "X"):  # ended, not yet reaped by its parent
        return False
    recorded = owner.get("pid_start")
    return not (recorded and start and recorded != start)  # the pid was reused


def utcnow_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- the lock


class WarehouseBusy(PublishError):
    """Another run holds the warehouse's lock and the caller asked not to wait."""

    def __init__(self, warehouse: Path, holder: dict | None) -> None:
        self.warehouse = Path(warehouse)
        self.holder = holder or {}
        super().__init__(f"another run is building {self.warehouse} ({describe_holder(self.holder)})")


def lock_path(warehouse: Path) -> Path:
    """The lock file of the warehouse published at ``warehouse``: beside it."""
    warehouse = Path(warehouse).resolve()
    return warehouse.with_name(warehouse.name + LOCK_SUFFIX)


def describe_holder(holder: dict | None) -> str:
    if not holder:
        return "pid unknown"
    text = f"pid {holder.get('pid', '?')}, started {holder.get('started', '?')}"
    if holder.get("run_id"):
        text += f", run {holder['run_id']}"
    return text


def read_holder(warehouse: Path, *, attempts: int = 20) -> dict | None:
    """What the lock file says of the run holding it. The holder writes it just after
    taking the lock, so an empty file is read again for a moment."""
    path = lock_path(warehouse)
    for attempt in range(attempts):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        if text.strip():
            try:
                return json.loads(text)
            except ValueError:
                pass
        if attempt < attempts - 1:
            time.sleep(0.025)
    return None


@dataclass
class _Hold:
    fd: int | None  # None: held for this process by the process that started it
    count: int
    info: dict


_HELD: dict[Path, _Hold] = {}
_HELD_GUARD = threading.Lock()


def acquire(
    warehouse: Path,
    *,
    wait: bool = True,
    on_wait: Callable[[str], object] | None = None,
    run_id: str | None = None,
    orchestrator: str | None = None,
) -> dict:
    """Take the warehouse's lock (or count one more use of it when this process holds it
    already). When another run holds it: ``on_wait`` (default: a warning in the log) is
    told who, and the call waits; with ``wait=False`` it raises :class:`WarehouseBusy`.
    Returns what the lock file says of this holder.

    A process started by the holder with the holder's token in ``HSINSIGHT_LOCK_TOKEN``
    uses the holder's lock (see :func:`delegate_env`)."""
    path = lock_path(warehouse)
    with _HELD_GUARD:
        hold = _HELD.get(path)
        if hold is not None:
            hold.count += 1
            return hold.info
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(warehouse)
            token = os.environ.get(LOCK_TOKEN_ENV)
            if token and holder and holder.get("token") == token:
                os.close(fd)
                with _HELD_GUARD:
                    hold = _HELD.setdefault(path, _Hold(None, 0, holder))
                    hold.count += 1
                return hold.info
            if not wait:
                raise WarehouseBusy(Path(warehouse).resolve(), holder) from None
            message = (
                f"another run is building {Path(warehouse).resolve()} ({describe_holder(holder)}); waiting..."
            )
            (on_wait or log.warning)(message)
            fcntl.flock(fd, fcntl.LOCK_EX)
        info = {
            **this_process(),
            "started": utcnow_text(),
            "run_id": run_id,
            "orchestrator": orchestrator,
            "token": uuid.uuid4().hex,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    except BaseException:
        os.close(fd)
        raise
    with _HELD_GUARD:
        _HELD[path] = _Hold(fd, 1, info)
    return info


def release(warehouse: Path) -> None:
    """Give back one use of the lock; the last one unlocks it. Nothing when not held here."""
    path = lock_path(warehouse)
    with _HELD_GUARD:
        hold = _HELD.get(path)
        if hold is None:
            return
        hold.count -= 1
        if hold.count > 0:
            return
        del _HELD[path]
    if hold.fd is None:  # the lock is the starting process's to give back
        return
    try:
        os.ftruncate(hold.fd, 0)  # a waiting run reads who holds it next, not who held it last
    except OSError:
        pass
    try:
        fcntl.flock(hold.fd, fcntl.LOCK_UN)
    finally:
        os.close(hold.fd)


def holds(warehouse: Path) -> bool:
    """Whether this process holds the warehouse's lock."""
    with _HELD_GUARD:
        return lock_path(warehouse) in _HELD


def delegate_env(warehouse: Path, env: dict[str, str]) -> dict[str, str]:
    """``env`` with this process's hold on the warehouse's lock handed to the processes
    started with it: they use it as their own while this process keeps it."""
    with _HELD_GUARD:
        hold = _HELD.get(lock_path(warehouse))
    if hold is None or not hold.info.get("token"):
        raise PublishError(f"this process does not hold the lock of {warehouse}")
    return {**env, LOCK_TOKEN_ENV: hold.info["token"]}


@contextlib.contextmanager
def locked(warehouse: Path, **options) -> Iterator[dict]:
    """Hold the warehouse's lock for the block (see :func:`acquire` for the options)."""
    info = acquire(warehouse, **options)
    try:
        yield info
    finally:
        release(warehouse)


# --------------------------------------------------------------------------- builds


def read_owner(build_dir: Path) -> dict | None:
    try:
        owner = json.loads((Path(build_dir) / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def _write_owner(build_dir: Path, owner: dict) -> None:
    work = build_dir / f".{OWNER_FILE}.{uuid.uuid4().hex[:8]}"
    work.write_text(json.dumps(owner, default=str), encoding="utf-8")
    os.replace(work, build_dir / OWNER_FILE)


def new_build_path(warehouse: Path, *, run_id: str | None = None, orchestrator: str | None = None) -> Path:
    """A fresh build folder beside ``warehouse``, owned by this process; the build file's path."""
    warehouse = Path(warehouse).resolve()
    build_dir = warehouse.parent / f"{BUILD_PREFIX}{uuid.uuid4().hex[:12]}"
    build_dir.mkdir(parents=True, exist_ok=False)
    _write_owner(
        build_dir,
        {
            **this_process(),
            "run_id": run_id,
            "orchestrator": orchestrator,
            "target": str(warehouse),
            "started_at": utcnow_text(),
            "step": "start",
            # a run whose every step runs in the process holding (or handed) the lock:
            # once that process is gone, so is the run
            "one_process": orchestrator != "airflow" or bool(os.environ.get(LOCK_TOKEN_ENV)),
        },
    )
    return build_dir / warehouse.name


def mark_step(build_db: Path, step: str, **details: object) -> None:
    """Record in the build's owner record that this process is at ``step`` (the process
    taking the build over, for a DAG whose tasks run in processes of their own)."""
    build_dir = Path(build_db).resolve().parent
    if not build_dir.name.startswith(BUILD_PREFIX) or not build_dir.is_dir():
        return
    owner = read_owner(build_dir) or {}
    owner.update(this_process(), step=step, step_at=utcnow_text(), **details)
    _write_owner(build_dir, owner)


def stale_builds(
    folder: Path, *, foreign_grace: float = FOREIGN_GRACE_SECONDS
) -> list[tuple[Path, dict | None]]:
    """The build folders in ``folder`` whose owner has stopped, each with its owner record.

    Skipped: a build whose owning process still runs; a build with no owner record
    younger than ``UNOWNED_GRACE_SECONDS``; a build owned on another host or by the
    Airflow transform DAG under a scheduler (whose tasks run in processes of their own,
    one after the other) whose record is younger than ``foreign_grace`` seconds.
    """
    found = []
    now = time.time()
    for build_dir in sorted(Path(folder).glob(f"{BUILD_PREFIX}*")):
        if not build_dir.is_dir():
            continue
        owner = read_owner(build_dir)
        try:
            age = now - (build_dir / OWNER_FILE if owner else build_dir).stat().st_mtime
        except OSError:
            continue
        if owner is None:
            if age < UNOWNED_GRACE_SECONDS:
                continue
        else:
            alive = process_alive(owner)
            if alive:
                continue
            in_steps = owner.get("orchestrator") == "airflow" and not owner.get("one_process")
            if (alive is None or in_steps) and age < foreign_grace:
                continue
        found.append((build_dir, owner))
    return found


def discard_build(build_db: Path) -> None:
    """Remove a build's folder (the published warehouse is never touched)."""
    build_dir = Path(build_db).resolve().parent
    if build_dir.name.startswith(BUILD_PREFIX):
        shutil.rmtree(build_dir, ignore_errors=True)


# --------------------------------------------------------------------------- publishing


def catalog_name(db_path: Path) -> str:
    """The catalog name DuckDB gives a database file: its name without the extension."""
    return Path(db_path).stem


def publish_build(build_db: Path, warehouse: Path) -> FileIdentity:
    """Move the finished build onto ``warehouse``, durably; return the published file's identity.

    Raises :class:`PublishError`, with the published file untouched, when anything
    fails before the rename. Once the file is renamed into place it is published: a
    failure to flush the folder after that is logged, not raised. The build folder is
    left for the caller to discard (after recording the run).
    """
    build_db, warehouse = Path(build_db).resolve(), Path(warehouse).resolve()
    if build_db.name != warehouse.name:
        raise PublishError(f"build file {build_db} must have the published file's name {warehouse.name}")
    if not build_db.exists():
        raise PublishError(f"nothing to publish: {build_db} does not exist")
    try:
        con = duckdb.connect(str(build_db))
        try:
            con.execute("checkpoint")
        finally:
            con.close()
        wal = build_db.with_name(build_db.name + ".wal")
        if wal.exists():
            raise PublishError(f"{wal} is still present after checkpoint; refusing to publish")
        fsync_file(build_db)
        identity = file_identity(build_db)
        mark_step(build_db, "publish", sha256=identity.sha256, size=identity.size)
        pause_point("publish")
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        os.replace(build_db, warehouse)
    except OSError as exc:
        raise PublishError(f"could not publish {build_db} to {warehouse}: {exc}") from exc
    try:
        fsync_dir(warehouse.parent)
    except OSError as exc:
        log.warning("published %s, but its folder could not be flushed to disk: %s", warehouse, exc)
    return identity


def publish(build_db: Path, warehouse: Path) -> Path:
    """Publish the build onto ``warehouse`` (see :func:`publish_build`) and remove its folder."""
    publish_build(build_db, warehouse)
    discard_build(build_db)
    return Path(warehouse).resolve()


# --------------------------------------------------------------------------- test hook


def pause_point(point: str) -> bool:
    """Test hook for the crash tests; nothing happens unless ``HSINSIGHT_TEST_PAUSE`` is
    ``<point>:<folder>`` for this ``point``. Then the run writes ``<folder>/<point>.reached``
    (its pid) and waits until ``<folder>/<point>.go`` exists, so a test can kill it there
    or let it go on. Returns whether it paused."""
    folder = pause_folder(point)
    if folder is None:
        return False
    reached = folder / f"{point}.reached"
    work = folder / f".{point}.reached.{os.getpid()}"
    work.write_text(str(os.getpid()), encoding="utf-8")
    os.replace(work, reached)
    go = folder / f"{point}.go"
    while not go.exists():
        time.sleep(0.05)
    return True


def pause_folder(point: str) -> Path | None:
    """The folder of the test hook when it asks for a pause at ``point``, else None."""
    wanted, _, folder = os.environ.get(PAUSE_ENV, "").partition(":")
    return Path(folder) if wanted == point and folder else None
