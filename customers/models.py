from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .choices import (
    ConsentSource,
    ContractKind,
    CustomerKind,
    CustomerTier,
    ExportStatus,
    FieldTarget,
    FieldType,
    ImportStatus,
    ImportTarget,
    Language,
    PointKind,
    PreferredChannel,
    PrivacyKind,
    PrivacyStatus,
    Purpose,
    RowAction,
    SegmentKind,
    SuppressionReason,
)

USER = settings.AUTH_USER_MODEL


class Customer(models.Model):
    """A company or an individual Kefu serves; its tier drives SLA and routing."""

    kind = models.CharField(_("kind"), max_length=16, choices=CustomerKind.choices)
    name = models.CharField(_("name"), max_length=200)
    tier = models.CharField(
        _("tier"), max_length=16, choices=CustomerTier.choices, default=CustomerTier.STANDARD
    )
    region = models.CharField(_("region"), max_length=64, blank=True)
    industry = models.CharField(_("industry"), max_length=64, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # The account owner: the member of staff who looks after the customer.
    owner = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        verbose_name=_("account owner"),
    )
    # A group customer's subsidiaries point at it (one level or several).
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsidiaries",
        verbose_name=_("group customer"),
    )
    # The key of the customer in another system (a CRM, an ERP): imports match on it.
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    # Values of the custom fields an administrator defines (CustomField, key -> value).
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Set when merged into another customer: hidden from lists, kept so a merge can be undone.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged into"),
    )
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                "external_id",
                condition=~models.Q(external_id=""),
                name="customer_external_id_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["tier", "id"], name="customer_tier_idx"),
            models.Index(fields=["region", "id"], name="customer_region_idx"),
            models.Index(fields=["owner", "id"], name="customer_owner_idx"),
            models.Index(
                fields=["parent"],
                condition=models.Q(parent__isnull=False),
                name="customer_parent_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person who raises requests; belongs to a customer or stands alone."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="contacts",
        null=True,
        blank=True,
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    # The primary address (lower case); blank for a contact known by phone only. Further
    # addresses and numbers are ContactPoints.
    email = models.EmailField(_("email"), max_length=254, blank=True)
    # The primary number in E.164 (+8613800138000), normalised by customers.phones.
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, choices=PreferredChannel.choices, blank=True
    )
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged into"),
    )
    # Personal fields anonymised in place by an erasure request (docs/customers.md).
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["email", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        # Analysts see contacts' personal fields masked unless granted this (docs/customers.md).
        permissions = [("view_personal_data", _("Can see contacts' personal data"))]
        constraints = [
            models.UniqueConstraint(
                "customer",
                Lower("email"),
                condition=~models.Q(email=""),
                name="contact_email_unique_per_customer",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(customer__isnull=True) & ~models.Q(email=""),
                name="contact_email_unique_without_customer",
            ),
            models.UniqueConstraint(
                "external_id",
                condition=~models.Q(external_id=""),
                name="contact_external_id_uniq",
            ),
        ]
        indexes = [
            models.Index(Lower("email"), name="contact_email_lower_idx"),
            models.Index(fields=["phone"], condition=~models.Q(phone=""), name="contact_phone_idx"),
            models.Index(fields=["customer", "id"], name="contact_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.email


class ContactPoint(models.Model):
    """A further email address or phone number of a contact (the primary ones are on the
    contact), normalised: lower-case addresses, E.164 numbers."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="points", verbose_name=_("contact")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=PointKind.choices)
    value = models.CharField(_("value"), max_length=254)
    label = models.CharField(_("label"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["contact", "kind", "id"]
        verbose_name = _("email or phone")
        verbose_name_plural = _("emails and phones")
        constraints = [
            models.UniqueConstraint(fields=["contact", "kind", "value"], name="contactpoint_uniq")
        ]
        indexes = [models.Index(fields=["kind", "value"], name="contactpoint_value_idx")]

    def __str__(self) -> str:
        return self.value


class CustomField(models.Model):
    """A field an administrator adds to customers or contacts: typed and validated; the
    values live in the record's ``custom`` under ``key``."""

    target = models.CharField(_("applies to"), max_length=16, choices=FieldTarget.choices)
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label (English)"), max_length=100)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    # For choice fields: the allowed values.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["target", "position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            models.UniqueConstraint(fields=["target", "key"], name="customfield_key_uniq")
        ]

    def __str__(self) -> str:
        return self.label


class Contract(models.Model):
    """A contract or subscription of a customer; care plans' renewal reminders read
    ``ends_on``."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contracts", verbose_name=_("customer")
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=ContractKind.choices, default=ContractKind.CONTRACT
    )
    name = models.CharField(_("name"), max_length=200)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["customer", "-starts_on", "id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            )
        ]
        indexes = [
            models.Index(
                fields=["ends_on", "customer"],
                condition=models.Q(ends_on__isnull=False),
                name="contract_ends_idx",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Consent(models.Model):
    """What a contact agreed to receive, per purpose: the current answer, its source and
    time (every change is an audit row too)."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="consents", verbose_name=_("contact")
    )
    purpose = models.CharField(_("purpose"), max_length=24, choices=Purpose.choices)
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["contact", "purpose"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["contact", "purpose"], name="consent_purpose_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.purpose} {self.granted}"


class Suppression(models.Model):
    """An address or number nothing but service mail may reach (bounced, marked as spam,
    unsubscribed, added by staff); no campaign overrides it."""

    kind = models.CharField(_("kind"), max_length=8, choices=PointKind.choices)
    # Normalised like ContactPoint.value (lower-case address, E.164 number).
    address = models.CharField(_("address"), max_length=254)
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        constraints = [
            models.UniqueConstraint(fields=["kind", "address"], name="suppression_address_uniq")
        ]

    def __str__(self) -> str:
        return self.address


class Segment(models.Model):
    """A saved filter over contacts and their customers and activity (``definition``), or a
    static list of contacts (SegmentMember). Campaigns freeze it at launch (SegmentSnapshot)."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC
    )
    # {"all": [{"field": "tier", "op": "in", "value": ["gold"]}, ...]} (docs/customers.md).
    definition = models.JSONField(_("definition"), default=dict, blank=True)
    owner = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A contact on a static list."""

    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="members", verbose_name=_("segment")
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="+", verbose_name=_("contact")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [
            models.UniqueConstraint(fields=["segment", "contact"], name="segmentmember_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.contact_id}"


class SegmentSnapshot(models.Model):
    """A segment's contacts frozen at one moment (a campaign's audience at launch)."""

    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, related_name="snapshots", verbose_name=_("segment")
    )
    definition = models.JSONField(_("definition"), default=dict, blank=True)
    size = models.PositiveIntegerField(_("contacts"), default=0)
    taken_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    taken_at = models.DateTimeField(_("taken at"), auto_now_add=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("segment snapshot")
        verbose_name_plural = _("segment snapshots")

    def __str__(self) -> str:
        return f"{self.segment_id}@{self.taken_at:%Y-%m-%d %H:%M}"


class SnapshotMember(models.Model):
    snapshot = models.ForeignKey(SegmentSnapshot, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "contact"], name="snapshotmember_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.contact_id}"


class ImportJob(models.Model):
    """One import of a spreadsheet: the file, its column mapping, the dry run's plan (rows
    of ImportRow), the commit of that plan, and its revert (docs/customers.md)."""

    target = models.CharField(_("imports"), max_length=16, choices=ImportTarget.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255)
    file_name = models.CharField(_("file name"), max_length=255)
    # The file's columns, as read from its first row.
    headers = models.JSONField(_("columns"), default=list, blank=True)
    # {"column in the file": "field of Kefu" | ""}
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Which key finds an existing record: "email", "phone" or "external_id", in order.
    match_on = models.JSONField(_("match on"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    done_rows = models.PositiveIntegerField(_("rows done"), default=0)
    # {"create": n, "update": n, "skip": n, "error": n}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    committed_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    reverted_at = models.DateTimeField(_("reverted at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.file_name


class ImportRow(models.Model):
    """One row of an import's plan: what the dry run decided and why, what the commit did
    (``record_id``; ``before``: the fields an update changed, for the revert)."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="rows", verbose_name=_("import")
    )
    line = models.PositiveIntegerField(_("line"))
    action = models.CharField(_("action"), max_length=8, choices=RowAction.choices)
    # [{"field": "email", "message": "..."}]
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    data = models.JSONField(_("values"), default=dict, blank=True)
    record_id = models.BigIntegerField(_("record"), null=True, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    done = models.BooleanField(_("done"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["job", "line"]
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="importrow_line_uniq")]
        indexes = [models.Index(fields=["job", "action", "line"], name="importrow_action_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.line}"


class ExportJob(models.Model):
    """An export of a list (its filters applied) to CSV or .xlsx, run as a job."""

    target = models.CharField(_("exports"), max_length=16, choices=ImportTarget.choices)
    format = models.CharField(_("format"), max_length=8)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", max_length=255, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.target}.{self.format}"


class MergeLog(models.Model):
    """One merge of two customers or two contacts: every reference moved from the merged
    record to the kept one (``moved``: {"app.Model.field": [pk, ...]}), the kept record's
    fields before (``before``), so that ``undo`` puts everything back."""

    target = models.CharField(_("kind"), max_length=16, choices=FieldTarget.choices)
    kept_id = models.BigIntegerField(_("kept"))
    merged_id = models.BigIntegerField(_("merged"))
    moved = models.JSONField(_("references moved"), default=dict, blank=True)
    before = models.JSONField(_("kept record before"), default=dict, blank=True)
    actor = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged by"),
    )
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self) -> str:
        return f"{self.target} {self.merged_id}->{self.kept_id}"


class DismissedPair(models.Model):
    """Two contacts or two customers someone reviewed and found not to be duplicates: the
    finder leaves the pair out. The ids are plain numbers, not foreign keys, so that a merge
    (which moves every foreign key to the merged record) never rewrites a dismissal; they
    are stored in order (``low_id < high_id``), one row per pair. Undoing a dismissal deletes
    the row (the audit rows keep the history)."""

    target = models.CharField(_("kind"), max_length=16, choices=FieldTarget.choices)
    low_id = models.BigIntegerField(_("record"))
    high_id = models.BigIntegerField(_("other record"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dismissed by"),
    )
    created_at = models.DateTimeField(_("dismissed at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("pair marked not a duplicate")
        verbose_name_plural = _("pairs marked not duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "low_id", "high_id"], name="dismissedpair_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(low_id__lt=models.F("high_id")), name="dismissedpair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["created_at", "id"], name="dismissedpair_created_idx")]

    def __str__(self) -> str:
        return f"{self.target} {self.low_id}/{self.high_id}"


class LegalHold(models.Model):
    """Data Kefu must keep (a dispute, a regulator's inquiry, litigation): an erasure of the
    customer's or contact's data is refused with this reason while it lasts."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="legal_holds",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="legal_holds",
        verbose_name=_("contact"),
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("placed by"),
    )
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(contact__isnull=False),
                name="legalhold_has_subject",
            )
        ]

    def __str__(self) -> str:
        return self.reason


class PrivacyRequest(models.Model):
    """A data subject's request under PIPL / GDPR: access, correction or erasure, with a
    statutory deadline on the platform's SLA clock (kind ``privacy``)."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PrivacyKind.choices)
    contact = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        related_name="privacy_requests",
        verbose_name=_("contact"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PrivacyStatus.choices, default=PrivacyStatus.RECEIVED
    )
    # For a correction: {"field": "new value"}.
    details = models.JSONField(_("details"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    due_at = models.DateTimeField(_("due"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    handler = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handler"),
    )
    # An access request's export (a JSON file), delivered through a signed link.
    export = models.FileField(_("export"), upload_to="privacy/%Y/%m/", max_length=255, blank=True)
    created_by = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        indexes = [models.Index(fields=["status", "due_at"], name="privacy_open_idx")]

    def __str__(self) -> str:
        return self.number
