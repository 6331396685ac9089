"""The ASGI entry point: Django over HTTP, the rooms WebSocket at ``/ws/``."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from coordination.wsauth import websocket_stack  # noqa: E402
from rooms.consumers import RoomsConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": websocket_stack(URLRouter([path("ws/", RoomsConsumer.as_asgi())])),
    }
)
