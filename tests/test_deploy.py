"""Several machines (docs/deploy.md): PostgreSQL through libpq's multi-host URL, and Redis
through Sentinel, each with real servers.

* PostgreSQL: ``KEFU_DATABASE_URL`` with two hosts, the first of them down, and
  ``target_session_attrs=read-write``: a Kefu process started with it reaches the second.
  Then a private primary and its streaming standby (``initdb``, ``pg_basebackup -R``), the
  standby listed first: a running Kefu process writes to the primary, and after the primary
  stops and the standby is promoted, to the standby.
* Redis Sentinel: a private ``redis-server`` master and replica and one
  ``redis-server --sentinel`` on free ports (the shared Redis of the suite is not touched).
  A Celery worker and a probe process both run with ``KEFU_REDIS_SENTINELS``; the probe
  writes to the cache, sends a message through the channel layer to a group it joined, and
  pings the worker through the broker. Then ``SENTINEL FAILOVER``: the same two processes,
  with the connections they already hold, must reach the promoted replica for all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection

from project.settings import parse_database_url
from tests.processes import terminate

ROOT = Path(__file__).resolve().parents[1]
MASTER_NAME = "kefu-deploy-test"
PROBE_GROUP = "deploy-probe"
CACHE_DB = 1  # the probe's KEFU_REDIS_URL names db 0; the cache takes the next one
SENTINEL_TEST_SECONDS = 55.0  # the failover test's bound, whatever happens (it takes ~20 s)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], *, timeout: float, what: str, budget: float | None = None
) -> Any:
    """Polls ``condition`` until it returns something true; fails after ``timeout`` s, or at
    ``budget`` (a ``time.monotonic()`` moment: the whole test's deadline) if that is sooner."""
    deadline = time.monotonic() + timeout
    if budget is not None:
        deadline = min(deadline, budget)
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


# --- PostgreSQL -------------------------------------------------------------------------


def test_multi_host_database_url_gives_libpq_its_host_and_port_lists() -> None:
    url = (
        "postgres://kefu:s%40cret@db1:5433,db2,[::1]:5434/kefu"
        "?target_session_attrs=read-write&connect_timeout=3"
    )

    config = parse_database_url(url)

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"]) == ("db1,db2,::1", "5433,5432,5434")
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("kefu", "kefu", "s@cret")
    assert config["OPTIONS"] == {"target_session_attrs": "read-write", "connect_timeout": 3}
    assert config["CONN_MAX_AGE"] == 60
    # one host: dj-database-url's own answer, unchanged
    single = parse_database_url("postgres://kefu@db1:5433/kefu")
    assert (single["HOST"], single["PORT"], single["NAME"]) == ("db1", 5433, "kefu")


@pytest.mark.postgres
def test_kefu_reaches_the_second_host_when_the_first_is_down(db: Any) -> None:
    """A process whose KEFU_DATABASE_URL lists a dead host first connects to the next one."""
    live = connection.settings_dict
    live_port = int(live["PORT"] or 5432)
    dead_port = _free_port()  # nothing listens there
    url = (
        f"postgres://{live['USER']}@127.0.0.1:{dead_port},{live['HOST'] or '127.0.0.1'}:"
        f"{live_port}/{live['NAME']}?target_session_attrs=read-write&connect_timeout=3"
    )
    script = (
        "import django, json; django.setup()\n"
        "from django.db import connection\n"
        "from tickets.models import Ticket\n"
        "with connection.cursor() as c:\n"
        "    c.execute('SELECT inet_server_port(), pg_is_in_recovery()')\n"
        "    port, standby = c.fetchone()\n"
        "print(json.dumps({'settings': [connection.settings_dict['HOST'],\n"
        "                               connection.settings_dict['PORT']],\n"
        "                  'port': port, 'standby': standby,\n"
        "                  'tickets': Ticket.objects.count()}))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "KEFU_DATABASE_URL": url}

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["settings"] == [
        f"127.0.0.1,{live['HOST'] or '127.0.0.1'}",
        f"{dead_port},{live_port}",
    ]
    assert answer["port"] == live_port
    assert answer["standby"] is False
    assert isinstance(answer["tickets"], int)  # Kefu's own tables answer through it


class Cluster:
    """A private PostgreSQL primary and its streaming standby (``pg_basebackup -R``) in a
    temporary directory, on free ports; run as the ``postgres`` user when this is root."""

    def __init__(self) -> None:
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.bin = Path(bindir)
        self.dir = Path(tempfile.mkdtemp(prefix="kefu-deploy-pg-"))
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.dir, "postgres", "postgres")
        self.primary, self.standby = _free_port(), _free_port()
        self.started: list[Path] = []

    def run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_owner, str(self.bin / tool), *args], capture_output=True, text=True
        )
        assert done.returncode == 0, f"{tool} {' '.join(args)}:\n{done.stdout}{done.stderr}"

    def start(self, name: str, port: int) -> None:
        options = f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.dir / f"{name}.log"
        self.run("pg_ctl", "-D", str(self.dir / name), "-o", options, "-l", str(log), "-w", "start")
        self.started.append(self.dir / name)

    def set_up(self) -> None:
        self.run("initdb", "-D", str(self.dir / "primary"), "-U", "postgres", "--auth=trust",
                 "--no-sync")  # fmt: skip
        self.start("primary", self.primary)
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary), "-U", "postgres",
                 "-D", str(self.dir / "standby"), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        self.start("standby", self.standby)

    def crash_primary(self) -> None:
        self.run("pg_ctl", "-D", str(self.dir / "primary"), "-m", "immediate", "stop")
        self.started.remove(self.dir / "primary")

    def promote_standby(self) -> None:
        self.run("pg_ctl", "-D", str(self.dir / "standby"), "-w", "promote")

    def tear_down(self) -> None:
        for data in self.started:
            subprocess.run(
                [*self.as_owner, str(self.bin / "pg_ctl"), "-D", str(data), "-m", "immediate",
                 "stop"], capture_output=True,
            )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


class DatabaseProbe:
    """``_database_probe`` in a subprocess: one JSON answer per line written to it."""

    def __init__(self, url: str) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "KEFU_DATABASE_URL": url}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from tests.test_deploy import _database_probe as p; p()"],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def ask(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the probe died: {self.process.stderr.read() if self.process.stderr else ''}"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        terminate(self.process, timeout=10)


def _database_probe() -> None:
    """The PostgreSQL probe (Kefu's settings, KEFU_DATABASE_URL from the test): for each line
    on stdin, what a request does — Django's check of its persistent connection at the start
    (``close_old_connections``), then a write — and the server that answered, as JSON."""
    import django

    django.setup()
    from django.db import close_old_connections
    from django.db import connection as conn

    while sys.stdin.readline():
        close_old_connections()
        try:
            with conn.cursor() as cursor:
                cursor.execute("CREATE TABLE IF NOT EXISTS deploy_probe (at timestamptz)")
                cursor.execute("INSERT INTO deploy_probe VALUES (now())")
                cursor.execute("SELECT inet_server_port(), pg_is_in_recovery()")
                port, standby = cursor.fetchone()
            answer: dict[str, Any] = {"port": port, "standby": standby}
        except Exception as exc:  # reported to the test, which decides
            answer = {"error": type(exc).__name__}
        print(json.dumps(answer), flush=True)


@pytest.mark.postgres
def test_kefu_follows_a_promoted_standby() -> None:
    """Primary and standby both listed, the standby first: libpq skips the read-only standby;
    once the primary is gone and the standby promoted, the same running process writes to it
    from its next request on."""
    cluster = Cluster()
    probe: DatabaseProbe | None = None
    try:
        cluster.set_up()
        url = (
            f"postgres://postgres@127.0.0.1:{cluster.standby},127.0.0.1:{cluster.primary}/postgres"
            "?target_session_attrs=read-write&connect_timeout=3"
        )
        probe = DatabaseProbe(url)
        assert probe.ask() == {"port": cluster.primary, "standby": False}

        cluster.crash_primary()
        cluster.promote_standby()

        # CONN_HEALTH_CHECKS: the first request finds its connection dead and reconnects
        answers = [probe.ask() for _ in range(2)]
        assert answers == [{"port": cluster.standby, "standby": False}] * 2, answers
    finally:
        if probe is not None:
            probe.stop()
        cluster.tear_down()


# --- Redis Sentinel ---------------------------------------------------------------------


class Server:
    """A ``redis-server`` (or sentinel) of this test, on a free port, logging to a file."""

    def __init__(self, name: str, argv: list[str], workdir: Path) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        terminate(self.process, timeout=10)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]


class Probe:
    """``_sentinel_probe`` in a subprocess: one JSON answer per number written to it."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self._err = (workdir / "probe.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from tests.test_deploy import _sentinel_probe as p; p()"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
        )
        self._answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._answers.put(line)

    def check(self, n: int, timeout: float = 15.0) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{n}\n")
        self.process.stdin.flush()
        try:
            answer: dict[str, Any] = json.loads(self._answers.get(timeout=timeout))
        except queue.Empty:
            pytest.fail(f"the probe did not answer check {n} within {timeout:.0f} s")
        return answer

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        terminate(self.process, timeout=10)
        self._err.close()


def _sentinel_probe() -> None:
    """The probe process (Kefu's settings, with KEFU_REDIS_SENTINELS): for each number ``n`` on
    stdin it sets and reads ``probe:n`` in the cache, sends ``n`` to a group its channel joined
    at start and reads it back, and pings the Celery workers; it answers one JSON line. Every
    step reuses what the process opened before (the cache's pool, the layer's subscription,
    the broker's connections): that is what must follow a failover."""
    import django

    django.setup()
    asyncio.run(_probe_loop())


async def _probe_loop() -> None:
    from channels.layers import get_channel_layer
    from django.core.cache import cache

    from project.celery import app

    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(PROBE_GROUP, channel)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        n = int(line)
        answer: dict[str, Any] = {"n": n}
        try:
            cache.set(f"probe:{n}", n, 300)
            answer["cache"] = cache.get(f"probe:{n}")
        except Exception as exc:  # reported to the test, which decides
            answer["cache"] = repr(exc)
        try:
            await layer.group_send(PROBE_GROUP, {"type": "probe", "n": n, "tag": f"<probe {n}>"})
            while (await asyncio.wait_for(layer.receive(channel), 3.0)).get("n") != n:
                pass  # a late copy of an earlier check's message
            answer["layer"] = n
        except Exception as exc:
            answer["layer"] = repr(exc)
        try:
            answer["celery"] = len(app.control.ping(timeout=1.0) or [])
        except Exception as exc:
            answer["celery"] = repr(exc)
        try:  # the client of beat's leader lock, /readyz and the push latencies
            from ops import checks

            client = checks._broker_redis()
            answer["lock_redis"] = int(client.info("server")["tcp_port"])
            client.close()
        except Exception as exc:
            answer["lock_redis"] = repr(exc)
        print(json.dumps(answer), flush=True)


def _role(port: int) -> str:
    client = redis.Redis(port=port, socket_timeout=2)
    try:
        return str(client.info("replication")["role"])
    except redis.RedisError:
        return "unreachable"
    finally:
        client.close()


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A master, its replica and one sentinel watching them (quorum 1), on free ports."""
    master, replica, sentinel = _free_port(), _free_port(), _free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    # no 5 s wait before the replica's first sync
    common += ["--repl-diskless-sync-delay", "0"]
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 1\n"
        f"sentinel down-after-milliseconds {MASTER_NAME} 2000\n"
        f"sentinel failover-timeout {MASTER_NAME} 10000\n"
        # known from the start: the sentinel would otherwise learn it at its next INFO (10 s)
        f"sentinel known-replica {MASTER_NAME} 127.0.0.1 {replica}\n"
    )
    servers = [
        Server("master", ["redis-server", "--port", str(master), *common], tmp_path),
        Server(
            "replica",
            [
                "redis-server",
                "--port",
                str(replica),
                *common,
                "--replicaof",
                "127.0.0.1",
                str(master),
            ],
            tmp_path,
        ),
        Server("sentinel", ["redis-server", str(conf), "--sentinel"], tmp_path),
    ]
    try:
        yield {
            "master": master,
            "replica": replica,
            "sentinel": sentinel,
            "servers": servers,
            "dir": tmp_path,
        }
    finally:
        for server in servers:
            server.stop()


def _master_port(sentinel_client: redis.Redis) -> int | None:
    address = sentinel_client.sentinel_get_master_addr_by_name(MASTER_NAME)
    return int(address[1]) if isinstance(address, tuple) else None


def _replica_ready(sentinel_port: int, replica_port: int) -> bool:
    """The sentinel knows the replica, and the replica is in sync: it can be promoted."""
    client = redis.Redis(port=sentinel_port, socket_timeout=2, decode_responses=True)
    try:
        replicas = client.sentinel_slaves(MASTER_NAME)
    except redis.RedisError:
        return False
    finally:
        client.close()
    return any(
        r["port"] == replica_port
        and r.get("master-link-status") == "ok"
        and not {"s_down", "disconnected"} & set(r["flags"].split(","))
        for r in replicas
    )


@pytest.mark.redis
def test_broker_channel_layer_and_cache_follow_a_sentinel_failover(
    sentinel_group: dict[str, Any],
) -> None:
    started = time.monotonic()
    budget = started + SENTINEL_TEST_SECONDS  # every wait below ends by then at the latest
    master, replica, sentinel = (sentinel_group[k] for k in ("master", "replica", "sentinel"))
    workdir: Path = sentinel_group["dir"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        # the host is a name only: with sentinels, the master's address comes from them
        "KEFU_REDIS_URL": f"redis://{MASTER_NAME}/0",
        "KEFU_CACHE_URL": f"redis://{MASTER_NAME}/{CACHE_DB}",
        "KEFU_REDIS_SENTINELS": f"127.0.0.1:{sentinel}",
        "KEFU_REDIS_SENTINEL_MASTER": MASTER_NAME,
        "KEFU_CHANNEL_PREFIX": "deploy-test",
        "KEFU_LOG_LEVEL": "WARNING",
    }
    wait_for(
        lambda: _replica_ready(sentinel, replica),
        timeout=20,
        what="the replica in sync",
        budget=budget,
    )
    worker_log = (workdir / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "project", "worker", "--pool", "solo",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    probe = Probe(env, workdir)
    on_master = redis.Redis(port=master, db=CACHE_DB)
    on_replica = redis.Redis(port=replica, db=CACHE_DB)
    listener: Any = None
    answers: list[dict[str, Any]] = []
    numbers = iter(range(1, 1000))

    def healthy() -> dict[str, Any] | None:
        answer = probe.check(next(numbers), timeout=max(1.0, min(15.0, budget - time.monotonic())))
        answers.append(answer)
        n = answer["n"]
        port = answer.get("lock_redis")
        expected = {"n": n, "cache": n, "layer": n, "celery": 1, "lock_redis": port}
        return answer if answer == expected and isinstance(port, int) else None

    try:
        # Before: everything on the master.
        before = wait_for(
            healthy, timeout=40, what="the probe and the worker through Sentinel", budget=budget
        )
        assert on_master.get(f"kefu:1:probe:{before['n']}") == str(before["n"]).encode()
        assert _role(master) == "master"
        assert before["lock_redis"] == master  # beat's lock and /readyz ask the master

        sentinel_client = redis.Redis(port=sentinel, socket_timeout=2)
        assert sentinel_client.execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
        failed_over = time.monotonic()
        wait_for(
            lambda: _master_port(sentinel_client) == replica,
            timeout=20,
            what="the sentinel to name the replica as master",
            budget=budget,
        )
        assert _role(replica) == "master"
        # The sentinel turns the old master into a replica (and drops its clients) at its
        # next look: within about 10 s.
        wait_for(
            lambda: _role(master) == "slave",
            timeout=30,
            what="the old master demoted",
            budget=budget,
        )
        # Subscribed on the promoted replica once the sentinel has reconfigured both servers
        # (it drops their clients as it does): a message published on the old master now
        # would not reach it (a replica never forwards to its master).
        listener = redis.Redis(port=replica).pubsub(ignore_subscribe_messages=True)
        listener.subscribe(f"deploy-test__group__{PROBE_GROUP}")

        def published_on_promoted(n: int) -> bool:
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                message = listener.get_message(timeout=0.2)
                if message and f"<probe {n}>".encode() in message["data"]:
                    return True
            return False

        def followed() -> dict[str, Any] | None:
            answer = healthy()
            if answer is None:
                return None
            n = answer["n"]
            on_promoted = on_replica.get(f"kefu:1:probe:{n}") == str(n).encode()
            return answer if on_promoted and published_on_promoted(n) else None

        after = wait_for(
            followed, timeout=40, what="the probe and the worker to follow", budget=budget
        )
        followed_in = time.monotonic() - failed_over
        assert after["lock_redis"] == replica  # ... and follow it to the promoted replica
        # The old master holds the key too, now only as the promoted one's replica.
        assert wait_for(
            lambda: on_master.get(f"kefu:1:probe:{after['n']}") == str(after["n"]).encode(),
            timeout=10,
            what="the write replicated to the old master",
            budget=budget,
        )
        sentinel_client.close()
    except BaseException:
        print("answers:", answers)
        for server in sentinel_group["servers"]:
            print(f"--- {server.name} ---\n{server.log()}")
        worker_log.flush()
        print("--- worker ---\n", (workdir / "worker.log").read_text(errors="replace")[-3000:])
        print("--- probe ---\n", (workdir / "probe.log").read_text(errors="replace")[-3000:])
        raise
    finally:
        if listener is not None:
            listener.close()
        on_master.close()
        on_replica.close()
        probe.stop()
        terminate(worker, timeout=15)
        worker_log.close()
    print(
        f"sentinel failover followed in {followed_in:.1f} s "
        f"({len(answers)} checks, test {time.monotonic() - started:.1f} s): {answers}"
    )
