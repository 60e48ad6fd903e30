"""The quality gate: Great Expectations suites run on a build warehouse before it is published.

``expectations/checks.yml`` lists the checks. Each names a suite file in the same
folder (Great Expectations 1.x suite JSON, hand-written and under version
control), the DuckDB SQL whose result the suite validates, and a severity:
``failure`` stops the build being published, ``warning`` is reported (and shown
on the dashboard's data quality page) and the build is published all the same.
A check whose SQL cannot run on the build is an error whatever its severity: a
check that could not look proves nothing, so it stops the build being published.

A run:

1. opens the build file read-only, exposes the reference seeds as temporary
   views (``seed_forces``, ``seed_offence_codes``, ...), computes the suite
   parameters from them and reads every check's query into a pandas DataFrame,
   then closes the file, before Great Expectations is even imported;
2. validates each DataFrame against its suite through a file-backed Great
   Expectations context under ``cfg.quality_dir / "gx"``: a pandas data source
   with one dataframe asset per check, a whole-dataframe batch definition, the
   suite (re-read from ``expectations/`` on every run, so the files there are
   the source of truth) and a validation definition. All checks of a run share
   one run id; the results of the last ``KEEP_RUNS`` runs are kept;
3. renders the run's suites and results into the Data Docs site under
   ``cfg.quality_dir / "docs"`` (``index.html``, linked from the dashboard);
4. returns a summary naming, for every failed expectation, the affected areas
   and periods, or raises :class:`~hsinsight.errors.QualityCheckFailed`
   (carrying the same summary) when a failure-severity check failed or any
   check's SQL failed.

Great Expectations' usage statistics are off: ``GX_ANALYTICS_ENABLED`` is set to
``False`` before it is imported, and the context's ``analytics_enabled`` is saved
as false in ``quality_dir/gx/great_expectations.yml``.

The SQL data source of Great Expectations cannot be used with DuckDB 2.0 (the
SQLAlchemy dialect fails), which is why the tables are validated as DataFrames.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from hsinsight.config import Settings, turn_off_telemetry
from hsinsight.errors import HsinsightError, QualityCheckFailed
from hsinsight.publish import pause_point

log = logging.getLogger(__name__)

CHECKS_FILE = "checks.yml"
SEVERITIES = ("failure", "warning")
PARAMETER_KINDS = ("list", "value")

DATASOURCE_NAME = "hsinsight_build"
BATCH_DEFINITION_NAME = "whole_dataframe"

#: Unexpected values kept per failed expectation in the summary ...
SAMPLE_SIZE = 20
#: ... and quoted in the message of a failed run.
MESSAGE_SAMPLE = 5
#: Failed expectations spelled out in the message of a failed run.
MESSAGE_EXPECTATIONS = 10
#: Unexpected rows turned into affected areas and periods per failed expectation
#: (the total is reported beside them).
AFFECTED_LIMIT = 200
#: Runs whose validation results are kept (and shown in Data Docs).
KEEP_RUNS = 20

#: The Data Docs site, written to ``quality_dir / "docs"`` (the path is relative
#: to the context's root, ``quality_dir / "gx"``).
DOCS_SITE = "hsinsight"
DOCS_SITE_CONFIG = {
    "class_name": "SiteBuilder",
    "show_how_to_buttons": False,
    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": "../docs/"},
    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
}
#: Key of the suite meta holding a fingerprint of the suite file's content.
FINGERPRINT_KEY = "hsinsight_fingerprint"

#: Columns read as an affected row's area code, area name and period, first
#: present first, unless the check's ``affected_columns`` names others.
AREA_CODE_COLUMNS = ("area_code",)
AREA_NAME_COLUMNS = ("area_name",)
PERIOD_COLUMNS = (
    "period_end",
    "period",
    "financial_year",
    "calendar_year",
    "survey_year",
    "mid_year",
    "year",
    "period_label",
)
AFFECTED_KEYS = ("area_code", "area_name", "period")


class QualityConfigError(HsinsightError):
    """``checks.yml`` or a suite file cannot be used as written."""


@dataclass(frozen=True)
class Parameter:
    """A suite parameter computed from the seeds at run time."""

    name: str
    kind: str  # "list": first column of every row; "value": the one value
    sql: str


@dataclass(frozen=True)
class Check:
    name: str
    suite_file: Path
    severity: str
    sql: str
    description: str = ""
    identify_rows_by: tuple[str, ...] = ()
    #: "area_code", "area_name", "period" -> the column holding it, where not the default
    affected_columns: tuple[tuple[str, str], ...] = ()


# --------------------------------------------------------------------------- config


def load_checks(expectations_dir: Path) -> tuple[list[Parameter], list[Check]]:
    """Read and validate ``checks.yml`` in ``expectations_dir``."""
    expectations_dir = Path(expectations_dir)
    path = expectations_dir / CHECKS_FILE
    if not path.is_file():
        raise QualityConfigError(f"{path}: the list of quality checks is missing")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise QualityConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(config, dict):
        raise QualityConfigError(f"{path}: expected a mapping with 'parameters' and 'checks'")

    parameters: list[Parameter] = []
    for name, spec in (config.get("parameters") or {}).items():
        if not isinstance(spec, dict) or not spec.get("sql"):
            raise QualityConfigError(f"{path}: parameter {name!r} needs 'sql'")
        kind = spec.get("kind", "list")
        if kind not in PARAMETER_KINDS:
            raise QualityConfigError(
                f"{path}: parameter {name!r} has kind {kind!r}; expected one of {', '.join(PARAMETER_KINDS)}"
            )
        parameters.append(Parameter(name=str(name), kind=kind, sql=spec["sql"]))

    checks: list[Check] = []
    seen: set[str] = set()
    for position, spec in enumerate(config.get("checks") or [], start=1):
        if not isinstance(spec, dict):
            raise QualityConfigError(f"{path}: check #{position} is not a mapping")
        missing = [key for key in ("name", "suite", "severity", "sql") if not spec.get(key)]
        if missing:
            raise QualityConfigError(f"{path}: check #{position} lacks {', '.join(missing)}")
        name = str(spec["name"])
        if name in seen:
            raise QualityConfigError(f"{path}: check {name!r} is listed twice")
        seen.add(name)
        if spec["severity"] not in SEVERITIES:
            raise QualityConfigError(
                f"{path}: check {name!r} has severity {spec['severity']!r}; "
                f"expected one of {', '.join(SEVERITIES)}"
            )
        affected_columns = spec.get("affected_columns") or {}
        if not isinstance(affected_columns, dict) or set(affected_columns) - set(AFFECTED_KEYS):
            raise QualityConfigError(
                f"{path}: check {name!r} has affected_columns {affected_columns!r}; "
                f"expected a mapping with keys among {', '.join(AFFECTED_KEYS)}"
            )
        suite_file = expectations_dir / spec["suite"]
        if not suite_file.is_file():
            raise QualityConfigError(
                f"{path}: check {name!r} names suite {spec['suite']!r}, which is missing"
            )
        checks.append(
            Check(
                name=name,
                suite_file=suite_file,
                severity=spec["severity"],
                sql=spec["sql"],
                description=" ".join(str(spec.get("description", "")).split()),
                identify_rows_by=tuple(spec.get("identify_rows_by") or ()),
                affected_columns=tuple((k, str(v)) for k, v in affected_columns.items()),
            )
        )
    if not checks:
        raise QualityConfigError(f"{path}: no checks are listed")
    return parameters, checks


def read_suite(check: Check) -> dict:
    """The suite file of ``check`` as a dict; its name must be the check's name."""
    try:
        suite = json.loads(check.suite_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise QualityConfigError(f"{check.suite_file}: not valid JSON: {exc}") from exc
    if suite.get("name") != check.name:
        raise QualityConfigError(
            f"{check.suite_file}: suite is named {suite.get('name')!r} but check is {check.name!r}"
        )
    if not suite.get("expectations"):
        raise QualityConfigError(f"{check.suite_file}: the suite has no expectations")
    return suite


# --------------------------------------------------------------------------- data


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _register_seeds(con: duckdb.DuckDBPyConnection, seeds_dir: Path) -> None:
    for csv in sorted(Path(seeds_dir).glob("*.csv")):
        con.execute(
            f'create or replace temp view "seed_{csv.stem}" as '
            f"select * from read_csv({_sql_string(str(csv))}, header = true, all_varchar = true)"
        )


def _parameter_values(con: duckdb.DuckDBPyConnection, parameters: list[Parameter]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for parameter in parameters:
        try:
            rows = con.execute(parameter.sql).fetchall()
        except duckdb.Error as exc:
            raise QualityConfigError(
                f"parameter {parameter.name!r}: its SQL failed: {str(exc).splitlines()[0]}"
            ) from exc
        if parameter.kind == "list":
            values[parameter.name] = [_plain(row[0]) for row in rows]
        else:
            if len(rows) != 1 or len(rows[0]) != 1:
                raise QualityConfigError(
                    f"parameter {parameter.name!r}: expected one value, the SQL returned {len(rows)} rows"
                )
            values[parameter.name] = _plain(rows[0][0])
    return values


def _read_frames(
    build_db: Path, seeds_dir: Path, parameters: list[Parameter], checks: list[Check]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Parameter values, one DataFrame per check, and the checks whose SQL failed.

    The connection is closed before this returns, whatever happens: the build
    file is published (moved into place) after the checks.
    """
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        _register_seeds(con, seeds_dir)
        values = _parameter_values(con, parameters)
        frames: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for check in checks:
            try:
                frames[check.name] = con.execute(check.sql).df()
            except duckdb.Error as exc:
                errors[check.name] = str(exc).splitlines()[0]
        return values, frames, errors
    finally:
        con.close()


# --------------------------------------------------------------------------- Great Expectations


def _gx_context(quality_dir: Path):
    """The file-backed context under ``quality_dir / "gx"``, created on first use.

    Its one Data Docs site writes to ``quality_dir / "docs"``; its usage statistics are off.
    """
    turn_off_telemetry()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    quality_dir = Path(quality_dir)
    quality_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(quality_dir))
    changed = False
    if context.variables.analytics_enabled is not False:
        context.variables.analytics_enabled = False
        changed = True
    bars = context.variables.progress_bars
    if bars is None or bars.get("globally", True) is not False:
        # Progress bars would only clutter the pipeline's and Airflow's logs.
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        changed = True
    if dict(context.variables.data_docs_sites or {}) != {DOCS_SITE: DOCS_SITE_CONFIG}:
        context.variables.data_docs_sites = {DOCS_SITE: DOCS_SITE_CONFIG}
        changed = True
        # the site Great Expectations creates by default, replaced by the one above
        shutil.rmtree(quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site", ignore_errors=True)
    if changed:
        context.variables.save()
    return context


def _batch_definition(context, check: Check):
    try:
        source = context.data_sources.get(DATASOURCE_NAME)
    except (KeyError, ValueError, LookupError):
        source = context.data_sources.add_pandas(name=DATASOURCE_NAME)
    try:
        asset = source.get_asset(check.name)
    except LookupError:
        asset = source.add_dataframe_asset(name=check.name)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION_NAME)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)


def _with_rendered_notes(suite_dict: dict) -> dict:
    """The suite with each ``meta.notes`` also set as the ``notes`` Data Docs display.

    The suite files keep the reason for each expectation in ``meta``; Great
    Expectations 1.x renders an expectation's top-level ``notes`` field instead.
    """
    suite = json.loads(json.dumps(suite_dict))  # a deep copy
    if "notes" not in suite and (suite.get("meta") or {}).get("notes"):
        suite["notes"] = suite["meta"]["notes"]
    for expectation in suite["expectations"]:
        notes = (expectation.get("meta") or {}).get("notes")
        if notes and "notes" not in expectation:
            expectation["notes"] = notes
    return suite


def _stored_suite(context, check: Check, suite_dict: dict):
    """The suite as stored in the context, replaced when the file has changed.

    Great Expectations' ``add_or_update`` compares every expectation with every
    other (seconds for a suite of 150), so the store's copy carries a fingerprint of
    the file's content and is only rewritten when that differs. Returns the suite
    and whether it was rewritten.
    """
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.exceptions import DataContextError

    text = json.dumps(suite_dict, sort_keys=True)
    fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        stored = context.suites.get(check.name)
    except DataContextError:
        stored = None
    if stored is not None and (stored.meta or {}).get(FINGERPRINT_KEY) == fingerprint:
        return stored, False

    rendered = _with_rendered_notes(suite_dict)
    rendered["meta"] = {**(rendered.get("meta") or {}), FINGERPRINT_KEY: fingerprint}
    suite = ExpectationSuite(**rendered)
    # A typo (an unknown type, a misspelt argument) must not quietly take an
    # expectation out of the gate, whether ExpectationSuite raises or drops it.
    written = [e.get("type") for e in suite_dict["expectations"]]
    built = [e.expectation_type for e in suite.expectations]
    if len(built) != len(written):
        dropped = [t for t in written if t not in built or written.count(t) > built.count(t)]
        raise QualityConfigError(
            f"check {check.name!r}: suite {check.suite_file.name} has expectations Great Expectations "
            f"cannot build: {', '.join(dict.fromkeys(map(str, dropped)))}"
        )
    if stored is not None:
        context.suites.delete(check.name)
    return context.suites.add(suite), True


def _validation_definition(context, check: Check, suite, suite_rewritten: bool):
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    try:
        stored = context.validation_definitions.get(check.name)
    except DataContextError:
        stored = None
    if stored is not None and not suite_rewritten:
        return stored
    if stored is not None:
        context.validation_definitions.delete(check.name)
    definition = gx.ValidationDefinition(name=check.name, data=_batch_definition(context, check), suite=suite)
    return context.validation_definitions.add(definition)


def _validate(context, check: Check, suite_dict: dict, frame, values: dict[str, Any], run_id):
    """Run ``check``'s suite on ``frame`` as part of run ``run_id``.

    Returns the suite's result, kept in the context's validation results store for
    Data Docs, and whether the stored suite was rewritten from its file.
    """
    suite, rewritten = _stored_suite(context, check, suite_dict)
    definition = _validation_definition(context, check, suite, rewritten)
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY",
        # rows listed per failed expectation: the affected areas and periods
        "partial_unexpected_count": AFFECTED_LIMIT,
    }
    index_columns = [c for c in check.identify_rows_by if c in frame.columns]
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=values,
        result_format=result_format,
        run_id=run_id,
    )
    return result, rewritten


def _prune_validation_results(context) -> None:
    """Delete the stored results of all but the latest ``KEEP_RUNS`` runs.

    Rendering Data Docs reads every stored result, so an unbounded history would
    make every run slower than the last; the pages of deleted results are removed
    when the site's index is next built.
    """
    store = context.validation_results_store
    keys = list(store.list_keys())
    run_times = sorted({_run_time(key) for key in keys}, reverse=True)
    if len(run_times) <= KEEP_RUNS:
        return
    cutoff = run_times[KEEP_RUNS - 1]
    for key in keys:
        if _run_time(key) < cutoff:
            store.remove_key(key)
    # the store leaves the folders of a run behind; empty ones are only clutter to list
    base = getattr(store.store_backend, "full_base_directory", None)
    if base:
        for folder, _, _ in sorted(os.walk(base), key=lambda entry: len(entry[0]), reverse=True):
            if folder != base and not os.listdir(folder):
                os.rmdir(folder)


def _run_time(key) -> str:
    run_time = key.run_id.run_time
    return run_time.isoformat() if hasattr(run_time, "isoformat") else str(run_time)


def _build_docs(context, quality_dir: Path, resources: list | None = None) -> Path:
    """Prune the stored results, then render ``resources`` (all when None) and the index."""
    _prune_validation_results(context)
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=resources or None)
    return data_docs_index(quality_dir)


def data_docs_index(quality_dir: Path) -> Path:
    """Where the Data Docs site's index page is for ``quality_dir``."""
    return Path(quality_dir) / "docs" / "index.html"


def build_data_docs(cfg: Settings) -> Path:
    """Render Great Expectations Data Docs for every suite and stored validation result.

    The pages show each expectation with its meta note, and the results of the
    last ``KEEP_RUNS`` runs kept under ``cfg.quality_dir``. ``run_checks`` already
    builds them on every run (rendering only what the run changed); this rebuilds
    the whole site. Returns the path of the site's index page.
    """
    return _build_docs(_gx_context(cfg.quality_dir), cfg.quality_dir)


def _docs_for_run(context, cfg: Settings, run_id, names: list[str], rewritten: set[str]):
    """Render run ``run_id``'s results into the Data Docs site; (index path, seconds).

    The suites of ``names`` are rendered when ``rewritten`` (their file changed) or
    when their page is missing. A failure to render is logged, not raised: the docs
    report on the gate, they are not part of it.
    """
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    started = time.monotonic()
    site = data_docs_index(cfg.quality_dir).parent
    try:
        resources: list = [
            ExpectationSuiteIdentifier(name=name)
            for name in names
            if name in rewritten or not (site / "expectations" / f"{name.replace('.', '/')}.html").is_file()
        ]
        resources += [
            key
            for key in context.validation_results_store.list_keys()
            if key.run_id.run_name == run_id.run_name
        ]
        if not resources and names:  # nothing new (every query failed): the index, not the whole site
            resources = [ExpectationSuiteIdentifier(name=names[0])]
        index = _build_docs(context, cfg.quality_dir, resources)
    except Exception as exc:  # rendering raises many types; the checks' outcome stands
        log.warning("Data Docs could not be built in %s: %s: %s", cfg.quality_dir, type(exc).__name__, exc)
        return None, round(time.monotonic() - started, 3)
    return str(index), round(time.monotonic() - started, 3)


# --------------------------------------------------------------------------- reporting


def _plain(value: Any) -> Any:
    """``value`` as plain JSON-friendly Python (the summary travels through Airflow XComs)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime):  # includes pandas Timestamps
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _exception_message(info: Any) -> str | None:
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "an error was raised")
    for nested in info.values():  # keyed by metric when several metrics failed
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message") or "an error was raised")
    return None


def _value_columns(kwargs: dict) -> list[str]:
    """The columns whose values an expectation judges."""
    if kwargs.get("column"):
        return [str(kwargs["column"])]
    if kwargs.get("column_A"):
        return [str(kwargs["column_A"]), str(kwargs["column_B"])]
    return [str(c) for c in kwargs.get("column_list") or ()]


def _column(kwargs: dict, result: dict) -> str | None:
    missing = ((result.get("details") or {}).get("mismatched") or {}).get("missing")
    if not kwargs.get("column") and missing:
        return ", ".join(str(c) for c in missing)
    columns = _value_columns(kwargs) or [str(c) for c in kwargs.get("column_set") or ()]
    return ", ".join(columns) or None


def _unexpected(column: str | None, result: dict) -> list:
    """A sample of what was unexpected, each item the value with the rows' identifying columns."""
    indexed = result.get("partial_unexpected_index_list")
    if indexed and isinstance(indexed[0], dict):
        sample = []
        for entry in indexed[:SAMPLE_SIZE]:
            entry = _plain(dict(entry))
            value = entry.pop(column, None) if column else None
            sample.append({"value": value, **entry} if entry else value)
        return sample
    if "partial_unexpected_list" in result:
        return _plain(list(result["partial_unexpected_list"])[:SAMPLE_SIZE])
    missing = ((result.get("details") or {}).get("mismatched") or {}).get("missing")
    if missing:
        return _plain(list(missing))
    if "observed_value" in result:
        return [_plain(result["observed_value"])]
    return []


def _affected(check: Check, kwargs: dict, result: dict) -> tuple[list[dict], int]:
    """The areas and periods of the unexpected rows (at most ``AFFECTED_LIMIT``) and their total.

    Each is ``{"area_code", "area_name", "period", "detail"}``, read from the
    check's ``identify_rows_by`` columns; ``detail`` gives the unexpected value(s)
    and the row's other identifying columns. An expectation about the whole table
    (its row count, its columns) has no rows to list.
    """
    indexed = result.get("partial_unexpected_index_list") or []
    total = int(result.get("unexpected_count") or 0)
    if not indexed or not isinstance(indexed[0], dict):
        return [], total
    named = dict(check.affected_columns)
    values = _value_columns(kwargs)
    affected = []
    for raw_entry in indexed[:AFFECTED_LIMIT]:
        entry = _plain(dict(raw_entry))
        code_col = named.get("area_code") or next((c for c in AREA_CODE_COLUMNS if c in entry), None)
        name_col = named.get("area_name") or next((c for c in AREA_NAME_COLUMNS if c in entry), None)
        period_col = named.get("period") or next((c for c in PERIOD_COLUMNS if c in entry), None)
        period = entry.get(period_col) if period_col else None
        used = {code_col, name_col, period_col}
        if (
            period is not None
            and period_col == "financial_year"
            and entry.get("financial_quarter") is not None
        ):
            period = f"{str(period).strip()} Q{str(entry['financial_quarter']).strip()}"
            used.add("financial_quarter")
        detail = [f"{c}={_short(entry.get(c), 60)}" for c in values if c in entry]
        detail += [
            f"{k}={v}" for k, v in entry.items() if k not in used and k not in values and v is not None
        ]
        affected.append(
            {
                "area_code": _text(entry.get(code_col)) if code_col else None,
                "area_name": _text(entry.get(name_col)) if name_col else None,
                "period": _text(period),
                "detail": ", ".join(detail),
            }
        )
    return affected, max(total, len(affected))


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip()


def _format_item(item: Any) -> str:
    if isinstance(item, dict) and "value" in item:
        where = ", ".join(f"{k}={v}" for k, v in item.items() if k != "value" and v is not None)
        return f"{_short(item['value'])} ({where})" if where else _short(item["value"])
    return _short(item)


#: Arguments left out of a failure message: the columns (named already) and plumbing.
_UNSHOWN_KWARGS = (
    "batch_id",
    "column",
    "column_list",
    "column_A",
    "column_B",
    "condition_parser",
    "result_format",
    "catch_exceptions",
)


def _condition(value: Any) -> str:
    """A row condition as text: ``area_code == 'BTP'``."""
    if isinstance(value, dict) and value.get("type") == "comparison":
        return f"{value['column']['name']} {value['operator']} {value['parameter']!r}"
    return value if isinstance(value, str) else repr(value)


def _expected(kwargs: dict) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in _UNSHOWN_KWARGS and v is not None}
    parts = [f"{k}={_short(_plain(v), 60)}" for k, v in shown.items() if k != "row_condition"]
    if "row_condition" in shown:
        parts.append(f"where {_condition(shown['row_condition'])}")
    return ", ".join(parts)


def _describe(
    expectation_type: str, column: str | None, kwargs: dict, result: dict, error: str | None
) -> str:
    subject = f"{expectation_type} on column {column!r}" if column else expectation_type
    if error:
        return f"{subject} could not be evaluated: {error}"
    missing = ((result.get("details") or {}).get("mismatched") or {}).get("missing")
    if missing:
        return f"{subject}: missing from the table"
    expected = _expected(kwargs)
    if "unexpected_count" in result:
        count, total = result.get("unexpected_count") or 0, result.get("element_count") or 0
        text = f"{subject}: {count} of {total} rows unexpected"
    elif "observed_value" in result:
        text = f"{subject}: observed {_short(_plain(result['observed_value']))}"
    else:
        text = f"{subject}: not met"
    return f"{text} (expected {expected})" if expected else text


def _failed_expectations(check: Check, suite_result) -> list[dict]:
    failed = []
    for outcome in suite_result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        kwargs = dict(config.kwargs)
        result = dict(outcome.result or {})
        error = _exception_message(outcome.exception_info)
        column = _column(kwargs, result)
        affected, affected_total = ([], 0) if error else _affected(check, kwargs, result)
        failed.append(
            {
                "expectation": config.type,
                "column": column,
                "message": _describe(config.type, column, kwargs, result, error),
                "unexpected": [] if error else _unexpected(column, result),
                "notes": _plain((config.meta or {}).get("notes")),
                "affected": affected,
                "affected_total": affected_total,
            }
        )
    return failed


def _failure_message(failed_checks: list[dict]) -> str:
    names = ", ".join(repr(c["name"]) for c in failed_checks)
    could_not_run = sum(1 for c in failed_checks if c.get("error"))
    what = (
        f"{len(failed_checks)} failure-severity check(s) failed"
        if not could_not_run
        else f"{len(failed_checks)} check(s) failed or could not run ({could_not_run} whose SQL failed, "
        "an error whatever the check's severity)"
    )
    lines = [f"quality gate failed: {what} ({names}); the build is not published"]
    items = [(c, f) for c in failed_checks for f in c["failed_expectations"]]
    for check, failure in items[:MESSAGE_EXPECTATIONS]:
        line = f"- check {check['name']!r}: {failure['message']}"
        if failure["unexpected"]:
            sample = "; ".join(_format_item(u) for u in failure["unexpected"][:MESSAGE_SAMPLE])
            line += f"; unexpected: {sample}"
        lines.append(line)
    if len(items) > MESSAGE_EXPECTATIONS:
        lines.append(f"- ... and {len(items) - MESSAGE_EXPECTATIONS} more failed expectation(s)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- entry point


def _query_failure(error: str) -> dict:
    return {
        "expectation": "query",
        "column": None,
        "message": f"the check's SQL failed: {error}",
        "unexpected": [],
        "notes": "The SQL in checks.yml must run on the build warehouse.",
        "affected": [],
        "affected_total": 0,
    }


def run_checks(build_db: Path, cfg: Settings, only: Iterable[str] | None = None) -> dict:
    """Validate the build warehouse ``build_db`` against every check in ``cfg.expectations_dir``
    (or only the checks named in ``only``).

    Returns ``{"checks": [{"name", "severity", "description", "rows", "success",
    "failed_expectations": [{"expectation", "column", "message", "unexpected",
    "notes", "affected", "affected_total"}]}], "failures": n, "warnings": n,
    "seconds": s, "data_docs": path, "data_docs_seconds": s, "run_name": str}``
    where ``failures`` counts the failed checks of failure severity and the checks
    whose SQL failed (``error`` says why; an error whatever the severity), and
    ``warnings`` the other failed checks of warning severity,
    ``affected`` lists the areas and periods of the unexpected rows
    (``{"area_code", "area_name", "period", "detail"}``, at most
    ``AFFECTED_LIMIT``, of ``affected_total``) and ``data_docs`` is the Data Docs
    index page (None if it could not be rendered). Raises
    :class:`QualityCheckFailed` when any failure-severity check failed or any check's
    SQL failed, with
    ``.failures`` (one entry per failed expectation of a failure-severity check)
    and ``.summary`` (the summary above, every check included). The build file is
    closed before this returns or raises.
    """
    started = time.monotonic()
    build_db = Path(build_db)
    if not build_db.is_file():
        raise HsinsightError(f"{build_db}: the build warehouse to check does not exist")
    parameters, checks = load_checks(cfg.expectations_dir)
    if only is not None:
        wanted = list(only)
        unknown = sorted(set(wanted) - {check.name for check in checks})
        if unknown:
            raise QualityConfigError(f"no such check in {CHECKS_FILE}: {', '.join(unknown)}")
        checks = [check for check in checks if check.name in wanted]
    suites = {check.name: read_suite(check) for check in checks}
    values, frames, query_errors = _read_frames(build_db, cfg.seeds_dir, parameters, checks)

    from great_expectations.core.run_identifier import RunIdentifier

    context = _gx_context(cfg.quality_dir)
    now = dt.datetime.now(dt.UTC)
    run_id = RunIdentifier(run_name=f"hsinsight-{now:%Y%m%dT%H%M%S.%fZ}", run_time=now)
    reports: list[dict] = []
    rewritten: set[str] = set()
    for check in checks:
        report: dict[str, Any] = {
            "name": check.name,
            "severity": check.severity,
            "description": check.description,
            "error": None,
        }
        if check.name in query_errors:
            report.update(
                rows=None,
                success=False,
                error=f"its SQL failed: {query_errors[check.name]}",
                failed_expectations=[_query_failure(query_errors[check.name])],
            )
        else:
            frame = frames[check.name]
            try:
                suite_result, suite_rewritten = _validate(
                    context, check, suites[check.name], frame, values, run_id
                )
            except QualityConfigError:
                raise
            except Exception as exc:  # Great Expectations raises many types; name the check
                raise QualityConfigError(
                    f"check {check.name!r}: Great Expectations could not run suite "
                    f"{check.suite_file.name}: {type(exc).__name__}: {exc}"
                ) from exc
            if suite_rewritten:
                rewritten.add(check.name)
            report.update(
                rows=len(frame),
                success=bool(suite_result.success),
                failed_expectations=_failed_expectations(check, suite_result),
            )
        if report["success"]:
            outcome = f"passed on {report['rows']} rows"
        elif report["error"]:
            outcome = f"{report['error']} (an error, whatever the severity)"
        else:
            outcome = f"{len(report['failed_expectations'])} expectation(s) failed on {report['rows']} rows"
        log.log(
            logging.INFO if report["success"] else logging.WARNING,
            "quality check %s (%s): %s",
            check.name,
            check.severity,
            outcome,
        )
        reports.append(report)
        pause_point("checks")  # a test hook, inert unless asked for

    docs, docs_seconds = _docs_for_run(context, cfg, run_id, [c.name for c in checks], rewritten)
    failed = [r for r in reports if not r["success"] and (r["severity"] == "failure" or r["error"])]
    summary = {
        "checks": reports,
        "failures": len(failed),
        "warnings": sum(1 for r in reports if not r["success"] and r not in failed),
        "seconds": round(time.monotonic() - started, 3),
        "data_docs": docs,
        "data_docs_seconds": docs_seconds,
        "run_name": run_id.run_name,
    }
    if failed:
        failures = [
            {"check": r["name"], "severity": r["severity"], **f}
            for r in failed
            for f in r["failed_expectations"]
        ]
        raise QualityCheckFailed(_failure_message(failed), failures=failures, summary=summary)
    return summary
