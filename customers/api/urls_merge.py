"""URLs of the customers API: merge (docs/customers.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
