"""Text the pages show and offer for download: offence labels, numbers, periods,
Markdown escaping, safe CSV bytes and download file names.

Two rules hold on every page. Text a user or a file controls (a value from the page
address, a run log message, a file name or path, an error's text) reaches Markdown
(st.markdown, st.caption, st.info, st.warning, st.error, subtitles) only through
:func:`escape_markdown`; table cells (st.dataframe) are not Markdown. Every CSV
download is made by :func:`csv_bytes`, which keeps a spreadsheet from reading a cell
as a formula.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

#: Offence groups, in the order pages offer them, with their labels.
OFFENCE_LABELS = {
    "stalking": "Stalking",
    "harassment": "Harassment",
    "racially_or_religiously_aggravated_harassment": "Racially or religiously aggravated harassment",
    "malicious_communications": "Malicious communications",
}


def offence_label(group: str) -> str:
    """An offence group's label (its name, tidied, when it has none)."""
    return OFFENCE_LABELS.get(group, group.replace("_", " ").capitalize())


def fmt_count(value: object) -> str:
    """A count with thousands separators, or 'not available'."""
    return "not available" if value is None or pd.isna(value) else f"{int(value):,}"


def fmt_share(value: object, digits: int = 0) -> str:
    """A share as a percentage, or 'not available'."""
    return "not available" if value is None or pd.isna(value) else f"{float(value):.{digits}%}"


def fmt_number(value: object, digits: int = 1) -> str:
    """A number with thousands separators and ``digits`` decimals, or 'not available'."""
    return "not available" if value is None or pd.isna(value) else f"{float(value):,.{digits}f}"


#: What a spreadsheet may read as the start of a formula in a text cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A text cell that is only a number (``-12``, ``+3.5``, ``-1e3``) is read as that number,
#: never as a formula: it is written as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _defuse(value: object) -> object:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_bytes(table: pd.DataFrame) -> bytes:
    """The CSV a download button offers: the table as shown, UTF-8, with every text cell
    (and column name) that a spreadsheet would read as a formula (one starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return) prefixed with ``'``. Numbers, dates
    and booleans are written as they are, negative numbers included, and so is text that
    is only a number (``-00``, ``+5``). Lines end with CRLF (RFC 4180), so a cell holding
    a line break of either kind is quoted and cannot start a row of its own."""
    safe = table.rename(columns=lambda name: _defuse(name) if isinstance(name, str) else name)
    for index in range(safe.shape[1]):
        values = safe.iloc[:, index]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
            safe.isetitem(index, values.astype(object).map(_defuse))
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


#: Every ASCII punctuation character: CommonMark and its extensions give each a meaning
#: somewhere, and a backslash before any of them makes it literal.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: Streamlit turns ``:name:`` shortcodes (emoji, ``:material_...:`` icons) into pictures in
#: the text itself, after escapes are read; an invisible word joiner after the colon stops it.
_SHORTCODE_COLON = re.compile(r":(?=\w|\\[+-])")
#: Streamlit's Markdown (GitHub's) also makes links of bare ``https://...``, ``www.`` and
#: ``name@host`` addresses in the text itself, backslashes or not: a word joiner after every
#: colon and ``@`` and inside ``www.`` stops that (and every shortcode).
_LINK_BREAKS = re.compile(r"(?<=[:@])|(?<=www)(?=\.)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def escape_markdown(value: object, *, code: bool = False) -> str:
    """``value`` as literal text inside the Markdown of st.markdown, st.caption, st.info,
    st.warning, st.error, st.success and the like.

    For any text a user or a file controls. Nothing in it can become a link (written or
    bare), an image, emphasis, a heading, a list, a table, HTML, LaTeX, an emoji or an
    icon; runs of white space (line breaks included) become one space, and invisible word
    joiners follow colons and ``@``. With ``code`` it is an inline code span (for codes,
    paths and identifiers), fenced with more backticks than it holds.
    """
    text = " ".join(str(value).split())
    if not text:
        return ""
    if code:
        text = _SHORTCODE_COLON.sub(":" + WORD_JOINER, text)
        fence = "`" * (max(len(run) for run in re.findall("`+", text + "`")) + 1)
        pad = " " if text.startswith("`") or text.endswith("`") else ""
        return f"{fence}{pad}{text}{pad}{fence}"
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", _LINK_BREAKS.sub(WORD_JOINER, text))


def file_slug(value: object, limit: int = 80) -> str:
    """``value`` fit for a download's file name: letters, digits, ``.``, ``_`` and ``-``
    only (anything else becomes ``_``), at most ``limit`` characters, never hidden."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)).lstrip(".")[:limit] or "_"


def period_label(end: dt.date | pd.Timestamp) -> str:
    """The 12 months ending on ``end``, in words."""
    return f"12 months to {pd.Timestamp(end):%d %b %Y}"
