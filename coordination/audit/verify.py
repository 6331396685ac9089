"""Checking the audit chain: every row's hash, and every link to the row before."""

from __future__ import annotations

from dataclasses import dataclass

from .models import AuditEvent

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainReport:
    checked: int
    intact: bool
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the whole chain in order. Finds altered rows, removed rows and broken links."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch])
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(checked, False, expected_seq, "row missing")
            if row.prev_hash != expected_prev:
                return ChainReport(checked, False, row.seq, "link to the previous row broken")
            if row.compute_hash() != row.hash:
                return ChainReport(checked, False, row.seq, "row content altered")
            expected_prev = row.hash
            expected_seq += 1
            checked += 1
        if len(rows) < batch:
            break
        last_seq = rows[-1].seq
    from coordination.models import Sequencer

    head = Sequencer.objects.values_list("audit_hash", flat=True).first()
    if head is not None and checked and head != expected_prev:
        return ChainReport(checked, False, expected_seq, "rows removed from the end")
    return ChainReport(checked, True)
