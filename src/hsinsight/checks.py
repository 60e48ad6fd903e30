"""The quality gate: Great Expectations suites run on a build warehouse before it is published.

``expectations/checks.yml`` lists the checks. Each names a suite file in the same
folder (Great Expectations 1.x suite JSON, hand-written and under version
control), the DuckDB SQL whose result the suite validates, and a severity:
``failure`` stops the build being published, ``warning`` is reported and the
build is published all the same.

A run:

1. opens the build file read-only, exposes the reference seeds as temporary
   views (``seed_forces``, ``seed_offence_codes``, ...), computes the suite
   parameters from them and reads every check's query into a pandas DataFrame,
   then closes the file, before Great Expectations is even imported;
2. validates each DataFrame against its suite through a file-backed Great
   Expectations context under ``cfg.quality_dir / "gx"``: a pandas data source
   with one dataframe asset per check, a whole-dataframe batch definition, the
   suite (re-read from ``expectations/`` on every run, so the files there are
   the source of truth), a validation definition and a checkpoint. Validation
   results are kept in the context's store as a record of every run;
3. returns a summary, or raises :class:`~hsinsight.errors.QualityCheckFailed`
   when a failure-severity check failed.

The SQL data source of Great Expectations cannot be used with DuckDB 2.0 (the
SQLAlchemy dialect fails), which is why the tables are validated as DataFrames.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from hsinsight.config import Settings
from hsinsight.errors import HsinsightError, QualityCheckFailed

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
    """The file-backed context under ``quality_dir / "gx"``, created on first use."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    quality_dir = Path(quality_dir)
    quality_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(quality_dir))
    bars = context.variables.progress_bars
    if bars is None or bars.get("globally", True) is not False:
        # Progress bars would only clutter the pipeline's and Airflow's logs.
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
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


def _validate(context, check: Check, suite_dict: dict, frame, values: dict[str, Any]):
    """Run ``check``'s suite on ``frame`` through its checkpoint; the suite's result."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    batch_definition = _batch_definition(context, check)
    suite = ExpectationSuite(**_with_rendered_notes(suite_dict))
    # ExpectationSuite logs and drops an expectation it cannot build (an unknown type,
    # a misspelt argument): a typo must not quietly take a check out of the gate.
    written = [e.get("type") for e in suite_dict["expectations"]]
    built = [e.expectation_type for e in suite.expectations]
    if len(built) != len(written):
        dropped = [t for t in written if t not in built or written.count(t) > built.count(t)]
        raise QualityConfigError(
            f"check {check.name!r}: suite {check.suite_file.name} has expectations Great Expectations "
            f"cannot build: {', '.join(dict.fromkeys(map(str, dropped)))}"
        )
    suite = context.suites.add_or_update(suite)
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=check.name, data=batch_definition, suite=suite)
    )
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": SAMPLE_SIZE,
    }
    index_columns = [c for c in check.identify_rows_by if c in frame.columns]
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=check.name,
            validation_definitions=[validation],
            # No actions: Data Docs take longer to render than the validation itself and
            # grow with the history kept, so they are built on demand (build_data_docs).
            actions=[],
            result_format=result_format,
        )
    )
    outcome = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=values)
    return next(iter(outcome.run_results.values()))


def build_data_docs(cfg: Settings) -> Path:
    """Render Great Expectations Data Docs for every suite and stored validation result.

    The pages show each expectation with its meta note, and the results of every
    run kept under ``cfg.quality_dir``. Returns the path of the site's index page.
    """
    context = _gx_context(cfg.quality_dir)
    context.build_data_docs()
    return Path(cfg.quality_dir) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


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


def _column(kwargs: dict, result: dict) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    missing = ((result.get("details") or {}).get("mismatched") or {}).get("missing")
    if missing:
        return ", ".join(str(c) for c in missing)
    columns = kwargs.get("column_list") or kwargs.get("column_set")
    if columns:
        return ", ".join(str(c) for c in columns)
    return None


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


def _format_item(item: Any) -> str:
    if isinstance(item, dict) and "value" in item:
        where = ", ".join(f"{k}={v}" for k, v in item.items() if k != "value" and v is not None)
        return f"{_short(item['value'])} ({where})" if where else _short(item["value"])
    return _short(item)


def _expected(kwargs: dict) -> str:
    shown = {
        k: v
        for k, v in kwargs.items()
        if k not in ("batch_id", "column", "column_list", "result_format", "catch_exceptions")
        and v is not None
    }
    return ", ".join(f"{k}={_short(_plain(v), 60)}" for k, v in shown.items())


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


def _failed_expectations(suite_result) -> list[dict]:
    failed = []
    for outcome in suite_result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        kwargs = dict(config.kwargs)
        result = dict(outcome.result or {})
        error = _exception_message(outcome.exception_info)
        column = _column(kwargs, result)
        failed.append(
            {
                "expectation": config.type,
                "column": column,
                "message": _describe(config.type, column, kwargs, result, error),
                "unexpected": [] if error else _unexpected(column, result),
                "notes": _plain((config.meta or {}).get("notes")),
            }
        )
    return failed


def _failure_message(failed_checks: list[dict]) -> str:
    names = ", ".join(repr(c["name"]) for c in failed_checks)
    lines = [
        f"quality gate failed: {len(failed_checks)} failure-severity check(s) failed ({names}); "
        "the build is not published"
    ]
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


def run_checks(build_db: Path, cfg: Settings) -> dict:
    """Validate the build warehouse ``build_db`` against every check in ``cfg.expectations_dir``.

    Returns ``{"checks": [{"name", "severity", "description", "rows", "success",
    "failed_expectations": [{"expectation", "column", "message", "unexpected",
    "notes"}]}], "failures": n, "warnings": n, "seconds": s}`` where ``failures``
    and ``warnings`` count the failed checks of each severity. Raises
    :class:`QualityCheckFailed` (with ``.failures``, one entry per failed
    expectation of a failure-severity check) when any failure-severity check
    failed. The build file is closed before this returns or raises.
    """
    started = time.monotonic()
    build_db = Path(build_db)
    if not build_db.is_file():
        raise HsinsightError(f"{build_db}: the build warehouse to check does not exist")
    parameters, checks = load_checks(cfg.expectations_dir)
    suites = {check.name: read_suite(check) for check in checks}
    values, frames, query_errors = _read_frames(build_db, cfg.seeds_dir, parameters, checks)

    context = _gx_context(cfg.quality_dir) if frames else None
    reports: list[dict] = []
    for check in checks:
        report: dict[str, Any] = {
            "name": check.name,
            "severity": check.severity,
            "description": check.description,
        }
        if check.name in query_errors:
            report.update(
                rows=None,
                success=False,
                failed_expectations=[
                    {
                        "expectation": "query",
                        "column": None,
                        "message": f"the check's SQL failed: {query_errors[check.name]}",
                        "unexpected": [],
                        "notes": "The SQL in checks.yml must run on the build warehouse.",
                    }
                ],
            )
        else:
            frame = frames[check.name]
            try:
                suite_result = _validate(context, check, suites[check.name], frame, values)
            except QualityConfigError:
                raise
            except Exception as exc:  # Great Expectations raises many types; name the check
                raise QualityConfigError(
                    f"check {check.name!r}: Great Expectations could not run suite "
                    f"{check.suite_file.name}: {type(exc).__name__}: {exc}"
                ) from exc
            report.update(
                rows=len(frame),
                success=bool(suite_result.success),
                failed_expectations=_failed_expectations(suite_result),
            )
        if report["success"]:
            outcome = f"passed on {report['rows']} rows"
        elif report["rows"] is None:
            outcome = "its SQL failed"
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

    summary = {
        "checks": reports,
        "failures": sum(1 for r in reports if not r["success"] and r["severity"] == "failure"),
        "warnings": sum(1 for r in reports if not r["success"] and r["severity"] == "warning"),
        "seconds": round(time.monotonic() - started, 3),
    }
    failed = [r for r in reports if not r["success"] and r["severity"] == "failure"]
    if failed:
        failures = [
            {"check": r["name"], "severity": r["severity"], **f}
            for r in failed
            for f in r["failed_expectations"]
        ]
        raise QualityCheckFailed(_failure_message(failed), failures=failures)
    return summary
