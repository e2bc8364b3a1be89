"""The pipeline that moves a round's blocks and ranges: results in order, a file read no
further ahead than its bound (the memory bound, whatever the file's size), each block
held to a wall clock, and the first failure ending it."""

import threading
import time
from collections.abc import Iterator

import pytest

from federation.operate import blobs


def test_results_come_back_in_the_items_order() -> None:
    def slow_first(n: int) -> int:
        time.sleep(0.05 if n == 0 else 0)
        return n * n

    assert list(blobs.ordered(slow_first, range(20), workers=4, ahead=6, deadline=5)) == [n * n for n in range(20)]


def test_items_are_taken_no_further_ahead_than_the_bound() -> None:
    taken: list[int] = []
    release = threading.Event()

    def source() -> Iterator[int]:
        for n in range(1000):
            taken.append(n)
            yield n

    def held(n: int) -> int:
        release.wait(5)
        return n

    results = blobs.ordered(held, source(), workers=2, ahead=5, deadline=10)
    first = threading.Thread(target=lambda: next(results), daemon=True)
    first.start()
    first.join(0.3)  # the first result waits: the source was read only `ahead` items in
    assert len(taken) == 5
    release.set()
    first.join(5)
    assert list(results) == list(range(1, 1000))


def test_a_block_not_done_by_its_deadline_ends_it() -> None:
    never = threading.Event()
    started = time.monotonic()
    try:
        with pytest.raises(blobs.SlowError, match=r"no whole answer within 0\.3 s"):
            list(blobs.ordered(lambda n: never.wait(30), range(3), workers=2, ahead=3, deadline=0.3))
        assert time.monotonic() - started < 2
    finally:
        never.set()  # the workers left behind end


def test_the_deadline_runs_from_when_a_worker_takes_the_item() -> None:
    # Eight items of 0.2 s each on one worker take 1.6 s, each within its own 0.5 s.
    assert list(blobs.ordered(lambda n: time.sleep(0.2) or n, range(8), workers=1, ahead=8, deadline=0.5)) == list(
        range(8)
    )


def test_the_first_failure_ends_it_and_nothing_more_starts() -> None:
    ran: list[int] = []

    def fail_at_three(n: int) -> int:
        ran.append(n)
        if n == 3:
            raise ValueError("three")
        return n

    with pytest.raises(ValueError, match="three"):
        list(blobs.ordered(fail_at_three, range(100), workers=1, ahead=4, deadline=5))
    time.sleep(0.1)
    assert max(ran) < 8
