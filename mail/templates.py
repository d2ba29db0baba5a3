"""Customer-facing emails per event and language (docs/email.md, "Templates").

An administrator's ``EmailTemplate`` row wins; otherwise the shipped default in
``mail/templates/mail/events/<event>/<language>/{subject.txt,body.txt,body.html}``. Both
are Django templates rendered with autoescaping in the HTML part and the context the event
documents; the language is activated while rendering, so ``{% translate %}`` and dates
follow the customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, Template
from django.utils import translation

from .models import EmailTemplate

LANGUAGES = ("en", "zh-hans")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def language_of(value: str | None) -> str:
    value = (value or "").lower()
    return "zh-hans" if value.startswith("zh") else "en"


def _engine() -> Engine:
    return Engine.get_default()


def _render(template: Template, context: dict[str, Any], *, html: bool) -> str:
    return str(template.render(Context(context, autoescape=html)))


def render_event(event: str, language: str, context: dict[str, Any]) -> RenderedEmail:
    """The subject and plain text are rendered without HTML escaping, the HTML part with."""
    language = language_of(language)
    row = EmailTemplate.objects.filter(event=event, language=language).first()
    engine = _engine()
    with translation.override(language):
        if row is not None:
            subject = _render(Template(row.subject, engine=engine), context, html=False)
            text = _render(Template(row.body_text, engine=engine), context, html=False)
            html = (
                _render(Template(row.body_html, engine=engine), context, html=True)
                if row.body_html
                else ""
            )
        else:
            base = f"mail/events/{event}/{language}"
            subject = _render(engine.get_template(f"{base}/subject.txt"), context, html=False)
            text = _render(engine.get_template(f"{base}/body.txt"), context, html=False)
            html = _render(engine.get_template(f"{base}/body.html"), context, html=True)
    return RenderedEmail(
        subject=" ".join(subject.split())[:255], text=text.strip() + "\n", html=html
    )
