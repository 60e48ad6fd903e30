"""Telling what a body is from its first bytes: an HTML page in place of a file, a zip, an
ODS, an old Excel workbook, a PDF or text."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hsinsight.fetch.http import _AttemptFailed
from hsinsight.fetch.names import _split_suffix

#: bytes of a body looked at to tell what it is
SNIFF_BYTES = 1024

_ZIP = b"PK\x03\x04"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
#: what a file of each type looks like in its first bytes, and the type's name
_SIGNATURES: dict[str, tuple[Callable[[bytes], bool], str]] = {
    "xlsx": (lambda head: head.startswith(_ZIP), "an Excel workbook (a zip archive)"),
    "xlsm": (lambda head: head.startswith(_ZIP), "an Excel workbook (a zip archive)"),
    "zip": (lambda head: head.startswith(_ZIP), "a zip archive"),
    "ods": (
        lambda head: head.startswith(_ZIP) and head[30:38] == b"mimetype" and _ODS_MIMETYPE in head[38:200],
        "an OpenDocument spreadsheet (a zip archive naming its mimetype first)",
    ),
    "xls": (lambda head: head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "an Excel 97-2003 workbook"),
    "pdf": (lambda head: head.startswith(b"%PDF-"), "a PDF"),
    "csv": (lambda head: b"\x00" not in head, "text (CSV)"),
    "txt": (lambda head: b"\x00" not in head, "text"),
}
_HTML_TAGS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<meta", b"<title", b"<div")


def looks_like_html(head: bytes) -> bool:
    """True when the first bytes of a body are an HTML page."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<") and any(tag in text for tag in _HTML_TAGS)


def _expected_types(name: str, formats: Sequence[str]) -> tuple[str, ...]:
    """The types a file may be: its name's extension when known, else the source's formats."""
    suffix = _split_suffix(name)[1].lower().lstrip(".")
    if suffix in _SIGNATURES:
        return (suffix,)
    return tuple(dict.fromkeys(f.lower() for f in formats if f.lower() in _SIGNATURES))


def content_problem(head: bytes, types: Sequence[str]) -> str | None:
    """Why a body starting with ``head`` is not a file of one of ``types``, or None.

    An HTML page is never accepted; with no ``types`` anything else is.
    """
    wanted = " or ".join(dict.fromkeys(_SIGNATURES[t][1] for t in types)) or "a data file"
    if looks_like_html(head):
        return f"the server sent an HTML page (a cookie, sign-in or error page?), not {wanted}"
    if types and not any(_SIGNATURES[t][0](head) for t in types):
        return f"the content is not {wanted}: it starts {head[:12]!r}"
    return None


class _Sniffer:
    """Hold back the first :data:`SNIFF_BYTES` of a body until they show what it is."""

    def __init__(self, types: Sequence[str], url: str, final_url: str) -> None:
        self.types = tuple(types)
        self.where = "" if final_url == url else f" (redirected to {final_url})"
        self.head = bytearray()
        self.decided = False

    def feed(self, chunk: bytes) -> bytes:
        """What may be written now."""
        if self.decided:
            return chunk
        self.head.extend(chunk)
        if len(self.head) < SNIFF_BYTES:
            return b""
        return self._decide()

    def finish(self) -> bytes:
        """The rest, at the end of a body shorter than :data:`SNIFF_BYTES`."""
        return b"" if self.decided else self._decide()

    def _decide(self) -> bytes:
        problem = content_problem(bytes(self.head[:SNIFF_BYTES]), self.types)
        if problem:
            raise _AttemptFailed(problem + self.where, retryable=False, received=len(self.head))
        self.decided = True
        held, self.head = bytes(self.head), bytearray()
        return held
