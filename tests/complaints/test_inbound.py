# ruff: noqa: RUF001 - Chinese mail has full-width punctuation
"""Complaints opened by email (complaints/inbound.py) through the mail app's one entry,
``mail.services.receive_raw``, with real MIME messages in English and Chinese: a new email
opens a complaint, a later one of the same conversation becomes a logged contact, automatic
mail is never answered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEvent
from complaints import services
from complaints.models import Complaint, ComplaintNote
from mail.models import Attachment, InboundStatus, Mailbox
from mail.services import receive_raw
from outbox.models import OutboxMessage
from processes import dispatcher
from processes.models import WorkItem
from tests.factories import ContactFactory, CustomerFactory
from tests.factories.complaints import ComplaintsDesk, build_complaints_desk
from tests.mail.messages import customer_email

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ADDRESS = "complaints@kefu.example"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Raw messages and attachments go to a folder of this test's own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    settings.KEFU_SUPPORT_ADDRESS = "support@kefu.example"
    settings.LANGUAGE_CODE = "en"
    return root


@pytest.fixture
def cdesk(db: Any) -> ComplaintsDesk:
    return build_complaints_desk()


@pytest.fixture
def mailbox(db: Any) -> Mailbox:
    return Mailbox.objects.create(
        name="Complaints",
        address=ADDRESS,
        host="imap.kefu.example",
        username="complaints",
        password="x",
        opens="complaint",
    )


def receive(mailbox: Mailbox, **fields: Any) -> Any:
    row = receive_raw(customer_email(to=ADDRESS, **fields), source="imap", mailbox=mailbox)
    assert row.status == InboundStatus.PROCESSED, (row.reason, row.error)
    assert row.subject_kind == "complaint"
    return row


def verbs(complaint: Complaint) -> list[str]:
    return list(
        AuditEvent.objects.filter(complaint=complaint).order_by("id").values_list("verb", flat=True)
    )


def test_a_new_email_opens_a_complaint_with_the_documented_defaults(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    row = receive(
        mailbox,
        sender="Alice Brown <alice@example.com>",
        subject="Re: You charged me twice",
        body="Hello,\n\nmy card was charged twice for order 8812.\n\nAlice",
        message_id="<first-1@example.com>",
    )

    complaint: Any = Complaint.objects.select_related("contact").get()
    assert row.object_id == complaint.pk
    assert (complaint.channel, complaint.category.code, complaint.subcategory_id) == (
        "email",
        "service",
        None,
    )
    assert (complaint.impact, complaint.urgency, complaint.severity) == ("medium", "medium", "S3")
    assert complaint.profile.code == "standard"  # the default profile
    assert complaint.title == "You charged me twice"
    assert "charged twice for order 8812" in complaint.description
    assert (complaint.contact.email, complaint.contact.name) == ("alice@example.com", "Alice Brown")
    assert complaint.contact.language == "en"
    assert complaint.customer_id is None  # nobody knew the address
    assert complaint.assignee_id in (cdesk.handler1.pk, cdesk.handler2.pk)
    assert complaint.status == "received"
    task = Task.objects.get(process__complaintprocess__complaint=complaint, status=STATUS.ASSIGNED)
    assert task.flow_task.name == "handle"
    assert WorkItem.objects.filter(kind="complaint", object_id=complaint.pk).exists()
    assert verbs(complaint) == ["created", "assigned"]
    original = Attachment.objects.get(original=True)
    assert (original.subject_kind, original.object_id) == ("complaint", complaint.pk)
    # intake sends nothing by itself: the acknowledgement is the handler's
    assert not OutboxMessage.objects.exists()


def test_a_chinese_email_and_its_reply_to_the_acknowledgement(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    receive(
        mailbox,
        sender="张三 <zhangsan@qq.com>",
        subject="投诉：同一订单被扣款两次",
        body="你好，\n\n我的银行卡被同一订单扣款两次，请尽快退款。\n\n张三",
        message_id="<202612011130001234567@qq.com>",
    )
    complaint: Any = Complaint.objects.select_related("contact").get()
    assert complaint.title == "投诉：同一订单被扣款两次"
    assert complaint.contact.language == "zh-hans"
    assert complaint.contact.name == "张三"

    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    sent = OutboxMessage.objects.get(kind="complaint.acknowledged")
    assert sent.subject.startswith(f"[{complaint.number}]") or complaint.number in sent.subject
    assert "我们已收到您的投诉" in sent.subject
    assert sent.to == "zhangsan@qq.com"

    reply = receive(
        mailbox,
        sender="张三 <zhangsan@qq.com>",
        subject=f"回复：{sent.subject}",
        body=(
            "还是没有收到退款。\n\n"
            "在 2026年12月2日 周三 09:00，客服 <support@kefu.example> 写道：\n> 我们已收到\n"
        ),
        message_id="<reply-2@qq.com>",
        in_reply_to=sent.message_id,
    )

    assert Complaint.objects.count() == 1
    assert reply.object_id == complaint.pk
    note = ComplaintNote.objects.get(complaint=complaint)
    assert (note.kind, note.channel, note.author_id) == ("contact", "email", None)
    assert note.body == "还是没有收到退款。"
    assert verbs(complaint)[-1] == "email_received"
    event = AuditEvent.objects.get(complaint=complaint, verb="email_received")
    assert event.after["from"] == "zhangsan@qq.com" and event.after["note"] == note.pk
    # a customer's email is no contact by the company: the first-contact target stays open
    complaint.refresh_from_db()
    assert complaint.first_contact_at is None
    assert OutboxMessage.objects.count() == 1  # nothing sent back


def test_a_later_email_threads_by_references_and_by_number(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    receive(
        mailbox,
        sender="bob@example.com",
        subject="Broken promise",
        body="You promised a call back.",
        message_id="<b1@example.com>",
    )
    complaint = Complaint.objects.get()

    # the customer answers their own first email (References name it)
    receive(
        mailbox,
        sender="bob@example.com",
        subject="Re: Broken promise",
        body="Still no call.",
        message_id="<b2@example.com>",
        in_reply_to="<b1@example.com>",
    )
    # a new email with the complaint's number in the subject, from its contact
    receive(
        mailbox,
        sender="bob@example.com",
        subject=f"About [{complaint.number}]",
        body="Third time I write.",
        message_id="<b3@example.com>",
    )

    assert Complaint.objects.count() == 1
    bodies = list(
        ComplaintNote.objects.filter(complaint=complaint)
        .order_by("id")
        .values_list("body", flat=True)
    )
    assert bodies == ["Still no call.", "Third time I write."]
    assert verbs(complaint).count("email_received") == 2
    # the queue heard of it: the work item's version follows the complaint's
    complaint.refresh_from_db()
    item = WorkItem.objects.get(kind="complaint", object_id=complaint.pk)
    assert item.version == complaint.version

    # the number from a stranger opens a complaint of their own (numbers can be guessed)
    stranger = receive(
        mailbox,
        sender="mallory@example.net",
        subject=f"[{complaint.number}] me too",
        body="Same here.",
    )
    assert stranger.object_id != complaint.pk
    assert Complaint.objects.count() == 2
    assert Complaint.objects.get(pk=stranger.object_id).title == "me too"


def test_a_colleague_of_the_customer_threads_by_number(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    receive(mailbox, sender=cdesk.contact.email, subject="Late delivery", body="Where is it?")
    complaint = Complaint.objects.get()
    assert complaint.customer_id == cdesk.customer.pk  # the known contact's customer
    colleague = ContactFactory(customer=cdesk.customer, email="colleague@example.com")

    receive(
        mailbox,
        sender=colleague.email,
        subject=f"Re: [{complaint.number}] Late delivery",
        body="I am following this up for Wang Fang.",
    )

    assert Complaint.objects.count() == 1
    assert ComplaintNote.objects.get(complaint=complaint).body.startswith("I am following")


def test_a_second_complaint_of_a_known_customer_is_a_repeat(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    receive(mailbox, sender=cdesk.contact.email, subject="Rude staff", body="Very rude.")
    receive(mailbox, sender=cdesk.contact.email, subject="Rude again", body="Again rude.")

    first, second = Complaint.objects.order_by("id")
    assert first.customer_id == second.customer_id == cdesk.customer.pk
    assert (first.severity, second.severity, second.repeat_of_id) == ("S3", "S2", first.pk)


def test_automatic_mail_is_never_answered(cdesk: ComplaintsDesk, mailbox: Mailbox) -> None:
    other: Any = CustomerFactory()
    ContactFactory(customer=other, email="orders@shop.example")
    receive(
        mailbox,
        sender="orders@shop.example",
        subject="Your order has shipped",
        body="Automatic notice.",
        message_id="<auto-1@shop.example>",
        headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
    )
    complaint = Complaint.objects.get()
    assert complaint.customer_id == other.pk
    assert not OutboxMessage.objects.exists()

    # an out-of-office reply to the handler's acknowledgement: logged, not answered
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    sent = OutboxMessage.objects.get()
    receive(
        mailbox,
        sender="orders@shop.example",
        subject="Out of office",
        body="I am away until Monday.",
        in_reply_to=sent.message_id,
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert OutboxMessage.objects.count() == 1
    event = AuditEvent.objects.get(complaint=complaint, verb="email_received")
    assert event.after["automatic"] is True


def _answer_and_close(complaint: Complaint) -> Any:
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    services.propose_resolution(
        complaint_id=complaint.pk,
        actor=complaint.assignee,
        outcome="not_upheld",
        resolution="Delivered on time.",
        root_cause="customer-expectation",
    )
    services.close_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    return Complaint.objects.get(pk=complaint.pk)


def test_an_email_on_a_closed_complaint_is_logged_and_after_archive_opens_a_new_one(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    receive(
        mailbox,
        sender="carol@example.com",
        subject="Parcel lost",
        body="It never came.",
        message_id="<c1@example.com>",
    )
    complaint = _answer_and_close(Complaint.objects.get())
    assert complaint.status == "closed"

    receive(
        mailbox,
        sender="carol@example.com",
        subject="Re: Parcel lost",
        body="Thanks.",
        in_reply_to="<c1@example.com>",
    )
    complaint.refresh_from_db()
    assert complaint.status == "closed"  # logged; reopening is the handler's decision
    assert ComplaintNote.objects.get(complaint=complaint).body == "Thanks."

    Task.objects.filter(
        process__complaintprocess__complaint=complaint,
        flow_task_type="TIMER",
        status=STATUS.SCHEDULED,
    ).update(scheduled=timezone.now() - timedelta(seconds=1))
    dispatcher.drain()
    assert verbs(complaint)[-1] == "archived"

    row = receive(
        mailbox,
        sender="carol@example.com",
        subject=f"Re: [{complaint.number}] Parcel lost",
        body="It happened again.",
        in_reply_to="<c1@example.com>",
    )
    follow_up = Complaint.objects.get(pk=row.object_id)
    assert follow_up.pk != complaint.pk
    assert follow_up.title == "Parcel lost"
    assert follow_up.description.startswith(f"Follows up on complaint {complaint.number}")
    assert follow_up.repeat_of_id == complaint.pk


def test_the_tickets_mailbox_still_opens_tickets(cdesk: ComplaintsDesk) -> None:
    from tests.factories import build_desk
    from tickets.models import Ticket

    build_desk()
    row = receive_raw(customer_email(sender="dave@example.com"), source="imap")
    assert (row.status, row.subject_kind) == (InboundStatus.PROCESSED, "ticket")
    assert Ticket.objects.count() == 1 and not Complaint.objects.exists()


def test_the_customers_emails_ask_for_replies_at_the_complaints_mailbox(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    receive(mailbox, sender="erin@example.com", subject="Wrong bill", body="Too high.")
    complaint = Complaint.objects.get()

    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)

    sent = OutboxMessage.objects.get(kind="complaint.acknowledged")
    assert sent.headers["Reply-To"] == ADDRESS
    # the customer's reply arrives there and threads onto the complaint
    receive(
        mailbox,
        sender="erin@example.com",
        subject=f"Re: {sent.subject}",
        body="Any news?",
        in_reply_to=sent.message_id,
    )
    assert Complaint.objects.count() == 1
    assert ComplaintNote.objects.get(complaint=complaint).body == "Any news?"


def test_without_a_complaints_mailbox_no_reply_to_is_set(cdesk: ComplaintsDesk) -> None:
    from tests.factories.complaints import open_complaint

    complaint = open_complaint(cdesk)
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    assert "Reply-To" not in OutboxMessage.objects.get().headers


def _with_attachment(*, sender: str, subject: str, body: str, in_reply_to: str = "") -> bytes:
    from email import message_from_bytes
    from email.policy import SMTP

    message = message_from_bytes(
        customer_email(
            sender=sender, to=ADDRESS, subject=subject, body=body, in_reply_to=in_reply_to
        ),
        policy=SMTP,
    )
    message.add_attachment(
        b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="收据.pdf"
    )
    return message.as_bytes(policy=SMTP)


def test_attachments_are_kept_on_the_complaint_and_its_note(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    first = receive_raw(
        _with_attachment(sender="li@example.cn", subject="退款问题", body="请看收据。"),
        source="imap",
        mailbox=mailbox,
    )
    complaint = Complaint.objects.get()
    kept = Attachment.objects.get(original=False, subject_kind="complaint")
    assert (kept.object_id, kept.message_id, kept.name) == (complaint.pk, None, "收据.pdf")
    assert kept.file.read() == b"%PDF-1.4 receipt"

    receive_raw(
        _with_attachment(
            sender="li@example.cn",
            subject="回复：退款问题",
            body="又一张收据。",
            in_reply_to=first.message_id,
        ),
        source="imap",
        mailbox=mailbox,
    )
    note = ComplaintNote.objects.get(complaint=complaint)
    assert note.body == "又一张收据。"
    on_note = Attachment.objects.filter(original=False, message_id=note.pk).get()
    assert on_note.object_id == complaint.pk


def test_a_deactivated_service_category_falls_back_to_the_first_active_one(
    cdesk: ComplaintsDesk, mailbox: Mailbox
) -> None:
    from complaints.models import ComplaintCategory

    ComplaintCategory.objects.filter(code="service").update(is_active=False)
    receive(mailbox, sender="frank@example.com", subject="Anything", body="Something.")
    first_active = (
        ComplaintCategory.objects.filter(parent=None, is_active=True)
        .order_by("position", "code")
        .first()
    )
    assert first_active is not None
    assert Complaint.objects.get().category_id == first_active.pk
