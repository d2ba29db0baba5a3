"""A Django admin base for configuration that every save and delete audits (the teams,
SLA policies and calendars of tickets; the complaints' categories, profiles, policies and
limits of authority)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services as audit_services


class AuditedAdmin(admin.ModelAdmin):
    """Every save and delete of the configuration in the admin leaves an audit row, as the
    administration API does (``audit_kind``); the admin runs each in one transaction.
    The fields before are read from the database before the form's values are saved; the
    row is written once the many-to-many fields are saved too."""

    audit_kind = ""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        stored = type(obj).objects.filter(pk=obj.pk).first() if change else None
        request._kefu_audit_before = (  # type: ignore[attr-defined]
            audit_services.configuration_snapshot(stored) if stored is not None else {}
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        audit_services.record_configuration(
            kind=self.audit_kind,
            verb="changed" if change else "created",
            actor=request.user,
            object_id=form.instance.pk,
            before=getattr(request, "_kefu_audit_before", {}),
            after=audit_services.configuration_snapshot(form.instance),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._audit_deleted(
            request, [obj], lambda: super(AuditedAdmin, self).delete_model(request, obj)
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        rows = list(queryset)
        self._audit_deleted(
            request, rows, lambda: super(AuditedAdmin, self).delete_queryset(request, queryset)
        )

    def _audit_deleted(self, request: HttpRequest, rows: list[Any], delete: Any) -> None:
        before = [(row.pk, audit_services.configuration_snapshot(row)) for row in rows]
        delete()
        for pk, fields in before:
            audit_services.record_configuration(
                kind=self.audit_kind,
                verb="deleted",
                actor=request.user,
                object_id=pk,
                before=fields,
                after={},
            )
