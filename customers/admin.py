"""The Django admin pages of customers and their contacts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Contact, Customer


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("name", "email", "phone", "language")
    extra = 0
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "tier", "region", "contact_count", "created_at")
    list_filter = ("kind", "tier")
    search_fields = ("name", "region")
    readonly_fields = ("created_at", "updated_at")
    inlines = [ContactInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).annotate(contact_total=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="contact_total")
    def contact_count(self, customer: Any) -> int:
        return int(customer.contact_total)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "customer", "phone", "language")
    list_filter = ("language",)
    search_fields = ("email", "name", "phone", "customer__name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    readonly_fields = ("created_at", "updated_at")
