"""``manage.py load_demo``: a small, believable service desk to try Kefu on.

Reference data (roles, people, teams, calendars, SLA policies, customers) is
written directly: no service owns it yet. Every ticket is opened and moved
only through ``tickets.services``, so each one is a real process with its SLA
timers armed; nothing here writes a ticket field. The short P1 targets make
warnings, breaches and escalations happen on their own minutes after
``make run`` starts. A second run finds the ``admin`` user and changes nothing.

The passwords equal the user names: demo only, never on a reachable server.
"""

# Chinese text is written with its own full-width punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count

from customers.choices import CustomerKind, CustomerTier, Language
from customers.models import Contact, Customer
from org.choices import AssignmentStrategy, Presence
from org.models import AgentProfile, Team
from org.roles import ROLE_ADMINISTRATOR, ROLE_AGENT, ROLE_SUPERVISOR, ROLES
from sla.models import BusinessCalendar, SlaPolicy
from tickets import services
from tickets.choices import Channel, Priority, TicketStatus
from tickets.models import Category, RoutingRule, Ticket

from ._demo_mail import load_mail_demo

DEMO_MARKER_USERNAME = "admin"
# The reopened ticket whose customer then complains (the demo complaint escalated from it).
ESCALATED_SUBJECT = "Credit note not applied in May"
# The demo's administrator and supervisor sign in with a second factor, as those roles must
# (docs/security.md, "Second factor"); their authenticator secrets are fixed and printed in
# the README so anyone can add them to an app (or compute a code with the README's one-liner).
DEMO_TOTP_SECRETS = {
    "admin": "KEFUDEMOADMINKEFUDEMOADMINKEFUDE",
    "supervisor": "KEFUDEMOSUPERVISORKEFUDEMOSUPERV",
}
CALENDAR_NAME = "Shanghai office"
SUPPORT = "Support 技术支持"
BILLING = "Billing 账务"
MINUTE, HOUR = 60, 3600

OFFICE_HOURS = {
    day: [["09:00", "12:00"], ["13:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
}
# A few public holidays of mainland China (demo data, not an official schedule).
HOLIDAYS = [
    "2026-01-01",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-04-06",
    "2026-05-01",
    "2026-05-04",
    "2026-05-05",
    "2026-06-19",
    "2026-09-25",
    "2026-10-01",
    "2026-10-02",
    "2026-10-05",
    "2026-10-06",
    "2026-10-07",
    "2027-01-01",
    "2027-02-08",
    "2027-02-09",
    "2027-02-10",
    "2027-02-11",
    "2027-02-12",
    "2027-10-01",
]

# code: (name, required skill)
CATEGORIES = {
    "billing": ("账单与发票 Billing & invoices", "billing"),
    "network": ("网络与连接 Network & connectivity", "network"),
    "account": ("账户与登录 Account & sign-in", ""),
    "general": ("一般咨询 General enquiry", ""),
}

# key: (kind, name, tier, region, tags)
CUSTOMERS: dict[str, tuple[str, str, str, str, list[str]]] = {
    "huadong": (
        CustomerKind.COMPANY,
        "华东精密制造有限公司 Huadong Precision",
        CustomerTier.PLATINUM,
        "cn-east",
        ["manufacturing", "key-account"],
    ),
    "yunqiao": (
        CustomerKind.COMPANY,
        "上海云桥科技有限公司",
        CustomerTier.GOLD,
        "cn-east",
        ["saas", "renewal-2026"],
    ),
    "zhixing": (
        CustomerKind.COMPANY,
        "北京智行物流有限公司",
        CustomerTier.STANDARD,
        "cn-north",
        ["logistics"],
    ),
    "xinghe": (
        CustomerKind.COMPANY,
        "深圳星河互娱科技",
        CustomerTier.GOLD,
        "cn-south",
        ["gaming", "24x7"],
    ),
    "wangfang": (CustomerKind.INDIVIDUAL, "王芳", CustomerTier.STANDARD, "cn-south", ["consumer"]),
    "northwind": (
        CustomerKind.COMPANY,
        "Northwind Traders",
        CustomerTier.GOLD,
        "us-west",
        ["retail", "b2b"],
    ),
    "pacific": (
        CustomerKind.COMPANY,
        "Pacific Crest Logistics",
        CustomerTier.PLATINUM,
        "us-west",
        ["logistics", "24x7", "key-account"],
    ),
    "emily": (
        CustomerKind.INDIVIDUAL,
        "Emily Carter",
        CustomerTier.STANDARD,
        "us-east",
        ["consumer", "newsletter"],
    ),
}

# key: (customer key or None for a walk-in, name, email, phone, language)
CONTACTS: dict[str, tuple[str | None, str, str, str, str]] = {
    "chen": ("huadong", "陈伟", "chen.wei@huadong.example.com", "+86 21 5550 0101", "zh-hans"),
    "linda": ("huadong", "Linda Xu", "linda.xu@huadong.example.com", "+86 21 5550 0102", "en"),
    "liu": ("yunqiao", "刘洋", "liu.yang@yunqiao.example.com", "+86 21 5550 0201", "zh-hans"),
    "zhao": ("zhixing", "赵磊", "zhao.lei@zhixing.example.com", "+86 10 5550 0301", "zh-hans"),
    "lin": ("xinghe", "林晓", "lin.xiao@xinghe.example.com", "+86 755 5550 0401", "zh-hans"),
    "wangfang": ("wangfang", "王芳", "wang.fang@example.com", "+86 138 0000 0501", "zh-hans"),
    "mike": ("northwind", "Mike Johnson", "mike@northwind.example.com", "+1 415 555 0601", "en"),
    "ana": ("northwind", "Ana Ruiz", "ana.ruiz@northwind.example.com", "+1 415 555 0602", "en"),
    "raj": ("pacific", "Raj Patel", "raj.patel@pacificcrest.example.com", "+1 206 555 0701", "en"),
    "emily": ("emily", "Emily Carter", "emily.carter@example.org", "+1 617 555 0801", "en"),
    # walk-ins: opened by email address, the contact is created at intake
    "zhou": (None, "周敏", "zhou.min@example.com", "", "zh-hans"),
    "sam": (None, "Sam Taylor", "sam.taylor@example.net", "", "en"),
}


class Plan(StrEnum):
    """What happens to a ticket after it opens; the comment names the status it ends in."""

    STAY_NEW = "stay_new"  # new: nobody was online to take it
    URGE_NEW = "urge_new"  # new, urged: the team's supervisors are told
    CLAIM = "claim"  # open: agent1 claims it from the team queue
    ASSIGN = "assign"  # open: the supervisor gives it to agent2
    WAIT = "wait"  # open: no reply yet, the SLA clock runs
    URGE = "urge"  # open: no reply yet, urged twice
    REPLY = "reply"  # open: a public reply and an internal note
    HOLD = "hold"  # pending_customer: a question for the customer
    RESUMED = "resumed"  # open: on hold until the customer answered
    RESOLVE = "resolve"  # resolved
    CLOSE = "close"  # closed after resolving
    CLOSE_NOW = "close_now"  # closed straight from work (a duplicate)
    CLOSE_HELD = "close_held"  # closed while waiting on the customer
    REOPEN = "reopen"  # open: resolved, then reopened
    REOPEN_CLOSED = "reopen_closed"  # open: closed, then reopened


# Opened while every agent is away, so they wait in the team queue.
UNASSIGNED_PLANS = (Plan.STAY_NEW, Plan.URGE_NEW, Plan.CLAIM, Plan.ASSIGN)


@dataclass(frozen=True)
class DemoTicket:
    plan: Plan
    priority: Priority
    category: str
    channel: Channel
    contact: str
    subject: str
    description: str


# plan | priority | category | channel | contact | subject | description (one ticket a line;
# the first block opens while every agent is away).
TICKET_TABLE = """
stay_new | P2 | network | web | chen | 车间 Wi-Fi 每天下午断线 | 三号车间下午两点后频繁掉线。
stay_new | P3 | account | email | emily | Password reset email never arrives | Not in spam either.
urge_new | P1 | network | phone | raj | Scanners offline at the Tacoma DC | Trucks are queuing.
stay_new | P4 | general | web | zhou | 咨询：春节期间的服务时间 | 请问春节假期是否有人值班？
urge_new | P2 | billing | api | mike | Invoice INV-2026-0142 charged twice | Card charged twice.
stay_new | P3 | general | email | wangfang | App 字体太小，能否调整 | 老人用起来看不清。
claim | P2 | account | web | liu | 子账号无法登录管理后台 | 提示“权限不足”，昨天还正常。
claim | P3 | billing | email | sam | Refund status for order #88213 | Returned two weeks ago.
assign | P2 | network | api | lin | 华南节点游戏延迟突然升高 | 晚高峰延迟从 30ms 升到 300ms。

wait | P1 | network | phone | linda | MES cannot reach the cloud API | Line 2 stopped.
wait | P1 | general | web | zhao | 调度系统整体无法访问 | 所有司机端都打不开。
wait | P2 | billing | email | liu | 续费订单金额与合同不一致 | 合同价格为九折，订单按原价。
urge | P2 | account | phone | ana | SSO sign-in loops back to the login page | Nobody can sign in.
reply | P2 | network | web | lin | 部分玩家无法连接语音服务器 | 主要是移动网络的玩家。
reply | P3 | billing | email | mike | VAT invoice with our new address | Please reissue Q1.
reply | P3 | account | web | wangfang | 换了手机号，收不到验证码 | 旧号码已经停用了。
reply | P2 | general | api | raj | Rate limits before peak season | We expect 5x traffic.
hold | P3 | network | email | chen | VPN 隧道偶发中断 | 每天会断两三次，几分钟后恢复。
hold | P3 | billing | web | emily | Charged after cancelling my plan | Cancelled on the 3rd.
hold | P4 | general | email | zhao | 希望提供英文版操作手册 | 海外分公司需要。
hold | P2 | account | api | ana | Audit log export misses March | The CSV stops at Feb 28.
hold | P3 | network | phone | sam | Router drops the 5 GHz network | Every evening.
hold | P4 | billing | web | lin | 发票抬头需要修改 | 公司名称已变更，需重开发票。
resumed | P3 | account | email | liu | 管理员权限转移 | 原管理员离职，需要转给新同事。
resolve | P2 | billing | web | linda | PO number missing on the invoice | AP rejects it.
resolve | P3 | network | email | wangfang | 家里宽带晚上很慢 | 晚上八点后网速很慢。
resolve | P4 | general | web | emily | How do I change the email language? | For my parents.
resolve | P3 | account | phone | zhao | 新员工账号开通 | 本周入职五位同事。
resolve | P2 | network | api | raj | Webhooks fail with a TLS error | Since the cert rotation.
resolve | P3 | billing | email | liu | 发票已开具但没有收到邮件 | 财务邮箱没有收到。
resolve | P4 | general | web | zhou | 建议：工单页面增加导出功能 | 希望可以导出为 Excel。
close | P3 | account | web | mike | Rename our workspace | To Northwind Traders West.
close | P2 | billing | email | chen | 六月账单重复扣款 | 同一笔费用扣了两次。
close | P4 | general | web | wangfang | 如何修改收货地址 | 搬家了，想改地址。
close | P3 | network | phone | lin | CDN 缓存刷新不生效 | 刷新后仍返回旧文件。
close | P3 | general | email | emily | Thank you, and a feature request | Dark mode, please!
close_now | P4 | billing | email | sam | Re: Refund status for order #88213 | Sending it again.
close_held | P4 | account | web | zhao | 旧账号注销申请 | 请注销测试账号。
reopen | P2 | network | web | raj | Packet loss on the Seattle link | 2-5 % from 14:00 PT.
reopen_closed | P3 | billing | email | ana | Credit note not applied in May | CN-0042 still open.
"""


def parse_tickets(table: str) -> list[DemoTicket]:
    rows = [[cell.strip() for cell in line.split("|")] for line in table.splitlines() if line]
    return [
        DemoTicket(Plan(plan), Priority(priority), category, Channel(channel), contact, *text)
        for plan, priority, category, channel, contact, *text in rows
    ]


TICKETS = parse_tickets(TICKET_TABLE)

TEXTS = {
    "reply": {
        "zh-hans": "您好，我们已经收到您的问题，工程师正在排查，有进展会第一时间通知您。",
        "en": "Hello, thanks for the details. An engineer is on it; we will update you shortly.",
    },
    "question": {
        "zh-hans": "麻烦提供一下出现问题时的截图和大致时间，方便我们定位，谢谢。",
        "en": "Could you send us a screenshot and the time it happened? That will help us a lot.",
    },
    "customer": {
        "zh-hans": "截图已附上，问题大约在上午十点出现。",
        "en": "Screenshot attached; it happened around 10 am.",
    },
    "resolution": {
        "zh-hans": "问题已处理完毕，如仍有疑问请直接回复本工单。",
        "en": "This is fixed on our side; just reply if anything is still wrong.",
    },
    "reopen": {
        "zh-hans": "客户反馈问题再次出现。",
        "en": "The customer reports the problem is back.",
    },
}
DUPLICATE_NOTE = "Duplicate of an earlier ticket from the same customer; closing this one."
NOTES = {
    "billing": "内部备注：已在计费系统核对流水 (checked the billing ledger).",
    "network": "Internal: upstream carrier confirms jitter on the link; ticket CR-7781 opened.",
    "account": "内部备注：已核实申请人身份。",
    "general": "Internal: forwarded the request to the product team.",
}


@dataclass
class Cast:
    admin: Any
    supervisor: Any
    agent1: Any
    agent2: Any


class Command(BaseCommand):
    help = "Load demo data: users, teams, SLA policies, customers and ~40 tickets (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if (
            user_model.objects.filter(username=DEMO_MARKER_USERNAME).exists()
            or BusinessCalendar.objects.filter(name=CALENDAR_NAME).exists()
        ):
            self.stdout.write("demo data already loaded")
        else:
            with transaction.atomic():
                cast = self._people()
                support = self._desk(cast)
                self._sla_policies(escalation_team=support)
                contacts = self._customers()
                self._tickets(cast, contacts)
                mail = load_mail_demo()
            self._summary()
            self.stdout.write(
                "Demo email / 演示邮件: "
                + ", ".join(f"{status}: {n}" for status, n in sorted(mail.items()))
            )
        self._complaints()
        # The customers-360 demo last: it reuses the tickets' and complaints' customers.
        call_command("load_demo_customers", stdout=self.stdout)

    def _complaints(self) -> None:
        """The complaints' demo (its own command: the ticket app never imports complaints),
        one of them escalated from a demo ticket; idempotent as well."""
        ticket = Ticket.objects.filter(subject=ESCALATED_SUBJECT).order_by("id").first()
        ref = f"{ticket.pk}:{ticket.number}:{ticket.assignee_id or ''}" if ticket else ""
        call_command("load_demo_complaints", from_ticket=ref, stdout=self.stdout)

    # --- reference data -------------------------------------------------------------
    def _people(self) -> Cast:
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
        admin = self._user("admin", ROLE_ADMINISTRATOR, groups, superuser=True)
        supervisor = self._user("supervisor", ROLE_SUPERVISOR, groups, staff=True)
        agent1 = self._user("agent1", ROLE_AGENT, groups, first_name="Lei", last_name="Li")
        agent2 = self._user("agent2", ROLE_AGENT, groups, first_name="Hua", last_name="Zhang")
        # Everyone starts away so the first tickets wait in the team queue.
        for user, skills in (
            (agent1, ["billing"]),
            (agent2, ["network", "billing"]),
            (supervisor, ["billing", "network"]),
        ):
            # update_or_create: giving agent1 and agent2 the agent role made their profiles.
            AgentProfile.objects.update_or_create(
                user=user, defaults={"skills": skills, "capacity": 25, "presence": Presence.AWAY}
            )
        for user in (admin, supervisor):
            self._authenticator(user)
        return Cast(admin, supervisor, agent1, agent2)

    def _authenticator(self, user: Any) -> None:
        import base64

        from django_otp.plugins.otp_totp.models import TOTPDevice

        key = base64.b32decode(DEMO_TOTP_SECRETS[user.username]).hex()
        TOTPDevice.objects.create(user=user, name="Demo authenticator", key=key, confirmed=True)

    def _user(
        self,
        username: str,
        role: str,
        groups: dict[str, Group],
        *,
        superuser: bool = False,
        staff: bool = False,
        first_name: str = "",
        last_name: str = "",
    ) -> Any:
        user = get_user_model()(
            username=username,
            email=f"{username}@kefu.localhost",
            first_name=first_name,
            last_name=last_name,
            is_superuser=superuser,
            is_staff=staff or superuser,
        )
        user.set_password(username)  # demo only; validators bypassed on purpose
        user.save()
        user.groups.add(groups[role])
        return user

    def _desk(self, cast: Cast) -> Team:
        """Two teams of the same three people; returns Support, where P1 escalations go."""
        office = BusinessCalendar.objects.create(
            name=CALENDAR_NAME, timezone="Asia/Shanghai", hours=OFFICE_HOURS, holidays=HOLIDAYS
        )
        # Support works around the clock (no calendar: 24x7); Billing keeps office hours.
        support = Team.objects.create(
            name=SUPPORT, assignment=AssignmentStrategy.ROUND_ROBIN, calendar=None
        )
        billing = Team.objects.create(
            name=BILLING, assignment=AssignmentStrategy.LEAST_LOADED, calendar=office
        )
        for team in (support, billing):
            team.members.add(cast.agent1, cast.agent2, cast.supervisor)
            team.supervisors.add(cast.supervisor)
        categories = {
            code: Category.objects.create(code=code, name=name, required_skill=skill)
            for code, (name, skill) in CATEGORIES.items()
        }
        RoutingRule.objects.create(customer_tier=CustomerTier.PLATINUM, team=support, position=10)
        RoutingRule.objects.create(category=categories["billing"], team=billing, position=20)
        RoutingRule.objects.create(team=support, position=100)
        return support

    def _sla_policies(self, *, escalation_team: Team) -> None:
        office = BusinessCalendar.objects.get(name=CALENDAR_NAME)
        standard = [
            {"at_percent": 50, "target": "resolution", "action": "warn"},
            {"at_percent": 100, "target": "resolution", "action": "notify_supervisor"},
            {"at_percent": 150, "target": "resolution", "action": "raise_priority"},
        ]
        urgent = [
            {"at_percent": 100, "target": "first_response", "action": "notify_supervisor"},
            {"at_percent": 50, "target": "resolution", "action": "warn"},
            {"at_percent": 100, "target": "resolution", "action": "notify_supervisor"},
            {
                "at_percent": 150,
                "target": "resolution",
                "action": "reassign",
                "team": escalation_team.pk,
            },
        ]
        p1, p2, p3, p4 = Priority.P1, Priority.P2, Priority.P3, Priority.P4
        gold, platinum = CustomerTier.GOLD, CustomerTier.PLATINUM
        # (name, priority, tier, first response, resolution, warning %, calendar, levels)
        rows = [
            ("P1 紧急 Urgent", p1, None, 15 * MINUTE, 4 * HOUR, 75, None, urgent),
            ("P2 高 High", p2, None, 1 * HOUR, 8 * HOUR, 80, None, standard),
            ("P3 普通 Normal", p3, None, 4 * HOUR, 24 * HOUR, 80, office, standard),
            ("P4 低 Low", p4, None, 8 * HOUR, 72 * HOUR, 80, office, standard[:2]),
            ("P1 Gold 金牌", p1, gold, 10 * MINUTE, 2 * HOUR, 75, None, urgent),
            ("P2 Gold 金牌", p2, gold, 30 * MINUTE, 4 * HOUR, 80, None, standard),
            ("P1 Platinum 白金", p1, platinum, 5 * MINUTE, 1 * HOUR, 75, None, urgent),
            ("P2 Platinum 白金", p2, platinum, 15 * MINUTE, 2 * HOUR, 75, None, standard),
        ]
        for name, priority, tier, first, resolution, warning, calendar, levels in rows:
            SlaPolicy.objects.create(
                name=name,
                priority=priority,
                customer_tier=tier,
                targets={"first_response": first, "resolution": resolution},
                warning_percent=warning,
                calendar=calendar,
                escalation=levels,
            )

    def _customers(self) -> dict[str, Contact]:
        customers = {
            key: Customer.objects.create(kind=kind, name=name, tier=tier, region=region, tags=tags)
            for key, (kind, name, tier, region, tags) in CUSTOMERS.items()
        }
        return {
            key: Contact.objects.create(
                customer=customers[owner],
                name=name,
                email=email,
                phone=phone,
                language=Language(language),
            )
            for key, (owner, name, email, phone, language) in CONTACTS.items()
            if owner is not None
        }

    # --- tickets, only through services ---------------------------------------------
    def _tickets(self, cast: Cast, contacts: dict[str, Contact]) -> None:
        first = [t for t in TICKETS if t.plan in UNASSIGNED_PLANS]
        rest = [t for t in TICKETS if t.plan not in UNASSIGNED_PLANS]
        for spec in first:
            self._play(spec, self._open(spec, cast, contacts), cast)
        AgentProfile.objects.filter(user__in=[cast.agent1, cast.agent2]).update(
            presence=Presence.ONLINE
        )
        for spec in rest:
            self._play(spec, self._open(spec, cast, contacts), cast)

    def _open(self, spec: DemoTicket, cast: Cast, contacts: dict[str, Contact]) -> Ticket:
        params: dict[str, Any] = {
            "actor": cast.admin,
            "subject": spec.subject,
            "description": spec.description,
            "priority": spec.priority,
            "channel": spec.channel,
            "category_code": spec.category,
        }
        contact = contacts.get(spec.contact)
        if contact is not None:
            params.update(contact_id=contact.pk, customer_id=contact.customer_id)
        else:
            _owner, name, email, _phone, _language = CONTACTS[spec.contact]
            params.update(contact_email=email, contact_name=name)
        ticket, _created = services.open_ticket(**params)
        return ticket

    def _play(self, spec: DemoTicket, opened: Ticket, cast: Cast) -> None:
        ticket = Ticket.objects.select_related("assignee").get(pk=opened.pk)
        pk, worker = ticket.pk, ticket.assignee
        if spec.plan not in UNASSIGNED_PLANS and worker is None:
            raise RuntimeError(f"demo ticket {ticket.number} was not assigned automatically")
        person = worker or cast.supervisor  # the worker, always there for the plans that reply
        lang = CONTACTS[spec.contact][4]
        match spec.plan:
            case Plan.STAY_NEW | Plan.WAIT:
                pass
            case Plan.URGE_NEW:
                self._urge(pk, cast, times=1)
            case Plan.URGE:
                self._urge(pk, cast, times=2)
            case Plan.CLAIM:
                services.claim_ticket(ticket_id=pk, actor=cast.agent1)
                self._reply(pk, cast.agent1, lang)
            case Plan.ASSIGN:
                services.assign_ticket(
                    ticket_id=pk, actor=cast.supervisor, assignee_id=cast.agent2.pk
                )
            case Plan.REPLY:
                self._reply(pk, worker, lang)
                services.reply_to_ticket(
                    ticket_id=pk, actor=person, body=NOTES[spec.category], internal=True
                )
            case Plan.HOLD:
                self._hold(pk, worker, lang)
            case Plan.RESUMED:
                self._hold(pk, worker, lang)
                services.record_customer_reply(ticket_id=pk, body=TEXTS["customer"][lang])
            case Plan.RESOLVE:
                self._resolve(pk, worker, lang)
            case Plan.CLOSE:
                self._resolve(pk, worker, lang)
                services.close_ticket(ticket_id=pk, actor=worker)
            case Plan.CLOSE_NOW:
                services.reply_to_ticket(
                    ticket_id=pk, actor=person, body=DUPLICATE_NOTE, internal=True
                )
                services.close_ticket(ticket_id=pk, actor=worker)
            case Plan.CLOSE_HELD:
                self._hold(pk, worker, lang)
                services.close_ticket(ticket_id=pk, actor=worker)
            case Plan.REOPEN:
                self._resolve(pk, worker, lang)
                self._reopen(pk, worker, lang)
            case Plan.REOPEN_CLOSED:
                self._resolve(pk, worker, lang)
                services.close_ticket(ticket_id=pk, actor=worker)
                self._reopen(pk, worker, lang)

    def _urge(self, pk: int, cast: Cast, *, times: int) -> None:
        for count in range(1, times + 1):
            note = f"客户来电催促 / the customer chased us (#{count})"
            services.urge_ticket(ticket_id=pk, actor=cast.supervisor, note=note)

    def _reply(self, pk: int, worker: Any, lang: str) -> None:
        body = TEXTS["reply"][lang]
        services.reply_to_ticket(ticket_id=pk, actor=worker, body=body, internal=False)

    def _hold(self, pk: int, worker: Any, lang: str) -> None:
        body = TEXTS["question"][lang]
        services.reply_to_ticket(ticket_id=pk, actor=worker, body=body, internal=False)
        services.put_on_hold(ticket_id=pk, actor=worker, reason="waiting for a screenshot")

    def _resolve(self, pk: int, worker: Any, lang: str) -> None:
        self._reply(pk, worker, lang)
        services.resolve_ticket(ticket_id=pk, actor=worker, resolution=TEXTS["resolution"][lang])

    def _reopen(self, pk: int, worker: Any, lang: str) -> None:
        services.reopen_ticket(ticket_id=pk, actor=worker, reason=TEXTS["reopen"][lang])

    # --- report ---------------------------------------------------------------------
    def _summary(self) -> None:
        counts = dict(
            Ticket.objects.order_by()
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        per_status = ", ".join(
            f"{status}: {counts.get(status, 0)}" for status in TicketStatus.values
        )
        policies = SlaPolicy.objects.filter(kind="ticket").count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded / 演示数据已加载: {Ticket.objects.count()} tickets "
                f"({per_status}); {Customer.objects.count()} customers, "
                f"{Team.objects.count()} teams, {policies} SLA policies."
            )
        )
        self.stdout.write(
            f"Sign in at {settings.SITE_URL}/ with admin/admin, supervisor/supervisor, "
            "agent1/agent1 or agent2/agent2 (demo passwords: never use them on a reachable "
            "server) / 演示账号登录."
        )
        self.stdout.write(
            "admin and supervisor also need a code from an authenticator app (secrets: "
            + ", ".join(f"{name} {secret}" for name, secret in DEMO_TOTP_SECRETS.items())
            + "; README, 'Demo logins') / 管理员和主管还需输入验证器动态码."
        )
        if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            self.stdout.write(
                f"Emails (survey invitations) are written to {settings.EMAIL_FILE_PATH}/; "
                "set KEFU_EMAIL_URL to send them / 邮件已写入该目录."
            )
