"""Hostile raw files (tests/hostile_corpus.py): every one refused with the file named,
before a reader allocates for it, in bounded memory, the published warehouse untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import isolated_settings
from hostile_corpus import CASES, PEAK_LIMIT_KB, measured, write
from hsinsight import ingest
from hsinsight.errors import HsinsightError, InputFileError
from hsinsight.limits import Limits

TESTS = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_hostile_file_is_refused_naming_it(tmp_path, case):
    cfg = isolated_settings(tmp_path)
    raw = tmp_path / "raw"
    path = write(case, raw)
    with pytest.raises(InputFileError) as caught:
        ingest.ingest_directory(raw, tmp_path / "build" / "build.duckdb", cfg)
    message = str(caught.value)
    assert caught.value.file == str(path)
    assert path.name in message
    for words in case.words:
        assert words in message, message
    if not path.is_symlink():  # a link is refused before anything is read or copied
        assert Path(caught.value.quarantined).is_file()


CHILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from conftest import isolated_settings
    from hostile_corpus import CASES, PEAK_LIMIT_KB, measured, write
    from hsinsight.errors import InputFileError
    from hsinsight.ingest import ingest_directory

    base = Path({base!r})
    cfg = isolated_settings(base)
    results = {{}}
    for case in CASES:
        raw = base / case.id / "raw"
        path = write(case, raw)
        try:
            ingest_directory(raw, base / case.id / "build.duckdb", cfg)
            results[case.id] = "accepted"
        except InputFileError as exc:
            results[case.id] = str(exc)
    print(json.dumps(results))
    """
)


def test_the_whole_corpus_is_refused_in_bounded_memory(tmp_path):
    """Every case in one process: each refused with its file named, peak memory under 2 GB."""
    outcome = measured(
        [sys.executable, "-c", CHILD.format(base=str(tmp_path))],
        env=dict(os.environ, PYTHONPATH=str(TESTS)),
    )
    assert outcome["code"] == 0, outcome["stderr"][-3000:]
    results = json.loads(outcome["stdout"])
    refused = [c.id for c in CASES if c.name in results[c.id] and results[c.id] != "accepted"]
    assert refused == [c.id for c in CASES]
    assert 0 < outcome["peak_kb"] < PEAK_LIMIT_KB


def test_the_xfd1048576_workbook_aborts_the_reader_when_not_checked(tmp_path):
    """The hazard the checks prevent: the workbook reader itself, given the file, dies
    (it asks for 512 GiB) rather than raising. Run in a child with its memory capped."""
    path = write(next(c for c in CASES if c.id == "xlsx_value_in_XFD1048576"), tmp_path)
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        from python_calamine import CalamineWorkbook
        book = CalamineWorkbook.from_path({str(path)!r})
        try:
            book.get_sheet_by_index(0).to_python()
        except Exception:
            raise SystemExit(3)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    (tmp_path / "work").mkdir()
    assert done.returncode not in (0, 3)  # killed by a signal or aborted, not an exception
    with pytest.raises(InputFileError, match="sheet_columns"):
        ingest.tables_in(path, tmp_path / "work")


def test_limits_come_from_the_environment(tmp_path, monkeypatch):
    path = write(next(c for c in CASES if c.id == "xlsx_declared_dimension"), tmp_path / "raw")
    (tmp_path / "work").mkdir()
    with pytest.raises(InputFileError, match="HSINSIGHT_LIMIT_SHEET_COLUMNS"):
        ingest.tables_in(path, tmp_path / "work")
    monkeypatch.setenv("HSINSIGHT_LIMIT_SHEET_COLUMNS", "16384")
    monkeypatch.setenv("HSINSIGHT_LIMIT_SHEET_CELLS", "20_000_000_000")
    assert Limits.from_env().sheet_columns == 16384
    (table,) = ingest.tables_in(path, tmp_path / "work")  # the dimension claims; the cells are few
    assert table.layout.layout == "cps_vawg_v1"
    monkeypatch.setenv("HSINSIGHT_LIMIT_ZIP_RATIO", "many")
    with pytest.raises(HsinsightError, match="HSINSIGHT_LIMIT_ZIP_RATIO"):
        Limits.from_env()


def test_the_official_workbooks_pass_the_checks():
    """The real releases are far inside every limit (their shape as scanned)."""
    from hsinsight.limits import inspect_xlsx

    for path in sorted((TESTS / "fixtures" / "official").glob("*/*.xlsx")):
        shape = inspect_xlsx(path, path, Limits())
        assert shape.sheets and all(s.uncached_formula is None for s in shape.sheets)
        assert max(s.columns for s in shape.sheets) < 100


def test_two_sheets_of_one_name_were_read_as_the_first_twice(tmp_path):
    """Why duplicate sheet names are refused: the workbook reader gives the first sheet
    for both, by name and by position alike."""
    from python_calamine import CalamineWorkbook

    path = write(next(c for c in CASES if c.id == "xlsx_duplicate_sheet_names"), tmp_path)
    book = CalamineWorkbook.from_path(str(path))
    first, second = (book.get_sheet_by_index(i).to_python() for i in range(2))
    assert first == second  # the second sheet (2016-17) is never seen
    assert "2016-17" not in str(second)


def test_a_command_printing_one_endless_line_is_handed_on_in_pieces(tmp_path):
    from hsinsight.streaming import run_streaming

    lines: list[str] = []
    script = "import sys; sys.stdout.write('x' * 300_000); print(); print('done')"
    code, tail = run_streaming(
        [sys.executable, "-c", script], env=dict(os.environ), cwd=tmp_path, on_line=lines.append
    )
    assert code == 0 and tail[-1] == "done"
    assert max(len(line) for line in lines) == 1 << 16
    assert sum(len(line) for line in lines[:-1]) == 300_000
