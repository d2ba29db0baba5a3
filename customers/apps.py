from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    """Customers 360: records, segments, consent, import and export, privacy requests
    (docs/customers.md). A platform app: the process apps register what it needs of them
    (who sees which customer, their personal data) in ``customers.registry``."""

    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from audit import verbs

        from .choices import (
            ContactVerb,
            CustomerVerb,
            ExportVerb,
            ImportVerb,
            PrivacyVerb,
            SegmentVerb,
        )

        verbs.register("customer", CustomerVerb.choices)
        verbs.register("contact", ContactVerb.choices)
        verbs.register("segment", SegmentVerb.choices)
        verbs.register("import", ImportVerb.choices)
        verbs.register("export", ExportVerb.choices)
        verbs.register("privacy", PrivacyVerb.choices)

        from sla import kinds

        from .privacy_sla import PrivacySubjects

        kinds.register(PrivacySubjects())
