"""Run a command while handing on each line it prints, keeping the last lines for errors."""

from __future__ import annotations

import collections
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path


def run_streaming(
    command: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    on_line: Callable[[str], None],
    tail_lines: int = 40,
    line_length: int = 1 << 16,
) -> tuple[int, list[str]]:
    """Run ``command`` with stdout and stderr merged, calling ``on_line`` for each line
    (without its newline). Returns the exit code and the last ``tail_lines`` lines.

    A line longer than ``line_length`` characters is handed on in pieces of that
    length, so memory stays bounded whatever the command prints.

    The command is killed if reading is interrupted (Ctrl-C included), so no child is
    left behind. :class:`OSError` from starting it is left to the caller to explain.
    """
    tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    )
    assert process.stdout is not None
    try:
        with process.stdout:
            for line in iter(lambda: process.stdout.readline(line_length), ""):
                line = line.rstrip("\n")
                tail.append(line)
                on_line(line)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process.wait(), list(tail)
