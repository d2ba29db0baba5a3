"""The public survey page ``/s/<token>/``: no login, throttled per address.

GET shows the form (score from ``?score=N`` preselected) and writes nothing, because
mail scanners open links; POST records the answer (or updates it) and redirects back."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from . import services
from .models import Invitation, SurveyResponse
from .questions import clean_answer, localized, parse_score, score_bounds
from .texts import score_labels, score_question
from .throttle import retry_after

# The token is in the URL. ``same-origin`` sends no Referer to any other site, yet keeps the
# Origin of the form's POST: under ``no-referrer`` browsers send ``Origin: null`` and
# Django's CSRF check refuses every answer (docs/surveys.md, "Referrer policy").
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}


def _private(response: HttpResponse) -> HttpResponse:
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


def _problem(request: HttpRequest, problem: str, status: int, first: str = "en") -> HttpResponse:
    languages = [first, "zh-hans" if first == "en" else "en"]
    response = render(
        request,
        "surveys/problem.html",
        {"problem": problem, "languages": languages},
        status=status,
    )
    return _private(response)


@require_http_methods(["GET", "HEAD", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    wait = retry_after(request)
    if wait is not None:
        response = _problem(request, "throttled", 429)
        response["Retry-After"] = str(wait)
        return response
    try:
        invitation = services.invitation_for_token(token)
    except services.LinkNotFound:
        return _problem(request, "not_found", 404)
    except services.LinkExpired as exc:
        return _problem(request, "expired", 410, exc.invitation.language)
    with translation.override(invitation.language):
        if request.method == "POST":
            return _post(request, invitation, token)
        existing = SurveyResponse.objects.filter(invitation=invitation).first()
        preselected = parse_score(invitation.scale, request.GET.get("score"))
        return _form(request, invitation, existing, preselected=preselected)


def _post(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    questions = localized(invitation.template.questions, invitation.language)
    data = dict(request.POST.lists())
    answer, errors = clean_answer(scale=invitation.scale, questions=questions, data=data)
    submitted: Any = request.POST
    # PostgreSQL cannot store a null character: the field is refused, and shown without it.
    nul = [name for name, values in data.items() if any("\x00" in v for v in values)]
    if nul:
        submitted = request.POST.copy()
        for name in nul:
            submitted.setlist(name, [v.replace("\x00", "") for v in data[name]])
            errors[name] = [translation.gettext("Null characters are not allowed.")]
    if errors:
        existing = SurveyResponse.objects.filter(invitation=invitation).first()
        return _form(request, invitation, existing, submitted=submitted, errors=errors)
    try:
        services.record_response(invitation_id=invitation.pk, answer=answer)
    except services.LinkExpired:
        return _problem(request, "expired", 410, invitation.language)
    return _private(HttpResponseRedirect(f"/s/{token}/?saved=1", status=303))


def _form(
    request: HttpRequest,
    invitation: Invitation,
    existing: SurveyResponse | None,
    *,
    preselected: int | None = None,
    submitted: Any = None,
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    errors = errors or {}
    if submitted is not None:
        selected = parse_score(invitation.scale, submitted.get("score"))
        comment = submitted.get("comment", "")
        values: dict[str, list[str]] = {k: submitted.getlist(k) for k in submitted}
    else:
        selected = preselected
        if selected is None and existing is not None:
            selected = existing.score
        comment = existing.comment if existing is not None else ""
        answers = existing.answers if existing is not None else {}
        values = {k: v if isinstance(v, list) else [v] for k, v in answers.items()}
    bounds = score_bounds(invitation.scale)
    labels = score_labels(invitation.scale)
    scores = (
        [{"value": n, "label": labels.get(n, "")} for n in range(bounds[0], bounds[1] + 1)]
        if bounds
        else []
    )
    questions = [
        {
            "id": q.id,
            "type": q.type,
            "text": q.text,
            "required": q.required,
            "errors": errors.get(q.id, []),
            "value": (values.get(q.id) or [""])[-1],
            "options": [
                {"value": o.value, "text": o.text, "checked": o.value in values.get(q.id, [])}
                for o in q.options
            ],
        }
        for q in localized(invitation.template.questions, invitation.language)
    ]
    question = services.template_question(invitation.template, invitation.language)
    context = {
        "invitation": invitation,
        "question": question or score_question(invitation.scale),
        "scores": scores,
        "selected_score": selected,
        "questions": questions,
        "comment": comment,
        "errors": errors,
        "answered": existing is not None,
        "saved": submitted is None and request.GET.get("saved") == "1" and existing is not None,
    }
    return _private(render(request, "surveys/form.html", context, status=400 if errors else 200))
