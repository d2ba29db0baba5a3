"""A real IMAP server for tests and benchmarks: Debian's Dovecot (``/usr/sbin/dovecot``)
started in the foreground with its own configuration, users, maildirs, sockets and state
under one temporary directory, listening on 127.0.0.1 only.

Two listeners: ``port`` speaks plain IMAP and offers STARTTLS, ``tls_port`` speaks IMAP over
TLS from the first byte (IMAPS). The certificate is self-signed, made here with ``openssl``
for ``localhost`` and ``127.0.0.1``; ``ca_file`` is the file a client trusts it with. Plain
authentication is allowed without TLS because nothing but this machine can reach it.

Dovecot needs no root: its base, state and log paths are ours and its internal and login
users are the current user. Run as root (CI containers), Dovecot refuses to run its login
process as root and to give mail to UID 0, so it uses Debian's unprivileged ``dovenull``
(login) and ``dovecot`` (internal processes, mail) users and the directory is opened to
them."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from imapclient import IMAPClient

from tests.smtp_sink import free_port

DOVECOT = "/usr/sbin/dovecot"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Identity:
    """Who Dovecot's processes run as: the login processes, the internal ones (auth, …)
    and the owner of the maildirs."""

    login_user: str
    internal_user: str
    internal_group: str
    mail_uid: int
    mail_gid: int


def _identity() -> Identity:
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return Identity(
            me.pw_name, me.pw_name, grp.getgrgid(os.getegid()).gr_name, me.pw_uid, me.pw_gid
        )
    login = _first_user("dovenull", "nobody")
    internal = _first_user("dovecot", "nobody")
    return Identity(
        login.pw_name,
        internal.pw_name,
        grp.getgrgid(internal.pw_gid).gr_name,
        internal.pw_uid,
        internal.pw_gid,
    )


def _first_user(*names: str) -> pwd.struct_passwd:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError(f"none of the users {names} exists for Dovecot to run as")


class Dovecot:
    """``Dovecot(users={"support": "secret"})`` then ``start()``/``stop()``, or use
    ``running_dovecot(...)``. ``extra_config`` is appended to the configuration (a test
    that needs a server without MOVE sets ``imap_capability`` there)."""

    host = "127.0.0.1"

    def __init__(self, users: dict[str, str], *, extra_config: str = "") -> None:
        self.users = dict(users)
        self.extra_config = extra_config
        self.root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
        self.identity = _identity()
        self.port = 0
        self.tls_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    # --- files -----------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def ca_file(self) -> Path:
        """The self-signed certificate: the only CA a client needs to trust this server."""
        return self.root / "cert.pem"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def _write_files(self) -> None:
        ident = self.identity
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        # the internal user reads the passwd file, the mail user owns the maildirs
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            os.chown(self.root / "mail", ident.mail_uid, ident.mail_gid)
        if not self.ca_file.exists():
            subprocess.run(
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(self.root / "key.pem"), "-out", str(self.ca_file),
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                ],
                check=True,
                capture_output=True,
            )  # fmt: skip
        self._write_passwd()
        self.config_path.write_text(self._config())

    def _write_passwd(self) -> None:
        ident = self.identity
        lines = [
            f"{name}:{{PLAIN}}{password}:{ident.mail_uid}:{ident.mail_gid}::"
            f"{self.root / 'mail' / name}"
            for name, password in self.users.items()
        ]
        (self.root / "passwd").write_text("\n".join(lines) + "\n")

    def _config(self) -> str:
        ident, root = self.identity, self.root
        return f"""# written by tests/mail/dovecot.py
base_dir = {root}/run
state_dir = {root}/state
instance_name = kefu-test-{root.name}
protocols = imap
listen = {self.host}
log_path = {self.log_path}
default_internal_user = {ident.internal_user}
default_internal_group = {ident.internal_group}
default_login_user = {ident.login_user}
first_valid_uid = {ident.mail_uid}
first_valid_gid = {ident.mail_gid}
ssl = yes
ssl_cert = <{self.ca_file}
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
# plain-text authentication without TLS: the listeners are on loopback only
disable_plaintext_auth = no
auth_mechanisms = plain login
# a wrong password is answered at once (the default waits 2 s)
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
protocol imap {{
  mail_max_userip_connections = 200
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
    ssl = yes
  }}
}}
{self.extra_config}
"""

    # --- the process -----------------------------------------------------------------
    def start(self) -> None:
        last_error = ""
        for _ in range(3):  # a free port taken by someone else meanwhile: new ports
            self.port, self.tls_port = free_port(), free_port()
            self._write_files()
            self._stderr = (self.root / "stderr.log").open("wb")
            self.process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config_path)],
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                start_new_session=True,
            )
            try:
                self._wait_for_greetings()
                return
            except RuntimeError as exc:
                last_error = str(exc)
                self._stop_process()
        raise RuntimeError(f"Dovecot did not start: {last_error}")

    def _wait_for_greetings(self) -> None:
        """Waits until both listeners greet ("* OK … ready"), or the process exits."""
        deadline = time.monotonic() + START_TIMEOUT
        pending = {self.port: False, self.tls_port: True}
        while pending:
            assert self.process is not None
            if self.process.poll() is not None:
                stderr = (self.root / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"dovecot exited ({self.process.returncode}): {stderr}")
            for port, tls in list(pending.items()):
                if self._greets(port, tls=tls):
                    del pending[port]
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"no IMAP greeting on {sorted(pending)}\n{self.log()}")
            if pending:
                time.sleep(0.05)

    def _greets(self, port: int, *, tls: bool) -> bool:
        try:
            conn = socket.create_connection((self.host, port), timeout=2.0)
        except OSError:
            return False
        try:
            if tls:
                conn = self.ssl_context().wrap_socket(conn, server_hostname="localhost")
            return conn.recv(200).startswith(b"* OK")
        except (OSError, ssl.SSLError):
            return False
        finally:
            conn.close()

    def _stop_process(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its children, had the master died
        process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stop(self) -> None:
        self._stop_process()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- users -----------------------------------------------------------------------
    def set_password(self, user: str, password: str) -> None:
        """Dovecot rereads a changed passwd file on the next login."""
        self.users[user] = password
        self._write_passwd()

    # --- clients ---------------------------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, user: str, *, timeout: float = 10.0) -> IMAPClient:
        """A client logged in as ``user`` over the plain listener."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        client.login(user, self.users[user])
        return client

    @contextmanager
    def session(self, user: str) -> Iterator[IMAPClient]:
        client = self.client(user)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(
        self,
        user: str,
        message: bytes,
        *,
        folder: str = "INBOX",
        flags: Sequence[str] = (),
        msg_time: datetime | None = None,
    ) -> int:
        """Delivers ``message`` into ``user``'s ``folder`` (IMAP APPEND); returns its UID."""
        with self.session(user) as client:
            return append(client, message, folder=folder, flags=flags, msg_time=msg_time)

    def uids(
        self, user: str, folder: str = "INBOX", criteria: str | list[str] = "ALL"
    ) -> list[int]:
        with self.session(user) as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(int(u) for u in client.search(criteria))

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, set[str]]:
        with self.session(user) as client:
            client.select_folder(folder, readonly=True)
            found = client.get_flags(client.search("ALL"))
            return {int(uid): {f.decode() for f in flags} for uid, flags in found.items()}


_APPENDUID = re.compile(rb"APPENDUID \d+ (\d+)")


def append(
    client: IMAPClient,
    message: bytes,
    *,
    folder: str = "INBOX",
    flags: Sequence[str] = (),
    msg_time: datetime | None = None,
) -> int:
    """APPEND on an open session; ``msg_time`` is the internal date (now when None)."""
    answer = client.append(folder, message, flags=tuple(flags), msg_time=msg_time)
    found = _APPENDUID.search(answer)
    if not found:
        raise AssertionError(f"no APPENDUID in {answer!r}")
    return int(found.group(1))


@contextmanager
def running_dovecot(users: dict[str, str], *, extra_config: str = "") -> Iterator[Dovecot]:
    server = Dovecot(users, extra_config=extra_config)
    try:
        server.start()
        yield server
    finally:
        server.stop()
