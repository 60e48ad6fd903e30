"""The sources and reproducibility section: every official file behind the figures, with its
checksum, and the run that built the warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib

from hsinsight.profiles.data import Profile
from hsinsight.profiles.figures import format_value, is_missing
from hsinsight.profiles.page import _caveats, _e, _table, _theme
from hsinsight.profiles.rules import QUESTIONS_FILE, SUMMARY_FILE, load_questions


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sources_section(p: Profile) -> str:
    rows = []
    for r in p.sources.to_dict("records"):
        periods = r.get("periods")
        periods = "" if is_missing(periods) else str(periods)
        if len(periods) > 90:
            parts = [x.strip() for x in periods.split(",")]
            periods = f"{parts[0]} … {parts[-1]} ({len(parts)} periods)"
        rows.append(
            "<tr>"
            f"<td>{_e(str(r['source']))}</td>"
            f"<td>{_e(str(r['file_name']))}"
            + (
                f"<br><span class=meta>{_e(str(r['sheets']))}</span>"
                if not is_missing(r.get("sheets"))
                else ""
            )
            + f"</td><td>{_e(periods)}</td>"
            f'<td class="n">{format_value(r.get("rows"), "count")}</td>'
            f'<td class="hash" data-sha256="{_e(str(r["sha256"]))}">{_e(str(r["sha256"]))}</td>'
            f"<td>{'synthetic' if r.get('is_synthetic') else 'official'}</td></tr>"
        )
    files = _table(
        ["Source", "File (sheets)", "Periods it holds", "Rows", "SHA-256", "Data"], rows, numeric_from=3
    )
    releases = ""
    if not p.releases.empty:
        releases = "<h3>Latest release in the warehouse, per mart</h3>" + _table(
            ["Mart", "Source", "Latest release"],
            [
                f"<tr><td><code>marts.{_e(str(r['mart']))}</code></td><td>{_e(str(r['source']))}</td>"
                f"<td>{_e(str(r['release']))}</td></tr>"
                for r in p.releases.to_dict("records")
            ],
            numeric_from=99,
        )
    run = p.run
    if run:
        checks = (
            f"{run.get('checks_passed')} of {run.get('checks_run')} checks passed, {run.get('checks_warned')} "
            f"warned, {run.get('checks_failed')} failed"
            if run.get("checks_run") is not None
            else "no checks recorded"
        )
        run_text = (
            f"Run <code data-run-id>{_e(str(run['run_id']))}</code> ({_e(str(run.get('orchestrator')))}), started "
            f"{_e(str(run.get('started_at')))} UTC, {_e(str(run.get('outcome')))} at "
            f"{_e(str(run.get('finished_at')))} UTC; {_e(checks)}."
        )
        if run.get("matched"):
            run_text += " The run log records that this run published this very file (same SHA-256)."
        else:
            run_text += (
                " This is the latest published run in the log, but the log does not record this file's SHA-256 "
                "for it: the warehouse may have been copied or published by another run."
            )
    else:
        run_text = "The run log beside the warehouse records no published run."
    sha_text = f', SHA-256 <span class="hash">{_e(p.warehouse_sha256)}</span>' if p.warehouse_sha256 else ""
    period_text = f"{p.period_end:%Y-%m-%d}"
    stat = p.warehouse.stat() if p.warehouse.exists() else None
    published = (
        dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") + " UTC"
        if stat
        else "unknown"
    )
    rules = (
        f"Sentence templates <code>{SUMMARY_FILE.name}</code> (SHA-256 <span class=hash>{_sha256(SUMMARY_FILE)}</span>); "
        f"question rules <code>{QUESTIONS_FILE.name}</code> (SHA-256 <span class=hash>{_sha256(QUESTIONS_FILE)}</span>)."
    )
    body = f"""
<h3>Files the warehouse was built from</h3>
{files}
{releases}
<h3>How this document was made</h3>
<ul class="sentences">
<li>Warehouse: <code>{_e(str(p.warehouse))}</code>, published {_e(published)}{sha_text}.</li>
<li>{run_text}</li>
<li>Platform: hsinsight {_e(p.version)}. {rules}</li>
<li>Generated {_e(p.generated.strftime("%Y-%m-%d %H:%M"))} UTC. Make it again with
<code>hsinsight profile --force {_e(p.area_code)} --period {period_text} --warehouse PATH --out FILE</code>:
the same warehouse gives the same figures, sentences and questions.</li>
<li>Inspection cited: {_e(load_questions().inspection.citation())}.</li>
</ul>"""
    return _theme(
        "sources",
        "Sources and reproducibility",
        "Every official file the figures come from, with its SHA-256 checksum, and the run that built the warehouse.",
        body,
        _caveats(["moj", "cps_units"], p.synthetic),
        page=True,
    )
