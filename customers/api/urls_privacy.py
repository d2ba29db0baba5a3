"""URLs of the customers API: privacy requests (docs/customers-privacy.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import privacy

urlpatterns: list[URLPattern] = [
    path("privacy-requests/", privacy.PrivacyRequestListView.as_view()),
    path("privacy-requests/<int:pk>/", privacy.PrivacyRequestDetailView.as_view()),
    path("privacy-requests/<int:pk>/start/", privacy.PrivacyRequestStartView.as_view()),
    path("privacy-requests/<int:pk>/complete/", privacy.PrivacyRequestCompleteView.as_view()),
    path("privacy-requests/<int:pk>/refuse/", privacy.PrivacyRequestRefuseView.as_view()),
]
