"""``GET /api/attachments/<id>/``: a stored file, to whoever may see what it belongs to.

An attachment belongs to a process subject (``subject_kind``, ``object_id``); the process's
own visibility rule (``processes.visibility``, registered by the process app) decides, so
this platform view names no process. Anyone else gets the 404 of an id that names nothing.
The file is streamed from Django's storage as a download (``Content-Disposition:
attachment``) with ``X-Content-Type-Options: nosniff``: a browser never renders it as a page
of Kefu, whatever a sender claimed it to be (docs/api.md)."""

from __future__ import annotations

import re
from typing import Any

from django.http import FileResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from core.errors import NotFound
from processes import visibility

from .models import Attachment

MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
# Types a browser would run or render as a document of this origin if it ever displayed
# one: always served as bytes.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
    }
)
OCTET_STREAM = "application/octet-stream"


def served_type(content_type: str) -> str:
    """The Content-Type a stored file is served with: its own when well formed and passive."""
    content_type = (content_type or "").strip().lower()
    if not MEDIA_TYPE.fullmatch(content_type) or content_type in ACTIVE_TYPES:
        return OCTET_STREAM
    return content_type


def visible_attachment(user: Any, attachment_id: int) -> Attachment:
    """The attachment, if ``user`` may see the subject it belongs to; NotFound otherwise (the
    same answer as for an id that names nothing)."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or not visibility.can_see(
        user, attachment.subject_kind, attachment.object_id
    ):
        raise NotFound(_("Attachment not found."))
    return attachment


class AttachmentDownloadView(APIView):
    @extend_schema(
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, as a download (Content-Disposition: attachment).",
            )
        },
        operation_id="attachments_download",
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        attachment = visible_attachment(request.user, pk)
        try:
            handle = attachment.file.open("rb")
        except OSError as exc:  # the row outlived its file (a storage restored from backup)
            raise NotFound(_("The file is no longer stored.")) from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.name,
            content_type=served_type(attachment.content_type),
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-cache"
        return response

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # A browser asks for the file's own type; the JSON renderer answers only errors.
        return super().perform_content_negotiation(request, force=True)


urlpatterns = [
    path("attachments/<int:pk>/", AttachmentDownloadView.as_view(), name="attachment-download"),
]
