"""Administration endpoints (administrators write, supervisors read) and auth."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth import logout as end_session
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import Model, ProtectedError, QuerySet, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import services as audit_services
from core.errors import Conflict, InvalidInput
from notifications import auth as socket_auth
from org import roles
from org.models import Team
from project.authentication import issue_token
from project.logins import LoginLocked, retry_after
from project.schema import ErrorSerializer
from sla.models import BusinessCalendar, SlaPolicy
from web import two_factor

from ..models import Ticket
from . import admin_serializers as s


class AdministratorsWriteSupervisorsRead(permissions.BasePermission):
    message = gettext_lazy("Administrators may change this; supervisors may read it.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return roles.is_supervisor(request.user)
        return roles.is_administrator(request.user)


class AuditedConfiguration:
    """Every write of the configuration through the API leaves an audit row (``audit``),
    in the write's transaction: created, changed (only the fields that changed) or
    deleted, with the administrator who did it."""

    audit_kind = ""
    request: Any

    def perform_create(self, serializer: Any) -> None:
        with transaction.atomic():
            instance = serializer.save()
            audit_services.record_configuration(
                kind=self.audit_kind,
                verb="created",
                actor=self.request.user,
                object_id=instance.pk,
                before={},
                after=audit_services.configuration_snapshot(instance),
            )

    def perform_update(self, serializer: Any) -> None:
        with transaction.atomic():
            before = audit_services.configuration_snapshot(serializer.instance)
            instance = serializer.save()
            audit_services.record_configuration(
                kind=self.audit_kind,
                verb="changed",
                actor=self.request.user,
                object_id=instance.pk,
                before=before,
                after=audit_services.configuration_snapshot(instance),
            )

    def audit_removal(self, instance: Any, before: dict[str, Any], verb: str) -> None:
        after = audit_services.configuration_snapshot(instance) if verb == "changed" else {}
        audit_services.record_configuration(
            kind=self.audit_kind,
            verb=verb,
            actor=self.request.user,
            object_id=before.get("pk") or instance.pk,
            before={k: v for k, v in before.items() if k != "pk"},
            after=after,
        )


class DeleteUnlessInUse:
    """DELETE answers 409 with what still uses the object (``errors.in_use``: one line per
    kind of user) instead of failing in the database (docs/api.md, "Beyond the contract")."""

    error_statuses = {"DELETE": {409}}

    def uses_of(self, instance: Any) -> list[str]:
        return []

    def perform_destroy(self, instance: Any) -> None:
        uses = self.uses_of(instance)
        if not uses:
            try:
                with transaction.atomic():
                    before = {"pk": instance.pk, **audit_services.configuration_snapshot(instance)}
                    instance.delete()
                    if isinstance(self, AuditedConfiguration):
                        self.audit_removal(instance, before, "deleted")
                return
            except ProtectedError as exc:
                uses = _count_by_kind(exc.protected_objects)
            except RestrictedError as exc:
                uses = _count_by_kind(exc.restricted_objects)
        raise Conflict(_("%(name)s is still in use.") % {"name": instance}, {"in_use": uses})


def _use(kind: Any, count: int) -> str:
    return _("%(kind)s: %(count)s") % {"kind": kind, "count": count}


def _count_by_kind(objects: Any) -> list[str]:
    counts: dict[str, int] = {}
    for obj in objects:
        kind = str(obj._meta.verbose_name_plural) if isinstance(obj, Model) else str(type(obj))
        counts[kind] = counts.get(kind, 0) + 1
    return [_use(kind, count) for kind, count in counts.items()]


class TeamViewSet(AuditedConfiguration, DeleteUnlessInUse, viewsets.ModelViewSet):
    audit_kind = "team"
    serializer_class = s.TeamSerializer
    permission_classes = [AdministratorsWriteSupervisorsRead]
    queryset = Team.objects.prefetch_related("members", "supervisors").order_by("id")

    def uses_of(self, instance: Team) -> list[str]:
        """Tickets of the team (they keep it), and escalation levels that reassign to it."""
        uses = []
        if tickets := Ticket.objects.filter(team=instance).count():
            uses.append(_use(Ticket._meta.verbose_name_plural, tickets))
        policies = [
            policy
            for policy in SlaPolicy.objects.filter(is_active=True).only("escalation")
            if any(
                isinstance(level, dict) and level.get("team") == instance.pk
                for level in policy.escalation or []
            )
        ]
        if policies:
            uses.append(_use(_("SLA policies escalating to the team"), len(policies)))
        return uses


class CalendarViewSet(AuditedConfiguration, DeleteUnlessInUse, viewsets.ModelViewSet):
    audit_kind = "calendar"
    serializer_class = s.CalendarSerializer
    permission_classes = [AdministratorsWriteSupervisorsRead]
    queryset = BusinessCalendar.objects.order_by("id")

    def uses_of(self, instance: BusinessCalendar) -> list[str]:
        """Teams and SLA policies (retired ones too: their tickets keep them) on it."""
        counts = [
            (model._meta.verbose_name_plural, model.objects.filter(calendar=instance).count())
            for model in (Team, SlaPolicy)
        ]
        return [_use(kind, count) for kind, count in counts if count]


class SlaPolicyViewSet(
    AuditedConfiguration,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A change applies to tickets opened afterwards; DELETE retires the policy."""

    audit_kind = "sla_policy"
    serializer_class = s.SlaPolicySerializer
    permission_classes = [AdministratorsWriteSupervisorsRead]

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        return SlaPolicy.objects.filter(kind="ticket", is_active=True).order_by("id")

    def perform_destroy(self, instance: SlaPolicy) -> None:
        with transaction.atomic():
            before = audit_services.configuration_snapshot(instance)
            instance.is_active = False
            instance.retired_at = timezone.now()
            instance.save(update_fields=["is_active", "retired_at", "updated_at"])
            self.audit_removal(instance, before, "changed")


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


class TokenView(APIView):
    """Failed logins are counted per address, per account and in total (project/logins.py);
    a locked-out login answers 429 with Retry-After, even with the right password."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    # 429: locked out; 403: a role that must sign in with a second factor has none yet
    error_statuses = {"POST": {403, 429}}  # (project/schema.py documents them)

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
        if getattr(request, "axes_locked_out", False):
            raise LoginLocked(retry_after(request))
        if user is None or not user.is_active:
            raise InvalidInput(
                _("Unable to log in with those credentials."),
                {"non_field_errors": [_("Wrong username or password.")]},
            )
        # The second factor ("otp"): a wrong code is a failed login (docs/security.md).
        two_factor.check_token_login(request, user, request.data.get("otp"))
        # A login like the page's: the audit log records it, its account's failures are
        # forgotten, last_login is kept.
        user_logged_in.send(sender=type(user), request=request, user=user)
        token = issue_token(user)  # the current token, or a new one once it has expired
        return Response({"token": token.key})


# --- tokens and live sockets (docs/security.md, "Tokens and live sockets") -------------
NOT_AUTHENTICATED = OpenApiResponse(
    ErrorSerializer, description="No credentials, or not valid ones (an expired token)."
)


class LogoutView(APIView):
    """Revokes the caller's credential: the API token (every client using it must log in
    again) or the session. Their open sockets close with 4401."""

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="logged out"), 401: NOT_AUTHENTICATED},
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            request.auth.delete()
        if isinstance(request.successful_authenticator, SessionAuthentication):
            end_session(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SocketTicketView(APIView):
    """A single-use ticket for ``/ws/queue/?ticket=…``, so no lasting secret travels in the
    socket's URL (docs/realtime.md)."""

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "SocketTicketOutput",
                {"ticket": serializers.CharField(), "expires": serializers.DateTimeField()},
            ),
            401: NOT_AUTHENTICATED,
        },
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            credential = socket_auth.Credential(socket_auth.TOKEN, request.auth.key)
        else:
            session_key = request._request.session.session_key or ""
            credential = socket_auth.Credential(socket_auth.SESSION, session_key)
        ticket, expires = socket_auth.issue_ticket(request.user, credential)
        return Response({"ticket": ticket, "expires": expires.isoformat()})
