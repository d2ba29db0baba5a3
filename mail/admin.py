"""The mail app's admin pages (docs/email.md).

Outbound ("Templates", "Loop protection"): each event's customer email per language, started
from the shipped default and refused when it does not compile; and the outside addresses
Kefu must not write to. Inbound ("Inbound", "Quarantine"): the mailboxes Kefu reads (their
last error and since when they fail, as the poller wrote them) and every inbound email,
filtered by status, with the quarantine's actions (retry, discard: ``mail.services``) and the
raw message for download.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import KefuError
from customers.choices import Language
from org.roles import is_administrator

from . import outbound, services
from .models import AddressState, EmailTemplate, InboundEmail, InboundStatus, Mailbox

PART_LABELS = {
    "subject": gettext_lazy("Subject"),
    "body_text": gettext_lazy("Plain-text body"),
    "body_html": gettext_lazy("HTML body"),
}


class EmailTemplateForm(forms.ModelForm):
    event = forms.ChoiceField(label=gettext_lazy("Event"))

    class Meta:
        model = EmailTemplate
        fields = ["event", "language", "subject", "body_text", "body_html"]
        widgets = {
            "subject": forms.TextInput(attrs={"size": 90}),
            "body_text": forms.Textarea(attrs={"rows": 16, "cols": 90}),
            "body_html": forms.Textarea(attrs={"rows": 16, "cols": 90}),
        }
        help_texts = {
            "body_text": gettext_lazy(
                "Django template syntax; the variables each event offers are listed in "
                "docs/email.md. Keep {{ reply_marker }} on the first line: replies are cut there."
            ),
            "body_html": gettext_lazy(
                "Left blank, the email goes as plain text only. Values are HTML-escaped."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events = outbound.default_events()
        current = self.initial.get("event") or (self.instance.event if self.instance else "")
        if current and current not in events:
            events.append(current)
        field = self.fields["event"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(e, e) for e in events]

    def clean(self) -> dict[str, Any]:
        """Each part must compile and render; a broken template is refused here, never at
        the moment an email is due."""
        data = super().clean() or {}
        for part in ("subject", "body_text", "body_html"):
            source = data.get(part)
            if not source:
                continue
            error = outbound.template_errors(source, html=part == "body_html")
            if error is not None:
                self.add_error(
                    part,
                    _("%(part)s does not compile: %(error)s")
                    % {"part": PART_LABELS[part], "error": error},
                )
        return data


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    form = EmailTemplateForm
    list_display = ("event", "language", "subject", "updated_at")
    list_filter = ("event", "language")
    search_fields = ("event", "subject")
    readonly_fields = ("shipped_default",)
    change_list_template = "admin/mail/emailtemplate/change_list.html"
    fieldsets = (
        (None, {"fields": ("event", "language", "subject", "body_text", "body_html")}),
        (gettext_lazy("Shipped default"), {"fields": ("shipped_default",)}),
    )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """``?event=…&language=…`` starts the new template from that event's default."""
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        event, language = initial.get("event"), initial.get("language")
        if event in outbound.default_events() and language in Language.values:
            initial.update(outbound.default_source(str(event), str(language)))
        return initial

    @admin.display(description=gettext_lazy("shipped default"))
    def shipped_default(self, template: EmailTemplate | None) -> SafeString | str:
        if template is None or not template.event or not template.language:
            return "-"
        try:
            sources = outbound.default_source(template.event, template.language)
        except Exception:  # an event without a shipped default
            return "-"
        return format_html_join(
            "",
            '<div class="kefu-default"><strong>{}</strong><pre>{}</pre></div>',
            ((PART_LABELS[part], sources[part]) for part in outbound.PARTS),
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        customised = {
            (event, language): pk
            for pk, event, language in EmailTemplate.objects.values_list("pk", "event", "language")
        }
        add_url = reverse("admin:mail_emailtemplate_add")
        rows = []
        for event in outbound.default_events():
            cells = []
            for language, name in Language.choices:
                pk = customised.get((event, language))
                cells.append(
                    {
                        "language": language,
                        "name": name,
                        "customised": pk is not None,
                        "url": reverse("admin:mail_emailtemplate_change", args=[pk])
                        if pk is not None
                        else f"{add_url}?{urlencode({'event': event, 'language': language})}",
                    }
                )
            rows.append({"event": event, "cells": cells})
        context = {
            "email_defaults": rows,
            "email_languages": Language.choices,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)


class AddressStateForm(forms.ModelForm):
    class Meta:
        model = AddressState
        fields = ["address", "blocked", "note"]

    def clean_address(self) -> str:
        address = outbound.normalise(self.cleaned_data.get("address", ""))
        if "@" not in address:
            raise forms.ValidationError(_("Enter an email address."))
        return address


@admin.register(AddressState)
class AddressStateAdmin(admin.ModelAdmin):
    """An address is blocked here (no email of any kind goes to it, and its mail is
    ignored); one that bounces is marked by the inbound bounce reports."""

    form = AddressStateForm
    list_display = ("address", "blocked", "bouncing_since", "note", "updated_at")
    list_filter = ("blocked",)
    search_fields = ("address", "note")
    readonly_fields = ("bouncing_since", "last_bounce", "updated_at")
    actions = ["block", "unblock", "clear_bouncing"]

    @admin.action(description=gettext_lazy("Block the selected addresses"))
    def block(self, request: HttpRequest, queryset: QuerySet[AddressState]) -> None:
        for state in queryset:
            outbound.block_address(state.address)
        self.message_user(request, _("Blocked."), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Unblock the selected addresses"))
    def unblock(self, request: HttpRequest, queryset: QuerySet[AddressState]) -> None:
        for state in queryset:
            outbound.unblock_address(state.address)
        self.message_user(request, _("Unblocked."), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Mark the selected addresses as working again"))
    def clear_bouncing(self, request: HttpRequest, queryset: QuerySet[AddressState]) -> None:
        for state in queryset:
            outbound.clear_bouncing(state.address)
        self.message_user(request, _("Marked as working again."), messages.SUCCESS)


# --- inbound: mailboxes ---------------------------------------------------------------------
class MailboxForm(forms.ModelForm):
    """The password is never shown back; left blank on a change, it stays as it was."""

    password = forms.CharField(
        label=gettext_lazy("password"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        max_length=255,
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "opens",
            "enabled",
            "host",
            "port",
            "security",
            "username",
            "password",
            "folder",
            "done_folder",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["password"].help_text = _("Leave blank to keep the current password.")

    def clean_password(self) -> str:
        password = str(self.cleaned_data.get("password") or "")
        if password:
            return password
        if self.instance.pk:
            return str(self.instance.password)
        raise forms.ValidationError(_("A new mailbox needs its password."))


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = (
        "name",
        "address",
        "opens",
        "enabled",
        "last_polled_at",
        "failing_since",
        "last_error_summary",
    )
    list_filter = ("enabled", "opens")
    search_fields = ("name", "address", "host")
    readonly_fields = (
        "last_polled_at",
        "failing_since",
        "last_error_at",
        "last_error",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "address", "opens", "enabled")}),
        (
            gettext_lazy("IMAP server"),
            {"fields": ("host", "port", "security", "username", "password")},
        ),
        (gettext_lazy("Folders"), {"fields": ("folder", "done_folder")}),
        (
            gettext_lazy("State"),
            {
                "fields": (
                    "last_polled_at",
                    "failing_since",
                    "last_error_at",
                    "last_error",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    @admin.display(description=gettext_lazy("last error"))
    def last_error_summary(self, mailbox: Mailbox) -> str:
        first_line = (mailbox.last_error or "").strip().splitlines()
        return first_line[0][:120] if first_line else ""


# --- inbound: every message, and the quarantine ---------------------------------------------
class ReasonFilter(admin.SimpleListFilter):
    title = gettext_lazy("reason")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(services.REASONS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(reason=value) if value else queryset


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = (
        "received_at",
        "status",
        "reason_label",
        "sender",
        "subject",
        "source",
        "mailbox",
        "attempts",
        "became",
    )
    list_filter = ("status", ReasonFilter, "source", "mailbox")
    search_fields = ("sender", "subject", "message_id")
    date_hierarchy = "received_at"
    list_select_related = ("mailbox",)
    actions = ("retry_selected", "discard_selected")
    fields = (
        "status",
        "reason_label",
        "error_block",
        "message_id",
        "sender",
        "recipients",
        "subject",
        "source",
        "mailbox",
        "size",
        "raw_download",
        "attempts",
        "received_at",
        "processed_at",
        "became",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # mail arrives; nobody types it in

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a message is never lost: discard it instead

    @admin.display(description=gettext_lazy("reason"))
    def reason_label(self, row: InboundEmail) -> str:
        return str(services.REASONS.get(row.reason, row.reason))

    @admin.display(description=gettext_lazy("error"))
    def error_block(self, row: InboundEmail) -> SafeString | str:
        return format_html('<pre class="kefu-error">{}</pre>', row.error) if row.error else ""

    @admin.display(description=gettext_lazy("became"))
    def became(self, row: InboundEmail) -> str:
        return f"{row.subject_kind} {row.object_id}" if row.subject_kind else ""

    @admin.display(description=gettext_lazy("raw message"))
    def raw_download(self, row: InboundEmail) -> SafeString | str:
        if not row.raw:
            return ""
        url = reverse("admin:mail_inboundemail_raw", args=[row.pk])
        return format_html(
            '<a href="{}" class="kefu-raw-download">{}</a> ({})',
            url,
            _("Download the raw message"),
            _("%(size)s bytes") % {"size": row.size},
        )

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:pk>/raw/",
                self.admin_site.admin_view(self.raw_view),
                name="mail_inboundemail_raw",
            )
        ]
        return own + super().get_urls()

    def raw_view(self, request: HttpRequest, pk: int) -> FileResponse:
        """The message as it arrived, for an administrator to read or forward."""
        row = get_object_or_404(InboundEmail, pk=pk)
        # customers' mail as it came, personal data and all: administrators only
        if not (self.has_view_permission(request, row) and is_administrator(request.user)):
            raise PermissionDenied
        return FileResponse(
            row.raw.open("rb"),
            as_attachment=True,
            filename=f"inbound-{row.pk}.eml",
            content_type="message/rfc822",
        )

    def _run(
        self, request: HttpRequest, queryset: QuerySet[InboundEmail], action: str
    ) -> dict[str, int]:
        outcome: dict[str, int] = {}
        service = services.retry if action == "retry" else services.discard
        for pk in queryset.values_list("pk", flat=True):
            try:
                row = service(pk, actor=request.user)
            except KefuError as exc:
                self.message_user(
                    request,
                    _("Inbound email %(id)s: %(error)s") % {"id": pk, "error": exc.message},
                    messages.ERROR,
                )
                continue
            outcome[row.status] = outcome.get(row.status, 0) + 1
        return outcome

    @admin.action(description=gettext_lazy("Retry the selected quarantined emails"))
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        outcome = self._run(request, queryset, "retry")
        if outcome:
            summary = ", ".join(
                f"{InboundStatus(status).label}: {count}" for status, count in outcome.items()
            )
            self.message_user(
                request, _("Retried. Now %(summary)s.") % {"summary": summary}, messages.SUCCESS
            )

    @admin.action(description=gettext_lazy("Discard the selected quarantined emails"))
    def discard_selected(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        outcome = self._run(request, queryset, "discard")
        if outcome:
            self.message_user(
                request,
                _("%(count)s email(s) discarded.") % {"count": sum(outcome.values())},
                messages.SUCCESS,
            )
