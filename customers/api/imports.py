"""Import and export endpoints (docs/customers-import-export.md): validate, call a service,
shape the output."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Forbidden, InvalidInput
from core.pagination import paginate
from project.api_params import page_link

from .. import permissions, spreadsheets
from ..choices import ImportTarget, RowAction
from ..models import ExportJob, ImportJob, ImportRow
from ..services import exports, imports

PAGE_SIZE = 100
FORMAT_PARAM = OpenApiParameter("format", str, enum=list(spreadsheets.FORMATS))


class FileNegotiation(BaseContentNegotiation):
    """``?format=csv|xlsx`` names the file to send, not one of DRF's renderers."""

    def select_renderer(
        self, request: Any, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


# --- serializers ----------------------------------------------------------------------
class UploadInput(serializers.Serializer):
    file = serializers.FileField()
    target = serializers.ChoiceField(choices=ImportTarget.choices)


class MappingInput(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=80))
    match_on = serializers.ListField(child=serializers.CharField(max_length=20), max_length=3)


class ImportJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target = serializers.CharField()
    file_name = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    headers = serializers.ListField(child=serializers.CharField())
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True))
    match_on = serializers.ListField(child=serializers.CharField())
    known_fields = serializers.ListField(child=serializers.CharField())
    total_rows = serializers.IntegerField()
    done_rows = serializers.IntegerField()
    progress = serializers.IntegerField(help_text="percent done of the running step")
    counts = serializers.DictField(child=serializers.IntegerField())
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    committed_at = serializers.DateTimeField(allow_null=True)
    reverted_at = serializers.DateTimeField(allow_null=True)


class ImportJobPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ImportJobOutput(many=True)


class ReasonOutput(serializers.Serializer):
    field = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportRowOutput(serializers.Serializer):
    line = serializers.IntegerField()
    action = serializers.ChoiceField(choices=RowAction.choices)
    reasons = ReasonOutput(many=True)
    values = serializers.DictField(child=serializers.CharField(allow_blank=True))
    changes = serializers.DictField(child=serializers.DictField())
    record_id = serializers.IntegerField(allow_null=True)
    done = serializers.BooleanField()


class ImportRowPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ImportRowOutput(many=True)


class ExportJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target = serializers.CharField()
    format = serializers.CharField()
    filters = serializers.DictField(child=serializers.CharField())
    status = serializers.CharField()
    rows = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    download = serializers.CharField(allow_null=True)


class ExportJobPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ExportJobOutput(many=True)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def job_data(job: ImportJob) -> dict[str, Any]:
    total = job.total_rows or 0
    return {
        "id": job.pk,
        "target": job.target,
        "file_name": job.file_name,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "headers": job.headers,
        "mapping": job.mapping,
        "match_on": job.match_on,
        "known_fields": imports.known_fields(job.target),
        "total_rows": total,
        "done_rows": job.done_rows,
        "progress": min(100, (job.done_rows * 100) // total) if total else 0,
        "counts": job.counts,
        "error": job.error,
        "created_at": job.created_at,
        "committed_at": job.committed_at,
        "reverted_at": job.reverted_at,
    }


def row_data(row: ImportRow) -> dict[str, Any]:
    return {
        "line": row.line,
        "action": row.action,
        "reasons": row.reasons,
        "values": row.data.get("values", {}),
        "changes": {
            k: {"from": "" if v["from"] is None else str(v["from"]), "to": str(v["to"])}
            for k, v in row.data.get("changes", {}).items()
        },
        "record_id": row.record_id,
        "done": row.done,
    }


def export_data(job: ExportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "target": job.target,
        "format": job.format,
        "filters": job.filters,
        "status": job.status,
        "rows": job.rows,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "download": f"/api/exports/{job.pk}/download/" if job.status == "done" else None,
    }


def _file_response(data: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=spreadsheets.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _format(request: Request, default: str = "csv") -> str:
    fmt = request.query_params.get("format", default)
    if fmt not in spreadsheets.FORMATS:
        raise InvalidInput(
            _("Unknown format."),
            {"format": [_("Choose one of: %(choices)s.") % {"choices": "csv, xlsx"}]},
        )
    return fmt


# --- imports --------------------------------------------------------------------------
class ImportListView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        parameters=[OpenApiParameter("cursor", str)],
        responses=ImportJobPageOutput,
        operation_id="imports_list",
    )
    def get(self, request: Request) -> Response:
        if not permissions.can_import(request.user):
            raise Forbidden(_("Only administrators may import."))
        page = paginate(
            ImportJob.objects.all(),
            field="created_at",
            descending=True,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )
        return Response(
            {
                "next": page_link(request, page.next),
                "previous": page_link(request, page.previous),
                "results": [job_data(j) for j in page.items],
            }
        )

    @extend_schema(
        request={"multipart/form-data": UploadInput},
        responses={201: ImportJobOutput},
        operation_id="imports_create",
    )
    def post(self, request: Request) -> Response:
        if not permissions.can_import(request.user):
            raise Forbidden(_("Only administrators may import."))
        data = _valid(UploadInput, request.data)
        job = imports.upload_import(request.user, data["target"], data["file"])
        return Response(job_data(job), status=status.HTTP_201_CREATED)


class ImportDetailView(APIView):
    @extend_schema(responses=ImportJobOutput, operation_id="imports_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(job_data(imports.get_job(request.user, pk)))


class ImportMappingView(APIView):
    parser_classes = [JSONParser]
    error_statuses = {"POST": {409}}

    @extend_schema(request=MappingInput, responses=ImportJobOutput, operation_id="imports_mapping")
    def post(self, request: Request, pk: int) -> Response:
        job = imports.get_job(request.user, pk)
        data = _valid(MappingInput, request.data)
        job = imports.set_mapping(request.user, job, data["mapping"], data["match_on"])
        return Response(job_data(job))


def _step_view(name: str, service: Any, doc: str) -> type[APIView]:
    class StepView(APIView):
        error_statuses = {"POST": {409}}

        @extend_schema(
            request=None,
            responses={202: ImportJobOutput},
            operation_id=f"imports_{name}",
            description=doc,
        )
        def post(self, request: Request, pk: int) -> Response:
            job = imports.get_job(request.user, pk)
            job = service(request.user, job)
            return Response(job_data(job), status=status.HTTP_202_ACCEPTED)

    StepView.__name__ = f"Import{name.title()}View"
    return StepView


ImportPlanView = _step_view("plan", imports.request_plan, "Starts the dry run (a job).")
ImportCommitView = _step_view(
    "commit", imports.request_commit, "Applies the dry run's plan (a job); 409 before a plan."
)
ImportRevertView = _step_view(
    "revert", imports.request_revert, "Deletes what the import created, restores what it changed."
)


class ImportRowsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, enum=list(RowAction.values)),
            OpenApiParameter("cursor", str),
        ],
        responses=ImportRowPageOutput,
        operation_id="imports_rows",
    )
    def get(self, request: Request, pk: int) -> Response:
        job = imports.get_job(request.user, pk)
        rows = ImportRow.objects.filter(job=job)
        action = request.query_params.get("action")
        if action:
            if action not in RowAction.values:
                raise InvalidInput(
                    _("Unknown action."),
                    {
                        "action": [
                            _("Choose one of: %(choices)s.")
                            % {"choices": ", ".join(RowAction.values)}
                        ]
                    },
                )
            rows = rows.filter(action=action)
        page = paginate(
            rows,
            field="line",
            descending=False,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )
        return Response(
            {
                "next": page_link(request, page.next),
                "previous": page_link(request, page.previous),
                "results": [row_data(r) for r in page.items],
            }
        )


class ImportErrorsView(APIView):
    content_negotiation_class = FileNegotiation

    @extend_schema(
        parameters=[FORMAT_PARAM],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        operation_id="imports_errors",
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        job = imports.get_job(request.user, pk)
        fmt = _format(request)
        data = spreadsheets.export_bytes(imports.error_headers(job), imports.error_rows(job), fmt)
        return _file_response(data, fmt, f"import-{job.pk}-errors")


# --- exports --------------------------------------------------------------------------
def _export_view(target: str) -> type[APIView]:
    class ExportView(APIView):
        content_negotiation_class = FileNegotiation

        @extend_schema(
            parameters=[
                FORMAT_PARAM,
                *(
                    OpenApiParameter(n, str)
                    for n in (
                        exports.CUSTOMER_FILTERS
                        if target == ImportTarget.CUSTOMERS
                        else exports.CONTACT_FILTERS
                    )
                ),
            ],
            responses={
                (200, "text/csv"): OpenApiResponse(
                    OpenApiTypes.BINARY, description="the list, streamed"
                ),
                202: ExportJobOutput,
            },
            operation_id=f"{target}_export",
            description="CSV of at most 50,000 rows is streamed; .xlsx or longer lists "
            "become an export job (202).",
        )
        def get(self, request: Request) -> Any:
            fmt = _format(request)
            job, _count = exports.request_export(request.user, target, fmt, request.query_params)
            if job is not None:
                return Response(export_data(job), status=status.HTTP_202_ACCEPTED)
            response = StreamingHttpResponse(
                exports.stream_csv(request.user, target, request.query_params),
                content_type=spreadsheets.CONTENT_TYPES["csv"],
            )
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            response["Content-Disposition"] = f'attachment; filename="{target}-{stamp}.csv"'
            return response

    ExportView.__name__ = f"{target.title()}ExportView"
    return ExportView


CustomersExportView = _export_view(ImportTarget.CUSTOMERS)
ContactsExportView = _export_view(ImportTarget.CONTACTS)


class ExportListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("cursor", str)],
        responses=ExportJobPageOutput,
        operation_id="exports_list",
    )
    def get(self, request: Request) -> Response:
        if not permissions.can_export(request.user):
            raise Forbidden(_("You may not export lists."))
        page = paginate(
            exports.jobs_visible_to(request.user),
            field="created_at",
            descending=True,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )
        return Response(
            {
                "next": page_link(request, page.next),
                "previous": page_link(request, page.previous),
                "results": [export_data(j) for j in page.items],
            }
        )


class ExportDetailView(APIView):
    @extend_schema(responses=ExportJobOutput, operation_id="exports_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(export_data(exports.get_export(request.user, pk)))


class ExportDownloadView(APIView):
    error_statuses = {"GET": {409}}

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        operation_id="exports_download",
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        job = exports.download(request.user, pk)
        response = FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=(job.file.name or "").rsplit("/", 1)[-1],
            content_type=spreadsheets.CONTENT_TYPES.get(job.format, "application/octet-stream"),
        )
        return response
