"""URLs of the customers API: records (docs/customers.md, docs/api.md "Customers and
contacts")."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import records

urlpatterns: list[URLPattern] = [
    path("customers/", records.CustomerListView.as_view(), name="customer-list"),
    path("customers/<int:pk>/", records.CustomerDetailView.as_view(), name="customer-detail"),
    path(
        "customers/<int:pk>/contracts/",
        records.CustomerContractsView.as_view(),
        name="customer-contracts",
    ),
    path(
        "customers/<int:pk>/contracts/<int:cid>/",
        records.CustomerContractView.as_view(),
        name="customer-contract",
    ),
    path(
        "customers/<int:pk>/legal-holds/",
        records.CustomerLegalHoldsView.as_view(),
        name="customer-legal-holds",
    ),
    path(
        "legal-holds/<int:pk>/release/",
        records.LegalHoldReleaseView.as_view(),
        name="legal-hold-release",
    ),
    path("contacts/", records.ContactListView.as_view(), name="contact-list"),
    path("contacts/<int:pk>/", records.ContactDetailView.as_view(), name="contact-detail"),
    path("contacts/<int:pk>/points/", records.ContactPointsView.as_view(), name="contact-points"),
    path(
        "contacts/<int:pk>/points/<int:pid>/",
        records.ContactPointView.as_view(),
        name="contact-point",
    ),
    path("custom-fields/", records.CustomFieldListView.as_view(), name="custom-field-list"),
    path(
        "custom-fields/<int:pk>/",
        records.CustomFieldDetailView.as_view(),
        name="custom-field-detail",
    ),
]
