"""Administration resources: teams, calendars, SLA policies (API.md, Administration)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext as _
from rest_framework import serializers

from customers.choices import CustomerTier
from org.models import Team
from project.parsers import BoundedJSONField
from sla.calendars import CalendarError, parse_calendar
from sla.choices import EscalationAction
from sla.models import BusinessCalendar, SlaPolicy

from ..choices import Priority, SlaTarget


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(
        many=True, queryset=get_user_model().objects.filter(is_active=True), required=False
    )
    supervisors = serializers.PrimaryKeyRelatedField(
        many=True, queryset=get_user_model().objects.filter(is_active=True), required=False
    )
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Team
        fields = ["id", "name", "members", "supervisors", "calendar", "assignment"]


class CalendarSerializer(serializers.ModelSerializer):
    # hours and holidays may come as JSON text in a form field: parsed within bounds
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.JSONField: BoundedJSONField,
    }

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "timezone", "hours", "holidays"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        tz = attrs.get("timezone", instance.timezone if instance else "UTC")
        hours = attrs.get("hours", instance.hours if instance else {})
        holidays = attrs.get("holidays", instance.holidays if instance else [])
        if not isinstance(hours, dict):
            raise serializers.ValidationError({"hours": [_("Expected an object of weekdays.")]})
        if not isinstance(holidays, list):
            raise serializers.ValidationError({"holidays": [_("Expected a list of dates.")]})
        try:
            parse_calendar(tz, hours, holidays)
        except CalendarError as exc:
            # calendars.py is pure, so its message is translated here, in the reader's language
            raise serializers.ValidationError({"hours": [_(exc.template) % exc.params]}) from exc
        return attrs


class EscalationLevelSerializer(serializers.Serializer):
    at_percent = serializers.IntegerField(min_value=1, max_value=1000)
    target = serializers.ChoiceField(choices=SlaTarget.choices)
    action = serializers.ChoiceField(choices=EscalationAction.choices)
    team = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH of a policy is partial, and DRF makes its nested levels partial too; a
        # ladder is always replaced whole, so each level states every required field.
        missing = [
            name
            for name, field in self.fields.items()
            if field.required and not field.read_only and name not in attrs
        ]
        if missing:
            raise serializers.ValidationError(
                {name: [_("This field is required.")] for name in missing}
            )
        if attrs["action"] == EscalationAction.REASSIGN:
            team = attrs.get("team")
            if team is None or not Team.objects.filter(pk=team).exists():
                raise serializers.ValidationError({"team": [_("reassign needs an existing team.")]})
        else:
            attrs.pop("team", None)
        return attrs


class SlaPolicySerializer(serializers.ModelSerializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    customer_tier = serializers.ChoiceField(
        choices=CustomerTier.choices, allow_null=True, required=False
    )
    first_response_seconds = serializers.IntegerField(
        source="targets.first_response", min_value=1, max_value=10 * 365 * 86400
    )
    resolution_seconds = serializers.IntegerField(
        source="targets.resolution", min_value=1, max_value=10 * 365 * 86400
    )
    warning_percent = serializers.IntegerField(min_value=1, max_value=99, required=False)
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(), allow_null=True, required=False
    )
    escalation = EscalationLevelSerializer(many=True, required=False)

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "priority",
            "customer_tier",
            "first_response_seconds",
            "resolution_seconds",
            "warning_percent",
            "calendar",
            "escalation",
            "is_active",
        ]
        read_only_fields = ["is_active"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A ticket policy's two targets are kept in ``targets`` (sla.models.SlaPolicy).
        targets = {**(getattr(self.instance, "targets", None) or {}), **attrs.get("targets", {})}
        fr, res = targets.get("first_response", 0), targets.get("resolution", 0)
        if fr and res and fr > res:
            raise serializers.ValidationError(
                {"first_response_seconds": [_("Must not exceed resolution_seconds.")]}
            )
        attrs["targets"] = targets
        attrs["kind"] = "ticket"
        if "escalation" in attrs:
            attrs["escalation"] = [dict(level) for level in attrs["escalation"]]
        return attrs


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    teams = serializers.ListField(child=serializers.IntegerField())


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
