from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection


@pytest.fixture
def tamper() -> Iterator[None]:
    """Raw SQL access to the audit table, its append-only trigger off (PostgreSQL), as a
    database owner could. The test's transaction undoes it."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # Django's foreign keys are deferred: pending checks on the table block ALTER.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")
        yield
        if postgres:
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
