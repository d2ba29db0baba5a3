"""Screens of customers 360: duplicates (docs/ui.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
