"""Survey templates, who uses which, invitations (one per ticket) and responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Scale, SubjectKind


class SurveyTemplate(models.Model):
    """What a survey asks: a score question (CSAT, NPS or none) and designed questions.

    ``questions`` is a list of ``{"id", "type": single|multiple|text, "required",
    "text": {"en", "zh-hans"}, "options": [{"value", "text": {"en", "zh-hans"}}]}``,
    checked by ``surveys.questions.validate_questions``."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    scale = models.CharField(_("score question"), max_length=8, choices=Scale.choices)
    # blank: the built-in wording of the scale
    question_en = models.CharField(_("score question (English)"), max_length=300, blank=True)
    question_zh_hans = models.CharField(
        _("score question (Simplified Chinese)"), max_length=300, blank=True
    )
    questions = models.JSONField(_("designed questions"), default=list, blank=True)
    reminder_enabled = models.BooleanField(_("send one reminder"), default=True)
    is_default = models.BooleanField(_("default template"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="surveytemplate_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .questions import QuestionError, validate_questions

        try:
            validate_questions(self.questions)
        except QuestionError as exc:
            raise ValidationError({"questions": str(exc)}) from exc


class SurveyAssignment(models.Model):
    """A team or a ticket category chooses its template; a category's choice wins."""

    template = models.ForeignKey(
        SurveyTemplate,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("template"),
    )
    team = models.OneToOneField(
        "org.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey_assignment",
        verbose_name=_("team"),
    )
    category = models.OneToOneField(
        "tickets.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey_assignment",
        verbose_name=_("category"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("survey assignment")
        verbose_name_plural = _("survey assignments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=False, category__isnull=True)
                | models.Q(team__isnull=True, category__isnull=False),
                name="surveyassignment_team_xor_category",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_id} <- team {self.team_id} / category {self.category_id}"


class Invitation(models.Model):
    """The one survey a closed ticket (or complaint) gets. Only SHA-256 hashes of the link
    tokens are stored; the tokens themselves travel in the email only."""

    subject_kind = models.CharField(_("about"), max_length=16, choices=SubjectKind.choices)
    subject_id = models.BigIntegerField(_("object id"))
    # 1 normally; 2… only when a ticket closes again after the suppression window
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_invitations",
        verbose_name=_("ticket"),
    )
    # what the public page shows, and nothing else about the customer
    subject_number = models.CharField(_("number"), max_length=32)
    subject_title = models.CharField(_("subject"), max_length=200)
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.PROTECT,
        related_name="survey_invitations",
        verbose_name=_("contact"),
    )
    email = models.EmailField(_("email"), max_length=254)
    language = models.CharField(_("language"), max_length=8)
    team = models.ForeignKey(
        "org.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    template = models.ForeignKey(
        SurveyTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("template")
    )
    scale = models.CharField(_("score question"), max_length=8, choices=Scale.choices)
    token_hash = models.CharField(_("link token hash"), max_length=64)
    # NULL until a reminder goes out with its own link
    reminder_token_hash = models.CharField(  # noqa: DJ001
        _("reminder link token hash"), max_length=64, null=True, blank=True
    )
    expires_at = models.DateTimeField(_("expires at"))
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    message = models.ForeignKey(
        "outbox.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invitation email"),
    )
    reminder_message = models.ForeignKey(
        "outbox.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reminder email"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id", "round"], name="invitation_one_per_round"
            ),
            models.UniqueConstraint(fields=["token_hash"], name="invitation_token_hash_unique"),
            models.UniqueConstraint(
                fields=["reminder_token_hash"], name="invitation_reminder_hash_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "-created_at"], name="invitation_contact_idx"),
            models.Index(
                fields=["remind_at"],
                condition=models.Q(remind_at__isnull=False, reminded_at__isnull=True),
                name="invitation_remind_due_idx",
            ),
            models.Index(fields=["team", "created_at"], name="invitation_team_idx"),
            models.Index(fields=["agent", "created_at"], name="invitation_agent_idx"),
            models.Index(fields=["created_at"], name="invitation_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.subject_number} #{self.round}"


class SurveyResponse(models.Model):
    """The customer's answer; a later POST before expiry updates this same row."""

    invitation = models.OneToOneField(
        Invitation,
        on_delete=models.CASCADE,
        related_name="response",
        verbose_name=_("invitation"),
    )
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    answered_at = models.DateTimeField(_("answered at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-answered_at", "-id"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [models.Index(fields=["-answered_at", "-id"], name="response_answered_idx")]

    def __str__(self) -> str:
        return f"{self.invitation_id}: {self.score}"
