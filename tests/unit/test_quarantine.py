"""The quarantine folder: one copy per refused content, every refusal listed beside it,
and a retention limit (by count and by age)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from hsinsight.ingest import QUARANTINE_REASON_SUFFIX, quarantine


def _copies(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and not p.name.endswith(QUARANTINE_REASON_SUFFIX)
    )


def _refused(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / "raw" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def test_the_same_content_refused_twice_is_kept_once_with_both_refusals(tmp_path):
    folder = tmp_path / "quarantine"
    first = _refused(tmp_path, "recorded.csv", b"a,b\n1,x\n")
    renamed = _refused(tmp_path, "recorded (copy).csv", b"a,b\n1,x\n")

    copy = quarantine(first, "row 2, column b: 'x' is not a whole number", folder, keep=10, days=30)
    again = quarantine(renamed, "row 2, column b: still not a whole number", folder, keep=10, days=30)

    assert again == copy
    assert _copies(folder) == [copy]
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    assert copy.name == f"{digest[:16]}-recorded.csv"
    assert copy.read_bytes() == first.read_bytes()
    refusals = copy.with_name(copy.name + QUARANTINE_REASON_SUFFIX).read_text(encoding="utf-8")
    assert refusals.count("refused: ") == 2
    assert refusals.index("'x' is not a whole number") < refusals.index("still not a whole number")
    assert str(renamed.resolve()) in refusals
    # the user's files are untouched, and no temporary file is left behind
    assert first.read_bytes() == renamed.read_bytes() == b"a,b\n1,x\n"
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and p.name != ".quarantine.lock"]


def test_retention_keeps_the_most_recently_refused_and_drops_old_refusals(tmp_path):
    folder = tmp_path / "quarantine"
    copies = []
    for index in range(4):
        path = _refused(tmp_path, f"file{index}.csv", f"content {index}\n".encode())
        copies.append(quarantine(path, f"reason {index}", folder, keep=3, days=30))
        # refusal times one second apart, oldest first
        note = copies[-1].with_name(copies[-1].name + QUARANTINE_REASON_SUFFIX)
        stamp = time.time() - 100 + index
        os.utime(note, (stamp, stamp))

    # keep=3: the first file's copy went when the fourth came
    assert _copies(folder) == sorted(copies[1:])

    # refusing file 1 again makes it the most recent; a fifth file now pushes out file 2
    quarantine(tmp_path / "raw" / "file1.csv", "reason 1 again", folder, keep=3, days=30)
    fifth = quarantine(_refused(tmp_path, "file4.csv", b"content 4\n"), "reason 4", folder, keep=3, days=30)
    assert _copies(folder) == sorted([copies[1], copies[3], fifth])
    assert not copies[2].with_name(copies[2].name + QUARANTINE_REASON_SUFFIX).exists()

    # a refusal older than the age limit goes at the next quarantine, whatever the count
    old_note = copies[3].with_name(copies[3].name + QUARANTINE_REASON_SUFFIX)
    forty_days_ago = time.time() - 40 * 86400
    os.utime(old_note, (forty_days_ago, forty_days_ago))
    sixth = quarantine(_refused(tmp_path, "file5.csv", b"content 5\n"), "reason 5", folder, keep=10, days=30)
    assert _copies(folder) == sorted([copies[1], fifth, sixth])
    assert not old_note.exists()


def test_the_file_just_refused_is_kept_even_with_a_limit_of_zero(tmp_path):
    folder = tmp_path / "quarantine"
    copy = quarantine(_refused(tmp_path, "only.csv", b"x\n"), "bad", folder, keep=0, days=0)
    assert _copies(folder) == [copy]
    assert copy.with_name(copy.name + QUARANTINE_REASON_SUFFIX).is_file()
