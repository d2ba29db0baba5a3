"""Exports of the customers and contacts lists, their filters applied
(``customers.selectors.lists``): CSV streamed from a server-side cursor (constant memory
however long the list), or — for .xlsx and long lists — an ``ExportJob`` a Celery worker
writes to a file. Every cell is neutralised against formula injection
(``customers.spreadsheets.neutralise``); an analyst not granted personal data gets it
masked; every export is audited (docs/customers-import-export.md)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from org import roles

from .. import permissions, spreadsheets
from ..choices import ExportStatus, ExportVerb, FieldTarget, ImportTarget
from ..fields import definitions
from ..models import ExportJob
from ..selectors.lists import (
    CONTACT_FILTERS,
    CUSTOMER_FILTERS,
    contacts_matching,
    customers_matching,
)

# Longer CSV lists become a job (KEFU_EXPORT_STREAM_LIMIT: another limit, e.g. for the
# streaming benchmark, tests/bench/contact_export.py).
STREAM_LIMIT = int(os.environ.get("KEFU_EXPORT_STREAM_LIMIT", "50000"))
CURSOR_CHUNK = 2000
MASK = permissions.MASK

CUSTOMER_COLUMNS = (
    "id",
    "name",
    "kind",
    "tier",
    "region",
    "industry",
    "tags",
    "external_id",
    "parent__external_id",
    "created_at",
)
CONTACT_COLUMNS = (
    "id",
    "name",
    "email",
    "phone",
    "title",
    "language",
    "birthday",
    "preferred_channel",
    "external_id",
    "customer__name",
    "customer__external_id",
    "created_at",
)
CONTACT_PERSONAL = frozenset({"name", "email", "phone", "birthday"})
HEADERS = {
    "parent__external_id": "parent_external_id",
    "customer__name": "customer",
    "customer__external_id": "customer_external_id",
}


def _check(user: Any, target: str, fmt: str) -> None:
    if not permissions.can_export(user):
        raise Forbidden(_("You may not export lists."))
    if target not in ImportTarget.values:
        raise NotFound(_("No such list."))
    if fmt not in spreadsheets.FORMATS:
        raise InvalidInput(
            _("Unknown format."),
            {"format": [_("Choose one of: %(choices)s.") % {"choices": "csv, xlsx"}]},
        )


def filters_of(target: str, params: Mapping[str, Any]) -> dict[str, str]:
    names = CUSTOMER_FILTERS if target == ImportTarget.CUSTOMERS else CONTACT_FILTERS
    return {n: str(params[n]) for n in names if params.get(n) not in (None, "")}


def matching(user: Any, target: str, filters: Mapping[str, Any]) -> QuerySet[Any]:
    if target == ImportTarget.CUSTOMERS:
        return customers_matching(user, filters)
    return contacts_matching(user, filters)


def table(
    user: Any, target: str, filters: Mapping[str, Any]
) -> tuple[list[str], Iterator[list[Any]]]:
    """The export's headers and its rows, read through a server-side cursor."""
    contacts = target == ImportTarget.CONTACTS
    columns = CONTACT_COLUMNS if contacts else CUSTOMER_COLUMNS
    customs = [
        f.key for f in definitions(FieldTarget.CONTACT if contacts else FieldTarget.CUSTOMER)
    ]
    masked = not permissions.sees_personal_data(user)
    headers = [HEADERS.get(c, c) for c in columns] + [f"custom.{k}" for k in customs]
    rows = (
        matching(user, target, filters)
        .order_by("id")
        .values_list(*columns, "custom", *(["kind"] if not contacts else []))
    )
    personal = {i for i, c in enumerate(columns) if c in CONTACT_PERSONAL} if contacts else set()
    name_at = columns.index("name")

    def generate() -> Iterator[list[Any]]:
        for values in rows.iterator(chunk_size=CURSOR_CHUNK):
            row = list(values[: len(columns)])
            custom = values[len(columns)] or {}
            if masked:
                for i in personal:
                    if row[i]:
                        row[i] = MASK
                # An individual's name is personal data too.
                if not contacts and values[-1] == "individual":
                    row[name_at] = MASK
            for i, value in enumerate(row):
                if isinstance(value, list):
                    row[i] = ", ".join(map(str, value))
                elif hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
                    row[i] = value.isoformat()
            row.extend(custom.get(k, "") for k in customs)
            yield row

    return headers, generate()


def request_export(
    user: Any, target: str, fmt: str, params: Mapping[str, Any]
) -> tuple[ExportJob | None, int]:
    """An export asked for: ``(None, rows)`` when it is streamed now (CSV, at most
    ``STREAM_LIMIT`` rows), else the queued job. Audited either way."""
    _check(user, target, fmt)
    filters = filters_of(target, params)
    count = matching(user, target, filters).count()  # also checks the filters (400)
    stream = fmt == "csv" and count <= STREAM_LIMIT
    with transaction.atomic():
        job = None
        if not stream:
            job = ExportJob.objects.create(
                target=target, format=fmt, filters=filters, created_by=user
            )
        audit.record(
            kind="export",
            verb=ExportVerb.REQUESTED,
            actor=user,
            object_id=job.pk if job else None,
            after={
                "target": target,
                "format": fmt,
                "filters": filters,
                "rows": count,
                "masked": not permissions.sees_personal_data(user),
                "streamed": stream,
            },
        )
        if stream:
            audit.record(
                kind="export",
                verb=ExportVerb.DOWNLOADED,
                actor=user,
                after={"target": target, "format": fmt, "rows": count},
            )
        else:
            from ..tasks import run_export_job

            job_id = job.pk  # type: ignore[union-attr]
            transaction.on_commit(lambda: run_export_job.delay(job_id))
    return job, count


def stream_csv(user: Any, target: str, params: Mapping[str, Any]) -> Iterator[bytes]:
    headers, rows = table(user, target, filters_of(target, params))
    return spreadsheets.csv_chunks(headers, rows)


def run_export(job: ExportJob) -> ExportJob:
    """Writes the job's file (the creator's visibility and masking applied)."""
    if job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return job
    user = job.created_by
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    handle, path = tempfile.mkstemp(suffix=f".{job.format}")
    os.close(handle)
    try:
        headers, rows = table(user, job.target, job.filters)
        count = 0
        if job.format == "xlsx":
            count = spreadsheets.write_xlsx(path, headers, rows)
        else:
            with open(path, "wb") as out:

                def counted() -> Iterator[list[Any]]:
                    nonlocal count
                    for row in rows:
                        count += 1
                        yield row

                for piece in spreadsheets.csv_chunks(headers, counted()):
                    out.write(piece)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        with open(path, "rb") as stream, transaction.atomic():
            job.file.save(f"{job.target}-{stamp}.{job.format}", File(stream), save=False)
            job.status = ExportStatus.DONE
            job.rows = count
            job.finished_at = timezone.now()
            job.save(update_fields=["file", "status", "rows", "finished_at", "updated_at"])
            audit.record(
                kind="export",
                verb=ExportVerb.FINISHED,
                actor=user,
                object_id=job.pk,
                after={"rows": count},
            )
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    finally:
        os.unlink(path)
    return job


def jobs_visible_to(user: Any) -> QuerySet[ExportJob]:
    if not permissions.can_export(user):
        return ExportJob.objects.none()
    if roles.is_administrator(user):
        return ExportJob.objects.all()
    return ExportJob.objects.filter(created_by=user)


def get_export(user: Any, pk: int) -> ExportJob:
    if not permissions.can_export(user):
        raise Forbidden(_("You may not export lists."))
    job = jobs_visible_to(user).filter(pk=pk).first()
    if job is None:
        raise NotFound(_("No such export."))
    return job


def download(user: Any, pk: int) -> ExportJob:
    """The finished job whose file ``user`` may fetch; audited."""
    job = get_export(user, pk)
    if job.status != ExportStatus.DONE or not job.file:
        raise Conflict(_("The export is not ready."))
    audit.record(
        kind="export",
        verb=ExportVerb.DOWNLOADED,
        actor=user,
        object_id=job.pk,
        after={"target": job.target, "format": job.format, "rows": job.rows},
    )
    return job
