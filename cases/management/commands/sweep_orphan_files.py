"""``manage.py sweep_orphan_files``: delete stored photo files that no photo refers to.

The hourly beat task looks at the last two months' folders; ``--all`` walks every folder (after
restoring a backup of the files, or on a server whose beat was not running).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cases.actions.photos import ORPHAN_GRACE, sweep_orphan_files


class Command(BaseCommand):
    help = "Delete stored photo files that no photo refers to (left by a killed upload)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="walk every folder, not only the last two months"
        )
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=int(ORPHAN_GRACE.total_seconds() // 60),
            help="leave files younger than this (an upload may be writing its row)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = sweep_orphan_files(
            months=None if options["all"] else 2,
            grace=timedelta(minutes=options["grace_minutes"]),
        )
        self.stdout.write(f"deleted {deleted} file(s) that no photo refers to")
