"""The import wizard (``/imports/``: history, upload, then map columns, the dry run with
live progress, the plan row by row, commit, revert) and the exports page (``/exports/``).
The wizard's steps call the imports API from static/web/imports.js
(docs/customers-import-export.md)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import KefuError
from customers import permissions, spreadsheets
from customers.choices import ImportTarget, RowAction
from customers.models import ImportJob
from customers.selectors.lists import CONTACT_FILTERS, CUSTOMER_FILTERS
from customers.services import exports, imports

from .views import _page_config, _render


def _importer(request: HttpRequest) -> None:
    if not permissions.can_import(request.user):
        raise PermissionDenied(_("Only administrators may import."))


def _strings() -> dict[str, str]:
    return {
        "saved": _("Mapping saved."),
        "progress": _("%(done)s of %(total)s rows"),
        "network_error": _("Kefu could not be reached. Check the connection and try again."),
        "line": _("Line"),
        "action": _("Action"),
        "reasons": _("Reasons"),
        "values": _("Values"),
        "no_rows": _("No rows."),
        "more": _("More rows"),
        "confirm_commit": _("Import these rows now?"),
        "confirm_revert": _(
            "Revert this import? Created records are deleted, changed ones restored."
        ),
        "create": _("Create"),
        "update": _("Update"),
        "skip": _("Skip"),
        "error": _("Error"),
    }


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    _importer(request)
    jobs = list(ImportJob.objects.select_related("created_by")[:100])
    return _render(
        request,
        "web/customers/imports.html",
        _page_config(request, page="imports"),
        jobs=jobs,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    _importer(request)
    errors: dict[str, list[str]] = {}
    message = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = {"file": [_("Choose a file.")]}
        else:
            try:
                job = imports.upload_import(request.user, request.POST.get("target", ""), upload)
            except KefuError as exc:
                message, errors = exc.message, exc.errors
            else:
                return redirect("web:import-detail", pk=job.pk)
    return _render(
        request,
        "web/customers/imports_new.html",
        _page_config(request, page="imports"),
        targets=ImportTarget.choices,
        errors=errors,
        message=message,
        max_mb=imports.MAX_BYTES // (1024 * 1024),
        max_columns=imports.MAX_COLUMNS,
        max_rows=imports.MAX_ROWS,
        status=400 if errors else 200,
    )


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _importer(request)
    try:
        job = imports.get_job(request.user, pk)
    except KefuError as exc:
        from django.http import Http404

        raise Http404(exc.message) from exc
    fields = imports.known_fields(job.target)
    columns = [{"name": h, "chosen": job.mapping.get(h, "")} for h in job.headers]
    screen = {
        "id": job.pk,
        "api": reverse("import-detail", args=[job.pk]),
        "status": job.status,
        "strings": _strings(),
    }
    return _render(
        request,
        "web/customers/imports_detail.html",
        _page_config(request, page="imports"),
        job=job,
        columns=columns,
        fields=fields,
        match_keys=[
            {"value": k, "checked": k in job.match_on}
            for k in imports.MATCH_KEYS[ImportTarget(job.target)]
        ],
        actions=RowAction.choices,
        screen=screen,
    )


@login_required
@require_http_methods(["GET", "POST"])
def export_list(request: HttpRequest) -> Any:
    if not permissions.can_export(request.user):
        raise PermissionDenied(_("You may not export lists."))
    message = ""
    if request.method == "POST":
        target = request.POST.get("target", "")
        fmt = request.POST.get("format", "csv")
        params = {k: v for k, v in request.POST.items() if k not in ("target", "format")}
        try:
            job, _count = exports.request_export(request.user, target, fmt, params)
        except KefuError as exc:
            message = exc.message
        else:
            if job is None:
                response = StreamingHttpResponse(
                    exports.stream_csv(request.user, target, params),
                    content_type=spreadsheets.CONTENT_TYPES["csv"],
                )
                stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
                response["Content-Disposition"] = f'attachment; filename="{target}-{stamp}.csv"'
                return response
            return redirect("web:exports")
    jobs = list(exports.jobs_visible_to(request.user)[:100])
    return _render(
        request,
        "web/customers/exports.html",
        _page_config(request, page="exports"),
        jobs=jobs,
        message=message,
        targets=ImportTarget.choices,
        customer_filters=CUSTOMER_FILTERS,
        contact_filters=CONTACT_FILTERS,
        status=400 if message else 200,
    )
