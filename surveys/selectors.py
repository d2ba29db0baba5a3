"""Permission-aware reads of survey results: supervisors and administrators see all, an
agent sees the results of their teams and their own (like tickets)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from org import roles
from org.models import Team
from outbox.models import MessageStatus

from .choices import Scale
from .models import Invitation, SurveyResponse
from .reports import Counts

GROUPS = ("none", "agent", "team", "day", "week", "month")
TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _scope(user: Any, prefix: str = "") -> Q | None:
    if roles.is_supervisor(user):
        return None
    return Q(**{f"{prefix}team_id__in": roles.team_ids_of(user)}) | Q(
        **{f"{prefix}agent_id": user.pk}
    )


def responses_visible_to(user: Any) -> QuerySet[SurveyResponse]:
    qs = SurveyResponse.objects.select_related("invitation")
    scope = _scope(user, "invitation__")
    return qs if scope is None else qs.filter(scope)


def invitations_visible_to(user: Any) -> QuerySet[Invitation]:
    qs = Invitation.objects.all()
    scope = _scope(user)
    return qs if scope is None else qs.filter(scope)


def csat_report(
    user: Any,
    *,
    group_by: str,
    since: datetime | None,
    until: datetime | None,
    tz: tzinfo,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Invitations sent in [since, until) by their close time, with their responses: counts
    per group and in total. Periods are cohorts of invitations (a response counts in the
    period its invitation was sent in), so response rates never exceed 100 %."""
    qs = invitations_visible_to(user).filter(message__status=MessageStatus.SENT)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    counts = {
        "invitations": Count("id"),
        "responses": Count("response"),
        "csat_answered": Count(
            "response", filter=Q(scale=Scale.CSAT, response__score__isnull=False)
        ),
        "csat_satisfied": Count("response", filter=Q(scale=Scale.CSAT, response__score__gte=4)),
        "nps_answered": Count("response", filter=Q(scale=Scale.NPS, response__score__isnull=False)),
        "promoters": Count("response", filter=Q(scale=Scale.NPS, response__score__gte=9)),
        "detractors": Count("response", filter=Q(scale=Scale.NPS, response__score__lte=6)),
    }
    total = Counts.of(qs.order_by().aggregate(**counts)).figures()
    if group_by == "none":
        return [], total
    if group_by in TRUNC:
        key_field = "period"
        grouped: QuerySet[Any] = qs.annotate(period=TRUNC[group_by]("created_at", tzinfo=tz))
    else:
        key_field = f"{group_by}_id"
        grouped = qs
    rows = list(grouped.order_by().values(key_field).annotate(**counts).order_by(key_field))
    labels = _labels(group_by, [r[key_field] for r in rows])
    out = []
    for row in rows:
        key = row[key_field]
        if isinstance(key, datetime):
            key = key.astimezone(tz).date().isoformat()
            label = key
        else:
            label = labels.get(key, "") if key is not None else ""
        out.append({"key": key, "label": label, **Counts.of(row).figures()})
    return out, total


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    ids = [k for k in keys if isinstance(k, int)]
    if not ids:
        return {}
    if group_by == "team":
        return dict(Team.objects.filter(pk__in=ids).values_list("id", "name"))
    if group_by == "agent":
        return dict(get_user_model().objects.filter(pk__in=ids).values_list("id", "username"))
    return {}
