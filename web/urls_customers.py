"""Screens of customers 360: customers (docs/customers-360.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_customers

urlpatterns: list[URLPattern] = [
    path("customers/", views_customers.customers_list, name="customers"),
    path("customers/<int:pk>/", views_customers.customer_detail, name="customer"),
    path("contacts/<int:pk>/", views_customers.contact_detail, name="contact"),
]
