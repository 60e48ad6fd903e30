"""hsinsight dashboards: the entry point that ``streamlit run`` starts.

    streamlit run dashboards/app.py                       # the project's default warehouse
    streamlit run dashboards/app.py -- --warehouse PATH   # another published warehouse
    HSINSIGHT_WAREHOUSE=PATH streamlit run dashboards/app.py

(``hsinsight dashboard`` and ``make run`` do the same.) This file is the frame around
every page: page setup, navigation, the guard for a missing warehouse and the
synthetic-data banner. Each page is one file under ``pages/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# The shared modules (components, queries) live beside this file. `streamlit run`
# puts this folder on sys.path; other runners (the app tests) may not.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import components  # noqa: E402

st.set_page_config(page_title="hsinsight", page_icon=":material/query_stats:", layout="wide")

PAGES = {
    "Recorded crime": [
        st.Page(
            HERE / "pages" / "overview.py",
            title="Overview",
            icon=":material/show_chart:",
            default=True,
        ),
    ],
}

# st.navigation runs before anything can stop the script, so Streamlit never falls
# back to treating pages/ as an automatic page folder.
page = st.navigation(PAGES)
version = components.warehouse_or_stop()
components.synthetic_banner(version)
page.run()
