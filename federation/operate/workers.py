"""Requests to Azure run side by side on daemon threads, and their results come back as
each ends. Ctrl-C reaches the caller at once and nothing new starts; a request already
under way is not waited for (concurrent.futures would join its threads at exit, for as
long as a read can take)."""

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Done(Generic[T, R]):
    """What running one item gave: its result, or the exception it raised."""

    item: T
    result: R | None = None
    error: BaseException | None = None


def each(function: Callable[[T], R], items: Iterable[T], workers: int) -> Generator[Done[T, R], None, None]:
    """`function` over `items` on up to `workers` threads, each outcome as it ends. Closing
    the iterator (the caller returned, raised, or was interrupted) starts nothing more."""
    todo: queue.SimpleQueue[T] = queue.SimpleQueue()
    count = 0
    for item in items:
        todo.put(item)
        count += 1
    done: queue.Queue[Done[T, R]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put(Done(item, result=function(item)))
            except BaseException as error:  # handed to the caller, who decides
                done.put(Done(item, error=error))

    for _ in range(min(workers, count)):
        threading.Thread(target=work, daemon=True).start()
    try:
        for _ in range(count):
            yield done.get()
    finally:
        stop.set()
