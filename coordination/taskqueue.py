"""Scheduling background tasks after the current transaction commits.

``enqueue(task, *args, **kwargs)`` is how actions start a Celery task: never before the data it
reads is committed, and not at all if the transaction rolls back. Where the task runs depends
on ``settings.TASKS_MODE``:

- ``celery``: a Celery worker, through the Redis broker (``REDIS_URL`` set: production);
- ``thread``: a small pool of background threads in this process (the embedded default, no
  Redis); a task's ``retry`` runs again at once there, without the countdown;
- ``inline``: at once, in the committing thread, errors raised (the tests).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from celery import Task
from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

MODES = ("celery", "thread", "inline")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def enqueue(task: Task[Any, Any], *args: Any, **kwargs: Any) -> None:
    """Run ``task(*args, **kwargs)`` once the current transaction commits (at once outside
    one). Arguments must be JSON-serialisable: ids, not rows."""
    mode = settings.TASKS_MODE
    if mode not in MODES:
        raise ValueError(f"TASKS_MODE must be one of {MODES}, not {mode!r}")
    # Inline, a failure is the caller's (a test's) to see; elsewhere the change is committed
    # already, so a failure to hand the task over is logged rather than failing the request.
    transaction.on_commit(partial(_dispatch, mode, task, args, kwargs), robust=mode != "inline")


def _dispatch(
    mode: str, task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    if mode == "celery":
        task.apply_async(args=args, kwargs=kwargs)
    elif mode == "thread":
        _thread_pool().submit(_run_in_thread, task, args, kwargs)
    else:
        task.apply(args=args, kwargs=kwargs, throw=True)


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=settings.TASKS_THREADS, thread_name_prefix="task"
            )
        return _pool


def _run_in_thread(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        task.apply(args=args, kwargs=kwargs, throw=True)
    except Exception:
        logger.exception("task %s failed", task.name)
    finally:
        # This thread's database connections are its own: do not leave them open.
        connections.close_all()


def wait_for_threads() -> None:
    """Wait for the tasks the thread pool has started (a clean shutdown, or a test)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)
