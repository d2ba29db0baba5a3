"""Screens of customers 360: records — the customer and contact forms (docs/ui.md,
docs/customers-records.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_records

urlpatterns: list[URLPattern] = [
    path("customers/new/", views_records.customer_form, name="customer-new"),
    path("customers/<int:pk>/edit/", views_records.customer_form, name="customer-edit"),
    path("contacts/new/", views_records.contact_form, name="contact-new"),
    path("contacts/<int:pk>/edit/", views_records.contact_form, name="contact-edit"),
    path("contacts/<int:pk>/points/", views_records.contact_point_add, name="contact-point-add"),
    path(
        "contacts/<int:pk>/points/<int:point>/remove/",
        views_records.contact_point_remove,
        name="contact-point-remove",
    ),
]
