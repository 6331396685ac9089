"""Group commit: writes from many threads of a process, committed together.

Every writer of the event log holds the sequencer row's lock from the moment it takes its
numbers until it commits (``events.py``), so writers run one after the other, each paying a
handful of database round trips while all the others wait. Under load that chain, not the
database's work, caps the rate. A :class:`GroupCommit` lets the writers that arrive while a
transaction is in flight be written by the next one together: the lock is taken once for all
of them, and each waits for one transaction instead of queueing for the lock.

The first waiting thread leads: it takes every waiting item (up to ``max_batch``), runs
``write(items)`` (one transaction) and hands the results out; meanwhile new items queue for the
next leader, the first thread among them. No thread is started for this; callers block.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class _Ticket(Generic[T, R]):
    item: T
    ready: threading.Event = field(default_factory=threading.Event)
    result: R | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit(Generic[T, R]):
    """Runs ``write`` on batches of the items submitted from different threads.

    ``write`` gets the items in submission order and returns one result per item, in the same
    order; if it raises, every item of that batch gets the exception.
    """

    def __init__(self, write: Callable[[Sequence[T]], Sequence[R]], max_batch: int = 64) -> None:
        self._write = write
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Ticket[T, R]] = []
        self._leading = False
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is waiting; returns its result or raises."""
        ticket: _Ticket[T, R] = _Ticket(item)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            # Woken either with the result or to lead the next batch (which holds this item).
            ticket.ready.wait()
        if not ticket.done:
            self._lead()
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]  # set with done

    def _lead(self) -> None:
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            results = self._write([ticket.item for ticket in batch])
            if len(results) != len(batch):
                raise RuntimeError("a group commit returned a result per item")
            for ticket, result in zip(batch, results, strict=True):
                ticket.result = result
        except BaseException as error:
            for ticket in batch:
                ticket.error = error
        finally:
            for ticket in batch:
                ticket.done = True
            with self._lock:
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
                self.batches += 1
                self.items += len(batch)
            for ticket in batch:
                ticket.ready.set()
            if successor is not None:
                successor.ready.set()
