from django.db import models
from django.utils.translation import gettext_lazy as _


class Scale(models.TextChoices):
    """The score question every template may ask first."""

    CSAT = "csat", _("CSAT (1-5)")
    NPS = "nps", _("NPS (0-10)")
    NONE = "none", _("No score question")


class QuestionType(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Open text")


class SubjectKind(models.TextChoices):
    """What a survey asks about: a ticket now, a complaint once complaints exist."""

    TICKET = "ticket", _("Ticket")
    COMPLAINT = "complaint", _("Complaint")


SCORE_RANGE = {Scale.CSAT: (1, 5), Scale.NPS: (0, 10)}


class SurveyVerb(models.TextChoices):
    """The audit verbs of survey answers (kind ``survey``): the customer's 360 timeline."""

    ANSWERED = "answered", _("answered a survey")
    CHANGED = "changed", _("changed a survey answer")
