"""``GET /api/reports/complaints/``: the complaint statistics (docs/reports.md, docs/api.md)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors

PARAMETERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day (default: 29 days before 'to')."
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)."),
    OpenApiParameter("profile", OpenApiTypes.INT, description="Complaint profile id."),
    OpenApiParameter("category", OpenApiTypes.INT, description="Category id."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id."),
    OpenApiParameter("channel", OpenApiTypes.STR, description="Channel."),
    OpenApiParameter("severity", OpenApiTypes.STR, description="Severity (S1-S4)."),
]


class ComplaintReportView(APIView):
    @extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        """Counts by category, severity, channel and root cause; median and p90 handling
        time; the share answered within each regulator target; extensions; compensation
        by approver level; the repeat rate. Supervisors, managers and administrators."""
        selectors.require_reports(request.user)
        filters = selectors.parse_filters(request.query_params)
        return Response(selectors.complaint_statistics(filters))


urlpatterns = [
    path("reports/complaints/", ComplaintReportView.as_view(), name="report-complaints"),
]
