"""hsinsight dashboards: the entry point that ``streamlit run`` starts.

    streamlit run dashboards/app.py                       # the project's default warehouse
    streamlit run dashboards/app.py -- --warehouse PATH   # another published warehouse
    HSINSIGHT_WAREHOUSE=PATH streamlit run dashboards/app.py

(``hsinsight dashboard`` and ``make run`` do the same.) This file is the frame around
every page: page setup, navigation (``hsinsight.dashboard.pages``), the guard for a
missing warehouse, the synthetic-data banner and the shared filters, which it keeps in
the page address on every run. The code they share is the ``hsinsight.dashboard``
package. Each page is one file under ``views/``; every query of a
run shares one read-only connection that closes when the run ends.

The page files are not in a folder named ``pages/``: Streamlit treats that folder as
an old-style page list until ``st.navigation`` first runs in the process, so the
first request after a start for ``/outcomes`` (say) would run ``pages/outcomes.py``
on its own, without this frame, its banner or its filters.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from hsinsight.dashboard import filters
from hsinsight.dashboard.connection import batch
from hsinsight.dashboard.frame import synthetic_banner, warehouse_or_stop
from hsinsight.dashboard.pages import PAGES

#: The folder of this script: the page files are named relative to it.
HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="hsinsight", page_icon=":material/query_stats:", layout="wide")

sections: dict[str, list[st.Page]] = {}
for spec in PAGES:
    sections.setdefault(spec.section, []).append(
        st.Page(
            HERE / spec.file,
            title=spec.title,
            icon=spec.icon,
            url_path=spec.slug,
            default=spec is PAGES[0],
        )
    )

page = st.navigation(sections)
version = warehouse_or_stop()
with batch():
    synthetic_banner(version)
    options = filters.sync(version)
    with st.sidebar:
        st.caption(
            "**Shared filters** (kept in the page address: copy it to share this view)\n\n"
            + "\n\n".join(filters.describe(options))
        )
    page.run()
