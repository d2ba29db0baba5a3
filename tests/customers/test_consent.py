"""Consent, unsubscribe links and the suppression list (docs/customers-segments.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signing
from django.test import Client

from audit.models import AuditEvent
from core.errors import Forbidden, InvalidInput
from customers import unsubscribe as links
from customers.models import Consent, Contact, Suppression
from customers.selectors.segments import reachable_contacts
from customers.services import consent as services
from tests.factories import (
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    MarketingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact() -> Contact:
    c: Any = ContactFactory(email="li.lei@example.com", language="en")
    return c


def _opt_in(contact: Contact) -> None:
    services.set_consent(MarketingFactory(), contact, "marketing_email", True, "form", "web form")


def test_set_consent_is_audited_with_before_and_after(contact: Contact) -> None:
    agent = AgentFactory()
    services.set_consent(agent, contact, "phone", True, "agent", "on the call")
    services.set_consent(agent, contact, "phone", False, "agent", "changed their mind")
    events = list(
        AuditEvent.objects.filter(subject_kind="contact", verb="consent", contact=contact).order_by(
            "id"
        )
    )
    assert len(events) == 2
    assert events[0].before == {}
    assert events[0].after["granted"] is True
    assert events[1].before["granted"] is True
    assert events[1].after["granted"] is False
    assert events[1].actor == agent
    consent = Consent.objects.get(contact=contact, purpose="phone")
    assert (consent.granted, consent.source, consent.note) == (False, "agent", "changed their mind")
    # the same answer again changes nothing
    services.set_consent(agent, contact, "phone", False, "agent", "changed their mind")
    assert AuditEvent.objects.filter(verb="consent", contact=contact).count() == 2


def test_consent_refused_to_analysts_and_bad_values(contact: Contact) -> None:
    with pytest.raises(Forbidden):
        services.set_consent(AnalystFactory(), contact, "sms", True, "agent")
    with pytest.raises(InvalidInput) as caught:
        services.set_consent(AgentFactory(), contact, "carrier_pigeon", True, "agent")
    assert "purpose" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        services.set_consent(AgentFactory(), contact, "sms", True, "hearsay")
    assert "source" in caught.value.errors
    assert not Consent.objects.exists()
    assert not AuditEvent.objects.filter(verb="consent").exists()


def test_suppress_normalises_and_lift(contact: Contact) -> None:
    marketing = MarketingFactory()
    row = services.suppress("email", "  Li.Lei@Example.COM ", "manual", marketing, "asked")
    assert row.address == "li.lei@example.com"
    phone = services.suppress("phone", "138 0013 8000", "manual", marketing)
    assert phone.address == "+8613800138000"
    # twice: one row
    assert services.suppress("email", "li.lei@example.com", "bounced", marketing).pk == row.pk
    event = AuditEvent.objects.get(subject_kind="contact", verb="suppressed", object_id=row.pk)
    assert event.contact_id == contact.pk
    with pytest.raises(InvalidInput):
        services.suppress("email", "not an address", "manual", marketing)
    with pytest.raises(InvalidInput):
        services.suppress("phone", "abc", "manual", marketing)
    agent = AgentFactory()
    with pytest.raises(Forbidden):
        services.suppress("email", "x@example.com", "manual", agent)
    with pytest.raises(Forbidden):
        services.lift_suppression(agent, row)
    assert Suppression.objects.count() == 2
    services.lift_suppression(marketing, row)
    assert not Suppression.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(verb="unsuppressed", object_id=row.pk).exists()


def test_bounce_and_spam_hooks(contact: Contact) -> None:
    _opt_in(contact)
    services.record_bounce("LI.LEI@example.com")
    assert Suppression.objects.get(address="li.lei@example.com").reason == "bounced"
    services.record_spam_complaint("spam@example.com")
    assert Suppression.objects.get(address="spam@example.com").reason == "complained"
    assert contact not in reachable_contacts(Contact.objects.all(), "marketing_email")


def test_unsubscribe_service_withdraws_and_suppresses_once(contact: Contact) -> None:
    _opt_in(contact)
    assert services.unsubscribe(contact, "marketing_email") is True
    consent = Consent.objects.get(contact=contact, purpose="marketing_email")
    assert (consent.granted, consent.source) == (False, "unsubscribe")
    assert Suppression.objects.get(address="li.lei@example.com").reason == "unsubscribed"
    assert AuditEvent.objects.filter(verb="unsubscribed", contact=contact).count() == 1
    assert services.unsubscribe(contact, "marketing_email") is False
    assert AuditEvent.objects.filter(verb="unsubscribed", contact=contact).count() == 1
    assert Suppression.objects.count() == 1


# --- the signed link ---------------------------------------------------------------------
def test_token_round_trip_tampered_and_expired(contact: Contact, monkeypatch: Any) -> None:
    token = links.make_token(contact, "marketing_email")
    found = links.read_token(token)
    assert (found.contact, found.purpose) == (contact, "marketing_email")
    with pytest.raises(links.BadToken):
        links.read_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    other = signing.dumps({"c": contact.pk, "p": "marketing_email"}, salt="another.salt")
    with pytest.raises(links.BadToken):
        links.read_token(other)
    # a year later (the link's age is past MAX_AGE)
    monkeypatch.setattr(links, "MAX_AGE", -1)
    with pytest.raises(links.ExpiredToken):
        links.read_token(token)


def test_an_expired_link_gets_410_and_changes_nothing(contact: Contact, monkeypatch: Any) -> None:
    _opt_in(contact)
    path = _path(contact)
    monkeypatch.setattr(links, "MAX_AGE", -1)
    response = Client().post(path)
    assert response.status_code == 410
    assert Consent.objects.get(contact=contact, purpose="marketing_email").granted is True
    assert not Suppression.objects.exists()


def test_headers_for_campaign_emails(contact: Contact) -> None:
    headers = links.unsubscribe_headers(contact, "marketing_email")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert "/u/" in url
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert links.read_token(token).contact == contact


def _path(contact: Contact, purpose: str = "marketing_email") -> str:
    return f"/u/{links.make_token(contact, purpose)}/"


def test_get_shows_the_page_and_changes_nothing(contact: Contact) -> None:
    _opt_in(contact)
    response = Client().get(_path(contact))
    assert response.status_code == 200
    assert b"unsubscribe-button" in response.content
    assert b"li***@example.com" in response.content
    assert response["Cache-Control"] == "private, no-store"
    assert Consent.objects.get(contact=contact, purpose="marketing_email").granted is True
    assert not Suppression.objects.exists()


def test_the_page_speaks_the_contacts_language(contact: Contact) -> None:
    contact.language = "zh-hans"
    contact.save()
    response = Client().get(_path(contact))
    assert "退订".encode() in response.content


def test_tampered_link_is_refused_and_changes_nothing(contact: Contact) -> None:
    _opt_in(contact)
    token = links.make_token(contact, "marketing_email")
    bad = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    client = Client(enforce_csrf_checks=True)
    for method in (client.get, client.post):
        response = method(f"/u/{bad}/")
        assert response.status_code == 400
        assert b"unsubscribe-problem" in response.content
    assert Consent.objects.get(contact=contact, purpose="marketing_email").granted is True
    assert not Suppression.objects.exists()
    assert not AuditEvent.objects.filter(verb="unsubscribed").exists()


def test_post_unsubscribes_at_once_and_a_second_post_is_harmless(contact: Contact) -> None:
    _opt_in(contact)
    client = Client(enforce_csrf_checks=True)
    response = client.post(_path(contact))
    assert response.status_code == 200
    assert b"unsubscribe-done" in response.content
    assert Consent.objects.get(contact=contact, purpose="marketing_email").granted is False
    assert Suppression.objects.get(address=contact.email).reason == "unsubscribed"
    assert contact not in reachable_contacts(Contact.objects.all(), "marketing_email")
    again = client.post(_path(contact))
    assert again.status_code == 200
    assert Suppression.objects.count() == 1
    assert AuditEvent.objects.filter(verb="unsubscribed", contact=contact).count() == 1


def test_one_click_post(contact: Contact) -> None:
    _opt_in(contact)
    response = Client(enforce_csrf_checks=True).post(
        _path(contact), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert Consent.objects.get(contact=contact, purpose="marketing_email").granted is False
    assert Suppression.objects.filter(address=contact.email).exists()


def test_unsubscribing_from_sms_does_not_suppress_the_email(contact: Contact) -> None:
    response = Client().post(_path(contact, "sms"))
    assert response.status_code == 200
    assert Consent.objects.get(contact=contact, purpose="sms").granted is False
    assert not Suppression.objects.exists()


def test_the_public_page_is_throttled(contact: Contact, settings: Any) -> None:
    settings.KEFU_HELP_THROTTLE = "2/hour"
    client = Client()
    assert client.get(_path(contact)).status_code == 200
    assert client.get(_path(contact)).status_code == 200
    response = client.post(_path(contact))
    assert response.status_code == 429
    assert "Retry-After" in response
    assert not Consent.objects.filter(contact=contact).exists()


# --- the screens -------------------------------------------------------------------------
def test_consent_screen_records_and_refuses_analysts(contact: Contact) -> None:
    agent = AgentFactory()
    marketing: Any = MarketingFactory()
    client = Client()
    client.force_login(marketing)
    page = client.get(f"/contacts/{contact.pk}/consent/")
    assert page.status_code == 200
    response = client.post(
        f"/contacts/{contact.pk}/consent/",
        {"purpose": "sms", "granted": "yes", "source": "agent", "note": "asked"},
    )
    assert response.status_code == 302
    assert Consent.objects.get(contact=contact, purpose="sms").granted is True
    bad = client.post(f"/contacts/{contact.pk}/consent/", {"purpose": "sms", "source": "agent"})
    assert bad.status_code == 400
    analyst = Client()
    analyst_user: Any = AnalystFactory()
    analyst.force_login(analyst_user)
    refused = analyst.post(
        f"/contacts/{contact.pk}/consent/",
        {"purpose": "sms", "granted": "no", "source": "agent"},
    )
    assert refused.status_code == 403
    assert Consent.objects.get(contact=contact, purpose="sms").granted is True
    del agent


def test_suppression_screen_add_and_lift() -> None:
    client = Client()
    marketing_user: Any = MarketingFactory()
    client.force_login(marketing_user)
    response = client.post(
        "/suppressions/", {"kind": "email", "address": "Bad@Example.com", "reason": "manual"}
    )
    assert response.status_code == 302
    row = Suppression.objects.get(address="bad@example.com")
    assert b"bad@example.com" in client.get("/suppressions/").content
    agent = Client()
    agent_user: Any = AgentFactory()
    agent.force_login(agent_user)
    assert agent.post(f"/suppressions/{row.pk}/lift/").status_code == 403
    assert Suppression.objects.filter(pk=row.pk).exists()
    assert client.post(f"/suppressions/{row.pk}/lift/").status_code == 302
    assert not Suppression.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_write_one_answer_and_one_suppression() -> None:
    from tests.concurrency import run_together

    contact: Any = ContactFactory(email="racer@example.com")

    def click() -> bool:
        return services.unsubscribe(Contact.objects.get(pk=contact.pk), "marketing_email")

    results = run_together(click, click)
    assert sorted(results) == [False, True]
    assert Consent.objects.filter(contact=contact).count() == 1
    assert Suppression.objects.filter(address="racer@example.com").count() == 1
    assert AuditEvent.objects.filter(verb="unsubscribed", contact=contact).count() == 1
