"""``manage.py load_demo_customers``: the customers-360 part of the demo (``_demo_customers``).

``load_demo`` runs it last, so the customers of the demo's tickets and complaints gain
industries, owners, custom fields, contracts, consent and the rest, and their 360 pages
show real work next to it. The rows are written directly (bulk, in one transaction) with
the audit rows the services would have written, dated as the story goes, so a timeline
reads believably. A second run finds the ``marketing`` user and changes nothing.

The passwords equal the user names: demo only, never on a reachable server.
"""

# ruff: noqa: RUF001

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEvent
from org.roles import ROLES

from ...choices import (
    ContactVerb,
    CustomerKind,
    CustomerVerb,
    ExportStatus,
    ExportVerb,
    FieldTarget,
    ImportStatus,
    ImportTarget,
    ImportVerb,
    PointKind,
    PrivacyKind,
    PrivacyStatus,
    PrivacyVerb,
    RowAction,
    SegmentKind,
    SegmentVerb,
)
from ...models import (
    Consent,
    Contact,
    ContactPoint,
    Contract,
    Customer,
    CustomField,
    ExportJob,
    ImportJob,
    ImportRow,
    LegalHold,
    MergeLog,
    PrivacyRequest,
    Segment,
    SegmentMember,
    SegmentSnapshot,
    SnapshotMember,
    Suppression,
)
from ...phones import InvalidPhone, normalise_phone
from ...services import privacy as privacy_service
from . import _demo_customers as data

DAY = timedelta(days=1)


def _e164(text: str) -> str:
    """The number in E.164; text that is no valid number is kept as it was written."""
    try:
        return normalise_phone(text)
    except InvalidPhone:
        return text


class Loader:
    """Writes the demo's customers-360 data; ``audit`` collects the audit rows with the
    moment each happened, dated once they are written."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.dated: list[tuple[AuditEvent, datetime]] = []
        self.users: dict[str, Any] = {}

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def audit(self, at: datetime, **fields: Any) -> None:
        self.dated.append((audit.record(**fields), at))

    # --- people -------------------------------------------------------------------------
    def people(self) -> None:
        user_model = get_user_model()
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
        for username, (role, first, last) in data.PEOPLE.items():
            user = user_model(
                username=username,
                email=f"{username}@kefu.localhost",
                first_name=first,
                last_name=last,
            )
            user.set_password(username)  # demo only; validators bypassed on purpose
            user.save()
            user.groups.add(groups[role])
        wanted = {"admin", "supervisor", "agent1", "agent2", "manager", *data.PEOPLE}
        self.users = {u.username: u for u in user_model.objects.filter(username__in=wanted)}

    def user(self, username: str) -> Any:
        return self.users.get(username) if username else None

    # --- custom fields and customers ----------------------------------------------------
    def fields(self) -> None:
        for target, key, label, label_zh, kind, choices, position in data.CUSTOM_FIELDS:
            CustomField.objects.get_or_create(
                target=target,
                key=key,
                defaults={
                    "label": label,
                    "label_zh": label_zh,
                    "type": kind,
                    "choices": choices,
                    "position": position,
                },
            )

    def customers(self) -> dict[str, Customer]:
        by_name = {c.name: c for c in Customer.objects.filter(merged_into=None)}
        changed = []
        for name, (industry, owner, tags, number, limit, kind) in data.ENRICH.items():
            customer = by_name.get(name)
            if customer is None:
                continue
            before = {"industry": customer.industry, "owner": customer.owner_id}
            customer.industry = industry
            customer.owner = self.user(owner)
            customer.tags = [*customer.tags, *(t for t in tags if t not in customer.tags)]
            customer.custom = {
                **customer.custom,
                "account_number": number,
                "credit_limit": limit,
                "contract_type": kind,
            }
            changed.append(customer)
            self.audit(
                self.ago(45),
                kind="customer",
                verb=CustomerVerb.CHANGED,
                actor=self.user("supervisor"),
                customer_id=customer.pk,
                before=before,
                after={
                    "industry": industry,
                    "owner": customer.owner_id,
                    "custom": customer.custom,
                },
            )
        Customer.objects.bulk_update(changed, ["industry", "owner", "tags", "custom"])

        group = self._new_customer(data.GROUP, parent=None, days=120)
        by_name[group.name] = group
        for row in data.SUBSIDIARIES:
            by_name[row[1]] = self._new_customer(row, parent=group, days=110)
        for row in data.OTHERS:
            by_name[row[1]] = self._new_customer(row, parent=None, days=40)
        return by_name

    def _new_customer(self, row: data.Row, *, parent: Customer | None, days: int) -> Customer:
        kind, name, tier, region, industry, owner, tags, number, limit, contract = row
        customer = Customer.objects.create(
            kind=kind,
            name=name,
            tier=tier,
            region=region,
            industry=industry,
            owner=self.user(owner),
            parent=parent,
            tags=tags,
            external_id=number,
            custom={"account_number": number, "credit_limit": limit, "contract_type": contract},
        )
        self.audit(
            self.ago(days),
            kind="customer",
            verb=CustomerVerb.CREATED,
            actor=self.user("admin"),
            customer_id=customer.pk,
            after={
                "name": name,
                "tier": tier,
                "region": region,
                "parent": parent.pk if parent else None,
            },
        )
        return customer

    # --- contacts -----------------------------------------------------------------------
    def contacts(self, customers: dict[str, Customer]) -> dict[str, Contact]:
        created = Contact.objects.bulk_create(
            [
                Contact(
                    customer=customers[owner],
                    name=name,
                    email=email,
                    phone=_e164(phone),
                    language=language,
                    title=title,
                    birthday=date.fromisoformat(birthday) if birthday else None,
                    preferred_channel=channel,
                    custom={"wechat_id": wechat} if wechat else {},
                )
                for owner, name, email, phone, language, title, birthday, channel, wechat in (
                    data.NEW_CONTACTS
                )
            ]
        )
        for contact in created:
            self.audit(
                self.ago(100 if contact.customer and contact.customer.parent_id else 35),
                kind="contact",
                verb=ContactVerb.CREATED,
                actor=self.user("agent1"),
                customer_id=contact.customer_id,
                contact_id=contact.pk,
                after={"name": contact.name, "email": contact.email, "phone": contact.phone},
            )
        # The demo's earlier contacts: numbers in E.164, details filled in.
        changed = []
        for contact in Contact.objects.filter(merged_into=None, erased_at=None).exclude(
            pk__in=[c.pk for c in created]
        ):
            before = {"phone": contact.phone}
            contact.phone = _e164(contact.phone)
            details = data.CONTACT_DETAILS.get(contact.email)
            if details is None and contact.phone == before["phone"]:
                continue
            if details is not None:
                title, birthday, channel, wechat = details
                contact.title = title
                contact.birthday = date.fromisoformat(birthday)
                contact.preferred_channel = channel
                if wechat:
                    contact.custom = {**contact.custom, "wechat_id": wechat}
            changed.append(contact)
            self.audit(
                self.ago(30),
                kind="contact",
                verb=ContactVerb.CHANGED,
                actor=self.user("agent2"),
                customer_id=contact.customer_id,
                contact_id=contact.pk,
                before=before,
                after={
                    "phone": contact.phone,
                    "title": contact.title,
                    "birthday": contact.birthday.isoformat() if contact.birthday else None,
                    "preferred_channel": contact.preferred_channel,
                },
            )
        Contact.objects.bulk_update(
            changed, ["phone", "title", "birthday", "preferred_channel", "custom"]
        )
        everyone = {c.email: c for c in Contact.objects.filter(merged_into=None) if c.email}
        ContactPoint.objects.bulk_create(
            [
                ContactPoint(
                    contact=everyone[email],
                    kind=kind,
                    value=_e164(value) if kind == PointKind.PHONE else value,
                    label=label,
                )
                for email, kind, value, label in data.POINTS
                if email in everyone
            ]
        )
        return everyone

    # --- contracts ----------------------------------------------------------------------
    def contracts(self, customers: dict[str, Customer]) -> None:
        rows = []
        for owner, kind, name, ref, starts, ends, renews, value in data.CONTRACTS:
            customer = customers.get(owner)
            if customer is None:
                continue
            rows.append(
                Contract(
                    customer=customer,
                    kind=kind,
                    name=name,
                    reference=ref,
                    starts_on=self.today + starts * DAY,
                    ends_on=self.today + ends * DAY if ends is not None else None,
                    auto_renew=renews,
                    value=Decimal(value),
                )
            )
        for contract in Contract.objects.bulk_create(rows):
            self.audit(
                self.ago(max(1, min(90, -(contract.starts_on - self.today).days))),
                kind="customer",
                verb=CustomerVerb.CONTRACT_ADDED,
                actor=self.user("supervisor"),
                customer_id=contract.customer_id,
                after={
                    "contract": contract.pk,
                    "name": contract.name,
                    "ends_on": contract.ends_on.isoformat() if contract.ends_on else None,
                },
            )

    # --- consent and suppression --------------------------------------------------------
    def consent(self, contacts: dict[str, Contact]) -> None:
        rows = []
        suppressed = {address for _kind, address, _r, _n in data.SUPPRESSIONS}
        for place, contact in enumerate(sorted(contacts.values(), key=lambda c: c.pk)):
            for offset, purpose in enumerate(data.PURPOSES):
                granted, source = data.CONSENT_PATTERNS[
                    (place + offset) % len(data.CONSENT_PATTERNS)
                ]
                if contact.email in suppressed and purpose == "marketing_email":
                    granted, source = False, "unsubscribe"
                actor = self.user("agent1") if source == "agent" else None
                at = self.ago(2 + (place * 7 + offset * 3) % 80)
                rows.append(
                    Consent(
                        contact=contact,
                        purpose=purpose,
                        granted=granted,
                        source=source,
                        at=at,
                        actor=actor,
                        note=data.CONSENT_NOTES.get(source, ""),
                    )
                )
                self.audit(
                    at,
                    kind="contact",
                    verb=ContactVerb.CONSENT,
                    actor=actor,
                    customer_id=contact.customer_id,
                    contact_id=contact.pk,
                    after={"purpose": purpose, "granted": granted, "source": source},
                )
        Consent.objects.bulk_create(rows)

        marketing = self.user("marketing")
        by_address = {c.email: c for c in contacts.values()}
        by_address.update({c.phone: c for c in contacts.values() if c.phone})
        created = Suppression.objects.bulk_create(
            [
                Suppression(
                    kind=kind, address=address, reason=reason, note=note, created_by=marketing
                )
                for kind, address, reason, note in data.SUPPRESSIONS
            ]
        )
        for row in created:
            holder = by_address.get(row.address)
            if holder is not None:
                self.audit(
                    self.ago(12),
                    kind="contact",
                    verb=ContactVerb.SUPPRESSED,
                    actor=marketing,
                    customer_id=holder.customer_id,
                    contact_id=holder.pk,
                    after={"address": row.address, "reason": row.reason},
                )

    # --- segments -----------------------------------------------------------------------
    def segments(self, contacts: dict[str, Contact]) -> None:
        marketing = self.user("marketing")
        made = []
        for name, description, kind, definition in data.SEGMENTS:
            segment = Segment.objects.create(
                name=name, description=description, kind=kind, definition=definition,
                owner=marketing,
            )  # fmt: skip
            made.append(segment)
            self.audit(
                self.ago(20),
                kind="segment",
                verb=SegmentVerb.CREATED,
                actor=marketing,
                object_id=segment.pk,
                after={"name": name, "kind": kind, "definition": definition},
            )
        static = next(s for s in made if s.kind == SegmentKind.STATIC)
        guests = [contacts[e] for e in data.SUMMIT_GUESTS if e in contacts]
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment=static, contact=c) for c in guests]
        )
        self.audit(
            self.ago(19),
            kind="segment",
            verb=SegmentVerb.MEMBERS_ADDED,
            actor=marketing,
            object_id=static.pk,
            after={"contacts": [c.pk for c in guests]},
        )
        # The gold-and-platinum audience as the care mailing froze it.
        dynamic = made[0]
        audience = list(
            Contact.objects.filter(
                merged_into=None,
                erased_at=None,
                customer__tier__in=["gold", "platinum"],
                customer__merged_into=None,
            ).order_by("id")
        )
        snapshot = SegmentSnapshot.objects.create(
            segment=dynamic,
            definition=dynamic.definition,
            size=len(audience),
            taken_by=marketing,
        )
        SnapshotMember.objects.bulk_create(
            [SnapshotMember(snapshot=snapshot, contact=c) for c in audience]
        )
        self.audit(
            self.ago(5),
            kind="segment",
            verb=SegmentVerb.FROZEN,
            actor=marketing,
            object_id=dynamic.pk,
            after={"snapshot": snapshot.pk, "size": len(audience)},
        )

    # --- import and export --------------------------------------------------------------
    def imports(self, contacts: dict[str, Contact]) -> None:
        admin = self.user("admin")
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(data.IMPORT_HEADERS)
        writer.writerows(data.IMPORT_ROWS)
        counts = {RowAction.CREATE: 2, RowAction.UPDATE: 1, RowAction.SKIP: 0, RowAction.ERROR: 1}
        job = ImportJob(
            target=ImportTarget.CONTACTS,
            file_name=data.IMPORT_FILE_NAME,
            headers=data.IMPORT_HEADERS,
            mapping=data.IMPORT_MAPPING,
            match_on=["email", "phone"],
            status=ImportStatus.COMMITTED,
            total_rows=len(data.IMPORT_ROWS),
            done_rows=len(data.IMPORT_ROWS),
            counts=dict(counts),
            created_by=admin,
            committed_at=self.ago(8),
        )
        job.file.save("expo-leads.csv", ContentFile(text.getvalue().encode("utf-8")), save=False)
        job.save()
        fields = ("name", "email", "phone", "title")
        made: list[Contact] = []
        rows = []
        for line, values in enumerate(data.IMPORT_ROWS, start=2):
            record = dict(zip(fields, values, strict=True))
            existing = contacts.get(record["email"])
            if line == 2 + len(data.IMPORT_ROWS) - 1:  # the last row: an address that is none
                rows.append(
                    ImportRow(
                        job=job,
                        line=line,
                        action=RowAction.ERROR,
                        data=record,
                        reasons=[
                            {"field": "email", "message": "Enter a valid email address."},
                            {"field": "phone", "message": "This phone number is not valid."},
                        ],
                    )
                )
            elif existing is not None:
                before = {"title": existing.title, "phone": existing.phone}
                existing.title = record["title"]
                existing.save(update_fields=["title", "updated_at"])
                rows.append(
                    ImportRow(
                        job=job, line=line, action=RowAction.UPDATE, done=True,
                        data={**record, "phone": _e164(record["phone"])},
                        record_id=existing.pk, before=before,
                    )
                )  # fmt: skip
                self.audit(
                    self.ago(8),
                    kind="contact",
                    verb=ContactVerb.CHANGED,
                    actor=admin,
                    customer_id=existing.customer_id,
                    contact_id=existing.pk,
                    before={"title": before["title"]},
                    after={"title": existing.title, "import": job.pk},
                )
            else:
                contact = Contact.objects.create(
                    name=record["name"],
                    email=record["email"],
                    phone=_e164(record["phone"]),
                    title=record["title"],
                    language="zh-hans" if line == 2 else "en",
                )
                made.append(contact)
                rows.append(
                    ImportRow(
                        job=job, line=line, action=RowAction.CREATE, done=True,
                        data={**record, "phone": contact.phone}, record_id=contact.pk,
                    )
                )  # fmt: skip
                self.audit(
                    self.ago(8),
                    kind="contact",
                    verb=ContactVerb.CREATED,
                    actor=admin,
                    contact_id=contact.pk,
                    after={"name": contact.name, "email": contact.email, "import": job.pk},
                )
        ImportRow.objects.bulk_create(rows)
        for verb, days, after in (
            (ImportVerb.UPLOADED, 9, {"file": job.file_name, "target": job.target, "rows": 4}),
            (ImportVerb.PLANNED, 9, {"counts": job.counts}),
            (ImportVerb.COMMITTED, 8, {"counts": job.counts}),
        ):
            self.audit(self.ago(days), kind="import", verb=verb, actor=admin, object_id=job.pk,
                       after=after)  # fmt: skip

        marketing = self.user("marketing")
        gold = [c for c in contacts.values() if c.customer and c.customer.tier != "standard"]
        out = io.StringIO()
        export = csv.writer(out)
        export.writerow(["name", "email", "phone", "customer", "language"])
        export.writerows(
            [c.name, c.email, c.phone, c.customer.name if c.customer else "", c.language]
            for c in sorted(gold, key=lambda c: c.pk)
        )
        job_out = ExportJob(
            target=ImportTarget.CONTACTS,
            format="csv",
            filters={"tier": "gold,platinum"},
            status=ExportStatus.DONE,
            rows=len(gold),
            created_by=marketing,
            finished_at=self.ago(3),
        )
        job_out.file.save(
            "contacts-gold-platinum.csv", ContentFile(out.getvalue().encode("utf-8")), save=False
        )
        job_out.save()
        for export_verb, after in (
            (ExportVerb.REQUESTED, {"target": "contacts", "format": "csv"}),
            (ExportVerb.FINISHED, {"target": "contacts", "format": "csv", "rows": len(gold)}),
        ):
            self.audit(self.ago(3), kind="export", verb=export_verb, actor=marketing,
                       object_id=job_out.pk, after=after)  # fmt: skip

    # --- merge, legal hold, privacy -----------------------------------------------------
    def merge(self, customers: dict[str, Customer]) -> None:
        duplicate_name, kept_name = data.MERGED_DUPLICATE
        kept = customers.get(kept_name)
        if kept is None:
            return
        supervisor = self.user("supervisor")
        duplicate = Customer.objects.create(
            kind=CustomerKind.COMPANY,
            name=duplicate_name,
            tier=kept.tier,
            region="US West",
            tags=["imported-2025"],
            merged_into=kept,
        )
        before = {"tags": kept.tags, "industry": kept.industry}
        MergeLog.objects.create(
            target=FieldTarget.CUSTOMER,
            kept_id=kept.pk,
            merged_id=duplicate.pk,
            moved={"contacts": [], "tickets": [], "complaints": [], "contracts": []},
            before=before,
            actor=supervisor,
        )
        for customer_id in (kept.pk, duplicate.pk):
            self.audit(
                self.ago(15),
                kind="customer",
                verb=CustomerVerb.MERGED,
                actor=supervisor,
                customer_id=customer_id,
                before=before if customer_id == kept.pk else {},
                after={"kept": kept.pk, "merged": duplicate.pk},
            )

    # --- likely duplicates awaiting review ------------------------------------------------
    def duplicates(self) -> None:
        """Records a reviewer finds on the duplicates screen: a contact entered twice with
        its name's words swapped and the same number, one whose Chinese name was typed with
        a space, and a customer keyed in twice."""
        live = Contact.objects.filter(merged_into=None, erased_at=None, customer__isnull=False)
        latin = next(
            (
                c
                for c in live.exclude(phone="").order_by("pk")
                if len(c.name.split()) == 2 and c.name.isascii() and c.email
            ),
            None,
        )
        chinese = next(
            (c for c in live.order_by("pk") if len(c.name) == 3 and not c.name.isascii()), None
        )
        twins = []
        if latin is not None:
            first, last = latin.name.split()
            local, domain = latin.email.split("@", 1)
            twins.append((latin, f"{last} {first}", f"{local}.alt@{domain}", latin.phone))
        if chinese is not None:
            name = f"{chinese.name[0]} {chinese.name[1:]}"
            twins.append((chinese, name, f"dup.{chinese.pk}@example.cn", ""))
        for original, name, email, phone in twins:
            twin = Contact.objects.create(
                customer=original.customer,
                name=name,
                email=email,
                phone=phone,
                language=original.language,
            )
            self.audit(
                self.ago(3),
                kind="contact",
                verb=ContactVerb.CREATED,
                actor=self.user("agent2"),
                customer_id=twin.customer_id,
                contact_id=twin.pk,
                after={"name": twin.name, "email": twin.email, "phone": twin.phone},
            )
        original_customer = Customer.objects.filter(
            name=data.DUPLICATE_CUSTOMER[0], merged_into=None
        ).first()
        if original_customer is not None:
            twin_customer = Customer.objects.create(
                kind=original_customer.kind,
                name=data.DUPLICATE_CUSTOMER[1],
                tier=original_customer.tier,
                region=original_customer.region,
            )
            self.audit(
                self.ago(2),
                kind="customer",
                verb=CustomerVerb.CREATED,
                actor=self.user("agent1"),
                customer_id=twin_customer.pk,
                after={"name": twin_customer.name},
            )

    def privacy(self, customers: dict[str, Customer], contacts: dict[str, Contact]) -> None:
        admin, manager = self.user("admin"), self.user("manager") or self.user("admin")
        held = customers.get(data.LEGAL_HOLD_CUSTOMER)
        if held is not None:
            LegalHold.objects.create(customer=held, reason=data.LEGAL_HOLD_REASON, created_by=admin)
            self.audit(self.ago(25), kind="customer", verb=CustomerVerb.LEGAL_HOLD, actor=admin,
                       customer_id=held.pk, after={"reason": data.LEGAL_HOLD_REASON})  # fmt: skip
        year = self.now.year
        taken = set(
            PrivacyRequest.objects.filter(number__startswith=f"P-{year}-").values_list(
                "number", flat=True
            )
        )
        numbers = (
            f"P-{year}-{n:06d}" for n in range(1, 10_000) if f"P-{year}-{n:06d}" not in taken
        )
        deadline = timedelta(days=15)

        # email, kind, status, received (days ago), completed (days ago), note, refusal
        plan: list[tuple[str, str, str, int, int | None, str, str]] = [
            ("emily.carter@example.org", PrivacyKind.ACCESS, PrivacyStatus.DONE, 10, 3,
             "Customer asked for a copy of her data by email.", ""),
            ("sam.taylor@example.net", PrivacyKind.ERASURE, PrivacyStatus.IN_PROGRESS, 13, None,
             "Wants every record deleted; tickets closed.", ""),
            ("zhao.lei@zhixing.example.com", PrivacyKind.ERASURE, PrivacyStatus.REFUSED, 20, 18,
             "客户要求删除个人信息。",
             "数据受诉讼保全约束，依法暂不删除 / Under a legal hold: kept as the law requires."),
        ]  # fmt: skip
        for email, kind, status, received_days, done_days, note, refusal in plan:
            contact = contacts.get(email)
            if contact is None:
                continue
            received = self.ago(received_days)
            request = PrivacyRequest(
                number=next(numbers),
                kind=kind,
                contact=contact,
                status=status,
                note=note,
                refusal_reason=refusal,
                received_at=received,
                due_at=received + deadline,
                completed_at=self.ago(done_days) if done_days is not None else None,
                handler=manager,
                created_by=admin,
            )
            if kind == PrivacyKind.ACCESS:
                body = {
                    "contact": {
                        "name": contact.name,
                        "email": contact.email,
                        "phone": contact.phone,
                    },
                    "consent": list(
                        Consent.objects.filter(contact=contact).values(
                            "purpose", "granted", "source"
                        )
                    ),
                }
                request.export.save(
                    f"{request.number}.json",
                    ContentFile(json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")),
                    save=False,
                )
            request.save()
            if status == PrivacyStatus.IN_PROGRESS:
                # its statutory clock, as the service starts it: the ladder warns the
                # handler (13 of 15 days gone) on the server's first sweep
                privacy_service.start_clock(request)
            ids = {"object_id": request.pk, "customer_id": contact.customer_id,
                   "contact_id": contact.pk}  # fmt: skip
            self.audit(received, kind="privacy", verb=PrivacyVerb.RECEIVED, actor=admin,
                       after={"number": request.number, "kind": kind}, **ids)  # fmt: skip
            self.audit(received + DAY, kind="privacy", verb=PrivacyVerb.STARTED, actor=manager,
                       after={"status": PrivacyStatus.IN_PROGRESS}, **ids)  # fmt: skip
            if status == PrivacyStatus.DONE:
                self.audit(self.ago(done_days or 0), kind="privacy", verb=PrivacyVerb.COMPLETED,
                           actor=manager, after={"status": status}, **ids)  # fmt: skip
            elif status == PrivacyStatus.REFUSED:
                after = {"status": status, "reason": refusal}
                self.audit(self.ago(done_days or 0), kind="privacy", verb=PrivacyVerb.REFUSED,
                           actor=manager, after=after, **ids)  # fmt: skip

    # --- all of it ----------------------------------------------------------------------
    def load(self) -> dict[str, int]:
        with transaction.atomic():
            with audit.batch():
                self.people()
                self.fields()
                customers = self.customers()
                contacts = self.contacts(customers)
                self.contracts(customers)
                self.consent(contacts)
                self.segments(contacts)
                self.imports(contacts)
                self.merge(customers)
                self.duplicates()
                self.privacy(customers, contacts)
            # The rows have ids now: date each when it happened (created_at is auto_now_add,
            # which bulk_update leaves alone).
            rows = []
            for row, at in self.dated:
                row.created_at = at
                rows.append(row)
            AuditEvent.objects.bulk_update(rows, ["created_at"], batch_size=500)
        return {
            "customers": Customer.objects.filter(merged_into=None).count(),
            "contacts": Contact.objects.filter(merged_into=None).count(),
            "contracts": Contract.objects.count(),
            "segments": Segment.objects.count(),
            "privacy": PrivacyRequest.objects.count(),
            "audit": len(rows),
        }


class Command(BaseCommand):
    help = "Load the customers-360 demo: marketing and analyst users, contracts, consent, segments."

    def handle(self, *args: Any, **options: Any) -> None:
        if get_user_model().objects.filter(username=data.MARKER_USERNAME).exists():
            self.stdout.write("demo customers already loaded")
            return
        counts = Loader().load()
        self.stdout.write(
            self.style.SUCCESS(
                "Demo customers / 演示客户: "
                + ", ".join(f"{name}: {n}" for name, n in counts.items())
                + ". Sign in as marketing/marketing or analyst/analyst too."
            )
        )
