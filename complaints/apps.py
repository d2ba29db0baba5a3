from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    """Complaints: the second process on the platform (docs/complaints.md)."""

    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from audit import verbs
        from core import configcache
        from customers import registry
        from mail.inbound import register_handler
        from processes import subjects, visibility
        from sla import kinds

        from . import personal_data
        from .choices import CONFIGURATION_KINDS, ApprovalClockVerb, ComplaintVerb
        from .inbound import ComplaintMail
        from .models import (
            APPROVAL_KIND,
            AuthorityLimit,
            ComplaintCategory,
            ComplaintPolicy,
            SeverityRule,
        )
        from .selectors import (
            can_see_complaint,
            customers_seen_q,
            describe_complaint,
            describe_complaints,
            visible_complaint_ids,
            walk_in_contacts_seen_q,
        )
        from .services import ApprovalSubjects, ComplaintSubjects

        configcache.watch(ComplaintCategory, ComplaintPolicy, SeverityRule, AuthorityLimit)
        verbs.register("complaint", ComplaintVerb.choices)
        verbs.register(APPROVAL_KIND, ApprovalClockVerb.choices)
        for kind in CONFIGURATION_KINDS:
            verbs.register(
                kind,
                [("created", _("created")), ("changed", _("changed")), ("deleted", _("deleted"))],
            )
        visibility.register("complaint", can_see_complaint, visible_complaint_ids)
        subjects.register("complaint", describe_complaint, describe_complaints)
        kinds.register(ComplaintSubjects())
        kinds.register(ApprovalSubjects())
        register_handler("complaint", ComplaintMail())
        registry.register_customer_rule("complaint", customers_seen_q)
        registry.register_contact_rule("complaint", walk_in_contacts_seen_q)
        personal_data.register()
