"""The complaint report (``/reports/complaints/``): filters, charts (Chart.js, vendored
under static/vendor/), tables, the statistics as CSV and the regulator register as CSV and
.xlsx. Its ES module (static/web/reports.js) re-reads ``/api/reports/complaints/`` when a
filter changes. docs/reports.md."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils.translation import gettext as _

from complaints.choices import Channel, Severity
from complaints.models import ComplaintCategory, ComplaintProfile
from core.errors import InvalidInput
from org.models import Team
from reports import exports, selectors, services
from reports.choices import ReportVerb

from .views import _page_config, _render


def _require(request: HttpRequest) -> None:
    if not selectors.may_see_reports(request.user):
        raise PermissionDenied(_("Only supervisors, managers and analysts see the reports."))


def _options(rows: Any, chosen: Any) -> list[dict[str, Any]]:
    return [
        {"value": str(value), "label": str(label), "selected": str(value) == str(chosen or "")}
        for value, label in rows
    ]


def _links(filters: selectors.ReportFilters) -> dict[str, str]:
    query = "?" + urlencode(filters.query())
    return {
        "statistics_csv": reverse("web:report-statistics-csv") + query,
        "register_csv": reverse("web:report-register-csv") + query,
        "register_xlsx": reverse("web:report-register-xlsx") + query,
    }


def _strings() -> dict[str, str]:
    return {
        "complaints": _("Complaints"),
        "answered": _("Answered"),
        "share_within": _("Share within target"),
        "within": _("Within target"),
        "late": _("Late or breached"),
        "handling": _("Answers"),
        "count": _("Count"),
        "amount": _("Amount"),
        "days": _("days"),
        "hours": _("hours"),
        "none": "—",
        "network_error": _("Kefu could not be reached. Check the connection and try again."),
        "as_of": _("As of %(time)s"),
        "never": _("The statistics have not been computed yet."),
    }


@login_required
def complaint_report(request: HttpRequest) -> HttpResponse:
    _require(request)
    errors: dict[str, list[str]] = {}
    try:
        filters = selectors.parse_filters(request.GET)
    except InvalidInput as exc:
        errors = exc.errors
        filters = selectors.parse_filters({})
    stats = selectors.complaint_statistics(filters)
    config = _page_config(request, page="reports")
    screen = {
        "stats": stats,
        "links": _links(filters),
        "api": reverse("report-complaints"),
        "strings": _strings(),
    }
    return _render(
        request,
        "web/reports_complaints.html",
        config,
        screen=screen,
        stats=stats,
        links=screen["links"],
        errors=errors,
        filters=filters,
        profiles=_options(
            ((p.pk, p.label) for p in ComplaintProfile.objects.all()), filters.profile
        ),
        categories=_options(
            ((c.pk, c.label) for c in ComplaintCategory.objects.filter(parent=None)),
            filters.category,
        ),
        teams=_options(Team.objects.order_by("name").values_list("id", "name"), filters.team),
        agents=_options(_agents(filters.agent), filters.agent),
        channels=_options(Channel.choices, filters.channel),
        severities=_options(Severity.choices, filters.severity),
    )


def _agents(chosen: int | None) -> list[tuple[int, str]]:
    """The complaint handlers (members of the complaint profiles' teams) and the chosen
    agent, by name."""
    teams = ComplaintProfile.objects.exclude(team=None).values_list("team_id", flat=True)
    people = get_user_model().objects.filter(
        Q(kefu_teams__in=teams) | Q(pk=chosen or 0), is_active=True
    )
    return [
        (user.pk, user.get_full_name() or user.get_username())
        for user in people.distinct().order_by("username")
    ]


def _filters_or_400(request: HttpRequest) -> selectors.ReportFilters | HttpResponse:
    try:
        return selectors.parse_filters(request.GET)
    except InvalidInput as exc:
        return HttpResponseBadRequest(exc.message)


def _filename(filters: selectors.ReportFilters, what: str, ext: str) -> str:
    return f"{what}-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{ext}"


@login_required
def statistics_csv(request: HttpRequest) -> HttpResponse:
    _require(request)
    filters = _filters_or_400(request)
    if isinstance(filters, HttpResponse):
        return filters
    stats = selectors.complaint_statistics(filters)
    rows = list(selectors.statistics_table(stats))
    services.record_export(
        actor=request.user,
        verb=ReportVerb.STATISTICS_EXPORTED,
        filters=filters,
        fmt="csv",
        rows=len(rows) - 1,
    )
    response = HttpResponse(
        "".join(exports.csv_lines(rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(filters, "complaint-statistics", "csv")}"'
    )
    return response


def _register(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    _require(request)
    filters = _filters_or_400(request)
    if isinstance(filters, HttpResponse):
        return filters
    count = selectors.register_queryset(filters).count()
    if fmt == "xlsx" and count > exports.XLSX_MAX_ROWS:
        return HttpResponseBadRequest(
            _("The period holds more complaints than a spreadsheet takes: export it as CSV.")
        )
    services.record_export(
        actor=request.user,
        verb=ReportVerb.REGISTER_EXPORTED,
        filters=filters,
        fmt=fmt,
        rows=count,
    )
    rows = _with_header(filters)
    name = _filename(filters, "complaint-register", fmt)
    if fmt == "csv":
        response: Any = StreamingHttpResponse(
            exports.csv_lines(rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(
        exports.xlsx_file(rows, _("Complaint register")),
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _with_header(filters: selectors.ReportFilters) -> Any:
    yield selectors.register_header()
    yield from selectors.register_rows(filters)


@login_required
def register_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    return _register(request, "csv")


@login_required
def register_xlsx(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    return _register(request, "xlsx")
