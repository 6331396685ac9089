"""The generated tables in docs/ match the code they describe."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

DOCS = Path(settings.BASE_DIR) / "docs"


def generated(document: str, command: str) -> str:
    """The text between the document's BEGIN and END markers for ``command``."""
    text = (DOCS / document).read_text(encoding="utf-8")
    found = re.search(rf"<!-- BEGIN {command}\b.*?-->\n(.*?)<!-- END {command} -->", text, re.S)
    assert found, f"{document} has no {command} section"
    return found.group(1)


def output_of(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("document", "command"),
    [("permissions.md", "permissions_table"), ("api.md", "error_codes_table")],
)
def test_the_documented_table_is_what_the_command_prints(document: str, command: str) -> None:
    # To update: replace the section with `python manage.py <command>`'s output.
    assert generated(document, command) == output_of(command)


def test_the_permission_table_has_a_row_per_permission_and_a_column_per_role() -> None:
    from coordination.accounts.models import Role
    from coordination.accounts.permissions import Perm

    rows = output_of("permissions_table").splitlines()
    assert len(rows) == 2 + len(Perm)
    assert all(row.count("|") == 3 + len(Role) for row in rows)


def test_the_error_table_lists_every_code_once() -> None:
    from coordination.errors import MESSAGES

    codes = re.findall(r"^\| `(\w+)` \|", output_of("error_codes_table"), re.M)
    assert codes == list(MESSAGES)
