"""Input and output shapes of the records API (docs/api.md, "Customers and contacts").

Inputs check types only; the services check values (a tier, a phone number, a cycle in the
group hierarchy) and name the field that is wrong."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import (
    ContractKind,
    CustomerKind,
    CustomerTier,
    FieldTarget,
    FieldType,
    Language,
    PointKind,
    PreferredChannel,
)


# --- inputs ------------------------------------------------------------------------------
class CustomerRecordInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CustomerKind.choices)
    name = serializers.CharField(max_length=200)
    # Text, checked by the service: the tier's choice set is named by the SLA policies' API.
    tier = serializers.CharField(
        max_length=16, required=False, help_text=" | ".join(CustomerTier.values)
    )
    region = serializers.CharField(max_length=64, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=64, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    owner = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1)  # type: ignore[assignment]
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    custom = serializers.DictField(required=False)


class ContactRecordInput(serializers.Serializer):
    customer = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    birthday = serializers.DateField(required=False, allow_null=True)
    preferred_channel = serializers.ChoiceField(
        choices=PreferredChannel.choices, required=False, allow_blank=True
    )
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    custom = serializers.DictField(required=False)


class ContactPointInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PointKind.choices)
    value = serializers.CharField(max_length=254)
    label = serializers.CharField(max_length=32, required=False, allow_blank=True)  # type: ignore[assignment]


class ContractRecordInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContractKind.choices, required=False)
    name = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    auto_renew = serializers.BooleanField(required=False)
    value = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0
    )


class LegalHoldRecordInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class CustomFieldRecordInput(serializers.Serializer):
    target = serializers.ChoiceField(choices=FieldTarget.choices)
    key = serializers.CharField(max_length=40)
    label = serializers.CharField(max_length=100)  # type: ignore[assignment]
    label_zh = serializers.CharField(max_length=100, required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=FieldType.choices)
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    required = serializers.BooleanField(required=False)  # type: ignore[assignment]
    position = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    is_active = serializers.BooleanField(required=False)


# --- outputs -----------------------------------------------------------------------------
class RecordRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CustomValueOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.CharField()
    value = serializers.JSONField(allow_null=True)


class ContractRecordOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    reference = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    auto_renew = serializers.BooleanField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class LegalHoldRecordOutput(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.IntegerField(allow_null=True)
    contact = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    created_by = RecordRefOutput(allow_null=True)
    created = serializers.DateTimeField()
    released_at = serializers.DateTimeField(allow_null=True)


class CustomerRecordRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField(help_text='"***" for an analyst not granted personal data')
    tier = serializers.CharField()
    region = serializers.CharField()
    industry = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    owner = RecordRefOutput(allow_null=True)
    parent = RecordRefOutput(allow_null=True)
    external_id = serializers.CharField()
    updated = serializers.DateTimeField()


class CustomerRecordOutput(CustomerRecordRowOutput):
    custom = serializers.DictField()
    custom_fields = CustomValueOutput(many=True)
    subsidiaries = RecordRefOutput(many=True)
    contracts = ContractRecordOutput(many=True)
    legal_holds = LegalHoldRecordOutput(many=True, allow_null=True, help_text="administrators only")
    created = serializers.DateTimeField()


class CustomerRecordPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CustomerRecordRowOutput(many=True)


class ContactPointOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class ContactSearchRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    customer = RecordRefOutput(allow_null=True)


class ContactRecordRowOutput(ContactSearchRowOutput):
    # Not in the contact search's rows (``search``), which share this list's schema.
    title = serializers.CharField(required=False)
    language = serializers.CharField(required=False)
    preferred_channel = serializers.CharField(required=False)
    external_id = serializers.CharField(required=False)
    updated = serializers.DateTimeField(required=False)


class ContactRecordOutput(ContactRecordRowOutput):
    birthday = serializers.CharField(allow_null=True, help_text="YYYY-MM-DD, or ***")
    custom = serializers.DictField()
    custom_fields = CustomValueOutput(many=True)
    points = ContactPointOutput(many=True)
    created = serializers.DateTimeField()


class ContactRecordPageOutput(serializers.Serializer):
    """A cursor page; the contact search (``search``) answers ``results`` alone."""

    next = serializers.URLField(allow_null=True, required=False)
    previous = serializers.URLField(allow_null=True, required=False)
    results = ContactRecordRowOutput(many=True)


class ContactSearchOutput(serializers.Serializer):
    results = ContactSearchRowOutput(many=True)


class CustomFieldRecordOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target = serializers.CharField()
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    label_zh = serializers.CharField()
    type = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())
    required = serializers.BooleanField()  # type: ignore[assignment]
    position = serializers.IntegerField()
    is_active = serializers.BooleanField()


class CustomFieldRecordListOutput(serializers.Serializer):
    results = CustomFieldRecordOutput(many=True)
