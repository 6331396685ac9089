from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation

from coordination.errors import MESSAGES


def error_codes_table() -> str:
    """Every error code with its HTTP status and English message, as a Markdown table
    (docs/api.md shows it)."""
    lines = ["| Code | HTTP status | Message |", "|---|---|---|"]
    with translation.override("en"):
        for code, (status, message) in MESSAGES.items():
            lines.append(f"| `{code}` | {status} | {message} |")
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the error codes as the Markdown table of docs/api.md."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(error_codes_table(), ending="")
