"""Backups of Kefu's database and their restore (docs/backup.md).

PostgreSQL: ``pg_dump`` reads a snapshot this module exports from a REPEATABLE READ
transaction, and the same transaction reads what the manifest records (every table's row
count, the migrations, the facts the drill checks), so the manifest describes exactly what
the dump holds however busy the database is. SQLite (the embedded mode): the online backup
API copies the file and the manifest is read from the copy.

A backup is a directory: ``manifest.json`` beside ``database/`` (pg_dump's directory
format), ``database.dump`` (its custom format) or ``database.sqlite3``. ``restore`` writes
only into an empty database and refuses anything else; nothing here drops data it did not
create.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from . import backup_checks

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
FORMATS = ("directory", "custom")
Format = Literal["directory", "custom"]
DUMP_PATHS = {"directory": "database", "custom": "database.dump", "sqlite": "database.sqlite3"}
# Connection options of a database URL (``?sslmode=require``) that libpq, and so pg_dump and
# pg_restore, understand; Django's own OPTIONS (isolation_level, pool, …) are not passed on.
LIBPQ_OPTIONS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslpassword",
        "sslcompression",
        "connect_timeout",
        "application_name",
        "options",
        "passfile",
        "service",
        "target_session_attrs",
        "gssencmode",
        "channel_binding",
        "keepalives",
        "keepalives_idle",
    }
)
MAINTENANCE_DB = "postgres"
# pg_dump's and pg_restore's parallel jobs: one per CPU, at most 4 (docs/backup.md, figures).
DEFAULT_JOBS = max(1, min(4, os.cpu_count() or 1))
# pg_dump's gzip level: at 1,000,000 tickets level 1 dumps in 32 s what its default (6) dumps
# in 51 s (medians), for a dump 21 % larger; the restore time differs by less than its noise
# (docs/backup.md, figures).
DEFAULT_COMPRESS = 1
VERIFY_TIMEOUT = 3600.0


class BackupError(Exception):
    """A backup, restore or check that was refused or failed; the message tells the operator
    what happened and what to do."""


@dataclasses.dataclass(frozen=True)
class Database:
    """A database to back up or restore into: PostgreSQL by its connection parameters, SQLite
    by its file (``name``)."""

    vendor: Literal["postgresql", "sqlite"]
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_settings(cls, params: Mapping[str, Any]) -> Database:
        engine = str(params.get("ENGINE", ""))
        if engine == "django.db.backends.sqlite3":
            return cls("sqlite", str(Path(str(params["NAME"])).resolve()))
        if engine != "django.db.backends.postgresql":
            raise BackupError(f"Kefu backs up PostgreSQL and SQLite databases, not {engine!r}.")
        options = params.get("OPTIONS") or {}
        return cls(
            "postgresql",
            str(params["NAME"]),
            host=str(params.get("HOST") or ""),
            port=str(params.get("PORT") or ""),
            user=str(params.get("USER") or ""),
            password=str(params.get("PASSWORD") or ""),
            options=tuple(sorted((k, str(v)) for k, v in options.items() if k in LIBPQ_OPTIONS)),
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        """Read as the settings read ``KEFU_DATABASE_URL`` (libpq's multi-host form too)."""
        from project.settings import parse_database_url

        try:
            params = parse_database_url(url, conn_max_age=0)
        except ValueError as error:
            raise BackupError(f"Not a database URL: {error}") from error
        return cls.from_settings(params)

    @classmethod
    def configured(cls) -> Database:
        """The database this Kefu process uses (``KEFU_DATABASE_URL`` or the SQLite file)."""
        from django.db import connection

        return cls.from_settings(connection.settings_dict)

    def with_name(self, name: str) -> Database:
        if self.vendor == "sqlite":
            name = str(Path(name).resolve())
        return dataclasses.replace(self, name=name)

    def describe(self) -> str:
        if self.vendor == "sqlite":
            return f"SQLite database {self.name}"
        return f"PostgreSQL database {self.name} on {self._located() or 'localhost:5432'}"

    def _located(self) -> str:
        """``host:port[,host:port…]`` as a URL writes them (libpq's multi-host form)."""
        hosts = self.host.split(",")
        ports = self.port.split(",") if self.port else [""] * len(hosts)
        return ",".join(
            (f"[{h}]" if ":" in h else h) + (f":{p}" if p else "")
            for h, p in zip(hosts, ports, strict=True)
        )

    def url(self) -> str:
        """The database as ``KEFU_DATABASE_URL`` spells it (password included: only ever put
        in a child process's environment, never printed)."""
        if self.vendor == "sqlite":
            return f"sqlite:///{self.name}"
        credentials = quote(self.user, safe="")
        if self.password:
            credentials += ":" + quote(self.password, safe="")
        at = f"{credentials}@" if credentials else ""
        query = f"?{urlencode(self.options)}" if self.options else ""
        return f"postgres://{at}{self._located()}/{quote(self.name, safe='')}{query}"

    def conninfo(self, dbname: str | None = None) -> str:
        """libpq's connection string without the password (that goes in PGPASSWORD)."""
        params = {"dbname": dbname or self.name, "host": self.host, "port": self.port}
        params["user"] = self.user
        return make_conninfo(**{k: v for k, v in params.items() if v}, **dict(self.options))

    def client_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(
        self, dbname: str | None = None, *, autocommit: bool = True
    ) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self.conninfo(dbname), password=self.password or None, autocommit=autocommit
            )
        except psycopg.OperationalError as error:
            where = dbname or self.name
            raise BackupError(f"Cannot connect to database {where}: {error}".strip()) from error


# --- the PostgreSQL server: does a database exist, create, drop, is it empty ------------------
def database_exists(db: Database) -> bool:
    if db.vendor == "sqlite":
        return Path(db.name).exists()
    with db.connect(MAINTENANCE_DB) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db.name]).fetchone()
    return row is not None


def create_database(db: Database, like: Mapping[str, Any] | None = None) -> None:
    """A new, empty database (PostgreSQL: from template0, with the encoding and collation the
    backup's database had, so text sorts and indexes the same)."""
    if db.vendor == "sqlite":
        Path(db.name).parent.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(db.name).close()
        return
    like = like or {}
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(db.name))
    for keyword, key in (
        ("ENCODING", "encoding"),
        ("LC_COLLATE", "collate"),
        ("LC_CTYPE", "ctype"),
    ):
        if like.get(key):
            statement += sql.SQL(" {} {}").format(sql.SQL(keyword), sql.Literal(like[key]))
    with db.connect(MAINTENANCE_DB) as conn:
        conn.execute(statement)


def drop_database(db: Database) -> None:
    """Drops a database this module created (the drill's scratch copy), connections and all."""
    if db.vendor == "sqlite":
        Path(db.name).unlink(missing_ok=True)
        return
    with db.connect(MAINTENANCE_DB) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name))
        )


_USER_OBJECTS = """
WITH user_schema AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
)
SELECT 'relation', s.nspname || '.' || c.relname
FROM pg_class c JOIN user_schema s ON s.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
UNION ALL
SELECT 'function', s.nspname || '.' || p.proname
FROM pg_proc p JOIN user_schema s ON s.oid = p.pronamespace
UNION ALL
SELECT 'type', s.nspname || '.' || t.typname
FROM pg_type t JOIN user_schema s ON s.oid = t.typnamespace
WHERE t.typtype IN ('d', 'e', 'r')
   OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
ORDER BY 1, 2
"""


def database_contents(db: Database) -> list[str]:
    """What the database already holds (tables, sequences, views, functions, types outside
    the system schemas); empty for an empty database."""
    if db.vendor == "sqlite":
        if not Path(db.name).exists() or Path(db.name).stat().st_size == 0:
            return []
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db.name}?mode=ro", uri=True)) as conn:
                rows = conn.execute(
                    "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                    " ORDER BY type <> 'table', type, name"
                ).fetchall()
        except sqlite3.DatabaseError as error:
            return [f"a file that is not an SQLite database ({error})"]
        return [str(row[0]) for row in rows]
    with db.connect() as conn:
        extensions = conn.execute(
            "SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'"
        ).fetchall()
        objects = conn.execute(_USER_OBJECTS).fetchall()
    return [str(row[0]) for row in extensions] + [f"{kind} {name}" for kind, name in objects]


def ensure_empty(db: Database) -> None:
    """Refuses a restore target that holds anything: a restore never mixes with, nor
    silently replaces, data that is already there."""
    contents = database_contents(db)
    if contents:
        shown = ", ".join(contents[:5]) + (
            f" and {len(contents) - 5} more" if len(contents) > 5 else ""
        )
        raise BackupError(
            f"Refusing to restore into {db.describe()}: it is not empty ({len(contents)} "
            f"objects: {shown}). Restore into a new, empty database, or drop this one yourself "
            "if you are sure its data is not needed."
        )


# --- files and the manifest ------------------------------------------------------------------
def _files_under(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path] if path.exists() else []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(backup_dir: Path, relative: str) -> dict[str, dict[str, Any]]:
    return {
        str(p.relative_to(backup_dir)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in _files_under(backup_dir / relative)
    }


def check_files(backup_dir: Path, manifest: Mapping[str, Any]) -> None:
    """The dump's files are the ones the manifest lists, byte for byte (size and SHA-256)."""
    expected: Mapping[str, Any] = manifest["dump"]["files"]
    found = file_checksums(backup_dir, manifest["dump"]["path"])
    problems = [f"{name} is missing" for name in expected if name not in found]
    problems += [f"{name} is not in the manifest" for name in found if name not in expected]
    problems += [
        f"{name} differs from the backup ({found[name]['bytes']:,} bytes, "
        f"{expected[name]['bytes']:,} written)"
        for name in expected
        if name in found and found[name] != expected[name]
    ]
    if problems:
        raise BackupError(
            f"The backup in {backup_dir} is damaged: " + "; ".join(problems[:5]) + ". Use another "
            "backup."
        )


def read_manifest(backup_dir: Path) -> dict[str, Any]:
    path = backup_dir / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{backup_dir} is not a Kefu backup: it has no {MANIFEST}.") from None
    except ValueError as error:
        raise BackupError(f"{path} is not valid JSON: {error}") from error
    if manifest.get("kefu_backup") != MANIFEST_VERSION:
        raise BackupError(f"{path} is not a Kefu backup manifest (version {MANIFEST_VERSION}).")
    return manifest


def kefu_version() -> dict[str, Any]:
    """The installed Kefu's version and, in a git checkout, its commit."""
    from django.conf import settings

    try:
        version = metadata.version("kefu")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit: str | None = None
    dirty: bool | None = None
    git = shutil.which("git")
    if git and (Path(settings.BASE_DIR) / ".git").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            commit = _git(git, "rev-parse", "HEAD")
            dirty = bool(_git(git, "status", "--porcelain", "--untracked-files=no"))
    return {"version": version, "commit": commit, "uncommitted_changes": dirty}


def _git(git: str, *args: str) -> str:
    from django.conf import settings

    done = subprocess.run(  # noqa: S603 (git found on PATH, fixed arguments)
        [git, *args], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def _prepare_output(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} already exists and is not an empty directory; choose another.")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # the dump holds password hashes, tokens and emails: the owner only


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client of the server's "
            "major version (Debian: postgresql-client)."
        )
    return found


def _tool_version(path: str) -> str:
    done = subprocess.run(  # noqa: S603 (a PostgreSQL client found on PATH)
        [path, "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    return done.stdout.strip()


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --- backup ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float

    @property
    def bytes(self) -> int:
        return int(self.manifest["dump"]["bytes"])


def make_backup(
    db: Database,
    output: Path,
    *,
    dump_format: Format = "directory",
    jobs: int = 2,
    compress: int = DEFAULT_COMPRESS,
    samples: int = 2,
) -> BackupResult:
    """Writes a backup of ``db`` into the new directory ``output``: the dump and its
    manifest. ``samples``: random tickets whose history the manifest records, beside the
    newest, the oldest and the last one something happened to."""
    output = output.resolve()
    _prepare_output(output)
    started = time.monotonic()
    try:
        if db.vendor == "sqlite":
            dump, facts = _backup_sqlite(db, output, samples)
        else:
            dump, facts = _backup_postgres(db, output, dump_format, jobs, compress, samples)
        mark = time.monotonic()
        dump["files"] = file_checksums(output, dump["path"])
        dump["bytes"] = sum(f["bytes"] for f in dump["files"].values())
        dump["checksum_seconds"] = round(time.monotonic() - mark, 3)
        for path in _files_under(output / dump["path"]):
            path.chmod(0o600)
    except BaseException:
        shutil.rmtree(output, ignore_errors=True)  # a partial backup must not pass for one
        raise
    seconds = time.monotonic() - started
    dump["seconds"] = round(seconds, 3)
    manifest = {
        "kefu_backup": MANIFEST_VERSION,
        "kefu": kefu_version(),
        "database": facts.pop("database"),
        "snapshot_at": facts.pop("snapshot_at"),
        "finished_at": datetime.now(UTC).isoformat(),
        "dump": dump,
        "migrations": facts.pop("migrations"),
        "tables": facts.pop("tables"),
        "checks": facts,
    }
    (output / MANIFEST).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (output / MANIFEST).chmod(0o600)
    return BackupResult(output, manifest, seconds)


def _backup_postgres(
    db: Database, output: Path, dump_format: Format, jobs: int, compress: int, samples: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    pg_dump = _tool("pg_dump")
    relative = DUMP_PATHS[dump_format]
    conn = db.connect(autocommit=False)
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
            cursor.execute(
                "SELECT pg_export_snapshot(), now(), current_setting('server_version'),"
                " pg_encoding_to_char(encoding), datcollate, datctype"
                " FROM pg_database WHERE datname = current_database()"
            )
            row = cursor.fetchone()
            assert row is not None
            snapshot, at, server, encoding, collate, ctype = row
            argv = [
                pg_dump,
                f"--dbname={db.conninfo()}",
                f"--format={dump_format}",
                f"--file={output / relative}",
                f"--snapshot={snapshot}",
                f"--compress={compress}",
                "--no-password",
            ]
            if dump_format == "directory" and jobs > 1:
                argv.append(f"--jobs={jobs}")
            with tempfile.TemporaryFile() as errors:
                mark = time.monotonic()
                # pg_dump imports the exported snapshot, which stays valid while this
                # transaction is open; the manifest's facts are read meanwhile, in it too.
                dumping = subprocess.Popen(  # noqa: S603 (pg_dump found on PATH)
                    argv, env=db.client_env(), stdout=subprocess.DEVNULL, stderr=errors
                )
                try:
                    facts_started = time.monotonic()
                    facts = backup_checks.capture(cursor, "postgresql", samples=samples)
                    facts_seconds = time.monotonic() - facts_started
                    dumping.wait()
                finally:
                    if dumping.poll() is None:
                        dumping.kill()
                        dumping.wait()
                dump_seconds = time.monotonic() - mark
                errors.seek(0)
                stderr = errors.read().decode(errors="replace")
            if dumping.returncode != 0:
                raise BackupError(f"pg_dump failed (exit {dumping.returncode}):\n{_tail(stderr)}")
    finally:
        conn.rollback()
        conn.close()
    facts["snapshot_at"] = at.astimezone(UTC).isoformat()
    facts["database"] = {
        "vendor": "postgresql",
        "name": db.name,
        "server_version": server,
        "encoding": encoding,
        "collate": collate,
        "ctype": ctype,
    }
    dump = {
        "path": relative,
        "format": dump_format,
        "jobs": jobs if dump_format == "directory" else 1,
        "compress": compress,
        "tool": _tool_version(pg_dump),
        "dump_seconds": round(dump_seconds, 3),
        "facts_seconds": round(facts_seconds, 3),
    }
    return dump, facts


def _backup_sqlite(
    db: Database, output: Path, samples: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    if not Path(db.name).exists():
        raise BackupError(f"{db.describe()} does not exist.")
    relative = DUMP_PATHS["sqlite"]
    copy = output / relative
    at = datetime.now(UTC)
    mark = time.monotonic()
    with (
        contextlib.closing(sqlite3.connect(f"file:{db.name}?mode=ro", uri=True)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        # One step (pages=-1): the copy is one consistent state of the source.
        source.backup(target)
    dump_seconds = time.monotonic() - mark
    mark = time.monotonic()
    with contextlib.closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as conn:
        cursor = conn.cursor()
        facts = backup_checks.capture(cursor, "sqlite", samples=samples)
        version = conn.execute("SELECT sqlite_version()").fetchone()[0]
    facts_seconds = time.monotonic() - mark
    facts["snapshot_at"] = at.isoformat()
    facts["database"] = {"vendor": "sqlite", "name": db.name, "server_version": version}
    dump = {
        "path": relative,
        "format": "sqlite",
        "jobs": 1,
        "compress": None,
        "tool": f"sqlite3 online backup API (SQLite {version})",
        "dump_seconds": round(dump_seconds, 3),
        "facts_seconds": round(facts_seconds, 3),
    }
    return dump, facts


# --- restore ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RestoreResult:
    target: Database
    seconds: float
    phases: dict[str, float]
    created: bool


def restore_backup(
    backup_dir: Path, target: Database, *, jobs: int = 2, create: bool = False
) -> RestoreResult:
    """Restores the backup in ``backup_dir`` into ``target``, which must be empty (or, with
    ``create``, not exist yet: it is then created)."""
    backup_dir = backup_dir.resolve()
    manifest = read_manifest(backup_dir)
    vendor = manifest["database"]["vendor"]
    if vendor != target.vendor:
        raise BackupError(
            f"The backup in {backup_dir} is of a {vendor} database; it cannot be restored into "
            f"{target.describe()}."
        )
    started = time.monotonic()
    phases: dict[str, float] = {}
    mark = time.monotonic()
    check_files(backup_dir, manifest)
    phases["checksums"] = time.monotonic() - mark
    created = False
    if not database_exists(target):
        # a missing SQLite file is an empty database; a PostgreSQL one is created on request
        if not create and target.vendor == "postgresql":
            raise BackupError(
                f"{target.describe()} does not exist. Create an empty one (createdb), or pass "
                "--create to have restore create it."
            )
        create_database(target, manifest["database"])
        created = True
    else:
        ensure_empty(target)
    dump_path = backup_dir / manifest["dump"]["path"]
    if target.vendor == "sqlite":
        mark = time.monotonic()
        with (
            contextlib.closing(sqlite3.connect(f"file:{dump_path}?mode=ro", uri=True)) as source,
            contextlib.closing(sqlite3.connect(target.name)) as copy,
        ):
            source.backup(copy)
        phases["copy"] = time.monotonic() - mark
    else:
        phases.update(_restore_postgres(dump_path, target, jobs))
    return RestoreResult(target, time.monotonic() - started, phases, created)


def _restore_postgres(dump_path: Path, target: Database, jobs: int) -> dict[str, float]:
    pg_restore = _tool("pg_restore")
    argv = [
        pg_restore,
        f"--dbname={target.conninfo()}",
        "--no-owner",  # the objects belong to whoever restores (Kefu's own database user)
        "--exit-on-error",
        "--no-password",
    ]
    if jobs > 1:
        argv.append(f"--jobs={jobs}")
    argv.append(str(dump_path))
    mark = time.monotonic()
    done = subprocess.run(  # noqa: S603 (pg_restore found on PATH)
        argv, env=target.client_env(), capture_output=True, text=True, check=False
    )
    phases = {"pg_restore": time.monotonic() - mark}
    if done.returncode != 0:
        raise BackupError(
            f"pg_restore into {target.describe()} failed (exit {done.returncode}); the database "
            f"is left as pg_restore left it:\n{_tail(done.stderr)}"
        )
    # pg_restore brings no planner statistics: without them the first queries on a large
    # restored database plan as if every table were empty.
    mark = time.monotonic()
    with target.connect() as conn:
        conn.execute("ANALYZE")
    phases["analyze"] = time.monotonic() - mark
    return phases


# --- verification, in a fresh Kefu process on the restored database --------------------------
@dataclasses.dataclass(frozen=True)
class VerifyResult:
    checks: list[dict[str, Any]]
    seconds: float
    checks_seconds: float

    @property
    def ok(self) -> bool:
        return all(c["status"] != backup_checks.FAILED for c in self.checks)

    @property
    def start_seconds(self) -> float:
        """From launching the process to Kefu ready to check (interpreter, Django, apps)."""
        return max(0.0, self.seconds - self.checks_seconds)


def verify_in_fresh_process(backup_dir: Path, target: Database) -> VerifyResult:
    """Runs ``manage.py verify_backup`` as a new process whose database is ``target``: Kefu's
    own code (the ORM, the survey link check) reads the restored copy as a recovered
    installation would."""
    from django.conf import settings

    env = dict(os.environ)
    env["KEFU_DATABASE_URL"] = target.url()
    with tempfile.TemporaryDirectory(prefix="kefu-verify-") as scratch:
        report_path = Path(scratch) / "report.json"
        argv = [
            sys.executable,
            str(Path(settings.BASE_DIR) / "manage.py"),
            "verify_backup",
            str(backup_dir),
            f"--report={report_path}",
        ]
        mark = time.monotonic()
        done = subprocess.run(  # noqa: S603 (this interpreter and manage.py)
            argv, env=env, capture_output=True, text=True, check=False, timeout=VERIFY_TIMEOUT
        )
        seconds = time.monotonic() - mark
        if not report_path.exists():
            raise BackupError(
                f"The check of {target.describe()} did not run (exit {done.returncode}):\n"
                f"{_tail(done.stderr or done.stdout)}"
            )
        report = json.loads(report_path.read_text(encoding="utf-8"))
    return VerifyResult(report["checks"], seconds, float(report["seconds"]))


@contextlib.contextmanager
def scratch_database(db: Database, like: Mapping[str, Any], *, keep: bool) -> Iterator[Database]:
    """A database created for the drill and dropped afterwards (unless ``keep``); one that
    already exists is refused, never reused or dropped."""
    if database_exists(db):
        raise BackupError(
            f"The scratch {db.describe()} already exists; the drill only uses a database it "
            "creates (and drops). Name another with --scratch, or drop it yourself."
        )
    create_database(db, like)
    try:
        yield db
    finally:
        if not keep:
            drop_database(db)
