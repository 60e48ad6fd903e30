"""A deterministic synthetic sample of every source hsinsight ingests.

``write_sample(out_dir)`` writes one file (or set of files) per source, each in the
layout of the official publication and each opening every data table with a title
row that says the data are synthetic (``hsinsight.sources.base.SYNTHETIC_MARKER``),
so the whole pipeline can run and be tested without downloading anything:

- ``recorded_crime``: Home Office police recorded crime, a CSV file
  (``home_office_prc_pfa_v1``), codes 8L, 8M, 8Q, 8R, 8U (from 2020/21) and 9A;
- ``outcomes``: Home Office crime outcomes, one XLSX workbook per financial year
  (``home_office_outcomes_a``);
- ``ons_pfa``: ONS police force area data tables, an XLSX and an ODS workbook
  (``ons_pfa_tables_v1``);
- ``cps``: CPS VAWG stalking and harassment data, an XLSX workbook (``cps_vawg_v1``);
- ``moj``: MoJ Outcomes by Offence, a zip archive of two CSV files
  (``moj_court_outcomes_pfa_v1``, ``moj_restraining_orders_v1``);
- ``population``: ONS mid-year population estimates, an XLSX workbook
  (``ons_mye_pfa_v1``);
- ``csew``: Crime Survey for England and Wales prevalence, an XLSX workbook
  (``csew_prevalence_v1``);
- ``appendix``: ONS Crime in England and Wales Appendix tables, Table A5a, an XLSX
  workbook (``ons_appendix_a5a_v1``), England and Wales by offence code and financial
  year, summed from the recorded crime table;
- ``rolling``: Home Office rolling 12-month totals by police force area, a CSV file
  (``home_office_prc_rolling_v1``), summed from the recorded crime table.

The sources agree with one another: the same 44 reporting bodies and periods, outcomes
built on the recorded crimes, ONS totals (police force area, Appendix A5a) and
rolling 12-month totals summed from them, CPS Areas and population
sized like the forces, and attrition from recorded crime to charge, prosecution and
conviction. A handful of England and Wales totals equal published figures (see each
module and ``data/sample/README.md``); everything else is invented.

Every file's bytes depend only on the seed and the seeds folder: workbook properties
and zip entry times are fixed, and each source draws from its own random stream.

``national.write_national`` (``hsinsight sample --scale national``) writes the same
sources at the size of the real releases, every offence code included, for the
benchmarks; it is not committed.
"""

from __future__ import annotations

from pathlib import Path

from hsinsight.config import Settings
from hsinsight.sample import appendix, cps, csew, moj, ons_pfa, outcomes, population, recorded_crime, rolling
from hsinsight.sample.common import SEED, allocate, read_forces
from hsinsight.sample.recorded_crime import FILE_NAME

__all__ = ["FILE_NAME", "SEED", "allocate", "read_forces", "write_sample"]


def write_sample(out_dir: Path | str, *, seed: int = SEED, cfg: Settings | None = None) -> list[Path]:
    """Write the synthetic sample files into ``out_dir``; return their paths, the
    recorded crime table first."""
    cfg = cfg or Settings.from_env()
    forces = read_forces(cfg.seeds_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = recorded_crime.generate(forces, seed)
    paths = recorded_crime.write(out_dir, forces, seed)
    paths += outcomes.write(out_dir, forces, counts, cfg.seeds_dir, seed)
    paths += ons_pfa.write(out_dir, forces, counts, seed)
    paths += cps.write(out_dir, forces, cfg.seeds_dir, seed)
    paths += moj.write(out_dir, forces, cfg.seeds_dir, seed)
    paths += population.write(out_dir, forces, seed)
    paths += csew.write(out_dir, seed)
    paths += appendix.write(out_dir, forces, counts, seed)
    paths += rolling.write(out_dir, forces, counts, cfg.seeds_dir, seed)
    return paths
