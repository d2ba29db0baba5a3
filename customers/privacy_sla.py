"""Privacy requests as the SLA ladder sees them (``sla.kinds``, kind ``privacy``): the
statutory deadline's warning goes to the handler (administrators and managers while nobody
handles it), its breach to the handler and every administrator and manager; audited
``privacy.sla_warning`` / ``privacy.sla_breached`` by the ladder (docs/customers-privacy.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model

from org.roles import ROLE_ADMINISTRATOR, ROLE_MANAGER
from sla.kinds import Subject

from .models import PrivacyRequest
from .services.privacy import SLA_KIND, TARGETS


def privacy_officers() -> list[int]:
    """Every active administrator and manager."""
    return sorted(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[ROLE_ADMINISTRATOR, ROLE_MANAGER])
        .values_list("id", flat=True)
        .distinct()
    )


class PrivacySubjects:
    kind = SLA_KIND
    target_order = TARGETS

    def load(self, object_ids: Sequence[int], clocks: Mapping[int, Any]) -> dict[int, Subject]:
        rows = PrivacyRequest.objects.select_related("contact").in_bulk(list(object_ids))
        return {
            pk: Subject(
                object_id=pk,
                number=row.number,
                priority="",
                assignee_id=row.handler_id,
                team_id=None,
                customer_id=row.contact.customer_id,
                row=row,
            )
            for pk, row in rows.items()
        }

    def audit_fields(self, subject: Subject) -> Mapping[str, Any]:
        return {"object_id": subject.object_id, "contact_id": subject.row.contact_id}

    def supervisors(self, subjects: Sequence[Subject]) -> dict[int, list[int]]:
        officers = privacy_officers()
        return {s.object_id: officers for s in subjects}

    def raise_priority(self, subject: Subject) -> str | None:
        return None

    def save(self, subjects: Sequence[Subject]) -> None:
        """Nothing of the request changes with its clock."""
