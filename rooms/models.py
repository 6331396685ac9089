"""Rooms, their members and their messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_MESSAGE_LENGTH = 10_000


class Room(models.Model):
    class Kind(models.TextChoices):
        GROUP = "group", _("Group room")
        DIRECT = "direct", _("Direct conversation")
        CASE = "case", _("Case room")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, blank=True)
    topic = models.CharField(max_length=500, blank=True)
    # The organisation whose policy governs the room; none for direct conversations.
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    is_archived = models.BooleanField(default=False)
    # The sorted member ids of a direct conversation, so that there is one per pair.
    direct_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    last_event_seq = models.BigIntegerField(default=0)
    last_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} #{self.pk}"


class RoomTeam(models.Model):
    """A team linked to a room: its members are members of the room, and so are newcomers."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="team_links")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="room_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "team"], name="room_team_unique")]

    def __str__(self) -> str:
        return f"team {self.team_id} in room {self.room_id}"


class Membership(models.Model):
    """A user's stay in a room, from the event that let them in to the one that let them out.

    Rows are closed, never deleted, so that what a member may see of the event log is exactly
    the events between ``joined_seq`` and ``left_seq``.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    via_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_seq = models.BigIntegerField()
    left_seq = models.BigIntegerField(null=True, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    # The sequence number of the last message event the member has read.
    last_read_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room", "user"],
                condition=Q(left_seq__isnull=True),
                name="one_active_membership",
            )
        ]
        indexes = [models.Index(fields=["user", "left_seq"], name="membership_user_active")]

    def __str__(self) -> str:
        return f"user {self.user_id} in room {self.room_id}"

    @property
    def is_active(self) -> bool:
        return self.left_seq is None


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        PHOTO = "photo", _("Photo")
        MEASUREMENT = "measurement", _("Measurement")
        ALERT = "alert", _("Alert")
        FORM_RESPONSE = "form_response", _("Form response")
        SYSTEM = "system", _("System")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(blank=True)
    # Kind-specific content (a photo's id, a measurement, an alert), shown inline.
    data = models.JSONField(default=dict, blank=True)
    client_uuid = models.UUIDField(null=True, blank=True)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    # The number of the event that posted it: messages are ordered by it.
    seq = models.BigIntegerField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_uuid"],
                condition=Q(client_uuid__isnull=False),
                name="message_client_uuid_unique",
            )
        ]
        indexes = [models.Index(fields=["room", "seq"], name="message_room_seq")]

    def __str__(self) -> str:
        return f"message {self.pk} in room {self.room_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class MessageEdit(models.Model):
    """The text a message had before an edit: history is kept."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    previous_body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"edit of message {self.message_id}"


class Mention(models.Model):
    """A member named in a message, directly (``@handle``) or through a team (``@team``)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    via_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="mention_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} in message {self.message_id}"
