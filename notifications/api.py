"""``/api/notifications/``: the signed-in user's in-app notifications (thin views)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import paginate
from project.api_params import page_link

from . import selectors, services

PAGE_SIZE = 30


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField(help_text="Rendered in the request's language.")
    ticket = serializers.IntegerField(allow_null=True, help_text="The ticket it is about, if any.")
    subject_kind = serializers.CharField(
        allow_null=True, help_text="The kind of work it is about: ticket, complaint, …"
    )
    object_id = serializers.IntegerField(allow_null=True, help_text="The id of that work.")
    created = serializers.DateTimeField()
    read = serializers.BooleanField()


class NotificationPageOutput(serializers.Serializer):
    results = NotificationOutput(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    unread = serializers.IntegerField()


UnreadOutput = inline_serializer("UnreadOutput", {"unread": serializers.IntegerField()})


class NotificationListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, description="only unread ones"),
            OpenApiParameter("cursor", str),
        ],
        responses=NotificationPageOutput,
    )
    def get(self, request: Request) -> Response:
        qs = selectors.notifications_for(request.user)
        if request.query_params.get("unread") in ("1", "true", "True"):
            qs = qs.filter(read_at__isnull=True)
        page = paginate(
            qs,
            field="created_at",
            descending=True,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )

        return Response(
            {
                "results": [selectors.as_row(n) for n in page.items],
                "next": page_link(request, page.next),
                "previous": page_link(request, page.previous),
                "unread": selectors.unread_count(request.user.pk or 0),
            }
        )


class NotificationReadView(APIView):
    @extend_schema(request=None, responses=UnreadOutput, operation_id="notifications_read")
    def post(self, request: Request, pk: int) -> Response:
        return Response({"unread": services.mark_read(user=request.user, notification_id=pk)})


class NotificationReadAllView(APIView):
    @extend_schema(request=None, responses=UnreadOutput, operation_id="notifications_read_all")
    def post(self, request: Request) -> Response:
        return Response({"unread": services.mark_all_read(user=request.user)})


urlpatterns = [
    path("notifications/", NotificationListView.as_view(), name="notification-list"),
    path("notifications/<int:pk>/read/", NotificationReadView.as_view(), name="notification-read"),
    path(
        "notifications/read-all/", NotificationReadAllView.as_view(), name="notification-read-all"
    ),
]
