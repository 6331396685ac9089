from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications import vapid


class Command(BaseCommand):
    help = (
        "Make a VAPID key pair for web push. Prints it as environment lines "
        "(VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY); with --write, stores it in VAR_DIR/vapid.json "
        "instead, where the server reads it when the environment sets none. A new key pair "
        "invalidates every browser's subscription: they subscribe again on their next visit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--write",
            action="store_true",
            help="Replace VAR_DIR/vapid.json (only used when the environment sets no keys).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["write"]:
            private, public = vapid.generate()
            self.stdout.write(f"VAPID_PRIVATE_KEY={private}\nVAPID_PUBLIC_KEY={public}\n")
            return
        if os.environ.get("VAPID_PRIVATE_KEY") or os.environ.get("VAPID_PUBLIC_KEY"):
            raise CommandError(
                "VAPID keys are set in the environment, which wins over VAR_DIR/vapid.json: "
                "change them there."
            )
        path = Path(settings.VAR_DIR) / "vapid.json"
        _, public = vapid.write_new(path)
        self.stdout.write(f"Wrote {path}\nVAPID_PUBLIC_KEY={public}\n")
