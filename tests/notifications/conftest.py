"""What the notification tests share: a room, notifications, the push settings."""

from __future__ import annotations

from typing import Any

import pytest

from coordination.accounts.models import Team, User
from notifications import vapid
from rooms import actions as room_actions
from rooms.models import Room


@pytest.fixture
def push_settings(settings: Any) -> dict[str, str]:
    """A VAPID key pair of the test's own; plain http endpoints allowed (the local service)."""
    private, public = vapid.generate()
    settings.VAPID_PRIVATE_KEY = private
    settings.VAPID_PUBLIC_KEY = public
    settings.VAPID_SUBJECT = "mailto:it@saint-luc.example.org"
    settings.PUSH_ALLOW_HTTP = True
    settings.PUSH_TTL = 3600
    settings.PUSH_MAX_RETRIES = 2
    return {"private": private, "public": public}


@pytest.fixture
def room(physician: User, nurse: User, coordinator: User, wound_care: Team) -> Room:
    """Leg ulcers: the physician, the coordinator, and the wound-care team (the nurse)."""
    return room_actions.create_group_room(
        physician, name="Leg ulcers", member_ids=[coordinator.pk], team_ids=[wound_care.pk]
    )
