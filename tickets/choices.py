from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Statuses whose tickets sit in an agent's queue (an open human task).
QUEUE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN)


class Priority(models.TextChoices):
    P1 = "P1", _("P1 - Urgent")
    P2 = "P2", _("P2 - High")
    P3 = "P3", _("P3 - Normal")
    P4 = "P4", _("P4 - Low")


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    EMAIL = "email", _("Email")
    API = "api", _("API")
    PHONE = "phone", _("Phone")


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class EventVerb(models.TextChoices):
    CREATED = "created", _("created")
    ROUTED = "routed", _("routed")
    ASSIGNED = "assigned", _("assigned")
    CLAIMED = "claimed", _("claimed")
    REPLIED = "replied", _("replied")
    CUSTOMER_REPLIED = "customer_replied", _("the customer wrote")
    NOTED = "noted", _("added an internal note")
    HELD = "held", _("put on hold")
    RESUMED = "resumed", _("resumed")
    URGED = "urged", _("urged")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    REOPENED = "reopened", _("reopened")
    ARCHIVED = "archived", _("archived")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    ESCALATED = "escalated", _("escalated")
    PRIORITY_CHANGED = "priority_changed", _("changed the priority")
    ACKNOWLEDGED = "acknowledged", _("acknowledged the escalation")
    EMAIL_WITHHELD = "email_withheld", _("did not email the customer")
