"""Texts of in-app notifications, translated when read (English and Simplified Chinese).

A notification names its subject's kind (``Notification.subject_kind``, or ``"subject"`` in
its data): a ticket's and a complaint's read differently ("Ticket T-…", "Complaint C-…")."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

KINDS = (
    "assigned",
    "sla_warning",
    "sla_breached",
    "escalated",
    "urged",
    "mentioned",
    "priority_changed",
    "acknowledged",
    "approval_requested",
    "proposal_rejected",
    "mailbox_failing",
    "mailbox_recovered",
)

# Why a mailbox cannot be read (mail.imap.Problem), as its notification says it.
MAILBOX_PROBLEMS = {
    "authentication": gettext_lazy("the server refused the user name or password"),
    "tls": gettext_lazy("the TLS connection failed"),
    "connection": gettext_lazy("the server cannot be reached"),
    "folder": gettext_lazy("the folder cannot be opened"),
    "server": gettext_lazy("the server answered with an error"),
}


def subject_of(data: dict[str, Any], subject_kind: str = "") -> str:
    """The kind of work a notification is about: its row's ``subject_kind``, else the
    ``"subject"`` of its data, else a ticket (notifications written before kinds)."""
    return subject_kind or str(data.get("subject") or "") or "ticket"


def render_title(kind: str, data: dict[str, Any], subject_kind: str = "") -> str:
    subject = subject_of(data, subject_kind)
    if subject == "complaint":
        return _complaint_title(kind, data)
    if subject == "complaint_approval":
        return _approval_title(kind, data)
    number = data.get("number", "")
    if kind == "assigned":
        return _("Ticket %(number)s was assigned to you") % {"number": number}
    if kind == "sla_warning":
        return _("Ticket %(number)s is close to its SLA target") % {"number": number}
    if kind == "sla_breached":
        return _("Ticket %(number)s breached its SLA") % {"number": number}
    if kind == "escalated":
        return _("Ticket %(number)s was escalated (level %(level)s)") % {
            "number": number,
            "level": data.get("level", ""),
        }
    if kind == "urged":
        return _("Ticket %(number)s was urged") % {"number": number}
    if kind == "mentioned":
        return _("%(user)s mentioned you on ticket %(number)s") % {
            "user": data.get("by", ""),
            "number": number,
        }
    if kind == "priority_changed":
        return _("Ticket %(number)s is now %(priority)s") % {
            "number": number,
            "priority": data.get("priority", ""),
        }
    if kind == "acknowledged":
        return _("A supervisor acknowledged the escalation of ticket %(number)s") % {
            "number": number
        }
    if kind == "mailbox_failing":
        problem = MAILBOX_PROBLEMS.get(data.get("problem", ""), MAILBOX_PROBLEMS["server"])
        return _("Mailbox %(mailbox)s cannot be read: %(problem)s (%(detail)s)") % {
            "mailbox": data.get("mailbox", ""),
            "problem": problem,
            "detail": data.get("detail", ""),
        }
    if kind == "mailbox_recovered":
        return _("Mailbox %(mailbox)s is read again") % {"mailbox": data.get("mailbox", "")}
    return _("Notification about %(number)s") % {"number": number}


def _complaint_title(kind: str, data: dict[str, Any]) -> str:
    values = {"number": data.get("number", ""), "level": data.get("level", "")}
    if kind == "assigned":
        return _("Complaint %(number)s was assigned to you") % values
    if kind == "sla_warning":
        return _("Complaint %(number)s is close to its deadline") % values
    if kind == "sla_breached":
        return _("Complaint %(number)s missed its deadline") % values
    if kind == "escalated":
        return _("Complaint %(number)s was escalated (level %(level)s)") % values
    if kind == "approval_requested":
        return _("Complaint %(number)s awaits your approval") % values
    if kind == "proposal_rejected":
        return _("The resolution of complaint %(number)s was rejected") % values
    if kind == "acknowledged":
        return _("A supervisor acknowledged the escalation of complaint %(number)s") % values
    return _("Notification about complaint %(number)s") % values


def _approval_title(kind: str, data: dict[str, Any]) -> str:
    """A complaint's pending approval (``object_id`` is the complaint's): its clock's
    warning, and its breach told to the approver and their superior level."""
    values = {
        "number": data.get("number", ""),
        "amount": data.get("amount") or "",
        "currency": data.get("currency") or "",
    }
    if kind == "sla_warning":
        return _("The approval of complaint %(number)s is due soon") % values
    if kind == "sla_breached":
        if values["amount"]:
            return (
                _("The approval of complaint %(number)s (%(amount)s %(currency)s) is overdue")
                % values
            )
        return _("The approval of complaint %(number)s is overdue") % values
    if kind == "escalated":
        return _("The approval of complaint %(number)s was escalated") % values
    return _("Notification about complaint %(number)s") % values
