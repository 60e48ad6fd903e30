"""Running the ``hsinsight`` console script as a user does, with the writable folders
under a test's temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def hsinsight(*args: str, tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        HSINSIGHT_QUALITY_DIR=str(tmp_path / "quality"),
        HSINSIGHT_QUARANTINE_DIR=str(tmp_path / "quarantine"),
        **extra_env,
    )
    return subprocess.run(
        [str(BIN / "hsinsight"), *args], capture_output=True, text=True, env=env, timeout=600
    )
