"""Benchmark of the problem profiles: ``hsinsight profile --all --pdf`` on the sample.

Times the whole command as a user runs it (a child process, interpreter start included):
every force's HTML profile, its PDF printed by headless Chromium and the index, from the
warehouse the pipeline publishes from the bundled sample. Held to under 60 s. Writes
``bench/results/profiles.md`` and ``bench/results/profiles.json``.

    python bench/profiles.py [--warehouse PATH] [--runs 3]

Without ``--warehouse`` the sample is built first into a temporary folder with
``hsinsight run --fresh`` (not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGET_SECONDS = 60.0


def hsinsight(*args: str) -> list[str]:
    return [sys.executable, "-m", "hsinsight.cli", *args]


def build_sample(folder: Path) -> Path:
    warehouse = folder / "warehouse" / "hsinsight.duckdb"
    env = dict(
        os.environ, HSINSIGHT_QUALITY_DIR=str(folder / "quality"), HSINSIGHT_QUARANTINE_DIR=str(folder / "q")
    )
    subprocess.run(
        hsinsight("run", "--fresh", "--warehouse", str(warehouse)),
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return warehouse


def time_once(warehouse: Path, out: Path) -> dict:
    started = time.monotonic()
    subprocess.run(
        hsinsight("profile", "--all", "--pdf", "--out", str(out), "--warehouse", str(warehouse)),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    html = [p for p in out.glob("*.html") if p.name != "index.html"]
    pdf = list(out.glob("*.pdf"))
    return {
        "seconds": round(seconds, 2),
        "profiles": len(html),
        "pdfs": len(pdf),
        "html_bytes": sum(p.stat().st_size for p in html),
        "pdf_bytes": sum(p.stat().st_size for p in pdf),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse", type=Path, help="published warehouse (default: build the sample first)"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hsinsight-bench-profiles-") as scratch:
        folder = Path(scratch)
        warehouse = args.warehouse or build_sample(folder)
        runs = [time_once(warehouse, folder / f"run-{i}") for i in range(args.runs)]
    seconds = [r["seconds"] for r in runs]
    median = statistics.median(seconds)
    result = {
        "command": "hsinsight profile --all --pdf",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "runs": runs,
        "seconds": {"median": median, "min": min(seconds), "max": max(seconds)},
        "target_seconds": TARGET_SECONDS,
        "met": median < TARGET_SECONDS,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profiles.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    first = runs[0]
    lines = [
        "# Problem profiles benchmark",
        "",
        f"{result['when']}, {os.cpu_count()} CPUs, {platform.platform()}.",
        "",
        f"| command | profiles | PDFs | time (median of {len(runs)}) | min–max | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        f"| `hsinsight profile --all --pdf` (sample) | {first['profiles']} | {first['pdfs']} | {median:.1f} s "
        f"| {min(seconds):.1f}–{max(seconds):.1f} s | < {TARGET_SECONDS:.0f} s: {'met' if result['met'] else 'NOT met'} |",
        "",
        f"HTML {first['html_bytes'] / first['profiles'] / 1024:.0f} KiB and PDF "
        f"{first['pdf_bytes'] / max(first['pdfs'], 1) / 1024:.0f} KiB per force on average.",
        "",
    ]
    (RESULTS / "profiles.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
