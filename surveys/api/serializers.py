"""Output shapes of the survey API (input is query parameters only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ResponseOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    ticket = serializers.IntegerField(source="invitation.ticket_id", allow_null=True)
    subject_kind = serializers.CharField(source="invitation.subject_kind")
    number = serializers.CharField(source="invitation.subject_number")
    title = serializers.CharField(source="invitation.subject_title")
    contact = serializers.IntegerField(source="invitation.contact_id")
    team = serializers.IntegerField(source="invitation.team_id", allow_null=True)
    agent = serializers.IntegerField(source="invitation.agent_id", allow_null=True)
    template = serializers.IntegerField(source="invitation.template_id")
    scale = serializers.CharField(source="invitation.scale")
    score = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    answers = serializers.DictField(child=serializers.JSONField())
    language = serializers.CharField(source="invitation.language")
    invited = serializers.DateTimeField(source="invitation.created_at")
    answered = serializers.DateTimeField(source="answered_at")
    updated = serializers.DateTimeField(source="updated_at")


class ResponsePageOutput(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ResponseOutput(many=True)


class CsatFigures(serializers.Serializer[Any]):
    responses = serializers.IntegerField()
    satisfied = serializers.IntegerField(help_text="scores 4 and 5")
    percent = serializers.FloatField(allow_null=True, help_text="CSAT %: satisfied / responses")


class NpsFigures(serializers.Serializer[Any]):
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField(help_text="scores 9 and 10")
    passives = serializers.IntegerField(help_text="scores 7 and 8")
    detractors = serializers.IntegerField(help_text="scores 0 to 6")
    score = serializers.FloatField(allow_null=True, help_text="% promoters - % detractors")


class Figures(serializers.Serializer[Any]):
    invitations = serializers.IntegerField(help_text="invitations sent")
    responses = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True, help_text="percent")
    csat = CsatFigures()
    nps = NpsFigures()


class GroupFigures(Figures):
    key = serializers.JSONField(help_text="agent or team id, or the period's first day")
    label = serializers.CharField(  # type: ignore[assignment]  # a field named like Field.label
        help_text="username, team name or the period's first day"
    )


class CsatReportOutput(serializers.Serializer[Any]):
    group_by = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    timezone = serializers.CharField()
    total = Figures()
    results = GroupFigures(many=True)
