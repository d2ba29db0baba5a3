"""Screens of customers 360: privacy (docs/ui.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
