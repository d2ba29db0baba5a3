"""URLs of the customers API: segments, consent and the suppression list
(docs/customers-segments.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import segments as views

urlpatterns: list[URLPattern] = [
    path("segments/", views.SegmentListView.as_view(), name="api-segments"),
    path("segments/preview/", views.SegmentPreviewView.as_view(), name="api-segments-preview"),
    path("segments/<int:pk>/", views.SegmentDetailView.as_view(), name="api-segment"),
    path(
        "segments/<int:pk>/contacts/",
        views.SegmentContactsView.as_view(),
        name="api-segment-contacts",
    ),
    path(
        "segments/<int:pk>/members/", views.SegmentMembersView.as_view(), name="api-segment-members"
    ),
    path("segments/<int:pk>/freeze/", views.SegmentFreezeView.as_view(), name="api-segment-freeze"),
    path(
        "contacts/<int:pk>/consents/",
        views.ContactConsentsView.as_view(),
        name="api-contact-consents",
    ),
    path("suppressions/", views.SuppressionListView.as_view(), name="api-suppressions"),
    path("suppressions/<int:pk>/", views.SuppressionDetailView.as_view(), name="api-suppression"),
]
