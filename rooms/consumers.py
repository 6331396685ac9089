"""The one WebSocket per client: every event of every room the user is in, and commands.

Protocol (JSON text frames):

- Connect to ``/ws/?after=N`` with the last event number seen (omit it for "from now on").
  The server sends every event the user missed after ``N`` in order, then
  ``{"type": "ready", "seq": S}``, then live events, with nothing lost or repeated at the
  switch. ``{"type": "error", "code": "resync_required"}`` means the client was away longer
  than the retention period: reload the rooms over HTTP and reconnect without ``after``.
- Events: ``{"type": "event", "seq", "room", "event", "at", "data"}``.
  Ephemeral notices (typing): ``{"type": "ephemeral", "room", "data"}``.
- Commands: ``{"type": "send"|"edit"|"delete"|"read"|"typing"|"ping"|"photo", "id": "<request
  id>", ...}`` (``photo``: ``{"room", "upload", "client_uuid", "wound_site"?}``, a photo staged
  with ``POST /api/uploads``)
  answered by ``{"type": "ok", "id", "data"}`` or ``{"type": "error", "id", "code", "message"}``
  with the same codes as the HTTP API.
- A connection handles one message at a time, and the catch-up is part of opening it:
  commands sent before ``ready`` are answered after it, with the connection's rooms known (so
  typing is never refused for arriving early). A long catch-up delays them; nothing is lost.
- A user deactivated while connected gets ``not_authenticated`` and the socket is closed with
  4401: at their next command (typing aside), or at the process's next periodic check (about
  a second; until then they may still receive events).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from rest_framework import serializers

from coordination.accounts.models import User
from coordination.api import id_field
from coordination.asyncdb import db_async
from coordination.context import Origin, origin
from coordination.errors import CoordinationError, as_coordination_error
from coordination.realtime import EventPump, Subscription, get_pump

from . import actions, queries
from .serializers import (
    EditMessageSerializer,
    MarkReadSerializer,
    SendMessageSerializer,
    message_payload,
    messages_queryset,
)

logger = logging.getLogger(__name__)

# A reconnecting client gets a small first page at once, then large ones.
CATCHUP_FIRST_PAGE = 100
CATCHUP_PAGE = 1000
CATCHUP_SLICE = 100
# How long a resuming connection waits for this process to hear of events already committed
# (they are on their way over the bus); past it, they come after ``ready`` instead.
REACH_TIMEOUT_SECONDS = 1.0
CLOSE_NOT_AUTHENTICATED = 4401


class MessageRefSerializer(serializers.Serializer[Any]):
    message = serializers.IntegerField()


class RoomRefSerializer(serializers.Serializer[Any]):
    room = serializers.IntegerField()


class SendCommandSerializer(SendMessageSerializer, RoomRefSerializer):
    pass


class EditCommandSerializer(EditMessageSerializer, MessageRefSerializer):
    pass


class ReadCommandSerializer(MarkReadSerializer, RoomRefSerializer):
    pass


class TypingCommandSerializer(RoomRefSerializer):
    active = serializers.BooleanField(default=True)


class PhotoCommandSerializer(RoomRefSerializer):
    upload = serializers.CharField(max_length=64)
    client_uuid = serializers.UUIDField()
    wound_site = id_field(required=False, allow_null=True)


def _validated(
    serializer_class: type[serializers.Serializer[Any]], data: dict[str, Any]
) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class RoomsConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # Channels is untyped
    # Events come from the process's EventPump, not from a channel per connection: no
    # channel-layer subscription per socket.
    channel_layer_alias = "__no_layer__"

    user: User
    pump: EventPump | None = None
    sub: Subscription | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every handler, through a thread.
        # Handlers here reach the database only through database_sync_to_async, which does
        # that itself, so the per-frame thread hop is skipped.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"no handler for {message['type']}")
        await handler(message)

    # --- connection ---------------------------------------------------------------------------
    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated or not user.is_active:
            await self._send_error(None, CoordinationError("not_authenticated"))
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        self.user = user
        self.language = self._language()
        self.origin = Origin(
            channel="websocket",
            ip=(self.scope.get("client") or ("", 0))[0] or "",
            user_agent=self._header(b"user-agent")[:300],
        )
        try:
            after = self._after()
            await self._start(after)
        except CoordinationError as error:
            await self._send_error(None, error)
            await self.close(code=4000 + min(error.status, 999))

    async def disconnect(self, code: int) -> None:
        if self.pump is not None and self.sub is not None:
            self.pump.detach(self.sub)

    def _header(self, name: bytes) -> str:
        for key, value in self.scope.get("headers", []):
            if key == name:
                return str(value.decode("latin1"))
        return ""

    def _language(self) -> str:
        preferred = getattr(self.user, "language", "") or translation.get_language_from_request(
            _HeaderRequest(self._header(b"accept-language"))  # type: ignore[arg-type]
        )
        return preferred if preferred in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE

    def _after(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        values = query.get("after")
        if not values or values[0] == "":
            return None
        try:
            after = int(values[0])
        except ValueError:
            raise CoordinationError(
                "invalid_request", details={"after": "a whole number"}
            ) from None
        if after < 0:
            raise CoordinationError("invalid_request", details={"after": "a whole number"})
        return after

    async def _start(self, after: int | None) -> None:
        """Catch up from the database, then switch to live events without a gap."""
        self.pump = await get_pump()
        if after is not None:
            # What was committed before the client came back is caught up before ``ready``,
            # even if this process has not heard of it yet (it is on its way over the bus).
            committed = await db_async(queries.last_seq)()
            if after < committed:
                await self.pump.reach(committed, REACH_TIMEOUT_SECONDS)
        self.sub = self.pump.attach(
            self.user.pk, self._deliver, revoke=self._revoked, credential=self._credential()
        )
        try:
            await self._begin(self.pump, self.sub, after)
        except BaseException:
            # Failed or cancelled (Daphne cancels an application that outlives its client
            # too long): the pump must not buffer for this connection forever.
            self.pump.detach(self.sub)
            raise

    async def _begin(self, pump: EventPump, sub: Subscription, after: int | None) -> None:
        start = sub.start
        rooms, frames = await db_async(queries.catch_up_start)(
            self.user, start, after, CATCHUP_FIRST_PAGE
        )
        cursor = start
        if after is not None:
            # The client may be ahead of this process's pump (it saw events through another
            # process, or over HTTP): the pump must not send those again.
            cursor = max(start, after)
            await self._catch_up(frames, start)
        await self.send(text_data=json.dumps({"type": "ready", "seq": cursor}))
        await pump.activate(sub, rooms, cursor)

    async def _catch_up(self, frames: list[tuple[int, str]], upto: int) -> None:
        """Send ``frames`` (the first page of what the user missed, up to ``upto``), then the
        rest, in order, a page at a time.

        The next page is read while one is sent, and the event loop is let go every
        ``CATCHUP_SLICE`` frames, so that a client far behind does not hold up the others.
        """
        read = db_async(queries.visible_frames)
        size = CATCHUP_FIRST_PAGE
        page: asyncio.Future[list[tuple[int, str]]] | None = None
        try:
            while True:
                if len(frames) == size and frames[-1][0] < upto:
                    page = asyncio.ensure_future(read(self.user, frames[-1][0], upto, CATCHUP_PAGE))
                for index, (_, frame) in enumerate(frames, start=1):
                    await self.send(text_data=frame)
                    if index % CATCHUP_SLICE == 0:
                        await asyncio.sleep(0)
                if page is None:
                    return
                frames, size, page = await page, CATCHUP_PAGE, None
        finally:
            if page is not None and not page.done():
                page.cancel()

    def _credential(self) -> tuple[str, str] | None:
        """What the connection signed in with, for the pump to check with the user."""
        if self.scope.get("auth_method") == "token":
            credential: tuple[str, str] | None = self.scope.get("credential")
            return credential
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        return ("session", str(key)) if key else None

    async def _deliver(self, text: str) -> None:
        await self.send(text_data=text)

    async def _revoked(self) -> None:
        """The user was deactivated, signed out, or their token was revoked: the connection
        ends as one without credentials."""
        await self._send_error(None, CoordinationError("not_authenticated"))
        await self.close(code=CLOSE_NOT_AUTHENTICATED)

    # --- commands -----------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        request_id: Any = None
        try:
            if text_data is None:
                raise CoordinationError("malformed_json")
            try:
                command = json.loads(text_data)
            except ValueError:
                raise CoordinationError("malformed_json") from None
            if not isinstance(command, dict):
                # Valid JSON, but not a command: what the HTTP API answers for such a body.
                raise CoordinationError(
                    "invalid_request",
                    details={"fields": {"non_field_errors": ["Expected a JSON object."]}},
                )
            request_id = command.get("id")
            handler = self.COMMANDS.get(str(command.get("type")))
            if handler is None:
                raise CoordinationError("unknown_command")
            result = await handler(self, command)
            await self.send(text_data=json.dumps({"type": "ok", "id": request_id, "data": result}))
        except Exception as exc:
            error = as_coordination_error(exc)
            if error is None:
                logger.exception("websocket command failed")
                error = CoordinationError("internal_error")
            await self._send_error(request_id, error)
            if error.code == "not_authenticated":
                await self.close(code=CLOSE_NOT_AUTHENTICATED)

    async def _send_error(self, request_id: Any, error: CoordinationError) -> None:
        with translation.override(getattr(self, "language", settings.LANGUAGE_CODE)):
            body = {"type": "error", "id": request_id, **error.as_dict()}
        await self.send(text_data=json.dumps(body, default=str))

    def _run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """Run an action in a worker thread, recorded as coming from this socket."""

        def call() -> Any:
            # The user was active when the socket opened; they must still be now.
            if not User.objects.filter(pk=self.user.pk, is_active=True).exists():
                raise CoordinationError("not_authenticated")
            with origin(self.origin):
                return func(*args, **kwargs)

        return db_async(call)()

    async def cmd_send(self, command: dict[str, Any]) -> dict[str, Any]:
        data = _validated(SendCommandSerializer, command)

        def send() -> dict[str, Any]:
            sent = actions.send_message(
                self.user,
                data["room"],
                client_uuid=data["client_uuid"],
                body=data["body"],
                reply_to_id=data.get("reply_to"),
            )
            # A new message's payload is the one its event carried; a retry's is read again.
            payload = sent.payload if sent.payload is not None else _payload(sent.message.pk)
            return {"created": sent.created, "message": payload}

        result: dict[str, Any] = await self._run(send)
        return result

    async def cmd_edit(self, command: dict[str, Any]) -> dict[str, Any]:
        data = _validated(EditCommandSerializer, command)

        def edit() -> dict[str, Any]:
            message = actions.edit_message(self.user, data["message"], body=data["body"])
            return {"message": _payload(message.pk)}

        result: dict[str, Any] = await self._run(edit)
        return result

    async def cmd_delete(self, command: dict[str, Any]) -> dict[str, Any]:
        data = _validated(MessageRefSerializer, command)

        def delete() -> dict[str, Any]:
            message = actions.delete_message(self.user, data["message"])
            return {"message": _payload(message.pk)}

        result: dict[str, Any] = await self._run(delete)
        return result

    async def cmd_read(self, command: dict[str, Any]) -> dict[str, Any]:
        data = _validated(ReadCommandSerializer, command)
        membership = await self._run(actions.mark_read, self.user, data["room"], data["seq"])
        return {"room": data["room"], "last_read_seq": membership.last_read_seq}

    async def cmd_typing(self, command: dict[str, Any]) -> dict[str, Any]:
        data = _validated(TypingCommandSerializer, command)
        room = data["room"]
        # The pump knows this connection's rooms exactly (it follows membership events), so
        # the check needs no database round trip.
        if self.sub is None or room not in self.sub.rooms:
            raise CoordinationError("room_not_found")
        if self.pump is not None:
            await self.pump.publish_ephemeral(
                room,
                {
                    "kind": "typing",
                    "user": {"id": self.user.pk, "full_name": self.user.full_name},
                    "active": data["active"],
                },
                exclude=self.user.pk,
            )
        return {}

    async def cmd_photo(self, command: dict[str, Any]) -> dict[str, Any]:
        """Post a photo staged with ``POST /api/uploads`` to a case room (the HTTP upload's
        action, its answers and codes; a retry returns the original)."""
        data = _validated(PhotoCommandSerializer, command)

        def post() -> dict[str, Any]:
            from cases.actions.photos import post_staged_photo
            from cases.serializers.photos import photo_payload

            posted = post_staged_photo(
                self.user,
                data["room"],
                upload_id=data["upload"],
                client_uuid=data["client_uuid"],
                wound_site_id=data.get("wound_site"),
            )
            return {
                "created": posted.created,
                "photo": photo_payload(posted.photo),
                "message": _payload(posted.photo.message_id or 0),
            }

        result: dict[str, Any] = await self._run(post)
        return result

    async def cmd_ping(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"seq": self.pump.position if self.pump else 0}

    COMMANDS: dict[str, Callable[[RoomsConsumer, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
        "send": cmd_send,
        "edit": cmd_edit,
        "delete": cmd_delete,
        "read": cmd_read,
        "typing": cmd_typing,
        "ping": cmd_ping,
        "photo": cmd_photo,
    }


def _payload(message_id: int) -> dict[str, Any]:
    return message_payload(messages_queryset().get(pk=message_id))


class _HeaderRequest:
    """Just enough of a request for Django's Accept-Language negotiation."""

    def __init__(self, accept_language: str) -> None:
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept_language}
        self.COOKIES: dict[str, str] = {}
        self.path_info = "/"
