"""``GET /api/reports/complaints/``: the complaint statistics (docs/reports.md, docs/api.md),
with API.md's filters (``since``, ``until``, ``team``, ``agent``, ``kind``) beside the
report's own and ``?format=csv|xlsx`` for the export."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse, QueryDict
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput

from . import exports, selectors, services
from .choices import ReportVerb

PARAMETERS = [
    OpenApiParameter(
        "since", OpenApiTypes.DATE, description="First day (default: 29 days before 'until')."
    ),
    OpenApiParameter(
        "until", OpenApiTypes.DATE, description="Last day, included (default: today)."
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="The same as 'since'."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="The same as 'until'."),
    OpenApiParameter("profile", OpenApiTypes.INT, description="Complaint profile id."),
    OpenApiParameter("category", OpenApiTypes.INT, description="Category id."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id."),
    OpenApiParameter("channel", OpenApiTypes.STR, description="Channel."),
    OpenApiParameter("severity", OpenApiTypes.STR, description="Severity (S1-S4)."),
    OpenApiParameter("kind", OpenApiTypes.STR, description="Process kind: only 'complaint'."),
    OpenApiParameter(
        "agent",
        OpenApiTypes.INT,
        description="The handler (user id): the complaints they hold, counted from the complaints.",
    ),
    OpenApiParameter(
        "format", OpenApiTypes.STR, enum=["csv", "xlsx"], description="Export the statistics."
    ),
]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _NoFormatOverride(DefaultContentNegotiation):
    """``?format=`` names the export here, not one of DRF's renderers."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


def _params(request: Request) -> QueryDict:
    params = request.query_params.copy()
    kind = params.get("kind", "")
    if kind not in ("", "complaint"):
        raise InvalidInput(_("This report is of complaints."), {"kind": [_("Only 'complaint'.")]})
    for alias, name in (("since", "from"), ("until", "to")):
        value = params.get(alias)
        if value and not params.get(name):
            params[name] = str(value)
    return params


class ComplaintReportView(APIView):
    content_negotiation_class = _NoFormatOverride

    @extend_schema(
        parameters=PARAMETERS,
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSX): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Any:
        """Counts by category, severity, channel and root cause; median and p90 handling
        time; the share answered within each regulator target; extensions; compensation
        by approver level; the repeat rate. Supervisors, managers, administrators and
        analysts (read-only)."""
        selectors.require_reports(request.user)
        filters = selectors.parse_filters(_params(request))
        stats = selectors.complaint_statistics(filters)
        fmt = request.query_params.get("format", "")
        if not fmt:
            return Response(stats)
        if fmt not in ("csv", "xlsx"):
            raise InvalidInput(_("Unknown export format."), {"format": [_("csv or xlsx.")]})
        rows = list(selectors.statistics_table(stats))
        services.record_export(
            actor=request.user,
            verb=ReportVerb.STATISTICS_EXPORTED,
            filters=filters,
            fmt=fmt,
            rows=len(rows) - 1,
        )
        name = f"complaint-statistics-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{fmt}"
        if fmt == "csv":
            response = HttpResponse(
                "".join(exports.csv_lines(rows)), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return FileResponse(
            exports.xlsx_file(rows, _("Complaint statistics")),
            as_attachment=True,
            filename=name,
            content_type=XLSX,
        )


urlpatterns = [
    path("reports/complaints/", ComplaintReportView.as_view(), name="report-complaints"),
]
