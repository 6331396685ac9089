"""The append-only, hash-chained audit trail.

Each row's hash covers its content and the previous row's hash, so changing or removing a
row breaks the chain from there on; ``manage.py verify_audit`` finds where. On PostgreSQL a
trigger also refuses UPDATE and DELETE on the table.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("the audit trail is append-only")

    def delete(self) -> NoReturn:
        raise PermissionError("the audit trail is append-only")


class AuditEvent(models.Model):
    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who, in words, as they were at the time: an e-mail, "patient-link:…", "system".
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=16)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("the audit trail is append-only")

    def content(self) -> dict[str, Any]:
        """What the hash covers."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "channel": self.channel,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "data": self.data,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256((self.prev_hash + canonical).encode()).hexdigest()
