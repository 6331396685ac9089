from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from coordination.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero at the first broken row."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.intact:
            raise CommandError(
                f"audit chain broken at #{report.first_bad_seq}: {report.problem} "
                f"({report.checked} rows verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {report.checked} rows"))
