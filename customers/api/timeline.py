"""The customer's and the contact's timelines and the customer's summary (the 360 page's
reads, docs/customers-360.md)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from core.params import MAX_ID, int_value
from project.api_params import page_link

from ..selectors import overview, timeline


class SubjectOutput(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="where the screens open it; empty when none")


class EntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="the audit row's subject kind: ticket, complaint, …")
    kind_label = serializers.CharField()
    verb = serializers.CharField()
    verb_label = serializers.CharField(help_text="the verb in the reader's language")
    actor = serializers.CharField(
        allow_null=True,
        help_text="who did it; null for the customer, the system, or a reader "
        "who may not see work contents",
    )
    score = serializers.IntegerField(allow_null=True, help_text="a survey answer's score")
    subject = SubjectOutput(
        allow_null=True,
        help_text="the work object, when the reader may see it and its contents",
    )


class TimelinePageOutput(serializers.Serializer):
    """A cursor page, newest first: ``next`` reads older entries, ``previous`` newer ones."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = EntryOutput(many=True)


class SummaryOutput(serializers.Serializer):
    open_work = serializers.DictField(
        child=serializers.IntegerField(), help_text="open work items per kind"
    )
    csat_average = serializers.FloatField(
        allow_null=True, help_text="average CSAT score (1-5), last 12 months"
    )
    csat_count = serializers.IntegerField()
    contacts = serializers.IntegerField()
    contracts_ending = serializers.IntegerField(help_text="contracts ending within 60 days")
    last_activity = serializers.DateTimeField(allow_null=True)


CURSOR = OpenApiParameter("cursor", str, description="from a page's `next` or `previous`")
LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": timeline.MAX_PAGE_SIZE},
    description=f"entries per page (default {timeline.PAGE_SIZE})",
)


def _check_pk(pk: int, message: str) -> None:
    if pk > MAX_ID:
        raise NotFound(message)


def _limit(request: Request) -> int:
    value = int_value(request.query_params, "limit")
    return timeline.PAGE_SIZE if value is None else value


def _page(request: Request, page: timeline.TimelinePage) -> Response:
    rows: list[dict[str, Any]] = [
        {
            "id": e.id,
            "at": e.at,
            "kind": e.kind,
            "kind_label": e.kind_label,
            "verb": e.verb,
            "verb_label": e.verb_label,
            "actor": e.actor,
            "score": e.score,
            "subject": None
            if e.subject is None
            else {
                "kind": e.subject.kind,
                "id": e.subject.id,
                "number": e.subject.number,
                "title": e.subject.title,
                "url": e.subject.url,
            },
        }
        for e in page.entries
    ]
    return Response(
        TimelinePageOutput(
            {
                "next": page_link(request, page.next),
                "previous": page_link(request, page.previous),
                "results": rows,
            }
        ).data
    )


class CustomerTimelineView(APIView):
    @extend_schema(
        parameters=[CURSOR, LIMIT],
        responses=TimelinePageOutput,
        operation_id="customers_timeline",
    )
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk, _("Customer not found."))
        page = timeline.timeline_for(
            request.user, pk, request.query_params.get("cursor"), _limit(request)
        )
        return _page(request, page)


class ContactTimelineView(APIView):
    @extend_schema(
        parameters=[CURSOR, LIMIT],
        responses=TimelinePageOutput,
        operation_id="contacts_timeline",
    )
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk, _("Contact not found."))
        page = timeline.contact_timeline_for(
            request.user, pk, request.query_params.get("cursor"), _limit(request)
        )
        return _page(request, page)


class CustomerSummaryView(APIView):
    @extend_schema(responses=SummaryOutput, operation_id="customers_summary")
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk, _("Customer not found."))
        found = overview.overview_for(request.user, pk)
        return Response(
            SummaryOutput(
                {
                    "open_work": found.open_work,
                    "csat_average": found.csat_average,
                    "csat_count": found.csat_count,
                    "contacts": found.contacts,
                    "contracts_ending": found.contracts_ending,
                    "last_activity": found.last_activity,
                }
            ).data
        )
