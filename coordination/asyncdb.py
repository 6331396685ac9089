"""Running ORM code from async code: in a bounded pool of threads, not in one shared thread.

Channels' ``database_sync_to_async`` runs everything in one thread per process by default, so
every WebSocket command, handshake and catch-up of the process waits behind the others, and the
event pump's reads wait behind all of them, although nearly all of that time is spent waiting
for the database. Here they run in a pool of ``settings.DB_THREADS`` threads, each with its own
database connection (kept for ``CONN_MAX_AGE``, checked and closed as Channels does around every
call), started as needed. Code that must never queue behind commands, the event pump, has a
pool of its own: ``db_async(func, pool="pump")``. A process holds at most ``DB_THREADS + 1``
connections.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")

_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
# The event loop whose coroutine is waiting for the current thread's call, if any.
_caller_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "caller_loop", default=None
)


def caller_loop() -> asyncio.AbstractEventLoop | None:
    """In a call made through :func:`db_async`: the event loop of the coroutine that made it
    (where async work can be handed without waiting for it). Elsewhere: None."""
    return _caller_loop.get()


def _pool(name: str) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(name)
        if pool is None:
            size = max(1, int(settings.DB_THREADS)) if name == "default" else 1
            pool = _pools[name] = ThreadPoolExecutor(size, thread_name_prefix=f"db-{name}")
        return pool


def db_async(func: Callable[P, R], *, pool: str = "default") -> Callable[P, Awaitable[R]]:
    """Run ``func`` in a worker thread of ``pool`` with a usable database connection.

    Calls from one coroutine run one after the other; calls from different coroutines (two
    WebSocket connections) run concurrently, so ``func`` must not rely on running in the same
    thread as another call.
    """

    @functools.wraps(func)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        runner = database_sync_to_async(func, thread_sensitive=False, executor=_pool(pool))
        # The thread runs in a copy of this context: it can find this loop.
        token = _caller_loop.set(asyncio.get_running_loop())
        try:
            result: R = await runner(*args, **kwargs)
        finally:
            _caller_loop.reset(token)
        return result

    return call
