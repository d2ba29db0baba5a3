"""Files that come with messages: checked against the limits and stored through Django's
storage (docs/email.md, "Attachments"). Whoever may see the subject may download them; the
views that serve them check that, this module does not."""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import unicodedata

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from core.errors import InvalidInput

from .models import Attachment


def clean_name(name: str) -> str:
    """A file name safe to store and to offer for download: no folders, no control
    characters, at most 200 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", name or "")
    name = posixpath.basename(name.replace("\\", "/")).strip()
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if not name:
        return "attachment"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 16 else name[:200]
    return name


def content_type_of(name: str, declared: str = "") -> str:
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def check(name: str, content_type: str, size: int) -> None:
    """Raises InvalidInput when the file is over the size limit or of a refused type."""
    limit = settings.KEFU_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise InvalidInput(
            _("%(name)s is too large: files may be at most %(limit)s MB.")
            % {"name": name, "limit": limit // 2**20},
            {"attachments": [_("File too large.")]},
        )
    if content_type in settings.KEFU_ATTACHMENT_REFUSED_TYPES:
        raise InvalidInput(
            _("%(name)s is of a type that is not accepted (%(type)s).")
            % {"name": name, "type": content_type},
            {"attachments": [_("File type not accepted.")]},
        )


def store(
    *,
    subject_kind: str,
    object_id: int,
    name: str,
    data: bytes,
    content_type: str = "",
    message_id: int | None = None,
    original: bool = False,
) -> Attachment:
    """Checks and saves one file; the row is written in the caller's transaction (a file
    whose row rolls back stays in storage unreferenced, never the other way round)."""
    name = clean_name(name)
    content_type = content_type_of(name, content_type)
    if not original:
        check(name, content_type, len(data))
    attachment = Attachment(
        subject_kind=subject_kind,
        object_id=object_id,
        message_id=message_id,
        name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original=original,
    )
    attachment.file.save(name, ContentFile(data), save=False)
    attachment.save()
    return attachment


def of_subject(subject_kind: str, object_id: int) -> list[Attachment]:
    return list(Attachment.objects.filter(subject_kind=subject_kind, object_id=object_id))
