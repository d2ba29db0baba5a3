"""The Django admin pages of customers 360 (docs/customers-records.md).

Customers, contacts and custom field definitions are written through
``customers.services.records`` (the same checks, normalisation and audit rows as the API
and the screens): the form asks the service what it would refuse and shows it by field,
and saving calls the service. Contracts added, changed or removed inline are audited like
the API's. Segments are read-mostly; imports, exports and privacy requests are read-only
here (their own screens run them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit import services as audit
from core.errors import InvalidInput, KefuError

from .choices import CustomerVerb
from .models import (
    Contact,
    ContactPoint,
    Contract,
    Customer,
    CustomField,
    ExportJob,
    ImportJob,
    LegalHold,
    PrivacyRequest,
    Segment,
    Suppression,
)
from .services import records

CUSTOMER_ADMIN_FIELDS = (
    "kind",
    "name",
    "tier",
    "region",
    "industry",
    "tags",
    "owner",
    "parent",
    "external_id",
    "custom",
)
CONTACT_ADMIN_FIELDS = (
    "customer",
    "name",
    "email",
    "phone",
    "title",
    "language",
    "birthday",
    "preferred_channel",
    "external_id",
    "custom",
)
FIELD_ADMIN_FIELDS = (
    "target",
    "key",
    "label",
    "label_zh",
    "type",
    "choices",
    "required",
    "position",
    "is_active",
)


def _service_data(form: forms.ModelForm, names: tuple[str, ...], creating: bool) -> dict[str, Any]:
    """The service's input from the admin form: every field on creation, the changed ones
    on a change; foreign keys as ids, absent text as ""."""
    data: dict[str, Any] = {}
    for name in names:
        if name not in form.cleaned_data or (not creating and name not in form.changed_data):
            continue
        value = form.cleaned_data[name]
        if hasattr(value, "pk"):
            value = value.pk
        if value is None and name in ("region", "industry", "external_id", "name", "email"):
            value = ""
        data[name] = value
    return data


class ServiceForm(forms.ModelForm):
    """A model form whose ``clean`` asks the service what it would refuse."""

    service_fields: tuple[str, ...] = ()
    actor: Any = None

    def check(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.errors:
            return cleaned
        data = _service_data(self, self.service_fields, self.instance.pk is None)
        try:
            self.check(data)
        except InvalidInput as exc:
            for field, messages in exc.errors.items():
                name = field.split(".")[0]
                target = name if name in self.fields else None
                for message in messages:
                    self.add_error(target, f"{field}: {message}" if target is None else message)
        except KefuError as exc:
            self.add_error(None, exc.message)
        return cleaned


class CustomerForm(ServiceForm):
    service_fields = CUSTOMER_ADMIN_FIELDS

    class Meta:
        model = Customer
        fields = CUSTOMER_ADMIN_FIELDS

    def check(self, data: dict[str, Any]) -> None:
        records.check_customer(actor=self.actor, customer_id=self.instance.pk, data=data)


class ContactForm(ServiceForm):
    service_fields = CONTACT_ADMIN_FIELDS

    class Meta:
        model = Contact
        fields = CONTACT_ADMIN_FIELDS

    def check(self, data: dict[str, Any]) -> None:
        records.check_contact(actor=self.actor, contact_id=self.instance.pk, data=data)


class CustomFieldForm(ServiceForm):
    service_fields = FIELD_ADMIN_FIELDS

    class Meta:
        model = CustomField
        fields = FIELD_ADMIN_FIELDS

    def check(self, data: dict[str, Any]) -> None:
        records.check_custom_field(field_id=self.instance.pk, data=data)


class ServiceAdmin(admin.ModelAdmin):
    """Saves through a service; never deletes (merges and erasure requests retire records)."""

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def write(self, request: HttpRequest, obj: Any, data: dict[str, Any], change: bool) -> Any:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = _service_data(form, form.service_fields, not change)
        saved = self.write(request, obj, data, change)
        # The admin goes on with this instance (inlines, the message): the service's row.
        obj.pk = saved.pk
        obj._state.adding = False
        obj.refresh_from_db()


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("name", "email", "phone", "language")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


class ContractInline(admin.TabularInline):
    model = Contract
    fields = ("kind", "name", "reference", "starts_on", "ends_on", "auto_renew", "value")
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    form = CustomerForm
    list_display = ("name", "kind", "tier", "region", "owner", "contact_count", "created_at")
    list_filter = ("kind", "tier")
    search_fields = ("name", "region", "external_id")
    list_select_related = ("owner",)
    autocomplete_fields = ("parent", "owner")
    readonly_fields = ("created_at", "updated_at")
    inlines = [ContactInline, ContractInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).annotate(contact_total=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="contact_total")
    def contact_count(self, customer: Any) -> int:
        return int(customer.contact_total)

    def write(self, request: HttpRequest, obj: Any, data: dict[str, Any], change: bool) -> Any:
        if change:
            return records.update_customer(actor=request.user, customer_id=obj.pk, data=data)
        return records.create_customer(actor=request.user, data=data)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Contracts edited inline: saved, and audited as the API's contract changes."""
        if formset.model is not Contract:
            super().save_formset(request, form, formset, change)
            return
        names = ContractInline.fields
        with transaction.atomic():
            stored = {
                c.pk: {n: records._snapshot(c, names)[n] for n in names}
                for c in Contract.objects.filter(customer=form.instance)
            }
            instances = formset.save(commit=False)
            for contract in formset.deleted_objects:
                before = {"contract": contract.pk, **stored.get(contract.pk, {})}
                pk = contract.pk
                contract.delete()
                self._audit(request, form.instance, CustomerVerb.CONTRACT_REMOVED, pk, before, {})
            for contract in instances:
                adding = contract.pk is None
                contract.save()
                after = records._snapshot(contract, names)
                if adding:
                    self._audit(
                        request,
                        form.instance,
                        CustomerVerb.CONTRACT_ADDED,
                        contract.pk,
                        {},
                        {"contract": contract.pk, **after},
                    )
                else:
                    old, new = records._changes(stored.get(contract.pk, {}), after)
                    if new:
                        self._audit(
                            request,
                            form.instance,
                            CustomerVerb.CONTRACT_CHANGED,
                            contract.pk,
                            {"contract": contract.pk, **old},
                            {"contract": contract.pk, **new},
                        )

    def _audit(
        self,
        request: HttpRequest,
        customer: Customer,
        verb: str,
        contract_id: int,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        audit.record(
            kind="customer",
            verb=verb,
            actor=request.user,
            customer_id=customer.pk,
            object_id=contract_id,
            before=before,
            after=after,
        )


class ContactPointInline(admin.TabularInline):
    """Read here; added and removed through the API (normalised and audited there)."""

    model = ContactPoint
    fields = ("kind", "value", "label")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Contact)
class ContactAdmin(ServiceAdmin):
    form = ContactForm
    list_display = ("email", "name", "customer", "phone", "language")
    list_filter = ("language",)
    search_fields = ("email", "name", "phone", "customer__name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [ContactPointInline]

    def write(self, request: HttpRequest, obj: Any, data: dict[str, Any], change: bool) -> Any:
        if change:
            return records.update_contact(actor=request.user, contact_id=obj.pk, data=data)
        return records.create_contact(actor=request.user, data=data)


@admin.register(CustomField)
class CustomFieldAdmin(ServiceAdmin):
    form = CustomFieldForm
    list_display = ("label", "label_zh", "target", "key", "type", "required", "is_active")
    list_filter = ("target", "type", "is_active")
    search_fields = ("label", "label_zh", "key")

    def write(self, request: HttpRequest, obj: Any, data: dict[str, Any], change: bool) -> Any:
        return records.save_custom_field(
            actor=request.user, field_id=obj.pk if change else None, data=data
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    """Placed and released through the API (administrators; audited there)."""

    list_display = ("reason", "customer", "contact", "created_by", "created_at", "released_at")
    list_filter = ("released_at",)
    list_select_related = ("customer", "contact", "created_by")
    search_fields = ("reason", "customer__name", "contact__email")


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ("address", "kind", "reason", "created_by", "created_at")
    list_filter = ("kind", "reason")
    search_fields = ("address",)


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    """Read here: segments change on their own screen and API, where definitions are
    checked and every change is audited."""

    list_display = ("name", "kind", "owner", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "target", "status", "total_rows", "created_by", "created_at")
    list_filter = ("target", "status")


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ("target", "format", "status", "rows", "created_by", "created_at")
    list_filter = ("target", "status")


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "status", "contact", "due_at", "completed_at")
    list_filter = ("kind", "status")
    search_fields = ("number",)
