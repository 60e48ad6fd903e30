"""The quarantine folder: copies of refused files, each with its refusals beside it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from hsinsight.config import Settings
from hsinsight.errors import InputFileError
from hsinsight.ingest.text import sha256_of


def quarantine(
    path: Path, reason: str, quarantine_dir: Path, *, keep: int | None = None, days: float | None = None
) -> Path:
    """Keep a copy of a refused file in the quarantine folder, with its refusals beside it.

    One copy per content: the copy is ``<first 16 hex digits of its SHA-256>-<name>``
    and ``<copy>.reason.txt`` lists every refusal of that content (when, the original
    path, why), the latest last; the same file refused again adds a refusal, not a
    copy. Retention: the copies whose last refusal is more than ``days`` days old,
    and all but the ``keep`` most recently refused, are removed (by default the
    settings' ``quarantine_days`` and ``quarantine_keep``). Each file is written under
    a temporary name, flushed and renamed into place, under a lock of the folder.

    The user's own file is never moved, changed or deleted. Returns the copy's path.
    """
    import fcntl
    import uuid

    from hsinsight import publish as publishing

    if keep is None or days is None:
        defaults = Settings.from_env()
        keep = defaults.quarantine_keep if keep is None else keep
        days = defaults.quarantine_days if days is None else days
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    with open(quarantine_dir / QUARANTINE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = sha256_of(path)[:16] if path.is_file() else None
        if digest is not None:
            same = sorted(
                p
                for p in quarantine_dir.glob(f"{digest}-*")
                if not p.name.endswith(QUARANTINE_REASON_SUFFIX) and p.is_file()
            )
            target = same[0] if same else quarantine_dir / f"{digest}-{path.name}"
            if not same:
                work = quarantine_dir / f".{digest}.{uuid.uuid4().hex[:8]}.copy"
                try:
                    shutil.copy2(path, work)
                    publishing.durable_replace(work, target)
                finally:
                    work.unlink(missing_ok=True)
        else:  # nothing to copy (a file named by an error): the refusal alone
            target = quarantine_dir / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{path.name}"
        note = target.with_name(target.name + QUARANTINE_REASON_SUFFIX)
        earlier = note.read_text(encoding="utf-8") if note.is_file() else ""
        entry = (
            f"refused: {now.isoformat(timespec='seconds')}\noriginal: {path.resolve()}\nreason: {reason}\n"
        )
        work = quarantine_dir / f".{digest or 'note'}.{uuid.uuid4().hex[:8]}.reason"
        try:
            work.write_text(earlier + ("\n" if earlier else "") + entry, encoding="utf-8")
            publishing.durable_replace(work, note)
        finally:
            work.unlink(missing_ok=True)
        _prune_quarantine(quarantine_dir, int(keep), float(days), target)
    return target


QUARANTINE_REASON_SUFFIX = ".reason.txt"


QUARANTINE_LOCK = ".quarantine.lock"


def _prune_quarantine(folder: Path, keep: int, days: float, current: Path) -> list[Path]:
    """Remove the quarantined copies (and their refusals) past the retention limits,
    never ``current``; the time of a copy is its last refusal. Returns what was removed."""
    import time

    from hsinsight import publish as publishing

    refused: dict[Path, float] = {}
    for note in folder.glob(f"*{QUARANTINE_REASON_SUFFIX}"):
        if note.name.startswith("."):
            continue
        try:
            refused[note.with_name(note.name[: -len(QUARANTINE_REASON_SUFFIX)])] = note.stat().st_mtime
        except OSError:
            continue
    cutoff = time.time() - days * 86400
    newest_first = sorted(refused, key=lambda copy: refused[copy], reverse=True)
    removed = [
        copy
        for position, copy in enumerate(newest_first)
        if copy != current and (position >= keep or refused[copy] < cutoff)
    ]
    for copy in removed:
        copy.unlink(missing_ok=True)
        copy.with_name(copy.name + QUARANTINE_REASON_SUFFIX).unlink(missing_ok=True)
    if removed:
        publishing.fsync_dir(folder)
    return removed


def _refuse(path: Path, exc: InputFileError, cfg: Settings) -> None:
    copy = quarantine(path, str(exc), cfg.quarantine_dir)
    exc.quarantined = copy
    exc.args = (f"{exc}; the file was copied to {copy} with the reason beside it",)
