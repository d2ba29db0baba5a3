"""The Django admin's site, swapped for one that asks for the second factor (the site
itself lives in ``web.two_factor_admin``: this module is loaded before the models)."""

from django.contrib.admin.apps import AdminConfig


class KefuAdminConfig(AdminConfig):
    default_site = "web.two_factor_admin.KefuAdminSite"
