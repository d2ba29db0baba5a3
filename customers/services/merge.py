"""Merging two contacts or two customers, and undoing a merge (docs/customers-merge.md).

Every reference to the merged record is found from Django's model metadata (the reverse
relations of ``Contact`` / ``Customer`` across all apps, hidden ones included), and moved by
one ``UPDATE … RETURNING`` per relation; the moved primary keys, the rows dropped because of
a unique constraint, and both records' fields before are written to a ``MergeLog`` so that
``undo_merge`` puts back exactly what the merge changed. Everything runs in one transaction
with both records locked."""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass
from typing import Any, Literal

from django.db import IntegrityError, connection, models, transaction
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound

from .. import permissions
from ..choices import ContactVerb, CustomerVerb, FieldTarget
from ..models import Consent, Contact, Customer, MergeLog

Choice = Literal["kept", "merged"]

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
    "custom",
)
CUSTOMER_FIELDS = (
    "kind",
    "name",
    "tier",
    "region",
    "industry",
    "tags",
    "owner",
    "parent",
    "external_id",
    "custom",
)
# Fields a unique constraint holds: the merged record gives its value up when the kept one
# takes it (restored by an undo).
UNIQUE_FIELDS = {Contact: ("email", "external_id"), Customer: ("external_id",)}
# A merge keeps the newer of two rows that collide on a unique constraint for these models
# (ordered by this field); for every other model it drops the merged record's row.
KEEP_NEWER: dict[type[models.Model], str] = {Consent: "at"}
DELETED = "deleted"


@dataclass(frozen=True)
class Relation:
    model: type[models.Model]
    field: models.ForeignKey[Any, Any]

    @property
    def key(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"


def relations(model: type[models.Model]) -> list[Relation]:
    """Every foreign key to ``model`` in every installed app (hidden ``related_name="+"``
    ones included), but the ``merged_into`` history itself."""
    found: list[Relation] = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel) or rel.many_to_many:
            continue
        field = rel.field
        if field.model is model and field.name == "merged_into":
            continue
        if not isinstance(field, models.ForeignKey) or field.model._meta.proxy:
            continue
        found.append(Relation(field.model, field))
    return sorted(found, key=lambda r: r.key)


def _field_names(target: type[models.Model]) -> tuple[str, ...]:
    return CONTACT_FIELDS if target is Contact else CUSTOMER_FIELDS


def _json(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _values(obj: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        field = obj._meta.get_field(name)
        out[name] = _json(getattr(obj, field.attname))  # type: ignore[union-attr]
    return out


def _row(obj: models.Model) -> dict[str, Any]:
    return {f.attname: _json(f.value_from_object(obj)) for f in obj._meta.concrete_fields}


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _from_json(model: type[models.Model], name: str, value: Any) -> Any:
    field = model._meta.get_field(name)
    if value is None:
        return None
    if isinstance(field, models.DateTimeField):
        return datetime.datetime.fromisoformat(value)
    if isinstance(field, models.DateField):
        return datetime.date.fromisoformat(value)
    if isinstance(field, models.DecimalField):
        return decimal.Decimal(value)
    return value


def _check_choose(model: type[models.Model], choose: dict[str, str]) -> None:
    if not isinstance(choose, dict):
        raise InvalidInput(_("Invalid choice."), {"choose": [_("Expected an object.")]})
    allowed = set(_field_names(model))
    errors: dict[str, list[str]] = {}
    for name, side in choose.items():
        if name not in allowed:
            errors.setdefault("choose", []).append(_("Unknown field: %(field)s.") % {"field": name})
        elif side not in ("kept", "merged"):
            errors.setdefault("choose", []).append(
                _("Choose “kept” or “merged” for %(field)s.") % {"field": name}
            )
    if errors:
        raise InvalidInput(_("Invalid choice."), errors)


def _lock(model: type[Any], kept_id: int, merged_id: int) -> tuple[Any, Any]:
    if kept_id == merged_id:
        raise InvalidInput(
            _("A record cannot be merged into itself."), {"other": [_("Choose another record.")]}
        )
    rows = {
        row.pk: row
        for row in model.objects.select_for_update()
        .filter(pk__in=[kept_id, merged_id])
        .order_by("pk")
    }
    if kept_id not in rows or merged_id not in rows:
        raise NotFound(_("Not found."))
    return rows[kept_id], rows[merged_id]


def _conflict_keys(rel: Relation) -> list[tuple[str, ...]]:
    """The other fields of each unique constraint that includes the relation's field."""
    meta = rel.model._meta
    keys: list[tuple[str, ...]] = []
    groups: list[tuple[str, ...]] = [tuple(g) for g in meta.unique_together]
    for constraint in meta.constraints:
        fields = getattr(constraint, "fields", ())
        if fields and getattr(constraint, "condition", None) is None:
            groups.append(tuple(fields))
    for group in groups:
        if rel.field.name in group:
            keys.append(tuple(name for name in group if name != rel.field.name))
    return keys


def _attname(model: type[models.Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "attname", name))


def _resolve_conflicts(
    rel: Relation, kept_id: int, merged_id: int, deleted: list[dict[str, Any]]
) -> None:
    """Rows of both records that would collide once moved: the newer kept for KEEP_NEWER
    models, else the merged record's row dropped; every deleted row kept in ``deleted``."""
    manager = rel.model._default_manager
    attname = rel.field.attname
    for others in _conflict_keys(rel):
        if not others:
            continue
        columns = [_attname(rel.model, n) for n in others]
        kept_rows = {
            tuple(getattr(r, c) for c in columns): r for r in manager.filter(**{attname: kept_id})
        }
        for row in manager.filter(**{attname: merged_id}).order_by("pk"):
            key = tuple(getattr(row, c) for c in columns)
            twin = kept_rows.get(key)
            if twin is None:
                continue
            loser = row
            newer = KEEP_NEWER.get(rel.model)
            if newer is not None and getattr(row, newer) > getattr(twin, newer):
                loser = twin
            deleted.append({"model": rel.model._meta.label, "row": _row(loser)})
            loser.delete()
            if loser is twin:
                kept_rows.pop(key)


def _move(rel: Relation, kept_id: int, merged_id: int) -> list[int]:
    table = connection.ops.quote_name(rel.model._meta.db_table)
    column = connection.ops.quote_name(rel.field.column)
    pk = connection.ops.quote_name(str(rel.model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {column} = %s RETURNING {pk}",  # noqa: S608
            [kept_id, merged_id],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _apply_fields(
    kept: Any, merged: Any, choose: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fills the kept record's blank fields from the merged one and applies ``choose``;
    the merged record gives up unique values the kept one takes. Returns both records'
    fields before."""
    model = type(kept)
    names = _field_names(model)
    kept_before = _values(kept, names)
    merged_before = _values(merged, names)
    for name in names:
        attname = model._meta.get_field(name).attname
        mine, theirs = getattr(kept, attname), getattr(merged, attname)
        side = choose.get(name)
        if name == "custom" and side is None:
            setattr(kept, attname, {**(theirs or {}), **(mine or {})})
        elif side == "merged" or (side is None and _blank(mine) and not _blank(theirs)):
            setattr(kept, attname, theirs)
    if model is Customer and kept.parent_id == kept.pk:
        kept.parent_id = kept_before["parent"]
    for name in UNIQUE_FIELDS[model]:
        value = getattr(kept, name)
        if value and str(value).lower() == str(getattr(merged, name)).lower():
            setattr(merged, name, "")
    merged.merged_into_id = kept.pk
    merged.save()
    kept.save()
    return kept_before, merged_before


def _is_ancestor(candidate: Customer, of: Customer) -> bool:
    seen: set[int] = set()
    parent_id = of.parent_id
    while parent_id is not None and parent_id not in seen:
        if parent_id == candidate.pk:
            return True
        seen.add(parent_id)
        parent_id = (
            Customer.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
        )
    return False


def _contact_clashes(kept: Customer, merged: Customer) -> list[tuple[Contact, Contact]]:
    """Contacts of both customers with the same address: the unique (customer, email)
    constraint forbids moving them; merge those contacts first."""
    mine = {
        c.email.lower(): c
        for c in Contact.objects.filter(customer=kept).exclude(email="").order_by("pk")
    }
    return [
        (mine[c.email.lower()], c)
        for c in Contact.objects.filter(customer=merged).exclude(email="").order_by("pk")
        if c.email.lower() in mine
    ]


def _merge(
    actor: Any, model: type[Any], kept_id: int, merged_id: int, choose: dict[str, str]
) -> MergeLog:
    if not permissions.can_merge(actor):
        raise Forbidden(_("You may not merge records."))
    _check_choose(model, choose)
    with transaction.atomic():
        kept, merged = _lock(model, kept_id, merged_id)
        if kept.merged_into_id is not None or merged.merged_into_id is not None:
            raise Conflict(_("One of these records has already been merged."))
        if model is Customer:
            if _is_ancestor(kept, merged) or _is_ancestor(merged, kept):
                raise Conflict(_("One of these customers is a group customer of the other."))
            clashes = _contact_clashes(kept, merged)
            if clashes:
                names = ", ".join(f"{a.email} (#{a.pk} / #{b.pk})" for a, b in clashes)
                raise Conflict(
                    _(
                        "Both customers have contacts with the same email; "
                        "merge these contacts first: %(names)s."
                    )
                    % {"names": names},
                    {"contacts": [f"{a.pk},{b.pk}" for a, b in clashes]},
                )
        moved: dict[str, list[int]] = {}
        deleted: list[dict[str, Any]] = []
        try:
            with transaction.atomic():
                for rel in relations(model):
                    _resolve_conflicts(rel, kept.pk, merged.pk, deleted)
                    pks = _move(rel, kept.pk, merged.pk)
                    if pks:
                        moved[rel.key] = pks
                kept.refresh_from_db()
                kept_before, merged_before = _apply_fields(kept, merged, choose)
        except IntegrityError as exc:
            raise Conflict(
                _("These records cannot be merged: %(reason)s")
                % {"reason": str(exc).split("\n")[0]}
            ) from exc
        target = FieldTarget.CONTACT if model is Contact else FieldTarget.CUSTOMER
        log = MergeLog.objects.create(
            target=target,
            kept_id=kept.pk,
            merged_id=merged.pk,
            moved=moved,
            before={"kept": kept_before, "merged": merged_before, DELETED: deleted},
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _audit(
            actor,
            log,
            kept,
            merged,
            ContactVerb.MERGED if model is Contact else CustomerVerb.MERGED,
        )
    return log


def _audit(actor: Any, log: MergeLog, kept: Any, merged: Any, verb: str) -> None:
    after = {"merge": log.pk, "kept": kept.pk, "merged": merged.pk}
    for record_ in (kept, merged):
        if isinstance(record_, Contact):
            record(
                kind="contact",
                verb=verb,
                actor=actor,
                contact_id=record_.pk,
                customer_id=record_.customer_id,
                after=after,
            )
        else:
            record(kind="customer", verb=verb, actor=actor, customer_id=record_.pk, after=after)


def merge_contacts(
    actor: Any, kept: Contact | int, merged: Contact | int, choose: dict[str, str]
) -> MergeLog:
    """Moves every reference of ``merged`` to ``kept``; ``choose`` says, per differing
    field, which record's value the kept one ends with (blank fields are filled anyway)."""
    return _merge(actor, Contact, _pk(kept), _pk(merged), choose)


def merge_customers(
    actor: Any, kept: Customer | int, merged: Customer | int, choose: dict[str, str]
) -> MergeLog:
    return _merge(actor, Customer, _pk(kept), _pk(merged), choose)


def _pk(obj: models.Model | int) -> int:
    return obj if isinstance(obj, int) else int(obj.pk)


def _later_in_force(log: MergeLog) -> bool:
    ids = [log.kept_id, log.merged_id]
    later = MergeLog.objects.filter(pk__gt=log.pk, undone_at__isnull=True)
    if (
        later.filter(target=log.target)
        .filter(models.Q(kept_id__in=ids) | models.Q(merged_id__in=ids))
        .exists()
    ):
        return True
    if log.target == FieldTarget.CUSTOMER:
        contacts = log.moved.get("customers.Contact.customer", [])
        if (
            contacts
            and later.filter(target=FieldTarget.CONTACT)
            .filter(models.Q(kept_id__in=contacts) | models.Q(merged_id__in=contacts))
            .exists()
        ):
            return True
    return False


def undo_merge(actor: Any, log: MergeLog | int) -> MergeLog:
    """Moves exactly the logged references back, restores the rows a conflict dropped and
    both records' fields, and clears ``merged_into``."""
    if not permissions.can_merge(actor):
        raise Forbidden(_("You may not undo merges."))
    with transaction.atomic():
        found = MergeLog.objects.select_for_update().filter(pk=_pk(log)).first()
        if found is None:
            raise NotFound(_("Not found."))
        log = found
        if log.undone_at is not None:
            raise Conflict(_("This merge has already been undone."))
        if _later_in_force(log):
            raise Conflict(
                _("A later merge involving one of these records is still in force; undo it first.")
            )
        model: type[Any] = Contact if log.target == FieldTarget.CONTACT else Customer
        kept, merged = _lock(model, log.kept_id, log.merged_id)
        try:
            with transaction.atomic():
                by_key = {rel.key: rel for rel in relations(model)}
                for key, pks in log.moved.items():
                    rel = by_key.get(key)
                    if rel is None:
                        continue
                    rel.model._default_manager.filter(
                        pk__in=pks, **{rel.field.attname: kept.pk}
                    ).update(**{rel.field.attname: merged.pk})
                for name, value in log.before.get("kept", {}).items():
                    attname = model._meta.get_field(name).attname
                    setattr(kept, attname, _from_json(model, name, value))
                kept.save()
                for name, value in log.before.get("merged", {}).items():
                    attname = model._meta.get_field(name).attname
                    setattr(merged, attname, _from_json(model, name, value))
                merged.merged_into_id = None
                merged.save()
                for item in log.before.get(DELETED, []):
                    _restore(_model(item["model"]), item["row"])
        except IntegrityError as exc:
            raise Conflict(
                _("This merge cannot be undone: %(reason)s") % {"reason": str(exc).split("\n")[0]}
            ) from exc
        log.undone_at = timezone.now()
        log.undone_by = actor if getattr(actor, "is_authenticated", False) else None
        log.save(update_fields=["undone_at", "undone_by", "updated_at"])
        _audit(
            actor,
            log,
            kept,
            merged,
            ContactVerb.UNMERGED if model is Contact else CustomerVerb.UNMERGED,
        )
    return log


def _restore(model: type[models.Model], row: dict[str, Any]) -> None:
    """Puts a row a merge deleted back, with its id and its own timestamps."""
    values = {
        f.attname: _from_json(model, f.name, row.get(f.attname))
        for f in model._meta.concrete_fields
    }
    model(**values).save(force_insert=True)
    stamps = {
        f.attname: values[f.attname]
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    if stamps:
        pk = values[str(getattr(model._meta.pk, "attname", "id"))]
        model._default_manager.filter(pk=pk).update(**stamps)


def _model(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)
