"""Typed access to Channels' database_sync_to_async."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar, cast

from channels.db import database_sync_to_async

P = ParamSpec("P")
R = TypeVar("R")


def db_async(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run ``func`` in a worker thread with fresh database connections, from async code."""
    return cast(Callable[P, Awaitable[R]], database_sync_to_async(func))
