"""A bare Channels group relay: the baseline that ``ws_fanout.py`` measures the product against.

No database, no authentication, no event log: a client connects to ``/ws/?rooms=3,7``, joins
one channel-layer group per room and gets ``{"type": "ready"}``; every text frame it sends
(JSON with a ``room``) is ``group_send`` to that room's group and relayed verbatim to every
member, the sender included. It runs under Daphne with the same channel layer class as the
product (``RedisPubSubChannelLayer``, ``REDIS_URL``, ``CHANNEL_LAYER_PREFIX``)::

    REDIS_URL=redis://127.0.0.1:6379/0 daphne -p 8100 benchmarks.bare_echo:application

Like the product's consumer, it skips Channels' per-message database clean-up (a thread hop
before every handler): it has no database, so the baseline is the best a Channels relay does.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qs

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bare-echo-benchmark",  # noqa: S106 - no secrets here: nothing is signed
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["channels"],
        DATABASES={},
        USE_TZ=True,
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {
                    "hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")],
                    "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "bare"),
                },
            }
        },
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path


def group_name(room: int) -> str:
    return f"room-{room}"


class EchoConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # Channels is untyped
    rooms: list[int]

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"no handler for {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        raw = query.get("rooms", [""])[0]
        self.rooms = [int(value) for value in raw.split(",") if value]
        await self.accept()
        for room in self.rooms:
            await self.channel_layer.group_add(group_name(room), self.channel_name)
        await self.send(text_data='{"type":"ready"}')

    async def disconnect(self, code: int) -> None:
        for room in getattr(self, "rooms", []):
            await self.channel_layer.group_discard(group_name(room), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            return
        command = json.loads(text_data)
        await self.channel_layer.group_send(
            group_name(int(command["room"])), {"type": "relay", "text": text_data}
        )

    async def relay(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/", EchoConsumer.as_asgi())])})
