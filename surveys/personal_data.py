"""Surveys' personal data about a contact (``customers.registry``;
docs/customers-privacy.md): the contact's invitations and answers for an access request;
for an erasure the address an invitation went to and every free-text answer (the comment,
text answers to designed questions). Scores and choices stay, so CSAT and NPS statistics
are unchanged."""

from __future__ import annotations

from typing import Any

from customers.registry import PersonalData

from .models import Invitation, SurveyResponse

NAME = "surveys"


def export(contact: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rows = Invitation.objects.filter(contact=contact).select_related("response")
    for invitation in rows.order_by("created_at", "id"):
        response = getattr(invitation, "response", None)
        out.append(
            {
                "about": invitation.subject_kind,
                "number": invitation.subject_number,
                "subject": invitation.subject_title,
                "email": invitation.email,
                "sent_at": invitation.created_at.isoformat(),
                "answer": (
                    {
                        "score": response.score,
                        "comment": response.comment,
                        "answers": response.answers,
                        "answered_at": response.answered_at.isoformat(),
                    }
                    if response is not None
                    else None
                ),
            }
        )
    return out


def _erase_answers(answers: Any, questions: Any, placeholder: str) -> Any:
    """Answers to open-text questions erased; numbers, yes/no and chosen options kept."""
    if not isinstance(answers, dict):
        return answers
    text_ids = {
        str(q.get("id"))
        for q in (questions or [])
        if isinstance(q, dict) and q.get("type") == "text"
    }
    return {
        key: placeholder if str(key) in text_ids and value not in ("", None) else value
        for key, value in answers.items()
    }


def erase(contact: Any, placeholder: str) -> int:
    from customers.services.privacy import personal_values, scrub_text

    values = personal_values(contact)
    invitations = list(Invitation.objects.filter(contact=contact))
    for invitation in invitations:
        invitation.email = ""
        invitation.subject_title = scrub_text(invitation.subject_title, values)
    if invitations:
        Invitation.objects.bulk_update(invitations, ["email", "subject_title"])
    responses = list(
        SurveyResponse.objects.filter(invitation__contact=contact).select_related(
            "invitation__template"
        )
    )
    for response in responses:
        template = response.invitation.template
        response.comment = placeholder if response.comment else ""
        response.answers = _erase_answers(
            response.answers, template.questions if template else [], placeholder
        )
    if responses:
        SurveyResponse.objects.bulk_update(responses, ["comment", "answers"])
    return len(invitations) + len(responses)


def register() -> None:
    from customers import registry

    registry.register_personal_data(PersonalData(NAME, export, erase))
