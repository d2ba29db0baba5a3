"""Opening a ticket: intake, SLA terms, routing and automatic assignment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit import services as audit_trail
from core.errors import Forbidden, InvalidInput
from customers.models import Contact, Customer
from customers.permissions import sees_work_contents
from customers.services import AmbiguousContact, find_or_create_contact
from mail.inbound import IncomingAttachment
from org.roles import Actor, Person, roles_of
from processes import runtime
from sla import clock as clocks

from .. import emails, sla
from ..assignment import choose_agent, route_team
from ..choices import EventVerb
from ..events import opening, publish_ticket_event
from ..models import Category, IdempotencyKey, Ticket
from ..search import intake_terms
from ..selectors import can_see_contact, can_see_customer
from ._common import (
    add_customer_message,
    allocate_ticket_number,
    audit,
    hand_over,
    iso,
    save_changed,
)
from .idempotency import previous_use


@dataclass(frozen=True)
class FirstMessage:
    """The request as the customer sent it (an email), kept as the ticket's first message
    so its Message-ID roots the thread (docs/email.md, "Threading")."""

    body: str
    channel: str
    body_html: str = ""
    email_message_id: str = ""
    attachments: Sequence[IncomingAttachment] = ()


def open_ticket(
    *,
    actor: Actor,
    subject: str,
    description: str,
    priority: str,
    channel: str,
    category_code: str | None = None,
    contact_id: int | None = None,
    contact_email: str | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    customer_id: int | None = None,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
    first_message: FirstMessage | None = None,
    acknowledge: bool = True,
    in_reply_to: str = "",
) -> tuple[Ticket, bool]:
    """Creates a ticket and starts its process (SLA applied, routed, assigned).

    Returns ``(ticket, created)``; with an ``idempotency_key`` already used by
    this actor it returns the ticket that key created and ``created=False``.
    ``first_message``: the customer's own message (an email) stored as the first one.
    """
    # Marketing and analysts open no tickets (docs/customers-roles.md); a role-less caller
    # is the public intake's, which the views decide on.
    if isinstance(actor, User) and roles_of(actor) and not sees_work_contents(actor):
        raise Forbidden(_("Only administrators, managers, supervisors and agents open tickets."))
    # Idempotency keys belong to a signed-in person; Kefu's own intake has none.
    person = actor if isinstance(actor, User) else None
    if idempotency_key and person is not None:
        replay = _replayed(person, idempotency_key, request_fingerprint)
        if replay is not None:
            return replay, False

    category = None
    if category_code:
        category = Category.objects.filter(code=category_code).first()
        if category is None:
            raise InvalidInput(
                _("Unknown category."),
                {
                    "category": [
                        _("No category with code %(code)s.") % {"code": repr(category_code)}
                    ]
                },
            )
    customer = None
    if customer_id is not None:
        customer = Customer.objects.filter(pk=customer_id).first()
        # An id the actor may not see is answered as an unknown one: an id grants nothing.
        if customer is None or not _may_see(actor, can_see_customer, customer.pk):
            raise InvalidInput(_("Unknown customer."), {"customer_id": [_("No such customer.")]})
    contact = None
    if contact_id is not None:
        contact = Contact.objects.select_related("customer").filter(pk=contact_id).first()
        if contact is None or not _may_see(actor, can_see_contact, contact):
            raise InvalidInput(_("Unknown contact."), {"contact_id": [_("No such contact.")]})
        if customer is not None and contact.customer_id != customer.pk:
            raise InvalidInput(
                _("The contact does not belong to that customer."),
                {"contact_id": [_("The contact belongs to another customer.")]},
            )
    elif not contact_email:
        raise InvalidInput(
            _("A contact is required."), {"contact": [_("Give contact or contact_id.")]}
        )

    number = allocate_ticket_number()
    try:
        with transaction.atomic(), audit_trail.batch():  # one INSERT for the intake's rows
            key_row = None
            if idempotency_key and person is not None:
                key_row = IdempotencyKey.objects.create(
                    user=person, key=idempotency_key, request_hash=request_fingerprint
                )
            if contact is None:
                assert contact_email is not None
                contact = _contact_by_email(contact_email, contact_name, contact_phone, customer)
            ticket = Ticket.objects.create(
                number=number,
                subject=subject,
                description=description,
                priority=priority,
                channel=channel,
                category=category,
                customer=customer or contact.customer,
                contact=contact,
                created_by=actor if actor is not None and actor.is_authenticated else None,
                search_terms=intake_terms(number, subject, description, contact, customer),
            )
            audit(
                ticket,
                actor,
                EventVerb.CREATED,
                after={"subject": subject, "priority": priority, "channel": channel},
            )
            if first_message is not None:  # before the process starts and tells anyone
                _keep_first_message(ticket, first_message)
            with opening(ticket):  # the work item is written once, below
                runtime.start("ticket", ticket=ticket)
            if key_row is not None:
                key_row.ticket = ticket
                key_row.save(update_fields=["ticket", "updated_at"])
            publish_ticket_event("created", ticket)  # its open task looked up by the funnel
            if acknowledge:  # not to an automatic email (RFC 3834); docs/email.md
                emails.acknowledge(ticket, in_reply_to=in_reply_to)
    except IntegrityError:
        if not idempotency_key or person is None:
            raise
        # A concurrent request with the same key won the insert; return its ticket.
        replay = _replayed(person, idempotency_key, request_fingerprint)
        if replay is None:
            raise
        return replay, False
    return ticket, True


def _keep_first_message(ticket: Ticket, first: FirstMessage) -> None:
    add_customer_message(
        ticket,
        contact_id=None,
        body=first.body,
        body_html=first.body_html,
        channel=first.channel,
        email_message_id=first.email_message_id,
        attachments=first.attachments,
    )


def _contact_by_email(email: str, name: str, phone: str, customer: Customer | None) -> Contact:
    """The contact an address stands for (rules in ``find_or_create_contact``); an address
    several customers share is refused rather than guessed, naming the candidates."""
    try:
        return find_or_create_contact(email=email, name=name, phone=phone, customer=customer)
    except AmbiguousContact as exc:
        ids = ", ".join(str(pk) for pk in exc.customer_ids)
        raise InvalidInput(
            _("Contacts of several customers have this email address."),
            {
                "customer_id": [
                    _("Pass customer_id to choose the customer: one of %(ids)s.") % {"ids": ids}
                ]
            },
        ) from exc


def _may_see(actor: Actor, rule: Callable[[Any, Any], bool], subject: Any) -> bool:
    """Intake by a person is held to what they may see; Kefu's own intake (no actor) is not."""
    if actor is None or not actor.is_authenticated:
        return True
    return rule(actor, subject)


def _replayed(actor: Person, key: str, fingerprint: str) -> Ticket | None:
    row = previous_use(actor, key, fingerprint)
    return row.ticket if row is not None else None


def start_work(*, ticket: Ticket) -> None:
    """The start of a ticket's process (the flow's start node): triage, then the first
    assignment, saved together."""
    apply_sla_and_route(ticket=ticket, save=False)
    auto_assign_ticket(ticket=ticket, also=["team", "sla_clock"])


def apply_sla_and_route(*, ticket: Ticket, save: bool = True) -> None:
    """Triage: choose the team and start the SLA clock under the matching policy (the
    policy's calendar, else the team's, else 24x7)."""
    team = route_team(ticket)
    tier = ticket.customer.tier if ticket.customer_id and ticket.customer else None
    policy = sla.match_policy(priority=ticket.priority, customer_tier=tier)
    ticket.team = team
    if policy is not None and ticket.clock is None:
        ticket.sla_clock = clocks.start(
            kind=sla.KIND,
            object_id=ticket.pk,
            policy=policy,
            target_order=sla.TARGETS,
            fallback_calendar=team.calendar if team else None,
            at=ticket.created_at,
        )
    if save:
        save_changed(ticket, ["team", "sla_clock"])
    audit(
        ticket,
        None,
        EventVerb.ROUTED,
        after={
            "team": team.pk if team else None,
            "sla_policy": policy.pk if policy else None,
            "first_response_due": iso(ticket.first_response_due),
            "resolution_due": iso(ticket.resolution_due),
        },
    )


def auto_assign_ticket(*, ticket: Ticket, also: Sequence[str] = ()) -> None:
    """Auto-assignment (a flow step): keep the assignee, else pick one by the team's
    strategy. ``also`` names fields the caller changed, saved in the same statement."""
    agent = choose_agent(ticket) if ticket.assignee_id is None else None
    if agent is None:
        if also:
            save_changed(ticket, list(also))
        return
    hand_over(ticket, agent, task=None, actor=None, also=also)
    publish_ticket_event("assigned", ticket)
