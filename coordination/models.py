"""The room event log: one global, gapless, monotonically increasing sequence.

Writers take the sequencer row's lock to number their events (see ``events.py``), so
sequence numbers are committed in increasing order and never skipped: the committed events
are always exactly ``1..N``. A client that saw event ``N`` needs exactly the events after
``N`` that it may see, and a reader can tell a gap from an event still in flight.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Sequencer(models.Model):
    """A single row: the last event and audit numbers handed out, and the audit chain head."""

    event_seq = models.BigIntegerField(default=0)
    audit_seq = models.BigIntegerField(default=0)
    audit_hash = models.CharField(max_length=64, default="0" * 64)
    # Events up to this number were pruned after the retention period.
    pruned_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"events {self.event_seq}, audit {self.audit_seq}"


class RoomEvent(models.Model):
    """Something that happened in a room, in the order everybody sees it."""

    seq = models.BigIntegerField(primary_key=True)
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=48)
    payload = models.JSONField(default=dict)
    # Set for events only one member may see (their read marker, say).
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["room", "seq"], name="roomevent_room_seq"),
            models.Index(fields=["created_at"], name="roomevent_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type} in room {self.room_id}"
