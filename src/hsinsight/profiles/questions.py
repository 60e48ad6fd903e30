"""The questions for the commissioner that the figures raise, and the rules that were checked."""

from __future__ import annotations

from hsinsight.profiles.data import Profile
from hsinsight.profiles.figures import is_missing
from hsinsight.profiles.page import _e, _table, _theme
from hsinsight.profiles.rules import load_questions


def _questions_section(p: Profile) -> str:
    rules = load_questions()
    raised_ids = {q.rule.id for q in p.questions}
    items = []
    for q in p.questions:
        figures = "; ".join(f"{k} = {v}" for k, v in q.figures.items() if k not in ("area_name", "period"))
        conditions = "; ".join(c.describe() for c in q.rule.when)
        items.append(
            f'<article class="question" data-rule="{_e(q.rule.id)}" data-theme="{_e(q.rule.theme)}">'
            f"<h3>{_e(q.rule.title)}</h3><p>{_e(q.text)}</p>"
            f'<p class="finding"><strong>What the inspection found:</strong> {_e(q.rule.inspection)}</p>'
            f'<p class="finding"><strong>Inspection recommendations it relates to:</strong> '
            f"{_e(q.rule.recommendation)}</p>"
            f'<p class="raised">Raised by rule <code>{_e(q.rule.id)}</code> because {_e(conditions)} '
            f"(figures: {_e(figures)}).</p></article>"
        )
    not_raised = []
    for rule in rules.rules:
        if rule.id in raised_ids:
            continue
        missing = [name for name in rule.figures if is_missing(p.figures.get(name))]
        failed = [
            c
            for c in rule.when
            if all(not is_missing(p.figures.get(name)) for name in c.required) and not c.holds(p.figures)
        ]
        if failed:
            reason = "does not hold: " + "; ".join(c.describe() for c in failed)
        elif missing:
            reason = f"figure not available: {', '.join(missing)}"
        else:
            reason = "its condition does not hold"
        conditions = "; ".join(c.describe() for c in rule.when)
        not_raised.append(
            f'<tr data-rule-not-raised="{_e(rule.id)}"><td><code>{_e(rule.id)}</code></td>'
            f"<td>{_e(conditions)}</td><td>{_e(reason)}</td></tr>"
        )
    intro = (
        "Each question below is raised by a rule in the profile's rules file when the force's figures meet "
        "its condition, and is tied to what the inspection found and to the area of its recommendations the "
        "question serves. The rules and their thresholds are the project's own, for review; the findings and "
        "recommendations are paraphrased in the project's words, not quoted: read the report for its wording."
    )
    body = "".join(items) or "<p>No rule raises a question for these figures.</p>"
    if not_raised:
        body += "<h3>Rules checked that raised no question</h3>" + _table(
            ["Rule", "Condition", "Why not raised"], not_raised, numeric_from=99, css="rules"
        )
    body += f'<p class="meta">Inspection: {_e(rules.inspection.citation())}.</p>'
    return _theme("questions", "Questions for the commissioner", intro, body, "", page=True)
