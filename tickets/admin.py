"""The Django admin pages of what an administrator configures: people and their roles, teams,
agents (skills, capacity), SLA policies, business calendars, categories and routing rules.

Giving someone the agent role, on their user page or the role's page, makes their agent
profile (``org.services``, through ``org.signals``); a write the administration API
validates is validated here by the same serializer (``ApiCheckedForm``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from audit import services as audit_services
from audit.admin_base import AuditedAdmin
from customers.choices import CustomerTier
from org.models import AgentProfile, Team
from org.roles import ROLE_AGENT, ROLES
from sla.models import BusinessCalendar, SlaPolicy

from .api.admin_serializers import CalendarSerializer, SlaPolicySerializer, TeamSerializer
from .choices import Priority
from .models import Category, RoutingRule

User = get_user_model()


# --- the API's rules, in the admin's forms --------------------------------------------
def _wire(value: Any) -> Any:
    """A cleaned form value as the API receives it: rows by primary key."""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, QuerySet | list | tuple) and all(isinstance(v, Model) for v in value):
        return [v.pk for v in value]
    return value


def _messages(errors: Any, prefix: str = "") -> Iterable[str]:
    """A serializer's (possibly nested) errors as flat messages: "level 2: action: …" for the
    second item of a list (DRF keys a list's errors by index, or lists them in order)."""
    if isinstance(errors, list) and any(isinstance(item, dict | list) for item in errors):
        errors = dict(enumerate(errors))
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int):
                label = f"{_('level %(number)s') % {'number': key + 1}}: "
            else:
                label = "" if key == "non_field_errors" else f"{key}: "
            yield from _messages(value, prefix + label)
    elif isinstance(errors, list):
        for item in errors:
            yield f"{prefix}{item}"
    else:
        yield f"{prefix}{errors}"


class ApiCheckedForm(forms.ModelForm):
    """A model form whose values also pass the administration API's serializer, so the admin
    refuses what the API refuses and saves what the API would save (its normal form)."""

    serializer_class: ClassVar[type[serializers.ModelSerializer]]
    api_fields: ClassVar[tuple[str, ...]]
    normalised_fields: ClassVar[tuple[str, ...]] = ()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name, value in cleaned.items():
            # a blank JSON text area means the model's default ([] or {}), as the API's omission
            if value is None and isinstance(self.fields.get(name), forms.JSONField):
                model_field = self._meta.model._meta.get_field(name)
                if not model_field.null:
                    cleaned[name] = model_field.get_default()
        data = {name: _wire(cleaned[name]) for name in self.api_fields if name in cleaned}
        serializer = self.serializer_class(
            instance=self.instance if self.instance.pk else None, data=data, partial=True
        )
        if serializer.is_valid():
            for name in self.normalised_fields:
                if name in serializer.validated_data:
                    cleaned[name] = serializer.validated_data[name]
            return cleaned
        for field, errors in serializer.errors.items():
            target = field if field in self.fields else None
            if target is not None and target in self.errors:
                continue  # the form already said what is wrong with it
            prefix = "" if target is not None or field == "non_field_errors" else f"{field}: "
            for message in _messages(errors, prefix):
                self.add_error(target, message)
        return cleaned


# --- people and roles ---------------------------------------------------------------------
class AgentProfileForm(forms.ModelForm):
    class Meta:
        model = AgentProfile
        fields = ("skills", "capacity")
        help_texts = {
            "skills": _('The codes of the skills categories require, e.g. ["billing", "network"].')
        }

    def clean_skills(self) -> list[str]:
        skills = self.cleaned_data.get("skills")
        if skills is None:  # a blank text area: no skills
            return []
        if not isinstance(skills, list) or not all(
            isinstance(skill, str) and 0 < len(skill.strip()) <= 64 for skill in skills
        ):
            raise forms.ValidationError(
                _('Expected a list of skill codes, e.g. ["billing", "network"].')
            )
        return list(dict.fromkeys(skill.strip() for skill in skills))


class AgentProfileInline(admin.StackedInline):
    """The profile is made when the user gets the agent role; here it is only edited."""

    model = AgentProfile
    form = AgentProfileForm
    fields = ("skills", "capacity", "presence", "last_assigned_at")
    readonly_fields = ("presence", "last_assigned_at")
    extra = 0
    max_num = 1
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class KefuUserChangeForm(UserChangeForm):
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.all(),
        required=False,
        label=_("teams"),
        help_text=_("Members of a team are offered its tickets if they hold the agent role."),
        widget=FilteredSelectMultiple(_("teams"), is_stacked=False),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "groups" in self.fields:
            self.fields["groups"].help_text = _(
                "Roles are groups: agent (takes tickets; Kefu makes their agent profile), "
                "supervisor (watches and moves every team's work), administrator."
            )
        if self.instance.pk:
            self.fields["teams"].initial = list(self.instance.kefu_teams.all())


def _team_names(user: Any) -> str:
    return ", ".join(team.name for team in user.kefu_teams.all())


admin.site.unregister(User)


@admin.register(User)
class KefuUserAdmin(UserAdmin):
    form = KefuUserChangeForm
    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "roles",
        "team_names",
        "is_active",
        "is_staff",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "groups", "kefu_teams")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Teams"), {"fields": ("teams",)}),
    )
    inlines = [AgentProfileInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("groups", "kefu_teams")

    @admin.display(description=_("roles"))
    def roles(self, user: Any) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all()))

    @admin.display(description=_("teams"))
    def team_names(self, user: Any) -> str:
        return _team_names(user)

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return list(self.inlines) if obj is not None else []

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # roles first: makes the profile
        if "teams" in form.cleaned_data:
            form.instance.kefu_teams.set(form.cleaned_data["teams"])


class RoleForm(forms.ModelForm):
    """A role's page lists who holds it; adding someone to "agent" makes them an agent."""

    users = forms.ModelMultipleChoiceField(
        queryset=User.objects.all(),
        required=False,
        label=_("users"),
        widget=FilteredSelectMultiple(_("users"), is_stacked=False),
    )

    class Meta:
        model = Group
        fields = ("name", "users", "permissions")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["users"].initial = list(self.instance.user_set.all())


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    form = RoleForm
    list_display = ("name", "is_role", "user_count")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(user_total=Count("user", distinct=True))

    @admin.display(description=_("Kefu role"), boolean=True)
    def is_role(self, group: Group) -> bool:
        return group.name in ROLES

    @admin.display(description=_("users"), ordering="user_total")
    def user_count(self, group: Any) -> int:
        return int(group.user_total)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.user_set.set(form.cleaned_data["users"])


# --- teams and agents ---------------------------------------------------------------------
class TeamForm(ApiCheckedForm):
    serializer_class = TeamSerializer
    api_fields = ("members", "supervisors", "calendar", "assignment")

    class Meta:
        model = Team
        fields = ("name", "assignment", "calendar", "members", "supervisors")


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    audit_kind = "team"
    form = TeamForm
    list_display = ("name", "assignment", "calendar", "member_count", "supervisor_names")
    list_filter = ("assignment", "calendar")
    search_fields = ("name",)
    filter_horizontal = ("members", "supervisors")
    list_select_related = ("calendar",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return (
            super()
            .get_queryset(request)
            .annotate(member_total=Count("members", distinct=True))
            .prefetch_related("supervisors")
        )

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, team: Any) -> int:
        return int(team.member_total)

    @admin.display(description=_("supervisors"))
    def supervisor_names(self, team: Team) -> str:
        return ", ".join(user.get_username() for user in team.supervisors.all())

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        idle = form.instance.members.filter(is_active=True).exclude(groups__name=ROLE_AGENT)
        names = sorted(user.get_username() for user in idle)
        if names:
            self.message_user(
                request,
                _(
                    "These members do not hold the agent role, so they are not offered this "
                    "team's tickets: %(names)s. Give them the role on their user pages."
                )
                % {"names": ", ".join(names)},
                messages.WARNING,
            )


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    """Profiles are made with the agent role and kept when it goes (their history), so
    neither added nor deleted here; presence follows the agent's live sockets."""

    form = AgentProfileForm
    list_display = (
        "user",
        "full_name",
        "presence",
        "capacity",
        "skill_codes",
        "team_names",
        "takes_work",
        "last_assigned_at",
    )
    list_filter = ("presence", "user__is_active", "user__groups", "user__kefu_teams")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    fields = ("user", "skills", "capacity", "presence", "last_assigned_at", "updated_at")
    readonly_fields = ("user", "presence", "last_assigned_at", "updated_at")
    list_select_related = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentProfile]:
        queryset = super().get_queryset(request)
        return queryset.prefetch_related("user__groups", "user__kefu_teams")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("name"), ordering="user__first_name")
    def full_name(self, profile: AgentProfile) -> str:
        return str(profile.user.get_full_name())

    @admin.display(description=_("teams"))
    def team_names(self, profile: AgentProfile) -> str:
        return _team_names(profile.user)

    @admin.display(description=_("skills"))
    def skill_codes(self, profile: AgentProfile) -> str:
        return ", ".join(profile.skills or [])

    @admin.display(description=_("offered work"), boolean=True)
    def takes_work(self, profile: AgentProfile) -> bool:
        user: Any = profile.user
        return bool(user.is_active) and any(g.name == ROLE_AGENT for g in user.groups.all())


# --- SLA, calendars, categories, routing ----------------------------------------------------
class SlaPolicyForm(ApiCheckedForm):
    """A ticket policy: its two targets are fields here, kept in the policy's ``targets``."""

    serializer_class = SlaPolicySerializer
    first_response_seconds = forms.IntegerField(label=_("first response target (s)"), min_value=1)
    resolution_seconds = forms.IntegerField(label=_("resolution target (s)"), min_value=1)
    api_fields = (
        "priority",
        "customer_tier",
        "first_response_seconds",
        "resolution_seconds",
        "warning_percent",
        "calendar",
        "escalation",
    )
    normalised_fields = ("escalation",)

    class Meta:
        model = SlaPolicy
        fields = (
            "name",
            "priority",
            "customer_tier",
            "warning_percent",
            "calendar",
            "escalation",
        )
        widgets = {
            "priority": forms.Select(choices=Priority.choices),
            "customer_tier": forms.Select(choices=[("", "---------"), *CustomerTier.choices]),
        }
        help_texts = {
            "customer_tier": _("Blank: any tier."),
            "escalation": _(
                'A list of levels, e.g. [{"at_percent": 90, "target": "resolution", '
                '"action": "notify_supervisor"}, {"at_percent": 150, "target": "resolution", '
                '"action": "reassign", "team": 2}]. Actions: warn, notify_supervisor, '
                "raise_priority, reassign (with a team id)."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_response_seconds", "resolution_seconds"):
            seconds = (self.instance.targets or {}).get(name.removesuffix("_seconds"))
            if seconds is not None:
                self.initial.setdefault(name, seconds)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("customer_tier") == "":
            cleaned["customer_tier"] = None
        return cleaned

    def save(self, commit: bool = True) -> Any:
        self.instance.kind = "ticket"
        self.instance.targets = {
            "first_response": self.cleaned_data["first_response_seconds"],
            "resolution": self.cleaned_data["resolution_seconds"],
        }
        return super().save(commit)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin):
    """A change applies to tickets opened afterwards (they copy the terms when they open)."""

    audit_kind = "sla_policy"
    form = SlaPolicyForm
    list_display = (
        "name",
        "priority",
        "customer_tier",
        "first_response",
        "resolution",
        "warning_percent",
        "calendar",
        "is_active",
    )
    list_filter = ("is_active", "priority", "customer_tier", "calendar")
    search_fields = ("name",)
    list_select_related = ("calendar",)
    readonly_fields = ("is_active", "retired_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "priority", "customer_tier", "is_active", "retired_at")}),
        (
            _("Targets"),
            {
                "fields": (
                    "first_response_seconds",
                    "resolution_seconds",
                    "warning_percent",
                    "calendar",
                )
            },
        ),
        (_("Escalation"), {"fields": ("escalation",)}),
        (None, {"fields": ("created_at", "updated_at")}),
    )
    actions = ["retire_policies"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlaPolicy]:
        return super().get_queryset(request).filter(kind="ticket")

    @admin.display(description=_("first response target (s)"))
    def first_response(self, policy: SlaPolicy) -> Any:
        return policy.targets.get("first_response")

    @admin.display(description=_("resolution target (s)"))
    def resolution(self, policy: SlaPolicy) -> Any:
        return policy.targets.get("resolution")

    @admin.action(description=_("Retire the selected SLA policies"))
    def retire_policies(self, request: HttpRequest, queryset: QuerySet[SlaPolicy]) -> None:
        """As the API's DELETE: new tickets stop matching them; opened ones keep their terms."""
        now = timezone.now()
        with transaction.atomic():
            active = list(queryset.filter(is_active=True).select_for_update(of=("self",)))
            for policy in active:
                before = audit_services.configuration_snapshot(policy)
                policy.is_active, policy.retired_at = False, now
                policy.save(update_fields=["is_active", "retired_at", "updated_at"])
                audit_services.record_configuration(
                    kind="sla_policy",
                    verb="changed",
                    actor=request.user,
                    object_id=policy.pk,
                    before=before,
                    after=audit_services.configuration_snapshot(policy),
                )
        count = len(active)
        self.message_user(
            request,
            _("SLA policies retired: %(count)d.") % {"count": count},
            messages.SUCCESS,
        )


class CalendarForm(ApiCheckedForm):
    serializer_class = CalendarSerializer
    api_fields = ("timezone", "hours", "holidays")

    class Meta:
        model = BusinessCalendar
        fields = ("name", "timezone", "hours", "holidays")
        help_texts = {
            "timezone": _("An IANA time zone, e.g. Asia/Shanghai."),
            "hours": _(
                'Opening windows per weekday, e.g. {"mon": [["09:00", "12:00"], '
                '["13:00", "18:00"]]}; a missing day is closed.'
            ),
            "holidays": _('Closed dates, e.g. ["2027-02-06", "2027-02-07"].'),
        }


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(AuditedAdmin):
    audit_kind = "calendar"
    form = CalendarForm
    list_display = ("name", "timezone", "team_count")
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessCalendar]:
        return super().get_queryset(request).annotate(team_total=Count("teams", distinct=True))

    @admin.display(description=_("teams"), ordering="team_total")
    def team_count(self, calendar: Any) -> int:
        return int(calendar.team_total)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "required_skill")
    search_fields = ("code", "name", "required_skill")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """The most specific matching rule routes a new ticket; the position breaks ties."""

    list_display = ("team", "category", "customer_tier", "region", "position")
    list_editable = ("position",)
    list_filter = ("team", "category", "customer_tier")
    search_fields = ("team__name", "category__code", "category__name", "region")
    list_select_related = ("team", "category")
    fields = ("team", "category", "customer_tier", "region", "position")
