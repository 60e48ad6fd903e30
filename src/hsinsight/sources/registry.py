"""The sources registry: which official sources the platform ingests, read from ``registry.yml``.

``registry.yml``, beside the layouts, lists every source: publisher, landing page,
licence, release cadence, file formats, the layouts its files have, and how the files
are found (stable addresses, or a regular expression for the text of the link on the
landing page). Loading it checks every entry; a problem names the entry and the field.
The registry in use is the bundled one unless ``HSINSIGHT_SOURCES_REGISTRY`` names
another. Downloading what an entry names is :mod:`hsinsight.fetch`'s job.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hsinsight.errors import HsinsightError

REGISTRY_ENV = "HSINSIGHT_SOURCES_REGISTRY"
DEFAULT_REGISTRY = Path(__file__).resolve().parent / "registry.yml"

#: every field an entry may have; the first group is required
REQUIRED_FIELDS = ("id", "title", "publisher", "landing_page", "licence", "cadence", "formats", "layouts")
OPTIONAL_FIELDS = ("schedule", "link_text", "link_select", "urls", "last_known_urls", "see_also", "notes")
LINK_SELECT_CHOICES = ("all", "first")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class FetchError(HsinsightError):
    """A source could not be found or downloaded (the registry's errors and the
    downloader's share this base)."""


class RegistryError(FetchError):
    """The sources registry is missing or malformed."""


def is_url(value: str) -> bool:
    """True for an absolute http or https URL."""
    parts = urllib.parse.urlsplit(value.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class Source:
    """One entry of the sources registry."""

    id: str
    title: str
    publisher: str
    landing_page: str
    licence: str
    cadence: str
    formats: tuple[str, ...]
    layouts: tuple[str, ...]
    #: regular expression searched (case-insensitively) in the text of the links on
    #: the landing page
    link_text: str | None = None
    #: ``all`` matching links, or only the ``first`` one on the page
    link_select: str = "all"
    #: stable file addresses, downloaded as they are
    urls: tuple[str, ...] = ()
    #: file addresses seen at the last check: a record and a hint, never fetched
    #: automatically because a newer release lives elsewhere
    last_known_urls: tuple[str, ...] = ()
    see_also: tuple[str, ...] = ()
    notes: str | None = None
    #: when the source's ingest DAG runs: a five-field cron expression matching the
    #: publisher's release cadence
    schedule: str | None = None

    @property
    def downloadable(self) -> bool:
        return bool(self.urls or self.link_text)

    @property
    def how_found(self) -> str:
        if self.urls:
            return f"{len(self.urls)} direct URL(s)"
        if self.link_text:
            which = "the first link" if self.link_select == "first" else "every link"
            return f"{which} on the landing page whose text matches /{self.link_text}/"
        return "not downloadable: supply the file locally"


def registry_path(path: str | Path | None = None) -> Path:
    """The registry file: ``path``, else ``$HSINSIGHT_SOURCES_REGISTRY``, else the bundled one."""
    if path:
        return Path(path)
    env = os.environ.get(REGISTRY_ENV)
    return Path(env) if env else DEFAULT_REGISTRY


def load_registry(path: str | Path | None = None) -> dict[str, Source]:
    """Read and validate the registry; sources by id, in file order."""
    file = registry_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"sources registry {file}: cannot be read: {exc.strerror or exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(f"sources registry {file}: not valid YAML: {exc}") from exc
    return parse_registry(document, file)


def parse_registry(document: Any, origin: str | Path = "<registry>") -> dict[str, Source]:
    """Validate a loaded registry document; every problem names the entry and the field."""
    if not isinstance(document, Mapping) or not isinstance(document.get("sources"), list):
        raise RegistryError(f"sources registry {origin}: expected a mapping with a 'sources' list")
    sources: dict[str, Source] = {}
    for index, entry in enumerate(document["sources"], start=1):
        source = _parse_entry(entry, f"sources registry {origin}: entry {index}")
        if source.id in sources:
            raise RegistryError(
                f"sources registry {origin}: entry {index} ({source.id}): field 'id': "
                f"{source.id!r} is already used by an earlier entry"
            )
        sources[source.id] = source
    if not sources:
        raise RegistryError(f"sources registry {origin}: the 'sources' list is empty")
    return sources


def _parse_entry(entry: Any, where: str) -> Source:
    if not isinstance(entry, Mapping):
        raise RegistryError(f"{where}: expected a mapping of fields, got {type(entry).__name__}")
    raw_id = entry.get("id")
    if isinstance(raw_id, str) and raw_id:
        where = f"{where} ({raw_id})"

    def fail(field_name: str, problem: str) -> RegistryError:
        return RegistryError(f"{where}: field {field_name!r}: {problem}")

    unknown = sorted(str(k) for k in entry if k not in REQUIRED_FIELDS + OPTIONAL_FIELDS)
    if unknown:
        raise fail(unknown[0], f"unknown field (allowed: {', '.join(REQUIRED_FIELDS + OPTIONAL_FIELDS)})")
    for name in REQUIRED_FIELDS:
        if name not in entry or entry[name] is None or entry[name] == "" or entry[name] == []:
            raise fail(name, "required and missing or empty")

    def text(name: str, *, optional: bool = False) -> str | None:
        value = entry.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(name, f"must be non-empty text, got {value!r}")
        return value.strip()

    def url(name: str, value: Any) -> str:
        if not isinstance(value, str) or not is_url(value):
            raise fail(name, f"must be an http(s) URL, got {value!r}")
        return value.strip()

    def texts(name: str) -> tuple[str, ...]:
        value = entry.get(name)
        if not isinstance(value, list) or not value:
            raise fail(name, f"must be a non-empty list, got {value!r}")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise fail(name, f"every item must be non-empty text, got {item!r}")
        return tuple(item.strip() for item in value)

    def urls(name: str) -> tuple[str, ...]:
        value = entry.get(name)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise fail(name, f"must be a list of URLs, got {value!r}")
        return tuple(url(name, item) for item in value)

    source_id = text("id")
    if not _ID.match(source_id):
        raise fail("id", f"must be lower-case letters, digits and underscores, got {source_id!r}")
    link_text = text("link_text", optional=True)
    if link_text is not None:
        try:
            re.compile(link_text)
        except re.error as exc:
            raise fail("link_text", f"not a valid regular expression: {exc}") from exc
    link_select = text("link_select", optional=True) or "all"
    if link_select not in LINK_SELECT_CHOICES:
        raise fail("link_select", f"must be one of {', '.join(LINK_SELECT_CHOICES)}, got {link_select!r}")
    source = Source(
        id=source_id,
        title=text("title"),
        publisher=text("publisher"),
        landing_page=url("landing_page", entry.get("landing_page")),
        licence=text("licence"),
        cadence=text("cadence"),
        formats=texts("formats"),
        layouts=texts("layouts"),
        link_text=link_text,
        link_select=link_select,
        urls=urls("urls"),
        last_known_urls=urls("last_known_urls"),
        see_also=urls("see_also"),
        notes=text("notes", optional=True),
        schedule=text("schedule", optional=True),
    )
    if source.schedule is not None and len(source.schedule.split()) != 5:
        raise fail("schedule", f"must be a five-field cron expression, got {source.schedule!r}")
    if not source.downloadable and not source.notes:
        raise fail(
            "notes",
            "required when an entry has neither 'urls' nor 'link_text': say where the file comes from",
        )
    return source


def describe_registry(registry: Mapping[str, Source]) -> str:
    """A readable listing: id, publisher, cadence, landing page and how files are found."""
    blocks = []
    for source in registry.values():
        blocks.append(
            "\n".join(
                (
                    source.id,
                    f"  title:        {source.title}",
                    f"  publisher:    {source.publisher}",
                    f"  cadence:      {source.cadence}",
                    f"  landing page: {source.landing_page}",
                    f"  files:        {source.how_found}",
                )
            )
        )
    return "\n\n".join(blocks)
