"""Names and constants shared across the package, the DAGs and the dashboard.

Each value here is defined once. Modules import it from here rather than spelling it
again, so renaming a DAG or the national area code is one edit. The suppression
markers are also a dbt project variable (``suppression_markers`` in
``dbt_project/dbt_project.yml``); a test keeps the two lists equal.
"""

from __future__ import annotations

#: ONS code and name of England and Wales, the national total in every source.
NATIONAL_CODE = "K04000001"
NATIONAL_NAME = "England and Wales"

#: Airflow DAG ids: one ingest DAG per source (prefix + source key) and the transform.
INGEST_DAG_PREFIX = "hsinsight_ingest_"
TRANSFORM_DAG_ID = "hsinsight_transform"

#: The Airflow runner's log of its last run, written in the Airflow home.
LAST_RUN_LOG = "hsinsight-last-run.log"

#: The offence a dashboard page or profile shows before a user chooses one.
DEFAULT_OFFENCE = "stalking"

#: Markers publishers put in a count cell for a value that is suppressed,
#: confidential, not applicable or not provided. They are never zero: staging turns
#: them into NULL and keeps the marker. Compared case-insensitively after trimming.
#: The Home Office outcomes files spell "not applicable" five ways (docs/sources.md, 2);
#: ONS writes ``[u]`` for a figure on a base under 50 and ``+`` for a suppressed rate.
SUPPRESSION_MARKERS = (
    "..",
    "[x]",
    "[c]",
    "[z]",
    "[u]",
    "*",
    "-",
    "+",
    "NA",
    "N/A",
    "N/A - Offence code expired",
    "N/A - data not provided",
)
