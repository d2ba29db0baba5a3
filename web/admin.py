"""The login audit trail in the Django admin: every failed login (and whether it started a
lockout) and every login and logout, on any path (docs/security.md, "Logins and passwords").

Read-only: an audit entry is not edited or deleted by hand; ``manage.py
axes_reset_failure_logs --age N`` and ``axes_reset_logs --age N`` trim old ones.
"""

from __future__ import annotations

from axes.admin import AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin

from project.admin_views import ReadOnlyAdmin


@admin.register(AccessFailureLog)
class FailedLoginAdmin(ReadOnlyAdmin, AccessFailureLogAdmin):
    pass


@admin.register(AccessLog)
class LoginAdmin(ReadOnlyAdmin, AccessLogAdmin):
    pass
