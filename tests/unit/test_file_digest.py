"""A raw file's digest is worked out once per process while the file stays as it is."""

from __future__ import annotations

import hashlib
import os

from hsinsight.ingest import text


def test_a_file_is_read_once_while_unchanged_and_again_once_written(tmp_path, monkeypatch) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(b"a,b\n1,2\n")
    reads: list[str] = []
    real = text.sha256_of
    monkeypatch.setattr(text, "sha256_of", lambda p: reads.append(str(p)) or real(p))

    first = text.file_sha256(path)
    assert first == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert text.file_sha256(path) == first
    assert len(reads) == 1
    # Written again with the same size and the old modification time put back: the change
    # time still moves, so the file is read again and its new digest is given.
    state = path.stat()
    path.write_bytes(b"a,b\n1,3\n")
    os.utime(path, ns=(state.st_atime_ns, state.st_mtime_ns))
    assert text.file_sha256(path) == hashlib.sha256(b"a,b\n1,3\n").hexdigest()
    assert len(reads) == 2
