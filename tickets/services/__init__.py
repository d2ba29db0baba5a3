"""Every state change of a ticket is a function here (one transaction, an audit row,
events on commit). Views, tasks and flow nodes call these; nothing else writes tickets."""

from ._common import allocate_ticket_number, locked_ticket
from .escalation import TicketSubjects, archive_ticket, auto_close_ticket
from .idempotency import perform_once, request_fingerprint
from .inbound import TicketMail, find_ticket, receive_email
from .intake import (
    FirstMessage,
    apply_sla_and_route,
    auto_assign_ticket,
    open_ticket,
    start_work,
)
from .supervision import acknowledge_escalation, change_priority
from .work import (
    assign_ticket,
    claim_ticket,
    close_ticket,
    put_on_hold,
    record_customer_reply,
    reopen_ticket,
    reply_to_ticket,
    resolve_ticket,
    resume_ticket,
    urge_ticket,
)

__all__ = [
    "FirstMessage",
    "TicketMail",
    "TicketSubjects",
    "acknowledge_escalation",
    "allocate_ticket_number",
    "apply_sla_and_route",
    "archive_ticket",
    "assign_ticket",
    "auto_assign_ticket",
    "auto_close_ticket",
    "change_priority",
    "claim_ticket",
    "close_ticket",
    "find_ticket",
    "locked_ticket",
    "open_ticket",
    "perform_once",
    "put_on_hold",
    "receive_email",
    "record_customer_reply",
    "reopen_ticket",
    "reply_to_ticket",
    "request_fingerprint",
    "resolve_ticket",
    "resume_ticket",
    "start_work",
    "urge_ticket",
]
