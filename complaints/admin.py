"""The admin pages of the complaints' configuration: categories, root causes, the severity
matrix, regulator profiles and their clocks, limits of authority (every write audited), and
a read-only list of complaints (docs/complaints.md, "Configuration")."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.admin_base import AuditedAdmin
from sla.calendars import CalendarError
from sla.clock import calendar_terms
from sla.models import BusinessCalendar

from .choices import EscalationActions
from .models import (
    AuthorityLimit,
    Complaint,
    ComplaintCategory,
    ComplaintPolicy,
    ComplaintProfile,
    RootCause,
    SeverityRule,
)

HOUR = 3600
DAY = 86400


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(AuditedAdmin):
    audit_kind = "complaint_category"
    list_display = ("code", "name", "name_zh", "parent", "team", "is_active", "position")
    list_filter = ("is_active", "parent")
    search_fields = ("code", "name", "name_zh")


@admin.register(RootCause)
class RootCauseAdmin(AuditedAdmin):
    audit_kind = "root_cause"
    list_display = ("code", "name", "name_zh", "is_active")
    search_fields = ("code", "name", "name_zh")


@admin.register(SeverityRule)
class SeverityRuleAdmin(AuditedAdmin):
    audit_kind = "severity_rule"
    list_display = ("impact", "urgency", "severity")
    list_editable = ("severity",)


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(AuditedAdmin):
    audit_kind = "authority_limit"
    list_display = ("level", "max_amount", "approval_hours")


class PolicyInline(admin.TabularInline):
    model = ComplaintPolicy
    fields = ("severity", "regulatory", "sla_policy", "extensions")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ComplaintProfile)
class ComplaintProfileAdmin(AuditedAdmin):
    audit_kind = "complaint_profile"
    list_display = (
        "code",
        "name",
        "regulator",
        "is_default",
        "team",
        "repeat_window_days",
        "response_window_days",
    )
    search_fields = ("code", "name", "name_zh", "regulator")
    inlines = [PolicyInline]


def _plain(value: float) -> float | int:
    """15 rather than 15.0 in the form."""
    return int(value) if float(value).is_integer() else round(value, 2)


class ComplaintPolicyForm(forms.ModelForm):
    """The clock of one severity of a profile, in the units people use: hours to
    acknowledge and to first contact, days to the final answer, extension lengths in days;
    written through to its SLA policy (``sla.SlaPolicy`` of kind ``complaint``)."""

    acknowledge_hours = forms.FloatField(label=_("acknowledge within (hours)"), min_value=0.1)
    first_contact_hours = forms.FloatField(label=_("first contact within (hours)"), min_value=0.1)
    final_answer_days = forms.FloatField(label=_("final answer within (days)"), min_value=0.1)
    calendar = forms.ModelChoiceField(
        BusinessCalendar.objects.all(),
        required=False,
        label=_("calendar (empty: calendar days, round the clock)"),
    )
    warning_percent = forms.IntegerField(
        label=_("warning at (% of target)"), min_value=1, max_value=99
    )
    escalation = forms.JSONField(label=_("escalation levels"), required=False)
    extension_days = forms.CharField(
        label=_("extensions (days each, in order, comma-separated)"), required=False
    )

    class Meta:
        model = ComplaintPolicy
        fields = ("profile", "severity", "regulatory")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = self.instance.sla_policy if self.instance.pk else None
        if policy is not None:
            targets = policy.targets
            self.initial.update(
                acknowledge_hours=_plain(targets.get("acknowledge", DAY) / HOUR),
                first_contact_hours=_plain(targets.get("first_contact", 3 * DAY) / HOUR),
                final_answer_days=_plain(targets.get("final_answer", 15 * DAY) / DAY),
                calendar=policy.calendar_id,
                warning_percent=policy.warning_percent,
                escalation=policy.escalation,
                extension_days=", ".join(
                    f"{seconds / DAY:g}" for seconds in self.instance.extensions
                ),
            )
        else:
            self.initial.setdefault("warning_percent", 80)

    def clean_extension_days(self) -> list[int]:
        raw = self.cleaned_data.get("extension_days") or ""
        out: list[int] = []
        for part in [p.strip() for p in raw.split(",") if p.strip()]:
            try:
                days = float(part)
            except ValueError as exc:
                raise forms.ValidationError(_("Give days as numbers, e.g. 15, 30.")) from exc
            if days <= 0 or days > 366:
                raise forms.ValidationError(_("Each extension is from 0 to 366 days."))
            out.append(round(days * DAY))
        return out

    def clean_escalation(self) -> list[dict[str, Any]]:
        levels = self.cleaned_data.get("escalation") or []
        if not isinstance(levels, list):
            raise forms.ValidationError(_("A list of levels."))
        for level in levels:
            if not isinstance(level, dict):
                raise forms.ValidationError(_("A list of levels."))
            if level.get("target") not in ("acknowledge", "first_contact", "final_answer"):
                raise forms.ValidationError(
                    _("Each level names a target: acknowledge, first_contact or final_answer.")
                )
            if level.get("action") not in EscalationActions:
                raise forms.ValidationError(_("Unknown escalation action."))
            percent = level.get("at_percent")
            if not isinstance(percent, int) or not 1 <= percent <= 1000:
                raise forms.ValidationError(_("at_percent is a whole number from 1 to 1000."))
        return levels

    def clean_calendar(self) -> BusinessCalendar | None:
        calendar: BusinessCalendar | None = self.cleaned_data.get("calendar")
        if calendar is not None:
            from sla.clock import calendar_of

            try:
                calendar_of({"calendar": calendar_terms(calendar)})
            except CalendarError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return calendar


@admin.register(ComplaintPolicy)
class ComplaintPolicyAdmin(AuditedAdmin):
    """A change applies to complaints received afterwards (a clock keeps the terms it
    started with)."""

    audit_kind = "complaint_policy"
    form = ComplaintPolicyForm
    list_display = ("profile", "severity", "regulatory", "sla_policy")
    list_filter = ("profile", "severity", "regulatory")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from sla.models import SlaPolicy

        data = form.cleaned_data
        with transaction.atomic():
            policy = obj.sla_policy if change and obj.sla_policy_id else SlaPolicy(kind="complaint")
            policy.name = (
                f"{obj.profile.name} {obj.severity}{' regulatory' if obj.regulatory else ''}"
            )
            policy.priority = obj.severity
            policy.customer_tier = None
            policy.targets = {
                "acknowledge": round(data["acknowledge_hours"] * HOUR),
                "first_contact": round(data["first_contact_hours"] * HOUR),
                "final_answer": round(data["final_answer_days"] * DAY),
            }
            policy.calendar = data.get("calendar")
            policy.warning_percent = data["warning_percent"]
            policy.escalation = data.get("escalation") or []
            policy.save()
            obj.sla_policy = policy
            obj.extensions = data["extension_days"]
            super().save_model(request, obj, form, change)


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    """Complaints change only through their process (the screens and the API)."""

    list_display = ("number", "title", "status", "severity", "customer", "received_at")
    list_filter = ("status", "severity", "regulatory", "profile")
    search_fields = ("number", "title")
    list_select_related = ("customer",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
