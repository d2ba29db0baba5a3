"""``/api/saved-views/``: the signed-in user's saved views of the tickets screen (thin)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from tickets.search import SCREEN_FILTERS

from . import selectors, services

FILTERS_HELP = (
    "The tickets screen's filters, each a string as in its URL: "
    + ", ".join(SCREEN_FILTERS)
    + " (the same values as GET /api/tickets/ takes)."
)


class SavedViewInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="At most 80 characters once trimmed.")
    query = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200),
        required=False,
        default=dict,
        help_text=FILTERS_HELP,
    )


class SavedViewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.DictField(child=serializers.CharField(), help_text=FILTERS_HELP)
    url = serializers.CharField(help_text="The tickets screen with these filters.")
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class SavedViewListOutput(serializers.Serializer):
    results = SavedViewOutput(many=True)


class SavedViewListView(APIView):
    @extend_schema(responses=SavedViewListOutput, operation_id="saved_views_list")
    def get(self, request: Request) -> Response:
        rows = [selectors.saved_view_row(v) for v in selectors.saved_views_for(request.user)]
        return Response({"results": rows})

    @extend_schema(
        request=SavedViewInput,
        responses={201: SavedViewOutput, 200: SavedViewOutput},
        operation_id="saved_views_save",
        description="Saves the filters under the name (201); a view of the same name is "
        "replaced (200). At most 50 views per user.",
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidInput(
                _("Expected a JSON object."), {"non_field_errors": [_("Expected an object.")]}
            )
        serializer = SavedViewInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        view, created = services.save_view(
            user=request.user, name=data["name"], query=data["query"]
        )
        return Response(
            selectors.saved_view_row(view),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SavedViewDetailView(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="saved_views_delete")
    def delete(self, request: Request, pk: int) -> Response:
        services.delete_view(user=request.user, view_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
