"""``manage.py rotate_master_key``: re-wrap every stored encrypted file under the current key.

The procedure (docs/security.md): deploy every process with ``MASTER_KEYS=new:...,old:...``
(the new key first: it wraps new files, the old one still unwraps), run this command until it
reports nothing left under another key, then remove the old key from ``MASTER_KEYS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coordination import crypto


@dataclass
class RotationReport:
    """What a run did, file by file counted."""

    scanned: int = 0
    rewrapped: int = 0
    already_current: int = 0
    not_encrypted: int = 0
    vanished: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"scanned {self.scanned}, rewrapped {self.rewrapped}, already current "
            f"{self.already_current}, not encrypted {self.not_encrypted}, vanished "
            f"{self.vanished}, failed {len(self.failed)}"
        )


def rotate(
    *, batch_size: int = 100, pause: float = 0.0, dry_run: bool = False, progress: Any = None
) -> RotationReport:
    """Re-wrap every file of the photos storage that is not under the current master key.

    Resumable: a file already under the current key is recognised from its header alone and
    skipped, so a run that was stopped is simply started again. Files are rewritten one by
    one and atomically (:func:`coordination.crypto.replace_stored`), while the server keeps
    reading them with either key. ``progress`` (a callable) is told the report after each batch
    of ``batch_size`` files; ``pause`` seconds between batches spare the storage.
    """
    storage = crypto.photo_storage()
    current = crypto.master_keys().current
    report = RotationReport()
    batch = 0
    for name in crypto.walk_storage(storage):
        report.scanned += 1
        batch += 1
        try:
            header = crypto.parse_header(crypto.read_stored_header(name, storage))
            if header.key_id == current:
                report.already_current += 1
            else:
                blob = crypto.read_stored(name, storage)
                rewrapped = crypto.rewrap(blob)
                if rewrapped is None:  # rewrapped by someone else meanwhile
                    report.already_current += 1
                else:
                    if not dry_run:
                        crypto.replace_stored(name, rewrapped, storage)
                    report.rewrapped += 1
        except crypto.MalformedBlob:
            report.not_encrypted += 1
        except FileNotFoundError:
            report.vanished += 1
        except crypto.CryptoError as exc:
            report.failed[name] = str(exc)
        if batch >= batch_size:
            batch = 0
            if progress is not None:
                progress(report)
            if pause:
                time.sleep(pause)
    return report


class Command(BaseCommand):
    help = (
        "Re-wrap the data key of every encrypted file in the photos storage under the current "
        "master key (the first of MASTER_KEYS). Safe to run while the server runs, and to run "
        "again after an interruption."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=100, help="files between progress reports"
        )
        parser.add_argument(
            "--pause", type=float, default=0.0, help="seconds to wait between batches"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be rewrapped, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        current = crypto.master_keys().current
        self.stdout.write(f"Rewrapping under master key {current!r}.")

        def progress(report: RotationReport) -> None:
            self.stdout.write(f"... {report.summary()}")

        report = rotate(
            batch_size=options["batch_size"],
            pause=options["pause"],
            dry_run=options["dry_run"],
            progress=progress,
        )
        self.stdout.write(("Dry run: " if options["dry_run"] else "Done: ") + report.summary())
        for name, reason in report.failed.items():
            self.stderr.write(f"{name}: {reason}")
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} file(s) could not be rewrapped: keep their old master "
                "key configured until they are dealt with."
            )
