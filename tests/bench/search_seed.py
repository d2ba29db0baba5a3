"""The ticket search benchmark's data (``ticket_search``): 1,000,000 tickets (``--quick``:
20,000) with Chinese and English names, subjects and descriptions and their search terms.

The desk, agents, teams, customers, contacts and tickets with their SLA clocks are the
queue benchmark's set-based SQL seed (``queue_seed``); here the contacts and customers get
Chinese and English names and addresses, and every ticket a subject, a description and a
model code drawn from mixed Chinese / English vocabularies. The search terms are the pure
function's (``tickets.search``): computed in Python once per name, subject, description
and code, and joined with the ticket number's terms in SQL; a sample of the rows is checked
against ``ticket_terms`` of the stored text. The GIN index is dropped for the insert and
built afterwards (as a bulk load would). The seeded database is kept for the next run.
"""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from . import env
from .queue_seed import (
    CLOCK_VALUES,
    TICKET_ROWS,
    TICKET_VALUES,
    Scale,
    _policies,
    probe_templates,
    setup_sql,
)
from .seed import BenchDesk
from .sqlseed import insert_select

SAMPLE_CHECK = 300
GIN = "ticket_search_terms_gin"

# --- vocabularies: what service-desk tickets of a Chinese / English desk say --------------
PRODUCTS = [
    ("打印机", "printer"),
    ("笔记本电脑", "laptop"),
    ("路由器", "router"),
    ("投影仪", "projector"),
    ("扫描仪", "scanner"),
    ("显示器", "monitor"),
    ("键盘", "keyboard"),
    ("无线鼠标", "wireless mouse"),
    ("交换机", "switch"),
    ("服务器", "server"),
    ("手机", "phone"),
    ("耳机", "headset"),
    ("摄像头", "webcam"),
    ("移动硬盘", "external drive"),
    ("电源适配器", "power adapter"),
    ("网卡", "network card"),
    ("会议系统", "conference system"),
    ("门禁卡", "access card"),
    ("空调", "air conditioner"),
    ("发票系统", "invoicing system"),
    ("企业邮箱", "mailbox"),
    ("VPN", "VPN"),
    ("Wi-Fi", "Wi-Fi"),
    ("ERP 系统", "ERP"),
    ("OA 系统", "intranet"),
    ("账户", "account"),
    ("密码", "password"),
    ("订单", "order"),
    ("快递", "delivery"),
    ("退款", "refund"),
]
PROBLEMS = [
    ("无法连接", "cannot connect"),
    ("无法开机", "will not power on"),
    ("频繁掉线", "keeps disconnecting"),
    ("运行缓慢", "is very slow"),
    ("显示异常", "display flickers"),
    ("没有反应", "not responding"),
    ("报错", "shows an error"),
    ("登录失败", "login fails"),
    ("卡纸", "paper jam"),
    ("自动重启", "restarts by itself"),
    ("没有声音", "no sound"),
    ("无法打印", "cannot print"),
    ("充电异常", "not charging"),
    ("蓝屏", "blue screen"),
    ("数据丢失", "data lost"),
    ("同步失败", "sync failed"),
    ("配置错误", "wrong configuration"),
    ("需要更换", "needs replacing"),
    ("申请开通", "access requested"),
    ("权限不足", "permission denied"),
]
WHEN = [
    ("今天上午", "this morning"),
    ("昨天下午", "yesterday afternoon"),
    ("上周一", "last Monday"),
    ("系统升级后", "after the upgrade"),
    ("搬迁办公室后", "since the office move"),
    ("断电之后", "after a power cut"),
]
SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"),
    ("袁", "yuan"), ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"),
    ("余", "yu"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("苏", "su"),
    ("欧阳", "ouyang"), ("司马", "sima"), ("诸葛", "zhuge"), ("上官", "shangguan"),
    ("慕容", "murong"),
]  # fmt: skip
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅鹏辉"
    "宇浩然轩泽晨阳博文思雨欣怡佳琪子涵梓睿嘉诗雅婷瑞峰凯"
)
FIRST = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty",
    "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew",
    "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa",
    "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Edward", "Sharon",
    "Jason", "Laura", "Jeffrey", "Cynthia", "Ryan", "Dorothy", "Jacob", "Amy", "Gary",
    "Kathleen", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Emma", "Stephen",
    "Brenda", "Larry", "Pamela", "Justin", "Nicole", "Scott", "Anna", "Brandon", "Samantha",
    "Benjamin", "Katherine", "Samuel", "Christine", "Gregory", "Debra", "Alexander", "Rachel",
    "Patrick", "Carolyn", "Frank", "Janet", "Raymond", "Maria", "Jack", "Olivia", "Dennis",
    "Heather", "Jerry", "Helen", "Tyler", "Catherine",
]  # fmt: skip
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price",
    "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Holloway",
]  # fmt: skip
CITIES = ["上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "武汉", "西安", "苏州"]
BRANDS = ["明达", "华信", "恒通", "远航", "星辰", "天成", "安泰", "博远", "正和", "鼎盛",
          "中联", "新宇", "金桥", "海纳", "瑞丰"]  # fmt: skip
INDUSTRIES = [("科技", "Technology"), ("贸易", "Trading"), ("物流", "Logistics"),
              ("医药", "Pharma"), ("电子", "Electronics"), ("咨询", "Consulting")]  # fmt: skip
EN_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay",
            "Soylent", "Cyberdyne", "Tyrell", "Massive", "Wonka", "Oscorp"]  # fmt: skip
CODE_PREFIXES = ["KX", "HP", "LB", "MX", "TP", "RV", "ZQ", "DL", "SN", "VX", "GT", "PW",
                 "QC", "JM", "EY", "FA", "UB", "WN", "CZ", "HD"]  # fmt: skip
CODES = 20_000


def subjects() -> list[str]:
    """Chinese, English and mixed subjects: every product with every problem, three ways."""
    out = []
    for p_zh, p_en in PRODUCTS:
        for q_zh, q_en in PROBLEMS:
            out.append(f"{p_zh}{q_zh}")
            out.append(f"{p_en[0].upper()}{p_en[1:]} {q_en}")
            out.append(f"{p_zh}{q_zh}（{p_en} {q_en}）")
    return out


def descriptions() -> list[str]:
    out = []
    for k in range(360):
        p_zh, p_en = PRODUCTS[k % len(PRODUCTS)]
        q_zh, q_en = PROBLEMS[(k * 7) % len(PROBLEMS)]
        w_zh, w_en = WHEN[k % len(WHEN)]
        if k % 3 == 0:
            out.append(f"客户反映{p_zh}从{w_zh}开始{q_zh}，已经尝试重启，问题依旧，请尽快处理。")
        elif k % 3 == 1:
            out.append(
                f"The customer says the {p_en} {q_en} {w_en}. A restart did not help; "
                "please call back before five."
            )
        else:
            out.append(f"{w_zh}{p_zh}{q_zh}. Error code E{k:03d}, 用户已重启 {p_en}。")
    return out


def codes() -> list[str]:
    return [
        f"{CODE_PREFIXES[k % 20]}-{1000 + (k * 7919) % 9000}{k // 9000 % 10}" for k in range(CODES)
    ]


def chinese_name(k: int) -> tuple[str, str]:
    """A surname and two given characters, spread over every combination (k -> a
    permutation of them), so that few contacts share a name."""
    combinations = len(SURNAMES) * len(GIVEN) ** 2
    n = (k * 104_729) % combinations
    surname, pinyin = SURNAMES[n % len(SURNAMES)]
    n //= len(SURNAMES)
    return f"{surname}{GIVEN[n % len(GIVEN)]}{GIVEN[n // len(GIVEN)]}", pinyin


def english_name(k: int) -> str:
    return f"{FIRST[k % len(FIRST)]} {LAST[(k // len(FIRST)) % len(LAST)]}"


def contact_rows(ids: list[int]) -> list[tuple[int, str, str]]:
    """(id, name, email) for each contact: two in three Chinese, one in three English."""
    rows = []
    for k, pk in enumerate(ids):
        if k % 3 < 2:
            name, pinyin = chinese_name(k)
            email = f"{pinyin}{k}@example.cn"
        else:
            name = english_name(k)
            first, last = name.lower().split()
            email = f"{first}.{last}{k}@example.com"
        rows.append((pk, name, email))
    return rows


def customer_name(k: int) -> str:
    industry_zh, industry_en = INDUSTRIES[k % len(INDUSTRIES)]
    if k % 2 == 0:
        brand = BRANDS[(k // 2) % len(BRANDS)]
        city = CITIES[(k // 30) % len(CITIES)]
        return f"{city}{brand}{industry_zh}有限公司"
    return f"{EN_WORDS[(k // 2) % len(EN_WORDS)]} {industry_en} Ltd"


# --- the seed ------------------------------------------------------------------------------
@dataclass
class SearchSeed:
    scale: Scale
    agent_id: int
    seconds: dict[str, float]
    sizes: dict[str, str]
    terms_per_ticket: float
    checked: int


def _copy(conn: Any, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _terms(text: str, *, unigrams: bool) -> str:
    """The terms of a text as the elements of a JSON array, without its brackets: each
    ticket's array is these joined and parsed once (five jsonb concatenations per row cost
    more than the rest of the insert)."""
    from tickets.search import text_terms

    return _fragment(text_terms(text, unigrams=unigrams))


def _fragment(terms: set[str]) -> str:
    return json.dumps(sorted(terms), ensure_ascii=False)[1:-1]


NUMBER = TICKET_VALUES["number"]
SEQUENCE = "lpad((t.last_number + t.yn)::text, 6, '0')"
TICKET_SEARCH_VALUES = {
    **TICKET_VALUES,
    "subject": "s.text || ' ' || c.text",
    "description": "d.text",
    # '["t-2026-000123","000123","123",' + the parts' elements + ']', parsed once
    "search_terms": f"""(
        '["' || lower({NUMBER}) || '","' || {SEQUENCE} || '","'
        || (t.last_number + t.yn)::text || '"'
        || concat(',' || nullif(s.terms, ''), ',' || nullif(c.terms, ''),
                  ',' || nullif(d.terms, ''), ',' || nullif(ct.terms, ''),
                  ',' || nullif(cu.terms, ''))
        || ']')::jsonb""",
}
VOCABULARY_JOINS = """
JOIN bench_subjects s ON s.k = (t.g::bigint * 31) % {subjects}
JOIN bench_codes c ON c.k = (t.g::bigint * 7919) % {codes}
JOIN bench_descriptions d ON d.k = (t.g::bigint * 13) % {descriptions}
JOIN bench_contact_terms ct ON ct.id = t.contact_id
LEFT JOIN bench_customer_terms cu ON cu.id = t.customer_id
"""


def seed(desk: BenchDesk, scale: Scale) -> SearchSeed:
    import psycopg

    from .env import DATABASE_URL

    seconds: dict[str, float] = {}
    started = time.monotonic()
    templates = probe_templates(desk)
    subject_list, description_list, code_list = subjects(), descriptions(), codes()
    rows_sql = TICKET_ROWS.format(
        total=scale.tickets,
        recent=scale.recent,
        spacing=f"{scale.spacing:.3f}",
        agents=scale.agents,
        contacts=scale.contacts,
    )
    joins = VOCABULARY_JOINS.format(
        subjects=len(subject_list), codes=len(code_list), descriptions=len(description_list)
    )
    tickets_sql = "\n".join(
        [
            rows_sql,
            insert_select(
                "tickets_ticket", TICKET_SEARCH_VALUES, f"FROM bench_rows t {joins} ORDER BY t.g"
            ),
            insert_select("sla_slaclock", CLOCK_VALUES, "FROM bench_rows t ORDER BY t.g"),
            """
SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), (SELECT max(id) FROM tickets_ticket));
SELECT setval(pg_get_serial_sequence('sla_slaclock', 'id'), (SELECT max(id) FROM sla_slaclock));
""",
        ]
    )
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute(setup_sql(scale))
        conn.execute(
            "CREATE TEMP TABLE bench_policies "
            "(priority text, policy_id bigint, terms jsonb, fr int, res int)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_policies VALUES (%s, %s, %s, %s, %s)", _policies(desk, templates)
            )
        seconds["desk, agents, teams, customers, contacts"] = time.monotonic() - started

        mark = time.monotonic()
        contact_ids = [r[0] for r in conn.execute("SELECT id FROM bench_contacts ORDER BY k")]
        contacts = contact_rows(contact_ids)
        customer_ids = [r[0] for r in conn.execute("SELECT id FROM bench_customers ORDER BY k")]
        customers = [(pk, customer_name(k)) for k, pk in enumerate(customer_ids)]
        conn.execute(
            "CREATE TEMP TABLE bench_contact_names (id bigint, name text, email text, terms text);"
            "CREATE TEMP TABLE bench_customer_names (id bigint, name text, terms text);"
            "CREATE TEMP TABLE bench_subjects (k int PRIMARY KEY, text text, terms text);"
            "CREATE TEMP TABLE bench_codes (k int PRIMARY KEY, text text, terms text);"
            "CREATE TEMP TABLE bench_descriptions (k int PRIMARY KEY, text text, terms text);"
        )
        _copy(
            conn,
            "bench_contact_names",
            "id, name, email, terms",
            [(pk, name, email, _merged(name, email)) for pk, name, email in contacts],
        )
        _copy(
            conn,
            "bench_customer_names",
            "id, name, terms",
            [(pk, name, _terms(name, unigrams=False)) for pk, name in customers],
        )
        for table, values, unigrams in (
            ("bench_subjects", subject_list, True),
            ("bench_codes", code_list, True),
            ("bench_descriptions", description_list, False),
        ):
            _copy(
                conn,
                table,
                "k, text, terms",
                [(k, text, _terms(text, unigrams=unigrams)) for k, text in enumerate(values)],
            )
        conn.execute(
            """
UPDATE customers_contact c SET name = n.name, email = n.email
FROM bench_contact_names n WHERE n.id = c.id;
UPDATE customers_customer c SET name = n.name FROM bench_customer_names n WHERE n.id = c.id;
CREATE TEMP TABLE bench_contact_terms AS SELECT id, terms FROM bench_contact_names;
CREATE UNIQUE INDEX ON bench_contact_terms (id);
CREATE TEMP TABLE bench_customer_terms AS SELECT id, terms FROM bench_customer_names;
CREATE UNIQUE INDEX ON bench_customer_terms (id);
"""
        )
        seconds["names, addresses and vocabularies, their terms (Python)"] = time.monotonic() - mark

        mark = time.monotonic()
        conn.execute(f"DROP INDEX IF EXISTS {GIN}")
        conn.execute(tickets_sql)
        conn.commit()
        seconds[f"{scale.tickets:,} tickets (with their terms) and SLA clocks"] = (
            time.monotonic() - mark
        )
        mark = time.monotonic()
        conn.execute("SET maintenance_work_mem = '1GB'")
        # the definition of tickets 0016
        conn.execute(
            f"CREATE INDEX {GIN} ON tickets_ticket USING gin (search_terms jsonb_path_ops)"
        )
        conn.commit()
        seconds["GIN index build"] = time.monotonic() - mark
        row = conn.execute("SELECT user_id FROM bench_agents WHERE k = 1").fetchone()
        agent_id = row[0] if row else 0

    mark = time.monotonic()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        sizes: dict[str, str] = dict(
            conn.execute(
                "SELECT 'table tickets_ticket (with TOAST)',"
                " pg_size_pretty(pg_total_relation_size('tickets_ticket')"
                " - pg_indexes_size('tickets_ticket'))"
                " UNION ALL SELECT %s, pg_size_pretty(pg_relation_size(%s::regclass))"
                " UNION ALL SELECT 'ticket_created_idx',"
                " pg_size_pretty(pg_relation_size('ticket_created_idx'))",
                [f"index {GIN}", GIN],
            ).fetchall()
        )
        (per_ticket,) = conn.execute(
            "SELECT avg(jsonb_array_length(search_terms)) FROM"
            " (SELECT search_terms FROM tickets_ticket TABLESAMPLE SYSTEM (1)) s"
        ).fetchone() or (0,)
    seconds["VACUUM ANALYZE"] = time.monotonic() - mark
    checked = check_terms(SAMPLE_CHECK)
    return SearchSeed(scale, agent_id, seconds, sizes, float(per_ticket or 0), checked)


def _merged(name: str, email: str) -> str:
    from tickets.search import text_terms

    return _fragment(text_terms(name, unigrams=True) | text_terms(email))


def check_terms(sample: int) -> int:
    """The seeded terms are ``ticket_terms`` of the seeded text (as sets: the seed may hold
    a term twice), for ``sample`` tickets spread over the table."""
    from tickets.models import Ticket
    from tickets.search import ticket_terms

    total = Ticket.objects.count()
    step = max(1, total // sample)
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True)[::step][:sample])
    rows = Ticket.objects.filter(pk__in=ids).values_list(
        "number",
        "subject",
        "description",
        "contact__name",
        "contact__email",
        "customer__name",
        "search_terms",
    )
    for number, subject, description, name, email, customer, stored in rows:
        expected = ticket_terms(
            number=number,
            subject=subject,
            description=description,
            contact_name=name,
            contact_email=email,
            customer_name=customer or "",
        )
        if set(expected) != set(stored):
            raise AssertionError(
                f"seeded terms of {number} differ from ticket_terms: missing"
                f" {sorted(set(expected) - set(stored))[:10]}, extra"
                f" {sorted(set(stored) - set(expected))[:10]}"
            )
    return len(ids)


# --- the seeded database, kept ------------------------------------------------------------
# A full seed takes minutes (most of it the insert and the GIN build); the seeded database is
# kept as a template, ``<bench db>_search``, and copied by the next run while nothing it
# depends on changed (the migrations and packages, this seed's code, tickets.search).
# KEFU_BENCH_RESEED=1 seeds afresh. The quick run always seeds (it takes seconds).
SEED_SOURCES = (
    "tests/bench/search_seed.py",
    "tests/bench/queue_seed.py",
    "tests/bench/sqlseed.py",
    "tests/bench/seed.py",
    "tests/factories/__init__.py",
    "tickets/search.py",
)


def _seed_fingerprint(scale: Scale) -> str:
    import hashlib

    digest = hashlib.sha256(env.schema_fingerprint().encode() + repr(scale).encode())
    for path in SEED_SOURCES:
        digest.update((env.ROOT / path).read_bytes())
    return digest.hexdigest()


def kept_name() -> str:
    return f"{env.DB_NAME}_search"


def restore_seed(scale: Scale) -> SearchSeed | None:
    """The bench database as a copy of the kept seed, if it is this seed's; else None."""
    import os

    import psycopg
    import redis

    if os.environ.get("KEFU_BENCH_RESEED") == "1":
        return None
    fingerprint = _seed_fingerprint(scale)
    with psycopg.connect(env.PG_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [kept_name()],
        ).fetchone()
        kept = json.loads(row[0]) if row and row[0] else None
        if not kept or kept.get("fingerprint") != fingerprint:
            return None
        env.close_db_connections()
        conn.execute(f"DROP DATABASE IF EXISTS {env.DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {env.DB_NAME} TEMPLATE {kept_name()}")
    client = redis.Redis.from_url(env.REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()
    return SearchSeed(scale=scale, **kept["seed"])


def keep_seed(seeded: SearchSeed) -> float:
    """Keeps the freshly seeded bench database as the template the next run copies."""
    import psycopg

    mark = time.monotonic()
    meta = {
        "fingerprint": _seed_fingerprint(seeded.scale),
        "seed": {
            "agent_id": seeded.agent_id,
            "seconds": seeded.seconds,
            "sizes": seeded.sizes,
            "terms_per_ticket": seeded.terms_per_ticket,
            "checked": seeded.checked,
        },
    }
    env.close_db_connections()
    with psycopg.connect(env.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {kept_name()} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {kept_name()} TEMPLATE {env.DB_NAME}")
        conn.execute(f"COMMENT ON DATABASE {kept_name()} IS {literal_text(json.dumps(meta))}")
    return time.monotonic() - mark


def literal_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
