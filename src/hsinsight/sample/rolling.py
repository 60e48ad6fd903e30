"""Home Office police recorded crime by police force area, rolling 12-month totals
(``home_office_prc_rolling_v1``).

Writes ``rec-crime-pfa-synthetic.csv`` in the layout of the real ``rec-crime-pfa.csv``:
the header ``12 months ending,PFA,Region,Offence,Rolling year total number of
offences``, CRLF line ends, dates ``dd/mm/yyyy``; one row per quarter end x force x
offence category, the forces in the Home Office table's order (by its spelling, so
``City of London`` sorts as "London, City of") and spelled as ``rec-crime-pfa.csv``
spells them, British Transport Police included with the region
``British Transport Police``. Unlike the real file (which has no title rows) a
single-cell row above the header says the data are synthetic; the layout finds the
header below it.

Quarter ends run from 31 March 2013, the first 12 months the sample's recorded crime
table covers completely, to 31 March 2025. Two offence categories:

* ``Stalking and harassment``: each force's 12-month sum of 8L, 8M, 8Q, 8R and 8U
  (each over the quarters it exists) from the recorded crime table of this sample;
* ``Public order offences``: the same sum of 9A only (the real category holds more
  codes), outside the platform's scope, so ingest keeps it in raw only.

As in one real release, the quarter ending 31 December 2017 is written ``30/12/2017``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hsinsight.sample.common import (
    BTP,
    SEED,
    Force,
    check_spellings,
    csv_bytes,
    quarters,
    write_bytes,
)
from hsinsight.sample.recorded_crime import STALKING_AND_HARASSMENT_CODES, Counts
from hsinsight.sources.base import SYNTHETIC_MARKER, normalise_name

FILE_NAME = "rec-crime-pfa-synthetic.csv"
HEADER = ("12 months ending", "PFA", "Region", "Offence", "Rolling year total number of offences")

#: Offence categories written, in the order of each force's rows (alphabetical, as the
#: real file has them), and the codes of the recorded crime table each sums.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Public order offences", ("9A",)),
    ("Stalking and harassment", STALKING_AND_HARASSMENT_CODES),
)

#: Where ``rec-crime-pfa.csv`` spells a force differently from the Home Office police
#: force area table (``common.HOME_OFFICE_SPELLING``).
ROLLING_SPELLING = {"E23000034": "City of London"}

#: The quarter end written as in one real release (31 December 2017 as 30/12/2017).
MISDATED_QUARTER = (2017, 3)
MISDATED_TEXT = "30/12/2017"

#: Region of each force, as the real file names them.
# fmt: off
REGIONS = {
    "E23000001": "London", "E23000034": "London",
    "E23000002": "North West", "E23000003": "North West", "E23000004": "North West",
    "E23000005": "North West", "E23000006": "North West",
    "E23000007": "North East", "E23000008": "North East", "E23000013": "North East",
    "E23000009": "Yorkshire and The Humber", "E23000010": "Yorkshire and The Humber",
    "E23000011": "Yorkshire and The Humber", "E23000012": "Yorkshire and The Humber",
    "E23000014": "West Midlands", "E23000015": "West Midlands", "E23000016": "West Midlands",
    "E23000017": "West Midlands",
    "E23000018": "East Midlands", "E23000019": "East Midlands", "E23000020": "East Midlands",
    "E23000021": "East Midlands", "E23000022": "East Midlands",
    "E23000023": "East", "E23000024": "East", "E23000025": "East", "E23000026": "East",
    "E23000027": "East", "E23000028": "East",
    "E23000029": "South East", "E23000030": "South East", "E23000031": "South East",
    "E23000032": "South East", "E23000033": "South East",
    "E23000035": "South West", "E23000036": "South West", "E23000037": "South West",
    "E23000038": "South West", "E23000039": "South West",
    "W15000001": "Wales", "W15000002": "Wales", "W15000003": "Wales", "W15000004": "Wales",
    BTP: "British Transport Police",
}
# fmt: on


def quarter_end(year: int, q: int) -> str:
    """The last day of financial quarter ``q`` of financial start year ``year``, dd/mm/yyyy."""
    if (year, q) == MISDATED_QUARTER:
        return MISDATED_TEXT
    day_month = {1: "30/06", 2: "30/09", 3: "31/12", 4: "31/03"}[q]
    return f"{day_month}/{year + 1 if q == 4 else year}"


def rolling_name(force: Force) -> str:
    return ROLLING_SPELLING.get(force.area_code, force.name)


def sample_rows(forces: Sequence[Force], counts: Counts) -> list[list[str]]:
    """The data rows (no preamble, no header), in the order written."""
    periods = quarters()
    ordered = sorted(forces, key=lambda f: normalise_name(f.name))
    rows = []
    for end in range(3, len(periods)):
        window = periods[end - 3 : end + 1]
        date = quarter_end(*periods[end])
        for f in ordered:
            for category, codes in CATEGORIES:
                total = sum(counts.get((code, y, q, f.area_code), 0) for code in codes for y, q in window)
                rows.append([date, rolling_name(f), REGIONS.get(f.area_code, ""), category, str(total)])
    return rows


def preamble(seed: int = SEED) -> str:
    return (
        f"{SYNTHETIC_MARKER} - generated by hsinsight sample (seed {seed}). Rolling 12-month totals summed "
        "from the synthetic police recorded crime table of this sample (stalking and harassment: 8L, 8M, 8Q, "
        "8R and 8U; public order offences: 9A only); every figure invented. Not official statistics."
    )


def write(
    out_dir: Path, forces: Sequence[Force], counts: Counts, seeds_dir: Path, seed: int = SEED
) -> list[Path]:
    """Write the rolling 12-month table; return its path."""
    check_spellings(
        seeds_dir,
        {rolling_name(f): f.area_code for f in forces},
        "force_name_variants.csv",
        "area_code",
    )
    data = csv_bytes([HEADER, *sample_rows(forces, counts)], title_row=preamble(seed), line_end="\r\n")
    return [write_bytes(Path(out_dir) / FILE_NAME, data)]
