"""Sentences and questions from templates filled with figures.

Two reviewable files in this package hold every sentence a profile generates:

``summary.yml``
    the summary's sentences: ``id``, an optional ``when`` (conditions, all of which must
    hold) and ``text``, a template whose ``{fields}`` are figures;
``questions.yml``
    the questions for the commissioner: ``id``, ``theme``, ``title``, ``when``, the
    ``question`` template, the ``inspection`` finding it relates to and the
    ``recommendation`` area of the report it serves, both in the project's own words, with
    the report cited once at the top of the file.

A template is used only when every figure it names, and every figure its conditions
read, exists (a missing figure is never written as a guess), and only when every
condition holds. A condition reads one figure:

``{figure: F, greater_than: N}`` / ``{figure: F, less_than: N}``
    F > N, F < N;
``{figure: F, at_least: N}`` / ``{figure: F, at_most: N}``
    F >= N, F <= N;
``{figure: F, at_least: K, times: G}`` / ``{figure: F, at_most: K, times: G}``
    F >= K x G, F <= K x G, against another figure G, which must be above zero;
``{figure: F, is: true}`` / ``{figure: F, equals: WORD}``
    a flag, a word;
``{figure: F, missing: true}``
    F does not exist (for a sentence that stands in for one that needs F).
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hsinsight.errors import HsinsightError
from hsinsight.profiles.figures import format_figure, is_missing

HERE = Path(__file__).resolve().parent
QUESTIONS_FILE = HERE / "questions.yml"
SUMMARY_FILE = HERE / "summary.yml"

_NUMERIC_OPS = ("greater_than", "less_than", "at_least", "at_most")
_OPS = (*_NUMERIC_OPS, "is", "equals", "missing")
_SYMBOLS = {"greater_than": ">", "less_than": "<", "at_least": "≥", "at_most": "≤"}


class RulesError(HsinsightError):
    """A rules file that cannot be used."""


@dataclass(frozen=True)
class Condition:
    figure: str
    op: str
    value: Any
    times: str | None = None

    @property
    def figures(self) -> tuple[str, ...]:
        """The figures the condition reads."""
        return (self.figure,) if self.times is None else (self.figure, self.times)

    @property
    def required(self) -> tuple[str, ...]:
        """The figures that must exist for the condition to hold."""
        return () if self.op == "missing" else self.figures

    def holds(self, figures: Mapping[str, Any]) -> bool:
        """Whether the condition holds; False when a figure it needs is missing."""
        if self.op == "missing":
            return is_missing(figures.get(self.figure)) is bool(self.value)
        if any(is_missing(figures.get(f)) for f in self.figures):
            return False
        value = figures[self.figure]
        if self.op == "is":
            return bool(value) is bool(self.value)
        if self.op == "equals":
            return str(value) == str(self.value)
        bound = float(self.value)
        if self.times is not None:
            other = float(figures[self.times])
            if other <= 0:
                return False
            bound *= other
        value = float(value)
        return {
            "greater_than": value > bound,
            "less_than": value < bound,
            "at_least": value >= bound,
            "at_most": value <= bound,
        }[self.op]

    def describe(self) -> str:
        """The condition as the document states it."""
        if self.op == "missing":
            return f"{self.figure} {'does not exist' if self.value else 'exists'}"
        if self.op in ("is", "equals"):
            return f"{self.figure} is {str(self.value).lower()}"
        bound = f"{self.value:g} × {self.times}" if self.times else f"{self.value:g}"
        return f"{self.figure} {_SYMBOLS[self.op]} {bound}"


@dataclass(frozen=True)
class Template:
    """A sentence: used when its conditions hold and every figure it names exists."""

    id: str
    text: str
    when: tuple[Condition, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(self.text) if name))

    @property
    def figures(self) -> tuple[str, ...]:
        """Every figure the template needs: its conditions' and its text's."""
        return tuple(dict.fromkeys([*(f for c in self.when for f in c.required), *self.fields]))

    def applies(self, figures: Mapping[str, Any]) -> bool:
        return all(not is_missing(figures.get(f)) for f in self.figures) and all(
            c.holds(figures) for c in self.when
        )

    def fill(self, figures: Mapping[str, Any]) -> str | None:
        """The sentence with its figures written in, or None when it does not apply."""
        if not self.applies(figures):
            return None
        return " ".join(self.text.format(**{f: format_figure(f, figures[f]) for f in self.fields}).split())


@dataclass(frozen=True)
class Rule(Template):
    """A question for the commissioner, raised by figures."""

    theme: str = ""
    title: str = ""
    inspection: str = ""
    recommendation: str = ""


@dataclass(frozen=True)
class Question:
    """A question raised for one force: the rule, its sentence and the figures that raised it."""

    rule: Rule
    text: str
    figures: dict[str, str]


@dataclass(frozen=True)
class Inspection:
    title: str
    publishers: str
    published: str

    def citation(self) -> str:
        return f"{self.publishers}, {self.title}, {self.published}"


@dataclass(frozen=True)
class QuestionRules:
    inspection: Inspection
    rules: tuple[Rule, ...]


def _conditions(spec: Any, where: str) -> tuple[Condition, ...]:
    if spec is None:
        return ()
    if not isinstance(spec, list):
        raise RulesError(f"{where}: 'when' must be a list of conditions")
    found = []
    for item in spec:
        if not isinstance(item, dict) or "figure" not in item:
            raise RulesError(f"{where}: every condition names a figure: {item!r}")
        ops = [op for op in _OPS if op in item]
        extra = set(item) - {"figure", "times", *_OPS}
        if len(ops) != 1 or extra:
            raise RulesError(
                f"{where}: a condition has exactly one of {', '.join(_OPS)} (and 'times'): {item!r}"
            )
        op = ops[0]
        if op in ("is", "missing") and not isinstance(item[op], bool):
            raise RulesError(f"{where}: {op} needs true or false: {item!r}")
        if "times" in item and op not in ("at_least", "at_most"):
            raise RulesError(f"{where}: 'times' goes with at_least or at_most only: {item!r}")
        if op in _NUMERIC_OPS and not isinstance(item[op], int | float):
            raise RulesError(f"{where}: {op} needs a number: {item!r}")
        found.append(Condition(str(item["figure"]), op, item[op], item.get("times")))
    return tuple(found)


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected a mapping at the top")
    return data


def _check_ids(items: list[Template], path: Path) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise RulesError(f"{path}: id {item.id!r} is used twice")
        seen.add(item.id)
        try:
            item.fields  # noqa: B018 - parses the template
        except ValueError as exc:
            raise RulesError(f"{path}: {item.id}: bad template: {exc}") from exc


@functools.cache
def load_questions(path: Path = QUESTIONS_FILE) -> QuestionRules:
    """The question rules and the inspection they cite."""
    data = _read(path)
    about = data.get("inspection") or {}
    try:
        inspection = Inspection(str(about["title"]), str(about["publishers"]), str(about["published"]))
    except KeyError as exc:
        raise RulesError(f"{path}: inspection needs title, publishers and published") from exc
    rules = []
    for spec in data.get("rules") or []:
        where = f"{path}: rule {spec.get('id')!r}"
        missing = {"id", "theme", "title", "when", "question", "inspection", "recommendation"} - set(spec)
        if missing:
            raise RulesError(f"{where}: missing {', '.join(sorted(missing))}")
        rules.append(
            Rule(
                id=str(spec["id"]),
                text=str(spec["question"]),
                when=_conditions(spec["when"], where),
                theme=str(spec["theme"]),
                title=str(spec["title"]),
                inspection=" ".join(str(spec["inspection"]).split()),
                recommendation=" ".join(str(spec["recommendation"]).split()),
            )
        )
    _check_ids(rules, path)
    return QuestionRules(inspection, tuple(rules))


@functools.cache
def load_summary(path: Path = SUMMARY_FILE) -> tuple[Template, ...]:
    """The summary's sentence templates, in order."""
    data = _read(path)
    found = []
    for spec in data.get("sentences") or []:
        where = f"{path}: sentence {spec.get('id')!r}"
        if "id" not in spec or "text" not in spec:
            raise RulesError(f"{where}: needs id and text")
        found.append(Template(str(spec["id"]), str(spec["text"]), _conditions(spec.get("when"), where)))
    _check_ids(found, path)
    return tuple(found)


def questions(figures: Mapping[str, Any], rules: QuestionRules | None = None) -> list[Question]:
    """The questions the figures raise, in the rules file's order."""
    rules = rules or load_questions()
    raised = []
    for rule in rules.rules:
        text = rule.fill(figures)
        if text is not None:
            shown = {f: format_figure(f, figures[f]) for f in rule.figures}
            raised.append(Question(rule, text, shown))
    return raised


def sentences(
    figures: Mapping[str, Any], templates: tuple[Template, ...] | None = None
) -> list[tuple[str, str]]:
    """The summary's sentences the figures allow: (id, sentence)."""
    found = []
    for template in templates or load_summary():
        text = template.fill(figures)
        if text is not None:
            found.append((template.id, text))
    return found
