"""What every page run shows round the page itself: the guard for a missing or
unreadable warehouse, the synthetic-data banner, the page heading and the note on
breaks in the series."""

from __future__ import annotations

import duckdb
import streamlit as st

from hsinsight.dashboard.connection import WarehouseVersion, warehouse_path, warehouse_version
from hsinsight.dashboard.formatting import (
    escape_markdown,
)
from hsinsight.dashboard.queries.shared import any_synthetic
from hsinsight.profiles.caveats import SERIES_BREAKS, SYNTHETIC_BANNER


def warehouse_or_stop() -> WarehouseVersion:
    """The published warehouse's version, or an error telling the user how to publish one."""
    path = warehouse_path()
    version = warehouse_version(path)
    if version is None:
        st.error(
            f"No warehouse has been published at {escape_markdown(path, code=True)} yet. Build and publish "
            "it with `make run` (or `hsinsight run`), then reload this page."
        )
        st.stop()
    return version


def synthetic_banner(version: WarehouseVersion) -> bool:
    """Warn at the top of the page when the warehouse holds synthetic sample data.

    Also the first read of every page run: an unreadable warehouse stops here with an
    explanation rather than a traceback. Returns whether the data are synthetic.
    """
    try:
        synthetic = any_synthetic(version)
    except duckdb.Error as exc:
        st.error(
            f"The warehouse at {escape_markdown(version[0], code=True)} could not be read "
            f"({type(exc).__name__}: {escape_markdown((str(exc).splitlines() or [''])[0])}). Publish it "
            "again with `make run` (or `hsinsight run`), then reload this page."
        )
        st.stop()
    if synthetic:
        st.warning(SYNTHETIC_BANNER, icon=":material/science:")
    return synthetic


def page_header(title: str, question: str) -> None:
    """A page opens like a report: its title and the one question it answers."""
    st.title(title)
    st.markdown(question)


def series_breaks_note() -> None:
    """The recording-rule changes marked on the trend charts, in full."""
    lines = [f"- **{b.date:%B %Y}, {b.label.lower()}.** {b.description}" for b in SERIES_BREAKS]
    with st.expander("Breaks in the series: the recording-rule changes marked on the charts"):
        st.markdown("\n".join(lines))


def stop_with(message: str) -> None:
    """End the page with an explanation (no figures to show)."""
    st.error(message)
    st.stop()
