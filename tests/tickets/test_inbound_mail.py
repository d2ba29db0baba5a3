"""What a parsed customer email does to tickets (docs/email.md, "Threading"): the routes
that find its ticket and their order, who may thread by a guessable number, resume and
reopen, the follow-up past the reopen window, duplicates, new tickets with their contact,
attachments, automatic mail and concurrent delivery. Real PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.errors import InvalidInput
from customers.models import Contact
from mail.inbound import Handled, IncomingAttachment, ParsedEmail, handler_for
from mail.models import Attachment
from outbox.models import OutboxMessage
from processes import dispatcher
from tests.concurrency import run_together
from tests.factories import ContactFactory, CustomerFactory, open_ticket
from tickets import services
from tickets.models import Ticket, TicketMessage
from tickets.services.inbound import TicketMail, find_ticket, receive_email

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SUPPORT = "support@kefu.localhost"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _support_address(settings: Any) -> None:
    settings.KEFU_SUPPORT_ADDRESS = "Support@Kefu.localhost"
    settings.LANGUAGE_CODE = "en"


def email(**fields: Any) -> ParsedEmail:
    values: dict[str, Any] = {
        "message_id": f"<in-{next(_ids)}@mail.example.com>",
        "sender": "li.lei@example.com",
        "sender_name": "Li Lei",
        "subject": "Re: Printer on fire",
        "text": "It is still burning.",
        "full_text": "It is still burning.\n\n> Have you tried turning it off?",
        "html": "<p>It is still burning.</p>",
        "recipients": (SUPPORT,),
    }
    values.update(fields)
    return ParsedEmail(**values)


def agent_reply(ticket: Ticket, message_id: str) -> TicketMessage:
    """A public reply as the outbound side stores it: its Message-ID is the email's."""
    return TicketMessage.objects.create(
        ticket=ticket,
        author=ticket.assignee,
        body="Have you tried turning it off?",
        channel="email",
        email_message_id=message_id,
    )


def notice(ticket: Ticket, message_id: str, *, kind: str = "ticket") -> OutboxMessage:
    """An email Kefu sent about the ticket (an acknowledgement, a notice)."""
    return OutboxMessage.objects.create(
        key=f"{kind}-notice:{message_id}",
        kind="ticket.acknowledged",
        to=ticket.contact.email,
        subject=f"[{ticket.number}] We have your request",
        body_text="We have your request.",
        message_id=message_id,
        subject_kind=kind,
        object_id=ticket.pk,
        next_attempt_at=timezone.now(),
    )


def message_of(handled: Handled) -> TicketMessage:
    assert handled.message_id is not None
    return TicketMessage.objects.get(pk=handled.message_id)


def verbs(ticket: Ticket) -> list[str]:
    return list(ticket.events.values_list("verb", flat=True))


def end_reopen_window(ticket: Ticket) -> None:
    """Closes the ticket and lets its reopen window run out (the process archives it)."""
    services.close_ticket(ticket_id=ticket.pk, actor=ticket.assignee)
    Task.objects.filter(
        process__ticketprocess__ticket=ticket, flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).update(scheduled=timezone.now() - timedelta(seconds=1))
    dispatcher.drain()


# --- the handler ---------------------------------------------------------------------
def test_tickets_register_their_mail_handler() -> None:
    assert isinstance(handler_for("ticket"), TicketMail)


# --- routes and their order ------------------------------------------------------------
def test_a_reply_to_an_agent_reply_resumes_the_ticket_waiting_on_the_customer(desk: Any) -> None:
    ticket = open_ticket(desk)
    agent_reply(ticket, "<reply-1@kefu.localhost>")
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    incoming = email(in_reply_to="<reply-1@kefu.localhost>")

    handled = handler_for("ticket").receive(incoming)

    message = TicketMessage.objects.get(email_message_id=incoming.message_id)
    assert handled == Handled("ticket", ticket.pk, message.pk, created=False)
    assert (message.ticket_id, message.contact_id, message.channel) == (
        ticket.pk,
        desk.contact.pk,
        "email",
    )
    assert (message.body, message.body_html) == ("It is still burning.", incoming.html)
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert verbs(ticket)[-2:] == ["customer_replied", "resumed"]
    assert Ticket.objects.count() == 1


def test_a_reply_to_the_acknowledgement_threads_by_the_outbox_message_id(desk: Any) -> None:
    ticket = open_ticket(desk)
    notice(ticket, "<ack-1@kefu.localhost>")

    handled = receive_email(email(in_reply_to="<ack-1@kefu.localhost>", subject="Thanks"))

    assert (handled.object_id, handled.created) == (ticket.pk, False)
    assert ticket.messages.get().body == "It is still burning."


def test_an_outbox_message_about_something_else_never_threads(desk: Any) -> None:
    ticket = open_ticket(desk)
    notice(ticket, "<survey-1@kefu.localhost>", kind="survey")

    handled = receive_email(email(in_reply_to="<survey-1@kefu.localhost>"))

    assert handled.created is True
    assert handled.object_id != ticket.pk


def test_references_are_read_newest_first(desk: Any) -> None:
    older, newer = open_ticket(desk), open_ticket(desk)
    agent_reply(older, "<old@kefu.localhost>")
    agent_reply(newer, "<new@kefu.localhost>")

    handled = receive_email(
        email(references=("<unknown@elsewhere> <old@kefu.localhost>", "<new@kefu.localhost>"))
    )

    assert handled.object_id == newer.pk


def test_message_ids_without_angle_brackets_still_match(desk: Any) -> None:
    ticket = open_ticket(desk)
    agent_reply(ticket, "<bare@kefu.localhost>")

    assert receive_email(email(in_reply_to="bare@kefu.localhost")).object_id == ticket.pk


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        (("in_reply_to", "references", "plus", "subject"), "in_reply_to"),
        (("references", "plus", "subject"), "references"),
        (("plus", "subject"), "plus"),
        (("subject",), "subject"),
    ],
)
def test_each_route_yields_to_the_one_before_it(
    desk: Any, routes: tuple[str, ...], expected: str
) -> None:
    tickets = {route: open_ticket(desk) for route in ("in_reply_to", "references", "plus")}
    tickets["subject"] = open_ticket(desk)
    agent_reply(tickets["in_reply_to"], "<a@kefu.localhost>")
    notice(tickets["references"], "<b@kefu.localhost>")
    fields: dict[str, Any] = {"subject": "Re: no number here"}
    if "in_reply_to" in routes:
        fields["in_reply_to"] = "<a@kefu.localhost>"
    if "references" in routes:
        fields["references"] = ("<b@kefu.localhost>",)
    if "plus" in routes:
        fields["recipients"] = (f"support+{tickets['plus'].number.lower()}@kefu.localhost",)
    if "subject" in routes:
        fields["subject"] = f"Re: [{tickets['subject'].number}] Printer on fire"

    match = find_ticket(email(**fields))

    assert match is not None
    assert match.ticket.pk == tickets[expected].pk
    assert match.route == {"in_reply_to": "header", "references": "header"}.get(
        expected, "plus_address" if expected == "plus" else "subject"
    )


def test_the_plus_address_threads_whatever_its_case(desk: Any) -> None:
    ticket = open_ticket(desk)
    services.resolve_ticket(ticket_id=ticket.pk, actor=ticket.assignee, resolution="new toner")
    to = f"SUPPORT+{ticket.number.lower()}@KEFU.LOCALHOST"

    handled = receive_email(email(subject="still broken", recipients=("a@b.example", to)))

    assert handled.object_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == "open"  # reopened
    assert verbs(ticket)[-2:] == ["customer_replied", "reopened"]


def test_the_plus_part_of_a_foreign_address_never_threads(desk: Any) -> None:
    ticket = open_ticket(desk)

    handled = receive_email(
        email(subject="hello", recipients=(SUPPORT, f"sales+{ticket.number}@partner.example"))
    )

    assert handled.created is True
    assert ticket.messages.count() == 0


def test_the_number_in_the_subject_threads_for_the_contact_bracketed_or_bare(desk: Any) -> None:
    ticket = open_ticket(desk)

    first = receive_email(email(subject=f"Re: [{ticket.number}] Printer on fire"))
    second = receive_email(email(subject=f"about {ticket.number.lower()}, again"))
    third = receive_email(email(subject=f"工单{ticket.number}的问题"))

    assert {first.object_id, second.object_id, third.object_id} == {ticket.pk}
    assert ticket.messages.count() == 3


def test_the_number_in_the_subject_threads_for_a_colleague_as_their_message(desk: Any) -> None:
    ticket = open_ticket(desk)
    colleague: Any = ContactFactory(customer=desk.customer, email="han.meimei@example.com")

    handled = receive_email(
        email(sender="Han.Meimei@Example.com", subject=f"[{ticket.number}] same here")
    )

    assert handled.object_id == ticket.pk
    assert message_of(handled).contact_id == colleague.pk
    ticket.refresh_from_db()
    assert ticket.contact_id == desk.contact.pk


def test_a_stranger_cannot_write_into_a_ticket_by_its_number(desk: Any) -> None:
    """A number can be guessed: from anyone but the ticket's customer, the number in the
    subject and the plus address open a new ticket instead."""
    ticket = open_ticket(desk)
    ContactFactory(email="mallory@evil.example")  # a contact of another customer
    to = f"support+{ticket.number}@kefu.localhost"

    handled = receive_email(
        email(
            sender="mallory@evil.example",
            subject=f"Re: [{ticket.number}] please send the invoice to me",
            recipients=(to,),
        )
    )

    assert handled.created is True
    assert handled.object_id != ticket.pk
    assert ticket.messages.count() == 0
    new = Ticket.objects.get(pk=handled.object_id)
    assert new.contact.email == "mallory@evil.example"
    assert new.customer_id != desk.customer.pk


def test_a_header_reply_from_someone_outside_the_customer_is_kept_as_their_message(
    desk: Any,
) -> None:
    """Whoever answers our Message-ID was given the thread (a forward, a Cc): the message
    joins the ticket under the writer's own contact; the ticket's contact stays."""
    ticket = open_ticket(desk)
    agent_reply(ticket, "<reply-9@kefu.localhost>")
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)

    handled = receive_email(
        email(
            sender="vendor@printers.example",
            sender_name="Printer Vendor",
            in_reply_to="<reply-9@kefu.localhost>",
            language="zh-hans",
        )
    )

    message = message_of(handled)
    writer = Contact.objects.get(email="vendor@printers.example")
    assert (message.ticket_id, message.contact_id) == (ticket.pk, writer.pk)
    assert (writer.customer_id, writer.name, writer.language) == (None, "Printer Vendor", "zh-hans")
    ticket.refresh_from_db()
    assert (ticket.contact_id, ticket.customer_id) == (desk.contact.pk, desk.customer.pk)
    assert ticket.status == "open"


# --- what the reply does to the ticket ---------------------------------------------------
def test_a_reply_reopens_a_closed_ticket_within_its_window(desk: Any) -> None:
    ticket = open_ticket(desk)
    notice(ticket, "<closed-notice@kefu.localhost>")
    services.close_ticket(ticket_id=ticket.pk, actor=ticket.assignee)

    handled = receive_email(email(in_reply_to="<closed-notice@kefu.localhost>"))

    assert (handled.object_id, handled.created) == (ticket.pk, False)
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_a_reply_past_the_reopen_window_opens_a_new_ticket_naming_the_old_one(
    desk: Any,
) -> None:
    ticket = open_ticket(desk)
    notice(ticket, "<old-ack@kefu.localhost>")
    end_reopen_window(ticket)
    incoming = email(
        in_reply_to="<old-ack@kefu.localhost>",
        subject=f"RE: [{ticket.number}] Printer on fire",
        text="It caught fire again.",
    )

    handled = receive_email(incoming)

    assert handled.created is True
    new = Ticket.objects.get(pk=handled.object_id)
    assert new.pk != ticket.pk
    assert new.subject == "Printer on fire"
    assert new.description == (
        f"Follows up on ticket {ticket.number}, which is closed and can no longer be "
        "reopened.\n\nIt caught fire again."
    )
    assert (new.contact_id, new.customer_id, new.channel) == (
        desk.contact.pk,
        desk.customer.pk,
        "email",
    )
    first = new.messages.get()
    assert (first.pk, first.email_message_id) == (handled.message_id, incoming.message_id)
    assert ticket.messages.count() == 0
    # the next answer in that conversation, to the new ticket's root, lands on the new one
    again = receive_email(email(in_reply_to=incoming.message_id, text="And again."))
    assert (again.object_id, again.created) == (new.pk, False)


def test_the_same_message_twice_is_recorded_once(desk: Any) -> None:
    ticket = open_ticket(desk)
    agent_reply(ticket, "<reply-2@kefu.localhost>")
    incoming = email(in_reply_to="<reply-2@kefu.localhost>")

    first = receive_email(incoming)
    second = receive_email(incoming)

    assert second == Handled("ticket", ticket.pk, first.message_id, created=False)
    assert ticket.messages.filter(email_message_id=incoming.message_id).count() == 1
    assert verbs(ticket).count("customer_replied") == 1


def test_a_new_email_delivered_twice_opens_one_ticket(desk: Any) -> None:
    incoming = email(sender="new.person@example.org", subject="Help")

    first = receive_email(incoming)
    second = receive_email(incoming)

    assert first.created is True
    assert second == Handled("ticket", first.object_id, first.message_id, created=False)
    assert Ticket.objects.count() == 1


# --- new tickets -----------------------------------------------------------------------
def test_a_new_email_opens_a_routed_ticket_whose_first_message_is_the_email(desk: Any) -> None:
    incoming = email(
        sender="wang.fang@example.org",
        sender_name="王芳",
        subject="回复: Re: 转发\uff1a打印机着火了",  # a full-width colon after 转发
        text="打印机又着火了。",
        html="<p>打印机又着火了。</p>",
        language="zh-hans",
        attachments=(IncomingAttachment("photo.jpg", "image/jpeg", b"\xff\xd8\xff"),),
    )

    handled = receive_email(incoming)

    ticket = Ticket.objects.get(pk=handled.object_id)
    assert handled.created is True
    assert (ticket.subject, ticket.description) == ("打印机着火了", "打印机又着火了。")
    assert (ticket.channel, ticket.priority, ticket.status) == ("email", "P3", "open")
    assert ticket.team == desk.team  # routed like any intake, and assigned
    assert ticket.assignee in (desk.agent1, desk.agent2)
    assert ticket.clock is not None
    contact = ticket.contact
    assert (contact.email, contact.name, contact.language, contact.customer_id) == (
        "wang.fang@example.org",
        "王芳",
        "zh-hans",
        None,
    )
    first = ticket.messages.get()
    assert handled.message_id == first.pk
    assert (first.contact_id, first.channel, first.email_message_id, first.body_html) == (
        contact.pk,
        "email",
        incoming.message_id,
        "<p>打印机又着火了。</p>",
    )
    stored = Attachment.objects.get(subject_kind="ticket", object_id=ticket.pk)
    assert (stored.message_id, stored.name, stored.file.read()) == (
        first.pk,
        "photo.jpg",
        b"\xff\xd8\xff",
    )
    assert verbs(ticket) == ["created", "routed", "assigned"]


def test_a_known_contact_opens_the_ticket_and_keeps_its_language(desk: Any) -> None:
    handled = receive_email(
        email(subject="Fwd: new laptop", sender_name="Someone Else", language="zh-hans")
    )

    ticket = Ticket.objects.get(pk=handled.object_id)
    assert (ticket.contact_id, ticket.customer_id, ticket.subject) == (
        desk.contact.pk,
        desk.customer.pk,
        "new laptop",
    )
    desk.contact.refresh_from_db()
    assert desk.contact.language == "en"
    assert desk.contact.name != "Someone Else"


def test_an_address_of_several_customers_opens_a_ticket_on_no_customer(desk: Any) -> None:
    """Guessing would put the ticket, its SLA and its history on the wrong customer."""
    ContactFactory(customer=CustomerFactory(), email="shared@example.com")
    ContactFactory(customer=CustomerFactory(), email="shared@example.com")

    first = receive_email(email(sender="shared@example.com", subject="one"))
    second = receive_email(email(sender="Shared@Example.com", subject="two"))

    tickets = Ticket.objects.filter(pk__in=[first.object_id, second.object_id])
    assert {(t.customer_id, t.contact.customer_id) for t in tickets} == {(None, None)}
    assert len({t.contact_id for t in tickets}) == 1


def test_an_email_without_text_keeps_its_whole_body_or_its_subject(desk: Any) -> None:
    ticket = open_ticket(desk)
    only_quote = receive_email(
        email(subject=f"[{ticket.number}]", text="", full_text="> quoted only")
    )
    subject_only = receive_email(email(subject=f"[{ticket.number}] Thanks!", text="", full_text=""))

    assert message_of(only_quote).body == "> quoted only"
    assert message_of(subject_only).body == (f"[{ticket.number}] Thanks!")


def test_an_empty_subject_gets_a_placeholder(desk: Any) -> None:
    handled = receive_email(email(subject="  Re:  "))

    assert Ticket.objects.get(pk=handled.object_id).subject == "(no subject)"


def test_a_refused_attachment_is_left_out_and_named_the_message_is_kept(
    desk: Any, settings: Any
) -> None:
    settings.KEFU_ATTACHMENT_MAX_BYTES = 100
    ticket = open_ticket(desk)
    agent_reply(ticket, "<reply-3@kefu.localhost>")

    handled = receive_email(
        email(
            in_reply_to="<reply-3@kefu.localhost>",
            attachments=(
                IncomingAttachment("log.txt", "text/plain", b"E42"),
                IncomingAttachment("dump.bin", "application/octet-stream", b"x" * 101),
                IncomingAttachment("run.exe", "application/x-msdownload", b"MZ"),
            ),
        )
    )

    message = message_of(handled)
    assert message.body == (
        "It is still burning.\n\n"
        "[Attachment not kept: dump.bin is too large: files may be at most 0 MB.]\n"
        "[Attachment not kept: run.exe is of a type that is not accepted "
        "(application/x-msdownload).]"
    )
    assert list(
        Attachment.objects.filter(message_id=message.pk).values_list("name", flat=True)
    ) == ["log.txt"]


def test_mail_without_a_sender_is_refused_and_changes_nothing(desk: Any) -> None:
    ticket = open_ticket(desk)
    with pytest.raises(InvalidInput, match="no sender"):
        receive_email(email(sender="", subject=f"[{ticket.number}] hi"))
    assert TicketMessage.objects.count() == 0
    assert Ticket.objects.count() == 1


# --- automatic mail --------------------------------------------------------------------
def test_an_auto_reply_storm_on_a_waiting_ticket_is_kept_and_changes_no_state(
    desk: Any,
) -> None:
    ticket = open_ticket(desk)
    notice(ticket, "<ack-storm@kefu.localhost>")
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    before = verbs(ticket)

    handled = [
        receive_email(
            email(
                in_reply_to="<ack-storm@kefu.localhost>",
                subject=f"Out of office: [{ticket.number}] Printer on fire",
                text="I am away until Monday.",
                automatic=True,
            )
        )
        for _ in range(20)
    ]

    assert {h.object_id for h in handled} == {ticket.pk}
    assert not any(h.created for h in handled)
    assert Ticket.objects.count() == 1
    assert ticket.messages.count() == 20
    ticket.refresh_from_db()
    assert ticket.status == "pending_customer"
    assert ticket.sla_paused_at is not None  # the clock still waits on the customer
    assert verbs(ticket) == [*before, *["customer_replied"] * 20]
    last = ticket.events.order_by("-id").first()
    assert last is not None and last.after["automatic"] is True


def test_an_auto_reply_does_not_reopen_a_resolved_ticket_but_the_customer_does(
    desk: Any,
) -> None:
    ticket = open_ticket(desk)
    services.resolve_ticket(ticket_id=ticket.pk, actor=ticket.assignee, resolution="fixed")

    receive_email(email(subject=f"Auto: [{ticket.number}] resolved", automatic=True))
    ticket.refresh_from_db()
    assert ticket.status == "resolved"

    receive_email(email(subject=f"Re: [{ticket.number}] resolved", text="No it is not."))
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_an_automatic_email_that_answers_nothing_opens_a_ticket(desk: Any) -> None:
    handled = receive_email(
        email(sender="monitor@example.com", subject="Disk full on srv-1", automatic=True)
    )

    ticket = Ticket.objects.get(pk=handled.object_id)
    assert (handled.created, ticket.subject, ticket.status) == (True, "Disk full on srv-1", "open")


# --- concurrency -------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_replies_delivered_at_once_are_both_recorded(desk: Any) -> None:
    ticket = open_ticket(desk)
    agent_reply(ticket, "<reply-c@kefu.localhost>")
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    first = email(in_reply_to="<reply-c@kefu.localhost>", text="one")
    second = email(in_reply_to="<reply-c@kefu.localhost>", text="two")

    def deliver(incoming: ParsedEmail) -> Callable[[], Handled]:
        def run() -> Handled:
            with transaction.atomic():  # the mail pipeline's transaction
                return handler_for("ticket").receive(incoming)

        return run

    results = run_together(deliver(first), deliver(second))

    assert {r.object_id for r in results} == {ticket.pk}
    assert sorted(ticket.messages.exclude(author__isnull=False).values_list("body", flat=True)) == [
        "one",
        "two",
    ]
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert verbs(ticket).count("resumed") == 1
