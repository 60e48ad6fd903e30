"""Reference data an ingest checks against: the seed lookups, beside the raw tables.

Area names and codes, offence codes and outcome types come from the dbt seeds and are
held in temporary tables for the checks of the loaded rows.
"""

from __future__ import annotations

import duckdb

from hsinsight.config import Settings
from hsinsight.errors import InputFileError
from hsinsight.raw import create_raw_tables


def _seed_path(cfg: Settings, name: str) -> str:
    """The path of the dbt seed ``name`` as text, for DuckDB's CSV reader."""
    return str(cfg.seeds_dir / f"{name}.csv")


def prepare_raw(con: duckdb.DuckDBPyConnection, cfg: Settings) -> None:
    """Raw schema, bookkeeping tables, every layout's raw table and the seed lookups."""
    create_raw_tables(con)
    name_key = "lower(regexp_replace(trim({}), '\\s+', ' ', 'g'))"
    con.execute(
        f"""
        create or replace temp table force_names as
        select distinct {name_key.format("name_variant")} as name_key,
               coalesce(area_code, 'non-force:' || {name_key.format("name_variant")}) as body_key
        from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "force_name_variants")],
    )
    con.execute(
        f"""
        create or replace temp table cps_area_names as
        select distinct {name_key.format("name_variant")} as name_key, cps_area_code as body_key
        from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "cps_area_name_variants")],
    )
    for lookup, seed in (
        ("force_names", "force_name_variants"),
        ("cps_area_names", "cps_area_name_variants"),
    ):
        clash = con.execute(
            f"select name_key from {lookup} group by name_key having count(*) > 1 limit 1"
        ).fetchone()
        if clash:
            raise InputFileError(
                cfg.seeds_dir / f"{seed}.csv",
                f"the name {clash[0]!r} is mapped to more than one area; expected each spelling to name one",
            )
    con.execute(
        """
        create or replace temp table ons_area_codes as
        select upper(trim(area_code)) as code from read_csv(?, header = true, all_varchar = true)
        union
        select upper(trim(area_code)) from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "forces"), _seed_path(cfg, "other_areas")],
    )
    con.execute(
        """
        create or replace temp table platform_codes as
        select distinct upper(trim(offence_code)) as code from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "offence_codes")],
    )
    con.execute(
        """
        create or replace temp table outcome_types as
        select lower(trim(outcome_type)) as code from read_csv(?, header = true, all_varchar = true)
        """,
        [_seed_path(cfg, "outcome_types")],
    )
