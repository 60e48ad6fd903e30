"""What a source is: the official file layouts hsinsight recognises, one module per
publisher, and the sources registry (``registry.yml``, read by :mod:`.registry`)
saying where each source's files come from."""

from __future__ import annotations

from hsinsight.sources import cps, home_office, moj, ons
from hsinsight.sources.base import Layout

#: Every layout ingest recognises, in the order headers are tried.
LAYOUTS: tuple[Layout, ...] = (*home_office.LAYOUTS, *ons.LAYOUTS, *cps.LAYOUTS, *moj.LAYOUTS)

#: source -> its layouts
SOURCES: dict[str, tuple[Layout, ...]] = {}
for _layout in LAYOUTS:
    SOURCES[_layout.source] = (*SOURCES.get(_layout.source, ()), _layout)
