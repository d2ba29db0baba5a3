"""Celery tasks of customers 360: thin, and safe to run twice (each checks the job's status
first; a commit or revert carries on from the rows not yet done)."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from .choices import ExportStatus, ImportStatus
from .models import ExportJob, ImportJob


@shared_task(acks_late=True, ignore_result=True)
def plan_import_job(job_id: int) -> None:
    from .services import imports

    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PLANNING).first()
    if job is not None:
        imports.plan_import(job)


@shared_task(acks_late=True, ignore_result=True)
def commit_import_job(job_id: int) -> None:
    from .services import imports

    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.COMMITTING).first()
    if job is not None:
        imports.commit_import(job)


@shared_task(acks_late=True, ignore_result=True)
def revert_import_job(job_id: int, actor_id: int) -> None:
    from .services import imports

    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.REVERTING).first()
    actor = get_user_model().objects.filter(pk=actor_id).first()
    if job is not None and actor is not None:
        imports.revert_import(actor, job)


@shared_task(acks_late=True, ignore_result=True)
def run_export_job(export_id: int) -> None:
    from .services import exports

    job = ExportJob.objects.filter(
        pk=export_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    ).first()
    if job is not None:
        exports.run_export(job)
