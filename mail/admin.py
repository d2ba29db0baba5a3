"""The email settings an administrator edits (docs/email.md, "Templates", "Loop
protection"): each event's customer email per language, started from the shipped default and
refused when it does not compile; and the outside addresses Kefu must not write to."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.choices import Language

from . import outbound
from .models import AddressState, EmailTemplate

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
