"""The backup and restore drill (docs/backup.md, "The drill").

Backs up the live database, restores the backup into a scratch database created for the
purpose, checks the copy from a fresh Kefu process (row counts against the manifest, whole
ticket histories, a survey link, the outbox), reports the figures a recovery point and
recovery time rest on, and drops the scratch database again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import backup_checks
from .backup import (
    DEFAULT_COMPRESS,
    BackupError,
    Database,
    Format,
    make_backup,
    restore_backup,
    scratch_database,
    verify_in_fresh_process,
)

PG_NAME_LIMIT = 63


@dataclasses.dataclass
class DrillReport:
    source: str
    scratch: str
    snapshot_at: str
    backup: dict[str, Any]
    restore: dict[str, Any] = dataclasses.field(default_factory=dict)
    verify: dict[str, Any] = dataclasses.field(default_factory=dict)
    checks: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    error: str | None = None
    kept_backup: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.checks) and not backup_checks.failed(self.checks)

    @property
    def rto_seconds(self) -> float | None:
        """Restore (checksums, pg_restore, ANALYZE) plus the check from a fresh process,
        whose start stands for Kefu's own start on the recovered database."""
        if not self.restore or not self.verify:
            return None
        return float(self.restore["seconds"]) + float(self.verify["seconds"])

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["ok"] = self.ok
        out["rto_seconds"] = self.rto_seconds
        return out

    def lines(self) -> list[str]:
        b = self.backup
        compression = f"gzip level {b['compress']}"
        how = (
            f"pg_dump {b['dump_seconds']:.1f} s ({b['format']} format, {b['jobs']} "
            f"{'job' if b['jobs'] == 1 else 'jobs'}, {compression})"
            if b["format"] != "sqlite"
            else f"online backup API {b['dump_seconds']:.1f} s"
        )
        out = [
            f"Backup drill of {self.source}",
            f"  snapshot   {self.snapshot_at}",
            f"  backup     {b['seconds']:7.1f} s  {how}, manifest read in the snapshot "
            f"{b['facts_seconds']:.1f} s; {size_text(b['bytes'])}",
        ]
        if self.restore:
            phases = ", ".join(f"{k} {v:.1f} s" for k, v in self.restore["phases"].items())
            out.append(
                f"  restore    {self.restore['seconds']:7.1f} s  {phases}; into {self.scratch}"
            )
        if self.verify:
            v = self.verify
            out.append(
                f"  verify     {v['seconds']:7.1f} s  Kefu started on the copy in "
                f"{v['start_seconds']:.1f} s, checks {v['checks_seconds']:.1f} s"
            )
        if self.rto_seconds is not None:
            out.append(
                f"  RTO        {self.rto_seconds:7.1f} s  restore + verify (start included), "
                "plus the time to notice and decide"
            )
        out.append(
            f"  RPO        dumps every N hours lose at most N hours + {b['seconds']:.0f} s "
            "(the snapshot is taken when the backup starts)"
        )
        if self.kept_backup:
            out.append(f"  backup kept in {self.kept_backup}")
        if self.checks:
            out.append("Checks:")
            out += backup_checks.check_lines(self.checks)
        if self.error:
            out.append(f"Error: {self.error}")
        return out

    def verdict(self) -> str:
        counts = {s: sum(1 for c in self.checks if c["status"] == s) for s in backup_checks.MARKS}
        tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        if self.ok:
            return f"Drill passed: {tally}."
        return f"Drill FAILED: {self.error or tally}."


def size_text(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{count} bytes"


def scratch_for(source: Database, scratch: str | None, workdir: Path) -> Database:
    """The database to restore into: a URL, a name on the live server (or, SQLite, a path),
    or by default ``<live name>_drill_<UTC time>`` (SQLite: a file in the work directory)."""
    if scratch and "://" in scratch:
        target = Database.from_url(scratch)
    elif scratch:
        target = source.with_name(scratch)
    elif source.vendor == "sqlite":
        target = source.with_name(str(workdir / "restored.sqlite3"))
    else:
        suffix = f"_drill_{datetime.now(UTC):%Y%m%d%H%M%S}"
        target = source.with_name(source.name[: PG_NAME_LIMIT - len(suffix)] + suffix)
    same_server = (target.host, target.port) == (source.host, source.port)
    if target.vendor == source.vendor and target.name == source.name and same_server:
        raise BackupError("The scratch database cannot be the live database itself.")
    return target


def run_drill(
    source: Database,
    *,
    scratch: str | None = None,
    workdir: Path | None = None,
    keep_backup: bool = False,
    keep_scratch: bool = False,
    dump_format: Format = "directory",
    jobs: int = 2,
    compress: int = DEFAULT_COMPRESS,
    samples: int = 2,
) -> DrillReport:
    """The whole drill; a failed check or a failed restore is in the report, not raised.
    A backup that cannot be made raises ``BackupError``."""
    own_workdir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="kefu-drill-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    backup_dir = work / f"kefu-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    try:
        target = scratch_for(source, scratch, work)
        made = make_backup(
            source,
            backup_dir,
            dump_format=dump_format,
            jobs=jobs,
            compress=compress,
            samples=samples,
        )
        report = DrillReport(
            source=source.describe(),
            scratch=target.describe(),
            snapshot_at=made.manifest["snapshot_at"],
            backup=dict(made.manifest["dump"], seconds=made.seconds, bytes=made.bytes),
        )
        report.backup.pop("files", None)
        try:
            with scratch_database(target, made.manifest["database"], keep=keep_scratch):
                restored = restore_backup(backup_dir, target, jobs=jobs)
                report.restore = {"seconds": restored.seconds, "phases": restored.phases}
                verified = verify_in_fresh_process(backup_dir, target)
                report.verify = {
                    "seconds": verified.seconds,
                    "start_seconds": verified.start_seconds,
                    "checks_seconds": verified.checks_seconds,
                }
                report.checks = verified.checks
        except BackupError as error:
            report.error = str(error)
        if keep_backup:
            report.kept_backup = str(backup_dir)
        return report
    finally:
        if not keep_backup:
            shutil.rmtree(backup_dir, ignore_errors=True)
        if own_workdir:
            with contextlib.suppress(OSError):  # only when nothing was kept in it
                work.rmdir()
