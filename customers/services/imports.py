# ruff: noqa: RUF001
"""Imports of customers and contacts from CSV or .xlsx: upload, column mapping, the dry
run (``plan_import``: every row checked and matched, stored as ``ImportRow``), the commit
of exactly that plan, and its revert (docs/customers-import-export.md).

Speed: rows are read, checked and written in chunks; the keys a chunk needs (emails,
numbers, external ids, customers) are looked up in one query each per chunk, never per row.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import JSONField, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, InvalidInput, NotFound

from .. import permissions, spreadsheets
from ..choices import (
    CustomerKind,
    CustomerTier,
    FieldTarget,
    ImportStatus,
    ImportTarget,
    ImportVerb,
    Language,
    PointKind,
    PreferredChannel,
    RowAction,
)
from ..fields import clean_value, definitions
from ..models import Contact, ContactPoint, Customer, CustomField, ImportJob, ImportRow
from ..phones import InvalidPhone, normalise_phone
from . import normalise_email

MAX_BYTES = 20 * 1024 * 1024
MAX_COLUMNS = 200
MAX_ROWS = 200_000
CHUNK = 1000

CUSTOMER_FIELDS = (
    "name",
    "kind",
    "tier",
    "region",
    "industry",
    "tags",
    "external_id",
    "parent_external_id",
)
CONTACT_FIELDS = (
    "name",
    "email",
    "phone",
    "title",
    "language",
    "birthday",
    "preferred_channel",
    "external_id",
    "customer",
)
MATCH_KEYS = {
    ImportTarget.CUSTOMERS: ("external_id",),
    ImportTarget.CONTACTS: ("email", "phone", "external_id"),
}
MAX_LENGTHS = {
    "name": 200,
    "region": 64,
    "industry": 64,
    "external_id": 64,
    "parent_external_id": 64,
    "title": 100,
    "customer": 200,
}

# Header names (lower case, spaces and punctuation dropped) a field is suggested for.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "名称", "姓名", "名字", "客户名称", "公司名称", "联系人"),
    "email": ("email", "emailaddress", "mail", "邮箱", "电子邮件", "电子邮箱", "邮件地址"),
    "phone": ("phone", "mobile", "telephone", "tel", "phonenumber", "电话", "手机", "手机号"),
    "title": ("title", "jobtitle", "position", "职位", "职务"),
    "language": ("language", "lang", "语言"),
    "birthday": ("birthday", "dateofbirth", "birthdate", "生日", "出生日期"),
    "preferred_channel": ("preferredchannel", "channel", "首选渠道", "渠道"),
    "external_id": ("externalid", "id", "crmid", "外部编号", "外部id", "编号"),
    "customer": ("customer", "company", "account", "客户", "公司"),
    "kind": ("kind", "type", "类型"),
    "tier": ("tier", "level", "等级", "级别"),
    "region": ("region", "area", "地区", "区域"),
    "industry": ("industry", "行业"),
    "tags": ("tags", "tag", "标签"),
    "parent_external_id": ("parentexternalid", "parent", "group", "上级客户", "集团", "母公司"),
}

LANGUAGE_WORDS: dict[str, str] = {
    "en": Language.ENGLISH,
    "english": Language.ENGLISH,
    "英文": Language.ENGLISH,
    "英语": Language.ENGLISH,
    "zh": Language.SIMPLIFIED_CHINESE,
    "zh-hans": Language.SIMPLIFIED_CHINESE,
    "zh-cn": Language.SIMPLIFIED_CHINESE,
    "chinese": Language.SIMPLIFIED_CHINESE,
    "simplified chinese": Language.SIMPLIFIED_CHINESE,
    "中文": Language.SIMPLIFIED_CHINESE,
    "简体中文": Language.SIMPLIFIED_CHINESE,
}
TIER_WORDS: dict[str, str] = {
    "standard": CustomerTier.STANDARD,
    "标准": CustomerTier.STANDARD,
    "gold": CustomerTier.GOLD,
    "金牌": CustomerTier.GOLD,
    "platinum": CustomerTier.PLATINUM,
    "白金": CustomerTier.PLATINUM,
}
KIND_WORDS: dict[str, str] = {
    "company": CustomerKind.COMPANY,
    "公司": CustomerKind.COMPANY,
    "企业": CustomerKind.COMPANY,
    "individual": CustomerKind.INDIVIDUAL,
    "个人": CustomerKind.INDIVIDUAL,
}
CHANNEL_WORDS: dict[str, str] = {
    "email": PreferredChannel.EMAIL,
    "邮件": PreferredChannel.EMAIL,
    "phone": PreferredChannel.PHONE,
    "电话": PreferredChannel.PHONE,
    "sms": PreferredChannel.SMS,
    "短信": PreferredChannel.SMS,
    "wechat": PreferredChannel.WECHAT,
    "微信": PreferredChannel.WECHAT,
}

# Read once: an enum's ``values`` is rebuilt on every access.
WORD_FIELDS: dict[str, tuple[dict[str, str], list[str]]] = {
    "language": (LANGUAGE_WORDS, [str(v) for v in Language.values]),
    "tier": (TIER_WORDS, [str(v) for v in CustomerTier.values]),
    "kind": (KIND_WORDS, [str(v) for v in CustomerKind.values]),
    "preferred_channel": (CHANNEL_WORDS, [str(v) for v in PreferredChannel.values]),
}
# Plain strings for the dictionaries' values too (no enum lookups per row).
for _words, _allowed in WORD_FIELDS.values():
    for _k, _v in list(_words.items()):
        _words[_k] = str(_v)


def _key(header: str) -> str:
    return re.sub(r"[\s_\-.:：()（）]+", "", header).lower()


def _field_model(target: str) -> Any:
    return Customer if target == ImportTarget.CUSTOMERS else Contact


def _field_target(target: str) -> str:
    return FieldTarget.CUSTOMER if target == ImportTarget.CUSTOMERS else FieldTarget.CONTACT


def known_fields(target: str) -> list[str]:
    """The fields a column may be mapped to: the record's and ``custom.<key>``."""
    base = CUSTOMER_FIELDS if target == ImportTarget.CUSTOMERS else CONTACT_FIELDS
    return [*base, *(f"custom.{f.key}" for f in definitions(_field_target(target)))]


def suggest_mapping(target: str, headers: list[str]) -> dict[str, str]:
    """A field for each header whose name says it (English or Chinese), each field once."""
    base = CUSTOMER_FIELDS if target == ImportTarget.CUSTOMERS else CONTACT_FIELDS
    lookup: dict[str, str] = {}
    for field in base:
        lookup[_key(field)] = field
        for word in SYNONYMS.get(field, ()):
            lookup.setdefault(_key(word), field)
    for custom in definitions(_field_target(target)):
        for word in (custom.key, custom.label, custom.label_zh):
            if word:
                lookup.setdefault(_key(word), f"custom.{custom.key}")
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        field = lookup.get(_key(header), "")
        if field in used:
            field = ""
        if field:
            used.add(field)
        mapping[header] = field
    return mapping


# --- upload and mapping ---------------------------------------------------------------
def _check_importer(actor: Any) -> None:
    if not permissions.can_import(actor):
        raise Forbidden(_("Only administrators may import."))


def _too_big(limit: str) -> InvalidInput:
    return InvalidInput(_("The file is too big."), {"file": [limit]})


def upload_import(actor: Any, target: str, uploaded_file: UploadedFile) -> ImportJob:
    """Stores the file and reads its headers; refuses files too big, too wide or too long."""
    _check_importer(actor)
    if target not in ImportTarget.values:
        raise InvalidInput(
            _("Unknown import target."),
            {"target": [_("Choose one of: %(choices)s.") % {"choices": "customers, contacts"}]},
        )
    name = (uploaded_file.name or "import.csv")[-200:]
    try:
        fmt = spreadsheets.format_of(name)
    except spreadsheets.UnreadableFile as exc:
        raise InvalidInput(
            _("Upload a .csv or .xlsx file."), {"file": [_("Upload a .csv or .xlsx file.")]}
        ) from exc
    if (uploaded_file.size or 0) > MAX_BYTES:
        raise _too_big(_("At most %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)})
    headers, rows = _read(uploaded_file, fmt)
    uploaded_file.seek(0)
    with transaction.atomic():
        job = ImportJob(
            target=target,
            file_name=name,
            headers=headers,
            mapping=suggest_mapping(target, headers),
            match_on=list(MATCH_KEYS[ImportTarget(target)]),
            total_rows=rows,
            created_by=actor,
        )
        job.file.save(name, uploaded_file, save=False)
        job.save()
        audit.record(
            kind="import",
            verb=ImportVerb.UPLOADED,
            actor=actor,
            object_id=job.pk,
            after={"file": name, "target": target, "rows": rows, "columns": len(headers)},
        )
    return job


def _read(stream: Any, fmt: str) -> tuple[list[str], int]:
    try:
        data = spreadsheets.read(stream, fmt)
    except spreadsheets.UnreadableFile as exc:
        raise InvalidInput(
            _("The file cannot be read."), {"file": [_("The file cannot be read.")]}
        ) from exc
    headers = [spreadsheets.cell_text(h) for h in (data.headers or [])]
    if not headers or not any(headers):
        raise InvalidInput(_("The file has no header row."), {"file": [_("No columns.")]})
    if len(headers) > MAX_COLUMNS:
        raise InvalidInput(
            _("The file has too many columns."),
            {
                "file": [
                    _("%(count)s columns; at most %(limit)s.")
                    % {"count": len(headers), "limit": MAX_COLUMNS}
                ]
            },
        )
    if data.height > MAX_ROWS:
        raise InvalidInput(
            _("The file has too many rows."),
            {
                "file": [
                    _("%(count)s rows; at most %(limit)s.")
                    % {"count": data.height, "limit": MAX_ROWS}
                ]
            },
        )
    seen: set[str] = set()
    for header in headers:
        if header in seen or not header:
            raise InvalidInput(
                _("Every column needs a name of its own."),
                {"file": [_("Column %(name)s is blank or repeated.") % {"name": repr(header)}]},
            )
        seen.add(header)
    return headers, data.height


def _state(job: ImportJob, *allowed: str) -> None:
    if job.status not in allowed:
        raise Conflict(
            _("Not possible while the import is %(status)s.") % {"status": job.get_status_display()}
        )


def set_mapping(actor: Any, job: ImportJob, mapping: Any, match_on: Any) -> ImportJob:
    """The column → field mapping and the keys that find existing records, in order."""
    _check_importer(actor)
    _state(job, ImportStatus.UPLOADED, ImportStatus.PLANNED, ImportStatus.FAILED)
    errors: dict[str, list[str]] = {}
    if not isinstance(mapping, dict):
        raise InvalidInput(_("Invalid mapping."), {"mapping": [_("Expected an object.")]})
    fields = known_fields(job.target)
    clean: dict[str, str] = {}
    used: dict[str, str] = {}
    for column in job.headers:
        field = mapping.get(column, "")
        if not isinstance(field, str):
            errors.setdefault("mapping", []).append(_("Invalid field for %s.") % column)
            continue
        if field and field not in fields:
            errors.setdefault("mapping", []).append(
                _("%(column)s: unknown field %(field)s.") % {"column": column, "field": field}
            )
            continue
        if field and field in used:
            errors.setdefault("mapping", []).append(
                _("%(field)s is mapped twice (%(a)s, %(b)s).")
                % {"field": field, "a": used[field], "b": column}
            )
            continue
        if field:
            used[field] = column
        clean[column] = field
    for column in mapping:
        if column not in job.headers:
            errors.setdefault("mapping", []).append(_("No column %s in the file.") % column)
    allowed = MATCH_KEYS[ImportTarget(job.target)]
    if not isinstance(match_on, list) or any(
        not isinstance(k, str) or k not in allowed for k in match_on
    ):
        errors["match_on"] = [_("Choose among: %(choices)s.") % {"choices": ", ".join(allowed)}]
    elif len(set(match_on)) != len(match_on):
        errors["match_on"] = [_("Each key once.")]
    if not errors and not used:
        errors["mapping"] = [_("Map at least one column.")]
    if errors:
        raise InvalidInput(_("Invalid mapping."), errors)
    job.mapping = clean
    job.match_on = list(match_on)
    job.status = ImportStatus.UPLOADED
    job.counts = {}
    job.done_rows = 0
    job.save(update_fields=["mapping", "match_on", "status", "counts", "done_rows", "updated_at"])
    return job


# --- fast bulk writes -----------------------------------------------------------------
def _db_text(field: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, JSONField):
        return json.dumps(value, cls=DjangoJSONEncoder)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _copy(model: Any, objs: list[Any]) -> None:
    """Inserts ``objs`` with one ``COPY`` (no ids come back): the plan's rows and the audit
    rows of a chunk, tens of times faster than an INSERT of thousands of JSON values."""
    if not objs:
        return
    if connection.vendor != "postgresql":  # the embedded mode (SQLite): a plain INSERT
        model.objects.bulk_create(objs, batch_size=500)
        return
    now = timezone.now()
    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            row = []
            for f in fields:
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    value: Any = now
                else:
                    value = getattr(obj, f.attname)
                row.append(_db_text(f, value))
            copy.write_row(row)


def _bulk_set(model: Any, names: list[str], rows: list[tuple[int, list[Any]]]) -> None:
    """``UPDATE … FROM unnest(arrays)``: sets the fields ``names`` of each row (pk, values)
    in one statement (Django's ``bulk_update`` builds a CASE per row and field: minutes)."""
    if not rows:
        return
    if connection.vendor != "postgresql":  # the embedded mode (SQLite): a laptop's few rows
        objs = []
        for pk, values in rows:
            obj = model(pk=pk)
            for name, value in zip(names, values, strict=True):
                setattr(obj, model._meta.get_field(name).attname, value)
            objs.append(obj)
        model.objects.bulk_update(objs, names, batch_size=500)
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(n) for n in names]
    sets = ", ".join(
        f"{quote(f.column)} = v.c{i}::{f.db_type(connection) if not f.is_relation else 'bigint'}"
        for i, f in enumerate(fields)
    )
    aliases = ", ".join(f"c{i}" for i in range(len(fields)))
    arrays = ", ".join("%s::text[]" for _f in fields)
    # Model metadata only in the text; the values are parameters.
    table = quote(model._meta.db_table)
    sql = "UPDATE %s AS t SET %s FROM unnest(%%s::bigint[], %s) AS v(id, %s) WHERE t.id = v.id" % (  # noqa: S608, UP031
        table,
        sets,
        arrays,
        aliases,
    )
    params: list[Any] = [[pk for pk, _v in rows]]
    for i, f in enumerate(fields):
        params.append([_db_text(f, values[i]) for _pk, values in rows])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _save_rows(rows: list[ImportRow]) -> None:
    now = timezone.now()
    _bulk_set(
        ImportRow,
        ["action", "reasons", "record_id", "before", "done", "updated_at"],
        [(r.pk, [r.action, r.reasons, r.record_id, r.before, r.done, now]) for r in rows],
    )


# --- the dry run ----------------------------------------------------------------------
def request_plan(actor: Any, job: ImportJob) -> ImportJob:
    """Queues the dry run (``plan_import`` in a Celery task)."""
    from ..tasks import plan_import_job

    _check_importer(actor)
    _state(job, ImportStatus.UPLOADED, ImportStatus.PLANNED, ImportStatus.FAILED)
    if not any(job.mapping.values()):
        raise Conflict(_("Map the columns first."))
    with transaction.atomic():
        job.status = ImportStatus.PLANNING
        job.done_rows = 0
        job.counts = {}
        job.error = ""
        job.save(update_fields=["status", "done_rows", "counts", "error", "updated_at"])
        job_id = job.pk
        transaction.on_commit(lambda: plan_import_job.delay(job_id))
    return job


def _reason(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def _file_rows(job: ImportJob) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {field: text}) for each row of the file; line 1 is the header row."""
    fmt = spreadsheets.format_of(job.file_name)
    with job.file.open("rb") as stream:
        data = spreadsheets.read(stream, fmt)
    headers = [spreadsheets.cell_text(h) for h in (data.headers or [])]
    columns = [(i, job.mapping.get(h, "")) for i, h in enumerate(headers)]
    columns = [(i, f) for i, f in columns if f]
    for number, row in enumerate(data, start=2):
        values = {f: spreadsheets.cell_text(row[i]) if i < len(row) else "" for i, f in columns}
        yield number, values


def _chunks(rows: Iterator[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _word(
    values: dict[str, str], field: str, words: dict[str, str], allowed: list[str]
) -> tuple[str | None, str | None]:
    text = values.get(field, "")
    if not text:
        return None, None
    found = words.get(text.strip().lower()) or (text if text in allowed else None)
    if found is None:
        return None, _("Unknown %(field)s %(value)s; use one of: %(choices)s.") % {
            "field": field,
            "value": repr(text),
            "choices": ", ".join(allowed),
        }
    return str(found), None


def _clean(
    target: str, values: dict[str, str], customs: dict[str, CustomField]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The values of a row as the record stores them (blank cells left out: they change
    nothing) and the reasons a value is refused."""
    clean: dict[str, Any] = {}
    reasons: list[dict[str, str]] = []
    custom: dict[str, Any] = {}
    for field, text in values.items():
        if not text:
            continue
        if field.startswith("custom."):
            definition = customs.get(field[7:])
            if definition is None:
                reasons.append(_reason(field, _("No such field.")))
                continue
            try:
                custom[definition.key] = clean_value(definition, text)
            except ValueError as exc:
                reasons.append(_reason(field, str(exc)))
            continue
        limit = MAX_LENGTHS.get(field)
        if limit and len(text) > limit:
            reasons.append(_reason(field, _("At most %(limit)s characters.") % {"limit": limit}))
            continue
        if field == "email":
            email = normalise_email(text)
            try:
                validate_email(email)
            except ValidationError:
                reasons.append(_reason(field, _("%s is not a valid email address.") % text))
                continue
            clean[field] = email
        elif field == "phone":
            try:
                clean[field] = normalise_phone(text)
            except InvalidPhone as exc:
                reasons.append(_reason(field, f"{text}: {exc}"))
        elif field == "birthday":
            try:
                clean[field] = date.fromisoformat(text[:10]).isoformat()
            except ValueError:
                reasons.append(_reason(field, _("Enter a date as YYYY-MM-DD.")))
        elif field in ("language", "tier", "kind", "preferred_channel"):
            words, allowed = WORD_FIELDS[field]
            value, error = _word(values, field, words, allowed)
            if error:
                reasons.append(_reason(field, error))
            else:
                clean[field] = value
        elif field == "tags":
            clean[field] = sorted({t.strip() for t in re.split(r"[,;，；]", text) if t.strip()})
        else:
            clean[field] = text
    if custom:
        clean["custom"] = custom
    return clean, reasons


class _Lookup:
    """The existing records a chunk's keys find, in one query per key."""

    def __init__(self, target: str, rows: list[dict[str, Any]]) -> None:
        self.target = target
        self.by_email: dict[str, list[int]] = defaultdict(list)
        self.by_phone: dict[str, list[int]] = defaultdict(list)
        self.by_external: dict[str, int] = {}
        self.customer_by_external: dict[str, int] = {}
        self.customer_by_name: dict[str, list[int]] = defaultdict(list)
        self.records: dict[int, Any] = {}
        emails = {r["email"] for r in rows if r.get("email")}
        phones = {r["phone"] for r in rows if r.get("phone")}
        externals = {r["external_id"] for r in rows if r.get("external_id")}
        model = _field_model(target)
        ids: set[int] = set()
        if externals:
            for pk, ext in model.objects.filter(external_id__in=externals).values_list(
                "pk", "external_id"
            ):
                self.by_external[ext] = pk
                ids.add(pk)
        if target == ImportTarget.CONTACTS:
            if emails:
                for pk, email in (
                    Contact.objects.annotate(e=Lower("email"))
                    .filter(e__in=emails)
                    .values_list("pk", "e")
                ):
                    self.by_email[email].append(pk)
                for pk, email in ContactPoint.objects.filter(
                    kind=PointKind.EMAIL, value__in=emails
                ).values_list("contact_id", "value"):
                    self.by_email[email].append(pk)
            if phones:
                # ``exclude(phone="")`` matches the partial index's predicate.
                numbers = Contact.objects.filter(phone__in=phones).exclude(phone="")
                for pk, phone in numbers.values_list("pk", "phone"):
                    self.by_phone[phone].append(pk)
                for pk, phone in ContactPoint.objects.filter(
                    kind=PointKind.PHONE, value__in=phones
                ).values_list("contact_id", "value"):
                    self.by_phone[phone].append(pk)
            for found in (*self.by_email.values(), *self.by_phone.values()):
                ids.update(found)
            names = {r["customer"] for r in rows if r.get("customer")}
            if names:
                for pk, ext, name in Customer.objects.filter(
                    Q(external_id__in=names) | Q(name__in=names), merged_into__isnull=True
                ).values_list("pk", "external_id", "name"):
                    if ext in names:
                        self.customer_by_external[ext] = pk
                    if name in names:
                        self.customer_by_name[name].append(pk)
        else:
            parents = {r["parent_external_id"] for r in rows if r.get("parent_external_id")}
            if parents:
                self.customer_by_external = dict(
                    Customer.objects.filter(external_id__in=parents).values_list(
                        "external_id", "pk"
                    )
                )
        if ids:
            self.records = {r.pk: r for r in model.objects.filter(pk__in=ids)}


def _current(record: Any, field: str) -> Any:
    if field == "birthday":
        return record.birthday.isoformat() if record.birthday else None
    if field == "customer":
        return record.customer_id
    if field == "parent_external_id":
        return record.parent_id
    return getattr(record, field)


def plan_import(job: ImportJob) -> ImportJob:
    """The dry run: every row checked and matched, its action and reasons stored."""
    if job.status != ImportStatus.PLANNING:
        return job
    ImportRow.objects.filter(job=job).delete()
    customs = {f.key: f for f in definitions(_field_target(job.target))}
    counts = dict.fromkeys(RowAction.values, 0)
    first_line: dict[tuple[str, str], int] = {}
    created_externals: dict[str, int] = {}
    done = 0
    try:
        rows_iter = _file_rows(job)
        for chunk in _chunks(rows_iter):
            cleaned = [
                (line, values, *_clean(job.target, values, customs)) for line, values in chunk
            ]
            lookup = _Lookup(job.target, [c for _l, _v, c, _r in cleaned])
            plan: list[ImportRow] = []
            for line, values, clean, reasons in cleaned:
                row = _plan_row(
                    job, line, values, clean, reasons, lookup, first_line, created_externals
                )
                counts[row.action] += 1
                plan.append(row)
            with transaction.atomic():
                _copy(ImportRow, plan)
            done += len(chunk)
            ImportJob.objects.filter(pk=job.pk).update(
                done_rows=done, counts=counts, updated_at=timezone.now()
            )
    except Exception as exc:
        _fail(job, exc)
        raise
    job.refresh_from_db()
    job.status = ImportStatus.PLANNED
    job.total_rows = done
    job.done_rows = done
    job.counts = counts
    job.save(update_fields=["status", "total_rows", "done_rows", "counts", "updated_at"])
    audit.record(
        kind="import",
        verb=ImportVerb.PLANNED,
        actor=job.created_by,
        object_id=job.pk,
        after={"counts": counts},
    )
    return job


def _fail(job: ImportJob, exc: Exception) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, error=str(exc)[:2000], updated_at=timezone.now()
    )
    audit.record(
        kind="import",
        verb=ImportVerb.FAILED,
        actor=job.created_by,
        object_id=job.pk,
        after={"error": str(exc)[:500]},
    )


def _plan_row(
    job: ImportJob,
    line: int,
    values: dict[str, str],
    clean: dict[str, Any],
    reasons: list[dict[str, str]],
    lookup: _Lookup,
    first_line: dict[tuple[str, str], int],
    created_externals: dict[str, int],
) -> ImportRow:
    row = ImportRow(job=job, line=line, data={"values": values, "clean": clean})
    contacts = job.target == ImportTarget.CONTACTS
    # A key seen earlier in the file: this row is a duplicate, skipped.
    keys = [k for k in ("external_id", "email", "phone") if clean.get(k)]
    for key in keys:
        earlier = first_line.get((key, clean[key]))
        if earlier is not None:
            row.action = RowAction.SKIP
            row.reasons = [
                _reason(key, _("Duplicate of line %(line)s.") % {"line": earlier}),
                *reasons,
            ]
            return row
    if not reasons:
        for key in keys:
            first_line[(key, clean[key])] = line
    # References: the customer of a contact, the group customer of a customer.
    if contacts and clean.get("customer"):
        ref = clean["customer"]
        found = lookup.customer_by_external.get(ref)
        names = lookup.customer_by_name.get(ref, [])
        if found is None and len(names) == 1:
            found = names[0]
        if found is None:
            message = (
                _("Several customers are named %s; use the external id.") % ref
                if names
                else _("No customer %s.") % ref
            )
            reasons.append(_reason("customer", message))
        else:
            clean["customer"] = found
    if not contacts and clean.get("parent_external_id"):
        ref = clean["parent_external_id"]
        if ref not in lookup.customer_by_external and ref not in created_externals:
            reasons.append(_reason("parent_external_id", _("No customer %s.") % ref))
    if reasons:
        row.action = RowAction.ERROR
        row.reasons = reasons
        return row
    # Match an existing record by the job's keys, in order.
    record: Any = None
    for key in job.match_on:
        value = clean.get(key)
        if not value:
            continue
        if key == "external_id":
            pk = lookup.by_external.get(value)
            found_ids = [pk] if pk is not None else []
        else:
            found_ids = sorted(set((lookup.by_email if key == "email" else lookup.by_phone)[value]))
        if len(found_ids) > 1 and contacts and isinstance(clean.get("customer"), int):
            found_ids = [
                i for i in found_ids if lookup.records[i].customer_id == clean["customer"]
            ] or found_ids
        if len(found_ids) > 1:
            row.action = RowAction.ERROR
            row.reasons = [
                _reason(
                    key,
                    _("%(count)s records have this %(key)s; they cannot be told apart.")
                    % {"count": len(found_ids), "key": key},
                )
            ]
            return row
        if found_ids:
            record = lookup.records.get(found_ids[0])
            if record is not None and record.merged_into_id is not None:
                row.action = RowAction.ERROR
                row.reasons = [_reason(key, _("The record found was merged into another."))]
                return row
            break
    if record is None:
        return _plan_create(job, row, clean, lookup, created_externals)
    return _plan_update(row, record, clean, lookup)


def _plan_create(
    job: ImportJob,
    row: ImportRow,
    clean: dict[str, Any],
    lookup: _Lookup,
    created_externals: dict[str, int],
) -> ImportRow:
    contacts = job.target == ImportTarget.CONTACTS
    if not contacts and not clean.get("name"):
        row.action = RowAction.ERROR
        row.reasons = [_reason("name", _("A new customer needs a name."))]
        return row
    if contacts and not (clean.get("name") or clean.get("email") or clean.get("phone")):
        row.action = RowAction.ERROR
        row.reasons = [_reason("email", _("A new contact needs a name, an email or a phone."))]
        return row
    ext = clean.get("external_id")
    if ext and ext in lookup.by_external:
        row.action = RowAction.ERROR
        row.reasons = [_reason("external_id", _("Another record has the external id %s.") % ext)]
        return row
    if contacts and clean.get("email"):
        customer = clean.get("customer")
        taken = [
            i
            for i in lookup.by_email.get(clean["email"], [])
            if i in lookup.records and lookup.records[i].customer_id == customer
        ]
        if taken:
            row.action = RowAction.ERROR
            row.reasons = [_reason("email", _("This customer has a contact with this email."))]
            return row
    if ext and not contacts:
        created_externals[ext] = row.line
    row.action = RowAction.CREATE
    row.reasons = [_reason("", _("New record."))]
    return row


def _plan_update(row: ImportRow, record: Any, clean: dict[str, Any], lookup: _Lookup) -> ImportRow:
    changes: dict[str, dict[str, Any]] = {}
    for field, value in clean.items():
        if field == "custom":
            for key, new in value.items():
                old = record.custom.get(key)
                if old != new:
                    changes[f"custom.{key}"] = {"from": old, "to": new}
            continue
        if field == "parent_external_id":
            parent = lookup.customer_by_external.get(value)
            if parent is None or parent == record.parent_id:
                if parent is None:
                    changes[field] = {"from": record.parent_id, "to": value}
                continue
            if parent == record.pk:
                row.action = RowAction.ERROR
                row.reasons = [_reason(field, _("A customer cannot be its own group."))]
                return row
            changes[field] = {"from": record.parent_id, "to": value}
            continue
        old = _current(record, field)
        if field == "tags":
            if sorted(old or []) != value:
                changes[field] = {"from": old, "to": value}
            continue
        if old != value:
            changes[field] = {"from": old, "to": value}
    row.record_id = record.pk
    if "external_id" in changes:
        other = lookup.by_external.get(clean["external_id"])
        if other is not None and other != record.pk:
            row.action = RowAction.ERROR
            row.reasons = [_reason("external_id", _("Another record has this external id."))]
            return row
    if not changes:
        row.action = RowAction.SKIP
        row.reasons = [_reason("", _("Nothing changes."))]
        return row
    row.action = RowAction.UPDATE
    row.data["changes"] = changes
    row.reasons = [
        _reason(f, _("Changes from %(old)s to %(new)s.") % {"old": c["from"], "new": c["to"]})
        for f, c in changes.items()
    ]
    return row


# --- the commit -----------------------------------------------------------------------
def request_commit(actor: Any, job: ImportJob) -> ImportJob:
    from ..tasks import commit_import_job

    _check_importer(actor)
    if job.status != ImportStatus.PLANNED:
        raise Conflict(_("Run the dry run first; only a planned import can be committed."))
    with transaction.atomic():
        job.status = ImportStatus.COMMITTING
        job.done_rows = 0
        job.save(update_fields=["status", "done_rows", "updated_at"])
        job_id = job.pk
        transaction.on_commit(lambda: commit_import_job.delay(job_id))
    return job


def _rows_in_chunks(
    job: ImportJob, *, backwards: bool = False, **filters: Any
) -> Iterator[list[ImportRow]]:
    last = 0
    while True:
        rows = ImportRow.objects.filter(job=job, **filters)
        if backwards:
            rows = rows.filter(line__lt=last) if last else rows
            chunk = list(rows.order_by("-line")[:CHUNK])
        else:
            chunk = list(rows.filter(line__gt=last).order_by("line")[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].line


def _broken(row: ImportRow, message: str, field: str = "") -> None:
    row.action = RowAction.ERROR
    row.reasons = [*row.reasons, _reason(field, message)]


def commit_import(job: ImportJob) -> ImportJob:
    """Applies exactly the plan, chunk by chunk (each chunk one transaction; rows done are
    marked, so a rerun after a crash carries on). A row the data changed under since the
    dry run becomes an error; the rest goes on."""
    if job.status != ImportStatus.COMMITTING:
        return job
    actor = job.created_by
    done = ImportRow.objects.filter(job=job, done=True).count()
    try:
        for chunk in _rows_in_chunks(
            job, done=False, action__in=[RowAction.CREATE, RowAction.UPDATE]
        ):
            with transaction.atomic(), audit.batch():
                _commit_chunk(job, actor, chunk)
            done += len(chunk)
            ImportJob.objects.filter(pk=job.pk).update(done_rows=done, updated_at=timezone.now())
    except Exception as exc:
        _fail(job, exc)
        raise
    counts = dict.fromkeys(RowAction.values, 0)
    for action, n in _action_counts(job):
        counts[action] = n
    with transaction.atomic():
        job.refresh_from_db()
        job.status = ImportStatus.COMMITTED
        job.committed_at = timezone.now()
        job.counts = counts
        job.done_rows = job.total_rows
        job.save(update_fields=["status", "committed_at", "counts", "done_rows", "updated_at"])
        audit.record(
            kind="import",
            verb=ImportVerb.COMMITTED,
            actor=actor,
            object_id=job.pk,
            after={"counts": counts},
        )
    return job


def _action_counts(job: ImportJob) -> list[tuple[str, int]]:
    from django.db.models import Count

    return list(
        ImportRow.objects.filter(job=job)
        .values("action")
        .annotate(n=Count("id"))
        .values_list("action", "n")
    )


def _new_record(job: ImportJob, clean: dict[str, Any], parents: dict[str, int]) -> Any:
    if job.target == ImportTarget.CUSTOMERS:
        return Customer(
            name=clean.get("name", ""),
            kind=clean.get("kind", CustomerKind.COMPANY),
            tier=clean.get("tier", CustomerTier.STANDARD),
            region=clean.get("region", ""),
            industry=clean.get("industry", ""),
            tags=clean.get("tags", []),
            external_id=clean.get("external_id", ""),
            parent_id=parents.get(clean.get("parent_external_id", "")),
            custom=clean.get("custom", {}),
        )
    return Contact(
        customer_id=clean.get("customer"),
        name=clean.get("name", ""),
        email=clean.get("email", ""),
        phone=clean.get("phone", ""),
        title=clean.get("title", ""),
        language=clean.get("language", Language.ENGLISH),
        birthday=clean.get("birthday"),
        preferred_channel=clean.get("preferred_channel", ""),
        external_id=clean.get("external_id", ""),
        custom=clean.get("custom", {}),
    )


def _commit_chunk(job: ImportJob, actor: Any, chunk: list[ImportRow]) -> None:
    model = _field_model(job.target)
    contacts = job.target == ImportTarget.CONTACTS
    cleans = [r.data.get("clean", {}) for r in chunk]
    lookup = _Lookup(job.target, cleans)
    # Customers named by id at plan time: still there?
    customer_ids = {c["customer"] for c in cleans if isinstance(c.get("customer"), int)}
    live_customers = set(
        Customer.objects.filter(pk__in=customer_ids, merged_into__isnull=True).values_list(
            "pk", flat=True
        )
    )
    parent_refs = {c["parent_external_id"] for c in cleans if c.get("parent_external_id")}
    parents = dict(
        Customer.objects.filter(external_id__in=parent_refs).values_list("external_id", "pk")
    )
    updates = [r for r in chunk if r.action == RowAction.UPDATE]
    current = {
        r.pk: r
        for r in model.objects.select_for_update().filter(pk__in=[u.record_id for u in updates])
    }
    chunk_externals = {
        c["external_id"]
        for r, c in zip(chunk, cleans, strict=True)
        if r.action == RowAction.CREATE and c.get("external_id")
    }
    new: list[tuple[ImportRow, Any]] = []
    changed: list[tuple[ImportRow, Any]] = []
    touched: list[ImportRow] = []
    for row in chunk:
        clean = row.data.get("clean", {})
        if (
            contacts
            and isinstance(clean.get("customer"), int)
            and clean["customer"] not in live_customers
        ):
            _broken(row, _("The customer is gone since the dry run."), "customer")
            touched.append(row)
            continue
        if (
            clean.get("parent_external_id")
            and clean["parent_external_id"] not in parents
            and clean["parent_external_id"] not in chunk_externals
        ):
            _broken(row, _("The group customer is gone since the dry run."), "parent_external_id")
            touched.append(row)
            continue
        if row.action == RowAction.CREATE:
            ext = clean.get("external_id")
            if ext and ext in lookup.by_external:
                _broken(row, _("Another record took this external id since the dry run."))
                touched.append(row)
                continue
            if contacts and clean.get("email"):
                taken = [
                    i
                    for i in lookup.by_email.get(clean["email"], [])
                    if i in lookup.records
                    and lookup.records[i].customer_id == clean.get("customer")
                ]
                if taken:
                    _broken(row, _("Another contact took this email since the dry run."), "email")
                    touched.append(row)
                    continue
            new.append((row, _new_record(job, clean, parents)))
            continue
        record = current.get(row.record_id or 0)
        if record is None or record.merged_into_id is not None:
            _broken(row, _("The record is gone or merged since the dry run."))
            touched.append(row)
            continue
        changes = row.data.get("changes", {})
        before: dict[str, Any] = {}
        stale = False
        for field, change in changes.items():
            if field.startswith("custom."):
                old = record.custom.get(field[7:])
            elif field == "parent_external_id":
                old = record.parent_id
            else:
                old = _current(record, field)
                if field == "tags":
                    old = old or []
                    change_from = sorted(change["from"] or [])
                    if sorted(old) != change_from:
                        stale = True
                    before[field] = old
                    continue
            if old != change["from"]:
                stale = True
            before[field] = old
        if stale:
            _broken(row, _("The record changed since the dry run; run it again."))
            touched.append(row)
            continue
        for field, change in changes.items():
            if field.startswith("custom."):
                record.custom = {**record.custom, field[7:]: change["to"]}
            elif field == "parent_external_id":
                record.parent_id = parents[change["to"]]
            elif field == "customer":
                record.customer_id = change["to"]
            elif field == "birthday":
                record.birthday = date.fromisoformat(change["to"]) if change["to"] else None
            else:
                setattr(record, field, change["to"])
        row.before = before
        changed.append((row, record))
    if new:
        try:
            with transaction.atomic():
                model.objects.bulk_create([r for _row, r in new])
        except IntegrityError:
            # A unique key taken by a concurrent write: row by row, each in a savepoint.
            kept = []
            for row, record in new:
                try:
                    with transaction.atomic():
                        record.pk = None
                        record.save(force_insert=True)
                    kept.append((row, record))
                except IntegrityError:
                    _broken(row, _("Another record took a unique key since the dry run."))
                    touched.append(row)
            new = kept
    if new and not contacts:
        # Group customers created in this chunk: their subsidiaries point at them now.
        made = {r.external_id: r.pk for _row, r in new if r.external_id}
        late = []
        for row, record in new:
            ref = row.data.get("clean", {}).get("parent_external_id")
            if ref and record.parent_id is None and ref in made:
                record.parent_id = made[ref]
                late.append(record)
        if late:
            Customer.objects.bulk_update(late, ["parent_id"])
    if changed:
        now = timezone.now()
        groups: dict[tuple[str, ...], list[Any]] = defaultdict(list)
        for row, record in changed:
            record.updated_at = now
            names = {
                {"customer": "customer", "parent_external_id": "parent"}.get(
                    f.split(".")[0], f.split(".")[0]
                )
                for f in row.data.get("changes", {})
            }
            groups[tuple(sorted(names | {"updated_at"}))].append(record)
        for group, records in groups.items():
            attnames = [model._meta.get_field(n).attname for n in group]
            _bulk_set(
                model,
                list(group),
                [(r.pk, [getattr(r, a) for a in attnames]) for r in records],
            )
    kind = "customer" if not contacts else "contact"
    events: list[AuditEvent] = []
    for row, record in new:
        row.record_id = record.pk
        row.done = True
        touched.append(row)
        events.append(
            AuditEvent(
                subject_kind=kind,
                verb="created",
                actor=actor,
                customer_id=record.pk if not contacts else record.customer_id,
                contact_id=record.pk if contacts else None,
                after={**_plain(row.data.get("clean", {})), "import": job.pk},
            )
        )
    for row, record in changed:
        row.done = True
        touched.append(row)
        changes = row.data.get("changes", {})
        events.append(
            AuditEvent(
                subject_kind=kind,
                verb="changed",
                actor=actor,
                customer_id=record.pk if not contacts else record.customer_id,
                contact_id=record.pk if contacts else None,
                before={f: c["from"] for f, c in changes.items()},
                after={**{f: c["to"] for f, c in changes.items()}, "import": job.pk},
            )
        )
    _copy(AuditEvent, events)
    _save_rows(touched)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


# --- the revert -----------------------------------------------------------------------
def request_revert(actor: Any, job: ImportJob) -> ImportJob:
    from ..tasks import revert_import_job

    _check_importer(actor)
    if job.status != ImportStatus.COMMITTED:
        raise Conflict(_("Only an import that was committed can be reverted."))
    with transaction.atomic():
        job.status = ImportStatus.REVERTING
        job.done_rows = 0
        job.save(update_fields=["status", "done_rows", "updated_at"])
        job_id, actor_id = job.pk, actor.pk
        transaction.on_commit(lambda: revert_import_job.delay(job_id, actor_id))
    return job


def _referenced(model: Any, ids: set[int]) -> set[int]:
    """The ids of ``ids`` something other than the audit trail and the record's own parts
    points at (work, merges, other records), counting a record that is kept as a reference
    (a kept subsidiary keeps its group)."""
    busy: set[int] = set()
    while True:
        deleting = ids - busy
        found: set[int] = set()
        for rel in model._meta.related_objects:
            related = rel.related_model
            if related._meta.app_label == "audit" or rel.many_to_many:
                continue
            if related is ContactPoint or rel.on_delete.__name__ == "SET_NULL":
                continue
            field = rel.field.name
            rows = related._default_manager.filter(**{f"{field}__in": deleting})
            if related is model:
                rows = rows.exclude(pk__in=deleting)
            found.update(rows.values_list(f"{field}_id", flat=True).distinct())
        if found <= busy:
            return busy
        busy |= found


def revert_import(actor: Any, job: ImportJob) -> dict[str, Any]:
    """Deletes the records the import created (those something refers to since are kept
    and reported), puts back the fields it changed; audited."""
    _check_importer(actor)
    if job.status == ImportStatus.COMMITTED:
        job.status = ImportStatus.REVERTING
    if job.status != ImportStatus.REVERTING:
        raise Conflict(_("Only an import that was committed can be reverted."))
    model = _field_model(job.target)
    contacts = job.target == ImportTarget.CONTACTS
    kind = "contact" if contacts else "customer"
    kept: list[int] = []
    deleted = restored = 0
    done = 0
    # Backwards: subsidiaries (later lines) go before their group customers.
    for chunk in _rows_in_chunks(job, backwards=True, done=True):
        with transaction.atomic(), audit.batch():
            created = {r.record_id: r for r in chunk if r.action == RowAction.CREATE}
            ids = {pk for pk in created if pk is not None}
            busy = _referenced(model, ids)
            gone = ids - busy
            kept.extend(sorted(busy))
            events: list[AuditEvent] = []
            if gone:
                if not contacts:  # a group deleted with its subsidiaries: unlink them first
                    Customer.objects.filter(pk__in=gone, parent_id__in=gone).update(parent=None)
                model.objects.filter(pk__in=gone).delete()
                deleted += len(gone)
            updates = [r for r in chunk if r.action == RowAction.UPDATE]
            records = {
                r.pk: r
                for r in model.objects.select_for_update().filter(
                    pk__in=[u.record_id for u in updates]
                )
            }
            for row in updates:
                record = records.get(row.record_id or 0)
                if record is None:
                    continue
                for field, old in row.before.items():
                    if field.startswith("custom."):
                        custom = dict(record.custom)
                        if old is None:
                            custom.pop(field[7:], None)
                        else:
                            custom[field[7:]] = old
                        record.custom = custom
                    elif field == "parent_external_id":
                        record.parent_id = old
                    elif field == "customer":
                        record.customer_id = old
                    elif field == "birthday":
                        record.birthday = date.fromisoformat(old) if old else None
                    else:
                        setattr(record, field, old)
                record.save()
                restored += 1
                events.append(
                    AuditEvent(
                        subject_kind=kind,
                        verb="changed",
                        actor=actor,
                        customer_id=record.pk if not contacts else record.customer_id,
                        contact_id=record.pk if contacts else None,
                        before={},
                        after={**row.before, "import_reverted": job.pk},
                    )
                )
            AuditEvent.objects.bulk_create(events)
            for row in chunk:
                if row.action == RowAction.UPDATE or row.record_id in gone:
                    row.done = False
            ImportRow.objects.bulk_update(chunk, ["done", "updated_at"])
        done += len(chunk)
        ImportJob.objects.filter(pk=job.pk).update(done_rows=done, updated_at=timezone.now())
    result = {
        "deleted": deleted,
        "restored": restored,
        "kept": kept[:1000],
        "kept_count": len(kept),
    }
    with transaction.atomic():
        job.refresh_from_db()
        job.status = ImportStatus.REVERTED
        job.reverted_at = timezone.now()
        job.error = (
            _("%(count)s created records are kept: work refers to them.") % {"count": len(kept)}
            if kept
            else ""
        )
        job.save(update_fields=["status", "reverted_at", "error", "updated_at"])
        audit.record(
            kind="import", verb=ImportVerb.REVERTED, actor=actor, object_id=job.pk, after=result
        )
    return result


# --- reads ----------------------------------------------------------------------------
def get_job(actor: Any, pk: int) -> ImportJob:
    _check_importer(actor)
    try:
        return ImportJob.objects.get(pk=pk)
    except ImportJob.DoesNotExist as exc:
        raise NotFound(_("No such import.")) from exc


def error_rows(job: ImportJob) -> Iterator[list[Any]]:
    """The rows in error as the errors file lists them: line, values, reasons."""
    columns = [h for h in job.headers if job.mapping.get(h)]
    for chunk in _rows_in_chunks(job, action=RowAction.ERROR):
        for row in chunk:
            values = row.data.get("values", {})
            reasons = "; ".join(
                f"{r['field']}: {r['message']}" if r.get("field") else r["message"]
                for r in row.reasons
            )
            yield [row.line, *(values.get(job.mapping[c], "") for c in columns), reasons]


def error_headers(job: ImportJob) -> list[str]:
    return [_("line"), *(h for h in job.headers if job.mapping.get(h)), _("reasons")]
