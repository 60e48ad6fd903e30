"""Property-based tests of reading and recognising tables: for every layout, small
tables made of its own header words, numbers, markers and junk are read the way a CSV
file is (``ingest.tables_in``), and the only exception that may come out is the
project's own (:class:`~hsinsight.errors.HsinsightError`)."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hsinsight import ingest
from hsinsight.errors import HsinsightError
from hsinsight.sources import LAYOUTS
from hsinsight.sources.base import SUPPRESSION_MARKERS, SYNTHETIC_MARKER, Layout

#: examples per layout (HSINSIGHT_FUZZ_EXAMPLES to run fewer while working on a layout)
EXAMPLES = int(os.environ.get("HSINSIGHT_FUZZ_EXAMPLES", "5000"))
#: examples run per layout, filled in as the tests run (reported at the end)
RUN: dict[str, int] = {}

#: values the layouts' columns hold, and near misses
VALUES = [
    "2016/17", "2016-17", "2016_17", "2016", "17/18", "1", "4", "5", "0", "-00", "12", " 1,234 ", "-9",
    "2.5", "66.2%", "Kent", "Wessex", "Wales/Cymru", "National", "E23000031", "K04000001", "W15000004",
    "8L", "8Q", "9A", "1/4.1/4.10/4.2", "Stalking", "Harassment", "Stalking and harassment", "Female",
    "All ages", "16-19", "31/12/2016", "30/12/2017", "2016-12-31", "x", "n/k", "", " ", "year ending March 2016",
    "Source: Home Office", "1. Police recorded crime", "=1+1", "\u00a0", "\ufeffArea Code", "Numbers",
    *SUPPRESSION_MARKERS,
]  # fmt: skip
#: headers that carry a period or year, for the layouts whose columns are patterns
PATTERN_HEADERS = [
    "2015", "2016", "2016 [note 3]", "Apr 2015 to Mar 2016", "Oct 2024 to Sep 2025",
    "Population figures (mid-2017)", "Population figures (mid-2016)1", "Apr 2015 to Mar 2016 [note 1]",
]  # fmt: skip
TITLES = [
    "Table P9: Mid-year population estimates, 2002 to 2016",
    "year ending March 2016",
    "Police recorded crime, year ending December 181,2",
    "Appendix table A5a, year ending March 2003 to year ending September 2025",
    "household estimates",
    SYNTHETIC_MARKER,
]


def header_words(layout: Layout) -> list[str]:
    words = [h for column in layout.columns if not column.pattern for h in column.headers]
    return words or ["Area Code"]


def table_for(layout: Layout):
    """A small table: title rows, a header (the layout's own headers in any order, some
    missing, some junk; or junk alone) and a few rows of values and junk."""
    words = header_words(layout)
    firsts = [c.headers[0] for c in layout.columns if c.headers and not c.pattern]
    junk = st.text(max_size=10)
    cell = st.one_of(
        st.sampled_from(VALUES), st.sampled_from(words), junk, st.integers(-(10**7), 10**7).map(str)
    )
    own = st.permutations(firsts).flatmap(
        lambda order: st.tuples(
            st.just(list(order)),
            st.lists(st.sampled_from(PATTERN_HEADERS), max_size=3),
            st.sets(st.integers(0, max(len(order) - 1, 0)), max_size=2),
        )
    )
    header = st.one_of(
        own.map(lambda parts: [h for i, h in enumerate(parts[0]) if i not in parts[2]] + parts[1]),
        st.lists(st.one_of(st.sampled_from(words), st.sampled_from(PATTERN_HEADERS), junk), max_size=8),
    )
    return st.tuples(
        st.lists(st.lists(st.one_of(st.sampled_from(TITLES), junk), max_size=2), max_size=2),
        header,
        st.lists(st.lists(cell, max_size=12), max_size=4),
        st.booleans(),  # a final line break or not
    )


@pytest.fixture(scope="module")
def folder():
    path = Path(tempfile.mkdtemp(prefix="hsinsight-fuzz-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
    if RUN:
        print("\nexamples run per layout:", RUN, "total:", sum(RUN.values()))


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.layout for layout in LAYOUTS])
def test_reading_a_table_raises_only_the_projects_errors(folder, layout):
    path = folder / f"{layout.layout}.csv"
    work = folder / f"{layout.layout}-work"
    work.mkdir()
    count = 0
    recognised = 0
    started = time.perf_counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(table_for(layout))
    def read(table):
        nonlocal count, recognised
        count += 1
        titles, header, rows, final_break = table
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows([*titles, header, *rows])
        if not final_break:
            with open(path, "rb+") as handle:
                handle.seek(0, 2)
                if handle.tell():
                    handle.seek(-1, 2)
                    handle.truncate()
        try:
            tables = ingest.tables_in(path, work)
        except HsinsightError:
            return
        recognised += 1
        for found in tables:
            assert found.layout in LAYOUTS and found.header_row >= 1

    read()
    RUN[layout.layout] = count
    assert count >= EXAMPLES >= 1
    # the header words do make tables recognised: the search reaches past the refusal
    assert recognised > 0 or layout.melt is not None or layout.header_fields, (layout.layout, recognised)
    print(
        f"{layout.layout}: {count} examples, {recognised} read as tables, {time.perf_counter() - started:.1f} s"
    )
