"""``GET /api/contacts/?search=``: the contact search of the new-ticket screen (docs/api.md).

The search is the platform's (``customers.selectors.search_contacts``); who may see which
contact is the tickets' rule (``selectors.contacts_visible_q``), the same that intake holds a
``contact_id`` to, so every contact offered can be chosen."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from customers import selectors as customer_selectors
from org import roles

from .. import selectors


class StaffWhoOpenTickets(permissions.BasePermission):
    """Agents, supervisors and administrators: the people who open tickets for callers."""

    message = gettext_lazy("Only agents, supervisors and administrators may do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and roles.roles_of(user))


class ContactCustomerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ContactRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    customer = ContactCustomerOutput(allow_null=True)


class ContactSearchOutput(serializers.Serializer):
    results = ContactRowOutput(many=True)


class ContactSearchView(APIView):
    permission_classes = [StaffWhoOpenTickets]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": customer_selectors.SEARCH_MAX_LENGTH,
                },
                required=True,
                description=(
                    "The start of an email address, a name, a customer's name, or phone digits "
                    "(matched from the start of the number, and from its end from 7 digits)."
                ),
            )
        ],
        responses=ContactSearchOutput,
        operation_id="contacts_search",
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("search", "").strip()
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
        contacts = customer_selectors.search_contacts(
            text, visible=selectors.contacts_visible_q(request.user)
        )
        return Response({"results": [customer_selectors.contact_row(c) for c in contacts]})
