"""Survey results for staff: responses (cursor-paginated) and the CSAT / NPS report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound
from core.pagination import paginate
from processes import visibility
from project.api_params import ID_SCHEMA, int_param, page_link

from .. import selectors
from . import serializers as s

PAGE_SIZE = 50


def _tz(request: Request) -> tzinfo:
    name = request.query_params.get("tz") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            _("Unknown time zone."), {"tz": [_("Use an IANA name such as Asia/Shanghai.")]}
        ) from exc


def _moment(request: Request, name: str, tz: tzinfo, *, end: bool) -> datetime | None:
    """An ISO date or date-time; a date alone means its first moment (``since``) or the
    first moment of the next day (``until``, so the day itself is included)."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    assert raw is not None
    try:
        day = parse_date(raw) if len(raw) == 10 else None
        moment = None if day is not None else parse_datetime(raw)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name},
            {name: [_("Use an ISO 8601 date or date-time, e.g. 2026-05-01.")]},
        )
    try:
        if moment is None:
            assert isinstance(day, date)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=tz)
        moment.astimezone(UTC)  # the database and the answer hold it in UTC
    except OverflowError as exc:  # e.g. until=9999-12-31: the next day is past the calendar
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name}, {name: [_("Out of range.")]}
        ) from exc
    return moment


def _period(request: Request, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    since = _moment(request, "since", tz, end=False)
    until = _moment(request, "until", tz, end=True)
    if since is not None and until is not None and until <= since:
        raise InvalidInput(_("The period is empty."), {"until": [_("Must be later than since.")]})
    return since, until


class ResponseListView(APIView):
    error_statuses = {"GET": {404}}  # ?ticket= of a ticket not visible to the caller

    @extend_schema(
        operation_id="surveys_responses_list",
        summary="Survey responses",
        description="Newest answer first. Supervisors and administrators see every "
        "response; an agent sees those of their teams and their own.",
        parameters=[
            OpenApiParameter("ticket", ID_SCHEMA),
            OpenApiParameter("team", ID_SCHEMA),
            OpenApiParameter("agent", ID_SCHEMA),
            OpenApiParameter("since", str, description="answered at or after (ISO 8601)"),
            OpenApiParameter("until", str, description="answered before (ISO 8601)"),
            OpenApiParameter("cursor", str),
        ],
        responses=s.ResponsePageOutput,
    )
    def get(self, request: Request) -> Response:
        qs = selectors.responses_visible_to(request.user)
        if (ticket := int_param(request, "ticket")) is not None:
            if not visibility.can_see(request.user, "ticket", ticket):
                raise NotFound(_("Ticket not found."))
            qs = qs.filter(invitation__ticket_id=ticket)
        if (team := int_param(request, "team")) is not None:
            qs = qs.filter(invitation__team_id=team)
        if (agent := int_param(request, "agent")) is not None:
            qs = qs.filter(invitation__agent_id=agent)
        since, until = _period(request, timezone.get_current_timezone())
        if since is not None:
            qs = qs.filter(answered_at__gte=since)
        if until is not None:
            qs = qs.filter(answered_at__lt=until)
        page = paginate(
            qs,
            field="answered_at",
            descending=True,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )

        return Response(
            {
                "next": page_link(request, page.next),
                "previous": page_link(request, page.previous),
                "results": s.ResponseOutput(page.items, many=True).data,
            }
        )


class ResponseDetailView(APIView):
    @extend_schema(
        operation_id="surveys_responses_retrieve",
        summary="One survey response",
        responses=s.ResponseOutput,
    )
    def get(self, request: Request, pk: int) -> Response:
        response = selectors.responses_visible_to(request.user).filter(pk=pk).first()
        if response is None:
            raise NotFound(_("Survey response not found."))
        return Response(s.ResponseOutput(response).data)


class CsatReportView(APIView):
    @extend_schema(
        summary="CSAT, NPS and response rate",
        description="Invitations sent in the period (by the close that caused them) and "
        "their responses, in total and per agent, team, day, week or month. CSAT % is the "
        "share of 4 and 5 among CSAT scores; NPS is % promoters (9-10) minus % detractors "
        "(0-6); the response rate is responses per invitation sent. Same visibility as "
        "the responses.",
        parameters=[
            OpenApiParameter("group_by", str, enum=list(selectors.GROUPS), default="none"),
            OpenApiParameter("since", str, description="ISO 8601 date or date-time"),
            OpenApiParameter("until", str, description="ISO 8601; a date includes that day"),
            OpenApiParameter("tz", str, description="IANA time zone of days and periods"),
        ],
        responses=s.CsatReportOutput,
    )
    def get(self, request: Request) -> Response:
        group_by = request.query_params.get("group_by") or "none"
        if group_by not in selectors.GROUPS:
            raise InvalidInput(
                _("Unknown grouping."),
                {
                    "group_by": [
                        _("Use one of: %(values)s.") % {"values": ", ".join(selectors.GROUPS)}
                    ]
                },
            )
        tz = _tz(request)
        since, until = _period(request, tz)
        rows, total = selectors.csat_report(
            request.user, group_by=group_by, since=since, until=until, tz=tz
        )
        data: dict[str, Any] = {
            "group_by": group_by,
            "since": since,
            "until": until,
            "timezone": str(tz),
            "total": total,
            "results": rows,
        }
        return Response(s.CsatReportOutput(data).data)
