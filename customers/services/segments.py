"""Writes of segments: saved filters and static lists, their members, and the snapshot a
campaign freezes at launch (docs/customers-segments.md). Every write checks
``can_manage_segments`` and is an audit row of kind ``segment``."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from core.errors import Forbidden, InvalidInput, NotFound

from .. import permissions
from ..choices import SegmentKind, SegmentVerb
from ..models import Segment, SegmentMember, SegmentSnapshot, SnapshotMember
from ..selectors import contacts_visible_to
from ..selectors.segments import compile_definition, live_contacts, segment_contacts

NAME_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 2000
MAX_MEMBERS_PER_CALL = 1000


def _check(actor: Any) -> None:
    if not permissions.can_manage_segments(actor):
        raise Forbidden(_("You may not manage segments."))


def _state(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "definition": segment.definition,
    }


def _clean(values: dict[str, Any], current: Segment | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "name" in values or current is None:
        name = values.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = [_("This field is required.")]
        elif len(name.strip()) > NAME_MAX_LENGTH:
            errors["name"] = [_("At most %(limit)s characters.") % {"limit": NAME_MAX_LENGTH}]
        else:
            cleaned["name"] = name.strip()
    if "description" in values:
        description = values.get("description") or ""
        if not isinstance(description, str) or len(description) > DESCRIPTION_MAX_LENGTH:
            errors["description"] = [
                _("At most %(limit)s characters.") % {"limit": DESCRIPTION_MAX_LENGTH}
            ]
        else:
            cleaned["description"] = description.strip()
    if "kind" in values:
        if current is not None and values["kind"] != current.kind:
            errors["kind"] = [_("A segment's kind cannot change.")]
        elif values["kind"] not in SegmentKind.values:
            errors["kind"] = [
                _("Use one of: %(values)s.") % {"values": ", ".join(SegmentKind.values)}
            ]
        else:
            cleaned["kind"] = values["kind"]
    if "definition" in values:
        definition = values.get("definition") or {}
        try:
            compile_definition(definition)
        except InvalidInput as exc:
            errors.update(exc.errors)
        else:
            cleaned["definition"] = definition
    if errors:
        raise InvalidInput(_("The segment is not valid."), errors)
    return cleaned


def create_segment(actor: Any, values: dict[str, Any]) -> Segment:
    """A saved filter (``definition``) or a static list (``kind`` "static")."""
    _check(actor)
    cleaned = _clean(values, None)
    segment = Segment(owner=actor if actor.is_authenticated else None, **cleaned)
    if segment.kind == SegmentKind.STATIC:
        segment.definition = {}
    with transaction.atomic():
        segment.save()
        audit.record(
            kind="segment",
            verb=SegmentVerb.CREATED,
            actor=actor,
            object_id=segment.pk,
            after=_state(segment),
        )
    return segment


def update_segment(actor: Any, segment: Segment, values: dict[str, Any]) -> Segment:
    _check(actor)
    cleaned = _clean(values, segment)
    with transaction.atomic():
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
        before = _state(segment)
        for name, value in cleaned.items():
            setattr(segment, name, value)
        if segment.kind == SegmentKind.STATIC:
            segment.definition = {}
        after = _state(segment)
        if after != before:
            segment.save()
            changed = [k for k in after if after[k] != before[k]]
            audit.record(
                kind="segment",
                verb=SegmentVerb.CHANGED,
                actor=actor,
                object_id=segment.pk,
                before={k: before[k] for k in changed},
                after={k: after[k] for k in changed},
            )
    return segment


def delete_segment(actor: Any, segment: Segment) -> None:
    """Deletes a segment no campaign froze (a snapshot keeps its segment)."""
    _check(actor)
    from core.errors import Conflict

    with transaction.atomic():
        locked = Segment.objects.select_for_update().filter(pk=segment.pk).first()
        if locked is None:
            raise NotFound(_("No such segment."))
        if SegmentSnapshot.objects.filter(segment=locked).exists():
            raise Conflict(_("A frozen segment cannot be deleted: campaigns use its snapshots."))
        audit.record(
            kind="segment",
            verb=SegmentVerb.DELETED,
            actor=actor,
            object_id=locked.pk,
            before=_state(locked),
        )
        locked.delete()


def _member_ids(actor: Any, ids: Any, key: str) -> list[int]:
    if not isinstance(ids, list) or len(ids) > MAX_MEMBERS_PER_CALL:
        raise InvalidInput(
            _("Give a list of contact ids."),
            {key: [_("Give at most %(n)s contact ids.") % {"n": MAX_MEMBERS_PER_CALL}]},
        )
    if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
        raise InvalidInput(_("Give a list of contact ids."), {key: [_("Give contact ids.")]})
    wanted = sorted(set(ids))
    found = set(
        live_contacts()
        .filter(pk__in=wanted)
        .filter(pk__in=contacts_visible_to(actor).values("pk"))
        .values_list("pk", flat=True)
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(
            _("Some contacts do not exist."),
            {key: [_("No such contacts: %(ids)s.") % {"ids": ", ".join(map(str, missing[:20]))}]},
        )
    return wanted


def change_members(
    actor: Any, segment: Segment, *, add: list[int] | None = None, remove: list[int] | None = None
) -> dict[str, int]:
    """Adds and removes contacts of a static list; returns how many were added and removed."""
    _check(actor)
    if segment.kind != SegmentKind.STATIC:
        raise InvalidInput(
            _("Only a static list has members."),
            {"kind": [_("Only a static list has members.")]},
        )
    to_add = _member_ids(actor, add or [], "add")
    _member_ids_shape(remove or [])
    to_remove = sorted(set(remove or []))
    with transaction.atomic():
        Segment.objects.select_for_update().filter(pk=segment.pk).first()
        existing = set(
            SegmentMember.objects.filter(segment=segment, contact_id__in=to_add).values_list(
                "contact_id", flat=True
            )
        )
        new = [i for i in to_add if i not in existing]
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment=segment, contact_id=i) for i in new], ignore_conflicts=True
        )
        removed_ids = sorted(
            SegmentMember.objects.filter(segment=segment, contact_id__in=to_remove).values_list(
                "contact_id", flat=True
            )
        )
        SegmentMember.objects.filter(segment=segment, contact_id__in=removed_ids).delete()
        if new:
            audit.record(
                kind="segment",
                verb=SegmentVerb.MEMBERS_ADDED,
                actor=actor,
                object_id=segment.pk,
                after={"contacts": new},
            )
        if removed_ids:
            audit.record(
                kind="segment",
                verb=SegmentVerb.MEMBERS_REMOVED,
                actor=actor,
                object_id=segment.pk,
                before={"contacts": removed_ids},
            )
    return {"added": len(new), "removed": len(removed_ids)}


def _member_ids_shape(ids: Any) -> None:
    if not isinstance(ids, list) or len(ids) > MAX_MEMBERS_PER_CALL:
        raise InvalidInput(
            _("Give a list of contact ids."),
            {"remove": [_("Give at most %(n)s contact ids.") % {"n": MAX_MEMBERS_PER_CALL}]},
        )
    if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
        raise InvalidInput(_("Give a list of contact ids."), {"remove": [_("Give contact ids.")]})


def freeze_segment(actor: Any, segment: Segment) -> SegmentSnapshot:
    """The segment's contacts now, copied into a snapshot in one ``INSERT … SELECT`` (the
    database copies them: no id travels through Python), its size stored, audited
    ``segment.frozen``. Later changes of the data or the definition leave it as it is."""
    _check(actor)
    with transaction.atomic():
        locked = Segment.objects.select_for_update().filter(pk=segment.pk).first()
        if locked is None:
            raise NotFound(_("No such segment."))
        contacts = segment_contacts(locked, actor)
        snapshot = SegmentSnapshot.objects.create(
            segment=locked,
            definition=locked.definition,
            taken_by=actor if actor.is_authenticated else None,
        )
        now = timezone.now()
        select_sql, params = (
            contacts.order_by().values("pk").query.get_compiler(using="default").as_sql()
        )
        table = SnapshotMember._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (snapshot_id, contact_id, created_at, updated_at) "  # noqa: S608
                f"SELECT %s, chosen.*, %s, %s FROM ({select_sql}) AS chosen",
                [snapshot.pk, now, now, *params],
            )
            size = max(cursor.rowcount, 0)
        snapshot.size = size
        snapshot.save(update_fields=["size", "updated_at"])
        audit.record(
            kind="segment",
            verb=SegmentVerb.FROZEN,
            actor=actor,
            object_id=locked.pk,
            after={"snapshot": snapshot.pk, "size": size},
        )
    return snapshot
