"""Screens of duplicates, merge and undo (docs/customers-merge.md): the likely duplicate
pairs, two records side by side with a choice per differing field, and the merge log; a pair
marked "not a duplicate" and the list of those marks, each of which can be undone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import KefuError
from customers import permissions
from customers.choices import FieldTarget
from customers.models import Contact, Customer, DismissedPair, MergeLog
from customers.selectors import contacts_visible_to, customers_visible_to
from customers.selectors import duplicates as dup
from customers.services import duplicates as dismissing
from customers.services import merge as merging

from . import form_tokens
from .views import _page_config, _render

FORM_SALT = "kefu.web.merge-form"
FORM_SECONDS = 24 * 3600
PAGE_SIZE = 25
STATUS_OF_ERROR = {"invalid": 400, "not_found": 404, "forbidden": 403, "conflict": 409, "gone": 410}


def _reason_labels() -> dict[str, str]:
    return {
        "email": _("Same email"),
        "phone": _("Same phone"),
        "name": _("Similar name"),
        "external_id": _("Same external id"),
    }


def _may_merge(request: HttpRequest) -> Any:
    if not permissions.can_merge(request.user):
        raise PermissionDenied(_("You may not merge records."))
    return request.user


def _token(scope: str) -> str:
    return form_tokens.issue(salt=FORM_SALT, scope=scope, size=18)


def _once(request: HttpRequest, scope: str, perform: Callable[[], int]) -> int | None:
    """Runs ``perform`` once per form token: a second post of the same form (a double
    click) waits for the first and gets its result. None when the token is not valid."""
    nonce = form_tokens.nonce_of(request, salt=FORM_SALT, scope=scope, max_age=FORM_SECONDS)
    if nonce is None:
        return None
    key = f"web:merge-form:{nonce}"
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
        done = cache.get(key)
        if done is not None:
            return int(done)
        result = perform()
        cache.set(key, result, FORM_SECONDS)
    return result


def _done(request: HttpRequest, scope: str) -> bool:
    nonce = form_tokens.nonce_of(request, salt=FORM_SALT, scope=scope, max_age=FORM_SECONDS)
    return nonce is not None and cache.get(f"web:merge-form:{nonce}") is not None


def _display(obj: Any, name: str) -> str:
    value = getattr(obj, name)
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    field = obj._meta.get_field(name)
    if getattr(field, "choices", None):
        return str(getattr(obj, f"get_{name}_display")())
    if name == "owner":
        return str(value.get_full_name() or value.get_username())
    if name == "tags":
        return ", ".join(str(t) for t in value)
    if name == "custom":
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    return str(value)


def _summary(obj: Any) -> str:
    if isinstance(obj, Contact):
        return " · ".join(x for x in (obj.name, obj.email, obj.phone) if x) or f"#{obj.pk}"
    return obj.name


TARGET_OF_KIND: dict[str, str] = {
    "contacts": FieldTarget.CONTACT.value,
    "customers": FieldTarget.CUSTOMER.value,
}
KIND_OF_TARGET: dict[str, str] = {v: k for k, v in TARGET_OF_KIND.items()}


def _dismissed_rows(pairs: list[DismissedPair]) -> list[dict[str, Any]]:
    contacts = Contact.objects.in_bulk(
        {p.low_id for p in pairs if p.target == FieldTarget.CONTACT}
        | {p.high_id for p in pairs if p.target == FieldTarget.CONTACT}
    )
    customers = Customer.objects.in_bulk(
        {p.low_id for p in pairs if p.target == FieldTarget.CUSTOMER}
        | {p.high_id for p in pairs if p.target == FieldTarget.CUSTOMER}
    )
    rows = []
    for pair in pairs:
        found: dict[Any, Any] = contacts if pair.target == FieldTarget.CONTACT else customers
        a, b = found.get(pair.low_id), found.get(pair.high_id)
        rows.append(
            {
                "pair": pair,
                "kind": pair.get_target_display(),
                "a": _summary(a) if a else "",
                "b": _summary(b) if b else "",
                "url": reverse(
                    f"web:duplicates-{KIND_OF_TARGET[pair.target]}-compare",
                    args=[pair.low_id, pair.high_id],
                ),
            }
        )
    return rows


def _dismissed_tab(request: HttpRequest, user: Any) -> HttpResponse:
    cursor = request.GET.get("cursor") or None
    try:
        page = dup.dismissed_pairs(user, cursor=cursor, limit=PAGE_SIZE)
    except KefuError:
        page = dup.dismissed_pairs(user, limit=PAGE_SIZE)
    return _render(
        request,
        "web/customers/duplicates.html",
        _page_config(request, page="duplicates"),
        tab="dismissed",
        pairs=[],
        dismissed=_dismissed_rows(page.items),
        next_url=f"?tab=dismissed&cursor={page.next}" if page.next else None,
    )


@login_required
def duplicates(request: HttpRequest) -> HttpResponse:
    user = _may_merge(request)
    tab = request.GET.get("tab", "contacts")
    if tab == "dismissed":
        return _dismissed_tab(request, user)
    if tab not in ("contacts", "customers"):
        tab = "contacts"
    cursor = request.GET.get("cursor") or None
    model: type[Any] = Contact if tab == "contacts" else Customer
    try:
        if tab == "contacts":
            page = dup.contact_pairs(user, cursor=cursor, limit=PAGE_SIZE)
        else:
            page = dup.customer_pairs(user, cursor=cursor, limit=PAGE_SIZE)
    except KefuError:
        page = dup.PairPage([], None)
    ids = {p.a for p in page.pairs} | {p.b for p in page.pairs}
    qs = model.objects.all()
    if model is Contact:
        qs = qs.select_related("customer")
    rows = qs.in_bulk(ids)
    labels = _reason_labels()
    pairs = [
        {
            "a": rows[p.a],
            "b": rows[p.b],
            "a_label": _summary(rows[p.a]),
            "b_label": _summary(rows[p.b]),
            "reasons": [labels[r] for r in p.reasons],
            "url": reverse(f"web:duplicates-{tab}-compare", args=[p.a, p.b]),
        }
        for p in page.pairs
    ]
    return _render(
        request,
        "web/customers/duplicates.html",
        _page_config(request, page="duplicates"),
        tab=tab,
        pairs=pairs,
        next_url=f"?tab={tab}&cursor={page.next}" if page.next else None,
    )


def _compare(request: HttpRequest, kind: str, a: int, b: int) -> HttpResponse:
    user = _may_merge(request)
    model: type[Any] = Contact if kind == "contacts" else Customer
    visible = contacts_visible_to(user) if model is Contact else customers_visible_to(user)
    if a == b:
        raise Http404
    if request.method == "POST" and _done(request, f"merge:{kind}:{min(a, b)}:{max(a, b)}"):
        # the same form again (a double click): the merge it asked for is done
        return HttpResponseRedirect(reverse("web:merges"), status=303)
    rows = visible.in_bulk([a, b])
    if a not in rows or b not in rows:
        raise Http404
    left, right = rows[a], rows[b]
    names = merging.CONTACT_FIELDS if model is Contact else merging.CUSTOMER_FIELDS
    url = reverse(f"web:duplicates-{kind}-compare", args=[a, b])
    if request.method == "POST":
        keep = request.POST.get("keep")
        if keep not in (str(a), str(b)):
            messages.error(request, _("Choose the record to keep."))
            return HttpResponseRedirect(url, status=303)
        kept, other = (left, right) if keep == str(a) else (right, left)
        choose: dict[str, str] = {}
        for name in names:
            picked = request.POST.get(f"field_{name}")
            if picked in (str(a), str(b)):
                choose[name] = "kept" if picked == str(kept.pk) else "merged"
        merge = merging.merge_contacts if model is Contact else merging.merge_customers
        try:
            log_id = _once(
                request,
                f"merge:{kind}:{min(a, b)}:{max(a, b)}",
                lambda: merge(user, kept.pk, other.pk, choose).pk,
            )
        except KefuError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(url, status=303)
        if log_id is None:
            messages.error(request, _("This form has expired; review the records again."))
            return HttpResponseRedirect(url, status=303)
        messages.success(request, _("Merged. You can undo the merge from this log."))
        return HttpResponseRedirect(reverse("web:merges"), status=303)
    field_rows = []
    for name in names:
        field = model._meta.get_field(name)
        attname = field.attname
        mine, theirs = getattr(left, attname), getattr(right, attname)
        field_rows.append(
            {
                "name": name,
                "label": str(field.verbose_name).capitalize(),
                "a": _display(left, name),
                "b": _display(right, name),
                "differs": mine != theirs,
                # the left record's value unless it is blank
                "pick_b": mine in (None, "", [], {}) and theirs not in (None, "", [], {}),
                "a_blank": mine in (None, "", [], {}),
                "b_blank": theirs in (None, "", [], {}),
            }
        )
    return _render(
        request,
        "web/customers/compare.html",
        _page_config(request, page="duplicates"),
        kind=kind,
        left=left,
        right=right,
        left_label=_summary(left),
        right_label=_summary(right),
        fields=field_rows,
        form_token=_token(f"merge:{kind}:{min(a, b)}:{max(a, b)}"),
        url=url,
        dismissal=dup.dismissal_of(TARGET_OF_KIND[kind], a, b),
        dismiss_url=reverse(f"web:duplicates-{kind}-dismiss", args=[a, b]),
        reason_limit=dismissing.REASON_LIMIT,
    )


@login_required
@require_http_methods(["GET", "POST"])
def compare_contacts(request: HttpRequest, a: int, b: int) -> HttpResponse:
    return _compare(request, "contacts", a, b)


@login_required
@require_http_methods(["GET", "POST"])
def compare_customers(request: HttpRequest, a: int, b: int) -> HttpResponse:
    return _compare(request, "customers", a, b)


@login_required
def merges(request: HttpRequest) -> HttpResponse:
    _may_merge(request)
    logs = list(
        MergeLog.objects.select_related("actor", "undone_by").order_by("-created_at", "-id")[:100]
    )
    contacts = Contact.objects.in_bulk(
        {log.kept_id for log in logs if log.target == "contact"}
        | {log.merged_id for log in logs if log.target == "contact"}
    )
    customers = Customer.objects.in_bulk(
        {log.kept_id for log in logs if log.target == "customer"}
        | {log.merged_id for log in logs if log.target == "customer"}
    )
    rows = []
    for log in logs:
        found = contacts if log.target == "contact" else customers
        kept, merged = found.get(log.kept_id), found.get(log.merged_id)
        rows.append(
            {
                "log": log,
                "kind": log.get_target_display(),
                "kept": _summary(kept) if kept else f"#{log.kept_id}",
                "merged": _summary(merged) if merged else f"#{log.merged_id}",
                "moved": sum(len(v) for v in (log.moved or {}).values()),
                "token": _token(f"undo:{log.pk}") if log.undone_at is None else "",
            }
        )
    return _render(
        request, "web/customers/merges.html", _page_config(request, page="merges"), rows=rows
    )


@login_required
@require_POST
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    user = _may_merge(request)
    try:
        done = _once(request, f"undo:{pk}", lambda: merging.undo_merge(user, pk).pk)
    except KefuError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("web:merges"), status=303)
    if done is None:
        messages.error(request, _("This form has expired; review the records again."))
    else:
        messages.success(request, _("The merge was undone."))
    return HttpResponseRedirect(reverse("web:merges"), status=303)


def _dismiss(request: HttpRequest, kind: str, a: int, b: int) -> HttpResponse:
    """ "Not a duplicate": the pair leaves the list. Dismissing twice (a double click) is
    the same as once, so the form needs no one-time token."""
    user = _may_merge(request)
    model: type[Any] = Contact if kind == "contacts" else Customer
    visible = contacts_visible_to(user) if model is Contact else customers_visible_to(user)
    if a == b or visible.filter(pk__in=[a, b]).count() != 2:
        raise Http404
    try:
        dismissing.dismiss_pair(user, TARGET_OF_KIND[kind], a, b, request.POST.get("reason", ""))
    except KefuError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(
            reverse(f"web:duplicates-{kind}-compare", args=[a, b]), status=303
        )
    messages.success(
        request,
        _(
            "Marked as not a duplicate. The pair is listed under “Not duplicates”, "
            "where the mark can be undone."
        ),
    )
    return HttpResponseRedirect(f"{reverse('web:duplicates')}?tab={kind}", status=303)


@login_required
@require_POST
def dismiss_contacts(request: HttpRequest, a: int, b: int) -> HttpResponse:
    return _dismiss(request, "contacts", a, b)


@login_required
@require_POST
def dismiss_customers(request: HttpRequest, a: int, b: int) -> HttpResponse:
    return _dismiss(request, "customers", a, b)


@login_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    user = _may_merge(request)
    try:
        pair = dismissing.restore_pair(user, pk)
    except KefuError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The pair is back on the list of likely duplicates."))
        if request.POST.get("next") == "compare":
            return HttpResponseRedirect(
                reverse(
                    f"web:duplicates-{KIND_OF_TARGET[pair.target]}-compare",
                    args=[pair.low_id, pair.high_id],
                ),
                status=303,
            )
    return HttpResponseRedirect(f"{reverse('web:duplicates')}?tab=dismissed", status=303)
