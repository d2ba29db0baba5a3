"""One-time form tokens (docs/ui.md): a signed nonce per rendered form, so a double click or
a resend of the same form acts once. Each screen names its own salt and scope."""

from __future__ import annotations

import secrets

from django.core import signing
from django.http import HttpRequest


def issue(*, salt: str, scope: str, size: int = 24) -> str:
    return signing.dumps({"n": secrets.token_urlsafe(size), "s": scope}, salt=salt)


def nonce_of(request: HttpRequest, *, salt: str, scope: str, max_age: int) -> str | None:
    """The nonce of the posted token, when the token is ours, for this form and fresh."""
    try:
        data = signing.loads(request.POST.get("form_token", ""), salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("n"), str):
        return None
    nonce: str = data["n"]
    return nonce
