"""Administration endpoints (administrators write, supervisors read) and auth."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from .. import permissions as roles
from ..errors import InvalidInput
from ..models import BusinessCalendar, SlaPolicy, Team
from . import admin_serializers as s


class AdministratorsWriteSupervisorsRead(permissions.BasePermission):
    message = gettext_lazy("Administrators may change this; supervisors may read it.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return roles.is_supervisor(request.user)
        return roles.is_administrator(request.user)


class TeamViewSet(viewsets.ModelViewSet):
    serializer_class = s.TeamSerializer
    permission_classes = [AdministratorsWriteSupervisorsRead]
    queryset = Team.objects.prefetch_related("members", "supervisors").order_by("id")


class CalendarViewSet(viewsets.ModelViewSet):
    serializer_class = s.CalendarSerializer
    permission_classes = [AdministratorsWriteSupervisorsRead]
    queryset = BusinessCalendar.objects.order_by("id")


class SlaPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A change applies to tickets opened afterwards; DELETE retires the policy."""

    serializer_class = s.SlaPolicySerializer
    permission_classes = [AdministratorsWriteSupervisorsRead]

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        return SlaPolicy.objects.filter(is_active=True).order_by("id")

    def perform_destroy(self, instance: SlaPolicy) -> None:
        instance.is_active = False
        instance.retired_at = timezone.now()
        instance.save(update_fields=["is_active", "retired_at", "updated_at"])


class MeView(APIView):
    @extend_schema(responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "roles": roles.roles_of(user),
            "teams": roles.team_ids_of(user),
        }
        return Response(s.MeSerializer(data).data)


class LoginThrottle(SimpleRateThrottle):
    """Per client address, so password guessing against any account is slowed."""

    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(request=s.TokenInput, responses=s.TokenOutput, auth=[])
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidInput(_("Expected a JSON object."))
        serializer = s.TokenInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise InvalidInput(
                _("Unable to log in with those credentials."),
                {"non_field_errors": [_("Wrong username or password.")]},
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
