"""The project's exception hierarchy. Every data error says where: file, row and column."""

from __future__ import annotations

from pathlib import Path


class HsinsightError(Exception):
    """Base class for every error the pipeline raises on purpose."""


class InputFileError(HsinsightError):
    """A raw file that cannot be accepted.

    ``row`` is the 1-based row number in the file as a spreadsheet shows it
    (the header row of a plain CSV is row 1); ``column`` is the column's header
    text as written in the file.
    """

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        sheet: str | None = None,
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.sheet = sheet
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = [f"file {self.file}"]
        if self.sheet is not None:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.reason}"


class UnrecognisedFileError(InputFileError):
    """No known layout matches the file's header row."""


class TransformError(HsinsightError):
    """dbt failed to build or test the project."""


class QualityCheckFailed(HsinsightError):
    """A Great Expectations check with blocking severity failed.

    ``failures`` has one entry per failed expectation of a blocking check;
    ``summary`` is the whole run's summary as ``checks.run_checks`` would have
    returned it (every check, passed or failed, warnings included), so the run can
    be recorded; None when the error was raised without one.
    """

    def __init__(self, message: str, failures: list[dict] | None = None, summary: dict | None = None) -> None:
        self.failures = failures or []
        self.summary = summary
        super().__init__(message)


class PublishError(HsinsightError):
    """The built warehouse could not be swapped into place."""
