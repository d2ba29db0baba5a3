"""The data subject's emails about a privacy request (docs/customers-privacy.md): the link
to an access request's export. An outbox row written in the transaction of the step, keyed
by the request, so a retried step never sends twice; the body is discarded once sent (the
link is a credential)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from mail import outbound
from outbox.models import OutboxMessage
from outbox.services import queue_email

from .models import PrivacyRequest
from .privacy_links import export_url, link_days

EXPORT_READY = "privacy.export_ready"
SUBJECT_KIND = "privacy"


def export_ready(request: PrivacyRequest) -> OutboxMessage | None:
    """The signed, expiring link to the export, in the contact's language."""
    contact = request.contact
    address = contact.email.strip()
    if not address:
        return None
    language = outbound.language_of(contact.language)
    with override(language):
        sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or _("Customer service")
    context: dict[str, Any] = {
        "number": request.number,
        "contact_name": contact.name,
        "export_url": export_url(request_id=request.pk, contact_id=contact.pk),
        "valid_until": timezone.localtime(timezone.now() + timedelta(days=link_days())),
        "days": link_days(),
        "sender_name": sender,
    }
    rendered = outbound.render(EXPORT_READY, language, context)
    return queue_email(
        key=f"{EXPORT_READY}:{request.pk}",
        kind=EXPORT_READY,
        to=address,
        subject=outbound.with_tag(rendered.subject, request.number),
        body_text=rendered.text,
        body_html=rendered.html,
        discard_body_after_send=True,
        headers={"X-Auto-Response-Suppress": "All"},
        subject_kind=SUBJECT_KIND,
        object_id=request.pk,
    )
