"""Group commit: items from many threads written by one leader at a time, results handed back."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from coordination.groupcommit import GroupCommit


def run_threads(count: int, target: object) -> list[object]:
    results: list[object] = [None] * count
    start = threading.Barrier(count)

    def work(index: int) -> None:
        start.wait()
        try:
            results[index] = target(index)  # type: ignore[operator]
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_each_caller_gets_its_own_result_and_waiting_items_share_a_batch() -> None:
    batches: list[list[int]] = []

    def write(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        time.sleep(0.05)  # a transaction in flight: others queue for the next one
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(write)
    results = run_threads(16, group.submit)
    assert results == [i * 10 for i in range(16)]
    assert sorted(item for batch in batches for item in batch) == list(range(16))
    assert len(batches) < 16
    assert group.items == 16
    assert group.batches == len(batches)


def test_a_failed_batch_fails_every_item_in_it_and_the_next_batch_still_runs() -> None:
    calls = 0

    def write(items: Sequence[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(0.05)
            raise ValueError("the transaction failed")
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(write)
    results = run_threads(8, group.submit)
    failed = [r for r in results if isinstance(r, ValueError)]
    assert failed
    assert all(r == i for i, r in enumerate(results) if not isinstance(r, ValueError))
    # After the failures, the group works again.
    assert group.submit(99) == 99


def test_batches_are_limited_in_size() -> None:
    sizes: list[int] = []

    def write(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        time.sleep(0.02)
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(write, max_batch=3)
    assert run_threads(12, group.submit) == list(range(12))
    assert max(sizes) <= 3


def test_a_write_that_returns_too_few_results_is_an_error() -> None:
    group: GroupCommit[int, int] = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError):
        group.submit(1)
