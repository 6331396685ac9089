from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation

from coordination.accounts.models import Role
from coordination.accounts.permissions import MATRIX, PERMISSION_DESCRIPTIONS, Perm


def permissions_table() -> str:
    """The role-by-permission matrix as a Markdown table (docs/permissions.md shows it)."""
    roles = list(Role)
    with translation.override("en"):
        names = " | ".join(str(role.label) for role in roles)
    lines = [f"| Permission | What it allows | {names} |", "|---|---|" + "---|" * len(roles)]
    for perm in Perm:
        marks = " | ".join("✓" if perm in MATRIX[role] else "" for role in roles)
        lines.append(f"| `{perm}` | {PERMISSION_DESCRIPTIONS[perm]} | {marks} |")
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the role-by-permission matrix as the Markdown table of docs/permissions.md."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(permissions_table(), ending="")
