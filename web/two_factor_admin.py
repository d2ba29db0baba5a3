"""The Django admin with the second factor (docs/security.md, "Second factor").

``/admin/login/`` asks a user who needs a code for it on the same form (django-otp's admin
form); a wrong code is a failed login like a wrong password, and a required role without an
authenticator is sent to set one up on the login page first. A session that did not pass
the second factor is not the admin's.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from project.admin_views import ReadOnlyAdmin

from . import two_factor
from .models import TwoFactorEvent


class KefuAdminLoginForm(OTPAdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        # The password (and staff) check of Django's admin form; django-otp's own code check
        # is replaced by Kefu's, which counts wrong codes and knows recovery codes.
        cleaned: dict[str, Any] = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        if user is None or not two_factor.needs_second_factor(user):
            return cleaned
        if not two_factor.has_authenticator(user):
            raise forms.ValidationError(
                _(
                    "Your role signs in with a second factor. Log in on the main login page "
                    "once to set up an authenticator app."
                ),
                code="enrol_first",
            )
        code = str(self.cleaned_data.get("otp_token") or "")
        if not code.strip():
            raise forms.ValidationError(
                _("Enter the 6-digit code of your authenticator app, or a recovery code."),
                code="token_required",
            )
        request: Any = self.request
        wait = two_factor.seconds_refused(request, user.get_username())
        if not wait:
            device = two_factor.verify_code(user, code)
            if device is not None:
                two_factor.record_accepted(request, user, device)
                user.otp_device = device  # django-otp marks the session verified on login
                return cleaned
            wait = two_factor.count_refused_code(request, user)
            if not wait:
                raise forms.ValidationError(
                    _("Wrong code, or a code already used."), code="invalid_token"
                )
        # Locked out: project.logins.LoginLockoutMiddleware answers with the lockout page.
        request.axes_locked_out = True
        request.login_retry_after = wait
        raise forms.ValidationError(_("Wrong code, or a code already used."), code="locked")


class TwoFactorEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "username", "kind", "ip_address", "path")
    list_filter = ("kind",)
    search_fields = ("username",)
    date_hierarchy = "created_at"


class KefuAdminSite(OTPAdminSite):
    login_form = KefuAdminLoginForm
    login_template = "admin/kefu_login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        # The second factor's audit trail, read-only beside axes' login tables.
        self.register(TwoFactorEvent, TwoFactorEventAdmin)

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        if not admin.AdminSite.has_permission(self, request):
            return False
        return bool(user.is_verified()) or not two_factor.needs_second_factor(user)
