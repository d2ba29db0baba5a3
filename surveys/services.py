"""Every write of surveys: inviting after a close, recording an answer, reminders.

``invite_after_close`` is generic over what closed (a ticket now, a complaint later): it
takes a ``SurveySubject``. It runs inside the caller's transaction, so the invitation and
its outbox email commit — or roll back — together with the close."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import services as audit_trail
from customers.models import Contact
from outbox.services import queue_email

from . import emails
from .choices import SubjectKind, SurveyVerb
from .models import Invitation, SurveyAssignment, SurveyResponse, SurveyTemplate
from .questions import Answer
from .tokens import hash_token, new_token, well_formed

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    INVITED = "invited"
    SUPPRESSED = "suppressed"  # this subject was surveyed within the suppression window
    FATIGUED = "fatigued"  # this contact was surveyed within the fatigue window
    NO_TEMPLATE = "no_template"  # no active template applies


class LinkNotFound(Exception):
    pass


class LinkExpired(Exception):
    def __init__(self, invitation: Invitation) -> None:
        super().__init__("expired")
        self.invitation = invitation


@dataclass(frozen=True)
class SurveySubject:
    """What closed: the kind, its id and human number, its title, who to ask, and the
    team / agent / category the results are reported under."""

    kind: str
    object_id: int
    number: str
    title: str
    contact_id: int
    team_id: int | None = None
    agent_id: int | None = None
    category_id: int | None = None
    ticket_id: int | None = None


@dataclass(frozen=True)
class InviteResult:
    outcome: Outcome
    invitation: Invitation | None = None


def _days(value: float) -> timedelta:
    return timedelta(days=value)


def template_for(*, category_id: int | None, team_id: int | None) -> SurveyTemplate | None:
    """The category's template, else the team's, else the default one (active ones only)."""
    for field, value in (("category_id", category_id), ("team_id", team_id)):
        if value is None:
            continue
        assignment = (
            SurveyAssignment.objects.select_related("template")
            .filter(**{field: value}, template__is_active=True)
            .first()
        )
        if assignment is not None:
            return assignment.template
    return SurveyTemplate.objects.filter(is_default=True, is_active=True).first()


def invite_after_ticket_closed(*, ticket: Any) -> InviteResult:
    """The close hook of tickets (manual and automatic close)."""
    return invite_after_close(
        subject=SurveySubject(
            kind=SubjectKind.TICKET,
            object_id=ticket.pk,
            number=ticket.number,
            title=ticket.subject,
            contact_id=ticket.contact_id,
            team_id=ticket.team_id,
            agent_id=ticket.assignee_id,
            category_id=ticket.category_id,
            ticket_id=ticket.pk,
        )
    )


def invite_after_close(*, subject: SurveySubject, now: datetime | None = None) -> InviteResult:
    """Creates the invitation and its outbox email, unless the rules say not to ask.

    The contact row is locked (FOR NO KEY UPDATE: new tickets of the contact still insert)
    so two closes for one contact cannot both pass the fatigue check."""
    now = now or timezone.now()
    with transaction.atomic():
        contact = Contact.objects.select_for_update(no_key=True).get(pk=subject.contact_id)
        previous = (
            Invitation.objects.filter(subject_kind=subject.kind, subject_id=subject.object_id)
            .order_by("-round")
            .first()
        )
        if previous is not None and previous.created_at > now - _days(
            settings.KEFU_SURVEY_SUPPRESSION_DAYS
        ):
            return InviteResult(Outcome.SUPPRESSED, previous)
        fatigue = settings.KEFU_SURVEY_FATIGUE_DAYS
        if (
            fatigue > 0
            and Invitation.objects.filter(
                contact=contact, created_at__gt=now - _days(fatigue)
            ).exists()
        ):
            logger.info(
                "No survey for %s %s: contact surveyed recently", subject.kind, subject.number
            )
            return InviteResult(Outcome.FATIGUED)
        template = template_for(category_id=subject.category_id, team_id=subject.team_id)
        if template is None:
            return InviteResult(Outcome.NO_TEMPLATE)
        round_ = previous.round + 1 if previous is not None else 1
        token, token_hash = new_token()
        expires_at = now + _days(settings.KEFU_SURVEY_EXPIRY_DAYS)
        remind_at = None
        reminder_days = settings.KEFU_SURVEY_REMINDER_DAYS
        if template.reminder_enabled and reminder_days > 0:
            remind_at = now + _days(reminder_days)
            if remind_at >= expires_at:
                remind_at = None
        language = contact.language or settings.LANGUAGE_CODE
        rendered = emails.render_invitation(
            token=token,
            language=language,
            scale=template.scale,
            question=template_question(template, language),
            number=subject.number,
            title=subject.title,
            contact_name=contact.name,
            expires_at=expires_at,
        )
        message = queue_email(
            key=f"survey-invitation:{subject.kind}:{subject.object_id}:{round_}",
            kind="survey_invitation",
            to=contact.email,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            discard_body_after_send=True,
        )
        invitation = Invitation.objects.create(
            subject_kind=subject.kind,
            subject_id=subject.object_id,
            round=round_,
            ticket_id=subject.ticket_id,
            subject_number=subject.number,
            subject_title=subject.title[:200],
            contact=contact,
            email=contact.email,
            language=language,
            team_id=subject.team_id,
            agent_id=subject.agent_id,
            template=template,
            scale=template.scale,
            token_hash=token_hash,
            expires_at=expires_at,
            remind_at=remind_at,
            message=message,
        )
        return InviteResult(Outcome.INVITED, invitation)


def template_question(template: SurveyTemplate, language: str) -> str:
    if language == "zh-hans" and template.question_zh_hans:
        return template.question_zh_hans
    return template.question_en


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation:
    """The invitation a link token opens; LinkNotFound for anything unknown or malformed,
    LinkExpired past the expiry."""
    if not well_formed(token):
        raise LinkNotFound
    digest = hash_token(token)
    invitation = (
        Invitation.objects.select_related("template").filter(token_hash=digest).first()
        or Invitation.objects.select_related("template").filter(reminder_token_hash=digest).first()
    )
    if invitation is None:
        raise LinkNotFound
    if invitation.expires_at <= (now or timezone.now()):
        raise LinkExpired(invitation)
    return invitation


def record_response(
    *, invitation_id: int, answer: Answer, now: datetime | None = None
) -> tuple[SurveyResponse, bool]:
    """Saves the customer's answer (or updates the earlier one); returns (response, created).
    An answer cancels the reminder."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("contact")
            .get(pk=invitation_id)
        )
        if invitation.expires_at <= now:
            raise LinkExpired(invitation)
        response = SurveyResponse.objects.filter(invitation=invitation).first()
        created = response is None
        if response is None:
            response = SurveyResponse(invitation=invitation, answered_at=now)
        response.score = answer.score
        response.comment = answer.comment
        response.answers = answer.answers
        response.save()
        # The answer on the customer's 360 timeline (docs/customers-360.md).
        audit_trail.record(
            kind="survey",
            verb=SurveyVerb.ANSWERED if created else SurveyVerb.CHANGED,
            actor=None,
            object_id=response.pk,
            customer_id=invitation.contact.customer_id,
            contact_id=invitation.contact_id,
            after={
                "score": response.score,
                "subject_kind": invitation.subject_kind,
                "subject_id": invitation.subject_id,
                "number": invitation.subject_number,
            },
        )
        if invitation.remind_at is not None and invitation.reminded_at is None:
            invitation.remind_at = None
            invitation.save(update_fields=["remind_at", "updated_at"])
        return response, created


def queue_survey_reminders(*, batch: int = 500, now: datetime | None = None) -> int:
    """One reminder per unanswered, unexpired invitation whose reminder is due and whose
    template still sends reminders; each gets its own link token (the first one keeps
    working). Safe to run in parallel: rows are claimed with SKIP LOCKED."""
    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        due = list(
            Invitation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("template", "contact")
            .filter(
                remind_at__lte=now,
                reminded_at__isnull=True,
                expires_at__gt=now,
                response__isnull=True,
                template__reminder_enabled=True,
            )
            .order_by("remind_at", "id")[:batch]
        )
        for invitation in due:
            token, token_hash = new_token()
            rendered = emails.render_invitation(
                token=token,
                language=invitation.language,
                scale=invitation.scale,
                question=template_question(invitation.template, invitation.language),
                number=invitation.subject_number,
                title=invitation.subject_title,
                contact_name=invitation.contact.name,
                expires_at=invitation.expires_at,
                reminder=True,
            )
            invitation.reminder_message = queue_email(
                key=(
                    f"survey-reminder:{invitation.subject_kind}:{invitation.subject_id}:"
                    f"{invitation.round}"
                ),
                kind="survey_reminder",
                to=invitation.email,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                discard_body_after_send=True,
            )
            invitation.reminder_token_hash = token_hash
            invitation.reminded_at = now
            invitation.save(
                update_fields=[
                    "reminder_message",
                    "reminder_token_hash",
                    "reminded_at",
                    "updated_at",
                ]
            )
            queued += 1
    return queued
