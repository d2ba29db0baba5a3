"""The invitation and reminder emails, rendered in the contact's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from .questions import score_bounds
from .texts import score_labels, score_question


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def survey_url(token: str, score: int | None = None) -> str:
    base = f"{settings.KEFU_SURVEY_PUBLIC_URL}/s/{token}/"
    return base if score is None else f"{base}?score={score}"


def render_invitation(
    *,
    token: str,
    language: str,
    scale: str,
    question: str,
    number: str,
    title: str,
    contact_name: str,
    expires_at: datetime,
    reminder: bool = False,
) -> RenderedEmail:
    with translation.override(language):
        bounds = score_bounds(scale)
        labels = score_labels(scale)
        scores = (
            [
                {"value": n, "url": survey_url(token, n), "label": labels.get(n, "")}
                for n in range(bounds[0], bounds[1] + 1)
            ]
            if bounds
            else []
        )
        context = {
            "number": number,
            "title": title,
            "name": contact_name,
            "question": question or score_question(scale),
            "scores": scores,
            "form_url": survey_url(token),
            "expires_at": expires_at,
            "reminder": reminder,
            "language": language,
        }
        if reminder:
            subject = _("Reminder: how did we do with %(number)s?") % {"number": number}
        else:
            subject = _("How did we do with %(number)s?") % {"number": number}
        return RenderedEmail(
            subject=subject,
            text=render_to_string("surveys/email/invitation.txt", context),
            html=render_to_string("surveys/email/invitation.html", context),
        )
