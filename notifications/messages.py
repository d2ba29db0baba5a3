"""Texts of in-app notifications, translated when read (English and Simplified Chinese)."""

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


def render_title(kind: str, data: dict[str, Any]) -> str:
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
