"""Screens of customers 360: imports and exports (docs/customers-import-export.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_imports as views

urlpatterns: list[URLPattern] = [
    path("imports/", views.import_list, name="imports"),
    path("imports/new/", views.import_new, name="import-new"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("exports/", views.export_list, name="exports"),
]
