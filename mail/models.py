"""Email as the platform carries it for every process (docs/email.md): the mailboxes Kefu
reads, every inbound message as it arrived (the quarantine is a status of it), the files
that came with a message or a form, the state of an address (bouncing, blocked) and the
customer-facing email templates an administrator edits."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.choices import Language


class ImapSecurity(models.TextChoices):
    TLS = "tls", _("TLS (IMAPS, port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143)")
    NONE = "none", _("None (local test servers only)")


class Mailbox(models.Model):
    """An IMAP mailbox polled for customer mail. A message is moved to ``done_folder``
    (or flagged ``\\Seen`` + ``$Kefu`` when blank) only after its change committed."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), max_length=254)
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("IMAP port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.TLS
    )
    username = models.CharField(_("user name"), max_length=255)
    password = models.CharField(_("password"), max_length=255)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    done_folder = models.CharField(_("folder for processed mail"), max_length=255, blank=True)
    # the process kind new mail opens ("ticket"; a complaints mailbox later)
    opens = models.CharField(_("opens"), max_length=32, default="ticket")
    enabled = models.BooleanField(_("enabled"), default=True)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    QUARANTINED = "quarantined", _("Quarantined")
    DISCARDED = "discarded", _("Discarded")


class InboundEmail(models.Model):
    """One message as it arrived (IMAP, LMTP/SMTP or standard input). The raw message is
    kept in storage; a message that cannot be parsed or handled waits in quarantine for an
    administrator to retry or discard it."""

    mailbox = models.ForeignKey(
        Mailbox,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("mailbox"),
    )
    source = models.CharField(_("source"), max_length=10)  # imap / lmtp / smtp / stdin
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    recipients = models.TextField(_("recipients"), blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    raw = models.FileField(_("raw message"), upload_to="mail/raw/%Y/%m/", max_length=255)
    size = models.PositiveIntegerField(_("size"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    # what it became: the subject of a process ("ticket", 42) and its message row
    subject_kind = models.CharField(_("subject kind"), max_length=32, blank=True)
    object_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        constraints = [
            # the same message delivered twice (two pollers, a retried LMTP session) is one row
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~models.Q(message_id=""),
                name="inbound_message_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="inbound_status_idx"),
            models.Index(fields=["sender", "-received_at"], name="inbound_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id or self.pk} ({self.status})"


class Attachment(models.Model):
    """A file that came with a message (email, web form, request page, agent reply),
    stored through Django's storage. It belongs to a process subject (``subject_kind``,
    ``object_id``) and, when it came with one, to that process's message row
    (``message_id``): whoever may see the subject may download it, nobody else."""

    subject_kind = models.CharField(_("subject kind"), max_length=32)
    object_id = models.BigIntegerField(_("object id"))
    message_id = models.BigIntegerField(_("message"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=255)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=127)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # the untouched original of an email (its quoted history and signature included)
    original = models.BooleanField(_("original message"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [
            models.Index(
                fields=["subject_kind", "object_id", "message_id"], name="attachment_subject_idx"
            )
        ]

    def __str__(self) -> str:
        return self.name


class AddressState(models.Model):
    """What Kefu knows about an outside address: it bounces (an RFC 3464 report said so),
    or an administrator blocked it. Automatic mail never goes to either."""

    address = models.CharField(_("address"), max_length=254, unique=True)  # lower case
    blocked = models.BooleanField(_("blocked"), default=False)
    bouncing_since = models.DateTimeField(_("bouncing since"), null=True, blank=True)
    last_bounce = models.TextField(_("last bounce"), blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["address"]
        verbose_name = _("address state")
        verbose_name_plural = _("address states")

    def __str__(self) -> str:
        return self.address


class EmailTemplate(models.Model):
    """The customer-facing email of one event in one language, editable by an administrator
    (Django template syntax; the shipped default is used while no row exists)."""

    event = models.CharField(_("event"), max_length=64)  # "ticket.acknowledged", …
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("plain-text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["event", "language"]
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        constraints = [
            models.UniqueConstraint(fields=["event", "language"], name="email_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.language})"
