"""Every text the JavaScript module shows, translated on the server and handed to the page
as one ``json_script`` dictionary: no second catalogue, no extra request."""

from __future__ import annotations

from django.utils.translation import gettext as _

from complaints.choices import ComplaintStatus, Severity
from customers.choices import CustomerTier
from org.choices import Presence
from sla.choices import EscalationAction
from tickets.choices import (
    Channel,
    EventVerb,
    Priority,
    SlaTarget,
    TicketStatus,
)


def js_strings() -> dict[str, object]:
    return {
        "priority": {value: str(label) for value, label in Priority.choices},
        "status": {value: str(label) for value, label in TicketStatus.choices},
        # a complaint's row: its priority is the severity, its states its own
        "severity": {value: str(label) for value, label in Severity.choices},
        "complaint_status": {value: str(label) for value, label in ComplaintStatus.choices},
        "open_complaint": _("Open the complaint"),
        "complaint_on_its_page": _("%(number)s is a complaint: take it on its page (Enter)."),
        "tier": {value: str(label) for value, label in CustomerTier.choices},
        "presence": {value: str(label) for value, label in Presence.choices},
        "verb": {value: str(label) for value, label in EventVerb.choices},
        "paused": _("paused"),
        "overdue": _("overdue"),
        "unassigned": _("Unassigned"),
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "offline": _("Offline — reconnecting"),
        "empty_queue": _("Nothing in your queue. Well done."),
        "empty_notifications": _("No notifications."),
        "claimed": _("Claimed %(number)s."),
        "assigned": _("%(number)s assigned to %(name)s."),
        "saved": _("Saved."),
        "error": _("Something went wrong (%(status)s)."),
        "network_error": _("The server could not be reached."),
        "no_selection": _("Select a ticket first (j / k)."),
        "drop_here": _("Drop a ticket here to assign it"),
        "action_form": _action_form(),
        "resolution_required": _("Write what fixed it before resolving."),
        "internal_note": _("Internal note"),
        "public_reply": _("Public reply"),
        "customer": _("Customer"),
        "agent": _("Agent"),
        "system": _("System"),
        "load_more": _("Load more"),
        "acknowledged": _("Escalation acknowledged."),
        "priority_raised": _("Priority of %(number)s is now %(priority)s."),
        "no_other_tickets": _("No other tickets."),
        "no_history": _("No history yet."),
        "no_messages": _("No messages yet."),
        "field": _history_fields(),
        "channel": {value: str(label) for value, label in Channel.choices},
        "escalation_action": {value: str(label) for value, label in EscalationAction.choices},
        "target": {value: str(label) for value, label in SlaTarget.choices},
        "yes": _("yes"),
        "no": _("no"),
        "thread": _thread(),
    }


def _thread() -> dict[str, object]:
    """The conversation's labels: direction, channel, delivery of an email, attachments."""
    return {
        "direction": {
            "inbound": _("From the customer"),
            "outbound": _("To the customer"),
            "internal": _("Internal note"),
        },
        "channel": {
            **{value: str(label) for value, label in Channel.choices},
            "agent": _("Agent screen"),
        },
        "delivery": {"queued": _("Queued"), "sent": _("Sent"), "failed": _("Not delivered")},
        "sent_at": _("Sent %(when)s"),
        "retrying": _("Queued, retrying"),
        "server_said": _("The mail server answered: %(error)s"),
        "attachments": _("Attachments"),
        "original": _("%(name)s (the email as received)"),
        "bytes": _("%(size)s bytes"),
        "kilobytes": _("%(size)s KB"),
        "megabytes": _("%(size)s MB"),
        "nothing_to_quote": _("No message from the customer yet."),
    }


def _action_form() -> dict[str, dict[str, str]]:
    """The inline form of each action that asks for something first (the others are one click)."""
    reason = _("Reason (optional)")
    return {
        "resolve": {
            "title": _("Resolve the ticket"),
            "label": _("Resolution: what fixed it"),
            "submit": _("Resolve"),
        },
        "hold": {
            "title": _("Put the ticket on hold"),
            "label": reason,
            "hint": _("The SLA clock pauses until the ticket resumes."),
            "submit": _("Hold"),
        },
        "reopen": {"title": _("Reopen the ticket"), "label": reason, "submit": _("Reopen")},
        "close": {
            "title": _("Close the ticket"),
            "text": _("Close this ticket? It leaves every queue."),
            "submit": _("Close"),
        },
    }


def _history_fields() -> dict[str, str]:
    """Names of the keys the services write into an audit row's ``before``/``after``, in the
    order the history lists them (PostgreSQL's jsonb keeps no order of its own)."""
    return {
        "subject": _("Subject"),
        "status": _("Status"),
        "priority": _("Priority"),
        "channel": _("Channel"),
        "team": _("Team"),
        "assignee": _("Assignee"),
        "sla_policy": _("SLA policy"),
        "first_response_due": _("First response due"),
        "resolution_due": _("Resolution due"),
        "resolution": _("Resolution note"),
        "reason": _("Reason"),
        "note": _("Note"),
        "count": _("Times urged"),
        "target": _("Target"),
        "due": _("Due"),
        "level": _("Level"),
        "action": _("Action"),
        "escalation_level": _("Escalation level"),
        "escalation_acknowledged": _("Acknowledged level"),
        "auto": _("Automatic"),
    }
