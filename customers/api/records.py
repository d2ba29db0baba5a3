"""The records API: customers, contacts, their emails and phones, contracts, legal holds and
custom fields (docs/api.md, "Customers and contacts"). Thin: types checked here, values and
permissions by ``customers.services.records``, reads by ``customers.selectors``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Forbidden, InvalidInput, NotFound
from core.pagination import paginate
from core.params import MAX_ID
from project.api_params import ID_SCHEMA, page_link

from .. import permissions
from .. import selectors as customer_selectors
from ..choices import CustomerKind, CustomerTier, FieldTarget, Language, PreferredChannel
from ..fields import labelled_values
from ..models import Contact, Customer, CustomField, LegalHold
from ..selectors import lists, records
from ..services import records as services
from . import serializers_records as s

PAGE_SIZE = 50
MASK = permissions.MASK


class StaffOnly(drf_permissions.BasePermission):
    """Members of staff (any of Kefu's roles); what each may do the services decide."""

    message = gettext_lazy("Only staff may do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and permissions.is_staff_member(user))


class StaffWhoSearchContacts(StaffOnly):
    # The contact search's refusal, as the new-ticket screen has always read it.
    message = gettext_lazy("Only agents, supervisors and administrators may do this.")


def _valid(
    serializer_class: type[serializers.Serializer], data: Any, *, partial: bool = False
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(
            _("Expected a JSON object."), {"non_field_errors": [_("Expected an object.")]}
        )
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _check_pk(*pks: int) -> None:
    if any(pk > MAX_ID for pk in pks):
        raise NotFound(_("Not found."))


def _user_ref(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.username}


def _ref(customer: Customer | None, masked: bool) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {"id": customer.pk, "name": _customer_name(customer, masked)}


def _customer_name(customer: Customer, masked: bool) -> str:
    return MASK if masked and customer.kind == CustomerKind.INDIVIDUAL else customer.name


def _masked(user: Any) -> bool:
    return not permissions.sees_personal_data(user)


def _page(request: Request, rows: Any, output: Any, row: Any) -> Response:
    """One keyset page of a list (by name, then id), each row shaped by ``row`` with the
    reader's masking."""
    page = paginate(
        rows,
        field="name",
        descending=False,
        cursor=request.query_params.get("cursor"),
        limit=PAGE_SIZE,
    )
    masked = _masked(request.user)
    results = [row(item, masked) for item in page.items]
    return Response(
        output(
            {
                "next": page_link(request, page.next),
                "previous": page_link(request, page.previous),
                "results": results,
            }
        ).data
    )


def customer_row(customer: Customer, masked: bool) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "kind": customer.kind,
        "name": _customer_name(customer, masked),
        "tier": customer.tier,
        "region": customer.region,
        "industry": customer.industry,
        "tags": list(customer.tags or []),
        "owner": _user_ref(customer.owner),
        "parent": _ref(customer.parent, masked),
        "external_id": customer.external_id,
        "updated": customer.updated_at,
    }


def _contract(contract: Any) -> dict[str, Any]:
    return {
        "id": contract.pk,
        "kind": contract.kind,
        "name": contract.name,
        "reference": contract.reference,
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
        "auto_renew": contract.auto_renew,
        "value": contract.value,
    }


def _hold(hold: LegalHold) -> dict[str, Any]:
    return {
        "id": hold.pk,
        "customer": hold.customer_id,
        "contact": hold.contact_id,
        "reason": hold.reason,
        "created_by": _user_ref(hold.created_by),
        "created": hold.created_at,
        "released_at": hold.released_at,
    }


def customer_detail(user: Any, customer_id: int) -> dict[str, Any]:
    customer = records.get_customer_for(user, customer_id)
    masked = _masked(user)
    holds = None
    if permissions.can_manage_fields(user):
        holds = [_hold(h) for h in customer.legal_holds.all()]
    return s.CustomerRecordOutput(
        {
            **customer_row(customer, masked),
            "custom": dict(customer.custom or {}),
            "custom_fields": labelled_values(FieldTarget.CUSTOMER, dict(customer.custom or {})),
            "subsidiaries": [_ref(c, masked) for c in customer.subsidiaries.all()],
            "contracts": [_contract(c) for c in customer.contracts.all()],
            "legal_holds": holds,
            "created": customer.created_at,
        }
    ).data


def contact_row(contact: Contact, masked: bool) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": MASK if masked and contact.name else contact.name,
        "email": MASK if masked and contact.email else contact.email,
        "phone": MASK if masked and contact.phone else contact.phone,
        "customer": _ref(contact.customer, masked),
    }


def _contact_list_row(contact: Contact, masked: bool) -> dict[str, Any]:
    return {
        **contact_row(contact, masked),
        "title": contact.title,
        "language": contact.language,
        "preferred_channel": contact.preferred_channel,
        "external_id": contact.external_id,
        "updated": contact.updated_at,
    }


def contact_detail(user: Any, contact_id: int, *, audit_read: bool = True) -> dict[str, Any]:
    contact = records.get_contact_for(user, contact_id)
    masked = _masked(user)
    if audit_read and not masked:
        services.record_personal_data_viewed(actor=user, contact=contact)
    birthday = contact.birthday.isoformat() if contact.birthday else None
    return s.ContactRecordOutput(
        {
            **_contact_list_row(contact, masked),
            "birthday": MASK if masked and birthday else birthday,
            "custom": dict(contact.custom or {}),
            "custom_fields": labelled_values(FieldTarget.CONTACT, dict(contact.custom or {})),
            "points": [
                {
                    "id": p.pk,
                    "kind": p.kind,
                    "value": MASK if masked else p.value,
                    "label": p.label,
                }
                for p in contact.points.all()
            ],
            "created": contact.created_at,
        }
    ).data


def _field(field: CustomField) -> dict[str, Any]:
    return {
        "id": field.pk,
        "target": field.target,
        "key": field.key,
        "label": field.label,
        "label_zh": field.label_zh,
        "type": field.type,
        "choices": list(field.choices or []),
        "required": field.required,
        "position": field.position,
        "is_active": field.is_active,
    }


def _choices(values: list[str]) -> str:
    return "|".join(values)


CUSTOMER_LIST_PARAMETERS = [
    OpenApiParameter(
        "q",
        {"type": "string", "maxLength": lists.Q_MAX_LENGTH},
        description="part of the name (Chinese too), or the external id",
    ),
    OpenApiParameter("kind", str, enum=list(CustomerKind.values)),
    OpenApiParameter("tier", str, enum=list(CustomerTier.values)),
    OpenApiParameter("region", {"type": "string", "maxLength": 64}),
    OpenApiParameter("industry", {"type": "string", "maxLength": 64}),
    OpenApiParameter("tag", {"type": "string", "maxLength": 64}),
    OpenApiParameter(
        "owner",
        {"type": "string", "pattern": "^(me|[1-9][0-9]{0,18})$"},
        description="the account owner: a user id or `me`",
    ),
    OpenApiParameter("parent", ID_SCHEMA, description="a group customer's subsidiaries"),
    OpenApiParameter("cursor", str),
]

CONTACT_LIST_PARAMETERS = [
    OpenApiParameter(
        "search",
        {"type": "string", "minLength": 1, "maxLength": customer_selectors.SEARCH_MAX_LENGTH},
        description=(
            "The contact search of the new-ticket screen: the start of an email address, a "
            "name, a customer's name, or phone digits (from the start of the number, and from "
            "its end from 7 digits). Given, the answer is `{results}` (at most 20, no pages; "
            "the other parameters are ignored)."
        ),
    ),
    OpenApiParameter(
        "q",
        {"type": "string", "maxLength": lists.Q_MAX_LENGTH},
        description="part of the name, email or phone digits",
    ),
    OpenApiParameter("customer", ID_SCHEMA),
    OpenApiParameter("language", str, enum=list(Language.values)),
    OpenApiParameter("preferred_channel", str, enum=list(PreferredChannel.values)),
    OpenApiParameter("tier", str, enum=list(CustomerTier.values)),
    OpenApiParameter("region", {"type": "string", "maxLength": 64}),
    OpenApiParameter("tag", {"type": "string", "maxLength": 64}),
    OpenApiParameter("cursor", str),
]


# --- customers ---------------------------------------------------------------------------
class CustomerListView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        parameters=CUSTOMER_LIST_PARAMETERS,
        responses=s.CustomerRecordPageOutput,
        operation_id="customers_list",
    )
    def get(self, request: Request) -> Response:
        rows = lists.customers_matching(request.user, request.query_params).select_related(
            "owner", "parent"
        )
        return _page(request, rows, s.CustomerRecordPageOutput, customer_row)

    @extend_schema(
        request=s.CustomerRecordInput,
        responses={201: s.CustomerRecordOutput},
        operation_id="customers_create",
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.CustomerRecordInput, request.data)
        customer = services.create_customer(actor=request.user, data=data)
        return Response(customer_detail(request.user, customer.pk), status=status.HTTP_201_CREATED)


class CustomerDetailView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(responses=s.CustomerRecordOutput, operation_id="customers_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        return Response(customer_detail(request.user, pk))

    @extend_schema(
        request=s.CustomerRecordInput(partial=True),
        responses=s.CustomerRecordOutput,
        operation_id="customers_update",
    )
    def patch(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        data = _valid(s.CustomerRecordInput, request.data, partial=True)
        services.update_customer(actor=request.user, customer_id=pk, data=data)
        return Response(customer_detail(request.user, pk))


class CustomerContractsView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        responses=s.ContractRecordOutput(many=True), operation_id="customers_contracts_list"
    )
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        customer = records.get_customer_for(request.user, pk)
        return Response(
            s.ContractRecordOutput([_contract(c) for c in customer.contracts.all()], many=True).data
        )

    @extend_schema(
        request=s.ContractRecordInput,
        responses={201: s.ContractRecordOutput},
        operation_id="customers_contracts_create",
    )
    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        data = _valid(s.ContractRecordInput, request.data)
        contract = services.add_contract(actor=request.user, customer_id=pk, data=data)
        return Response(
            s.ContractRecordOutput(_contract(contract)).data, status=status.HTTP_201_CREATED
        )


class CustomerContractView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        request=s.ContractRecordInput(partial=True),
        responses=s.ContractRecordOutput,
        operation_id="customers_contracts_update",
    )
    def patch(self, request: Request, pk: int, cid: int) -> Response:
        _check_pk(pk, cid)
        data = _valid(s.ContractRecordInput, request.data, partial=True)
        contract = services.update_contract(
            actor=request.user, customer_id=pk, contract_id=cid, data=data
        )
        return Response(s.ContractRecordOutput(_contract(contract)).data)

    @extend_schema(responses={204: None}, operation_id="customers_contracts_delete")
    def delete(self, request: Request, pk: int, cid: int) -> Response:
        _check_pk(pk, cid)
        services.remove_contract(actor=request.user, customer_id=pk, contract_id=cid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerLegalHoldsView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        request=s.LegalHoldRecordInput,
        responses={201: s.LegalHoldRecordOutput},
        operation_id="customers_legal_holds_create",
    )
    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        data = _valid(s.LegalHoldRecordInput, request.data)
        hold = services.place_legal_hold(actor=request.user, customer_id=pk, reason=data["reason"])
        return Response(s.LegalHoldRecordOutput(_hold(hold)).data, status=status.HTTP_201_CREATED)


class LegalHoldReleaseView(APIView):
    permission_classes = [StaffOnly]
    error_statuses = {"POST": {409}}

    @extend_schema(
        request=None, responses=s.LegalHoldRecordOutput, operation_id="legal_holds_release"
    )
    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        records.get_legal_hold_for(request.user, pk)
        hold = services.release_legal_hold(actor=request.user, hold_id=pk)
        return Response(s.LegalHoldRecordOutput(_hold(hold)).data)


# --- contacts ----------------------------------------------------------------------------
def _search(request: Request, text: str) -> Response:
    """The contact search of the new-ticket screen, answered as it always has been
    (docs/api.md): at most 20 rows, no pages."""
    text = text.strip()
    if not text:
        raise InvalidInput(
            _("Say what to search for."),
            {"search": [_("Type part of an email, phone or name.")]},
        )
    if len(text) > customer_selectors.SEARCH_MAX_LENGTH:
        raise InvalidInput(
            _("Search text too long."),
            {
                "search": [
                    _("At most %(count)s characters.")
                    % {"count": customer_selectors.SEARCH_MAX_LENGTH}
                ]
            },
        )
    visible = records.contacts_visible_q(request.user)
    found = customer_selectors.search_contacts(text, visible=visible)
    masked = _masked(request.user)
    return Response(
        {"results": [contact_row(c, masked) for c in found if c.merged_into_id is None]}
    )


class ContactListView(APIView):
    permission_classes = [StaffWhoSearchContacts]

    @extend_schema(
        parameters=CONTACT_LIST_PARAMETERS,
        responses=s.ContactRecordPageOutput,
        operation_id="contacts_list",
        description=(
            "With `search`, the contact search (`{results}`, at most 20, the shape of "
            "`ContactSearchOutput`); without, the list: cursor pages ordered by name then id."
        ),
    )
    def get(self, request: Request) -> Response:
        if "search" in request.query_params:
            return _search(request, request.query_params.get("search", ""))
        rows = lists.contacts_matching(request.user, request.query_params).select_related(
            "customer"
        )
        return _page(request, rows, s.ContactRecordPageOutput, _contact_list_row)

    @extend_schema(
        request=s.ContactRecordInput,
        responses={201: s.ContactRecordOutput},
        operation_id="contacts_create",
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ContactRecordInput, request.data)
        contact = services.create_contact(actor=request.user, data=data)
        return Response(
            contact_detail(request.user, contact.pk, audit_read=False),
            status=status.HTTP_201_CREATED,
        )


class ContactDetailView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        responses=s.ContactRecordOutput,
        operation_id="contacts_retrieve",
        description="Each read by staff who see personal data is an audit row "
        "(`contact.personal_data_viewed`, at most one per reader and contact in 10 minutes).",
    )
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        return Response(contact_detail(request.user, pk))

    @extend_schema(
        request=s.ContactRecordInput(partial=True),
        responses=s.ContactRecordOutput,
        operation_id="contacts_update",
    )
    def patch(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        data = _valid(s.ContactRecordInput, request.data, partial=True)
        services.update_contact(actor=request.user, contact_id=pk, data=data)
        return Response(contact_detail(request.user, pk, audit_read=False))


class ContactPointsView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        request=s.ContactPointInput,
        responses={201: s.ContactPointOutput},
        operation_id="contacts_points_create",
    )
    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        data = _valid(s.ContactPointInput, request.data)
        point = services.add_point(
            actor=request.user,
            contact_id=pk,
            kind=data["kind"],
            value=data["value"],
            label=data.get("label", ""),
        )
        return Response(
            s.ContactPointOutput(
                {"id": point.pk, "kind": point.kind, "value": point.value, "label": point.label}
            ).data,
            status=status.HTTP_201_CREATED,
        )


class ContactPointView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(responses={204: None}, operation_id="contacts_points_delete")
    def delete(self, request: Request, pk: int, pid: int) -> Response:
        _check_pk(pk, pid)
        services.remove_point(actor=request.user, contact_id=pk, point_id=pid)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- custom fields -----------------------------------------------------------------------
class CustomFieldListView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        parameters=[OpenApiParameter("target", str, enum=list(FieldTarget.values))],
        responses=s.CustomFieldRecordListOutput,
        operation_id="custom_fields_list",
    )
    def get(self, request: Request) -> Response:
        target = request.query_params.get("target", "")
        if target and target not in FieldTarget.values:
            raise InvalidInput(
                _("Invalid %(name)s.") % {"name": "target"},
                {
                    "target": [
                        _("Choose one of: %(choices)s.")
                        % {"choices": ", ".join(FieldTarget.values)}
                    ]
                },
            )
        rows = records.list_custom_fields(target or None)
        return Response(s.CustomFieldRecordListOutput({"results": [_field(f) for f in rows]}).data)

    @extend_schema(
        request=s.CustomFieldRecordInput,
        responses={201: s.CustomFieldRecordOutput},
        operation_id="custom_fields_create",
    )
    def post(self, request: Request) -> Response:
        if not permissions.can_manage_fields(request.user):
            raise Forbidden(_("Only administrators may do this."))
        data = _valid(s.CustomFieldRecordInput, request.data)
        field = services.save_custom_field(actor=request.user, data=data)
        return Response(
            s.CustomFieldRecordOutput(_field(field)).data, status=status.HTTP_201_CREATED
        )


class CustomFieldDetailView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        request=s.CustomFieldRecordInput(partial=True),
        responses=s.CustomFieldRecordOutput,
        operation_id="custom_fields_update",
        description="`is_active: false` retires the field (its values stay on the records).",
    )
    def patch(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        if not permissions.can_manage_fields(request.user):
            raise Forbidden(_("Only administrators may do this."))
        data = _valid(s.CustomFieldRecordInput, request.data, partial=True)
        if data.get("is_active") is False and len(data) == 1:
            field = services.retire_custom_field(actor=request.user, field_id=pk)
        else:
            field = services.save_custom_field(actor=request.user, field_id=pk, data=data)
        return Response(s.CustomFieldRecordOutput(_field(field)).data)
