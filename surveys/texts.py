"""Built-in wording of the score questions (translated)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .choices import Scale


def score_question(scale: str) -> str:
    if scale == Scale.CSAT:
        return _("How satisfied are you with how we handled your request?")
    if scale == Scale.NPS:
        return _("How likely are you to recommend us to a friend or colleague?")
    return ""


def score_labels(scale: str) -> dict[int, str]:
    if scale == Scale.CSAT:
        return {
            1: _("Very dissatisfied"),
            2: _("Dissatisfied"),
            3: _("Neutral"),
            4: _("Satisfied"),
            5: _("Very satisfied"),
        }
    if scale == Scale.NPS:
        return {0: _("Not at all likely"), 10: _("Extremely likely")}
    return {}
