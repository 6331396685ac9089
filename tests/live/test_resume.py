"""Resuming with ``/ws/?after=N``: exactly the missed events the user may see, in order, then
``ready``, then live; ``resync_required`` where the log cannot answer; the HTTP catch-up agrees.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from websockets.sync.client import connect

from coordination.accounts.models import User
from coordination.models import RoomEvent, Sequencer
from coordination.tasks import prune_events
from rooms import actions, queries
from rooms.models import Room

from .conftest import LIVE, Http, LiveServer, LiveSocket, last_seq, layer_settings, post

pytestmark = LIVE


def visible(user: User, after: int) -> list[dict[str, Any]]:
    """What the database says the user may see after ``after``, as the socket sends it."""
    return [event.as_client() for event in queries.visible_events(user, after, None, 100_000)]


def http_events(client: Http, after: int, limit: int = 500) -> list[dict[str, Any]]:
    """The HTTP catch-up, page by page."""
    events: list[dict[str, Any]] = []
    while True:
        page = client.get("/api/events", params={"after": after, "limit": limit}).json()
        events.extend(page["events"])
        after = page["last_seq"]
        if not page["has_more"]:
            return events


def test_a_client_coming_back_gets_exactly_what_it_missed_then_ready_then_live(
    ward: Room,
    physician: User,
    nurse: User,
    community_nurse: User,
    sockets: Callable[..., LiveSocket],
    http: Callable[[User], Http],
) -> None:
    private = actions.create_group_room(physician, name="Physicians only")
    first = sockets(nurse)
    assert first.ready is not None
    seen = first.ready["seq"]
    first.close()

    message = post(physician, ward, "While you were away")
    post(physician, private, "Not for nurses")
    actions.edit_message(physician, message.pk, body="While you were away (edited)")
    actions.mark_read(physician, ward.pk, message.seq)  # the physician's own marker
    post(community_nurse, ward, "Dressing done")
    actions.mark_read(nurse, ward.pk, message.seq)  # the nurse's, from another device

    back = sockets(nurse, after=seen)
    expected = visible(nurse, seen)
    assert [e["event"] for e in expected] == [
        "message.posted",
        "message.edited",
        "message.posted",
        "read.updated",
    ]
    assert back.catchup == expected
    assert back.ready == {"type": "ready", "seq": last_seq()}
    assert http_events(http(nurse), seen) == expected

    live = post(physician, ward, "Now live")
    assert back.expect_event("message.posted", room=ward.pk)["seq"] == live.seq
    back.sync()
    back.assert_nothing_received()


def test_membership_changes_while_away_bound_what_is_caught_up(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
) -> None:
    other = actions.create_group_room(physician, name="Later")
    first = sockets(nurse)
    assert first.ready is not None
    seen = first.ready["seq"]
    first.close()

    post(physician, other, "before she joins")
    actions.add_members(physician, other.pk, user_ids=[nurse.pk])
    post(physician, other, "after she joins")
    post(physician, ward, "before she leaves")
    actions.remove_member(physician, ward.pk, nurse.pk)
    post(physician, ward, "after she leaves")

    back = sockets(nurse, after=seen)
    bodies = [
        (e["event"], e["data"].get("message", {}).get("body") or e["data"]["user"]["id"])
        for e in back.catchup
    ]
    assert bodies == [
        ("member.joined", nurse.pk),
        ("message.posted", "after she joins"),
        ("message.posted", "before she leaves"),
        ("member.left", nurse.pk),
    ]
    assert back.catchup == visible(nurse, seen)
    # Live routing agrees with the catch-up: the room she left stays silent, the other talks.
    post(physician, ward, "still silent")
    post(physician, other, "live in the room she joined")
    assert back.expect_event("message.posted", room=other.pk)["data"]["message"]["body"] == (
        "live in the room she joined"
    )
    back.sync()
    back.assert_nothing_received()


def test_a_long_absence_is_caught_up_page_by_page(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
    http: Callable[[User], Http],
) -> None:
    """More missed events than one catch-up page (the consumer's and the API's)."""
    seen = last_seq()
    count = 1234
    insert_events(ward, count)
    back = sockets(nurse, after=seen, timeout=30)
    assert [e["data"]["i"] for e in back.catchup] == list(range(1, count + 1))
    assert back.catchup == visible(nurse, seen)
    assert http_events(http(nurse), seen, limit=500) == back.catchup


def insert_events(room: Room, count: int) -> None:
    """Many events at once, written straight into the log (numbered under the sequencer lock)."""
    with transaction.atomic():
        start = Sequencer.objects.select_for_update().get(pk=1).event_seq
        RoomEvent.objects.bulk_create(
            RoomEvent(seq=start + i, room=room, type="test.tick", payload={"i": i})
            for i in range(1, count + 1)
        )
        Sequencer.objects.filter(pk=1).update(event_seq=start + count)
        Room.objects.filter(pk=room.pk).update(last_event_seq=start + count)


def test_commands_sent_during_the_catch_up_are_answered_after_ready(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
) -> None:
    """A connection handles one thing at a time: commands sent before ``ready`` wait for the
    catch-up, then run with the connection's rooms known (typing is not refused)."""
    seen = last_seq()
    insert_events(ward, 1500)
    doctor = sockets(physician)
    sock = sockets(nurse, after=seen, wait_ready=False)
    sock.send_raw(json.dumps({"type": "typing", "id": "t", "room": ward.pk}))
    send = {"type": "send", "id": "s", "room": ward.pk, "client_uuid": str(uuid.uuid4())}
    sock.send_raw(json.dumps({**send, "body": "early"}))
    frames: list[dict[str, Any]] = []
    while len([f for f in frames if f["type"] in {"ok", "error"}]) < 2:
        frames.append(sock.recv_json(timeout=30))
    kinds = [f["type"] for f in frames]
    ready = kinds.index("ready")
    assert kinds[:ready] == ["event"] * 1500
    replies = [f for f in frames if f["type"] in {"ok", "error"}]
    assert [(r["id"], r["type"]) for r in replies] == [("t", "ok"), ("s", "ok")]
    assert kinds.index("ok") > ready
    assert doctor.expect_ephemeral()["data"]["user"]["id"] == nurse.pk


def test_resuming_after_the_end_of_the_log_requires_a_resync(
    ward: Room, nurse: User, sockets: Callable[..., LiveSocket]
) -> None:
    sock = sockets(nurse, after=last_seq() + 5, wait_ready=False)
    error = sock.recv_json()
    assert (error["type"], error["code"]) == ("error", "resync_required")
    assert sock.wait_closed() == 4410


def test_an_after_that_is_not_a_sequence_number_is_refused(
    ward: Room, nurse: User, daphne_server: LiveServer, token_of: Callable[[User], str]
) -> None:
    headers = {"Authorization": f"Bearer {token_of(nurse)}"}
    for after in ["abc", "-1", "1.5", ""]:
        url = f"{daphne_server.ws_url}?after={after}"
        sock = LiveSocket(connect(url, additional_headers=headers, proxy=None, legacy=True))
        if after == "":  # no number: from now on
            assert sock.wait_ready()["seq"] == last_seq()
            sock.close()
            continue
        error = sock.recv_json()
        assert (error["type"], error["code"]) == ("error", "invalid_request"), after
        assert sock.wait_closed() == 4400


def test_resuming_before_pruned_events_requires_a_resync(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
    http: Callable[[User], Http],
) -> None:
    post(physician, ward, "old news")
    pruned_through = last_seq()
    RoomEvent.objects.update(created_at=timezone.now() - timedelta(days=365))
    post(physician, ward, "recent")
    assert prune_events() == pruned_through
    assert Sequencer.objects.get(pk=1).pruned_through == pruned_through

    stale = sockets(nurse, after=pruned_through - 1, wait_ready=False)
    assert stale.recv_json()["code"] == "resync_required"
    assert stale.wait_closed() == 4410
    response = http(nurse).get("/api/events", params={"after": pruned_through - 1})
    assert (response.status_code, response.json()["code"]) == (410, "resync_required")

    fresh = sockets(nurse, after=pruned_through)
    assert [e["data"]["message"]["body"] for e in fresh.catchup] == ["recent"]


def test_a_client_ahead_of_the_servers_pump_gets_nothing_twice(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
    settings: Any,
) -> None:
    """A client that saw events through another server, or over HTTP, may resume here before
    this server's pump has them. It must not get them again when the pump catches up."""
    watcher = sockets(physician)  # starts the pump
    settings.CHANNEL_LAYERS = layer_settings("elsewhere")  # the pump hears nothing of these
    exercised = False
    for attempt in range(5):
        post(physician, ward, f"seen elsewhere {attempt}")
        seen = last_seq()
        sock = sockets(nurse, after=seen)
        assert sock.ready is not None
        assert sock.catchup == []
        assert sock.ready["seq"] >= seen
        exercised = watcher.ok("ping")["seq"] < seen
        time.sleep(1.5)  # the pump finds the events in the database
        sock.sync()
        sock.assert_nothing_received()
        sock.close()
        if exercised:
            break
    assert exercised, "the pump always caught up first: the case was not exercised"


def test_events_whose_publication_was_lost_still_arrive_in_order(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
    settings: Any,
) -> None:
    """Events that never reach the server's pump through the bus (written here on another
    prefix) are found in the database by the pump's periodic check."""
    sock = sockets(nurse)
    settings.CHANNEL_LAYERS = layer_settings("elsewhere")
    began = time.monotonic()
    messages = [post(physician, ward, f"lost publication {i}") for i in range(5)]
    actions.edit_message(physician, messages[0].pk, body="lost publication 0, edited")
    written = time.monotonic()
    received = [sock.expect_event(room=ward.pk, timeout=2.5) for _ in range(6)]
    arrived = time.monotonic()
    assert [e["seq"] for e in received] == [m.seq for m in messages] + [last_seq()]
    assert [e["event"] for e in received] == ["message.posted"] * 5 + ["message.edited"]
    assert arrived - written < 2.5, (
        f"took {arrived - written:.2f}s (writing {written - began:.2f}s)"
    )
    sock.sync()
    sock.assert_nothing_received()


def test_events_reach_a_server_restarted_while_clients_were_away(
    ward: Room,
    physician: User,
    nurse: User,
    daphne_server: LiveServer,
    sockets: Callable[..., LiveSocket],
) -> None:
    sock = sockets(nurse)
    assert sock.ready is not None
    seen = sock.ready["seq"]
    daphne_server.kill()
    post(physician, ward, "while the server was down")
    daphne_server.start()
    back = sockets(nurse, after=seen)
    assert [e["data"]["message"]["body"] for e in back.catchup] == ["while the server was down"]
    post(physician, ward, "after the restart")
    assert back.expect_event("message.posted")["data"]["message"]["body"] == "after the restart"
