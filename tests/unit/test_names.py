"""The shared names agree with the places outside Python that spell them again."""

from __future__ import annotations

from pathlib import Path

import yaml

from hsinsight.names import SUPPRESSION_MARKERS

ROOT = Path(__file__).resolve().parents[2]


def test_dbt_suppression_markers_equal_the_python_list():
    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())
    markers = project["vars"]["suppression_markers"]
    assert list(markers) == list(SUPPRESSION_MARKERS), (
        "dbt_project.yml vars.suppression_markers and hsinsight.names.SUPPRESSION_MARKERS differ; "
        "a marker known to one layer only would be read as a number or refused by the other"
    )
