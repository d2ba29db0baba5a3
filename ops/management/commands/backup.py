"""``manage.py backup``: a backup of Kefu's database and its manifest (docs/backup.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backup import DEFAULT_COMPRESS, DEFAULT_JOBS, FORMATS, BackupError, Database, make_backup
from ops.drill import size_text


def add_dump_options(parser: CommandParser) -> None:
    """The options ``backup`` and ``backup_drill`` share."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="directory",
        help="pg_dump's format (default: directory, dumped and restored with parallel jobs)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help=f"parallel pg_dump / pg_restore jobs (default: {DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--compress",
        type=int,
        choices=range(10),
        default=DEFAULT_COMPRESS,
        metavar="0-9",
        help=f"pg_dump's gzip level, 0 for none (default: {DEFAULT_COMPRESS}, see docs/backup.md)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=2,
        help="random tickets whose whole history the manifest records, beside the oldest, "
        "the newest and the last one acted on (default: 2)",
    )


class Command(BaseCommand):
    help = (
        "Back up the configured database into a new directory: the dump (pg_dump, or SQLite's "
        "online backup) and manifest.json (version, migrations, row counts of the same snapshot)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="the directory to create (default: var/backups/kefu-<UTC time>)",
        )
        add_dump_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"] or (
            Path(settings.BASE_DIR) / "var" / "backups" / f"kefu-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        )
        try:
            source = Database.configured()
            made = make_backup(
                source,
                output,
                dump_format=options["format"],
                jobs=options["jobs"],
                compress=options["compress"],
                samples=options["samples"],
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        dump = made.manifest["dump"]
        tables = made.manifest["tables"]
        jobs = f", {dump['jobs']} jobs" if dump["jobs"] > 1 else ""
        self.stdout.write(
            self.style.SUCCESS(f"Backup of {source.describe()} written to {made.path}")
            + f"\n  {size_text(made.bytes)} in {made.seconds:.1f} s ({dump['tool']}, "
            f"{dump['format']} format{jobs})"
            f"\n  snapshot {made.manifest['snapshot_at']}: {len(tables)} tables, "
            f"{sum(tables.values()):,} rows counted in it ({dump['facts_seconds']:.1f} s)"
        )
