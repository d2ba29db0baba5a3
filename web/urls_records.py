"""Screens of customers 360: records (docs/ui.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
