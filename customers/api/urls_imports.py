"""URLs of the customers API: imports and exports (docs/customers-import-export.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import imports as views

urlpatterns: list[URLPattern] = [
    path("imports/", views.ImportListView.as_view(), name="import-list"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("imports/<int:pk>/mapping/", views.ImportMappingView.as_view(), name="import-mapping"),
    path("imports/<int:pk>/plan/", views.ImportPlanView.as_view(), name="import-plan"),
    path("imports/<int:pk>/rows/", views.ImportRowsView.as_view(), name="import-rows"),
    path("imports/<int:pk>/commit/", views.ImportCommitView.as_view(), name="import-commit"),
    path("imports/<int:pk>/revert/", views.ImportRevertView.as_view(), name="import-revert"),
    path("imports/<int:pk>/errors/", views.ImportErrorsView.as_view(), name="import-errors"),
    path("customers/export/", views.CustomersExportView.as_view(), name="customer-export"),
    path("contacts/export/", views.ContactsExportView.as_view(), name="contact-export"),
    path("exports/", views.ExportListView.as_view(), name="export-list"),
    path("exports/<int:pk>/", views.ExportDetailView.as_view(), name="export-detail"),
    path(
        "exports/<int:pk>/download/",
        views.ExportDownloadView.as_view(),
        name="export-download",
    ),
]
