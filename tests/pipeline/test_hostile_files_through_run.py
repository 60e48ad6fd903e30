"""Hostile raw files through ``hsinsight run``: exit status 1 naming the file, the
published warehouse byte-identical, memory bounded (the corpus: tests/hostile_corpus.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import isolated_settings
from hostile_corpus import CASES, PEAK_LIMIT_KB, measured, write

BIN = Path(sys.executable).parent

# ------------------------------------------------------------------------ the CLI

CLI_CASES = [
    "xlsx_value_in_XFD1048576",
    "ods_repeated_cells_bomb",
    "zip_bomb",
    "zip_encrypted_member",
    "xlsx_duplicate_sheet_names",
    "symlink_to_dev_zero",
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("case_id", CLI_CASES)
def test_hsinsight_run_refuses_the_file_and_keeps_the_published_warehouse(
    tmp_path, sample_warehouse, case_id
):
    case = next(c for c in CASES if c.id == case_id)
    cfg = isolated_settings(tmp_path)
    cfg.warehouse.parent.mkdir(parents=True)
    shutil.copy2(sample_warehouse, cfg.warehouse)
    raw = tmp_path / "raw"
    shutil.copytree(cfg.sample_dir, raw, ignore=shutil.ignore_patterns("README.md"))
    path = write(case, raw)
    before = sha256(cfg.warehouse)
    env = dict(
        os.environ,
        HSINSIGHT_QUALITY_DIR=str(cfg.quality_dir),
        HSINSIGHT_QUARANTINE_DIR=str(cfg.quarantine_dir),
    )
    outcome = measured(
        [str(BIN / "hsinsight"), "run", "--raw", str(raw), "--warehouse", str(cfg.warehouse)], env=env
    )
    assert outcome["code"] == 1, outcome["stderr"][-2000:]
    assert str(path) in outcome["stderr"] and "Traceback" not in outcome["stderr"]
    for words in case.words:
        assert words in outcome["stderr"]
    assert sha256(cfg.warehouse) == before
    assert outcome["peak_kb"] < PEAK_LIMIT_KB
