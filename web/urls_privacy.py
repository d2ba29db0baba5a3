"""Screens of customers 360: privacy requests (docs/customers-privacy.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_privacy

urlpatterns: list[URLPattern] = [
    path("privacy/", views_privacy.privacy_list, name="privacy"),
    path("privacy/new/", views_privacy.privacy_new, name="privacy-new"),
    path("privacy/<int:pk>/", views_privacy.privacy_request, name="privacy-request"),
    path("privacy/export/<str:token>/", views_privacy.privacy_export, name="privacy-export"),
    path(
        "privacy/export/<str:token>/file/",
        views_privacy.privacy_export_file,
        name="privacy-export-file",
    ),
]
