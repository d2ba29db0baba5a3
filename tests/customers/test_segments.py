"""Segments: the definition language compiled into one query, its validation, counts,
static lists and frozen snapshots (docs/customers-segments.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Forbidden, InvalidInput
from customers.models import (
    Consent,
    Contact,
    ContactPoint,
    Contract,
    CustomField,
    Segment,
    SegmentMember,
    SegmentSnapshot,
    SnapshotMember,
    Suppression,
)
from customers.selectors import segments as selectors
from customers.services import segments as services
from processes.models import WorkItem
from tests.factories import (
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
    SurveyTemplateFactory,
    open_ticket,
)

pytestmark = pytest.mark.django_db


def matching(definition: Any) -> set[int]:
    return set(
        selectors.live_contacts()
        .filter(selectors.compile_definition(definition))
        .values_list("pk", flat=True)
    )


def cond(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"all": [{"field": field, "op": op, "value": value}]}


@pytest.fixture
def crowd() -> dict[str, Any]:
    gold = CustomerFactory(
        name="Gold Co", tier="gold", region="east", industry="retail", tags=["vip", "b2b"]
    )
    std = CustomerFactory(name="Std Co", tier="standard", region="west", industry="banking")
    plat = CustomerFactory(name="Plat Co", tier="platinum", region="east", tags=["partner"])
    return {
        "gold": gold,
        "std": std,
        "plat": plat,
        "a": ContactFactory(customer=gold, language="zh-hans", preferred_channel="email"),
        "b": ContactFactory(customer=std, language="en", preferred_channel="phone"),
        "c": ContactFactory(customer=plat, language="en", email=""),
        "walkin": ContactFactory(customer=None, language="en"),
    }


def test_customer_fields(crowd: dict[str, Any]) -> None:
    a, b, c = crowd["a"].pk, crowd["b"].pk, crowd["c"].pk
    assert matching(cond("customer.tier", "eq", "gold")) == {a}
    assert matching(cond("customer.tier", "in", ["gold", "platinum"])) == {a, c}
    assert b in matching(cond("customer.tier", "ne", "gold"))
    assert matching(cond("customer.region", "eq", "east")) == {a, c}
    assert matching(cond("customer.industry", "contains", "BANK")) == {b}
    assert matching(cond("customer.kind", "eq", "company")) == {a, b, c}
    assert matching(cond("customer.tags", "in", ["vip", "partner"])) == {a, c}
    assert matching(cond("customer.tags", "in", ["nobody"])) == set()


def test_contact_fields(crowd: dict[str, Any]) -> None:
    a, b, c, w = crowd["a"].pk, crowd["b"].pk, crowd["c"].pk, crowd["walkin"].pk
    assert matching(cond("contact.language", "eq", "zh-hans")) == {a}
    assert matching(cond("contact.preferred_channel", "in", ["phone"])) == {b}
    assert matching(cond("contact.has_email", "eq", False)) == {c}
    assert matching(cond("contact.has_email", "eq", True)) == {a, b, w}


def test_all_any_and_one_nested_group(crowd: dict[str, Any]) -> None:
    a, b, c = crowd["a"].pk, crowd["b"].pk, crowd["c"].pk
    assert matching(
        {
            "any": [
                {"field": "customer.tier", "op": "eq", "value": "gold"},
                {"field": "customer.region", "op": "eq", "value": "west"},
            ]
        }
    ) == {a, b}
    assert matching(
        {
            "all": [
                {"field": "customer.region", "op": "eq", "value": "east"},
                {
                    "any": [
                        {"field": "contact.language", "op": "eq", "value": "en"},
                        {"field": "customer.tags", "op": "in", "value": ["vip"]},
                    ]
                },
            ]
        }
    ) == {a, c}


def test_merged_and_erased_contacts_are_never_in_a_segment(crowd: dict[str, Any]) -> None:
    a, b = crowd["a"], crowd["b"]
    Contact.objects.filter(pk=a.pk).update(erased_at=timezone.now())
    Contact.objects.filter(pk=b.pk).update(merged_into=crowd["c"])
    assert matching({}) == {crowd["c"].pk, crowd["walkin"].pk}


def test_custom_fields_typed_by_their_definition(crowd: dict[str, Any]) -> None:
    CustomField.objects.create(target="customer", key="seats", label="Seats", type="number")
    CustomField.objects.create(target="customer", key="renewal", label="Renewal", type="date")
    CustomField.objects.create(
        target="contact", key="role", label="Role", type="choice", choices=["buyer", "user"]
    )
    CustomField.objects.create(target="contact", key="vip", label="VIP", type="boolean")
    CustomField.objects.create(target="contact", key="memo", label="Memo", type="text")
    gold, std = crowd["gold"], crowd["std"]
    gold.custom = {"seats": 120, "renewal": "2027-03-01"}
    gold.save()
    std.custom = {"seats": 8, "renewal": "2026-01-15"}
    std.save()
    a, b = crowd["a"], crowd["b"]
    a.custom = {"role": "buyer", "vip": True, "memo": "Prefers WeChat"}
    a.save()
    b.custom = {"role": "user", "vip": False}
    b.save()
    assert matching(cond("customer.custom.seats", "gt", 100)) == {a.pk}
    assert matching(cond("customer.custom.seats", "lt", "100")) == {b.pk}
    assert matching(cond("customer.custom.seats", "eq", 8)) == {b.pk}
    assert matching(cond("customer.custom.renewal", "lt", "2026-06-30")) == {b.pk}
    assert matching(cond("customer.custom.renewal", "gt", "2026-06-30")) == {a.pk}
    assert matching(cond("contact.custom.role", "in", ["buyer"])) == {a.pk}
    assert matching(cond("contact.custom.role", "ne", "buyer")) == {b.pk}
    assert matching(cond("contact.custom.vip", "eq", "yes")) == {a.pk}
    assert matching(cond("contact.custom.memo", "contains", "wechat")) == {a.pk}


def test_last_ticket_and_no_ticket_from_the_audit_trail(desk: Any) -> None:
    recent = desk.contact  # its customer gets a real ticket now
    open_ticket(desk)
    stale_customer: Any = CustomerFactory()
    stale: Any = ContactFactory(customer=stale_customer)
    old = AuditEvent.objects.create(subject_kind="ticket", verb="created", customer=stale_customer)
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=90))
    quiet: Any = ContactFactory(customer=CustomerFactory())
    assert matching(cond("activity.last_ticket_days", "within", 30)) == {recent.pk}
    assert matching(cond("activity.last_ticket_days", "within", 120)) == {recent.pk, stale.pk}
    no_ticket = matching(cond("activity.no_ticket_days", "within", 30))
    assert {stale.pk, quiet.pk} <= no_ticket
    assert recent.pk not in no_ticket


def _survey(contact: Contact, score: int) -> None:
    from surveys.models import Invitation, SurveyResponse

    template: Any = SurveyTemplateFactory()
    invitation = Invitation.objects.create(
        subject_kind="ticket",
        subject_id=Invitation.objects.count() + 1,
        subject_number="T-1",
        subject_title="t",
        contact=contact,
        email=contact.email,
        language="en",
        template=template,
        scale="csat",
        token_hash=uuid.uuid4().hex,
        expires_at=timezone.now() + timedelta(days=7),
    )
    SurveyResponse.objects.create(invitation=invitation, score=score, answered_at=timezone.now())


def test_csat_below_is_the_customers_average(crowd: dict[str, Any]) -> None:
    a, b = crowd["a"], crowd["b"]
    _survey(a, 1)
    _survey(a, 3)  # Gold Co: 2.0
    _survey(b, 4)
    _survey(b, 5)  # Std Co: 4.5
    assert matching(cond("activity.csat_below", "lt", 3)) == {a.pk}
    assert matching(cond("activity.csat_below", "lt", 5)) == {a.pk, b.pk}


def test_open_complaint_from_the_work_queue() -> None:
    from tests.factories.complaints import build_complaints_desk, open_complaint

    cdesk = build_complaints_desk()
    complaint = open_complaint(cdesk)
    other: Any = ContactFactory(customer=CustomerFactory())
    assert matching(cond("activity.open_complaint", "eq", True)) == {cdesk.contact.pk}
    assert cdesk.contact.pk not in matching(cond("activity.open_complaint", "eq", False))
    assert other.pk in matching(cond("activity.open_complaint", "eq", False))
    # closed: the queue removes its work item
    WorkItem.objects.filter(kind="complaint", object_id=complaint.pk).delete()
    assert matching(cond("activity.open_complaint", "eq", True)) == set()


def test_contract_ending_within_days(crowd: dict[str, Any]) -> None:
    today = timezone.localdate()
    Contract.objects.create(
        customer=crowd["gold"],
        name="Soon",
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=10),
    )
    Contract.objects.create(
        customer=crowd["std"],
        name="Later",
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=200),
    )
    Contract.objects.create(
        customer=crowd["plat"],
        name="Over",
        starts_on=today - timedelta(days=300),
        ends_on=today - timedelta(days=1),
    )
    assert matching(cond("contract.ending_within_days", "within", 30)) == {crowd["a"].pk}
    assert matching(cond("contract.ending_within_days", "within", 365)) == {
        crowd["a"].pk,
        crowd["b"].pk,
    }


@pytest.mark.parametrize(
    ("definition", "key"),
    [
        (
            {"all": [{"field": "customer.colour", "op": "eq", "value": "x"}]},
            "definition.all.0.field",
        ),
        ({"all": [{"field": "customer.tier", "op": "gt", "value": "gold"}]}, "definition.all.0.op"),
        (
            {"all": [{"field": "customer.tier", "op": "eq", "value": "bronze"}]},
            "definition.all.0.value",
        ),
        (
            {
                "all": [
                    {"field": "customer.tier", "op": "eq", "value": "gold"},
                    {"field": "contact.language", "op": "eq", "value": "en"},
                    {"field": "activity.last_ticket_days", "op": "within", "value": -3},
                ]
            },
            "definition.all.2.value",
        ),
        (
            {"all": [{"field": "activity.csat_below", "op": "lt", "value": 9}]},
            "definition.all.0.value",
        ),
        (
            {"all": [{"field": "contact.has_email", "op": "eq", "value": "maybe"}]},
            "definition.all.0.value",
        ),
        (
            {"all": [{"field": "customer.tags", "op": "in", "value": "vip"}]},
            "definition.all.0.value",
        ),
        (
            {"all": [{"field": "customer.custom.nope", "op": "eq", "value": 1}]},
            "definition.all.0.field",
        ),
        ({"all": [{"field": "customer.tier", "op": "eq"}]}, "definition.all.0.value"),
        ({"all": ["tier=gold"]}, "definition.all.0"),
        ({"all": [{"any": [{"all": []}]}]}, "definition.all.0.any.0"),
        ({"every": []}, "definition"),
    ],
)
def test_validation_names_the_condition_and_its_part(definition: Any, key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        selectors.compile_definition(definition)
    assert key in caught.value.errors, caught.value.errors


def test_custom_value_checked_by_type() -> None:
    CustomField.objects.create(target="customer", key="seats", label="Seats", type="number")
    with pytest.raises(InvalidInput) as caught:
        selectors.compile_definition(cond("customer.custom.seats", "gt", "many"))
    assert "definition.all.0.value" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        selectors.compile_definition(cond("customer.custom.seats", "contains", "1"))
    assert "definition.all.0.op" in caught.value.errors


def test_count_and_preview_match_the_contacts(crowd: dict[str, Any]) -> None:
    marketing = MarketingFactory()
    for _ in range(25):
        ContactFactory(customer=crowd["gold"])
    definition = cond("customer.tier", "eq", "gold")
    assert selectors.count_segment(marketing, definition) == 26
    preview = selectors.preview_segment(marketing, definition)
    assert len(preview) == selectors.PREVIEW_SIZE
    assert [c.pk for c in preview] == sorted(matching(definition))[: selectors.PREVIEW_SIZE]
    analyst = AnalystFactory()
    assert selectors.count_segment(analyst, definition) == 26
    with pytest.raises(Exception):
        selectors.preview_segment(analyst, definition)


def test_segment_service_is_audited_and_refused_to_agents(crowd: dict[str, Any]) -> None:
    marketing = MarketingFactory()
    segment = services.create_segment(
        marketing, {"name": " Gold ", "definition": cond("customer.tier", "eq", "gold")}
    )
    assert segment.name == "Gold"
    assert AuditEvent.objects.filter(
        subject_kind="segment", verb="created", object_id=segment.pk
    ).exists()
    services.update_segment(
        marketing, segment, {"definition": cond("customer.tier", "eq", "platinum")}
    )
    event = AuditEvent.objects.get(subject_kind="segment", verb="changed", object_id=segment.pk)
    assert event.before["definition"]["all"][0]["value"] == "gold"
    agent = AgentFactory()
    before = AuditEvent.objects.count()
    with pytest.raises(Forbidden):
        services.create_segment(agent, {"name": "x"})
    with pytest.raises(Forbidden):
        services.update_segment(agent, segment, {"name": "y"})
    with pytest.raises(Forbidden):
        services.delete_segment(agent, segment)
    assert AuditEvent.objects.count() == before
    segment.refresh_from_db()
    assert segment.name == "Gold"
    with pytest.raises(InvalidInput) as caught:
        services.update_segment(marketing, segment, {"definition": cond("customer.tier", "eq", 3)})
    assert "definition.all.0.value" in caught.value.errors
    services.delete_segment(marketing, segment)
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_static_list_members(crowd: dict[str, Any]) -> None:
    marketing = MarketingFactory()
    segment = services.create_segment(marketing, {"name": "Hand-picked", "kind": "static"})
    result = services.change_members(marketing, segment, add=[crowd["a"].pk, crowd["b"].pk])
    assert result == {"added": 2, "removed": 0}
    assert set(selectors.segment_contacts(segment).values_list("pk", flat=True)) == {
        crowd["a"].pk,
        crowd["b"].pk,
    }
    again = services.change_members(marketing, segment, add=[crowd["a"].pk], remove=[crowd["b"].pk])
    assert again == {"added": 0, "removed": 1}
    assert list(
        SegmentMember.objects.filter(segment=segment).values_list("contact_id", flat=True)
    ) == [crowd["a"].pk]
    with pytest.raises(InvalidInput):
        services.change_members(marketing, segment, add=[999_999])
    assert SegmentMember.objects.filter(segment=segment).count() == 1


def test_freeze_is_one_insert_select_and_stays_after_the_data_changes(
    crowd: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    marketing = MarketingFactory()
    segment = services.create_segment(
        marketing, {"name": "East", "definition": cond("customer.region", "eq", "east")}
    )
    snapshot = services.freeze_segment(marketing, segment)
    assert snapshot.size == 2
    members = set(
        SnapshotMember.objects.filter(snapshot=snapshot).values_list("contact_id", flat=True)
    )
    assert members == {crowd["a"].pk, crowd["c"].pk}
    event = AuditEvent.objects.get(subject_kind="segment", verb="frozen", object_id=segment.pk)
    assert event.after == {"snapshot": snapshot.pk, "size": 2}
    # the data and the definition change; the snapshot does not
    ContactFactory(customer=crowd["gold"])
    crowd["plat"].region = "north"
    crowd["plat"].save()
    services.update_segment(
        marketing, segment, {"definition": cond("customer.region", "eq", "west")}
    )
    snapshot.refresh_from_db()
    assert snapshot.size == 2
    assert (
        set(SnapshotMember.objects.filter(snapshot=snapshot).values_list("contact_id", flat=True))
        == members
    )
    assert snapshot.definition == cond("customer.region", "eq", "east")
    # a frozen segment is kept for its campaigns
    with pytest.raises(Exception):
        services.delete_segment(marketing, segment)
    assert SegmentSnapshot.objects.filter(segment=segment).count() == 1


def test_reachable_needs_consent_for_marketing_and_respects_suppression(
    crowd: dict[str, Any],
) -> None:
    a, b, walkin = crowd["a"], crowd["b"], crowd["walkin"]
    now = timezone.now()
    for contact in (a, b, walkin):
        Consent.objects.create(
            contact=contact, purpose="marketing_email", granted=True, source="form", at=now
        )
    Consent.objects.create(contact=b, purpose="service_email", granted=False, source="form", at=now)
    everyone = Contact.objects.all()
    assert set(selectors.reachable_contacts(everyone, "marketing_email")) == {a, b, walkin}
    # not asked: service email goes, marketing does not
    assert b not in selectors.reachable_contacts(everyone, "service_email")
    assert crowd["c"] not in selectors.reachable_contacts(everyone, "service_email")  # no email
    assert a in selectors.reachable_contacts(everyone, "service_email")
    # suppressed: the primary address, or a further one
    Suppression.objects.create(kind="email", address=a.email, reason="bounced")
    ContactPoint.objects.create(contact=walkin, kind="email", value="other@example.com")
    Suppression.objects.create(kind="email", address="other@example.com", reason="complained")
    assert set(selectors.reachable_contacts(everyone, "marketing_email")) == {b}
    # consent cannot override the list
    Consent.objects.filter(contact=a).update(granted=True, source="agent")
    assert a not in selectors.reachable_contacts(everyone, "marketing_email")
    # SMS: opt-in, a number, and the number not suppressed
    b.phone = "+8613800138000"
    b.save()
    Consent.objects.create(contact=b, purpose="sms", granted=True, source="form", at=now)
    assert list(selectors.reachable_contacts(everyone, "sms")) == [b]
    Suppression.objects.create(kind="phone", address="+8613800138000", reason="manual")
    assert list(selectors.reachable_contacts(everyone, "sms")) == []


def test_segment_screens_by_role(crowd: dict[str, Any]) -> None:
    from django.test import Client

    marketing: Any = MarketingFactory()
    segment = services.create_segment(
        marketing, {"name": "Gold", "definition": cond("customer.tier", "eq", "gold")}
    )
    client = Client()
    client.force_login(marketing)
    listed = client.get("/segments/")
    assert listed.status_code == 200
    assert b'<td class="count">1</td>' in listed.content
    editor = client.get(f"/segments/{segment.pk}/")
    assert editor.status_code == 200
    assert b'id="save-segment"' in editor.content
    assert b'id="freeze-segment"' in editor.content
    assert client.get("/segments/new/").status_code == 200
    analyst: Any = AnalystFactory()
    reader = Client()
    reader.force_login(analyst)
    assert reader.get("/segments/").status_code == 200
    read_only = reader.get(f"/segments/{segment.pk}/")
    assert read_only.status_code == 200
    assert b'id="save-segment"' not in read_only.content
    agent: Any = AgentFactory()
    refused = Client()
    refused.force_login(agent)
    assert refused.get("/segments/").status_code == 403
    assert refused.get(f"/segments/{segment.pk}/").status_code == 403
    assert refused.get("/suppressions/").status_code == 403
