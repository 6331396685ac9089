"""Scheduling background tasks after the current transaction commits.

``enqueue(task, *args, **kwargs)`` is how actions start a Celery task: never before the data it
reads is committed, and not at all if the transaction rolls back. Where the task runs depends
on ``settings.TASKS_MODE``:

- ``celery``: a Celery worker, through the Redis broker (``REDIS_URL`` set: production);
- ``thread``: a small pool of background threads in this process (the embedded default, no
  Redis); a task's ``retry`` runs again after its countdown (lost if the process stops);
- ``inline``: at once, in the committing thread, retries without waiting, errors raised
  (the tests).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any

from celery import Task
from celery.exceptions import Retry
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
        _thread_pool().submit(_run_in_thread, task, args, kwargs, 0)
    else:
        _run_inline(task, args, kwargs)


def _run_once(
    task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], retries: int
) -> tuple[tuple[Any, ...], dict[str, Any], float] | None:
    """Run the task here; if it asks to be retried, its next arguments and countdown."""
    try:
        task.apply(args=args, kwargs=kwargs, retries=retries, throw=True)
    except Retry as retry:
        # The signature of the next attempt (not in celery-types' stub).
        sig: Any = getattr(retry, "sig", None)
        if sig is None:
            raise
        when = retry.when
        if isinstance(when, datetime):
            delay = max(0.0, (when - datetime.now(tz=when.tzinfo)).total_seconds())
        else:
            delay = float(when or 0)
        return tuple(sig.args), dict(sig.kwargs), delay
    return None


def _run_inline(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Run the task and its retries at once (a test does not wait for a countdown)."""
    retries = 0
    while (again := _run_once(task, args, kwargs, retries)) is not None:
        args, kwargs, _ = again
        retries += 1


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=settings.TASKS_THREADS, thread_name_prefix="task"
            )
        return _pool


def _run_in_thread(
    task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], retries: int
) -> None:
    try:
        again = _run_once(task, args, kwargs, retries)
    except Exception:
        logger.exception("task %s failed", task.name)
        return
    finally:
        # This thread's database connections are its own: do not leave them open.
        connections.close_all()
    if again is not None:
        # A retry waits its countdown on a timer, not in one of the pool's threads.
        next_args, next_kwargs, delay = again
        timer = threading.Timer(
            delay,
            lambda: _thread_pool().submit(
                _run_in_thread, task, next_args, next_kwargs, retries + 1
            ),
        )
        timer.daemon = True
        timer.start()


def wait_for_threads() -> None:
    """Wait for the tasks the thread pool has started (a clean shutdown, or a test)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)
