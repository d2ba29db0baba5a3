"""Screens of customers 360: segments, consent, the suppression list and the public
unsubscribe page (docs/customers-segments.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_segments as views

urlpatterns: list[URLPattern] = [
    path("segments/", views.segments_list, name="segments"),
    path("segments/new/", views.segment_editor, name="segment-new"),
    path("segments/<int:pk>/", views.segment_editor, name="segment"),
    path("contacts/<int:pk>/consent/", views.contact_consent, name="contact-consent"),
    path("suppressions/", views.suppressions, name="suppressions"),
    path("suppressions/<int:pk>/lift/", views.lift_suppression, name="suppression-lift"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
