"""Designed questions: their shape, their texts in the reader's language, and the checks
an answer must pass. Pure functions: no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from .choices import SCORE_RANGE, QuestionType, Scale

LANGUAGES = ("en", "zh-hans")
MAX_TEXT = 2000
MAX_COMMENT = 4000


class QuestionError(ValueError):
    """A template's questions are malformed."""


@dataclass(frozen=True)
class Option:
    value: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    required: bool
    options: tuple[Option, ...]


def _texts(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in LANGUAGES):
        raise QuestionError(f"{where}: needs texts for {', '.join(LANGUAGES)}")
    return value


def validate_questions(questions: Any) -> None:
    if not isinstance(questions, list):
        raise QuestionError("questions must be a list")
    seen: set[str] = set()
    for n, q in enumerate(questions):
        where = f"question {n + 1}"
        if not isinstance(q, dict):
            raise QuestionError(f"{where}: must be an object")
        qid = q.get("id")
        if not isinstance(qid, str) or not qid.isidentifier() or qid in seen | {"score"}:
            raise QuestionError(f"{where}: id must be a unique identifier other than 'score'")
        seen.add(qid)
        if q.get("type") not in QuestionType.values:
            raise QuestionError(f"{where}: type must be one of {', '.join(QuestionType.values)}")
        _texts(q.get("text"), where)
        if q["type"] == QuestionType.TEXT:
            continue
        options = q.get("options")
        if not isinstance(options, list) or len(options) < 2:
            raise QuestionError(f"{where}: a choice needs at least two options")
        values = [o.get("value") if isinstance(o, dict) else None for o in options]
        if not all(isinstance(v, str) and v for v in values) or len(set(values)) != len(values):
            raise QuestionError(f"{where}: option values must be distinct non-empty strings")
        for o in options:
            _texts(o.get("text"), where)


def localized(questions: list[dict[str, Any]], language: str) -> list[Question]:
    lang = language if language in LANGUAGES else "en"
    return [
        Question(
            id=q["id"],
            type=q["type"],
            text=q["text"].get(lang) or q["text"]["en"],
            required=bool(q.get("required", False)),
            options=tuple(
                Option(o["value"], o["text"].get(lang) or o["text"]["en"])
                for o in q.get("options", [])
            ),
        )
        for q in questions
    ]


def score_bounds(scale: str) -> tuple[int, int] | None:
    return SCORE_RANGE.get(Scale(scale)) if scale in Scale.values else None


def parse_score(scale: str, raw: Any) -> int | None:
    """A score from a query string or a form: an int within the scale, else None."""
    bounds = score_bounds(scale)
    if bounds is None or raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        return None
    return value if bounds[0] <= value <= bounds[1] else None


@dataclass
class Answer:
    score: int | None
    comment: str
    answers: dict[str, Any]


def clean_answer(
    *, scale: str, questions: list[Question], data: dict[str, list[str]]
) -> tuple[Answer, dict[str, list[str]]]:
    """Checks a submitted form (``data``: field -> values, like a QueryDict's lists).
    Returns the answer and the errors by field; nothing is saved here."""
    errors: dict[str, list[str]] = {}
    score: int | None = None
    bounds = score_bounds(scale)
    if bounds is not None:
        raw = (data.get("score") or [""])[-1]
        score = parse_score(scale, raw)
        if raw == "":
            errors["score"] = [_("Please choose a score.")]
        elif score is None:
            errors["score"] = [
                _("Choose a score from %(low)s to %(high)s.")
                % {"low": bounds[0], "high": bounds[1]}
            ]
    comment = (data.get("comment") or [""])[-1].strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [_("At most %(count)s characters.") % {"count": MAX_COMMENT}]
    answers: dict[str, Any] = {}
    for q in questions:
        values = [v for v in data.get(q.id, []) if v != ""]
        allowed = {o.value for o in q.options}
        if q.type == QuestionType.TEXT:
            text = (values[-1] if values else "").strip()
            if len(text) > MAX_TEXT:
                errors[q.id] = [_("At most %(count)s characters.") % {"count": MAX_TEXT}]
            elif text:
                answers[q.id] = text
        elif q.type == QuestionType.SINGLE:
            if len(values) > 1 or (values and values[0] not in allowed):
                errors[q.id] = [_("Choose one of the options.")]
            elif values:
                answers[q.id] = values[0]
        else:
            if any(v not in allowed for v in values):
                errors[q.id] = [_("Choose among the options.")]
            elif values:
                answers[q.id] = sorted(set(values), key=[o.value for o in q.options].index)
        if q.required and q.id not in answers and q.id not in errors:
            errors[q.id] = [_("This question needs an answer.")]
    return Answer(score, comment, answers), errors
