"""A check whose SQL cannot run proves nothing: it blocks publishing whatever its severity."""

from __future__ import annotations

import pytest
from test_checks import CHANGE, build_warehouse

from conftest import isolated_settings
from hsinsight import checks, runs
from hsinsight.errors import QualityCheckFailed


def test_a_warning_severity_check_whose_sql_fails_blocks_the_build(tmp_path):
    cfg = isolated_settings(tmp_path)
    [listed] = [c for c in checks.load_checks(cfg.expectations_dir)[1] if c.name == CHANGE]
    assert listed.severity == "warning"  # in the project's checks.yml
    # the quarter-on-quarter check (severity warning) reads a table the build lacks
    db = build_warehouse(tmp_path / "hsinsight.duckdb", "drop table marts.recorded_crime_quarterly")

    with pytest.raises(QualityCheckFailed) as excinfo:
        checks.run_checks(db, cfg, only=[CHANGE])

    summary = excinfo.value.summary
    [check] = summary["checks"]
    assert check["name"] == CHANGE and check["severity"] == "warning"
    assert not check["success"] and "its SQL failed" in check["error"]
    assert "recorded_crime_quarterly" in check["error"]
    assert summary["failures"] == 1 and summary["warnings"] == 0
    assert "could not run" in str(excinfo.value) and "the build is not published" in str(excinfo.value)
    # and the run log counts it as failed, not warned
    assert runs.check_counts(summary) == (0, 0, 1)
