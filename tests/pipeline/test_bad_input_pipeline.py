"""Every kind of bad input, run through the whole pipeline against a published warehouse:
a clear message naming file, row and column, a quarantined copy with the reason, and the
published warehouse exactly as it was."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from conftest import isolated_settings
from hsinsight import pipeline
from hsinsight.errors import InputFileError
from source_fixtures import FIXTURES, prc, with_rows, write_table

PRC = FIXTURES["home_office_prc_pfa_v1"]
OUT = FIXTURES["home_office_outcomes_a"]


def outcome_type(value: str):
    row = list(OUT.rows[0])
    row[8] = value
    return row


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])


# (id, file name, cells, post-write damage, expected row, expected column, words in the message)
CASES = [
    ("missing_column", "prc.csv", with_rows(PRC.layout, [prc()[:6] + ["1"]], [h for h in PRC.header if h != "Offence Code"]),
     None, 3, "Offence Code", "missing required column"),
    ("wrong_columns", "odd.csv", [["Force", "Crimes"], ["Kent", "1"]], None, 1, None, "no header row of a known layout"),
    ("count_not_whole", "prc.csv", with_rows(PRC.layout, [prc(count="2.5")]), None, 4, "Number of Offences", "whole number"),
    ("negative_12_months", "prc.csv", with_rows(PRC.layout, [prc(quarter=str(q), count=c) for q, c in zip("1234", ["1", "-9", "1", "1"], strict=True)]),
     None, 7, "Number of Offences", "12-month total cannot be negative"),
    ("unknown_force", "prc.csv", with_rows(PRC.layout, [prc(force="Wessex Constabulary")]), None, 4, "Force Name", "not a known police force"),
    ("unknown_cps_area", "cps.xlsx", with_rows("cps_vawg_v1", [["2015-16", "Atlantis", "Stalking", "1", "1", "50"]]), None, 4, "CPS Area", "not a known CPS Area"),
    ("unknown_outcome_type", "outcomes.csv", with_rows(OUT.layout, [outcome_type("23")]), None, 5, "Outcome Type", "not a known outcome type"),
    ("duplicated_key", "prc.csv", with_rows(PRC.layout, [prc(), prc(count="11")]), None, 5, "Financial Year", "duplicates row 4"),
    ("truncated_csv", "prc.csv", with_rows(PRC.layout, [prc(), prc(code="8Q", count="123456")]), "cut_last_row", 5, None, "truncated"),
    ("truncated_xlsx", "cps.xlsx", with_rows("cps_vawg_v1", [["2015-16", "Wessex", "Stalking", "1", "1", "50"]]), "truncate", None, None, "truncated"),
    ("utf16", "prc.csv", with_rows(PRC.layout, [prc()]), "utf16", 1, None, "UTF-8 or Windows-1252"),
]  # fmt: skip


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture
def published(tmp_path, sample_warehouse):
    cfg = isolated_settings(tmp_path)
    cfg.warehouse.parent.mkdir(parents=True)
    shutil.copy2(sample_warehouse, cfg.warehouse)
    return cfg


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_quarantined_and_leaves_the_warehouse_intact(tmp_path, published, case):
    _, name, cells, damage, row, column, words = case
    raw = tmp_path / "raw"
    raw.mkdir()
    path = write_table(raw / name, cells)
    if damage == "truncate":
        truncate(path)
    elif damage == "cut_last_row":
        data = path.read_bytes()
        path.write_bytes(data[: data.rindex(b"8Q") + 2])
    elif damage == "utf16":
        path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    users_file = path.read_bytes()
    before = fingerprint(published.warehouse)

    with pytest.raises(InputFileError) as caught:
        pipeline.run(raw, published.warehouse, published)

    error = caught.value
    assert Path(error.file).name == name
    assert words in error.reason
    if row is not None:
        assert error.row == row
    if column is not None:
        assert error.column == column
    assert "expected" in error.reason  # every message says what was expected
    assert fingerprint(published.warehouse) == before
    assert not list(published.warehouse.parent.glob(".build-*"))
    assert path.read_bytes() == users_file  # the user's file is never moved or changed
    (copy,) = [p for p in published.quarantine_dir.iterdir() if p.name.endswith(f"-{name}")]
    assert copy.read_bytes() == users_file
    reason = copy.with_name(copy.name + ".reason.txt").read_text()
    assert error.reason in reason and str(path.resolve()) in reason
    assert "quarantine" in str(error)
