"""``manage.py backup_drill``: back up, restore into a scratch database, check, report the
recovery figures, drop the scratch database (docs/backup.md, "The drill")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backup import BackupError, Database
from ops.drill import run_drill

from .backup import add_dump_options


class Command(BaseCommand):
    help = (
        "The backup and restore drill: back up the configured database, restore it into a "
        "scratch database this command creates and drops, check the copy, print the RPO/RTO "
        "figures. Exits non-zero if any check fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scratch",
            help="the scratch database: a name on the same server, a postgres:// URL (another "
            "server), or for SQLite a file path; it must not exist (default: "
            "<database>_drill_<UTC time>)",
        )
        parser.add_argument(
            "--workdir", type=Path, help="where the backup is written (default: a temporary one)"
        )
        parser.add_argument("--keep-backup", action="store_true", help="keep the backup")
        parser.add_argument(
            "--keep-scratch", action="store_true", help="keep the scratch database to inspect it"
        )
        parser.add_argument("--json", type=Path, help="also write the report as JSON here")
        add_dump_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = run_drill(
                Database.configured(),
                scratch=options["scratch"],
                workdir=options["workdir"],
                keep_backup=options["keep_backup"],
                keep_scratch=options["keep_scratch"],
                dump_format=options["format"],
                jobs=options["jobs"],
                compress=options["compress"],
                samples=options["samples"],
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            options["json"].write_text(
                json.dumps(report.as_dict(), indent=1, ensure_ascii=False), encoding="utf-8"
            )
        self.stdout.write("\n".join(report.lines()))
        if not report.ok:
            raise CommandError(report.verdict())
        self.stdout.write(self.style.SUCCESS(report.verdict()))
