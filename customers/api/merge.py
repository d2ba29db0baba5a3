"""Duplicates, merge and undo endpoints (docs/customers-merge.md): validate, call the
selector or service, shape the answer."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Forbidden, InvalidInput, NotFound
from core.pagination import paginate
from project.api_params import MAX_ID, int_param, page_link

from .. import permissions
from ..choices import FieldTarget
from ..models import Contact, Customer, DismissedPair, MergeLog
from ..selectors import contacts_visible_to, customers_visible_to
from ..selectors import duplicates as dup
from ..services import duplicates as dismissing
from ..services import merge as merging

CHOICE = serializers.ChoiceField(choices=["kept", "merged"])


# --- inputs ------------------------------------------------------------------------------
class MergeInput(serializers.Serializer[Any]):
    other = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    choose = serializers.DictField(child=CHOICE, required=False, default=dict)


class DismissInput(serializers.Serializer[Any]):
    other = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=dismissing.REASON_LIMIT
    )


# --- outputs -----------------------------------------------------------------------------
class CustomerRefOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ContactOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    title = serializers.CharField()
    language = serializers.CharField()
    birthday = serializers.DateField(allow_null=True)
    preferred_channel = serializers.CharField()
    external_id = serializers.CharField()
    customer = CustomerRefOutput(allow_null=True)
    custom = serializers.DictField()


class CustomerOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.CharField()
    region = serializers.CharField()
    industry = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    owner = serializers.IntegerField(allow_null=True)
    parent_id = serializers.IntegerField(allow_null=True, help_text="the group customer")
    external_id = serializers.CharField()
    custom = serializers.DictField()


class ContactPairOutput(serializers.Serializer[Any]):
    a = ContactOutput()
    b = ContactOutput()
    reasons = serializers.ListField(child=serializers.ChoiceField(["email", "phone", "name"]))


class CustomerPairOutput(serializers.Serializer[Any]):
    a = CustomerOutput()
    b = CustomerOutput()
    reasons = serializers.ListField(child=serializers.ChoiceField(["name", "external_id"]))


class ContactPairPageOutput(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True)
    results = ContactPairOutput(many=True)


class CustomerPairPageOutput(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True)
    results = CustomerPairOutput(many=True)


class MergeLogOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    target = serializers.ChoiceField(FieldTarget.choices)
    kept = serializers.IntegerField()
    merged = serializers.IntegerField()
    moved = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()))
    deleted = serializers.IntegerField(help_text="rows dropped because of a unique constraint")
    actor = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    undone_at = serializers.DateTimeField(allow_null=True)
    undone_by = serializers.IntegerField(allow_null=True)


class DismissalOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    target = serializers.ChoiceField(FieldTarget.choices)
    a = serializers.IntegerField(help_text="the lower id of the pair")
    b = serializers.IntegerField(help_text="the higher id of the pair")
    reason = serializers.CharField()
    actor = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class DismissalPageOutput(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DismissalOutput(many=True)


class MergeLogPageOutput(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MergeLogOutput(many=True)


# --- shaping -----------------------------------------------------------------------------
def contact_out(c: Contact) -> dict[str, Any]:
    customer = c.customer
    return {
        "id": c.pk,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "title": c.title,
        "language": c.language,
        "birthday": c.birthday,
        "preferred_channel": c.preferred_channel,
        "external_id": c.external_id,
        "customer": {"id": customer.pk, "name": customer.name} if customer else None,
        "custom": c.custom or {},
    }


def customer_out(c: Customer) -> dict[str, Any]:
    return {
        "id": c.pk,
        "kind": c.kind,
        "name": c.name,
        "tier": c.tier,
        "region": c.region,
        "industry": c.industry,
        "tags": [str(t) for t in c.tags or []],
        "owner": c.owner_id,
        "parent_id": c.parent_id,
        "external_id": c.external_id,
        "custom": c.custom or {},
    }


def log_out(log: MergeLog) -> dict[str, Any]:
    return {
        "id": log.pk,
        "target": log.target,
        "kept": log.kept_id,
        "merged": log.merged_id,
        "moved": log.moved,
        "deleted": len((log.before or {}).get(merging.DELETED, [])),
        "actor": log.actor_id,
        "created_at": log.created_at,
        "undone_at": log.undone_at,
        "undone_by": log.undone_by_id,
    }


def dismissal_out(pair: DismissedPair) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "target": pair.target,
        "a": pair.low_id,
        "b": pair.high_id,
        "reason": pair.reason,
        "actor": pair.actor_id,
        "created_at": pair.created_at,
    }


def _may_merge(request: Request) -> Any:
    if not permissions.can_merge(request.user):
        raise Forbidden(_("You may not merge records."))
    return request.user


def _may_review(request: Request) -> Any:
    if not permissions.can_merge(request.user):
        raise Forbidden(_("You may not review duplicates."))
    return request.user


def _valid(data: Any, shape: type[serializers.Serializer[Any]] = MergeInput) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(
            _("Expected a JSON object."), {"non_field_errors": [_("Expected an object.")]}
        )
    serializer = shape(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _limit(request: Request) -> int:
    return min(int_param(request, "limit") or dup.PAGE_SIZE, dup.MAX_PAGE_SIZE)


PAIR_PARAMS = [
    OpenApiParameter("cursor", str),
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": dup.MAX_PAGE_SIZE}),
]


def _pk(pk: int) -> int:
    if pk > MAX_ID:
        raise NotFound(_("Not found."))
    return pk


# --- views -------------------------------------------------------------------------------
class ContactDuplicatesView(APIView):
    @extend_schema(
        parameters=PAIR_PARAMS,
        responses=ContactPairPageOutput,
        operation_id="contacts_duplicates",
    )
    def get(self, request: Request) -> Response:
        _may_merge(request)
        page = dup.contact_pairs(
            request.user, cursor=request.query_params.get("cursor"), limit=_limit(request)
        )
        ids = {p.a for p in page.pairs} | {p.b for p in page.pairs}
        rows = Contact.objects.select_related("customer").in_bulk(ids)
        results = [
            {"a": contact_out(rows[p.a]), "b": contact_out(rows[p.b]), "reasons": p.reasons}
            for p in page.pairs
        ]
        return Response(
            ContactPairPageOutput({"next": page_link(request, page.next), "results": results}).data
        )


class CustomerDuplicatesView(APIView):
    @extend_schema(
        parameters=PAIR_PARAMS,
        responses=CustomerPairPageOutput,
        operation_id="customers_duplicates",
    )
    def get(self, request: Request) -> Response:
        _may_merge(request)
        page = dup.customer_pairs(
            request.user, cursor=request.query_params.get("cursor"), limit=_limit(request)
        )
        ids = {p.a for p in page.pairs} | {p.b for p in page.pairs}
        rows = Customer.objects.in_bulk(ids)
        results = [
            {"a": customer_out(rows[p.a]), "b": customer_out(rows[p.b]), "reasons": p.reasons}
            for p in page.pairs
        ]
        return Response(
            CustomerPairPageOutput({"next": page_link(request, page.next), "results": results}).data
        )


class ContactMergeView(APIView):
    error_statuses = {"POST": {409}}

    @extend_schema(
        request=MergeInput,
        responses={200: ContactOutput},
        operation_id="contacts_merge",
        description="Merges contact ``other`` into this one (kept): every reference moves; "
        "``choose`` says, per field, whose value the kept contact ends with.",
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _may_merge(request)
        data = _valid(request.data)
        visible = contacts_visible_to(user)
        ids = [_pk(pk), data["other"]]
        if visible.filter(pk__in=ids).count() != len(set(ids)):
            raise NotFound(_("Contact not found."))
        merging.merge_contacts(user, _pk(pk), data["other"], data["choose"])
        kept = Contact.objects.select_related("customer").get(pk=pk)
        return Response(ContactOutput(contact_out(kept)).data)


class CustomerMergeView(APIView):
    error_statuses = {"POST": {409}}

    @extend_schema(
        request=MergeInput,
        responses={200: CustomerOutput},
        operation_id="customers_merge",
        description="Merges customer ``other`` into this one (kept), its contacts included.",
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _may_merge(request)
        data = _valid(request.data)
        visible = customers_visible_to(user)
        ids = [_pk(pk), data["other"]]
        if visible.filter(pk__in=ids).count() != len(set(ids)):
            raise NotFound(_("Customer not found."))
        merging.merge_customers(user, _pk(pk), data["other"], data["choose"])
        return Response(CustomerOutput(customer_out(Customer.objects.get(pk=pk))).data)


class MergeListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("target", str, enum=["customer", "contact"]),
            OpenApiParameter("cursor", str),
        ],
        responses=MergeLogPageOutput,
        operation_id="merges_list",
    )
    def get(self, request: Request) -> Response:
        _may_merge(request)
        rows = MergeLog.objects.all()
        target = request.query_params.get("target")
        if target:
            if target not in ("customer", "contact"):
                raise InvalidInput(_("Unknown kind."), {"target": [_("Unknown kind.")]})
            rows = rows.filter(target=target)
        page = paginate(
            rows,
            field="created_at",
            descending=True,
            cursor=request.query_params.get("cursor"),
            limit=dup.PAGE_SIZE,
        )
        return Response(
            MergeLogPageOutput(
                {
                    "next": page_link(request, page.next),
                    "previous": page_link(request, page.previous),
                    "results": [log_out(log) for log in page.items],
                }
            ).data
        )


class MergeUndoView(APIView):
    error_statuses = {"POST": {409}}

    @extend_schema(request=None, responses={200: MergeLogOutput}, operation_id="merges_undo")
    def post(self, request: Request, pk: int) -> Response:
        user = _may_merge(request)
        log = merging.undo_merge(user, _pk(pk))
        return Response(MergeLogOutput(log_out(log)).data)


# --- not a duplicate ---------------------------------------------------------------------
def _dismiss(request: Request, pk: int, target: str) -> Response:
    user = _may_review(request)
    data = _valid(request.data, DismissInput)
    visible = (
        contacts_visible_to(user) if target == FieldTarget.CONTACT else customers_visible_to(user)
    )
    ids = [_pk(pk), data["other"]]
    if visible.filter(pk__in=ids).count() != len(set(ids)):
        raise NotFound(
            _("Contact not found.") if target == FieldTarget.CONTACT else _("Customer not found.")
        )
    pair, created = dismissing.dismiss_pair(user, target, pk, data["other"], data["reason"])
    return Response(
        DismissalOutput(dismissal_out(pair)).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


DISMISS_DESCRIPTION = (
    "Marks this record and ``other`` as not duplicates: the duplicates list leaves the pair "
    "out. 201 with the new dismissal; 200 with the existing one when the pair is already "
    "dismissed (nothing changes). A merged-away record is not found (404); 409 when one is "
    "merged away while the request runs."
)


class ContactDismissView(APIView):
    error_statuses = {"POST": {409}}

    @extend_schema(
        request=DismissInput,
        responses={201: DismissalOutput, 200: DismissalOutput},
        operation_id="contacts_not_duplicate",
        description=DISMISS_DESCRIPTION,
    )
    def post(self, request: Request, pk: int) -> Response:
        return _dismiss(request, pk, FieldTarget.CONTACT)


class CustomerDismissView(APIView):
    error_statuses = {"POST": {409}}

    @extend_schema(
        request=DismissInput,
        responses={201: DismissalOutput, 200: DismissalOutput},
        operation_id="customers_not_duplicate",
        description=DISMISS_DESCRIPTION,
    )
    def post(self, request: Request, pk: int) -> Response:
        return _dismiss(request, pk, FieldTarget.CUSTOMER)


class DismissalListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("target", str, enum=["customer", "contact"]),
            OpenApiParameter("cursor", str),
        ],
        responses=DismissalPageOutput,
        operation_id="duplicate_dismissals_list",
        description="Pairs marked not duplicates, newest first.",
    )
    def get(self, request: Request) -> Response:
        user = _may_review(request)
        target = request.query_params.get("target") or None
        if target is not None and target not in ("customer", "contact"):
            raise InvalidInput(_("Unknown kind."), {"target": [_("Unknown kind.")]})
        page = dup.dismissed_pairs(
            user, target=target, cursor=request.query_params.get("cursor"), limit=dup.PAGE_SIZE
        )
        return Response(
            DismissalPageOutput(
                {
                    "next": page_link(request, page.next),
                    "previous": page_link(request, page.previous),
                    "results": [dismissal_out(pair) for pair in page.items],
                }
            ).data
        )


class DismissalRestoreView(APIView):
    @extend_schema(
        request=None,
        responses={204: None},
        operation_id="duplicate_dismissals_restore",
        description="Undoes a dismissal: the pair is listed as a likely duplicate again.",
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _may_review(request)
        dismissing.restore_pair(user, _pk(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
