"""Screens of customers 360: duplicates, merge and undo (docs/customers-merge.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_duplicates as views

urlpatterns: list[URLPattern] = [
    path("customers/duplicates/", views.duplicates, name="duplicates"),
    path(
        "customers/duplicates/contacts/<int:a>/<int:b>/",
        views.compare_contacts,
        name="duplicates-contacts-compare",
    ),
    path(
        "customers/duplicates/customers/<int:a>/<int:b>/",
        views.compare_customers,
        name="duplicates-customers-compare",
    ),
    path(
        "customers/duplicates/contacts/<int:a>/<int:b>/dismiss/",
        views.dismiss_contacts,
        name="duplicates-contacts-dismiss",
    ),
    path(
        "customers/duplicates/customers/<int:a>/<int:b>/dismiss/",
        views.dismiss_customers,
        name="duplicates-customers-dismiss",
    ),
    path(
        "customers/duplicates/dismissed/<int:pk>/restore/",
        views.restore,
        name="duplicates-restore",
    ),
    path("customers/merges/", views.merges, name="merges"),
    path("customers/merges/<int:pk>/undo/", views.undo, name="merge-undo"),
]
