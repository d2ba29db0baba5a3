"""``manage.py verify_backup BACKUP``: the configured database checked against a backup's
manifest (docs/backup.md). ``restore`` and ``backup_drill`` run it as a fresh process on the
restored database."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import backup_checks
from ops.backup import BackupError, read_manifest


class Command(BaseCommand):
    help = (
        "Check the configured database against a backup's manifest: every table's row count, "
        "whole ticket histories, a survey link, the outbox, sequences and migrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="the backup's directory")
        parser.add_argument("--report", type=Path, help="also write the checks as JSON here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = read_manifest(options["backup"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        checks, seconds = backup_checks.verify_restored(manifest)
        results = [asdict(check) for check in checks]
        if options["report"]:
            options["report"].write_text(
                json.dumps({"checks": results, "seconds": seconds}, ensure_ascii=False),
                encoding="utf-8",
            )
        self.stdout.write("\n".join(backup_checks.check_lines(results)))
        failed = backup_checks.failed(results)
        if failed:
            raise CommandError(
                f"{len(failed)} checks failed: {', '.join(c['name'] for c in failed)}."
            )
        self.stdout.write(self.style.SUCCESS(f"The database matches the backup ({seconds:.1f} s)."))
