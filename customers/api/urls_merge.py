"""URLs of the customers API: duplicates, merge and undo (docs/customers-merge.md). The
paths are literal (``duplicates/``, ``merge/``, ``not-duplicate/``), so they never clash with
``contacts/<int:pk>/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import merge

urlpatterns: list[URLPattern] = [
    path("contacts/duplicates/", merge.ContactDuplicatesView.as_view(), name="contact-duplicates"),
    path(
        "customers/duplicates/", merge.CustomerDuplicatesView.as_view(), name="customer-duplicates"
    ),
    path("contacts/<int:pk>/merge/", merge.ContactMergeView.as_view(), name="contact-merge"),
    path("customers/<int:pk>/merge/", merge.CustomerMergeView.as_view(), name="customer-merge"),
    path("merges/", merge.MergeListView.as_view(), name="merges"),
    path("merges/<int:pk>/undo/", merge.MergeUndoView.as_view(), name="merge-undo"),
    path(
        "contacts/<int:pk>/not-duplicate/",
        merge.ContactDismissView.as_view(),
        name="contact-not-duplicate",
    ),
    path(
        "customers/<int:pk>/not-duplicate/",
        merge.CustomerDismissView.as_view(),
        name="customer-not-duplicate",
    ),
    path("duplicate-dismissals/", merge.DismissalListView.as_view(), name="duplicate-dismissals"),
    path(
        "duplicate-dismissals/<int:pk>/restore/",
        merge.DismissalRestoreView.as_view(),
        name="duplicate-dismissal-restore",
    ),
]
