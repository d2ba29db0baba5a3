"""docs/benchmarks.md: machine notes, a summary, and one section per benchmark.

Each section sits between markers with its summary rows as JSON, so running one
benchmark alone replaces its own section and keeps the others' last results.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from . import NAMES
from .env import DATABASE_URL, REDIS_DB, REDIS_URL, ROOT

DOC = ROOT / "docs" / "benchmarks.md"
ORDER = NAMES
_SECTION = re.compile(
    r"<!-- bench:section (?P<name>\w+) (?P<meta>\{.*?\}) -->\n(?P<body>.*?)"
    r"<!-- /bench:section (?P=name) -->",
    re.S,
)


@dataclass
class Section:
    name: str
    title: str
    body: str
    # (figure, measured, goal, verdict) for the summary table
    summary: list[tuple[str, str, str, str]] = field(default_factory=list)
    date: str = ""
    seconds: float = 0.0


def table(header: list[str], rows: list[list[str]] | list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def code(text: str, lang: str = "") -> str:
    return f"```{lang}\n{text.rstrip()}\n```"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**not met**")


# --- the machine ------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_count() -> int:
    try:
        return Path("/proc/cpuinfo").read_text().count("\nprocessor") + 1
    except OSError:
        return 0


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_notes() -> list[tuple[str, str]]:
    import psycopg
    import redis

    with psycopg.connect(DATABASE_URL) as conn:
        pg = conn.execute("SELECT version()").fetchone()
        settings = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('shared_buffers','work_mem','synchronous_commit','max_connections',"
            "'effective_cache_size','random_page_cost','jit') ORDER BY name"
        ).fetchall()
    client = redis.Redis.from_url(REDIS_URL)
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
    pg_settings = ", ".join(f"{n}={v}" for n, v in settings)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    return [
        ("CPU", f"{_cpu_count()} x {_cpu_model()}"),
        ("RAM", _mem_total()),
        ("Kernel", f"Linux {kernel}"),
        ("PostgreSQL", (pg[0] if pg else "?").split(" on ")[0] + " at 127.0.0.1:5432 (TCP)"),
        ("PostgreSQL settings", pg_settings + " (stock configuration)"),
        ("Redis", f"{redis_version} at 127.0.0.1:6379, db {REDIS_DB}"),
        ("Python", platform.python_version()),
        ("Code", code_state()),
        ("Load average when the report was written", " / ".join(load) or "unknown"),
        (
            "Packages",
            ", ".join(
                f"{p} {_version(p)}"
                for p in (
                    "Django",
                    "django-viewflow",
                    "djangorestframework",
                    "psycopg",
                    "gunicorn",
                    "uvicorn",
                    "celery",
                    "channels-redis",
                )
            ),
        ),
    ]


def code_state() -> str:
    """The commit measured, and uncommitted changes outside the benchmark itself."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    head = git("log", "-1", "--format=%h %s")
    changed = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if not line[3:].startswith(("tests/bench/", "docs/benchmarks.md"))
    ]
    dirty = ", ".join(changed[:8]) + (" …" if len(changed) > 8 else "") if changed else "none"
    return f"git {head}; uncommitted changes outside the benchmark: {dirty}"


# --- the document -------------------------------------------------------------------
def _existing() -> dict[str, Section]:
    if not DOC.exists():
        return {}
    out = {}
    for m in _SECTION.finditer(DOC.read_text()):
        meta = json.loads(m.group("meta"))
        out[m.group("name")] = Section(
            m.group("name"),
            meta.get("title", m.group("name")),
            m.group("body"),
            [tuple(r) for r in meta.get("summary", [])],
            meta.get("date", ""),
            meta.get("seconds", 0.0),
        )
    return out


INTRO = """\
# Kefu benchmarks

Generated by `make bench` (`python -m tests.bench`; one benchmark alone:
`python -m tests.bench intake|queue|timers|push|sockets|surveys`). The benchmarks measure
and report; they never fail on time. Every latency is a distribution over many requests or
timers (median, p95, p99, max), never a single timing. PostgreSQL and Redis
figures on a shared 2-core machine are noisy: compare runs by their medians and
p95, and expect ±10-20 % between runs. The machine is shared with other work
(other people's test runs, servers): every CPU column shows what the measured
processes used and, as "other", what the rest of the machine used in the same
window, so a disturbed measurement shows as one.

Each run drops and recreates the database `kefu_bench` on the local PostgreSQL,
migrates it with `manage.py migrate` (or copies `kefu_bench_migrated`, the result of
the last migrate, while no migration file and no installed package changed), flushes
Redis db 5, and seeds the desk
with `tests.factories.build_desk()` plus 6 more online agents in the routed
team, capacities of 1,000,000 and three escalation levels on every SLA policy
(notify the supervisor at 90 %, raise the priority at 100 %, reassign to
Billing at 150 % of the resolution target). Nothing else is touched.
"""


def topology() -> str:
    return f"""\
Everything runs on this one machine, over loopback, and competes for the same CPUs:

* **Web** (intake, queue): the bench process is the load generator (Python
  threads, one `http.client` connection each, closed loop: a thread sends its
  next request when the previous answer is read) → TCP 127.0.0.1:<free port> →
  `gunicorn project.wsgi -k sync -w N` (or `uvicorn project.asgi:application
  --workers N`) with `KEFU_ENV=production` (DEBUG off), `KEFU_SECRET_KEY=bench`,
  `KEFU_ALLOWED_HOSTS=127.0.0.1`, `KEFU_LOG_LEVEL=WARNING`, token
  authentication → PostgreSQL `{DATABASE_URL}` (persistent connections,
  `CONN_MAX_AGE=60`, health checks on) and Redis `{REDIS_URL}` (channel layer
  for the real-time pushes each intake makes after commit, cache, Celery
  broker). gunicorn's sync workers close the connection after every response,
  so each request includes a loopback TCP connect.
* **Timers**: `celery -A project worker -B --concurrency 2` (beat embedded,
  `processes.tasks.dispatch_due_timers` every second fans out
  `processes.tasks.fire_due_timers`, which runs `processes.dispatcher.drain()`), broker
  Redis db 5, same database and settings, `--without-gossip --without-mingle`;
  the second configuration runs two such worker processes (beat only in the
  first). The bench process only arms the timers and polls the database
  (every 0.1 s).
* **In-process** (profiles, EXPLAIN, seeding): the bench process itself, with
  the same production settings."""


def write(sections: list[Section]) -> Path:
    """Merges this run's sections into the document (others keep their last results)."""
    merged = _existing()
    for s in sections:
        merged[s.name] = s
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [INTRO, f"_Last written: {now}._\n"]
    parts.append("## Summary\n")
    rows = []
    for name in ORDER:
        if name in merged:
            s = merged[name]
            rows += [[f"{s.title} ({s.date})", *r] for r in s.summary]
    parts.append(table(["benchmark", "figure", "measured", "goal", "verdict"], rows) + "\n")
    parts.append("## Topology\n\n" + topology() + "\n")
    parts.append(
        "## Machine\n\n"
        + table(["", ""], [list(r) for r in machine_notes()])
        + f"\n\nDate of this run: {now}.\n"
    )
    for name in ORDER:
        if name not in merged:
            continue
        s = merged[name]
        meta = json.dumps(
            {"title": s.title, "summary": s.summary, "date": s.date, "seconds": s.seconds},
            ensure_ascii=False,
        )
        body = s.body if s.body.endswith("\n") else s.body + "\n"
        parts.append(
            f"<!-- bench:section {name} {meta} -->\n{body}<!-- /bench:section {name} -->\n"
        )
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(parts))
    return DOC
