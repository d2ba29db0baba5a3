"""Privacy requests (docs/customers-privacy.md): access, correction, erasure; refusals with
nothing changed; the statutory clock; and an erasure that leaves no personal value anywhere
in the database (the tables are scanned, not the API)."""

from __future__ import annotations

import json
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from audit import services as audit_trail
from audit.models import AuditEvent
from complaints.models import Complaint, ComplaintNote
from core.errors import Conflict, Forbidden, InvalidInput
from customers.models import (
    Consent,
    Contact,
    ContactPoint,
    LegalHold,
    PrivacyRequest,
    Suppression,
)
from customers.privacy_links import read_export_token
from customers.services import privacy
from mail.models import InboundEmail
from mail.services import receive_raw
from notifications.models import Notification
from outbox.models import OutboxMessage
from sla import ladder
from sla.models import SlaClock
from surveys.models import Invitation, SurveyResponse
from tests.factories import (
    AgentFactory,
    ContactFactory,
    CustomerFactory,
    SupervisorFactory,
    SurveyTemplateFactory,
    build_desk,
    open_ticket,
)
from tests.factories.complaints import ManagerFactory, build_complaints_desk, open_complaint
from tickets.models import Ticket, TicketMessage
from tickets.services import reply_to_ticket

pytestmark = pytest.mark.django_db

NAME = "Zhuang Qiuyue"
EMAIL = "zhuang.qiuyue.unique@example.com"
PHONE = "+8613912345678"
OTHER_PHONE = "+8613698765432"
SECRET_VALUES = [
    NAME,
    EMAIL,
    "zhuang.qiuyue.unique",
    PHONE,
    "8613912345678",
    "13912345678",
    "13698765432",
    "qiuyue",
]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def state(request: PrivacyRequest) -> tuple[Any, ...]:
    request.refresh_from_db()
    contact = Contact.objects.get(pk=request.contact_id)
    return (
        request.status,
        request.refusal_reason,
        request.completed_at,
        contact.name,
        contact.email,
        contact.phone,
        contact.erased_at,
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


# --- recording and the clock ------------------------------------------------------------
def test_a_request_is_numbered_due_in_the_statutory_days_and_its_clock_runs(
    settings: Any,
) -> None:
    settings.KEFU_PRIVACY_DEADLINE_DAYS = 15
    admin = SupervisorFactory()  # a supervisor may not
    contact: Any = ContactFactory()
    with pytest.raises(Forbidden):
        privacy.record_request(admin, contact, "access")
    assert PrivacyRequest.objects.count() == 0

    manager: Any = ManagerFactory()
    received = timezone.now() - timedelta(days=1)
    first = privacy.record_request(manager, contact, "access", {}, received)
    second = privacy.record_request(manager, contact, "erasure")

    year = received.year
    assert first.number == f"P-{year}-000001"
    assert second.number.endswith("000002")
    assert first.due_at == received + timedelta(days=15)
    clock = SlaClock.objects.get(kind="privacy", object_id=first.pk)
    assert clock.due == first.due_at
    assert clock.started_at == received
    event = AuditEvent.objects.get(subject_kind="privacy", verb="received", object_id=first.pk)
    assert event.contact_id == contact.pk and event.actor_id == manager.pk


def test_the_ladder_warns_the_handler_then_tells_administrators_and_managers() -> None:
    manager: Any = ManagerFactory()
    other_manager: Any = ManagerFactory()
    contact: Any = ContactFactory()
    long_ago = timezone.now() - timedelta(days=13)  # past 80 % of 15 days
    request = privacy.record_request(manager, contact, "access", {}, long_ago)
    privacy.start_request(manager, request)

    ladder.fire_batch(now=timezone.now())

    warning = AuditEvent.objects.get(subject_kind="privacy", verb="sla_warning")
    assert warning.object_id == request.pk and warning.contact_id == contact.pk
    assert list(
        Notification.objects.filter(kind="sla_warning").values_list("recipient_id", flat=True)
    ) == [manager.pk]

    ladder.fire_batch(now=timezone.now() + timedelta(days=3))

    assert AuditEvent.objects.filter(subject_kind="privacy", verb="sla_breached").count() == 1
    told = set(
        Notification.objects.filter(kind="sla_breached").values_list("recipient_id", flat=True)
    )
    assert told == {manager.pk, other_manager.pk}
    clock = SlaClock.objects.get(kind="privacy", object_id=request.pk)
    assert clock.breached


def test_a_correction_with_a_bad_value_is_refused_when_recorded() -> None:
    manager: Any = ManagerFactory()
    contact: Any = ContactFactory()
    with pytest.raises(InvalidInput) as raised:
        privacy.record_request(manager, contact, "correction", {"phone": "not a number"})
    assert "phone" in raised.value.errors
    with pytest.raises(InvalidInput):
        privacy.record_request(manager, contact, "correction", {"customer": 3})
    assert PrivacyRequest.objects.count() == 0


# --- correction -------------------------------------------------------------------------
def test_a_correction_is_applied_validated_and_audited() -> None:
    manager: Any = ManagerFactory()
    contact: Any = ContactFactory(name="Old Name", phone="")
    request = privacy.record_request(
        manager,
        contact,
        "correction",
        {"name": "  New Name ", "phone": "139 1234 5678", "email": "New@Example.com"},
    )
    privacy.start_request(manager, request)
    privacy.complete_request(manager, request)

    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.email) == (
        "New Name",
        PHONE,
        "new@example.com",
    )
    request.refresh_from_db()
    assert request.status == "done" and request.completed_at is not None
    event = AuditEvent.objects.get(subject_kind="contact", verb="corrected")
    assert event.before["name"] == "Old Name" and event.after["name"] == "New Name"
    clock = SlaClock.objects.get(kind="privacy", object_id=request.pk)
    assert clock.stopped_at is not None and clock.targets["answer"]["met_at"]


def test_a_correction_that_became_invalid_changes_nothing() -> None:
    manager: Any = ManagerFactory()
    customer: Any = CustomerFactory()
    contact: Any = ContactFactory(customer=customer)
    request = privacy.record_request(manager, contact, "correction", {"email": "x@example.com"})
    ContactFactory(customer=customer, email="x@example.com")  # taken meanwhile
    before = state(request)

    with pytest.raises(InvalidInput):
        privacy.complete_request(manager, request)

    assert state(request) == before


def test_steps_in_the_wrong_state_are_conflicts_and_change_nothing() -> None:
    manager: Any = ManagerFactory()
    contact: Any = ContactFactory()
    request = privacy.record_request(manager, contact, "access")
    privacy.refuse_request(manager, request, "Identity not verified")
    request.refresh_from_db()
    assert request.refusal_reason == "Identity not verified"
    before = state(request)

    for step in (privacy.start_request, privacy.complete_request):
        with pytest.raises(Conflict):
            step(manager, request)
    with pytest.raises(Conflict):
        privacy.refuse_request(manager, request, "again")

    assert state(request) == before


def test_an_agent_may_not_handle_requests_and_nothing_changes() -> None:
    manager: Any = ManagerFactory()
    agent: Any = AgentFactory()
    contact: Any = ContactFactory()
    request = privacy.record_request(manager, contact, "erasure")
    before = state(request)
    for step in (privacy.start_request, privacy.complete_request):
        with pytest.raises(Forbidden):
            step(agent, request)
    with pytest.raises(Forbidden):
        privacy.refuse_request(agent, request, "no")
    assert state(request) == before


# --- the seeded contact -----------------------------------------------------------------
def inbound_email(subject: str, body: str, message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{NAME} <{EMAIL}>"
    msg["To"] = "support@kefu.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg.as_bytes()


def seed() -> dict[str, Any]:
    """A contact with every kind of personal data Kefu holds."""
    desk = build_desk()
    cdesk = build_complaints_desk()
    customer: Any = CustomerFactory(kind="individual", name=NAME)
    contact: Any = ContactFactory(
        customer=customer,
        name=NAME,
        email=EMAIL,
        phone=PHONE,
        title="Chief Qiuyue Officer",
        external_id="CRM-ZQY-77",
        birthday=timezone.now().date().replace(year=1990),
    )
    ContactPoint.objects.create(contact=contact, kind="phone", value=OTHER_PHONE)
    Consent.objects.create(
        contact=contact, purpose="marketing_email", granted=True, source="form", at=timezone.now()
    )
    Suppression.objects.create(kind="email", address=EMAIL, reason="unsubscribed", note=NAME)
    audit_trail.record(
        kind="contact",
        verb="changed",
        actor=desk.admin,
        customer_id=customer.pk,
        contact_id=contact.pk,
        before={"name": "Z. Qiuyue", "phone": "13912345678"},
        after={"name": NAME, "email": EMAIL, "phone": PHONE},
    )
    # a ticket by email, a reply by email, an agent's answer, an API ticket
    row = receive_raw(
        inbound_email(
            "Router keeps dropping", f"Hello, this is {NAME}, call 13912345678.", "<a1@x>"
        ),
        source="lmtp",
    )
    assert row.object_id is not None
    ticket = Ticket.objects.get(pk=row.object_id)
    assert ticket.contact_id == contact.pk
    reply_to_ticket(
        ticket_id=ticket.pk,
        actor=desk.admin,
        body=f"Dear {NAME}, we will call you at {PHONE}.",
        internal=False,
    )
    receive_raw(
        inbound_email(f"Re: [{ticket.number}] Router keeps dropping", f"Thanks! {NAME}", "<a2@x>"),
        source="lmtp",
    )
    second = open_ticket(
        desk, contact_id=contact.pk, description=f"My email is {EMAIL}", subject="Invoice copy"
    )
    # a closed complaint with a note from the contact's email
    complaint = open_complaint(
        cdesk,
        customer_id=customer.pk,
        contact_id=contact.pk,
        description=f"I am {NAME} and was charged twice.",
        desired_outcome=f"Refund to {NAME}",
    )
    ComplaintNote.objects.create(
        complaint=complaint, kind="contact", channel="email", body=f"From {EMAIL}: any news?"
    )
    Complaint.objects.filter(pk=complaint.pk).update(status="closed", response_due_at=None)
    # a survey answer with a comment and a text answer
    template: Any = SurveyTemplateFactory(
        questions=[
            {"id": "why", "type": "text", "required": False, "text": {"en": "Why?"}},
            {
                "id": "fast",
                "type": "single",
                "required": False,
                "text": {"en": "Fast?"},
                "options": [{"value": "yes", "text": {"en": "Yes"}}],
            },
        ]
    )
    invitation = Invitation.objects.create(
        subject_kind="ticket",
        subject_id=ticket.pk,
        ticket=ticket,
        subject_number=ticket.number,
        subject_title=ticket.subject,
        contact=contact,
        email=EMAIL,
        language="en",
        template=template,
        scale="csat",
        token_hash="a" * 64,
        expires_at=timezone.now() + timedelta(days=7),
    )
    SurveyResponse.objects.create(
        invitation=invitation,
        score=2,
        comment=f"{NAME} was not helped",
        answers={"why": f"ask {NAME}", "fast": "yes"},
        answered_at=timezone.now(),
    )
    return {
        "desk": desk,
        "cdesk": cdesk,
        "contact": contact,
        "customer": customer,
        "tickets": [ticket, second],
        "complaint": complaint,
        "invitation": invitation,
    }


def hits(values: list[str]) -> list[tuple[str, str, str]]:
    """Every text, varchar, json and jsonb column of every table holding one of ``values``."""
    found: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'character') "
            "AND table_name IN (SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')"
        )
        columns = cursor.fetchall()
        for table, column in columns:
            for value in values:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                    [f"%{value}%"],
                )
                row = cursor.fetchone()
                if row and row[0]:
                    found.append((table, column, value))
    return found


def counts() -> tuple[int, ...]:
    return (
        Ticket.objects.count(),
        TicketMessage.objects.count(),
        Complaint.objects.count(),
        ComplaintNote.objects.count(),
        Invitation.objects.count(),
        SurveyResponse.objects.count(),
        InboundEmail.objects.count(),
        OutboxMessage.objects.count() + 0,
    )


# --- access -----------------------------------------------------------------------------
def test_the_access_export_holds_everything_and_its_link_expires(settings: Any) -> None:
    data = seed()
    contact = data["contact"]
    manager: Any = ManagerFactory()
    request = privacy.record_request(manager, contact, "access")
    privacy.start_request(manager, request)

    privacy.complete_request(manager, request)

    request.refresh_from_db()
    assert request.status == "done" and request.export
    with request.export.open("rb") as f:
        export = json.loads(f.read())
    assert export["contact"]["email"] == EMAIL
    assert export["customer"]["name"] == NAME
    assert [p["value"] for p in export["points"]] == [OTHER_PHONE]
    assert export["consents"][0]["purpose"] == "marketing_email"
    assert any(e["verb"] == "changed" for e in export["audit"])
    numbers = {t["number"] for t in export["tickets"]}
    assert numbers == {t.number for t in data["tickets"]}
    bodies = [m["body"] for t in export["tickets"] for m in t["messages"]]
    assert any("Thanks!" in b for b in bodies)
    assert export["complaints"][0]["number"] == data["complaint"].number
    assert export["complaints"][0]["messages"][0]["body"].endswith("any news?")
    assert export["surveys"][0]["answer"]["comment"] == f"{NAME} was not helped"
    assert export["surveys"][0]["answer"]["score"] == 2
    assert {e["subject"] for e in export["email"]} >= {"Router keeps dropping"}
    assert AuditEvent.objects.filter(
        subject_kind="contact", verb="personal_data_exported", contact=contact
    ).exists()
    # the email: to the contact, in their language, with the signed link
    email = OutboxMessage.objects.get(kind="privacy.export_ready")
    assert email.to == EMAIL
    assert request.number in email.subject
    token = email.body_text.split("/privacy/export/")[1].split("/")[0]
    assert read_export_token(token).request_id == request.pk

    settings.KEFU_PRIVACY_LINK_DAYS = 0
    from customers.privacy_links import LinkExpired

    with pytest.raises(LinkExpired):
        read_export_token(token)


def test_an_access_export_email_is_in_the_contacts_language() -> None:
    manager: Any = ManagerFactory()
    contact: Any = ContactFactory(language="zh-hans", name="庄秋月")
    request = privacy.record_request(manager, contact, "access")
    privacy.complete_request(manager, request)
    email = OutboxMessage.objects.get(kind="privacy.export_ready")
    assert "个人信息" in email.subject and "下载" not in email.body_text[:0]
    assert "链接" in email.body_text


# --- erasure ----------------------------------------------------------------------------
def test_erasure_leaves_no_personal_value_anywhere_in_the_database() -> None:
    data = seed()
    contact = data["contact"]
    manager: Any = ManagerFactory()
    assert hits(SECRET_VALUES)  # the scan sees them before
    before = counts()
    scores = list(SurveyResponse.objects.values_list("score", flat=True))
    request = privacy.record_request(manager, contact, "erasure")
    privacy.start_request(manager, request)

    privacy.complete_request(manager, request)

    request.refresh_from_db()
    assert request.status == "done", request.refusal_reason
    assert hits(SECRET_VALUES) == []
    assert counts() == before
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == scores
    assert SurveyResponse.objects.get().answers["fast"] == "yes"
    contact.refresh_from_db()
    assert contact.erased_at is not None
    assert (contact.name, contact.email, contact.phone, contact.custom) == ("", "", "", {})
    assert not ContactPoint.objects.filter(contact=contact).exists()
    # the suppression still holds, under the address's hash
    assert Suppression.objects.filter(address=privacy.suppression_hash(EMAIL)).exists()
    # raw files and the export are gone from storage
    for row in InboundEmail.objects.all():
        assert not row.raw
    assert AuditEvent.objects.filter(subject_kind="contact", verb="erased").exists()


def test_a_legal_hold_refuses_the_erasure_with_its_reason_and_changes_nothing() -> None:
    manager: Any = ManagerFactory()
    customer: Any = CustomerFactory()
    contact: Any = ContactFactory(customer=customer, name=NAME, email=EMAIL, phone=PHONE)
    LegalHold.objects.create(customer=customer, reason="Litigation 2026-17")
    LegalHold.objects.create(
        contact=contact, reason="Released", released_at=timezone.now()
    )  # a released one does not count
    request = privacy.record_request(manager, contact, "erasure")

    privacy.complete_request(manager, request)

    request.refresh_from_db()
    contact.refresh_from_db()
    assert request.status == "refused"
    assert "Litigation 2026-17" in request.refusal_reason
    assert (contact.name, contact.email, contact.phone, contact.erased_at) == (
        NAME,
        EMAIL,
        PHONE,
        None,
    )
    assert AuditEvent.objects.filter(subject_kind="privacy", verb="refused").exists()
    assert not AuditEvent.objects.filter(subject_kind="contact", verb="erased").exists()


def test_an_open_complaint_holds_the_erasure() -> None:
    cdesk = build_complaints_desk()
    manager: Any = ManagerFactory(username="m2")
    complaint = open_complaint(cdesk)
    request = privacy.record_request(manager, cdesk.contact, "erasure")

    privacy.complete_request(manager, request)

    request.refresh_from_db()
    assert request.status == "refused"
    assert complaint.number in request.refusal_reason
    cdesk.contact.refresh_from_db()
    assert cdesk.contact.erased_at is None and cdesk.contact.email == "wang.fang@example.com"


def test_the_download_page_serves_a_valid_link_and_refuses_the_rest(settings: Any) -> None:
    from django.test import Client

    manager: Any = ManagerFactory()
    contact: Any = ContactFactory(name="Lu Xun")
    request = privacy.record_request(manager, contact, "access")
    privacy.complete_request(manager, request)
    email = OutboxMessage.objects.get(kind="privacy.export_ready")
    path = "/privacy/export/" + email.body_text.split("/privacy/export/")[1].split("/")[0] + "/"
    client = Client()

    page = client.get(path)
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    download = client.get(path + "file/")
    assert download.status_code == 200
    content: Any = download
    assert json.loads(b"".join(content.streaming_content))["contact"]["name"] == "Lu Xun"
    assert AuditEvent.objects.filter(
        subject_kind="privacy", verb="export_downloaded", object_id=request.pk
    ).exists()

    downloads = AuditEvent.objects.filter(verb="export_downloaded").count()
    assert client.get(path[:-4] + "xx/").status_code == 404
    assert client.get(path[:-4] + "xx/file/").status_code == 404
    settings.KEFU_PRIVACY_LINK_DAYS = 0
    assert client.get(path).status_code == 410
    assert client.get(path + "file/").status_code == 410
    assert AuditEvent.objects.filter(verb="export_downloaded").count() == downloads

    settings.KEFU_PRIVACY_LINK_DAYS = 7
    settings.KEFU_HELP_THROTTLE = "1/hour"
    assert client.get(path).status_code == 429


def test_the_screens_record_and_carry_out_a_correction_and_refuse_other_roles() -> None:
    from django.test import Client

    manager: Any = ManagerFactory()
    agent: Any = AgentFactory()
    contact: Any = ContactFactory(name="Gu Yan", email="gu.yan@example.com")
    outsider = Client()
    outsider.force_login(agent)
    assert outsider.get("/privacy/").status_code == 403
    assert outsider.get("/privacy/new/").status_code == 403
    client = Client()
    client.force_login(manager)

    found = client.get("/privacy/new/", {"q": "gu.yan", "contact": contact.pk})
    assert found.status_code == 200
    assert f'data-contact="{contact.pk}"' in found.content.decode()
    bad = client.post(
        "/privacy/new/", {"contact": contact.pk, "kind": "correction", "fix_phone": "abc"}
    )
    assert bad.status_code == 400 and PrivacyRequest.objects.count() == 0
    made = client.post(
        "/privacy/new/", {"contact": contact.pk, "kind": "correction", "fix_name": "Gu Yanyan"}
    )
    request = PrivacyRequest.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/privacy/{request.pk}/"
    listed = client.get("/privacy/").content.decode()
    assert request.number in listed and 'class="countdown"' in listed
    assert outsider.get(f"/privacy/{request.pk}/").status_code == 403
    assert outsider.post(f"/privacy/{request.pk}/", {"action": "complete"}).status_code == 403

    assert client.post(f"/privacy/{request.pk}/", {"action": "start"}).status_code == 302
    assert client.post(f"/privacy/{request.pk}/", {"action": "complete"}).status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Gu Yanyan"
    again = client.post(f"/privacy/{request.pk}/", {"action": "refuse", "reason": "late"})
    assert again.status_code == 409
    request.refresh_from_db()
    assert request.status == "done" and request.refusal_reason == ""
