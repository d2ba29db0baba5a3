"""Shared parts of the real-time benchmarks: the desk of 200 agents, the single uvicorn
web process holding the sockets, and the client / writer subprocesses."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import env
from .env import HOST, LOG_DIR, ROOT, Service, child_env, free_port, wait_for_port
from .seed import LARGE_CAPACITY, seed_desk

LAYERS = ("core", "pubsub")
TEAMS = 4
AGENTS = 200
SUPERVISORS = 4  # one per team; they are in `supervisors` and see every event
# Plans, tokens and results of this run (LOG_DIR is per bench database).
WORK_DIR = LOG_DIR / "ws"


def work_path(name: str) -> Path:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    return WORK_DIR / name


@dataclass(frozen=True)
class RealtimeDesk:
    admin_id: int
    team_ids: list[int]
    members: dict[int, list[int]]  # team id -> agent ids
    agent_tokens: list[str]
    supervisor_tokens: list[str]
    tickets: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # id -> team, agent, P


def seed_realtime(tickets: int, agents: int = AGENTS) -> RealtimeDesk:
    """``seed_desk()`` plus 200 agents (``agents``; DRF tokens) in 4 teams of 50 with a
    supervisor each, and ``tickets`` tickets opened through the intake service, then spread
    over the teams and their agents (direct ORM: routing sends every intake to one team)."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from org.models import AgentProfile, Team
    from tests.factories import role
    from tickets import services
    from tickets.models import Ticket

    desk = seed_desk()
    teams = [Team.objects.get(pk=desk.team_id), Team.objects.get(pk=desk.other_team_id)]
    for n in range(len(teams) + 1, TEAMS + 1):
        teams.append(Team.objects.create(name=f"Bench team {n}", assignment="round_robin"))
    agent_role, supervisor_role = role("agent"), role("supervisor")
    members: dict[int, list[int]] = {t.pk: [] for t in teams}
    agent_tokens: list[str] = []
    for n in range(agents):
        user = User.objects.create(username=f"ws-agent{n + 1}", password="!")
        user.groups.add(agent_role)
        AgentProfile.objects.update_or_create(
            user=user, defaults={"presence": "offline", "capacity": LARGE_CAPACITY}
        )
        team = teams[n % TEAMS]
        team.members.add(user)
        members[team.pk].append(user.pk)
        agent_tokens.append(Token.objects.create(user=user).key)
    supervisor_tokens: list[str] = []
    for n, team in enumerate(teams):
        user = User.objects.create(username=f"ws-supervisor{n + 1}", password="!")
        user.groups.add(supervisor_role)
        team.supervisors.add(user)
        supervisor_tokens.append(Token.objects.create(user=user).key)
    admin = User.objects.get(pk=desk.admin_id)
    spread: dict[int, tuple[int, int, str]] = {}
    for i in range(tickets):
        ticket, _ = services.open_ticket(
            actor=admin,
            subject=f"Live queue bench ticket {i}",
            description="Opened to be changed while 200 agents watch.",
            priority="P3",
            channel="api",
            contact_id=desk.contact_id,
        )
        team = teams[i % TEAMS]
        agent = members[team.pk][(i // TEAMS) % len(members[team.pk])]
        Ticket.objects.filter(pk=ticket.pk).update(team_id=team.pk, assignee_id=agent)
        spread[ticket.pk] = (team.pk, agent, "P3")
    from notifications import realtime

    realtime.wait_for_pending(10.0)
    return RealtimeDesk(
        desk.admin_id, [t.pk for t in teams], members, agent_tokens, supervisor_tokens, spread
    )


def flush_redis() -> None:
    """Empties the bench Redis db (channel layer groups and queues) between servers."""
    import redis

    client = redis.Redis.from_url(env.REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


class WebProcess:
    """One uvicorn process (no ``--workers``: the process that binds is the one that
    serves), production settings, the channel layer chosen by KEFU_CHANNEL_LAYER."""

    def __init__(self, layer: str, tag: str) -> None:
        self.layer = layer
        self.port = free_port()
        argv = [
            sys.executable, "-m", "uvicorn", "project.asgi:application",
            "--host", HOST, "--port", str(self.port), "--lifespan", "off",
            "--log-level", "warning", "--no-access-log",
            "--ws-ping-interval", "20", "--ws-ping-timeout", "20",
        ]  # fmt: skip
        self.service = Service(f"ws-{tag}-{layer}", argv, child_env(KEFU_CHANNEL_LAYER=layer))
        wait_for_port(self.port, self.service, 60)

    @property
    def pid(self) -> int:
        return self.service.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def stop(self) -> None:
        self.service.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    from .cpu import _stat

    proc = _stat(pid)
    return proc.cpu if proc else 0.0


class SocketClientProcess:
    """A process of socket clients, one socket per token, in its own process (its CPU is
    not the server's): it prints ``ready <opened> <failed> <seconds>`` once every socket is
    open, and on ``stop`` writes its result to ``out_path`` and exits."""

    def __init__(
        self,
        argv: list[str],
        tokens: list[str],
        *,
        tokens_path: Path,
        out_path: Path,
        err_path: Path,
    ) -> None:
        self.tokens_path, self.out_path, self.err_path = tokens_path, out_path, err_path
        self.out_path.unlink(missing_ok=True)
        self.tokens_path.write_text(json.dumps(tokens))
        self._err = self.err_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
        )
        self.opened = self.failed = 0
        self.open_seconds = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self) -> None:
        """Blocks until the client has opened every socket (or died)."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"socket clients failed: {line!r}\n{self.tail()}")
        _, opened, failed, seconds = line.split()
        self.opened, self.failed, self.open_seconds = int(opened), int(failed), float(seconds)

    def finish(self, timeout: float = 120.0) -> dict[str, Any]:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._err.close()
        if not self.out_path.exists():
            raise RuntimeError(f"socket clients wrote no result:\n{self.tail()}")
        result: dict[str, Any] = json.loads(self.out_path.read_text())
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        with contextlib.suppress(Exception):
            self._err.close()

    def tail(self) -> str:
        try:
            return "\n".join(self.err_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""


class ClientProcess(SocketClientProcess):
    """A ``tests.bench.ws_clients`` process holding one socket per token."""

    def __init__(self, port: int, tokens: list[str], tag: str, *, record: bool) -> None:
        tokens_path, out_path = work_path(f"{tag}-tokens.json"), work_path(f"{tag}-result.json")
        argv = [sys.executable, "-m", "tests.bench.ws_clients", str(port),
                str(tokens_path), str(out_path)]  # fmt: skip
        if record:
            argv.append("--record")
        super().__init__(
            argv,
            tokens,
            tokens_path=tokens_path,
            out_path=out_path,
            err_path=work_path(f"{tag}.log"),
        )
