"""The data of ``load_demo_customers``: who the demo's customers are beyond their tickets and
complaints — industries, owners, a group and its subsidiaries, custom fields, contracts,
consent, suppression, segments, an import, an export, a merge, a legal hold and privacy
requests — in Chinese and English. Days are relative to the day the demo loads."""

# Chinese text is written with its own full-width punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any

from org.roles import ROLE_ANALYST, ROLE_MARKETING

from ...choices import (
    ConsentSource,
    ContractKind,
    CustomerKind,
    CustomerTier,
    FieldTarget,
    FieldType,
    Language,
    PreferredChannel,
    Purpose,
    SuppressionReason,
)

# A second run finds this user and changes nothing.
MARKER_USERNAME = "marketing"

# username: (role, first name, last name); the password is the user name (demo only).
PEOPLE = {
    "marketing": (ROLE_MARKETING, "Xiaomei", "Chen"),
    "analyst": (ROLE_ANALYST, "Oliver", "Wang"),
}

# target, key, English label, Chinese label, type, choices, position
CUSTOM_FIELDS: list[tuple[str, str, str, str, str, list[str], int]] = [
    (FieldTarget.CUSTOMER, "account_number", "Account number", "客户编号", FieldType.TEXT, [], 10),
    (FieldTarget.CUSTOMER, "credit_limit", "Credit limit", "信用额度", FieldType.NUMBER, [], 20),
    (
        FieldTarget.CUSTOMER,
        "contract_type",
        "Contract type",
        "合同类型",
        FieldType.CHOICE,
        ["annual 年度", "framework 框架", "pay-as-you-go 按量"],
        30,
    ),
    (FieldTarget.CONTACT, "wechat_id", "WeChat ID", "微信号", FieldType.TEXT, [], 10),
    (FieldTarget.CONTACT, "vip_event", "Summit guest", "大会嘉宾", FieldType.BOOLEAN, [], 20),
]

# What the demo's existing customers (tickets', complaints') gain, by name:
# (industry, account owner, extra tags, account number, credit limit, contract type)
ENRICH: dict[str, tuple[str, str, list[str], str, int, str]] = {
    "华东精密制造有限公司 Huadong Precision": (
        "制造业 Manufacturing",
        "agent1",
        ["华东重点"],
        "KF-SH-0001",
        2_000_000,
        "annual 年度",
    ),
    "上海云桥科技有限公司": (
        "软件 Software",
        "agent2",
        ["SaaS"],
        "KF-SH-0002",
        500_000,
        "annual 年度",
    ),
    "北京智行物流有限公司": (
        "物流 Logistics",
        "agent1",
        ["诉讼中"],
        "KF-BJ-0003",
        300_000,
        "pay-as-you-go 按量",
    ),
    "深圳星河互娱科技": (
        "游戏 Gaming",
        "agent2",
        ["华南重点"],
        "KF-SZ-0004",
        800_000,
        "annual 年度",
    ),
    "王芳": ("个人 Consumer", "", [], "KF-SZ-0005", 0, "pay-as-you-go 按量"),
    "Northwind Traders": (
        "Retail",
        "supervisor",
        ["emea-expansion"],
        "KF-US-0006",
        250_000,
        "annual 年度",
    ),
    "Pacific Crest Logistics": (
        "Logistics",
        "supervisor",
        ["renewal-2027"],
        "KF-US-0007",
        1_500_000,
        "framework 框架",
    ),
    "Emily Carter": ("Consumer", "", [], "KF-US-0008", 0, "pay-as-you-go 按量"),
}

# The group customer and its three subsidiaries: (kind, name, tier, region, industry, owner,
# tags, account number, credit limit, contract type)
Row = tuple[str, str, str, str, str, str, list[str], str, int, str]
GROUP: Row = (
    CustomerKind.COMPANY,
    "鼎盛控股集团 Dingsheng Holdings",
    CustomerTier.PLATINUM,
    "华东",
    "综合 Conglomerate",
    "supervisor",
    ["集团客户", "key-account"],
    "KF-GRP-0100",
    10_000_000,
    "framework 框架",
)
SUBSIDIARIES: list[Row] = [
    (
        CustomerKind.COMPANY,
        "鼎盛物流（上海）有限公司",
        CustomerTier.GOLD,
        "华东",
        "物流 Logistics",
        "agent1",
        ["集团客户"],
        "KF-GRP-0101",
        2_000_000,
        "framework 框架",
    ),
    (
        CustomerKind.COMPANY,
        "鼎盛零售（北京）有限公司",
        CustomerTier.STANDARD,
        "华北",
        "零售 Retail",
        "agent2",
        ["集团客户", "new-store"],
        "KF-GRP-0102",
        800_000,
        "framework 框架",
    ),
    (
        CustomerKind.COMPANY,
        "Dingsheng Trading (HK) Ltd",
        CustomerTier.GOLD,
        "Hong Kong",
        "Trading",
        "supervisor",
        ["group", "cross-border"],
        "KF-GRP-0103",
        1_200_000,
        "framework 框架",
    ),
]
OTHERS: list[Row] = [
    (
        CustomerKind.COMPANY,
        "广州南粤食品有限公司",
        CustomerTier.STANDARD,
        "华南",
        "食品 Food",
        "agent2",
        ["新客户"],
        "KF-GZ-0200",
        150_000,
        "pay-as-you-go 按量",
    ),
    (
        CustomerKind.COMPANY,
        "Harbor & Pine Legal LLP",
        CustomerTier.GOLD,
        "Europe",
        "Legal services",
        "supervisor",
        ["emea", "newsletter"],
        "KF-EU-0201",
        400_000,
        "annual 年度",
    ),
    (
        CustomerKind.INDIVIDUAL,
        "Olivia Brown",
        CustomerTier.STANDARD,
        "UK",
        "Consumer",
        "",
        ["consumer", "newsletter"],
        "KF-UK-0202",
        0,
        "pay-as-you-go 按量",
    ),
]

# New contacts: customer name, name, email, phone (any form: normalised), language, job
# title, birthday (YYYY-MM-DD or ""), preferred channel, WeChat id
NEW_CONTACTS: list[tuple[str, str, str, str, str, str, str, str, str]] = [
    ("鼎盛控股集团 Dingsheng Holdings", "沈建华", "shen.jianhua@dingsheng.example.com",
     "138 1760 2201", Language.SIMPLIFIED_CHINESE, "集团 CIO", "1971-03-14",
     PreferredChannel.WECHAT, "shenjh_ds"),
    ("鼎盛控股集团 Dingsheng Holdings", "Grace Lau", "grace.lau@dingsheng.example.com",
     "+86 139 1760 2202", Language.ENGLISH, "Group procurement lead", "1986-11-02",
     PreferredChannel.EMAIL, ""),
    ("鼎盛物流（上海）有限公司", "马丽娟", "ma.lijuan@dingsheng-logistics.example.com",
     "+86 137 2180 3301", Language.SIMPLIFIED_CHINESE, "运营经理", "1984-07-21",
     PreferredChannel.PHONE, "malijuan84"),
    ("鼎盛零售（北京）有限公司", "郭涛", "guo.tao@dingsheng-retail.example.com",
     "136 0110 4401", Language.SIMPLIFIED_CHINESE, "门店 IT 主管", "1990-12-05",
     PreferredChannel.SMS, ""),
    ("Dingsheng Trading (HK) Ltd", "Kevin Cheung", "kevin.cheung@dingsheng-hk.example.com",
     "+852 9123 4567", Language.ENGLISH, "Finance manager", "1979-02-28",
     PreferredChannel.EMAIL, ""),
    ("广州南粤食品有限公司", "梁嘉欣", "liang.jiaxin@nanyue-food.example.com",
     "135 2020 5501", Language.SIMPLIFIED_CHINESE, "采购经理", "1988-05-09",
     PreferredChannel.WECHAT, "jiaxin_ny"),
    ("Harbor & Pine Legal LLP", "Thomas Reid", "thomas.reid@harborpine.example.com",
     "+44 20 7946 0321", Language.ENGLISH, "Practice manager", "1975-09-30",
     PreferredChannel.EMAIL, ""),
    ("Harbor & Pine Legal LLP", "Aisha Khan", "aisha.khan@harborpine.example.com",
     "+44 7911 123456", Language.ENGLISH, "IT lead", "1992-01-17",
     PreferredChannel.PHONE, ""),
    ("Olivia Brown", "Olivia Brown", "olivia.brown@example.co.uk",
     "+44 7912 345678", Language.ENGLISH, "", "1995-06-12",
     PreferredChannel.SMS, ""),
]  # fmt: skip

# Existing demo contacts, by email: (job title, birthday, preferred channel, WeChat id)
CONTACT_DETAILS: dict[str, tuple[str, str, str, str]] = {
    "chen.wei@huadong.example.com": (
        "IT 经理",
        "1980-04-18",
        PreferredChannel.WECHAT,
        "chenwei_hd",
    ),
    "linda.xu@huadong.example.com": ("Plant manager", "1983-10-03", PreferredChannel.EMAIL, ""),
    "liu.yang@yunqiao.example.com": (
        "运维负责人",
        "1989-08-26",
        PreferredChannel.PHONE,
        "liuyang89",
    ),
    "zhao.lei@zhixing.example.com": ("调度主管", "1982-02-11", PreferredChannel.PHONE, ""),
    "lin.xiao@xinghe.example.com": (
        "技术总监",
        "1987-12-24",
        PreferredChannel.WECHAT,
        "linxiao_xh",
    ),
    "wang.fang@example.com": ("", "1958-09-09", PreferredChannel.PHONE, ""),
    "mike@northwind.example.com": ("Head of finance", "1978-05-30", PreferredChannel.EMAIL, ""),
    "ana.ruiz@northwind.example.com": (
        "IT administrator",
        "1991-03-07",
        PreferredChannel.EMAIL,
        "",
    ),
    "raj.patel@pacificcrest.example.com": (
        "Network lead",
        "1985-11-19",
        PreferredChannel.PHONE,
        "",
    ),
    "emily.carter@example.org": ("", "1993-07-04", PreferredChannel.EMAIL, ""),
}

# Further addresses and numbers: contact email, kind, value, label
POINTS: list[tuple[str, str, str, str]] = [
    ("chen.wei@huadong.example.com", "email", "chenwei.hd@163.example.com", "私人 personal"),
    ("chen.wei@huadong.example.com", "phone", "+86 138 2110 0101", "手机 mobile"),
    ("mike@northwind.example.com", "phone", "+1 415 555 0161", "mobile"),
    ("raj.patel@pacificcrest.example.com", "email", "raj@pacificcrest.example.com", "alias"),
    ("shen.jianhua@dingsheng.example.com", "phone", "+86 21 6288 1200", "办公室 office"),
    ("thomas.reid@harborpine.example.com", "email", "it@harborpine.example.com", "team"),
]

# customer name, kind, name, reference, starts (days from today), ends (days or None),
# renews automatically, value
CONTRACTS: list[tuple[str, str, str, str, int, int | None, bool, str]] = [
    ("华东精密制造有限公司 Huadong Precision", ContractKind.CONTRACT,
     "2026 年度维保合同 Annual maintenance", "HT-2026-0107", -353, 12, False, "480000.00"),
    ("上海云桥科技有限公司", ContractKind.SUBSCRIPTION, "SaaS 企业版订阅 Enterprise plan",
     "SUB-YQ-2025", -340, 25, True, "96000.00"),
    ("北京智行物流有限公司", ContractKind.CONTRACT, "调度系统运维合同", "HT-2025-0311",
     -405, -40, False, "150000.00"),
    ("深圳星河互娱科技", ContractKind.CONTRACT, "CDN 加速服务合同 CDN service", "HT-2026-0219",
     -336, 29, False, "360000.00"),
    ("Northwind Traders", ContractKind.CONTRACT, "Gold support plan", "NW-SUP-2026", -358, 7,
     False, "42000.00"),
    ("Pacific Crest Logistics", ContractKind.CONTRACT, "24x7 Premium Support", "PCL-PS-2026",
     -165, 200, True, "180000.00"),
    ("Pacific Crest Logistics", ContractKind.SUBSCRIPTION, "Fleet telemetry add-on",
     "PCL-TEL-01", -60, 305, True, "24000.00"),
    ("鼎盛控股集团 Dingsheng Holdings", ContractKind.CONTRACT,
     "集团框架协议 Group framework agreement", "DS-FW-2026", -30, 700, False, "5000000.00"),
    ("鼎盛物流（上海）有限公司", ContractKind.SUBSCRIPTION, "车队管理订阅 Fleet subscription",
     "DS-LOG-SUB", -347, 18, True, "120000.00"),
    ("Harbor & Pine Legal LLP", ContractKind.CONTRACT, "Managed service desk", "HP-MSD-01",
     -90, None, False, "60000.00"),
    ("王芳", ContractKind.SUBSCRIPTION, "家庭宽带 Home broadband", "BB-0501", -200, 165, True,
     "1188.00"),
]  # fmt: skip

# A contact's consent for each purpose cycles through these (granted, source), shifted by
# the contact's place so that the demo holds every combination.
CONSENT_PATTERNS: list[tuple[bool, str]] = [
    (True, ConsentSource.FORM),
    (True, ConsentSource.AGENT),
    (False, ConsentSource.UNSUBSCRIBE),
    (True, ConsentSource.IMPORT),
    (True, ConsentSource.API),
    (False, ConsentSource.AGENT),
]
PURPOSES = [Purpose.SERVICE_EMAIL, Purpose.MARKETING_EMAIL, Purpose.PHONE, Purpose.SMS]
CONSENT_NOTES: dict[str, str] = {
    ConsentSource.FORM: "官网订阅表单 website sign-up",
    ConsentSource.AGENT: "电话中确认 confirmed on a call",
    ConsentSource.UNSUBSCRIBE: "邮件退订链接 unsubscribe link",
    ConsentSource.IMPORT: "展会名单导入 expo list import",
    ConsentSource.API: "CRM 同步 CRM sync",
}

# kind, address, reason, note
SUPPRESSIONS: list[tuple[str, str, str, str]] = [
    ("email", "dispatch@zhixing.example.com", SuppressionReason.BOUNCED, "邮箱已停用 mailbox gone"),
    (
        "email",
        "sam.taylor@example.net",
        SuppressionReason.COMPLAINED,
        "marked our newsletter as spam",
    ),
    ("email", "emily.carter@example.org", SuppressionReason.UNSUBSCRIBED, "unsubscribe link, May"),
    ("phone", "+8613800000501", SuppressionReason.MANUAL, "本人要求不接营销电话"),
]

GOLD_AND_PLATINUM: dict[str, Any] = {
    "all": [{"field": "customer.tier", "op": "in", "value": ["gold", "platinum"]}]
}
ENDING_SOON: dict[str, Any] = {
    "all": [{"field": "contract.ending_within_days", "op": "within", "value": 30}]
}
# name, description, kind, definition
SEGMENTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("金牌与白金客户 Gold and platinum customers",
     "季度关怀邮件的受众 — the quarterly care mailing's audience.", "dynamic", GOLD_AND_PLATINUM),
    ("30 天内合同到期 Contracts ending within 30 days",
     "续约提醒 — renewal reminders.", "dynamic", ENDING_SOON),
    ("2026 客户大会嘉宾 Customer summit 2026 guests",
     "手工挑选的名单 — hand-picked list.", "static", {}),
]  # fmt: skip
# Members of the static list, by email.
SUMMIT_GUESTS = [
    "chen.wei@huadong.example.com",
    "liu.yang@yunqiao.example.com",
    "mike@northwind.example.com",
    "raj.patel@pacificcrest.example.com",
    "shen.jianhua@dingsheng.example.com",
    "thomas.reid@harborpine.example.com",
]

# The finished import: a trade-fair list of contacts. line: (action, values, reasons)
IMPORT_FILE_NAME = "2026 展会名单 expo-leads.csv"
IMPORT_HEADERS = ["姓名 Name", "Email", "电话 Phone", "职位 Title"]
IMPORT_MAPPING = {
    "姓名 Name": "name",
    "Email": "email",
    "电话 Phone": "phone",
    "职位 Title": "title",
}
IMPORT_ROWS: list[tuple[str, str, str, str]] = [
    ("何静", "he.jing@expo-lead.example.cn", "139 1234 8801", "市场总监"),
    ("Daniel Moore", "daniel.moore@expo-lead.example.com", "+1 646 555 0188", "CTO"),
    ("刘洋", "liu.yang@yunqiao.example.com", "+86 138 1234 8803", "运维负责人"),
    ("王小明", "wang.xiaoming@@expo-lead", "12345", "采购"),
]

LEGAL_HOLD_CUSTOMER = "北京智行物流有限公司"
LEGAL_HOLD_REASON = (
    "诉讼保全：合同纠纷（2026）京 0105 民初 4121 号 / Litigation hold: contract dispute"
)
# The merge: a duplicate entered by hand, merged into the demo's customer.
MERGED_DUPLICATE = ("Northwind Traders Inc.", "Northwind Traders")
# A customer keyed in twice, awaiting review on the duplicates screen: (original, twin).
DUPLICATE_CUSTOMER = ("上海云桥科技有限公司", "上海云桥科技 有限公司")
