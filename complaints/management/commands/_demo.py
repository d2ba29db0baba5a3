"""The complaints of the demo (``manage.py load_demo_complaints``, run by ``load_demo``).

A manager, two complaint handlers and a complaints team the demo's supervisor leads (every
complaint profile hands its complaints to that team), customers who complain in Chinese and
in English, and about 25 complaints played only through ``complaints.services``: received,
acknowledged, investigated, proposed within and above a handler's limit of authority,
approved, rejected, extended, escalated, answered, disputed, reviewed and closed, so the
audit trail, the SLA clocks, the work queue, the outbox and the survey invitations are the
ones the services write.

Each complaint's story happens in a few milliseconds; afterwards its moments are moved back
to the days the story gives them (received 14 days ago, acknowledged 5 hours later, …): the
timestamps each step wrote move with that step, the SLA clock's start moves with the
intake (as ``tests/factories.make_due`` does for tickets), and deadlines computed from a
step move with it. Then the SLA ladder fires what fell due in those weeks
(``sla.ladder.fire_batch``): warnings, breaches, the supervisor and the manager told, a
severity raised.
"""

# Chinese text is written with its own full-width punctuation; the story table keeps one
# complaint a line.
# ruff: noqa: RUF001, E501

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.models import AuditEvent
from customers.choices import CustomerKind, CustomerTier, Language
from customers.models import Contact, Customer
from org.choices import AssignmentStrategy, Presence
from org.models import AgentProfile, Team
from org.roles import ROLE_AGENT, ROLE_MANAGER, ROLES
from sla import clock as clocks
from sla import ladder
from sla.calendars import business_seconds_between
from sla.models import SlaClock

from ... import services
from ...choices import ComplaintStatus
from ...models import (
    APPROVAL_KIND,
    APPROVAL_TARGET,
    Complaint,
    ComplaintNote,
    ComplaintProfile,
    Extension,
    Proposal,
)
from ...services._common import publish

MARKER_USERNAME = "manager"
TEAM_NAME = "Complaints 投诉处理"
FINAL = "final_answer"

# The manager approves money, so signs in with a second factor (docs/security.md); the
# demo's authenticator secret is fixed and printed in the README.
MANAGER_TOTP_SECRET = "KEFUDEMOMANAGERKEFUDEMOMANAGERKE"

# username: (role, first name, last name)
PEOPLE = {
    "manager": (ROLE_MANAGER, "Min", "Guo"),
    "handler1": (ROLE_AGENT, "Jing", "He"),
    "handler2": (ROLE_AGENT, "Daniel", "Brooks"),
}

# key: (kind, customer name, tier, region, contact name, email, phone, language)
CUSTOMERS: dict[str, tuple[str, str, str, str, str, str, str, str]] = {
    "zhangli": ("i", "张丽", "s", "cn-east", "张丽", "zhang.li@example.cn", "+86 139 0000 1101", "zh"),
    "sunhao": ("i", "孙浩", "g", "cn-north", "孙浩", "sun.hao@example.cn", "+86 139 0000 1102", "zh"),
    "lijianguo": ("i", "李建国", "s", "cn-east", "李建国", "li.jianguo@example.cn", "", "zh"),
    "huangmei": ("i", "黄梅", "s", "cn-south", "黄梅", "huang.mei@example.cn", "", "zh"),
    "xuqing": ("i", "徐青", "g", "cn-east", "徐青", "xu.qing@example.cn", "+86 139 0000 1105", "zh"),
    "zhoujie": ("i", "周杰", "s", "cn-west", "周杰", "zhou.jie@example.cn", "", "zh"),
    "chenjing": ("i", "陈静", "s", "cn-east", "陈静", "chen.jing@example.cn", "", "zh"),
    "gaoyan": ("i", "高燕", "s", "cn-north", "高燕", "gao.yan@example.cn", "", "zh"),
    "qianlei": ("c", "钱记冷链食品有限公司", "s", "cn-east", "钱磊", "qian.lei@qianji.example.cn", "", "zh"),
    "mali": ("c", "杭州禾木文化传媒", "g", "cn-east", "马丽", "ma.li@hemu.example.cn", "", "zh"),
    "dingsheng": (
        "c", "鼎盛贸易有限公司", "g", "cn-east", "吴涛", "wu.tao@dingsheng.example.cn", "", "zh",
    ),
    "oliver": ("i", "Oliver Bennett", "s", "uk", "Oliver Bennett", "oliver.b@example.co.uk", "", "en"),
    "priya": ("i", "Priya Shah", "g", "uk", "Priya Shah", "priya.shah@example.co.uk", "", "en"),
    "tom": ("i", "Tom Walsh", "s", "us-east", "Tom Walsh", "tom.walsh@example.com", "", "en"),
    "hannah": ("i", "Hannah Wright", "s", "uk", "Hannah Wright", "hannah.w@example.co.uk", "", "en"),
    "david": ("i", "David Okafor", "s", "uk", "David Okafor", "d.okafor@example.co.uk", "", "en"),
    "margaret": (
        "i", "Margaret Hughes", "s", "uk", "Margaret Hughes", "m.hughes@example.co.uk", "", "en",
    ),
    "harbour": (
        "c", "Harbour Insurance Brokers", "p", "uk", "Claire Morgan",
        "claire.morgan@harbour.example.co.uk", "+44 20 7946 0100", "en",
    ),
}  # fmt: skip
KINDS = {"i": CustomerKind.INDIVIDUAL, "c": CustomerKind.COMPANY}
TIERS = {"s": CustomerTier.STANDARD, "g": CustomerTier.GOLD, "p": CustomerTier.PLATINUM}
LANGUAGES = {"zh": Language.SIMPLIFIED_CHINESE, "en": Language.ENGLISH}
# The ticket demo's contacts (by email) who also complain.
TICKET_CONTACTS = {
    "wangfang": "wang.fang@example.com",
    "emily": "emily.carter@example.org",
    "mike": "mike@northwind.example.com",
    "ana": "ana.ruiz@northwind.example.com",
    "raj": "raj.patel@pacificcrest.example.com",
    "lin": "lin.xiao@xinghe.example.com",
}


@dataclass(frozen=True)
class Story:
    """One complaint: who, under which profile, what, and what happens when (``steps``:
    ``action@hours`` after it was received; ``proposal``: outcome:root cause:amount:kind)."""

    contact: str
    profile: str
    category: str
    impact: str
    urgency: str
    channel: str
    flags: str
    days_ago: float
    steps: str
    proposal: str
    title: str
    description: str
    desired: str = ""
    options: dict[str, str] = field(default_factory=dict)


# contact | profile | category/subcategory | impact/urgency | channel | flags | days ago |
# steps | proposal | title | description | desired outcome. Flags: reg (regulatory), ticket
# (escalated from a demo ticket), about (about agent2), override=S2:reason.
STORY_TABLE = """
zhangli | standard | service/service-attitude | medium/medium | phone | - | 0.2 | - | - | 营业厅工作人员态度恶劣 | 周六上午在南京西路营业厅办理业务，工作人员不耐烦，还当众指责我。 | 希望得到正式道歉。
oliver | uk-fca | billing/billing-hidden | medium/low | email | - | 1 | - | - | Exit fee nobody mentioned | I was charged a 75 GBP exit fee when I switched; the adviser never told me about it. | Refund the exit fee.
sunhao | cn-banking-insurance | sales/sales-misleading | high/medium | letter | reg | 2 | - | - | 理财产品销售时未充分揭示风险 | 客户经理称该产品“保本保息”，到期后亏损百分之八。 | 退还本金损失并说明情况。
emily | standard | product/product-delivery | low/medium | web | - | 3 | ack@2 contact@20 | - | Parcel lost twice in a row | Order 88341 was marked delivered but never arrived; the replacement went missing too. | Deliver the order or refund it.
wangfang | standard | billing/billing-wrong | medium/medium | phone | about | 9 | ack@1 contact@5 note@30 | - | 客服承诺退款却没有办理 | 上月客服说三天内退回多扣的 58 元，至今没有到账，客服也不再回复。 | 尽快退款。
wangfang | standard | billing/billing-wrong | medium/medium | phone | - | 1 | ack@3 | - | 本月账单再次重复扣费 | 本月话费又被扣了两次，这已经是第二次了。 | 退回重复扣费并保证不再发生。
huangmei | standard | privacy/privacy-data | medium/low | phone | override=S2:可能涉及个人信息泄露，按严重级别处理 | 2 | ack@1 | - | 快递面单泄露了我的身份证号 | 收到的包裹面单上打印了完整的身份证号码。 | 查明原因并停止打印。
ana | standard | billing/billing-refund | high/medium | ticket | ticket | 1.5 | ack@2 contact@6 | - | Credit note still not applied after two tickets | Our ticket about credit note CN-0042 was reopened twice and the credit is still missing from the May invoice. | Apply the credit and confirm in writing.
mike | standard | service/service-delay | high/high | phone | - | 6 | ack@1 contact@3 escalate@50 | - | Outage credit promised in March never arrived | The service credit for the March outage was confirmed by phone and email but never applied. | The credit, and a named contact.
lijianguo | cn-banking-insurance | billing/billing-hidden | medium/medium | letter | - | 14 | ack@5 contact@40 | - | 信用卡年费未经同意扣收 | 办卡时承诺首年免年费，却在第一个月扣了 680 元年费。 | 退还年费。
harbour | uk-fca | service/service-delay | high/low | email | - | 58 | ack@20 contact@100 | - | Claim handling delays on policy HIB-2291 | Our client's claim has waited eight weeks for an assessor; we chased five times. | A decision on the claim this week.
tom | standard | product/product-install | medium/medium | phone | - | 24 | ack@6 contact@48 | - | Installer left the job half done | The technician mounted the unit but never connected it, and nobody came back. | Finish the installation.
dingsheng | cn-banking-insurance | billing/billing-refund | medium/medium | letter | - | 13 | ack@3 contact@24 extend@290 | - | 跨境汇款被退回，款项迟迟未到账 | 6 月 3 日汇往德国的货款被对方银行退回，至今未退回我司账户。 | 查清款项去向并尽快退回。
priya | uk-fca | billing/billing-wrong | medium/medium | email | - | 9 | ack@4 contact@30 propose@180 | upheld:system-defect:850:refund | Charged for a cancelled policy for four months | My home insurance was cancelled in February but the direct debit kept going until June. | All four payments back.
lin | standard | product/product-defect | critical/medium | phone | - | 5 | ack@1 contact@4 propose@90 | upheld:supplier:6800:goodwill | 批量采购的服务器出现同一故障 | 采购的 20 台服务器中有 9 台在一周内出现电源故障，影响线上业务。 | 更换全部设备并赔偿停机损失。
raj | standard | service/service-commitment | high/medium | email | - | 8 | ack@3 contact@10 propose@60 reject@70 | partially_upheld:communication:300:credit | Account manager missed three agreed reviews | The quarterly reviews in our contract were cancelled three times at short notice. | A credit and a new account manager.
qianlei | standard | product/product-delivery | medium/medium | phone | - | 6 | ack@2 contact@20 propose@70 | partially_upheld:supplier:150:voucher | 配送延误导致冷链货物变质 | 冷链配送晚到两天，部分货物已经变质。 | 赔偿变质货物。
mali | standard | sales/sales-contract | low/medium | email | - | 7 | ack@5 contact@30 propose@100 | not_upheld:customer-expectation:: | 续约价格与销售口头承诺不符 | 销售说续约维持原价，合同却上涨了百分之十五。 | 按原价续约。
xuqing | cn-banking-insurance | billing/billing-hidden | medium/high | phone | - | 10 | ack@2 contact@10 propose@80 dispute@150 | partially_upheld:communication:120:credit | 保单贷款利息计算有误 | 保单贷款的利息比合同约定高出近一倍，客服解释不清。 | 按合同重新计算并退还多收利息。
margaret | uk-fca | sales/sales-misleading | high/medium | regulator | reg | 20 | ack@10 contact@50 propose@300 approve@320 accept@400 | upheld:training:1500:refund | Sold a packaged account I could not use | I was sold a packaged bank account with travel insurance although I am over the age limit. | Refund the monthly fees.
zhoujie | cn-banking-insurance | sales/sales-misleading | high/medium | letter | reg | 24 | ack@3 contact@20 propose@150 approve@180 accept@250 review@270 | upheld:staff-error:3000:refund | 代理人诱导退保换购新产品 | 代理人以“升级保障”为由让我退掉旧保单购买新产品，损失了现金价值。 | 恢复原保单或赔偿损失。
hannah | standard | billing/billing-refund | medium/medium | web | - | 18 | ack@4 contact@24 propose@96 close@160 | upheld:process-gap:89.90:refund | Refund for a returned order never arrived | I returned order 77120 five weeks ago and the refund has not arrived. | The refund.
chenjing | standard | service/service-attitude | medium/low | phone | - | 15 | ack@2 contact@6 propose@30 close@120 | partially_upheld:training:50:voucher | 电话客服多次转接无人解决 | 打了四次电话，每次都被转接，最后电话被挂断。 | 有专人跟进。
gaoyan | cn-telecom | billing/billing-wrong | medium/medium | phone | - | 21 | ack@5 contact@20 propose@200 approve@210 close@300 | upheld:system-defect:600:credit | 宽带停机期间仍被收取月租 | 宽带故障停机二十天，当月月租照常收取。 | 退还停机期间的费用。
david | uk-fca | privacy/privacy-marketing | low/medium | email | - | 30 | ack@20 contact@60 propose@240 close@400 | partially_upheld:process-gap:25:goodwill | Marketing calls after I opted out | I opted out of marketing in January and still get two calls a week. | Stop the calls.
"""

TEXTS = {
    "contact": {
        "zh": "已电话联系客户，核实了经过，并告知处理时限。",
        "en": "Called the customer, went through what happened and explained the timeline.",
    },
    "note": {
        "zh": "内部备注：已调取通话录音，正在与账务核对退款流水。",
        "en": "Internal: pulled the call recordings; checking the refund ledger with billing.",
    },
    "resolution": {
        "zh": "经核实，问题属实。我们已按下列方案处理，并对给您带来的不便深表歉意。",
        "en": "We looked into this and found the problem on our side. This is what we will "
        "do, and we are sorry for the trouble.",
    },
    "not_upheld": {
        "zh": "经核实，合同价格与签署的报价单一致，销售人员未作出书面承诺。",
        "en": "We checked the signed quote: the price matches it and no other promise was made.",
    },
    "corrective": {
        "zh": "已修正系统规则并对相关人员进行培训。",
        "en": "Fixed the rule in the system and briefed the team concerned.",
    },
    "extend": {
        "zh": "需等待境外银行回函，申请延期。",
        "en": "We are waiting for the correspondent bank's answer.",
    },
    "escalate": {
        "zh": "客户第三次来电，要求升级处理。",
        "en": "Third call from the customer; needs a supervisor's attention.",
    },
    "reject": {
        "zh": "赔偿金额请按服务协议中的补偿标准重新核算。",
        "en": "The credit should follow the service-credit table in the contract; recheck it.",
    },
    "approve": {"zh": "同意。", "en": "Agreed."},
    "dispute": {
        "zh": "只退还部分利息不够，要求按合同全额重新计算。",
        "en": "A partial refund is not enough; recalculate under the contract.",
    },
    "accept": {"zh": "客户电话确认接受处理结果。", "en": "The customer accepted by phone."},
    "review": {"zh": "质量复核通过。", "en": "Quality review passed."},
}


def parse_stories(table: str) -> list[Story]:
    stories = []
    for line in table.strip().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        contact, profile, category, impact_urgency, channel, flags, days, steps = cells[:8]
        proposal, title, description, desired = cells[8:12]
        impact, urgency = impact_urgency.split("/")
        stories.append(
            Story(
                contact, profile, category, impact, urgency, channel,
                "" if flags == "-" else flags, float(days), "" if steps == "-" else steps,
                "" if proposal == "-" else proposal, title, description, desired,
            )
        )  # fmt: skip
    return stories


STORIES = parse_stories(STORY_TABLE)


def _language(story: Story, contacts: dict[str, Contact]) -> str:
    return "zh" if contacts[story.contact].language.startswith("zh") else "en"


class Timeline:
    """When a story's steps really ran (a few milliseconds apart) and when the demo says
    they happened; ``shift`` moves a moment written by a step to the step's day."""

    def __init__(self, received: datetime) -> None:
        self.received = received
        self.marks: list[tuple[datetime, timedelta]] = []
        self.retargets: list[timedelta] = []
        # The clock's start was moved back already (before an extension, so the extension
        # moves the deadline the customer is told, not the real minute's).
        self.clock_moved = False

    def step(self, hours: float) -> None:
        now = timezone.now()
        self.marks.append((now, self.received + timedelta(hours=hours) - now))

    def delta(self, moment: datetime) -> timedelta:
        chosen = self.marks[0][1]
        for real, delta in self.marks:
            if real <= moment:
                chosen = delta
        return chosen

    def shift(self, moment: datetime | None) -> datetime | None:
        return None if moment is None else moment + self.delta(moment)

    def retarget(self) -> None:
        """The last step set a fresh final-answer target (a dispute, a reopen)."""
        self.retargets.append(self.marks[-1][1])


class DemoComplaints:
    def __init__(self, stdout: Any) -> None:
        self.stdout = stdout

    # --- reference data -----------------------------------------------------------------
    def people(self) -> dict[str, Any]:
        user_model = get_user_model()
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
        out: dict[str, Any] = {}
        for username, (role, first, last) in PEOPLE.items():
            user = user_model(
                username=username,
                email=f"{username}@kefu.localhost",
                first_name=first,
                last_name=last,
            )
            user.set_password(username)  # demo only; validators bypassed on purpose
            user.save()
            user.groups.add(groups[role])
            out[username] = user
        _authenticator(out["manager"], MANAGER_TOTP_SECRET)
        for username in ("handler1", "handler2"):
            AgentProfile.objects.update_or_create(
                user=out[username],
                defaults={"skills": [], "capacity": 40, "presence": Presence.ONLINE},
            )
        for username in ("admin", "supervisor", "agent1", "agent2"):
            out[username] = user_model.objects.filter(username=username).first()
        team = Team.objects.create(name=TEAM_NAME, assignment=AssignmentStrategy.LEAST_LOADED)
        team.members.add(out["handler1"], out["handler2"])
        if out["supervisor"] is not None:
            team.supervisors.add(out["supervisor"])
        ComplaintProfile.objects.update(team=team)
        out["team"] = team
        return out

    def contacts(self) -> dict[str, Contact]:
        out: dict[str, Contact] = {}
        for key, (kind, name, tier, region, person, email, phone, lang) in CUSTOMERS.items():
            customer = Customer.objects.create(
                kind=KINDS[kind], name=name, tier=TIERS[tier], region=region, tags=["complaints"]
            )
            out[key] = Contact.objects.create(
                customer=customer, name=person, email=email, phone=phone, language=LANGUAGES[lang]
            )
        for key, email in TICKET_CONTACTS.items():
            contact = Contact.objects.filter(email=email).first()
            if contact is None:  # the ticket demo is not there: the customer is new
                customer = Customer.objects.create(kind=CustomerKind.INDIVIDUAL, name=key)
                contact = Contact.objects.create(customer=customer, name=key, email=email)
            out[key] = contact
        return out

    # --- the complaints ---------------------------------------------------------------
    def load(self, *, from_ticket: services.FromTicket | None) -> dict[str, int]:
        cast = self.people()
        contacts = self.contacts()
        now = timezone.now()
        for story in STORIES:
            self.play(story, cast, contacts, from_ticket, now)
        fired = 0
        while True:
            claimed, count = ladder.fire_batch()
            fired += count
            if not claimed:
                break
        counts = dict(
            Complaint.objects.order_by()
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        counts["ladder"] = fired
        return counts

    def play(
        self,
        story: Story,
        cast: dict[str, Any],
        contacts: dict[str, Contact],
        from_ticket: services.FromTicket | None,
        now: datetime,
    ) -> None:
        lang = _language(story, contacts)
        contact = contacts[story.contact]
        category, _sep, subcategory = story.category.partition("/")
        flags = dict(
            ([*flag.split("=", 1), ""])[:2] for flag in story.flags.split(",") if flag.strip()
        )
        severity, _sep, reason = flags.get("override", "").partition(":")
        linked = from_ticket if "ticket" in flags else None
        timeline = Timeline(now - timedelta(days=story.days_ago))
        timeline.step(0)
        complaint = services.open_complaint(
            data=services.NewComplaint(
                category=category,
                subcategory=subcategory,
                title=story.title,
                description=story.description,
                desired_outcome=story.desired,
                impact=story.impact,
                urgency=story.urgency,
                channel="phone" if story.channel == "ticket" else story.channel,
                customer_id=contact.customer_id,
                contact_id=contact.pk,
                severity=severity,
                severity_reason=reason,
                regulatory="reg" in flags,
                profile=story.profile,
                about_user_id=cast["agent2"].pk if "about" in flags and cast["agent2"] else None,
                from_ticket=linked,
            ),
            actor=cast["supervisor"] or cast["manager"],
        )
        pk = complaint.pk
        for action, _at, hours in (s.partition("@") for s in story.steps.split()):
            complaint.refresh_from_db()
            timeline.step(float(hours))
            if action == "extend":
                move_clock_start(complaint, timeline)
            self.act(action, complaint, story, cast, lang)
            if action == "dispute":
                timeline.retarget()
        backdate(Complaint.objects.select_related("sla_clock").get(pk=pk), timeline)

    def act(
        self, action: str, complaint: Complaint, story: Story, cast: dict[str, Any], lang: str
    ) -> None:
        pk, handler = complaint.pk, complaint.assignee
        supervisor, manager = cast["supervisor"], cast["manager"]
        match action:
            case "ack":
                services.acknowledge_complaint(complaint_id=pk, actor=handler)
            case "contact":
                services.log_contact(
                    complaint_id=pk, actor=handler, channel="phone", summary=TEXTS["contact"][lang]
                )
            case "note":
                services.add_note(complaint_id=pk, actor=handler, body=TEXTS["note"][lang])
            case "escalate":
                services.escalate_complaint(
                    complaint_id=pk, actor=handler, reason=TEXTS["escalate"][lang]
                )
            case "extend":
                services.extend_deadline(
                    complaint_id=pk, actor=supervisor, reason=TEXTS["extend"][lang]
                )
            case "propose":
                outcome, cause, amount, kind = story.proposal.split(":")
                text = TEXTS["not_upheld" if outcome == "not_upheld" else "resolution"][lang]
                services.propose_resolution(
                    complaint_id=pk,
                    actor=handler,
                    outcome=outcome,
                    resolution=text,
                    root_cause=cause,
                    corrective_action=TEXTS["corrective"][lang] if outcome != "not_upheld" else "",
                    compensation_amount=amount or None,
                    compensation_kind=kind,
                )
            case "approve" | "reject":
                proposal = complaint.proposals.get(status="pending")
                approver = manager if proposal.required_level == "manager" else supervisor
                if action == "approve":
                    services.approve_proposal(
                        complaint_id=pk, actor=approver, reason=TEXTS["approve"][lang]
                    )
                else:
                    services.reject_proposal(
                        complaint_id=pk, actor=approver, reason=TEXTS["reject"][lang]
                    )
            case "accept":
                services.close_complaint(complaint_id=pk, actor=handler, note=TEXTS["accept"][lang])
            case "close":
                services.close_complaint(complaint_id=pk, actor=handler, note=TEXTS["accept"][lang])
            case "dispute":
                assert complaint.contact_id is not None
                services.respond_as_customer(
                    complaint_id=pk,
                    contact_id=complaint.contact_id,
                    answer=complaint.disputes,
                    accept=False,
                    reason=TEXTS["dispute"][lang],
                )
            case "review":
                services.close_complaint(
                    complaint_id=pk, actor=supervisor, note=TEXTS["review"][lang]
                )
            case _:
                raise ValueError(f"unknown demo step {action!r}")


# --- moving a story back to its days ----------------------------------------------------
COMPLAINT_MOMENTS = (
    "received_at",
    "acknowledged_at",
    "first_contact_at",
    "answered_at",
    "responded_at",
    "reviewed_at",
    "closed_at",
    "created_at",
    "updated_at",
)


def backdate(complaint: Complaint, timeline: Timeline) -> None:
    """Every moment the story wrote moves to its step's day (querysets' ``update``: the
    models' ``auto_now`` would write the real time again)."""
    shift = timeline.shift
    values: dict[str, Any] = {name: shift(getattr(complaint, name)) for name in COMPLAINT_MOMENTS}
    if complaint.response_due_at is not None and complaint.answered_at is not None:
        values["response_due_at"] = complaint.response_due_at + timeline.delta(
            complaint.answered_at
        )
    Complaint.objects.filter(pk=complaint.pk).update(**values)
    for note in ComplaintNote.objects.filter(complaint=complaint):
        ComplaintNote.objects.filter(pk=note.pk).update(created_at=shift(note.created_at))
    for proposal in Proposal.objects.filter(complaint=complaint):
        Proposal.objects.filter(pk=proposal.pk).update(
            created_at=shift(proposal.created_at),
            decided_at=shift(proposal.decided_at),
            due_at=proposal.due_at + timeline.delta(proposal.created_at)
            if proposal.due_at
            else None,
        )
    start = timedelta(0) if timeline.clock_moved else timeline.marks[0][1]
    for extension in Extension.objects.filter(complaint=complaint):
        Extension.objects.filter(pk=extension.pk).update(
            created_at=shift(extension.created_at),
            due_before=extension.due_before + start if extension.due_before else None,
            due_after=extension.due_after + start if extension.due_after else None,
        )
    for event in AuditEvent.objects.filter(complaint=complaint):
        AuditEvent.objects.filter(pk=event.pk).update(
            created_at=shift(event.created_at), updated_at=shift(event.updated_at)
        )
    clock = complaint.sla_clock
    if clock is not None and clock.started_at is not None:
        _backdate_clock(clock, timeline)
    _backdate_approval_clock(complaint, timeline)
    complaint = Complaint.objects.select_related("sla_clock", "customer").get(pk=complaint.pk)
    publish("updated", complaint)


def move_clock_start(complaint: Complaint, timeline: Timeline) -> None:
    """The clock starts on the day the complaint was received (``make_due`` of the tests),
    its due moments with it; the targets' met moments are moved later (``backdate``)."""
    if complaint.sla_clock_id is None or timeline.clock_moved:
        return
    clock = SlaClock.objects.filter(pk=complaint.sla_clock_id).first()
    if clock is None or clock.started_at is None:
        return
    clock.started_at = timeline.shift(clock.started_at)
    clocks.save(clock)
    timeline.clock_moved = True


def _backdate_approval_clock(complaint: Complaint, timeline: Timeline) -> None:
    """The last approval's clock moves with its proposal: it starts on the proposal's day
    and stops on the decision's (its due moment is the proposal's ``due_at``)."""
    clock = SlaClock.objects.filter(kind=APPROVAL_KIND, object_id=complaint.pk).first()
    if clock is None or clock.started_at is None:
        return
    clock.started_at = timeline.shift(clock.started_at)
    clock.paused_at = timeline.shift(clock.paused_at)
    clock.stopped_at = timeline.shift(clock.stopped_at)
    state = clock.targets.get(APPROVAL_TARGET) or {}
    met = timeline.shift(parse_datetime(state["met_at"]) if state.get("met_at") else None)
    due = clocks.moment(clock, APPROVAL_TARGET, 100)
    state["met_at"] = met.isoformat() if met is not None else None
    state["breached"] = bool(met is not None and met > due) or (
        f"{APPROVAL_TARGET}:breach" in clock.done
    )
    clock.targets[APPROVAL_TARGET] = state
    clocks.save(clock)


def _backdate_clock(clock: Any, timeline: Timeline) -> None:
    calendar = clocks.calendar_of(clock.terms)
    old_start = clock.started_at
    if not timeline.clock_moved:
        clock.started_at = timeline.shift(clock.started_at)
    clock.paused_at = timeline.shift(clock.paused_at)
    clock.stopped_at = timeline.shift(clock.stopped_at)
    for retarget in timeline.retargets:
        # a dispute's fresh final-answer target runs from the dispute's day
        old_due = clocks.target_due(clock, FINAL)
        if old_due is None:
            continue
        budget = business_seconds_between(calendar, clock.started_at, old_due + retarget)
        clock.terms["targets"] = [
            [name, max(int(budget - clock.paused_seconds), 1) if name == FINAL else seconds]
            for name, seconds in clock.terms["targets"]
        ]
    del old_start
    for name in clocks.target_names(clock):
        state = clock.targets[name]
        met = parse_datetime(state["met_at"]) if state.get("met_at") else None
        met = timeline.shift(met)
        due = clocks.moment(clock, name, 100)
        state["due"] = due.isoformat()
        state["met_at"] = met.isoformat() if met is not None else None
        state["breached"] = bool(met is not None and met > due) or (f"{name}:breach" in clock.done)
    clocks.save(clock)


def summary(counts: dict[str, int]) -> str:
    per_status = ", ".join(
        f"{status}: {counts.get(status, 0)}" for status in ComplaintStatus.values
    )
    total = sum(counts.get(status, 0) for status in ComplaintStatus.values)
    return (
        f"Demo complaints / 演示投诉: {total} ({per_status}); the SLA ladder fired "
        f"{counts.get('ladder', 0)} checkpoints. Sign in as manager/manager, handler1/handler1 "
        "or handler2/handler2 too / 经理和投诉处理人演示账号."
    )


def _authenticator(user: Any, secret: str) -> None:
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    key = base64.b32decode(secret).hex()
    TOTPDevice.objects.create(user=user, name="Demo authenticator", key=key, confirmed=True)
