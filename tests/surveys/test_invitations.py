"""Invitations on close: one per ticket, suppression, fatigue, template choice, tokens,
the email in the contact's language, reminders."""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from outbox.models import OutboxMessage
from surveys import services
from surveys.models import Invitation, SurveyAssignment, SurveyResponse
from surveys.questions import Answer
from tests.factories import CategoryFactory, ContactFactory, SurveyTemplateFactory, open_ticket
from tickets import services as tickets


def close(desk: Any, **overrides: Any) -> Any:
    ticket = open_ticket(desk, **overrides)
    tickets.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
    ticket.refresh_from_db()
    return ticket


def test_closing_a_ticket_creates_one_invitation_and_its_outbox_email(desk: Any) -> None:
    ticket = close(desk)

    invitation = Invitation.objects.get(ticket=ticket)
    assert invitation.subject_kind == "ticket"
    assert invitation.subject_number == ticket.number
    assert invitation.subject_title == ticket.subject
    assert invitation.team_id == ticket.team_id
    assert invitation.agent_id == ticket.assignee_id
    assert invitation.email == "li.lei@example.com"
    assert invitation.scale == "csat"
    assert invitation.round == 1
    message = invitation.message
    assert message is not None
    assert message.key == f"survey-invitation:ticket:{ticket.pk}:1"
    assert message.status == "pending"
    assert message.to == "li.lei@example.com"
    assert message.message_id.startswith("<") and message.message_id.endswith("@kefu.localhost>")
    assert f"How did we do with {ticket.number}?" == message.subject
    for score in range(1, 6):
        assert "/s/" in message.body_text and f"?score={score}" in message.body_text
    assert message.body_html.count("?score=") == 5
    assert abs(invitation.expires_at - invitation.created_at - timedelta(days=14)) < timedelta(
        seconds=1
    )


def test_close_reopen_close_within_the_suppression_window_invites_once(desk: Any) -> None:
    ticket = close(desk)
    tickets.reopen_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
    tickets.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)

    assert Invitation.objects.filter(ticket=ticket).count() == 1
    assert OutboxMessage.objects.filter(kind="survey_invitation").count() == 1


def test_a_close_after_the_suppression_window_starts_a_second_round(
    desk: Any, settings: Any
) -> None:
    settings.KEFU_SURVEY_FATIGUE_DAYS = 0
    ticket = close(desk)
    Invitation.objects.filter(ticket=ticket).update(created_at=timezone.now() - timedelta(days=31))
    tickets.reopen_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
    tickets.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)

    assert list(Invitation.objects.filter(ticket=ticket).values_list("round", flat=True)) == [
        2,
        1,
    ]


def test_a_contact_surveyed_recently_is_not_asked_again(desk: Any) -> None:
    close(desk, subject="First")
    second = close(desk, subject="Second")

    assert not Invitation.objects.filter(ticket=second).exists()
    assert Invitation.objects.filter(contact=desk.contact).count() == 1
    # another contact is asked
    other: Any = ContactFactory(email="han.meimei@example.com")
    third = close(desk, subject="Third", contact_id=other.pk)
    assert Invitation.objects.filter(ticket=third).count() == 1


def test_the_fatigue_window_passes(desk: Any, settings: Any) -> None:
    settings.KEFU_SURVEY_FATIGUE_DAYS = 30
    close(desk, subject="First")
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=30, minutes=1))
    second = close(desk, subject="Second")
    assert Invitation.objects.filter(ticket=second).count() == 1


def test_only_the_hash_of_the_token_is_stored(desk: Any) -> None:
    ticket = close(desk)
    invitation = Invitation.objects.get(ticket=ticket)
    message = invitation.message
    assert message is not None
    token = message.body_text.split("/s/")[1].split("/")[0]

    assert len(token) == 43  # 256 bits, URL-safe base64
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in repr(row)
    assert services.invitation_for_token(token).pk == invitation.pk


def test_tampered_and_unknown_tokens_are_not_found(desk: Any) -> None:
    ticket = close(desk)
    message = Invitation.objects.get(ticket=ticket).message
    assert message is not None
    token = message.body_text.split("/s/")[1].split("/")[0]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    for bad in (tampered, token[:-1], token + "x", "", "../../etc", token.upper()):
        with pytest.raises(services.LinkNotFound):
            services.invitation_for_token(bad)


def test_category_template_wins_over_team_template_over_default(desk: Any) -> None:
    nps: Any = SurveyTemplateFactory(name="NPS", scale="nps")
    team_template: Any = SurveyTemplateFactory(name="Support survey", scale="csat")
    SurveyAssignment.objects.create(template=team_template, team=desk.team)
    category: Any = CategoryFactory(code="billing")
    SurveyAssignment.objects.create(template=nps, category=category)

    by_category = services.template_for(category_id=category.pk, team_id=desk.team.pk)
    by_team = services.template_for(category_id=None, team_id=desk.team.pk)
    default: Any = services.template_for(category_id=None, team_id=desk.other_team.pk)

    assert (by_category, by_team, default.name) == (nps, team_template, "CSAT")


def test_the_email_speaks_the_contacts_language(desk: Any) -> None:
    desk.contact.language = "zh-hans"
    desk.contact.save(update_fields=["language"])
    ticket = close(desk)

    message = Invitation.objects.get(ticket=ticket).message
    assert message is not None
    assert message.subject == f"我们对 {ticket.number} 的处理如何？"
    assert "您对我们处理您请求的方式满意吗？" in message.body_text
    assert 'lang="zh-hans"' in message.body_html


def test_no_active_template_means_no_survey(desk: Any, csat: Any) -> None:
    csat.is_active = False
    csat.save()
    ticket = close(desk)
    assert not Invitation.objects.filter(ticket=ticket).exists()
    assert not OutboxMessage.objects.filter(kind__startswith="survey").exists()


def test_a_rolled_back_close_leaves_no_invitation_and_no_email(desk: Any) -> None:
    from django.db import transaction

    ticket = open_ticket(desk)
    with pytest.raises(RuntimeError), transaction.atomic():
        tickets.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
        raise RuntimeError("the close fails after the hook")
    assert not Invitation.objects.exists()
    # the acknowledgement of the intake stays; nothing of the close does
    assert list(OutboxMessage.objects.values_list("kind", flat=True)) == ["ticket.acknowledged"]


def test_complaints_can_use_the_same_service(desk: Any) -> None:
    result = services.invite_after_close(
        subject=services.SurveySubject(
            kind="complaint",
            object_id=7,
            number="C-2026-000007",
            title="Rude driver",
            contact_id=desk.contact.pk,
            team_id=desk.team.pk,
        )
    )
    assert result.outcome == "invited"
    assert result.invitation is not None
    assert result.invitation.ticket_id is None
    assert result.invitation.subject_number == "C-2026-000007"


# --- reminders ----------------------------------------------------------------------
def _due(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(
        remind_at=timezone.now() - timedelta(minutes=1)
    )


def test_one_reminder_after_n_days_with_its_own_working_link(desk: Any) -> None:
    ticket = close(desk)
    invitation = Invitation.objects.get(ticket=ticket)
    assert invitation.remind_at is not None
    assert abs(invitation.remind_at - invitation.created_at - timedelta(days=3)) < timedelta(
        seconds=1
    )
    assert services.queue_survey_reminders() == 0  # not due yet
    _due(invitation)

    assert services.queue_survey_reminders() == 1
    assert services.queue_survey_reminders() == 0  # only one

    invitation.refresh_from_db()
    reminder = invitation.reminder_message
    assert reminder is not None
    assert reminder.subject.startswith("Reminder: ")
    assert reminder.key == f"survey-reminder:ticket:{ticket.pk}:1"
    token = reminder.body_text.split("/s/")[1].split("/")[0]
    assert services.invitation_for_token(token).pk == invitation.pk
    first = invitation.message
    assert first is not None
    first_token = first.body_text.split("/s/")[1].split("/")[0]
    assert services.invitation_for_token(first_token).pk == invitation.pk


def test_no_reminder_after_an_answer(desk: Any) -> None:
    ticket = close(desk)
    invitation = Invitation.objects.get(ticket=ticket)
    _due(invitation)
    services.record_response(invitation_id=invitation.pk, answer=Answer(5, "", {}))

    assert services.queue_survey_reminders() == 0
    invitation.refresh_from_db()
    assert invitation.reminded_at is None
    assert OutboxMessage.objects.filter(kind="survey_reminder").count() == 0


def test_reminders_are_off_per_template(desk: Any, csat: Any) -> None:
    csat.reminder_enabled = False
    csat.save()
    ticket = close(desk)
    invitation = Invitation.objects.get(ticket=ticket)
    assert invitation.remind_at is None
    # switched off after the invitation went out: still no reminder
    csat.reminder_enabled = True
    csat.save()
    other: Any = ContactFactory(email="other@example.com")
    later = close(desk, contact_id=other.pk)
    second = Invitation.objects.get(ticket=later)
    csat.reminder_enabled = False
    csat.save()
    _due(second)
    assert services.queue_survey_reminders() == 0


def test_no_reminder_for_an_expired_invitation(desk: Any) -> None:
    ticket = close(desk)
    invitation = Invitation.objects.get(ticket=ticket)
    _due(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    assert services.queue_survey_reminders() == 0


def test_a_second_answer_updates_the_same_response(desk: Any) -> None:
    ticket = close(desk)
    invitation = Invitation.objects.get(ticket=ticket)
    first, created = services.record_response(
        invitation_id=invitation.pk, answer=Answer(2, "slow", {})
    )
    second, created_again = services.record_response(
        invitation_id=invitation.pk, answer=Answer(4, "fine after all", {})
    )
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    response = SurveyResponse.objects.get()
    assert (response.score, response.comment) == (4, "fine after all")
    assert response.answered_at == first.answered_at
    assert response.updated_at > response.answered_at
