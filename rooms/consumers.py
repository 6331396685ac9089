"""The one WebSocket per client: every event of every room the user is in, and commands.

Protocol (JSON text frames):

- Connect to ``/ws/?after=N`` with the last event number seen (omit it for "from now on").
  The server sends every event the user missed after ``N`` in order, then
  ``{"type": "ready", "seq": S}``, then live events, with nothing lost or repeated at the
  switch. ``{"type": "error", "code": "resync_required"}`` means the client was away longer
  than the retention period: reload the rooms over HTTP and reconnect without ``after``.
- Events: ``{"type": "event", "seq", "room", "event", "at", "data"}``.
  Ephemeral notices (typing): ``{"type": "ephemeral", "room", "data"}``.
- Commands: ``{"type": "send"|"edit"|"delete"|"read"|"typing"|"ping", "id": "<request id>", ...}``
  answered by ``{"type": "ok", "id", "data"}`` or ``{"type": "error", "id", "code", "message"}``
  with the same codes as the HTTP API.
"""

from __future__ import annotations

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

CATCHUP_PAGE = 500
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
        self.sub = self.pump.attach(self.user.pk, self._deliver)
        start = self.sub.start
        rooms = await db_async(queries.rooms_as_of)(self.user, start)
        cursor = start
        if after is not None:
            try:
                await db_async(queries.check_resumable)(after)
            except CoordinationError:
                self.pump.detach(self.sub)
                raise
            while after < start:
                events = await db_async(queries.visible_events)(
                    self.user, after, start, CATCHUP_PAGE
                )
                for event in events:
                    await self.send(text_data=event.to_json())
                if len(events) < CATCHUP_PAGE:
                    break
                after = events[-1].seq
        await self.send(text_data=json.dumps({"type": "ready", "seq": cursor}))
        await self.pump.activate(self.sub, rooms, cursor)

    async def _deliver(self, text: str) -> None:
        await self.send(text_data=text)

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
                raise CoordinationError("malformed_json")
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

    async def _send_error(self, request_id: Any, error: CoordinationError) -> None:
        with translation.override(getattr(self, "language", settings.LANGUAGE_CODE)):
            body = {"type": "error", "id": request_id, **error.as_dict()}
        await self.send(text_data=json.dumps(body, default=str))

    def _run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """Run an action in a worker thread, recorded as coming from this socket."""

        def call() -> Any:
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
            return {"created": sent.created, "message": _payload(sent.message.pk)}

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

    async def cmd_ping(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"seq": self.pump.position if self.pump else 0}

    COMMANDS: dict[str, Callable[[RoomsConsumer, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
        "send": cmd_send,
        "edit": cmd_edit,
        "delete": cmd_delete,
        "read": cmd_read,
        "typing": cmd_typing,
        "ping": cmd_ping,
    }


def _payload(message_id: int) -> dict[str, Any]:
    return message_payload(messages_queryset().get(pk=message_id))


class _HeaderRequest:
    """Just enough of a request for Django's Accept-Language negotiation."""

    def __init__(self, accept_language: str) -> None:
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept_language}
        self.COOKIES: dict[str, str] = {}
        self.path_info = "/"
