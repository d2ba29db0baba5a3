"""``manage.py restore BACKUP``: a backup into an empty database, then checked (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import backup_checks
from ops.backup import DEFAULT_JOBS, BackupError, Database, restore_backup, verify_in_fresh_process


class Command(BaseCommand):
    help = (
        "Restore a backup made by 'manage.py backup' into an EMPTY database (the configured one, "
        "or --database-url), then check it against the backup's manifest. A database that "
        "holds anything is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="the backup's directory")
        parser.add_argument(
            "--database-url",
            help="where to restore (postgres://… or sqlite:///…; default: the configured database)",
        )
        parser.add_argument(
            "--create",
            action="store_true",
            help="create the database if it does not exist (PostgreSQL: from template0)",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=DEFAULT_JOBS,
            help=f"parallel pg_restore jobs (default: {DEFAULT_JOBS})",
        )
        parser.add_argument(
            "--no-verify",
            dest="verify",
            action="store_false",
            help="skip the check against the manifest (manage.py verify_backup runs it later)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            url = options["database_url"]
            target = Database.from_url(url) if url else Database.configured()
            restored = restore_backup(
                options["backup"], target, jobs=options["jobs"], create=options["create"]
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in restored.phases.items())
        created = " (created)" if restored.created else ""
        self.stdout.write(
            self.style.SUCCESS(f"Restored {options['backup']} into {target.describe()}{created}")
            + f" in {restored.seconds:.1f} s ({phases})."
        )
        if not options["verify"]:
            return
        try:
            verified = verify_in_fresh_process(options["backup"], target)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Checked against the manifest in {verified.seconds:.1f} s (a fresh Kefu process on "
            f"the restored database, started in {verified.start_seconds:.1f} s):"
        )
        self.stdout.write("\n".join(backup_checks.check_lines(verified.checks)))
        failed = backup_checks.failed(verified.checks)
        if failed:
            raise CommandError(
                f"The restored database differs from the backup: {len(failed)} checks failed "
                f"({', '.join(c['name'] for c in failed)})."
            )
