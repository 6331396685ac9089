"""Tampering with the audit trail is found: altered, removed or relinked rows.

On PostgreSQL a trigger refuses UPDATE and DELETE outright; to prove the chain check does not
depend on it, the tests disable the trigger (as a database owner could) before tampering.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.audit.verify import verify_chain
from rooms import actions


@pytest.fixture
def chain(physician: User, nurse: User) -> list[AuditEvent]:
    """A room and a few messages: an audit chain of a handful of rows."""
    import uuid

    room = actions.create_group_room(physician, name="Leg ulcers", member_ids=[nurse.pk])
    for body in ("one", "two", "three"):
        actions.send_message(nurse, room.pk, client_uuid=uuid.uuid4(), body=body)
    rows = list(AuditEvent.objects.order_by("seq"))
    assert len(rows) >= 6
    assert verify_chain().intact
    return rows


def sql(statement: str, *params: str | int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_intact_chain_verifies(chain: list[AuditEvent]) -> None:
    report = verify_chain()
    assert report.intact
    assert report.checked == len(chain)


def test_altering_a_rows_data_is_found(chain: list[AuditEvent], tamper: None) -> None:
    sql("UPDATE audit_auditevent SET data = %s WHERE seq = %s", '{"room": 999}', chain[3].seq)
    report = verify_chain()
    assert not report.intact
    assert (report.first_bad_seq, report.problem) == (chain[3].seq, "row content altered")
    assert report.checked == 3


def test_removing_a_row_is_found(chain: list[AuditEvent], tamper: None) -> None:
    sql("DELETE FROM audit_auditevent WHERE seq = %s", chain[2].seq)
    report = verify_chain()
    assert (report.intact, report.first_bad_seq, report.problem) == (
        False,
        chain[2].seq,
        "row missing",
    )


def test_removing_the_last_rows_is_found(chain: list[AuditEvent], tamper: None) -> None:
    sql("DELETE FROM audit_auditevent WHERE seq >= %s", chain[-2].seq)
    report = verify_chain()
    assert not report.intact
    assert report.problem == "rows removed from the end"
    assert report.first_bad_seq == chain[-2].seq


def test_breaking_a_link_is_found(chain: list[AuditEvent], tamper: None) -> None:
    sql("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = %s", "f" * 64, chain[4].seq)
    report = verify_chain()
    assert (report.first_bad_seq, report.problem) == (
        chain[4].seq,
        "link to the previous row broken",
    )


def test_rewriting_a_row_with_a_fresh_hash_breaks_the_next_link(
    chain: list[AuditEvent], tamper: None
) -> None:
    forged = AuditEvent.objects.get(seq=chain[1].seq)
    forged.actor_label = "someone else"
    sql(
        "UPDATE audit_auditevent SET actor_label = %s, hash = %s WHERE seq = %s",
        forged.actor_label,
        forged.compute_hash(),
        forged.seq,
    )
    report = verify_chain()
    assert (report.first_bad_seq, report.problem) == (
        chain[2].seq,
        "link to the previous row broken",
    )


def test_the_orm_refuses_to_change_or_delete_audit_rows(chain: list[AuditEvent]) -> None:
    row = AuditEvent.objects.get(seq=chain[0].seq)
    row.action = "nothing.happened"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(seq=row.seq).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert verify_chain().intact


@pytest.mark.services
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'nothing.happened' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 1",
    ],
)
def test_postgresql_refuses_to_change_or_delete_audit_rows(
    chain: list[AuditEvent], statement: str
) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(statement)
    assert AuditEvent.objects.filter(seq=1, action=chain[0].action).exists()
    assert verify_chain().intact


def test_verify_audit_says_an_intact_chain_is_intact(
    chain: list[AuditEvent], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("verify_audit")
    assert f"audit chain intact: {len(chain)} rows" in capsys.readouterr().out


def test_verify_audit_exits_non_zero_on_a_broken_chain(
    chain: list[AuditEvent], tamper: None
) -> None:
    sql("UPDATE audit_auditevent SET actor_label = 'x' WHERE seq = %s", chain[2].seq)
    with pytest.raises(CommandError, match=f"broken at #{chain[2].seq}: row content altered") as e:
        call_command("verify_audit")
    # What manage.py exits with (BaseCommand.run_from_argv).
    assert e.value.returncode == 1
