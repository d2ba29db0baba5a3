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
class CustomerInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CustomerKind.choices)
    name = serializers.CharField(max_length=200)
    tier = serializers.ChoiceField(choices=CustomerTier.choices, required=False)
    region = serializers.CharField(max_length=64, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=64, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    owner = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1)  # type: ignore[assignment]
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    custom = serializers.DictField(required=False)


class ContactInput(serializers.Serializer):
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


class PointInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PointKind.choices)
    value = serializers.CharField(max_length=254)
    label = serializers.CharField(max_length=32, required=False, allow_blank=True)  # type: ignore[assignment]


class ContractInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContractKind.choices, required=False)
    name = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    auto_renew = serializers.BooleanField(required=False)
    value = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0
    )


class LegalHoldInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class CustomFieldInput(serializers.Serializer):
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
class RefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CustomValueOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.CharField()
    value = serializers.JSONField(allow_null=True)


class ContractOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    reference = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    auto_renew = serializers.BooleanField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class LegalHoldOutput(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.IntegerField(allow_null=True)
    contact = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    created_by = RefOutput(allow_null=True)
    created = serializers.DateTimeField()
    released_at = serializers.DateTimeField(allow_null=True)


class CustomerRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField(help_text='"***" for an analyst not granted personal data')
    tier = serializers.CharField()
    region = serializers.CharField()
    industry = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    owner = RefOutput(allow_null=True)
    parent = RefOutput(allow_null=True)
    external_id = serializers.CharField()
    updated = serializers.DateTimeField()


class CustomerDetailOutput(CustomerRowOutput):
    custom = serializers.DictField()
    custom_fields = CustomValueOutput(many=True)
    subsidiaries = RefOutput(many=True)
    contracts = ContractOutput(many=True)
    legal_holds = LegalHoldOutput(many=True, allow_null=True, help_text="administrators only")
    created = serializers.DateTimeField()


class CustomerPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CustomerRowOutput(many=True)


class PointOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class ContactRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    customer = RefOutput(allow_null=True)


class ContactListRowOutput(ContactRowOutput):
    title = serializers.CharField()
    language = serializers.CharField()
    preferred_channel = serializers.CharField()
    external_id = serializers.CharField()
    updated = serializers.DateTimeField()


class ContactDetailOutput(ContactListRowOutput):
    birthday = serializers.CharField(allow_null=True, help_text="YYYY-MM-DD, or ***")
    custom = serializers.DictField()
    custom_fields = CustomValueOutput(many=True)
    points = PointOutput(many=True)
    created = serializers.DateTimeField()


class ContactPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ContactListRowOutput(many=True)


class ContactSearchOutput(serializers.Serializer):
    results = ContactRowOutput(many=True)


class CustomFieldOutput(serializers.Serializer):
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


class CustomFieldListOutput(serializers.Serializer):
    results = CustomFieldOutput(many=True)
