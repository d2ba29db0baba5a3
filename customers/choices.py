from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    INDIVIDUAL = "individual", _("Individual")


class CustomerTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SIMPLIFIED_CHINESE = "zh-hans", _("Simplified Chinese")


class PreferredChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class PointKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")


class FieldTarget(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    CONTACT = "contact", _("Contact")


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes or no")
    CHOICE = "choice", _("Choice")


class ContractKind(models.TextChoices):
    CONTRACT = "contract", _("Contract")
    SUBSCRIPTION = "subscription", _("Subscription")


class Purpose(models.TextChoices):
    SERVICE_EMAIL = "service_email", _("Service email")
    MARKETING_EMAIL = "marketing_email", _("Marketing email")
    PHONE = "phone", _("Phone calls")
    SMS = "sms", _("SMS")


class ConsentSource(models.TextChoices):
    FORM = "form", _("Web form")
    AGENT = "agent", _("Recorded by staff")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    PRIVACY = "privacy", _("Privacy request")


class SuppressionReason(models.TextChoices):
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Marked as spam")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    MANUAL = "manual", _("Added by staff")
    ERASED = "erased", _("Erased on request")


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Saved filter")
    STATIC = "static", _("Static list")


class ImportTarget(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    CONTACTS = "contacts", _("Contacts")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PLANNING = "planning", _("Dry run in progress")
    PLANNED = "planned", _("Dry run done")
    COMMITTING = "committing", _("Importing")
    COMMITTED = "committed", _("Imported")
    REVERTING = "reverting", _("Reverting")
    REVERTED = "reverted", _("Reverted")
    FAILED = "failed", _("Failed")


class RowAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    SKIP = "skip", _("Skip")
    ERROR = "error", _("Error")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class PrivacyKind(models.TextChoices):
    ACCESS = "access", _("Access")
    CORRECTION = "correction", _("Correction")
    ERASURE = "erasure", _("Erasure")


class PrivacyStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused")


# Audit verbs (audit.verbs), one kind per noun; every change and every read of personal data
# by staff is a row (docs/customers.md).
class CustomerVerb(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    MERGED = "merged", _("merged")
    UNMERGED = "unmerged", _("merge undone")
    ERASED = "erased", _("erased")
    CONTRACT_ADDED = "contract_added", _("contract added")
    CONTRACT_CHANGED = "contract_changed", _("contract changed")
    LEGAL_HOLD = "legal_hold", _("legal hold placed")
    LEGAL_HOLD_RELEASED = "legal_hold_released", _("legal hold released")
    CONTRACT_REMOVED = "contract_removed", _("contract removed")
    # Custom field definitions (no customer: ``object_id`` names the field).
    FIELD_DEFINED = "field_defined", _("custom field defined")
    FIELD_CHANGED = "field_changed", _("custom field changed")
    FIELD_RETIRED = "field_retired", _("custom field retired")
    # A pair reviewed and found not to be duplicates (docs/customers-merge.md).
    NOT_DUPLICATE = "not_duplicate", _("marked not a duplicate")
    DUPLICATE_RESTORED = "duplicate_restored", _("not-a-duplicate mark removed")


class ContactVerb(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    MERGED = "merged", _("merged")
    UNMERGED = "unmerged", _("merge undone")
    CONSENT = "consent", _("consent changed")
    UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
    SUPPRESSED = "suppressed", _("suppressed")
    UNSUPPRESSED = "unsuppressed", _("suppression lifted")
    PERSONAL_DATA_VIEWED = "personal_data_viewed", _("personal data viewed")
    PERSONAL_DATA_EXPORTED = "personal_data_exported", _("personal data exported")
    CORRECTED = "corrected", _("corrected on request")
    LEGAL_HOLD = "legal_hold", _("legal hold placed")
    LEGAL_HOLD_RELEASED = "legal_hold_released", _("legal hold released")
    ERASED = "erased", _("erased on request")
    NOT_DUPLICATE = "not_duplicate", _("marked not a duplicate")
    DUPLICATE_RESTORED = "duplicate_restored", _("not-a-duplicate mark removed")


class SegmentVerb(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    DELETED = "deleted", _("deleted")
    FROZEN = "frozen", _("frozen")
    MEMBERS_ADDED = "members_added", _("contacts added")
    MEMBERS_REMOVED = "members_removed", _("contacts removed")


class ImportVerb(models.TextChoices):
    UPLOADED = "uploaded", _("uploaded")
    PLANNED = "planned", _("dry run done")
    COMMITTED = "committed", _("imported")
    REVERTED = "reverted", _("reverted")
    FAILED = "failed", _("failed")


class ExportVerb(models.TextChoices):
    REQUESTED = "requested", _("requested")
    FINISHED = "finished", _("finished")
    DOWNLOADED = "downloaded", _("downloaded")


class PrivacyVerb(models.TextChoices):
    RECEIVED = "received", _("received")
    STARTED = "started", _("started")
    COMPLETED = "completed", _("completed")
    REFUSED = "refused", _("refused")
    EXPORT_DOWNLOADED = "export_downloaded", _("export downloaded")
    SLA_WARNING = "sla_warning", _("deadline near")
    SLA_BREACHED = "sla_breached", _("deadline passed")
