"""Texts of in-app notifications, translated when read (English and Simplified Chinese)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

KINDS = (
    "assigned",
    "sla_warning",
    "sla_breached",
    "escalated",
    "urged",
    "mentioned",
    "priority_changed",
    "acknowledged",
)


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
    return _("Notification about %(number)s") % {"number": number}
