"""The Airflow assets that link hsinsight's DAGs; imported by the DAG files only.

Each source's ingest DAG updates the asset of its raw store, the transform DAG is
scheduled on any of them and updates the warehouse asset when it publishes.
"""

from __future__ import annotations

from airflow.sdk import Asset

from hsinsight.sources import SOURCES

#: The published warehouse.
WAREHOUSE = Asset(name="hsinsight_warehouse", uri="hsinsight://warehouse", group="warehouse")


def raw_asset(source_id: str) -> Asset:
    """The raw store of one source: updated when its ingest DAG loaded something new."""
    return Asset(name=f"hsinsight_raw_{source_id}", uri=f"hsinsight://raw/{source_id}", group="raw")


#: Every source with a layout, in the order ingest tries them.
RAW_ASSETS = {source_id: raw_asset(source_id) for source_id in SOURCES}
