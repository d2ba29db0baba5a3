"""The audit trails in the Django admin: every subject's events (tickets, configuration), and
every failed login (and whether it started a lockout) and every login and logout, on any
path (docs/security.md, "Logins and passwords").

Read-only: an audit entry is not edited or deleted by hand; ``manage.py
axes_reset_failure_logs --age N`` and ``axes_reset_logs --age N`` trim old ones.
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit import verbs
from audit.models import AuditEvent
from project.admin_views import ReadOnlyAdmin


@admin.register(AccessFailureLog)
class FailedLoginAdmin(ReadOnlyAdmin, AccessFailureLogAdmin):
    pass


@admin.register(AccessLog)
class LoginAdmin(ReadOnlyAdmin, AccessLogAdmin):
    pass


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "subject_kind", "subject", "verb_label", "actor")
    list_filter = ("subject_kind", "verb")
    search_fields = ("ticket__number", "actor__username")
    list_select_related = ("actor", "ticket")
    date_hierarchy = "created_at"

    @admin.display(description=_("subject"))
    def subject(self, event: AuditEvent) -> Any:
        return event.ticket.number if event.ticket is not None else event.object_id

    @admin.display(description=_("verb"), ordering="verb")
    def verb_label(self, event: AuditEvent) -> str:
        return verbs.label(event.subject_kind, event.verb)
