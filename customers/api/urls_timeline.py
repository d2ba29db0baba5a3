"""URLs of the customers API: timeline (docs/customers-360.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import timeline

urlpatterns: list[URLPattern] = [
    path(
        "customers/<int:pk>/timeline/",
        timeline.CustomerTimelineView.as_view(),
        name="customer-timeline",
    ),
    path(
        "customers/<int:pk>/summary/",
        timeline.CustomerSummaryView.as_view(),
        name="customer-summary",
    ),
    path(
        "contacts/<int:pk>/timeline/",
        timeline.ContactTimelineView.as_view(),
        name="contact-timeline",
    ),
]
