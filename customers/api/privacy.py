"""Privacy request endpoints (docs/customers-privacy.md): validate, call the service or
selector, shape the output. Administrators and managers only (403 for anyone else); a step
in the wrong state is 409."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from core.pagination import paginate
from project.api_params import page_link

from ..choices import PrivacyKind, PrivacyStatus
from ..models import PrivacyRequest
from ..selectors import contacts_visible_to
from ..selectors import privacy as selectors
from ..services import privacy as services

PAGE_SIZE = 50
STATES = {"open": selectors.OPEN, "closed": (PrivacyStatus.DONE, PrivacyStatus.REFUSED)}


class PrivacyRequestInput(serializers.Serializer):
    contact = serializers.IntegerField(min_value=1, max_value=2**53)
    kind = serializers.ChoiceField(choices=PrivacyKind.choices)
    details = serializers.DictField(required=False, default=dict)
    received_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RefuseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ClockOutput(serializers.Serializer):
    due = serializers.DateTimeField(allow_null=True)
    warning = serializers.BooleanField()
    breached = serializers.BooleanField()
    stopped_at = serializers.DateTimeField(allow_null=True)


class PrivacyRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=PrivacyKind.choices)
    status = serializers.ChoiceField(choices=PrivacyStatus.choices)
    contact = serializers.IntegerField(source="contact_id")
    customer = serializers.IntegerField(source="contact.customer_id", allow_null=True)
    details = serializers.DictField()
    note = serializers.CharField()
    refusal_reason = serializers.CharField()
    received_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    handler = serializers.IntegerField(source="handler_id", allow_null=True)
    has_export = serializers.SerializerMethodField()
    clock = serializers.SerializerMethodField()

    def get_has_export(self, obj: PrivacyRequest) -> bool:
        return bool(obj.export)

    @extend_schema_field(ClockOutput(allow_null=True))
    def get_clock(self, obj: PrivacyRequest) -> dict[str, Any] | None:
        row = services.clock_of(obj)
        if row is None:
            return None
        return {
            "due": row.due or obj.due_at,
            "warning": row.warning,
            "breached": row.breached,
            "stopped_at": row.stopped_at,
        }


class PrivacyRequestPageOutput(serializers.Serializer):
    """A cursor page: ``next`` / ``previous`` are full URLs (null at either end)."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PrivacyRequestOutput(many=True)


def _output(row: PrivacyRequest, code: int = status.HTTP_200_OK) -> Response:
    return Response(PrivacyRequestOutput(row).data, status=code)


class PrivacyRequestListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state", str, enum=list(STATES), description="open (default) or closed"
            ),
            OpenApiParameter("cursor", str),
        ],
        responses=PrivacyRequestPageOutput,
        operation_id="privacy_requests_list",
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state", "open")
        if state not in STATES:
            raise InvalidInput(_("Unknown state."), {"state": [", ".join(STATES)]})
        rows = selectors.requests_visible_to(request.user).filter(status__in=STATES[state])
        page = paginate(
            rows,
            field="due_at",
            descending=state == "closed",
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )
        return Response(
            PrivacyRequestPageOutput(
                {
                    "next": page_link(request, page.next),
                    "previous": page_link(request, page.previous),
                    "results": page.items,
                }
            ).data
        )

    @extend_schema(
        request=PrivacyRequestInput,
        responses={201: PrivacyRequestOutput},
        operation_id="privacy_requests_create",
    )
    def post(self, request: Request) -> Response:
        selectors.requests_visible_to(request.user)  # 403 before reading the body
        data = PrivacyRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        contact = contacts_visible_to(request.user).filter(pk=values["contact"]).first()
        if contact is None:
            raise InvalidInput(_("Check the request."), {"contact": [_("No such contact.")]})
        row = services.record_request(
            request.user,
            contact,
            values["kind"],
            values.get("details") or {},
            values.get("received_at"),
            values.get("note", ""),
        )
        return _output(row, status.HTTP_201_CREATED)


class PrivacyRequestDetailView(APIView):
    @extend_schema(responses=PrivacyRequestOutput, operation_id="privacy_requests_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return _output(selectors.request_for(request.user, pk))


class _StepView(APIView):
    error_statuses = {"POST": {409}}


class PrivacyRequestStartView(_StepView):
    @extend_schema(
        request=None, responses=PrivacyRequestOutput, operation_id="privacy_requests_start"
    )
    def post(self, request: Request, pk: int) -> Response:
        row = selectors.request_for(request.user, pk)
        return _output(services.start_request(request.user, row))


class PrivacyRequestCompleteView(_StepView):
    @extend_schema(
        request=None,
        responses=PrivacyRequestOutput,
        operation_id="privacy_requests_complete",
        description="Carries the request out: access (export and link by email), correction "
        "(the details applied) or erasure (refused with the reason when a hold applies).",
    )
    def post(self, request: Request, pk: int) -> Response:
        row = selectors.request_for(request.user, pk)
        return _output(services.complete_request(request.user, row))


class PrivacyRequestRefuseView(_StepView):
    @extend_schema(
        request=RefuseInput, responses=PrivacyRequestOutput, operation_id="privacy_requests_refuse"
    )
    def post(self, request: Request, pk: int) -> Response:
        row = selectors.request_for(request.user, pk)
        data = RefuseInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _output(services.refuse_request(request.user, row, data.validated_data["reason"]))
