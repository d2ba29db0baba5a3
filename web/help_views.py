"""The customer pages, no account (docs/email.md, "Customer pages"; docs/ui.md):

* ``/help/`` — the web form: a request becomes a ticket (``submit_web_request``);
* ``/help/sent/<receipt>/`` — the answer to it: the number, and that an email is on its way;
* ``/help/requests/<token>/`` — the request page of the link in every email: the public
  conversation, the status, a reply box; its files under ``files/<id>/``; an expired link
  offers a new one by email (``renew/``);
* ``/help/requests/`` — links to one's open requests, by email.

Plain HTML forms (no JavaScript needed; static/web/help.js only guards against a double
click and checks file sizes early), in the visitor's language (Accept-Language, the switch
at the top), throttled per client address (``KEFU_HELP_THROTTLE``, every POST), private
(``Cache-Control: private, no-store``, ``X-Robots-Tag: noindex``, ``Referrer-Policy:
same-origin``: see docs/email.md for why not ``no-referrer``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Conflict, InvalidInput, NotFound
from mail.attachments import check as check_attachment
from mail.attachments import clean_name, content_type_of
from mail.inbound import IncomingAttachment
from project.throttling import client_address, count_hit, parse_rate
from tickets import links, request_page
from tickets.api.serializers import MAX_TEXT, ContactInput, ReplyInput, TicketCreateInput
from tickets.choices import Channel
from tickets.services import web_requests

from . import form_tokens

logger = logging.getLogger(__name__)

# The token is in the request page's URL. ``same-origin`` sends no Referer to any other
# site, and keeps the Origin of the page's own POSTs, which Django's CSRF check compares
# with the site: under ``no-referrer`` Chromium sends ``Origin: null`` and every form is
# refused (docs/surveys.md, "Referrer policy"; docs/email.md, "Customer pages").
PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}
FORM_SALT = "kefu.help.form"
RECEIPT_SALT = "kefu.help.receipt"
# A form's one-time token lives this long; an older form is shown again to be re-sent.
FORM_TOKEN_SECONDS = 24 * 3600
# The answer page of the web form shows the number this long after sending.
RECEIPT_SECONDS = 3600
# The hidden field only a bot fills in (the template hides it from people and screen readers).
HONEYPOT = "website"
TEXT_FIELDS = ("name", "email", "subject", "description", "category")


def customer_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Every answer of a customer page (errors too) is private and kept out of indexes."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        for name, value in PRIVATE_HEADERS.items():
            response[name] = value
        return response

    return wrapped


def _retry_after(request: HttpRequest) -> int | None:
    """Counts this POST of the client's address; the seconds to wait when it is over
    ``KEFU_HELP_THROTTLE`` (a fixed window in the shared cache, as surveys/throttle.py)."""
    limit, period = parse_rate(settings.KEFU_HELP_THROTTLE)
    now = time.time()
    window = int(now // period)
    count = count_hit(f"help-throttle:{client_address(request)}:{window}", period + 1)
    if count <= limit:
        return None
    return max(1, int((window + 1) * period - now))


def _problem(request: HttpRequest, problem: str, status: int) -> HttpResponse:
    return render(request, "help/problem.html", {"problem": problem}, status=status)


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    response = _problem(request, "throttled", 429)
    response["Retry-After"] = str(wait)
    return response


# --- one-time form tokens --------------------------------------------------------------
def _form_token(scope: str) -> str:
    return form_tokens.issue(salt=FORM_SALT, scope=scope)


def _form_nonce(request: HttpRequest, scope: str) -> str | None:
    return form_tokens.nonce_of(request, salt=FORM_SALT, scope=scope, max_age=FORM_TOKEN_SECONDS)


def _uploads(request: HttpRequest) -> tuple[list[IncomingAttachment], list[str]]:
    """The files of the form, each checked against the limits before it is read (a file
    over the limit is never loaded); the problems, in the reader's language."""
    files = request.FILES.getlist("attachments")
    problems: list[str] = []
    if len(files) > web_requests.MAX_FILES:
        problems.append(_("Attach at most %(count)s files.") % {"count": web_requests.MAX_FILES})
        return [], problems
    checked = []
    for upload in files:
        name = clean_name(upload.name or "")
        content_type = content_type_of(name, upload.content_type or "")
        try:
            check_attachment(name, content_type, upload.size or 0)
        except InvalidInput as exc:
            problems.append(exc.message)
            continue
        checked.append((upload, name, content_type))
    if problems:
        return [], problems
    return [
        IncomingAttachment(name=name, content_type=content_type, data=upload.read())
        for upload, name, content_type in checked
    ], []


def _limits() -> dict[str, Any]:
    return {
        "max_files": web_requests.MAX_FILES,
        "max_bytes": settings.KEFU_ATTACHMENT_MAX_BYTES,
        "max_mb": settings.KEFU_ATTACHMENT_MAX_BYTES // 2**20,
        "max_text": MAX_TEXT,
    }


# --- the web form ----------------------------------------------------------------------
@customer_page
@require_http_methods(["GET", "HEAD", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form(request, dict.fromkeys(TEXT_FIELDS, ""))
    wait = _retry_after(request)
    if wait is not None:
        return _too_many(request, wait)
    values = {field: request.POST.get(field, "") for field in TEXT_FIELDS}
    if request.POST.get(HONEYPOT, "").strip():
        # A bot: answered as a person would be, and nothing is created (docs/email.md).
        logger.info("web form: honeypot filled by %s; nothing created", client_address(request))
        return _receipt_redirect("")
    nonce = _form_nonce(request, "form")
    if nonce is None:
        notice = _("The form was open too long to be sent. Check it and press Send again.")
        return _form(request, values, notice=notice, status=400)
    errors = _validate(values)
    attachments, problems = _uploads(request)
    if problems:
        errors["attachments"] = problems
    if errors:
        return _form(request, values, errors=errors, token=request.POST["form_token"], status=400)
    try:
        ticket, _created = web_requests.submit_web_request(
            form_nonce=nonce,
            email=values["email"].strip(),
            name=values["name"].strip(),
            subject=values["subject"].strip(),
            description=values["description"].strip(),
            category_code=values["category"] or None,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            attachments=attachments,
        )
    except web_requests.FormAlreadySent as exc:
        notice = _(
            "You already sent this form: it became request %(number)s. To send another "
            "request, check the form and press Send again."
        ) % {"number": exc.number}
        return _form(request, values, notice=notice, status=409)
    except InvalidInput as exc:
        errors = {field: list(messages) for field, messages in exc.errors.items()}
        errors.setdefault("form", []).insert(0, exc.message)
        return _form(request, values, errors=errors, token=request.POST["form_token"], status=400)
    return _receipt_redirect(ticket.number)


def _validate(values: dict[str, str]) -> dict[str, list[str]]:
    """The intake API's rules (its serializer), read back onto the form's fields; the form
    also wants a description."""
    data: dict[str, Any] = {
        "subject": values["subject"],
        "description": values["description"],
        "priority": web_requests.WEB_PRIORITY,
        "channel": Channel.WEB,
        "contact": {"email": values["email"], "name": values["name"]},
    }
    if values["category"]:
        data["category"] = values["category"]
    serializer = TicketCreateInput(data=data)
    errors: dict[str, list[str]] = {}
    if not serializer.is_valid():
        for field, messages in serializer.errors.items():
            if field == "contact" and isinstance(messages, dict):
                for inner, inner_messages in messages.items():
                    errors[inner] = [str(m) for m in inner_messages]
            elif field in TEXT_FIELDS:
                errors[field] = [str(m) for m in messages]
            else:
                errors.setdefault("form", []).extend(str(m) for m in messages)
    if not values["description"].strip() and "description" not in errors:
        errors["description"] = [_("Please tell us what happened.")]
    return errors


def _form(
    request: HttpRequest,
    values: dict[str, str],
    *,
    errors: dict[str, list[str]] | None = None,
    notice: str = "",
    token: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "values": values,
        "errors": errors or {},
        "notice": notice,
        "categories": request_page.list_categories(),
        "form_token": token or _form_token("form"),
        "honeypot": HONEYPOT,
        **_limits(),
    }
    return render(request, "help/form.html", context, status=status)


def _receipt_redirect(number: str) -> HttpResponse:
    receipt = signing.dumps(number, salt=RECEIPT_SALT)
    return redirect_303(reverse("help:sent", args=[receipt]))


@customer_page
@require_http_methods(["GET", "HEAD"])
def sent(request: HttpRequest, receipt: str) -> HttpResponse:
    """What the form answers (after a 303, so a reload sends nothing again)."""
    try:
        number = signing.loads(receipt, salt=RECEIPT_SALT, max_age=RECEIPT_SECONDS)
    except signing.BadSignature:
        return _problem(request, "receipt", 404)
    return render(request, "help/sent.html", {"number": str(number)})


def redirect_303(url: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


# --- the request page ------------------------------------------------------------------
def _access(token: str) -> links.RequestAccess | str:
    """The link's access, or why there is none: "expired" or "invalid"."""
    try:
        return links.read_request_token(token)
    except links.LinkExpired:
        return "expired"
    except links.LinkInvalid:
        return "invalid"


@customer_page
@require_http_methods(["GET", "HEAD", "POST"])
def request_detail(request: HttpRequest, token: str) -> HttpResponse:
    access = _access(token)
    if access == "expired":
        return render(request, "help/expired.html", {"token": token}, status=410)
    if not isinstance(access, links.RequestAccess):
        return _problem(request, "not_found", 404)
    if request.method == "POST":
        wait = _retry_after(request)
        if wait is not None:
            return _too_many(request, wait)
        return _reply(request, token, access)
    try:
        thread = request_page.get_thread(access)
    except NotFound:
        return _problem(request, "not_found", 404)
    return _request_page(request, token, thread, sent=request.GET.get("sent") == "1")


def _reply(request: HttpRequest, token: str, access: links.RequestAccess) -> HttpResponse:
    body = request.POST.get("body", "").strip()
    try:
        thread = request_page.get_thread(access)
    except NotFound:
        return _problem(request, "not_found", 404)
    page_url = reverse("help:request", args=[token])
    nonce = _form_nonce(request, f"reply:{access.ticket_id}")
    if nonce is None:
        notice = _("The page was open too long to send your message. Press Send again.")
        return _request_page(request, token, thread, body=body, error=notice, status=400)
    errors: list[str] = []
    if body:
        serializer = ReplyInput(data={"body": body})
        if not serializer.is_valid():
            errors.extend(str(m) for m in serializer.errors.get("body", []))
    attachments, problems = _uploads(request)
    errors.extend(problems)
    if not body and not attachments and not errors:
        errors.append(_("Write a message or attach a file."))
    if errors:
        return _request_page(
            request, token, thread, body=body, errors=errors, token_value=None, status=400
        )
    try:
        web_requests.add_web_reply(
            access=access, form_nonce=nonce, body=body, attachments=attachments
        )
    except web_requests.FormAlreadySent:
        notice = _("This message was already sent. To send another one, press Send again.")
        return _request_page(request, token, thread, body=body, error=notice, status=409)
    except Conflict as exc:
        thread = request_page.get_thread(access)
        if not thread.may_reply:
            return _request_page(request, token, thread, closed_notice=True, status=409)
        return _request_page(request, token, thread, body=body, error=exc.message, status=409)
    except InvalidInput as exc:
        messages = [m for field in exc.errors.values() for m in field] or [exc.message]
        return _request_page(request, token, thread, body=body, errors=messages, status=400)
    return redirect_303(f"{page_url}?sent=1#latest")


def _request_page(
    request: HttpRequest,
    token: str,
    thread: request_page.RequestThread,
    *,
    body: str = "",
    errors: list[str] | None = None,
    error: str = "",
    sent: bool = False,
    closed_notice: bool = False,
    token_value: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "token": token,
        "thread": thread,
        "ticket": thread.ticket,
        "body": body,
        "errors": (errors or []) + ([error] if error else []),
        "sent": sent,
        "closed_notice": closed_notice,
        "form_token": token_value or _form_token(f"reply:{thread.ticket.pk}"),
        **_limits(),
    }
    return render(request, "help/request.html", context, status=status)


@customer_page
@require_http_methods(["GET", "HEAD"])
def download(request: HttpRequest, token: str, attachment_id: int) -> HttpResponseBase:
    """A file of the conversation, for the holder of a live link to it: always downloaded
    (never shown inline on this site), its type not sniffed."""
    access = _access(token)
    if not isinstance(access, links.RequestAccess):
        return _problem(request, "file", 404)
    try:
        attachment = request_page.get_public_attachment(access, attachment_id)
    except NotFound:
        return _problem(request, "file", 404)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# --- a new link by email ---------------------------------------------------------------
@customer_page
@require_POST
def renew_link(request: HttpRequest, token: str) -> HttpResponse:
    """An expired link's page asks for a new one; the answer is the same whether or not the
    address is the request's (no one learns whose request it is)."""
    wait = _retry_after(request)
    if wait is not None:
        return _too_many(request, wait)
    try:
        access = links.read_expired_request_token(token)
    except links.LinkInvalid:
        return _problem(request, "not_found", 404)
    email = request.POST.get("email", "").strip()
    error = _email_error(email)
    if error:
        context = {"token": token, "email": email, "error": error}
        return render(request, "help/expired.html", context, status=400)
    web_requests.resend_request_link(access=access, email=email)
    return render(request, "help/link_sent.html", {"renewed": True})


@customer_page
@require_http_methods(["GET", "HEAD", "POST"])
def find_requests(request: HttpRequest) -> HttpResponse:
    """``/help/requests/``: links to one's open requests, emailed to the address."""
    if request.method != "POST":
        return render(request, "help/lookup.html", {"email": ""})
    wait = _retry_after(request)
    if wait is not None:
        return _too_many(request, wait)
    email = request.POST.get("email", "").strip()
    error = _email_error(email)
    if error:
        return render(request, "help/lookup.html", {"email": email, "error": error}, status=400)
    web_requests.send_request_links(email=email)
    return render(request, "help/link_sent.html", {"renewed": False})


def _email_error(email: str) -> str:
    """The intake API's rule for an address (its contact serializer), or ""."""
    serializer = ContactInput(data={"email": email})
    if serializer.is_valid():
        return ""
    return " ".join(str(m) for m in serializer.errors.get("email", []))
