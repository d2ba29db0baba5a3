"""Segments, consent and suppression endpoints (docs/customers-segments.md): validate,
call a service or selector, shape the output.

Marketing (and administrators, managers, supervisors) use all of them; agents record
consent; analysts read segments and their counts only."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Forbidden, InvalidInput
from core.pagination import paginate
from core.params import MAX_ID
from project.api_params import page_link

from .. import permissions
from ..choices import ConsentSource, PointKind, Purpose, SegmentKind, SuppressionReason
from ..models import Segment, SegmentSnapshot, Suppression
from ..selectors import consent as consent_selectors
from ..selectors import contact_row
from ..selectors import segments as selectors
from ..services import consent as consent_services
from ..services import segments as services

PAGE_SIZE = 50


# --- serializers -------------------------------------------------------------------------
class SegmentInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    kind = serializers.ChoiceField(
        choices=SegmentKind.choices, required=False, default=SegmentKind.DYNAMIC
    )
    definition = serializers.JSONField(required=False, default=dict)


class SegmentPatchInput(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    definition = serializers.JSONField(required=False)


class PreviewInput(serializers.Serializer):
    definition = serializers.JSONField()


class MembersInput(serializers.Serializer):
    add = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=services.MAX_MEMBERS_PER_CALL,
    )
    remove = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=services.MAX_MEMBERS_PER_CALL,
    )


class ConsentInput(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    granted = serializers.BooleanField()
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a field named like .source
        choices=ConsentSource.choices, default=ConsentSource.AGENT
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SuppressionInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PointKind.choices)
    address = serializers.CharField(max_length=254)
    reason = serializers.ChoiceField(
        choices=SuppressionReason.choices, default=SuppressionReason.MANUAL
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SegmentCustomerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SegmentContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    customer = SegmentCustomerOutput(allow_null=True)


class SegmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=SegmentKind.choices)
    definition = serializers.JSONField()
    count = serializers.IntegerField()
    owner = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PreviewOutput(serializers.Serializer):
    count = serializers.IntegerField()
    sample = SegmentContactOutput(many=True)


class ContactPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SegmentContactOutput(many=True)


class MembersOutput(serializers.Serializer):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    count = serializers.IntegerField()


class SnapshotOutput(serializers.Serializer):
    id = serializers.IntegerField()
    segment = serializers.IntegerField()
    size = serializers.IntegerField()
    definition = serializers.JSONField()
    taken_by = serializers.IntegerField(allow_null=True)
    taken_at = serializers.DateTimeField()


class ConsentOutput(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like .label
    granted = serializers.BooleanField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]  # a field named like .source
    at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()
    actor = serializers.IntegerField(allow_null=True)


class SuppressionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PointKind.choices)
    address = serializers.CharField()
    reason = serializers.ChoiceField(choices=SuppressionReason.choices)
    note = serializers.CharField()
    created_by = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class SuppressionPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SuppressionOutput(many=True)


# --- helpers -----------------------------------------------------------------------------
def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(
            _("Expected a JSON object."), {"non_field_errors": [_("Expected an object.")]}
        )
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _check_pk(pk: int) -> None:
    if pk > MAX_ID:
        from core.errors import NotFound

        raise NotFound(_("No such segment."))


def _reader(request: Request) -> Any:
    """Who may read segments: their managers and analysts (counts)."""
    user = request.user
    if not (permissions.can_manage_segments(user) or permissions.sees_every_customer(user)):
        raise Forbidden(_("You may not see segments."))
    return user


def _manager(request: Request) -> Any:
    user = request.user
    if not permissions.can_manage_segments(user):
        raise Forbidden(_("You may not manage segments."))
    return user


def _segment_row(segment: Segment, user: Any) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "definition": segment.definition,
        "count": selectors.segment_size(segment, user),
        "owner": segment.owner_id,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _snapshot_row(snapshot: SegmentSnapshot) -> dict[str, Any]:
    return {
        "id": snapshot.pk,
        "segment": snapshot.segment_id,
        "size": snapshot.size,
        "definition": snapshot.definition,
        "taken_by": snapshot.taken_by_id,
        "taken_at": snapshot.taken_at,
    }


def _suppression_row(row: Suppression) -> dict[str, Any]:
    return {
        "id": row.pk,
        "kind": row.kind,
        "address": row.address,
        "reason": row.reason,
        "note": row.note,
        "created_by": row.created_by_id,
        "created_at": row.created_at,
    }


CURSOR = OpenApiParameter("cursor", str, description="the cursor of a next or previous link")


# --- segments ----------------------------------------------------------------------------
class SegmentListView(APIView):
    @extend_schema(responses=SegmentOutput(many=True), operation_id="segments_list")
    def get(self, request: Request) -> Response:
        user = _reader(request)
        rows = [_segment_row(s, user) for s in selectors.segments_visible_to(user)[:500]]
        return Response(SegmentOutput(rows, many=True).data)

    @extend_schema(
        request=SegmentInput, responses={201: SegmentOutput}, operation_id="segments_create"
    )
    def post(self, request: Request) -> Response:
        user = _manager(request)
        data = _valid(SegmentInput, request.data)
        segment = services.create_segment(user, data)
        return Response(SegmentOutput(_segment_row(segment, user)).data, status.HTTP_201_CREATED)


class SegmentDetailView(APIView):
    @extend_schema(responses=SegmentOutput, operation_id="segments_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        user = _reader(request)
        segment = selectors.get_segment(user, pk)
        return Response(SegmentOutput(_segment_row(segment, user)).data)

    @extend_schema(
        request=SegmentPatchInput, responses=SegmentOutput, operation_id="segments_update"
    )
    def patch(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        user = _manager(request)
        segment = selectors.get_segment(user, pk)
        data = _valid(SegmentPatchInput, request.data)
        segment = services.update_segment(user, segment, data)
        return Response(SegmentOutput(_segment_row(segment, user)).data)

    @extend_schema(responses={204: None}, operation_id="segments_destroy")
    def delete(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        user = _manager(request)
        segment = selectors.get_segment(user, pk)
        services.delete_segment(user, segment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentPreviewView(APIView):
    @extend_schema(request=PreviewInput, responses=PreviewOutput, operation_id="segments_preview")
    def post(self, request: Request) -> Response:
        user = _manager(request)
        data = _valid(PreviewInput, request.data)
        definition = data["definition"]
        count = selectors.count_segment(user, definition)
        sample = [contact_row(c) for c in selectors.preview_segment(user, definition)]
        return Response(PreviewOutput({"count": count, "sample": sample}).data)


class SegmentContactsView(APIView):
    @extend_schema(
        parameters=[CURSOR], responses=ContactPageOutput, operation_id="segments_contacts"
    )
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        user = _manager(request)
        segment = selectors.get_segment(user, pk)
        page = paginate(
            selectors.segment_contacts(segment, user).select_related("customer"),
            field="id",
            descending=False,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )
        return Response(
            ContactPageOutput(
                {
                    "next": page_link(request, page.next),
                    "previous": page_link(request, page.previous),
                    "results": [contact_row(c) for c in page.items],
                }
            ).data
        )


class SegmentMembersView(APIView):
    @extend_schema(request=MembersInput, responses=MembersOutput, operation_id="segments_members")
    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        user = _manager(request)
        segment = selectors.get_segment(user, pk)
        data = _valid(MembersInput, request.data)
        result = services.change_members(user, segment, add=data["add"], remove=data["remove"])
        count = selectors.segment_size(segment, user)
        return Response(MembersOutput({**result, "count": count}).data)


class SegmentFreezeView(APIView):
    @extend_schema(request=None, responses={201: SnapshotOutput}, operation_id="segments_freeze")
    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        user = _manager(request)
        segment = selectors.get_segment(user, pk)
        snapshot = services.freeze_segment(user, segment)
        return Response(SnapshotOutput(_snapshot_row(snapshot)).data, status.HTTP_201_CREATED)


# --- consent -----------------------------------------------------------------------------
class ContactConsentsView(APIView):
    @extend_schema(responses=ConsentOutput(many=True), operation_id="contacts_consents_list")
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        if not permissions.can_record_consent(request.user):
            raise Forbidden(_("You may not see consent."))
        contact = consent_selectors.contact_for_consent(request.user, pk)
        return Response(ConsentOutput(consent_selectors.consents_of(contact), many=True).data)

    @extend_schema(
        request=ConsentInput,
        responses=ConsentOutput(many=True),
        operation_id="contacts_consents_record",
    )
    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        if not permissions.can_record_consent(request.user):
            raise Forbidden(_("You may not record consent."))
        contact = consent_selectors.contact_for_consent(request.user, pk)
        data = _valid(ConsentInput, request.data)
        consent_services.set_consent(
            request.user, contact, data["purpose"], data["granted"], data["source"], data["note"]
        )
        return Response(ConsentOutput(consent_selectors.consents_of(contact), many=True).data)


# --- suppression -------------------------------------------------------------------------
class SuppressionListView(APIView):
    @extend_schema(
        parameters=[
            CURSOR,
            OpenApiParameter("search", str, description="the start of an address"),
        ],
        responses=SuppressionPageOutput,
        operation_id="suppressions_list",
    )
    def get(self, request: Request) -> Response:
        rows = consent_selectors.suppressions_for(request.user)
        search = (request.query_params.get("search") or "").strip().lower()[:254]
        if search:
            rows = rows.filter(address__startswith=search)
        page = paginate(
            rows,
            field="id",
            descending=True,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )
        return Response(
            SuppressionPageOutput(
                {
                    "next": page_link(request, page.next),
                    "previous": page_link(request, page.previous),
                    "results": [_suppression_row(r) for r in page.items],
                }
            ).data
        )

    @extend_schema(
        request=SuppressionInput,
        responses={201: SuppressionOutput},
        operation_id="suppressions_create",
    )
    def post(self, request: Request) -> Response:
        if not permissions.can_manage_suppression(request.user):
            raise Forbidden(_("You may not change the suppression list."))
        data = _valid(SuppressionInput, request.data)
        row = consent_services.suppress(
            data["kind"], data["address"], data["reason"], request.user, data["note"]
        )
        return Response(SuppressionOutput(_suppression_row(row)).data, status.HTTP_201_CREATED)


class SuppressionDetailView(APIView):
    @extend_schema(responses={204: None}, operation_id="suppressions_destroy")
    def delete(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        row = consent_selectors.get_suppression(request.user, pk)
        consent_services.lift_suppression(request.user, row)
        return Response(status=status.HTTP_204_NO_CONTENT)
