# ruff: noqa: RUF001
"""What a service company starts with (docs/complaints.md, "Configuration"): categories,
root causes, the severity matrix, limits of authority and the regulator profiles with
their clocks. Administrators edit all of it; nothing here is read by code."""

from django.db import migrations

DAY = 86400
HOUR = 3600

CATEGORIES = [
    # code, name, 中文, subcategories
    ("service", "Service quality", "服务质量", [
        ("service-attitude", "Staff attitude", "服务态度"),
        ("service-delay", "Slow handling", "处理不及时"),
        ("service-commitment", "Broken promise", "未兑现承诺"),
    ]),
    ("billing", "Billing and charges", "计费与收费", [
        ("billing-wrong", "Wrong charge", "错误扣费"),
        ("billing-refund", "Refund not received", "退款未到账"),
        ("billing-hidden", "Undisclosed fee", "未告知收费"),
    ]),
    ("product", "Product or delivery", "产品与交付", [
        ("product-defect", "Defective product", "产品质量问题"),
        ("product-delivery", "Late or missing delivery", "配送延误或丢失"),
        ("product-install", "Installation", "安装问题"),
    ]),
    ("sales", "Sales practice", "销售行为", [
        ("sales-misleading", "Misleading information", "误导销售"),
        ("sales-contract", "Contract terms", "合同条款"),
    ]),
    ("privacy", "Privacy and data", "隐私与数据", [
        ("privacy-marketing", "Unwanted marketing", "骚扰营销"),
        ("privacy-data", "Personal data misuse", "个人信息使用不当"),
    ]),
]

ROOT_CAUSES = [
    ("process-gap", "Process gap", "流程缺陷"),
    ("staff-error", "Staff error", "员工操作失误"),
    ("training", "Training need", "培训不足"),
    ("system-defect", "System defect", "系统缺陷"),
    ("supplier", "Supplier or partner", "供应商或合作方"),
    ("policy", "Policy or pricing", "政策或定价"),
    ("communication", "Communication", "沟通不到位"),
    ("customer-expectation", "Customer expectation", "客户期望差异"),
]

MATRIX = {
    # impact: {urgency: severity}
    "critical": {"high": "S1", "medium": "S1", "low": "S2"},
    "high": {"high": "S1", "medium": "S2", "low": "S3"},
    "medium": {"high": "S2", "medium": "S3", "low": "S3"},
    "low": {"high": "S3", "medium": "S4", "low": "S4"},
}

LIMITS = [("handler", "200.00", 8), ("supervisor", "2000.00", 24), ("manager", None, 48)]

LADDER = [
    {"at_percent": 50, "target": "final_answer", "action": "warn"},
    {"at_percent": 75, "target": "final_answer", "action": "notify_supervisor"},
    {"at_percent": 90, "target": "final_answer", "action": "notify_manager"},
    {"at_percent": 100, "target": "final_answer", "action": "raise_priority"},
]

WORKING_DAYS = {
    "name": "Working days, whole days (complaints)",
    "timezone": "Asia/Shanghai",
    "hours": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def same(ack, contact, final):
    return {s: (ack, contact, final) for s in ("S1", "S2", "S3", "S4")}


PROFILES = [
    {
        "code": "standard",
        "name": "Kefu standard (working days)",
        "name_zh": "标准（工作日）",
        "regulator": "Internal service standard",
        "is_default": True,
        "calendar": "working",
        "targets": {
            "S1": (4 * HOUR, 1 * DAY, 5 * DAY),
            "S2": (1 * DAY, 2 * DAY, 10 * DAY),
            "S3": (1 * DAY, 3 * DAY, 15 * DAY),
            "S4": (2 * DAY, 5 * DAY, 15 * DAY),
        },
        "extensions": [10 * DAY],
    },
    {
        "code": "cn-banking-insurance",
        "name": "China banking and insurance (2020)",
        "name_zh": "银行保险机构投诉处理（2020）",
        "regulator": "银行保险机构消费投诉处理管理办法 (2020)",
        "calendar": None,
        "targets": same(1 * DAY, 3 * DAY, 15 * DAY),
        "extensions": [15 * DAY, 30 * DAY],
    },
    {
        "code": "cn-telecom",
        "name": "China telecoms",
        "name_zh": "电信用户申诉",
        "regulator": "电信用户申诉处理办法",
        "calendar": None,
        "targets": same(1 * DAY, 3 * DAY, 15 * DAY),
        "extensions": [],
    },
    {
        "code": "uk-fca",
        "name": "UK FCA (DISP 1.6)",
        "name_zh": "英国金融行为监管局（DISP 1.6）",
        "regulator": "FCA Handbook DISP 1.6: final response within 8 weeks",
        "calendar": None,
        "targets": same(5 * DAY, 10 * DAY, 56 * DAY),
        "extensions": [],
    },
    {
        "code": "au-asic",
        "name": "Australia ASIC RG 271",
        "name_zh": "澳大利亚 ASIC RG 271",
        "regulator": "ASIC RG 271: acknowledge within 24 hours, respond within 30 days",
        "calendar": None,
        "targets": same(1 * DAY, 5 * DAY, 30 * DAY),
        "extensions": [],
    },
]


def forwards(apps, schema_editor):
    Category = apps.get_model("complaints", "ComplaintCategory")
    RootCause = apps.get_model("complaints", "RootCause")
    SeverityRule = apps.get_model("complaints", "SeverityRule")
    Limit = apps.get_model("complaints", "AuthorityLimit")
    Profile = apps.get_model("complaints", "ComplaintProfile")
    Policy = apps.get_model("complaints", "ComplaintPolicy")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    Calendar = apps.get_model("sla", "BusinessCalendar")

    for position, (code, name, zh, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": zh, "position": position * 10}
        )
        for index, (sub, sub_name, sub_zh) in enumerate(children):
            Category.objects.get_or_create(
                code=sub,
                defaults={"name": sub_name, "name_zh": sub_zh, "parent": parent, "position": index},
            )
    for code, name, zh in ROOT_CAUSES:
        RootCause.objects.get_or_create(code=code, defaults={"name": name, "name_zh": zh})
    for impact, row in MATRIX.items():
        for urgency, severity in row.items():
            SeverityRule.objects.get_or_create(
                impact=impact, urgency=urgency, defaults={"severity": severity}
            )
    for level, amount, hours in LIMITS:
        Limit.objects.get_or_create(
            level=level, defaults={"max_amount": amount, "approval_hours": hours}
        )
    working, _ = Calendar.objects.get_or_create(
        name=WORKING_DAYS["name"],
        defaults={"timezone": WORKING_DAYS["timezone"], "hours": WORKING_DAYS["hours"]},
    )
    for spec in PROFILES:
        profile, created = Profile.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "name_zh": spec["name_zh"],
                "regulator": spec["regulator"],
                "is_default": spec.get("is_default", False),
            },
        )
        if not created:
            continue
        for severity, (ack, contact, final) in spec["targets"].items():
            for regulatory in (False, True):
                sla = SlaPolicy.objects.create(
                    kind="complaint",
                    name=f"{spec['name']} {severity}{' regulatory' if regulatory else ''}",
                    priority=severity,
                    customer_tier=None,
                    targets={"acknowledge": ack, "first_contact": contact, "final_answer": final},
                    warning_percent=80,
                    calendar=working if spec["calendar"] == "working" else None,
                    escalation=LADDER,
                )
                Policy.objects.create(
                    profile=profile,
                    severity=severity,
                    regulatory=regulatory,
                    sla_policy=sla,
                    extensions=spec["extensions"],
                )


def backwards(apps, schema_editor):
    Policy = apps.get_model("complaints", "ComplaintPolicy")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    ids = list(Policy.objects.values_list("sla_policy_id", flat=True))
    Policy.objects.all().delete()
    SlaPolicy.objects.filter(pk__in=ids).delete()
    for name in ("ComplaintProfile", "AuthorityLimit", "SeverityRule", "RootCause"):
        apps.get_model("complaints", name).objects.all().delete()
    Category = apps.get_model("complaints", "ComplaintCategory")
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial"), ("sla", "0006_slaclock")]

    operations = [migrations.RunPython(forwards, backwards)]
