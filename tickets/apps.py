from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from audit import verbs
        from core import configcache
        from customers import registry
        from mail import inbound
        from processes import subjects, visibility
        from sla import kinds

        from . import personal_data, search
        from .choices import EventVerb
        from .models import Category, RoutingRule
        from .selectors import (
            can_see_ticket,
            customers_seen_q,
            visible_ticket_ids,
            walk_in_contacts_seen_q,
        )
        from .services import TicketMail, TicketSubjects
        from .subject import describe_ticket, describe_tickets

        configcache.watch(RoutingRule, Category)
        verbs.register("ticket", EventVerb.choices)
        visibility.register("ticket", can_see_ticket, visible_ticket_ids)
        subjects.register("ticket", describe_ticket, describe_tickets)
        kinds.register(TicketSubjects())
        search.connect()
        inbound.register_handler("ticket", TicketMail())
        registry.register_customer_rule("ticket", customers_seen_q)
        registry.register_contact_rule("ticket", walk_in_contacts_seen_q)
        personal_data.register()
